// The plain-YAML fast path against the `yaml` library, the reference: on generated texts (Kubernetes
// objects written in block and flow style, with comments, quotes, tricky scalars and several
// documents) and on those texts mangled at random, whenever the fast reader answers, the full
// parser reads the same values without an error; and loadText gives exactly what the full loader
// gives: objects, sources, diagnostics (messages and positions) and positions asked afterwards.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { loadText, loadTextFully } from './load.ts';
import { parsePlainYaml } from './yaml-plain.ts';

const reference = (text: string): { values: unknown[]; errors: number } => {
  const docs = parseAllDocuments(text, { uniqueKeys: true, merge: true });
  const list = Array.isArray(docs) ? docs : [];
  let errors = 0;
  const values = list.map((d) => {
    errors += d.errors.length;
    try { return d.toJS({ maxAliasCount: 100 }); } catch { errors++; return undefined; }
  });
  return { values, errors };
};

/** Fast answers must be the reference's values, from a text the reference reads without error. */
function agrees(text: string): boolean {
  const fast = parsePlainYaml(text);
  if (fast === undefined) return false;
  const ref = reference(text);
  assert.equal(ref.errors, 0, `fast path read a text the full parser refuses: ${JSON.stringify(text)}`);
  assert.deepStrictEqual(fast, ref.values, JSON.stringify(text));
  return true;
}

/** loadText (fast path when it can) and loadTextFully give the same result, positions included. */
function sameLoad(text: string): void {
  const a = loadText(text, 'f.yaml');
  const b = loadTextFully(text, 'f.yaml');
  assert.deepStrictEqual(a.diagnostics, b.diagnostics, JSON.stringify(text));
  assert.deepStrictEqual(a.resources, b.resources);
  assert.equal(a.objects.length, b.objects.length);
  a.objects.forEach((o, i) => {
    const f = b.objects[i]!;
    assert.deepStrictEqual(o.object, f.object);
    assert.deepStrictEqual(o.source, f.source);
    for (const path of [['metadata', 'name'], ['spec'], ['spec', 'ports', 0, 'port'], []] as const) assert.deepStrictEqual(o.positionOf([...path]), f.positionOf([...path]));
  });
}

const scalarTexts = ['svc-1', 'bench', 'LoadBalancer', '10.0.0.1', '10.0.0.0/9', 'true', 'True', 'FALSE', 'null', 'Null', '~', '80', '0', '-0', '-7', '007', '+1', '0o17', '0x1F',
  '1e3', '1.5', '.5', '.inf', '-.Inf', '.nan', '1_000', '', ' ', 'a b', 'a  b', "it's", 'a:b', 'a: b', 'a:', '#x', 'x #y', 'x#y', '- x', '-x', '-', '?', '? x', ':x', '[a]', '{a}', 'a,b', 'a]b',
  '"q"', "'q'", '*a', '&a', '!t', '|', '>', '%x', '@x', '`x', 'é', 'http://x', 'a\\b', 'yes', 'on', '__proto__', '<<', '123456789012345678', 'a"b', "a'b", 'a\nb', '---', '...'];
const keyTexts = ['name', 'namespace', 'metallb.io/address-pool', 'a', 'b', 'spec', 'type', 'ports', 'port', '80', 'true', 'null', 'a b', 'x:y', '-k', '_k', 'k.1', '__proto__', '<<', '"q"', 'é'];

type Tree = { s: string } | { m: [string, Tree][] } | { l: Tree[] };
const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.record({ s: fc.constantFrom(...scalarTexts) }),
    fc.record({ m: fc.array(fc.tuple(fc.constantFrom(...keyTexts), tie('t')), { maxLength: 4 }) }),
    fc.record({ l: fc.array(tie('t'), { maxLength: 3 }) })),
})).t;

interface Style { quote: number; flow: boolean; comment: boolean; indent: number; compact: boolean }
const style = fc.record({ quote: fc.nat(3), flow: fc.boolean(), comment: fc.boolean(), indent: fc.integer({ min: 1, max: 3 }), compact: fc.boolean() });

function scalar(s: string, quote: number): string {
  if (quote === 1) return `'${s.replace(/'/g, "''")}'`;
  if (quote === 2) return JSON.stringify(s);
  return s;
}

function flowText(t: Tree, st: Style): string {
  if ('s' in t) return scalar(t.s, st.quote);
  if ('m' in t) return t.m.length === 0 ? '{}' : `{ ${t.m.map(([k, v]) => `${k}: ${flowText(v, st)}`).join(', ')} }`;
  return `[${t.l.map((v) => flowText(v, st)).join(', ')}]`;
}

