// The generated CRDs are structural, match what is committed in deploy/crds, and (checked with an
// independent validator, ajv) accept every valid fixture and reject the structurally invalid ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { generateCrds } from './crds.ts';
import { crdRules } from './crd-rules.ts';
import { parseGoDuration } from './duration.ts';
import { invalidCases } from '../../test/fixtures/api/invalid-cases.ts';

type Json = Record<string, unknown>;
const crds = generateCrds();

test('deploy/crds holds exactly the generated CRDs (run `ironlb crds` after changing a schema)', () => {
  const committed = readdirSync('deploy/crds').filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(committed, crds.map((c) => c.fileName).sort());
  for (const c of crds) assert.equal(readFileSync(join('deploy/crds', c.fileName), 'utf8'), c.yaml, c.fileName);
});

function walk(node: Json, at: string, visit: (n: Json, at: string) => void): void {
  visit(node, at);
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Json>)) walk(v, `${at}.${k}`, visit);
  if (node.items) walk(node.items as Json, `${at}[]`, visit);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties as Json, `${at}{}`, visit);
}

test('the schemas are structural: a type on every node, no anyOf/patternProperties, no additionalProperties beside properties', () => {
  for (const c of crds) {
    for (const v of (c.crd.spec as { versions: { schema: { openAPIV3Schema: Json } }[] }).versions) {
      walk(v.schema.openAPIV3Schema, c.fileName, (n, at) => {
        assert.equal(typeof n.type, 'string', `${at} has no type`);
        assert.ok(!('anyOf' in n) && !('patternProperties' in n) && !('const' in n), `${at} is not structural`);
        assert.ok(!(n.properties && n.additionalProperties !== undefined), `${at} has properties and additionalProperties`);
      });
    }
  }
});

test('BGPPeer is served as v1beta1 (deprecated) and v1beta2 (storage); defaults and limits are MetalLB\'s', () => {
  const peer = crds.find((c) => c.fileName === 'metallb.io_bgppeers.yaml')?.crd as Json;
  const versions = (peer.spec as { versions: Json[] }).versions;
  assert.deepEqual(versions.map((v) => [v.name, v.served, v.storage, v.deprecated ?? false]), [['v1beta1', true, false, true], ['v1beta2', true, true, false]]);
  const spec = (v: Json) => (((v.schema as Json).openAPIV3Schema as Json).properties as Record<string, Json>).spec as Json;
  const v2 = (spec(versions[1] as Json).properties) as Record<string, Json>;
  assert.deepEqual(v2.peerPort, { type: 'integer', minimum: 1, maximum: 16384, default: 179, description: 'Port to dial.' });
  assert.equal(((spec(versions[0] as Json).properties) as Record<string, Json>).peerPort?.minimum, 0);
  assert.deepEqual(spec(versions[1] as Json).required, ['myASN']);
  assert.equal(v2.holdTime?.format, 'duration');
  const pool = crds.find((c) => c.fileName === 'metallb.io_ipaddresspools.yaml')?.crd as Json;
  const poolSpec = spec((pool.spec as { versions: Json[] }).versions[0] as Json);
  assert.equal((poolSpec.properties as Record<string, Json>).autoAssign?.default, true);
  assert.deepEqual(poolSpec.required, ['addresses']);
});

test('every CEL rule of crd-rules.ts is in its CRD', () => {
  const all = crds.map((c) => c.yaml).join('\n');
  for (const r of crdRules) assert.ok(all.includes(r.message), r.message);
});

// ---- ajv ----

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('duration', (s: string) => parseGoDuration(s).error === undefined);

/** `kubectl apply --validate=strict`: pruned (unknown) fields are rejected. */
function strictCopy(node: Json): Json {
  const out: Json = { ...node };
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties as Record<string, Json>).map(([k, v]) => [k, strictCopy(v)]));
    if (!out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  }
  if (out.items) out.items = strictCopy(out.items as Json);
  if (out.additionalProperties && typeof out.additionalProperties === 'object') out.additionalProperties = strictCopy(out.additionalProperties as Json);
  return out;
}

const validators = new Map<string, ValidateFunction>();
for (const c of crds) {
  const spec = c.crd.spec as { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Json } }[] };
  for (const v of spec.versions) {
    validators.set(`${spec.group}/${v.name} ${spec.names.kind}`, ajv.compile(strictCopy(v.schema.openAPIV3Schema)));
  }
}

function metallbDocuments(text: string): Json[] {
  return parseAllDocuments(text).map((d) => d.toJS() as unknown)
    .filter((v): v is Json => v !== null && typeof v === 'object' && typeof (v as Json).apiVersion === 'string' && ((v as Json).apiVersion as string).startsWith('metallb.io/'));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
}

test('ajv: the generated CRDs accept every valid fixture, the examples and the converted legacy config', () => {
  const files = [...filesUnder('test/fixtures/api/valid'), ...filesUnder('examples'), 'test/fixtures/api/legacy/seed-002-filled.converted.yaml'];
  let checked = 0;
  for (const f of files) {
    for (const obj of metallbDocuments(readFileSync(f, 'utf8'))) {
      const v = validators.get(`${String(obj.apiVersion)} ${String(obj.kind)}`);
      if (!v) continue; // status kinds etc.
      assert.ok(v(obj), `${f}: ${String(obj.kind)}/${String((obj.metadata as Json).name)}: ${ajv.errorsText(v.errors)}`);
      checked++;
    }
  }
  assert.ok(checked >= 40, `only ${checked} objects checked`);
});

test('ajv: the generated CRDs reject every structurally invalid case a CRD can see', () => {
  const cases = invalidCases.filter((c) => c.crd);
  assert.ok(cases.length >= 30);
  for (const c of cases) {
    const [obj] = metallbDocuments(c.yaml);
    assert.ok(obj, c.name);
    const v = validators.get(`${String(obj.apiVersion)} ${String(obj.kind)}`);
    assert.ok(v, c.name);
    assert.equal(v(obj), false, `${c.name} was accepted`);
  }
});
