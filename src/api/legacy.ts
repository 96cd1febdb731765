// MetalLB's legacy configuration (<= v0.12): the ConfigMap `config` whose `data.config` holds
// `peers`, `address-pools`, `bgp-communities`, `bfd-profiles` (reference metallb.md §1.12). It is
// read directly: checked against its own schema (positions point into the embedded YAML), then
// converted into the CRs MetalLB's converter (configmaptocrs) writes, with the same names, and
// those go through the ordinary checks.
import { Type } from 'typebox';
import { Scalar, isScalar } from 'yaml';
import type { ObjectRef, SourcePosition } from './diagnostics.ts';
import type { FieldPath } from './loaded.ts';
import { formatFieldPath } from './loaded.ts';
import { Duration, Int, StringEnum, StringMap, uint32Max } from './schema-kit.ts';
import { checkStructure, describe, schemaAt } from './structural.ts';
import { formatGoDuration, parseGoDuration } from './duration.ts';
import { parseYaml } from './yaml-source.ts';
import { kindVersions } from './kinds.ts';
import type { DocumentContext, LoadResult } from './load.ts';
import { loadTyped, objectRefOf } from './load.ts';

type Json = Record<string, unknown>;

const LegacySelector = Type.Object(
  {
    'match-labels': Type.Optional(StringMap()),
    'match-expressions': Type.Optional(Type.Array(Type.Object(
      { key: Type.String(), operator: StringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: Type.Optional(Type.Array(Type.String())) },
      { additionalProperties: false },
    ))),
  },
  { additionalProperties: false },
);

export const LegacyConfigSchema = Type.Object(
  {
    peers: Type.Optional(Type.Array(Type.Object(
      {
        'my-asn': Int(1, uint32Max),
        'peer-asn': Int(1, uint32Max),
        'peer-address': Type.String(),
        'source-address': Type.Optional(Type.String()),
        'peer-port': Type.Optional(Int(0, 16384)),
        'hold-time': Type.Optional(Duration()),
        'keepalive-time': Type.Optional(Duration()),
        'router-id': Type.Optional(Type.String()),
        password: Type.Optional(Type.String()),
        'bfd-profile': Type.Optional(Type.String()),
        'ebgp-multihop': Type.Optional(Type.Boolean()),
        'node-selectors': Type.Optional(Type.Array(LegacySelector)),
      },
      { additionalProperties: false },
    ))),
    'bgp-communities': Type.Optional(StringMap()),
    'address-pools': Type.Optional(Type.Array(Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        protocol: StringEnum(['bgp', 'layer2']),
        addresses: Type.Array(Type.String(), { minItems: 1 }),
        'auto-assign': Type.Optional(Type.Boolean()),
        'avoid-buggy-ips': Type.Optional(Type.Boolean()),
        'bgp-advertisements': Type.Optional(Type.Array(Type.Object(
          {
            'aggregation-length': Type.Optional(Int(1, 32)),
            'aggregation-length-v6': Type.Optional(Int(1, 128)),
            localpref: Type.Optional(Int(0, uint32Max)),
            communities: Type.Optional(Type.Array(Type.String())),
          },
          { additionalProperties: false },
        ))),
      },
      { additionalProperties: false },
    ))),
    'bfd-profiles': Type.Optional(Type.Array(Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        'receive-interval': Type.Optional(Int(10, 60000)),
        'transmit-interval': Type.Optional(Int(10, 60000)),
        'detect-multiplier': Type.Optional(Int(2, 255)),
        'echo-interval': Type.Optional(Int(10, 60000)),
        'echo-mode': Type.Optional(Type.Boolean()),
        'passive-mode': Type.Optional(Type.Boolean()),
        'minimum-ttl': Type.Optional(Int(1, 254)),
      },
      { additionalProperties: false },
    ))),
  },
  { additionalProperties: false },
);

const legacyKeys = ['peers', 'address-pools', 'bgp-communities', 'bfd-profiles'];

/** A bare legacy document: no apiVersion/kind, only the legacy top-level keys. */
export function isLegacyDocument(v: Json): boolean {
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => legacyKeys.includes(k));
}

