// The loader and resolver a FolderStore uses in production: api/'s file loader (schemas, defaults,
// positions) and config/'s resolver.
import { parseAllDocuments } from 'yaml';
import type { Diagnostic } from '../../api/diagnostics.ts';
import { type LoadedObject, unpositioned } from '../../api/loaded.ts';
import type { CoreResource, MetalLBResource } from '../../api/resources.ts';
import { loadText, loadTextFully } from '../../api/load.ts';
import { resolveConfig } from '../../config/resolve.ts';
import type { ConfigResolver, FileLoader, FolderStoreOptions, LoadResult } from './folder-store.ts';

/**
 * api/'s loader: schemas, defaults, conversions, positions. A loaded object's positions would keep
 * its file's whole syntax tree alive (a LineCounter, every Scalar and Pair: kilobytes per file);
 * they are only needed to report a problem, so they are re-derived from the text then.
 */
export const apiLoader: FileLoader = (file: string, text: string): LoadResult => {
  const r = loadText(text, file);
  const again = reparsedOnDemand(text, file);
  const objects = r.objects.map((o, i): LoadedObject => ({
    object: o.object,
    ...(o.source ? { source: o.source } : {}),
    positionOf: (path) => again()[i]?.positionOf(path),
  }));
  return { objects, diagnostics: r.diagnostics };
};

/**
 * The file's objects parsed again, for positions: once per burst of questions (one resolve's
 * diagnostics), then dropped, so the syntax tree is not kept for the life of the objects (1,000
 * Services in one file: ~10 MiB of Scalars and Pairs).
 */
export function reparsedOnDemand(text: string, file: string): () => LoadedObject[] {
  let again: LoadedObject[] | undefined;
  return () => {
    if (!again) {
      again = loadTextFully(text, file).objects;
      setImmediate(() => { again = undefined; });
    }
    return again;
  };
}

/** Structural YAML only (no schema): for tests that want objects the schemas would refuse. */
export const plainYamlLoader: FileLoader = (file: string, text: string): LoadResult => {
  const objects: LoadedObject[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const doc of parseAllDocuments(text)) {
    for (const e of doc.errors) diagnostics.push({ severity: 'error', position: { file, line: e.linePos?.[0]?.line ?? 1, column: e.linePos?.[0]?.col ?? 1 }, path: '', message: e.message });
    const v: unknown = doc.toJS();
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || typeof (v as { kind?: unknown }).kind !== 'string') {
      diagnostics.push({ severity: 'error', position: { file, line: 1, column: 1 }, path: '', message: 'not a Kubernetes object (no kind)' });
      continue;
    }
    const o = v as MetalLBResource | CoreResource;
    (o as { metadata?: object }).metadata ??= {};
    objects.push(unpositioned(o));
  }
  return { objects, diagnostics };
};

export const defaultResolver: ConfigResolver = (objects, options) => resolveConfig(objects, options);

export function productionStoreOptions(extra: Partial<FolderStoreOptions> = {}): FolderStoreOptions {
  return { loader: apiLoader, resolver: defaultResolver, ...extra };
}
