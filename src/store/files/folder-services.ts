// The folder's Services as the last snapshot held them, and the snapshots built from them: whole
// (every file's objects) or by delta (only the files that changed, when those hold nothing but
// Services). Unchanged Services stay the same objects, so consumers can diff by identity.
import type { Diagnostic } from '../../api/diagnostics.ts';
import type { LoadedObject } from '../../api/loaded.ts';
import type { EndpointSlice, Namespace, Node, Service } from '../../api/resources.ts';
import type { Config } from '../../config/types.ts';
import type { ControllerStatus, Snapshot } from '../store.ts';
import { serviceKey, snapshotBase, withIngress, withLazyLists } from '../store.ts';
import type { CachedFile } from './file-cache.ts';

/** A Service defined a second time (in another file, or twice in one): an error naming both places. */
function duplicateService(lo: LoadedObject, first: LoadedObject): Diagnostic {
  const where = (x: LoadedObject): string => {
    const p = x.positionOf(['metadata', 'name']);
    return p ? `${p.file}:${p.line}` : (x.source?.file ?? 'another file');
  };
  const o = lo.object;
  const position = lo.positionOf(['metadata', 'name']);
  return {
    severity: 'error', ...(position ? { position } : {}), object: { kind: 'Service', namespace: o.metadata?.namespace ?? 'default', name: o.metadata?.name ?? '' }, path: 'metadata.name',
    message: `duplicate Service "${serviceKey(o)}": already defined at ${where(first)}; a Service may be defined in one place only`,
  };
}

/** Merged Services by loaded object, so that an unchanged Service stays the same object. */
const merged = new WeakMap<Service, Service>();
function mergeIngress(s: Service, ips: readonly string[] | undefined): Service {
  if (ips === undefined) return s;
  const prev = merged.get(s);
  const out = prev ? withIngress(prev, ips) : withIngress(s, ips);
  merged.set(s, out);
  return out;
}

/** A file that holds Services and nothing else (or is absent). */
export const holdsOnlyServices = (e: CachedFile | undefined): boolean =>
  e === undefined || (!e.configRelevant && e.result.objects.every((o) => o.object.kind === 'Service'));

/** What a whole read makes of the folder's objects, before it is taken. */
export interface WholeRead {
  readonly byKey: Map<string, Service>;
  readonly rawByKey: Map<string, Service>;
  readonly serviceFiles: Map<string, LoadedObject>;
  readonly endpointSlices: EndpointSlice[];
  readonly nodes: Node[];
  readonly namespaces: Namespace[];
}

export class FolderServices {
  /** The Services of the last snapshot (status merged), by key. */
  private byKey = new Map<string, Service>();
  /** The same Services as loaded (status not merged). */
  private rawByKey = new Map<string, Service>();
  /** The file each Service of the last snapshot is defined in. */
  private serviceFile = new Map<string, string>();
  /** Services our own status writes changed, not yet merged into the last snapshot ('all': unknown). */
  private ownChanged: Set<string> | 'all' | undefined;
  private generation = 0;

  /** Our own status write changed these Services (undefined: maybe all). */
  noteOwnWrite(changed: ReadonlySet<string> | undefined): void {
    this.ownChanged = changed === undefined || this.ownChanged === 'all' ? 'all' : new Set([...(this.ownChanged ?? []), ...changed]);
  }

  /** Whether the changed files define a Service twice, or one that another file defines (the whole read reports it). */
  duplicatesIn(files: ReadonlySet<string>, cache: ReadonlyMap<string, CachedFile>): boolean {
    const seen = new Set<string>();
    for (const f of files) {
      for (const o of cache.get(f)?.result.objects ?? []) {
        const key = serviceKey(o.object);
        const owner = this.serviceFile.get(key);
        if (seen.has(key) || (owner !== undefined && owner !== f && !files.has(owner))) return true;
        seen.add(key);
      }
    }
    return false;
  }

  /** Sorts every object of a whole read by kind; duplicate Services go to `diagnostics`. */
  collect(objects: readonly LoadedObject[], status: ControllerStatus, diagnostics: Diagnostic[]): WholeRead {
    const read: WholeRead = { byKey: new Map(), rawByKey: new Map(), serviceFiles: new Map(), endpointSlices: [], nodes: [], namespaces: [] };
    for (const lo of objects) {
      const o = lo.object;
      if (o.kind === 'Service') {
        const key = serviceKey(o);
        const twin = read.serviceFiles.get(key);
        if (twin) { diagnostics.push(duplicateService(lo, twin)); continue; }
        read.serviceFiles.set(key, lo);
        read.rawByKey.set(key, o);
        read.byKey.set(key, mergeIngress(o, status.services[key]?.ips));
      }
      else if (o.kind === 'EndpointSlice') read.endpointSlices.push(o);
      else if (o.kind === 'Node') read.nodes.push(o);
      else if (o.kind === 'Namespace') read.namespaces.push(o);
    }
    return read;
  }