/** A ConfigMap whose data.config holds the legacy YAML. */
export function loadLegacyConfigMap(cm: Json, ctx: DocumentContext, out: LoadResult): void {
  const ref = objectRefOf(cm);
  const meta = (cm.metadata ?? {}) as Json;
  const text = (cm.data as Json).config;
  const at = ctx.positionOf(['data', 'config']);
  if (typeof text !== 'string' || text.trim() === '') {
    out.diagnostics.push({ severity: 'error', path: 'data.config', message: 'is empty: must hold the legacy configuration (peers, address-pools, …)', ...(at ? { position: at } : {}), ...(ref ? { object: ref } : {}) });
    return;
  }
  const mapPosition = embeddedPositionMap(ctx, at);
  const parsed = parseYaml(text, ctx.file, mapPosition);
  out.diagnostics.push(...parsed.diagnostics.map((d) => ({ ...d, ...(ref ? { object: ref } : {}), path: d.path || 'data.config' })));
  const doc = parsed.documents[0];
  if (!doc) return;
  if (doc.value === null || typeof doc.value !== 'object' || Array.isArray(doc.value)) {
    out.diagnostics.push({ severity: 'error', path: 'data.config', message: 'must be a mapping with peers, address-pools, bgp-communities or bfd-profiles', ...(at ? { position: at } : {}), ...(ref ? { object: ref } : {}) });
    return;
  }
  loadLegacyConfig(doc.value as Json, { ...ctx, positionOf: doc.positionOf }, out, {
    namespace: typeof meta.namespace === 'string' ? meta.namespace : 'metallb-system',
    ...(ref ? { ref } : {}),
  });
}

/**
 * Where embedded text lands in the file: a literal block scalar (`config: |`) keeps its lines, so
 * line l, column c of the embedded text is line header+l, column c+indent of the file. Any other
 * form (quoted, folded) points at the `config` key.
 */
function embeddedPositionMap(ctx: DocumentContext, keyPos: SourcePosition | undefined) {
  const fallback = (): SourcePosition => keyPos ?? { file: ctx.file, line: 1, column: 1 };
  const node = ctx.nodeAt?.(['data', 'config']);
  const text = ctx.text;
  if (!node || !isScalar(node) || node.type !== Scalar.BLOCK_LITERAL || !node.range || text === undefined) return () => fallback();
  const headerOffset = node.range[0];
  const headerLine = text.slice(0, headerOffset).split('\n').length;
  const lines = text.split('\n');
  let indent = 0;
  for (let i = headerLine; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (l.trim() === '') continue;
    indent = l.length - l.trimStart().length;
    break;
  }
  return (line: number, column: number): SourcePosition => ({ file: ctx.file, line: headerLine + line, column: column + indent });
}

export interface LegacyOwner {
  readonly namespace: string;
  readonly ref?: ObjectRef;
}

/** Checks and converts one legacy configuration document. */
export function loadLegacyConfig(value: Json, ctx: DocumentContext, out: LoadResult, owner: LegacyOwner | undefined): void {
  const ns = owner?.namespace ?? 'metallb-system';
  const diag = (path: FieldPath, message: string) => {
    const position = ctx.positionOf(path);
    out.diagnostics.push({ severity: 'error', path: formatFieldPath(path), message, ...(position ? { position } : {}), ...(owner?.ref ? { object: owner.ref } : {}) });
  };
  // Empty fields first: `addresses:` with nothing after it is a value that was lost, and says so.
  const empties: FieldPath[] = [];
  const cleaned = dropNulls(value, [], empties) as Json;
  for (const p of empties) {
    const sub = schemaAt(LegacyConfigSchema, p);
    diag(p, `is empty${sub ? `: ${describe(sub)}` : ''}`);
  }
  const emptyKeys = new Set(empties.map((p) => JSON.stringify(p)));
  const issues = checkStructure(LegacyConfigSchema, cleaned).filter((i) => !emptyKeys.has(JSON.stringify(i.path)));
  for (const i of issues) diag(i.path, i.message);
  if (issues.length > 0 || empties.length > 0) return;

  const converted = convertLegacy(cleaned, ns);
  for (const e of converted.errors) diag(e.path, e.message);
  if (converted.errors.length > 0) return;
  for (const c of converted.objects) {
    const entry = kindVersions.find((k) => k.kind === c.object.kind && k.apiVersion === c.object.apiVersion);
    if (!entry) continue;
    const loaded = loadTyped(c.object, entry, { ...ctx, positionOf: (p) => ctx.positionOf(c.legacyPath(p)) }, out);
    if (loaded) out.resources?.push(c.object);
  }
}

function dropNulls(v: unknown, path: (string | number)[], empties: FieldPath[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => dropNulls(x, [...path, i], empties));
  if (v === null || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json)) {
    if (x === null) empties.push([...path, k]);
    else out[k] = dropNulls(x, [...path, k], empties);
  }
  return out;
}

// ---- conversion (configmaptocrs' rules) ----

interface LegacyValue {
  peers?: Json[];
  'bgp-communities'?: Record<string, string>;
  'address-pools'?: Json[];
  'bfd-profiles'?: Json[];
}