/** Lines of `t` as the value of a key (or list item) at `indent`. */
function block(t: Tree, indent: number, st: Style, styles: Style[]): { inline?: string; lines: string[] } {
  const next = styles.shift() ?? st;
  const c = next.comment ? ' # note' : '';
  if ('s' in t || next.flow || ('m' in t && t.m.length === 0) || ('l' in t && t.l.length === 0)) return { inline: flowText(t, next) + c, lines: [] };
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  if ('m' in t) {
    for (const [k, v] of t.m) {
      const b = block(v, indent + next.indent, st, styles);
      if (b.inline !== undefined) lines.push(`${pad}${k}: ${b.inline}`);
      else {
        lines.push(`${pad}${k}:${c}`);
        lines.push(...b.lines);
      }
    }
  } else {
    for (const v of t.l) {
      const b = block(v, indent + 2, st, styles);
      if (b.inline !== undefined) lines.push(`${pad}- ${b.inline}`);
      else if (next.compact && b.lines.length > 0) lines.push(`${pad}- ${b.lines[0]!.trimStart()}`, ...b.lines.slice(1));
      else lines.push(`${pad}-`, ...b.lines);
    }
  }
  return { lines };
}

const service = (i: number, body: Tree, styles: Style[]): string => {
  const b = block({ m: [['apiVersion', { s: 'v1' }], ['kind', { s: 'Service' }], ['metadata', { m: [['name', { s: `svc-${i}` }], ['namespace', { s: 'bench' }]] }], ['spec', body]] }, 0, styles[0] ?? { quote: 0, flow: false, comment: false, indent: 2, compact: false }, styles);
  return b.lines.join('\n');
};

const serviceSpec: fc.Arbitrary<Tree> = fc.record({
  type: fc.constantFrom('LoadBalancer', 'ClusterIP', 'true', '80'),
  ip: fc.option(fc.constantFrom('10.0.0.1', '10.127.0.5', 'x')),
  ports: fc.array(fc.integer({ min: 0, max: 70000 }), { maxLength: 2 }),
  extra: fc.option(tree),
}).map(({ type, ip, ports, extra }): Tree => ({
  m: [['type', { s: type }], ...(ip !== null ? [['loadBalancerIP', { s: ip }] as [string, Tree]] : []), ['ports', { l: ports.map((p): Tree => ({ m: [['port', { s: String(p) }]] })) }], ...(extra !== null ? [['x', extra] as [string, Tree]] : [])],
}));

const texts = fc.record({
  docs: fc.array(fc.tuple(serviceSpec, fc.array(style, { maxLength: 12 })), { minLength: 1, maxLength: 3 }),
  lead: fc.boolean(), trail: fc.boolean(), commentLine: fc.boolean(),
}).map(({ docs, lead, trail, commentLine }) =>
  `${commentLine ? '# written by hand\n' : ''}${lead ? '---\n' : ''}${docs.map(([spec, styles], i) => service(i, spec, styles)).join('\n---\n')}\n${trail ? '---\n' : ''}`);

const mangle = fc.tuple(texts, fc.array(fc.tuple(fc.nat(), fc.constantFrom(' ', '  ', '-', ':', '#', "'", '"', '[', ']', '{', '}', ',', '\n', '\n  ', '\t', '*', '&', '!', '|', '>', '?', '---\n', '\\', 'x'), fc.boolean()), { minLength: 1, maxLength: 4 }))
  .map(([text, edits]) => {
    let t = text;
    for (const [at, s, del] of edits) {
      const i = at % (t.length + 1);
      t = del ? t.slice(0, i) + t.slice(i + 1) : t.slice(0, i) + s + t.slice(i);
    }
    return t;
  });

describe('plain YAML fast path', () => {
  it('reads the Service files of a folder (block and flow style) as the full parser does', () => {
    const bench = 'apiVersion: v1\nkind: Service\nmetadata: { name: svc-1, namespace: bench }\nspec:\n  type: LoadBalancer\n  loadBalancerIP: 10.127.0.5\n  ports: [{ port: 80 }]\n';
    const kubectl = 'apiVersion: v1\nkind: Service\nmetadata:\n  annotations:\n    metallb.io/address-pool: "blue"   # the pool\n  name: web\n  namespace: default\nspec:\n  type: LoadBalancer\n  ports:\n  - name: http\n    port: 80\n    protocol: TCP\n  selector:\n    app: web\n';
    for (const t of [bench, kubectl, `---\n${bench}---\n${kubectl}`]) {
      assert.ok(agrees(t), `fast path taken: ${t}`);
      sameLoad(t);
    }
  });

  it('generated texts: whenever the fast reader answers, the values are the full parser\'s', () => {
    let fast = 0;
    fc.assert(fc.property(texts, (t) => { if (agrees(t)) fast++; }), { numRuns: 3000, seed: 15 });
    assert.ok(fast > 300, `fast path taken on ${fast} of 3000 generated texts`);
  });

  it('mangled texts: never a different value, never a text the full parser refuses', () => {
    fc.assert(fc.property(mangle, (t) => { agrees(t); }), { numRuns: 5000, seed: 16 });
  });

  it('loadText gives the full loader\'s objects, diagnostics and positions', () => {
    fc.assert(fc.property(fc.oneof(texts, mangle), (t) => sameLoad(t)), { numRuns: 1500, seed: 17 });
  });
});