  /** The snapshot of a whole read, with the delta from `last` found by identity. */
  whole(read: WholeRead, rest: { config: Config; objects: LoadedObject[]; diagnostics: Diagnostic[]; status: ControllerStatus }, last: Snapshot | undefined, sameWorld: boolean): Snapshot {
    this.serviceFile = new Map([...read.serviceFiles].map(([k, lo]) => [k, lo.source?.file ?? '']));
    const upserted: Service[] = [];
    const deleted: string[] = [];
    for (const [key, svc] of read.byKey) if (this.byKey.get(key) !== svc) upserted.push(svc);
    for (const key of this.byKey.keys()) if (!read.byKey.has(key)) deleted.push(key);
    this.byKey = read.byKey;
    this.rawByKey = read.rawByKey;
    return {
      generation: ++this.generation, config: rest.config, objects: rest.objects, services: [...read.byKey.values()],
      endpointSlices: read.endpointSlices, nodes: read.nodes, namespaces: read.namespaces,
      diagnostics: rest.diagnostics, status: rest.status,
      ...(last ? { delta: { from: last.generation, servicesOnly: sameWorld, upserted, deleted } } : {}),
    };
  }

  /**
   * The next snapshot when only Service files changed: only those files are looked at. `statusChange`:
   * the status moved on by another process's journal lines, which set or released `keys`: only
   * those Services are merged again.
   */
  next(last: Snapshot, changedFiles: ReadonlySet<string>, cache: ReadonlyMap<string, CachedFile>, before: ReadonlyMap<string, CachedFile>,
    statusChange?: { readonly status: ControllerStatus; readonly keys: Iterable<string> }): Snapshot {
    const status = statusChange?.status ?? last.status;
    const upserted = new Map<string, Service>();
    const gone = new Set<string>();
    for (const f of changedFiles) {
      for (const o of before.get(f)?.result.objects ?? []) gone.add(serviceKey(o.object));
      for (const o of cache.get(f)?.result.objects ?? []) {
        const svc = o.object as Service;
        const key = serviceKey(svc);
        upserted.set(key, mergeIngress(svc, status.services[key]?.ips));
      }
    }
    const deleted: string[] = [];
    for (const key of gone) {
      if (upserted.has(key)) continue; // moved between the changed files
      this.rawByKey.delete(key);
      if (this.byKey.delete(key)) deleted.push(key);
    }
    for (const key of deleted) this.serviceFile.delete(key);
    for (const f of changedFiles) {
      for (const o of cache.get(f)?.result.objects ?? []) { const key = serviceKey(o.object); this.rawByKey.set(key, o.object as Service); this.serviceFile.set(key, f); }
    }
    for (const key of statusChange?.keys ?? []) {
      const raw = this.rawByKey.get(key);
      if (raw && !upserted.has(key)) upserted.set(key, mergeIngress(raw, status.services[key]?.ips));
    }
    for (const [key, svc] of upserted) {
      if (this.byKey.get(key) === svc) upserted.delete(key);
      else this.byKey.set(key, svc);
    }
    const byKey = this.byKey;
    return withLazyLists(
      { ...snapshotBase(last), status, generation: ++this.generation, delta: { from: last.generation, servicesOnly: true, upserted: [...upserted.values()], deleted } },
      () => [...byKey.values()],
      () => { const objects: LoadedObject[] = []; for (const e of cache.values()) for (const o of e.result.objects) objects.push(o); return objects; },
    );
  }

  /** The last snapshot after our own status write: only the Services it changed are merged again. */
  withOwnStatus(last: Snapshot, status: ControllerStatus): Snapshot {
    const keys = this.ownChanged === 'all' || this.ownChanged === undefined ? [...this.rawByKey.keys()] : this.ownChanged;
    this.ownChanged = undefined;
    for (const key of keys) {
      const raw = this.rawByKey.get(key);
      if (!raw) continue;
      this.byKey.set(key, mergeIngress(raw, status.services[key]?.ips));
    }
    // Not handed to anyone (our own write is no news): the list of every Service is built only if
    // current() is read, instead of after every edit.
    const byKey = this.byKey;
    return withLazyLists({ ...snapshotBase(last), status }, () => [...byKey.values()], () => last.objects);
  }
}