interface Converted {
  readonly object: Json;
  /** The legacy field a path of the converted object came from. */
  readonly legacyPath: (path: FieldPath) => FieldPath;
}

const peerFields: Record<string, string> = {
  myASN: 'my-asn', peerASN: 'peer-asn', peerAddress: 'peer-address', sourceAddress: 'source-address', peerPort: 'peer-port',
  holdTime: 'hold-time', keepaliveTime: 'keepalive-time', routerID: 'router-id', password: 'password', bfdProfile: 'bfd-profile',
  ebgpMultiHop: 'ebgp-multihop', nodeSelectors: 'node-selectors', matchLabels: 'match-labels', matchExpressions: 'match-expressions',
};
const poolFields: Record<string, string> = { addresses: 'addresses', autoAssign: 'auto-assign', avoidBuggyIPs: 'avoid-buggy-ips' };
const adFields: Record<string, string> = {
  aggregationLength: 'aggregation-length', aggregationLengthV6: 'aggregation-length-v6', localPref: 'localpref', communities: 'communities',
};
const bfdFields: Record<string, string> = {
  receiveInterval: 'receive-interval', transmitInterval: 'transmit-interval', detectMultiplier: 'detect-multiplier',
  echoInterval: 'echo-interval', echoMode: 'echo-mode', passiveMode: 'passive-mode', minimumTtl: 'minimum-ttl',
};

function mapper(base: FieldPath, fields: Record<string, string>): (path: FieldPath) => FieldPath {
  return (path) => (path[0] === 'spec' ? [...base, ...path.slice(1).map((p) => (typeof p === 'string' ? (fields[p] ?? p) : p))] : base);
}

const validObjectName = /^[a-z][-a-z0-9]{0,61}[a-z0-9]$/;

/**
 * MetalLB's converter (configmaptocrs convertNamesToK8S) turns pool and BFD profile names, and a
 * peer's bfd-profile reference, into object names: a valid name stays; otherwise the first 63
 * characters, lower-cased, `_` as `-`, from the first letter on. "" when there is no letter.
 */
export function sanitizePoolName(name: string): string {
  if (validObjectName.test(name)) return name;
  return name.slice(0, 63).toLowerCase().replace(/_/g, '-').replace(/^[^a-z]+/, '');
}
export const sanitizeBfdProfileName = sanitizePoolName;

const meta = (name: string, namespace: string) => ({ name, namespace });

