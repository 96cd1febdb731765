// One resource kept in memory from the API: list, then watch from the list's resourceVersion.
// A watch the server ends cleanly (timeoutSeconds) is resumed from the last resourceVersion seen
// (bookmarks keep it fresh); a 410 Expired (as an HTTP answer or an ERROR event) or any other
// failure relists after a backoff (0.5 s doubling to 30 s, reset once a watch has run for a
// while). Relisting compares with the cache, so objects that vanished meanwhile are reported as
// deleted. Handlers never stop the reflector: an exception in one is logged, not fatal.
import type { Json, KubeClient, WatchEvent } from './kube-client.ts';
import { KubeApiError } from './kube-client.ts';

export interface ReflectorLogger {
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface ReflectorOptions {
  readonly client: KubeClient;
  /** The collection path, e.g. `/api/v1/services` or `/apis/metallb.io/v1beta1/namespaces/ns/ipaddresspools`. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** A short name for logs. */
  readonly name: string;
  readonly logger?: ReflectorLogger;
  /** Called after every change of the cache (add, update, delete, relist). */
  readonly onChange: (kind: 'add' | 'update' | 'delete', obj: Json) => void;
  /** Called when the first list has been loaded (and after each relist). */
  readonly onSynced?: () => void;
  readonly watchTimeoutSeconds?: number;
  /**
   * A resource that may not be served (its CRD absent: 404) or not readable (403): such a list
   * counts as an empty one, so the first sync never waits for it, and is tried again every
   * `absentRetryMs` (default 60 s) until it is served.
   */
  readonly optional?: boolean;
  readonly absentRetryMs?: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export const objectKey = (o: Json): string => {
  const m = (o.metadata ?? {}) as { namespace?: string; name?: string };
  return m.namespace ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
};

/** kubectl's copy of the object it applied last: as large as the object, read by no one here. */
const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The object as the cache keeps it: without `metadata.managedFields` (server-side apply's field
 * owners: more than half of a Service's JSON once three writers touched it, and a few dozen small
 * objects per Service in the heap) and kubectl's last-applied copy. Nothing here reads them, and
 * no cached object is written back whole (PUTs start from a fresh GET).
 */
export function slim(o: Json): Json {
  const m = o.metadata as Json | undefined;
  if (m === undefined) return o;
  const annotations = m.annotations as Record<string, string> | undefined;
  const strip = annotations !== undefined && lastApplied in annotations;
  if (!('managedFields' in m) && !strip) return o;
  const { managedFields: _mf, ...meta } = m;
  if (strip) {
    const { [lastApplied]: _la, ...rest } = annotations;
    meta.annotations = rest;
  }
  return { ...o, metadata: meta };
}

const rvOf = (o: Json): string | undefined => ((o.metadata ?? {}) as { resourceVersion?: string }).resourceVersion;

export class Reflector {
  readonly cache = new Map<string, Json>();
  /** Lists done (the first one included): tests see relists happen. */
  lists = 0;
  synced = false;
  private resourceVersion = '';
  private abort: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private stopped = false;
  /** An optional resource is not served now (see ReflectorOptions.optional). */
  absent = false;
  private firstSync: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void };

  constructor(private readonly o: ReflectorOptions) {
    this.backoffMs = o.minBackoffMs ?? 500;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    promise.catch(() => undefined);
    this.firstSync = { promise, resolve, reject };
  }

  /** Starts; resolves after the first successful list (keeps retrying until then). */
  start(): Promise<void> {
    void this.relist();
    return this.firstSync.promise;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.();
    this.abort = undefined;
    this.firstSync.reject(new Error(`${this.o.name}: stopped before the first list`));
  }

  list(): Json[] {
    return [...this.cache.values()];
  }

  private query(): Record<string, string | undefined> {
    return { labelSelector: this.o.labelSelector, fieldSelector: this.o.fieldSelector };
  }

  private retry(why: unknown, relist: boolean): void {
    if (this.stopped) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs ?? 30_000);
    this.o.logger?.warn({ resource: this.o.name, err: why instanceof Error ? why.message : String(why), retryInMs: delay, relist }, 'watch failed; retrying');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void (relist ? this.relist() : this.watch()), delay);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    let list: { metadata?: { resourceVersion?: string }; items?: Json[] };
    try {
      list = await this.o.client.request('GET', this.o.path, { query: this.query() });
    } catch (e) {
      if (this.o.optional && e instanceof KubeApiError && (e.code === 404 || e.code === 403)) this.notServed(e);
      else this.retry(e, true);
      return;
    }
    if (this.stopped) return;
    this.absent = false;
    this.lists++;
    const kind = ((list as { kind?: string }).kind ?? '').replace(/List$/, '');
    const apiVersion = (list as { apiVersion?: string }).apiVersion;
    const seen = new Set<string>();
    for (const item of list.items ?? []) {
      // Items of a list carry no kind/apiVersion: put them back, the loader needs them.
      const obj: Json = slim({ ...(apiVersion ? { apiVersion } : {}), ...(kind ? { kind } : {}), ...item });
      const key = objectKey(obj);
      seen.add(key);
      this.put(obj);
    }
    for (const [key, old] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit('delete', old);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      this.firstSync.resolve();
    }
    this.o.onSynced?.();
    await this.watch();
  }

  private notServed(e: KubeApiError): void {
    if (this.stopped) return;
    if (!this.absent) this.o.logger?.warn({ resource: this.o.name, code: e.code, retryInMs: this.o.absentRetryMs ?? 60_000 }, e.code === 404 ? 'not served (its CRD is not installed): read as none' : 'not allowed to list it: read as none');
    this.absent = true;
    for (const [key, old] of this.cache) {
      this.cache.delete(key);
      this.emit('delete', old);
    }
    if (!this.synced) {
      this.synced = true;
      this.firstSync.resolve();
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.relist(), this.o.absentRetryMs ?? 60_000);
  }

  private put(obj: Json): void {
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (old && rvOf(old) !== undefined && rvOf(old) === rvOf(obj)) return;
    this.cache.set(key, obj);
    this.emit(old ? 'update' : 'add', obj);
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: Json): void {
    try {
      this.o.onChange(kind, obj);
    } catch (e) {
      this.o.logger?.warn({ resource: this.o.name, object: objectKey(obj), err: (e as Error).message }, 'handling a change failed');
    }
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    let expired = false;
    const timeout = this.o.watchTimeoutSeconds ?? 240 + Math.floor(Math.random() * 60);
    const onEvent = (e: WatchEvent) => {
      const obj = e.object;
      if (e.type === 'ERROR') {
        const code = (obj as { code?: number }).code;
        if (code === 410) expired = true;
        else this.o.logger?.warn({ resource: this.o.name, status: obj }, 'watch error event');
        return;
      }
      const rv = rvOf(obj);
      if (rv) this.resourceVersion = rv;
      if (e.type === 'BOOKMARK') return;
      if (e.type === 'DELETED') {
        const key = objectKey(obj);
        if (this.cache.delete(key)) this.emit('delete', obj);
        return;
      }
      this.put(slim(obj));
    };
    const done = (err?: Error) => {
      this.abort = undefined;
      if (this.stopped) return;
      if (err instanceof KubeApiError && err.code === 410) expired = true;
      if (expired) {
        this.o.logger?.debug?.({ resource: this.o.name }, 'watch expired (410); relisting');
        this.resourceVersion = '';
        void this.relist();
        return;
      }
      if (err) {
        this.retry(err, true);
        return;
      }
      // A clean end (the server's timeout): resume from where we are.
      if (Date.now() - started > 10_000) this.backoffMs = this.o.minBackoffMs ?? 500;
      else if (Date.now() - started < 1000) {
        this.retry('watch ended at once', false);
        return;
      }
      void this.watch();
    };
    try {
      this.abort = await this.o.client.watch(this.o.path, { ...this.query(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: timeout }, onEvent, done);
      if (this.stopped) this.abort();
    } catch (e) {
      this.retry(e, true);
    }
  }
}
