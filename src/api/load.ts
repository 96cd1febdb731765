// The loader: YAML/JSON text → checked, defaulted, converted objects that remember where each of
// their fields was written. Every problem becomes a Diagnostic; all of them are reported in one
// pass. Pure: text comes in, the file walking lives at the edge (src/cli/load-paths.ts).
import type { Diagnostic, ObjectRef, SourcePosition } from './diagnostics.ts';
import type { FieldPath, LoadedObject } from './loaded.ts';
import { formatFieldPath } from './loaded.ts';
import type { CoreResource, MetalLBResource } from './resources.ts';
import { annotationPrefixes } from './resources.ts';
import { parseYaml } from './yaml-source.ts';
import { parsePlainYaml } from './yaml-plain.ts';
import type { Node as YamlNode } from 'yaml';
import { checkStructure } from './structural.ts';
import { checkCrdRules } from './crd-rules.ts';
import { applyDefaults } from './defaults.ts';
import { convertBGPPeerV1beta1 } from './bgppeer-conversion.ts';
import { BGPPeerV1beta2Schema } from './schemas.ts';
import type { BGPPeerV1beta1Value } from './schemas.ts';
import { ignoredKinds, kindVersions, supportedKindsText } from './kinds.ts';
import type { KindVersion } from './kinds.ts';
import { isLegacyDocument, loadLegacyConfig, loadLegacyConfigMap } from './legacy.ts';

export interface LoadResult {
  objects: LoadedObject[];
  diagnostics: Diagnostic[];
  /**
   * The metallb.io objects in document order as they would be applied to a cluster: legacy
   * ConfigMaps as MetalLB's converter writes them, BGPPeer v1beta1 as v1beta2. For `ironlb convert`.
   */
  resources?: Record<string, unknown>[];
}

type Json = Record<string, unknown>;
type PositionOf = (path: FieldPath) => SourcePosition | undefined;

/** Everything a document needs to be turned into objects. */
export interface DocumentContext {
  readonly file: string;
  readonly document: number;
  readonly positionOf: PositionOf;
  /** The syntax node at a path and the whole file text: to find where embedded YAML starts. */
  readonly nodeAt?: (path: FieldPath) => YamlNode | undefined;
  readonly text?: string;
}

/**
 * Loads every document of one YAML/JSON text. Text in the plain subset of YAML (yaml-plain.ts) that
 * loads without a single diagnostic takes a fast path: the same objects, their positions derived
 * from a full parse only if one is asked for. Anything else (and any problem) takes the full parser.
 */
export function loadText(text: string, fileName: string): LoadResult {
  return loadPlain(text, fileName) ?? loadTextFully(text, fileName);
}

/** The fast path of loadText, or undefined when it cannot give exactly what the full parser gives. */
function loadPlain(text: string, fileName: string): LoadResult | undefined {
  const values = parsePlainYaml(text);
  if (values === undefined) return undefined;
  const out: LoadResult = { objects: [], diagnostics: [], resources: [] };
  let positioned = false;
  const positionOf = (): SourcePosition => {
    positioned = true;
    return { file: fileName, line: 1, column: 1 };
  };
  for (let index = 0; index < values.length; index++) {
    const v = values[index];
    if (v === null || v === undefined) continue;
    // The legacy ConfigMap reads YAML embedded in a string, with positions: the full parser's.
    if (typeof v !== 'object' || (v as Json).kind === 'ConfigMap' || typeof (v as Json).kind !== 'string') return undefined;
    loadValue(v, { file: fileName, document: index, positionOf }, out);
    if (positioned || out.diagnostics.length > 0) return undefined;
  }
  let full: LoadResult | undefined;
  out.objects = out.objects.map((o, i) => ({ ...o, positionOf: (path: FieldPath) => (full ??= loadTextFully(text, fileName)).objects[i]?.positionOf(path) }));
  return out;
}

/** loadText with the `yaml` library's parser (positions, and every syntax problem reported). */
export function loadTextFully(text: string, fileName: string): LoadResult {
  const out: LoadResult = { objects: [], diagnostics: [], resources: [] };
  const parsed = parseYaml(text, fileName);
  out.diagnostics.push(...parsed.diagnostics);
  for (const doc of parsed.documents) {
    loadValue(doc.value, { file: fileName, document: doc.index, positionOf: doc.positionOf, nodeAt: doc.nodeAt, text }, out);
  }
  out.diagnostics.sort(byPosition);
  return out;
}