export function convertLegacy(c: LegacyValue, namespace: string): { objects: Converted[]; errors: { path: FieldPath; message: string }[] } {
  const objects: Converted[] = [];
  const errors: { path: FieldPath; message: string }[] = [];

  (c.peers ?? []).forEach((p, i) => {
    const base: FieldPath = ['peers', i];
    const holdText = p['hold-time'] as string | undefined;
    const keepaliveText = p['keepalive-time'] as string | undefined;
    const hold = holdText === undefined ? 90_000 : Math.trunc((parseGoDuration(holdText).ms ?? 0) / 1000) * 1000;
    if (hold !== 0 && hold < 3000) {
      errors.push({ path: [...base, 'hold-time'], message: `must be 0 or at least 3s, got "${holdText ?? ''}"` });
      return;
    }
    const keepalive = keepaliveText === undefined
      ? Math.trunc(hold / 3 / 1000) * 1000
      : Math.trunc((parseGoDuration(keepaliveText).ms ?? 0) / 1000) * 1000;
    const spec: Json = { myASN: p['my-asn'], peerASN: p['peer-asn'], peerAddress: p['peer-address'] };
    if (p['source-address'] !== undefined) spec.sourceAddress = p['source-address'];
    if (p['peer-port'] !== undefined && p['peer-port'] !== 0) spec.peerPort = p['peer-port'];
    spec.holdTime = formatGoDuration(hold);
    spec.keepaliveTime = formatGoDuration(keepalive);
    if (p['router-id'] !== undefined) spec.routerID = p['router-id'];
    const sels = p['node-selectors'] as Json[] | undefined;
    if (sels !== undefined) {
      spec.nodeSelectors = sels.map((s) => ({
        ...(s['match-labels'] !== undefined ? { matchLabels: s['match-labels'] } : {}),
        ...(s['match-expressions'] !== undefined ? { matchExpressions: s['match-expressions'] } : {}),
      }));
    }
    if (p.password !== undefined) spec.password = p.password;
    if (p['bfd-profile'] !== undefined) spec.bfdProfile = p['bfd-profile'] === '' ? '' : sanitizeBfdProfileName(p['bfd-profile'] as string);
    if (p['ebgp-multihop'] !== undefined) spec.ebgpMultiHop = p['ebgp-multihop'];
    objects.push({ object: { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: meta(`peer${i + 1}`, namespace), spec }, legacyPath: mapper(base, peerFields) });
  });

  const pools = c['address-pools'] ?? [];
  const noLetter = (path: FieldPath, what: string, name: string) =>
    errors.push({ path, message: `${what} name "${name}" cannot become an object name: it has no letter a-z (MetalLB's converter refuses it too)` });
  pools.forEach((p, i) => { if (sanitizePoolName(String(p.name)) === '') noLetter(['address-pools', i, 'name'], 'address pool', String(p.name)); });
  (c['bfd-profiles'] ?? []).forEach((b, i) => { if (sanitizeBfdProfileName(String(b.name)) === '') noLetter(['bfd-profiles', i, 'name'], 'BFD profile', String(b.name)); });
  pools.forEach((p, i) => {
    const spec: Json = { addresses: [...(p.addresses as string[])] };
    if (p['auto-assign'] !== undefined) spec.autoAssign = p['auto-assign'];
    if (p['avoid-buggy-ips'] !== undefined) spec.avoidBuggyIPs = p['avoid-buggy-ips'];
    objects.push({
      object: { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: meta(sanitizePoolName(String(p.name)), namespace), spec },
      legacyPath: (path) => (path[0] === 'metadata' ? ['address-pools', i, 'name'] : mapper(['address-pools', i], poolFields)(path)),
    });
  });

  let adIndex = 1;
  pools.forEach((p, i) => {
    const poolName = sanitizePoolName(String(p.name));
    const ads = (p['bgp-advertisements'] as Json[] | undefined) ?? [];
    if (p.protocol === 'layer2' && ads.length > 0) {
      // MetalLB's legacy parser refuses it; converting would announce a layer2 pool over BGP.
      errors.push({ path: ['address-pools', i, 'bgp-advertisements'], message: 'bgp-advertisements in a layer2 address pool: only protocol bgp pools are announced over BGP; remove them or set protocol: bgp' });
      return;
    }
    ads.forEach((a, j) => {
      const spec: Json = {};
      if (a['aggregation-length'] !== undefined) spec.aggregationLength = a['aggregation-length'];
      if (a['aggregation-length-v6'] !== undefined) spec.aggregationLengthV6 = a['aggregation-length-v6'];
      if (a.localpref !== undefined) spec.localPref = a.localpref;
      if (a.communities !== undefined) spec.communities = [...(a.communities as string[])];
      spec.ipAddressPools = [poolName];
      objects.push({
        object: { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: meta(`bgpadvertisement${adIndex++}`, namespace), spec },
        legacyPath: mapper(['address-pools', i, 'bgp-advertisements', j], adFields),
      });
    });
    if (ads.length === 0 && p.protocol === 'bgp') {
      objects.push({
        object: { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: meta(`bgpadvertisement${adIndex++}`, namespace), spec: { ipAddressPools: [poolName] } },
        legacyPath: () => ['address-pools', i, 'protocol'],
      });
    }
  });

  let l2Index = 1;
  pools.forEach((p, i) => {
    if (p.protocol !== 'layer2') return;
    objects.push({
      object: { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: meta(`l2advertisement${l2Index++}`, namespace), spec: { ipAddressPools: [sanitizePoolName(String(p.name))] } },
      legacyPath: () => ['address-pools', i, 'protocol'],
    });
  });

  (c['bfd-profiles'] ?? []).forEach((b, i) => {
    const spec: Json = {};
    for (const [crField, legacyField] of Object.entries(bfdFields)) {
      if (b[legacyField] !== undefined) spec[crField] = b[legacyField];
    }
    // The converter always writes both flags.
    spec.echoMode = b['echo-mode'] ?? false;
    spec.passiveMode = b['passive-mode'] ?? false;
    objects.push({
      object: { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: meta(sanitizeBfdProfileName(String(b.name)), namespace), spec },
      legacyPath: mapper(['bfd-profiles', i], bfdFields),
    });
  });

  const aliases = Object.entries(c['bgp-communities'] ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (aliases.length > 0) {
    objects.push({
      object: { apiVersion: 'metallb.io/v1beta1', kind: 'Community', metadata: meta('communities', namespace), spec: { communities: aliases.map(([name, value]) => ({ name, value })) } },
      legacyPath: (path) => {
        const i = path[2];
        const name = typeof i === 'number' ? aliases[i]?.[0] : undefined;
        return name === undefined ? ['bgp-communities'] : ['bgp-communities', name];
      },
    });
  }
  return { objects, errors };
}