/** Loads several texts (already read by the caller), in the order given. */
export function loadSources(sources: readonly { file: string; text: string }[]): LoadResult {
  const out: LoadResult = { objects: [], diagnostics: [], resources: [] };
  for (const s of sources) {
    const r = loadText(s.text, s.file);
    out.objects.push(...r.objects);
    out.diagnostics.push(...r.diagnostics);
    out.resources?.push(...(r.resources ?? []));
  }
  return out;
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  if (!a.position || !b.position) return 0;
  if (a.position.file !== b.position.file) return 0;
  return a.position.line - b.position.line || a.position.column - b.position.column;
}

export function objectRefOf(value: unknown): ObjectRef | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as Json;
  const meta = (v.metadata !== null && typeof v.metadata === 'object' ? v.metadata : {}) as Json;
  if (typeof v.kind !== 'string') return undefined;
  return {
    kind: v.kind,
    ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
    ...(typeof meta.name === 'string' ? { name: meta.name } : {}),
  };
}

/** Loads one document (or one List item), pushing objects and diagnostics into `out`. */
export function loadValue(value: unknown, ctx: DocumentContext, out: LoadResult): void {
  const diag = (severity: Diagnostic['severity'], path: FieldPath, message: string, object?: ObjectRef) => {
    const position = ctx.positionOf(path);
    out.diagnostics.push({ severity, path: formatFieldPath(path), message, ...(position ? { position } : {}), ...(object ? { object } : {}) });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    diag('error', [], `a document must be a mapping with apiVersion and kind, got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
    return;
  }
  const v = value as Json;
  if (v.apiVersion === undefined && v.kind === undefined && isLegacyDocument(v)) {
    loadLegacyConfig(v, ctx, out, undefined);
    return;
  }
  if (typeof v.apiVersion !== 'string' || typeof v.kind !== 'string') {
    const missing = ['apiVersion', 'kind'].filter((k) => typeof v[k] !== 'string');
    diag('error', [], `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing or not a string (every document needs apiVersion and kind)`);
    return;
  }
  const { apiVersion, kind } = v;
  const ref = objectRefOf(v);

  // A List (`kubectl get -o yaml`), or a typed list such as IPAddressPoolList: load each item.
  if ((kind === 'List' || kind.endsWith('List')) && Array.isArray(v.items)) {
    v.items.forEach((item, i) => {
      const nodeAt = ctx.nodeAt;
      loadValue(item, {
        ...ctx,
        positionOf: (p) => ctx.positionOf(['items', i, ...p]),
        ...(nodeAt ? { nodeAt: (p: FieldPath) => nodeAt(['items', i, ...p]) } : {}),
      }, out);
    });
    return;
  }

  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
  const ignored = ignoredKinds.find((g) => g.group === group && (!g.kinds || g.kinds.includes(kind)));
  if (ignored) {
    diag('warning', [], `ignored: ${kind} (${apiVersion}) ${ignored.why}`, ref);
    return;
  }

  const entry = kindVersions.find((k) => k.kind === kind && k.apiVersion === apiVersion);
  if (!entry) {
    const served = kindVersions.filter((k) => k.kind === kind).map((k) => k.apiVersion);
    if (served.length > 0) diag('error', ['apiVersion'], `apiVersion "${apiVersion}" is not served for ${kind} (use ${served.join(' or ')})`, ref);
    // A misspelt MetalLB kind is a mistake; a Deployment or a Role next to the CRs (MetalLB's own
    // samples have them) is simply not configuration: skipped with a note.
    else if (group === 'metallb.io') diag('error', ['kind'], `unsupported kind "${kind}" (${apiVersion}); supported: ${supportedKindsText()}`, ref);
    else diag('warning', ['kind'], `ignored: ${kind} (${apiVersion}) is not configuration ironlb reads (it reads ${supportedKindsText()})`, ref);
    return;
  }

  if (kind === 'ConfigMap') {
    const data = v.data as Json | undefined;
    if (data && typeof data === 'object' && 'config' in data) {
      const issues = checkStructure(entry.schema, normalize(v, false));
      for (const i of issues) diag('error', i.path, i.message, ref);
      if (issues.length > 0) return;
      loadLegacyConfigMap(v, ctx, out);
    } else {
      diag('warning', [], 'ignored: only MetalLB\'s legacy ConfigMap (with data.config) is read', ref);
    }
    return;
  }

  const loaded = loadTyped(v, entry, ctx, out);
  if (loaded && entry.metallb) out.resources?.push(loaded.resource);
}

/**
 * Checks, defaults and converts an object of a known kind; pushes it when it is valid. Returns the
 * loaded object and the resource as it would be written (converted, not defaulted).
 */
export function loadTyped(v: Json, entry: KindVersion, ctx: DocumentContext, out: LoadResult): { loaded: Json; resource: Json } | undefined {
  const diag = (severity: Diagnostic['severity'], path: FieldPath, message: string, object?: ObjectRef) => {
    const position = ctx.positionOf(path);
    out.diagnostics.push({ severity, path: formatFieldPath(path), message, ...(position ? { position } : {}), ...(object ? { object } : {}) });
  };
  const kind = entry.kind;
  const apiVersion = entry.apiVersion;
  const ref = objectRefOf(v);
  let obj = normalize(v, entry.metallb);
  const issues = checkStructure(entry.schema, obj);
  for (const i of issues) diag('error', i.path, i.message, ref);
  if (issues.length > 0) {
    // Unknown fields only (a typo, a field of another version): without them the object is well
    // formed, so its meaning is still checked and every error comes out in one run. The errors
    // above already reject the configuration.
    if (!issues.every((i) => i.unknownField)) return undefined;
    obj = withoutPaths(obj, issues.map((i) => i.path));
    if (checkStructure(entry.schema, obj).length > 0) return undefined;
  }

  const version = apiVersion.slice(apiVersion.lastIndexOf('/') + 1);
  const ruleIssues = checkCrdRules(kind, version, obj);
  for (const i of ruleIssues) diag('error', i.path, i.message, ref);
  if (ruleIssues.length > 0) return undefined;

  let result: Json;
  let resource: Json = obj;
  if (kind === 'BGPPeer' && version === 'v1beta1') {
    const { peer, notes } = convertBGPPeerV1beta1(obj as unknown as BGPPeerV1beta1Value);
    diag('warning', ['apiVersion'], `BGPPeer metallb.io/v1beta1 is deprecated; read as metallb.io/v1beta2${notes.length ? ` (${notes.join('; ')})` : ''}: write apiVersion metallb.io/v1beta2`, ref);
    resource = peer;
    result = applyDefaults(BGPPeerV1beta2Schema, peer);
  } else {
    result = applyDefaults(entry.schema, obj);
  }
  if (kind === 'BGPPeer' && (result.spec as Json).disableMP === true) {
    diag('warning', ['spec', 'disableMP'], 'has no effect (deprecated since MetalLB 0.15: each session carries its own address family unless dualStackAddressFamily is set)', ref);
  }
  if (kind === 'Service') warnDeprecatedAnnotations(result, (path, message) => diag('warning', path, message, ref));
  out.objects.push({
    object: result as unknown as MetalLBResource | CoreResource,
    source: { file: ctx.file, document: ctx.document },
    positionOf: ctx.positionOf,
  });
  return { loaded: result, resource };
}

/** A deep copy of `obj` without the fields at `paths`. */
function withoutPaths(obj: Json, paths: readonly FieldPath[]): Json {
  const copy = structuredClone(obj);
  for (const path of paths) {
    let at: unknown = copy;
    for (const step of path.slice(0, -1)) at = (at as Record<string | number, unknown> | undefined)?.[step];
    if (at !== null && typeof at === 'object') delete (at as Record<string | number, unknown>)[path[path.length - 1]!];
  }
  return copy;
}

/** MetalLB still reads the old annotation prefix but flags it (event `deprecatedAnnotation`). */
function warnDeprecatedAnnotations(service: Json, warn: (path: FieldPath, message: string) => void): void {
  const annotations = ((service.metadata as Json).annotations ?? {}) as Record<string, string>;
  const [current, legacy] = annotationPrefixes;
  for (const key of Object.keys(annotations)) {
    if (!key.startsWith(legacy)) continue;
    const modern = current + key.slice(legacy.length);
    warn(['metadata', 'annotations', key], `deprecated annotation prefix ${legacy}: write ${modern}${modern in annotations ? ` (${modern} is also set)` : ''}`);
  }
}

/**
 * What the API server would do before validation: `creationTimestamp: null` (printed by kubectl
 * and converters) is no timestamp; an omitted metadata/spec is an empty one; status on a metallb.io
 * object is not configuration and is dropped.
 */
function normalize(v: Json, metallb: boolean): Json {
  const obj: Json = { ...v };
  if (obj.metadata === undefined) obj.metadata = {};
  if (obj.metadata !== null && typeof obj.metadata === 'object' && !Array.isArray(obj.metadata)) {
    const meta = { ...(obj.metadata as Json) };
    if (meta.creationTimestamp === null) delete meta.creationTimestamp;
    obj.metadata = meta;
  }
  const hasSpec = ['Service', 'Node', 'FRRConfiguration'].includes(String(obj.kind)) || metallb;
  if (hasSpec && (obj.spec === undefined || obj.spec === null)) obj.spec = {};
  if (metallb && obj.status !== null && typeof obj.status === 'object' && !Array.isArray(obj.status)) delete obj.status;
  return obj;
}
