// A folder of the user's YAML as a Store. Every change is picked up at once (fs.watch, debounced a
// few milliseconds) and again by a slow safety re-scan (watchers miss events on some filesystems).
// Only files whose stat changed are parsed again, so a folder of thousands of Services stays
// cheap to re-read. A change that makes the configuration invalid is rejected with the
// validator's diagnostics and the last good snapshot stays in force: nothing is withdrawn.
//
// A file that cannot be read (EMFILE, EACCES, EIO...) is never taken for a deleted one: files are
// read a bounded number at a time, a failed read is retried, and a file still unreadable keeps
// what was last read from it (and is reported) until it can be read again; the first snapshot
// waits until every file has been read. A known file that turns empty or stops validating (an
// editor truncating it and then writing it) is held unchanged for `settleMs`: only if it stays
// that way is the change taken (an empty file then really empties it; a broken one is rejected).
import { type FSWatcher, readFileSync, statSync, watch } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Diagnostic } from '../../api/diagnostics.ts';
import type { LoadedObject } from '../../api/loaded.ts';
import type { EndpointSlice, Namespace, Node, Service } from '../../api/resources.ts';
import type { Config } from '../../config/types.ts';
import type { ControllerStatus, Snapshot, SpeakerStatus, Store, StoreListener } from '../store.ts';
import { emptyControllerStatus, serviceKey, withIngress } from '../store.ts';
import { defaultMaxFileBytes, sizeProblem } from './bounds.ts';
import {
  controllerJournalFile, controllerStatusFile, parseControllerStatus, readJournal, readSpeakerStatuses, removeStaleTemps, writeAtomic, stateDir, stateDirName, writeSpeakerStatus,
} from './status-file.ts';
import { ControllerStatusWriter } from './status-journal.ts';

export interface LoadResult {
  readonly objects: readonly LoadedObject[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Parses and validates the text of one file (api/'s loader in production). */
export type FileLoader = (file: string, text: string) => LoadResult | Promise<LoadResult>;
/** Resolves all objects into one Config (config/'s resolveConfig in production). */
export type ConfigResolver = (objects: readonly LoadedObject[], options: { namespace?: string }) => { config?: Config; diagnostics: Diagnostic[] };
/** A resolver the folder store may wait for (WorkerLoader.resolve runs it on the parser's thread). */
export type FolderResolver = (...args: Parameters<ConfigResolver>) => ReturnType<ConfigResolver> | Promise<ReturnType<ConfigResolver>>;

export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface FolderStoreOptions {
  readonly loader: FileLoader;
  readonly resolver: FolderResolver;
  /** The MetalLB namespace, when not inferred. */
  readonly namespace?: string;
  readonly debounceMs?: number;
  /**
   * Safety re-scan period (default 30 s; 0 disables it). A re-scan stats every file, so it is also
   * spaced at least 50 times its own duration apart: the watcher does the work, not the re-scan.
   */
  readonly rescanMs?: number;
  readonly logger?: StoreLogger;
  /** Largest file read (default 16 MiB): a larger one is refused unread, naming the file and the limit. */
  readonly maxFileBytes?: number;
  /** Files read at once (default 64): far below any file-descriptor limit. */
  readonly readConcurrency?: number;
  /** How long a known file that turned empty or invalid is held unchanged (default 500 ms). */
  readonly settleMs?: number;
  /** The file system calls (tests inject failures). */
  readonly fs?: StoreFs;
  /** Quiet time after which the controller status journal is folded into status.yaml (default 1 s). */
  readonly statusCompactAfterMs?: number;
}

/** File system calls; they may answer at once (and throw at once) or later. */
export interface StoreFs {
  readFile(file: string): string | Promise<string>;
  stat(file: string): StoreStat | Promise<StoreStat>;
}
export interface StoreStat { ino: number; size: number; mtimeMs: number; isFile(): boolean; isDirectory(): boolean }

/**
 * Synchronous calls: a small file costs ~10 µs of CPU so, ~100 µs through the promise API (four
 * thread-pool round trips and a FileHandle); a folder of 50,000 files is read in half a second
 * instead of five. Reads yield to the event loop every few milliseconds (eachLimited).
 */
const nodeFs: StoreFs = { readFile: (f) => readFileSync(f, 'utf8'), stat: (f) => statSync(f) };

/** Errors that say nothing about whether the file exists: retry, never treat as deleted. */
const gone = new Set(['ENOENT', 'ENOTDIR']);
const errCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

/**
 * Runs `fn` over `items`, at most `limit` at a time, yielding to the event loop at least every
 * 5 ms (the calls inside may be synchronous: sessions and timers must not wait for the folder).
 */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let since = performance.now();
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      await fn(items[next++]!);
      if (performance.now() - since > 5) {
        await new Promise((r) => setImmediate(r));
        since = performance.now();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

class UnreadableError extends Error {
  constructor(readonly file: string, readonly code: string) { super(`${file}: ${code}`); }
}

export class ConfigRejectedError extends Error {
  override readonly name = 'ConfigRejectedError';
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(`configuration rejected: ${diagnostics.filter((d) => d.severity === 'error').length} error(s)`);
  }
}

const yamlFile = /\.(ya?ml|json)$/i;

/** The YAML files under `dir` and the folders that hold them (hidden ones skipped). */
async function listFiles(dir: string, dirs: string[] = []): Promise<{ files: string[]; dirs: string[] }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], dirs };
    throw e;
  }
  dirs.push(dir);
  const files: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // .ironlb-state, editor swap files, .git
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files.push(...(await listFiles(p, dirs)).files);
    else if (e.isFile() && yamlFile.test(e.name)) files.push(p);
  }
  return { files: files.sort(), dirs };
}

interface CachedFile {
  readonly signature: string;
  readonly result: LoadResult;
  /** Holds something other than Services, EndpointSlices and Nodes (or a problem). */
  readonly configRelevant: boolean;
  /** The text of a config-relevant file: persisted as the last good configuration. */
  readonly text?: string;
}

/** Where the last accepted configuration is kept, beside the status. */
export const lastGoodFile = 'last-good-config.yaml';

/** Kinds that never change the resolved Config. */
const perServiceKinds = new Set(['Service', 'EndpointSlice', 'Node']);

const objectKey = (o: LoadedObject): string => `${o.object.kind}/${o.object.metadata?.namespace ?? ''}/${o.object.metadata?.name ?? ''}`;

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

export class FolderStore implements Store {
  private readonly cache = new Map<string, CachedFile>();
  private listener: StoreListener | undefined;
  private last: Snapshot | undefined;
  private lastFingerprint = '';
  private generation = 0;
  /**
   * One plain (non-recursive) watcher per folder: Node's recursive watch on Linux re-walks the
   * whole tree on changes, which with thousands of files costs seconds.
   */
  private readonly watchers = new Map<string, FSWatcher>();
  private debounce: NodeJS.Timeout | undefined;
  private rescan: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private scanAgain = false;
  /** The status this store last wrote: reading it back is no news to this process. */
  private ownStatus: { status: ControllerStatus; signature: string } | undefined;
  /** Status writes under way: the status files are then half-written news of our own, not read. */
  private statusWrites = 0;
  /** The status files' signature as last looked at. */
  private readStatusSig: string | undefined;
  private readonly statusWriter: ControllerStatusWriter;
  /** Bumped whenever a file is added, changed or removed: the cheap identity of the folder's contents. */
  private cacheVersion = 0;
  private dirty: Set<string> | 'all' = 'all';
  private knownDirs: string[] = [];
  private parsedStatus: { signature: string; status: ControllerStatus } | undefined;
  private lastResolved: { key: string; result: ReturnType<ConfigResolver> } | undefined;
  private lastFileSignatures = '';
  private closed = false;
  private readonly fs: StoreFs;
  /** Files that exist but could not be read, with the error: what was last read from them stays. */
  private readonly unreadable = new Map<string, string>();
  /** Known files seen empty or invalid, held unchanged since `since` (see settleMs). */
  private readonly unsettled = new Map<string, { signature: string; since: number }>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** Files changed since the last accepted snapshot, and the entries that snapshot was built from. */
  private readonly changedFiles = new Set<string>();
  private readonly snapshotFiles = new Map<string, CachedFile>();
  /** The Services of the last snapshot (status merged), by key. */
  private servicesByKey = new Map<string, Service>();
  /** At start, while the files on disk are rejected: the last good configuration's objects. */
  private lastGood: LoadResult | undefined;
  private persistedConfigKey: string | undefined;
  private persisting: Promise<void> = Promise.resolve();
  /** The same Services as loaded (status not merged). */
  private rawByKey = new Map<string, Service>();
  /** The file each Service of the last snapshot is defined in. */
  private serviceFile = new Map<string, string>();
  /** Services our own status writes changed, not yet merged into the last snapshot ('all': unknown). */
  private ownChanged: Set<string> | 'all' | undefined;
  /** Scans run in the background only once start() has its first snapshot. */
  private started = false;

  constructor(readonly folder: string, private readonly options: FolderStoreOptions) {
    this.fs = options.fs ?? nodeFs;
    this.statusWriter = new ControllerStatusWriter(folder, {
      ...(options.statusCompactAfterMs !== undefined ? { compactAfterMs: options.statusCompactAfterMs } : {}),
      onCompact: (write) => this.ownWrite(write),
    });
  }

  /** Files that exist but cannot be read right now (their last contents stay in force). */
  unreadableFiles(): ReadonlyMap<string, string> {
    return this.unreadable;
  }

  async start(listener: StoreListener): Promise<Snapshot> {
    try {
      return await this.startReading(listener);
    } catch (e) {
      await this.close(); // the first read may have set up watchers already
      throw e;
    }
  }

  private async startReading(listener: StoreListener): Promise<Snapshot> {
    this.listener = listener;
    let first = await this.read();
    // The first snapshot must hold every file: an unreadable one would look deleted, its Services
    // would lose their IPs and End-of-RIB would tell the peers to drop their routes.
    for (let wait = 50; this.unreadable.size > 0 && !this.closed; wait = Math.min(wait * 2, 5000)) {
      this.options.logger?.error({ files: this.unreadable.size, first: [...this.unreadable].slice(0, 5).map(([f, c]) => `${f}: ${c}`) }, 'files exist but cannot be read; waiting for them before the first snapshot');
      await new Promise((r) => setTimeout(r, wait));
      this.dirty = new Set(this.unreadable.keys());
      first = await this.read();
    }
    let fallback = false;
    if ('rejected' in first) {
      // A restart never loses a working configuration: start from the last accepted one, and
      // report the rejected files exactly as a running daemon would (they stay rejected until fixed).
      const rejected = first.rejected;
      this.lastGood = await this.readLastGood();
      if (!this.lastGood) throw new ConfigRejectedError(rejected);
      first = await this.read();
      this.lastGood = undefined;
      if (!('snapshot' in first) || first.snapshot === undefined) throw new ConfigRejectedError(rejected);
      fallback = true;
      const errors = rejected.filter((d) => d.severity === 'error');
      this.options.logger?.error({ folder: this.folder, errors: errors.length, diagnostics: errors.slice(0, 20) }, 'the configuration on disk is rejected; starting from the last accepted configuration');
      this.listener.rejected?.({ diagnostics: rejected });
    }
    if (!('snapshot' in first) || first.snapshot === undefined) throw new Error('unreachable: first read produced no snapshot');
    const snapshot = first.snapshot;
    // Started from the last good configuration: the files on disk stay "changed" (not in force).
    const pendingConfig = fallback ? [...this.cache].filter(([, e]) => e.configRelevant).map(([f]) => f) : [];
    this.accept(snapshot, first.fingerprint, first.fileSignatures);
    for (const f of pendingConfig) this.changedFiles.add(f);
    if (fallback) this.lastFingerprint = '';
    this.started = true;
    await mkdir(stateDir(this.folder), { recursive: true });
    const stale = await removeStaleTemps(this.folder);
    if (stale.length > 0) this.options.logger?.info({ files: stale }, 'removed temp files left by a writer that was killed');
    if (snapshot.status.damaged !== undefined) this.options.logger?.error({ folder: this.folder, damaged: snapshot.status.damaged }, 'the controller status (assigned IPs) is damaged');
    this.watchDir(stateDir(this.folder));
    this.syncWatchers(this.knownDirs);
    // A change made after the first read but before the watchers were up (the controller's first
    // status write, typically) raised no event: look once more now (no news when nothing changed).
    this.scheduleScan();
    this.scheduleRescan();
    return snapshot;
  }

  private lastRescanMs = 0;

  private scheduleRescan(): void {
    const every = this.options.rescanMs ?? 30_000;
    if (every <= 0 || this.closed) return;
    this.rescan = setTimeout(() => {
      const t0 = Date.now();
      this.dirty = 'all';
      this.scheduleScan();
      void (async () => {
        while (this.scanning) await this.scanning;
        this.lastRescanMs = Date.now() - t0;
        this.scheduleRescan();
      })();
    }, Math.max(every, 50 * this.lastRescanMs));
    this.rescan.unref();
  }

  current(): Snapshot | undefined {
    return this.last;
  }

  /** Re-reads the folder now (tests, and callers that just wrote a file). */
  async refresh(): Promise<void> {
    this.dirty = 'all';
    this.scheduleScan();
    while (this.scanning) await this.scanning;
  }

  async writeControllerStatus(s: ControllerStatus, changed?: ReadonlySet<string>): Promise<void> {
    this.ownChanged = changed === undefined || this.ownChanged === 'all' ? 'all' : new Set([...(this.ownChanged ?? []), ...changed]);
    if (this.last?.status.damaged !== undefined && this.ownStatus === undefined) {
      // The operator accepted the loss: keep the damaged file for a post-mortem, never overwrite it.
      const file = path.join(stateDir(this.folder), controllerStatusFile);
      const aside = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(file, aside).then(() => this.options.logger?.warn({ file: aside }, 'damaged status kept aside'), () => undefined);
    }
    await this.ownWrite(() => this.statusWriter.write(s, changed));
  }

  /** Runs one of our own status writes, then records what the files look like after it. */
  private async ownWrite(write: () => Promise<ControllerStatus>): Promise<void> {
    this.statusWrites++;
    try {
      const status = await write();
      this.ownStatus = { status, signature: await this.statusSignature() };
    } finally {
      this.statusWrites--;
    }
    // A scan during the write took the files for unchanged: fold our status in now.
    this.scheduleScan();
  }

  writeSpeakerStatus(s: SpeakerStatus): Promise<void> {
    return writeSpeakerStatus(this.folder, s);
  }

  readSpeakerStatuses(): Promise<SpeakerStatus[]> {
    return readSpeakerStatuses(this.folder);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    clearTimeout(this.debounce);
    clearTimeout(this.rescan);
    clearTimeout(this.retryTimer);
    while (this.scanning) await this.scanning;
    await this.persisting;
    await this.statusWriter.flush();
    this.statusWriter.close();
  }

  private onFsEvent(name: string): void {
    const parts = name.split(path.sep);
    // Our own temp files and the speakers' status files change nothing a snapshot holds.
    if (parts[0] === stateDirName && parts[1] !== controllerStatusFile && parts[1] !== controllerJournalFile) return;
    if (name === '') this.dirty = 'all';
    else if (parts[0] !== stateDirName && this.dirty !== 'all') this.dirty.add(path.join(this.folder, name));
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.scheduleScan(), this.options.debounceMs ?? 2);
  }

  private scheduleScan(): void {
    if (this.closed || !this.started) return;
    if (this.scanning) {
      this.scanAgain = true;
      return;
    }
    this.scanning = this.scanLoop().finally(() => (this.scanning = undefined));
  }

  private async scanLoop(): Promise<void> {
    do {
      this.scanAgain = false;
      try {
        await this.scanOnce();
      } catch (e) {
        this.options.logger?.error({ err: e, folder: this.folder }, 'reading the folder failed');
      }
    } while (this.scanAgain && !this.closed);
  }

  private async scanOnce(): Promise<void> {
    const r = await this.read();
    if (r.fingerprint === this.lastFingerprint || this.closed) return;
    if ('ownStatus' in r) {
      // Only our own status write changed: keep the snapshot current without announcing it.
      this.lastFingerprint = r.fingerprint;
      return;
    }
    if ('rejected' in r) {
      this.lastFingerprint = r.fingerprint; // report an invalid state once, not on every re-scan
      const errors = r.rejected.filter((d) => d.severity === 'error');
      this.options.logger?.error({ folder: this.folder, errors: errors.length, diagnostics: errors.slice(0, 20) }, 'configuration change rejected; the last good configuration stays in force');
      this.listener?.rejected?.({ diagnostics: r.rejected });
      return;
    }
    if ('snapshot' in r && r.snapshot) this.accept(r.snapshot, r.fingerprint, r.fileSignatures);
  }

  private accept(s: Snapshot, fingerprint: string, fileSignatures: string): void {
    this.last = s;
    for (const f of this.changedFiles) {
      const e = this.cache.get(f);
      if (e) this.snapshotFiles.set(f, e); else this.snapshotFiles.delete(f);
    }
    this.changedFiles.clear();
    this.lastFileSignatures = fileSignatures;
    this.lastFingerprint = fingerprint;
    this.listener?.snapshot(s);
  }

  private forget(file: string): void {
    if (this.cache.delete(file)) { this.cacheVersion++; this.changedFiles.add(file); }
  }

  /** Reads a file, retrying errors that do not mean "gone"; throws UnreadableError when they persist. */
  private async readText(file: string): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.fs.readFile(file);
      } catch (e) {
        const code = errCode(e);
        if (gone.has(code)) return undefined;
        if (code === 'EISDIR') return undefined;
        if (attempt >= 3) throw new UnreadableError(file, code);
        await new Promise((r) => setTimeout(r, 10 * 4 ** attempt));
      }
    }
  }

  /** Re-reads the unreadable and unsettled files a little later. */
  private retryLater(ms: number): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.dirty !== 'all') for (const f of [...this.unreadable.keys(), ...this.unsettled.keys()]) this.dirty.add(f);
      this.scheduleScan();
    }, ms);
    this.retryTimer.unref();
  }

  /**
   * Reads one file if its stat changed; undefined when it is gone (then it leaves the cache). A
   * file that cannot be read keeps its cached contents; a known file turned empty or invalid is
   * held unchanged until it has stayed so for settleMs.
   */
  private async loadFile(file: string): Promise<CachedFile | undefined> {
    let st;
    try {
      st = await this.fs.stat(file);
    } catch (e) {
      if (!gone.has(errCode(e))) return this.markUnreadable(file, errCode(e));
      this.unreadable.delete(file);
      this.unsettled.delete(file);
      this.forget(file);
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const signature = `${st.ino}:${st.size}:${st.mtimeMs}`;
    const cached = this.cache.get(file);
    if (cached?.signature === signature && !this.unreadable.has(file)) return cached;
    const tooBig = sizeProblem(file, st.size, this.options.maxFileBytes ?? defaultMaxFileBytes);
    if (tooBig) {
      // Not even read: the configuration is rejected naming the file and the limit.
      const entry: CachedFile = { signature, result: { objects: [], diagnostics: [tooBig] }, configRelevant: true };
      this.cache.set(file, entry);
      this.cacheVersion++;
      this.changedFiles.add(file);
      return entry;
    }
    let text: string | undefined;
    try {
      text = await this.readText(file);
    } catch (e) {
      if (e instanceof UnreadableError) return this.markUnreadable(file, e.code);
      throw e;
    }
    if (this.unreadable.delete(file)) this.options.logger?.info({ file }, 'file readable again');
    if (text === undefined) {
      this.unsettled.delete(file);
      this.forget(file);
      return undefined;
    }
    const result = await this.options.loader(file, text);
    if (cached && this.looksTransient(cached.result, text, result)) {
      const u = this.unsettled.get(file);
      const now = Date.now();
      const settle = this.options.settleMs ?? 500;
      if (u?.signature !== signature) this.unsettled.set(file, { signature, since: now });
      if (u?.signature !== signature || now - u.since < settle) {
        this.retryLater(settle);
        return cached;
      }
    }
    this.unsettled.delete(file);
    const configRelevant = result.diagnostics.length > 0 || result.objects.some((o) => !perServiceKinds.has(o.object.kind));
    const entry: CachedFile = { signature, result, configRelevant, ...(configRelevant ? { text } : {}) };
    this.cache.set(file, entry);
    this.cacheVersion++;
    this.changedFiles.add(file);
    return entry;
  }

  /** Empty, invalid, or lost objects the file held: what a file half-way through a rewrite looks like. */
  private looksTransient(before: LoadResult, text: string, after: LoadResult): boolean {
    if (text.trim() === '') return before.objects.length > 0;
    if (after.diagnostics.some((d) => d.severity === 'error')) return true;
    const keys = new Set(after.objects.map((o) => objectKey(o)));
    return before.objects.some((o) => !keys.has(objectKey(o)));
  }

  private markUnreadable(file: string, code: string): CachedFile | undefined {
    if (this.unreadable.get(file) !== code) {
      this.options.logger?.warn({ file, code }, 'file exists but cannot be read; what was last read from it stays in force (an unreadable file is never taken as deleted)');
    }
    this.unreadable.set(file, code);
    this.retryLater(1000);
    return this.cache.get(file);
  }

  /** Brings the cache up to date: every file after a full listing, else only the paths the watcher named. */
  private async refreshCache(): Promise<void> {
    const dirty = this.dirty;
    this.dirty = new Set();
    if (dirty !== 'all') {
      for (const f of dirty) {
        const rel = path.relative(this.folder, f);
        if (rel.split(path.sep).some((part) => part.startsWith('.'))) continue;
        let isDir: boolean;
        try {
          isDir = (await this.fs.stat(f)).isDirectory();
        } catch (e) {
          if (gone.has(errCode(e))) { this.forget(f); this.unreadable.delete(f); this.unsettled.delete(f); } else this.markUnreadable(f, errCode(e));
          continue;
        }
        if (isDir) return this.refreshAll(); // a folder appeared or moved: list everything
        if (yamlFile.test(f)) await this.loadFile(f);
      }
      return;
    }
    await this.refreshAll();
  }

  private watchDir(dir: string): void {
    if (this.watchers.has(dir) || this.closed) return;
    try {
      const w = watch(dir, (_event, name) => this.onFsEvent(name === null ? '' : path.relative(this.folder, path.join(dir, String(name)))));
      w.on('error', (e) => {
        this.options.logger?.warn({ err: e, dir }, 'folder watch failed; relying on re-scan');
        w.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, w);
    } catch (e) {
      this.options.logger?.warn({ err: e, dir }, 'cannot watch folder; relying on re-scan');
    }
  }

  private syncWatchers(dirs: readonly string[]): void {
    if (this.watchers.size === 0 && this.listener === undefined) return; // not started yet
    const keep = new Set([...dirs, stateDir(this.folder)]);
    for (const [d, w] of this.watchers) if (!keep.has(d)) { w.close(); this.watchers.delete(d); }
    for (const d of dirs) this.watchDir(d);
  }

  private async refreshAll(): Promise<void> {
    const { files, dirs } = await listFiles(this.folder);
    this.knownDirs = dirs;
    this.syncWatchers(dirs);
    const present = new Set(files);
    for (const f of [...this.cache.keys()]) if (!present.has(f)) { this.forget(f); this.unreadable.delete(f); this.unsettled.delete(f); }
    await eachLimited(files, this.options.readConcurrency ?? 64, (f) => this.loadFile(f));
  }

  /** The status files' identity (inode, size, mtime): cheaper than reading them to see they changed. */
  private async statusSignature(): Promise<string> {
    const sig = async (name: string): Promise<string> => {
      try {
        const st = await stat(path.join(stateDir(this.folder), name));
        return `${st.ino}:${st.size}:${st.mtimeMs}`;
      } catch {
        return 'none';
      }
    };
    return `${await sig(controllerStatusFile)}|${await sig(controllerJournalFile)}`;
  }

  private async readStatus(signature: string): Promise<ControllerStatus> {
    if (this.ownStatus?.signature === signature) return this.ownStatus.status;
    if (this.parsedStatus?.signature === signature) return this.parsedStatus.status;
    let text = '';
    let status: ControllerStatus | undefined;
    try {
      text = await readFile(path.join(stateDir(this.folder), controllerStatusFile), 'utf8');
    } catch (e) {
      // none yet is an empty status; one that exists but cannot be read is a damaged one
      if (errCode(e) !== 'ENOENT') status = { ...emptyControllerStatus, damaged: `cannot read ${controllerStatusFile}: ${errCode(e)}` };
    }
    status ??= parseControllerStatus(text, await readJournal(this.folder));
    this.parsedStatus = { signature, status };
    return status;
  }

  private async read(): Promise<
    { fingerprint: string; fileSignatures: string; snapshot?: Snapshot } | { fingerprint: string; rejected: Diagnostic[] } | { fingerprint: string; ownStatus: ControllerStatus }
  > {
    await this.refreshCache();
    const fileSignatures = String(this.cacheVersion);
    // While we write the status ourselves it is as we last wrote it; the write's end looks again.
    const statusSig = this.statusWrites > 0 && this.readStatusSig !== undefined ? this.readStatusSig : await this.statusSignature();
    this.readStatusSig = statusSig;
    const fingerprint = `${fileSignatures}|${statusSig}`;
    if (fingerprint === this.lastFingerprint) return { fingerprint, fileSignatures };
    if (this.ownStatus?.signature === statusSig) {
      // Our own write is no news, but the Services merged with it must read as it says before a
      // file change is taken (else that change would look like a status change: a whole rebuild).
      if (this.last && this.last.status !== this.ownStatus.status) this.last = this.withOwnStatus(this.last, this.ownStatus.status);
      if (fileSignatures === this.lastFileSignatures) return { fingerprint, ownStatus: this.ownStatus.status };
    }
    const status = await this.readStatus(statusSig);
    const last = this.last;
    const servicesOnly = [...this.changedFiles].every((f) => this.holdsOnlyServices(this.cache.get(f)) && this.holdsOnlyServices(this.snapshotFiles.get(f)));
    if (last && servicesOnly && status === last.status && !this.duplicatesIn(this.changedFiles)) return { fingerprint, fileSignatures, snapshot: this.nextByFiles(last) };

    const configSignatures: string[] = [];
    const objects: LoadedObject[] = [];
    const diagnostics: Diagnostic[] = [];
    for (const f of [...this.cache.keys()].sort()) {
      const e = this.cache.get(f)!;
      if (this.lastGood && e.configRelevant) continue; // in force instead: the last good configuration
      if (e.configRelevant) configSignatures.push(`${f}@${e.signature}`);
      objects.push(...e.result.objects);
      diagnostics.push(...e.result.diagnostics);
    }
    if (this.lastGood) {
      configSignatures.push(`last-good@${this.lastGood.objects.length}`);
      objects.push(...this.lastGood.objects);
    }
    // Services, EndpointSlices and Nodes do not change the Config: when only they changed, the
    // last resolution still holds (resolving is the costly part with thousands of Services).
    const configKey = configSignatures.join('\n');
    let resolved = this.lastResolved?.key === configKey ? this.lastResolved.result : undefined;
    if (!resolved) {
      resolved = await this.options.resolver(objects.filter((o) => !perServiceKinds.has(o.object.kind)), this.options.namespace !== undefined ? { namespace: this.options.namespace } : {});
      this.lastResolved = { key: configKey, result: resolved };
    }
    diagnostics.push(...resolved.diagnostics);
    if (resolved.config === undefined || diagnostics.some((d) => d.severity === 'error')) return { fingerprint, rejected: diagnostics };
    if (!this.lastGood && configKey !== this.persistedConfigKey) {
      this.persistedConfigKey = configKey;
      this.persistLastGood();
    }

    const byKey = new Map<string, Service>();
    const rawByKey = new Map<string, Service>();
    const serviceFiles = new Map<string, LoadedObject>();
    const endpointSlices: EndpointSlice[] = [];
    const nodes: Node[] = [];
    const namespaces: Namespace[] = [];
    for (const lo of objects) {
      const o = lo.object;
      if (o.kind === 'Service') {
        const key = serviceKey(o);
        const twin = serviceFiles.get(key);
        if (twin) { diagnostics.push(duplicateService(lo, twin)); continue; }
        serviceFiles.set(key, lo);
        rawByKey.set(key, o);
        byKey.set(key, mergeIngress(o, status.services[key]?.ips));
      }
      else if (o.kind === 'EndpointSlice') endpointSlices.push(o);
      else if (o.kind === 'Node') nodes.push(o);
      else if (o.kind === 'Namespace') namespaces.push(o);
    }
    if (diagnostics.some((d) => d.severity === 'error')) return { fingerprint, rejected: diagnostics };
    this.serviceFile = new Map([...serviceFiles].map(([k, lo]) => [k, lo.source?.file ?? '']));
    // The delta by identity: unchanged Services are the same objects.
    const upserted: Service[] = [];
    const deleted: string[] = [];
    for (const [key, svc] of byKey) if (this.servicesByKey.get(key) !== svc) upserted.push(svc);
    for (const key of this.servicesByKey.keys()) if (!byKey.has(key)) deleted.push(key);
    const sameWorld = last !== undefined && servicesOnly && resolved.config === last.config;
    this.servicesByKey = byKey;
    this.rawByKey = rawByKey;
    const snapshot: Snapshot = {
      generation: ++this.generation, config: resolved.config, objects, services: [...byKey.values()], endpointSlices, nodes, namespaces,
      diagnostics: diagnostics.filter((d) => d.severity !== 'error'), status,
      ...(last ? { delta: { from: last.generation, servicesOnly: sameWorld, upserted, deleted } } : {}),
    };
    return { fingerprint, fileSignatures, snapshot };
  }

  /** The last snapshot after our own status write: only the Services it changed are merged again. */
  private withOwnStatus(last: Snapshot, status: ControllerStatus): Snapshot {
    const keys = this.ownChanged === 'all' || this.ownChanged === undefined ? [...this.rawByKey.keys()] : this.ownChanged;
    this.ownChanged = undefined;
    for (const key of keys) {
      const raw = this.rawByKey.get(key);
      if (!raw) continue;
      const merged = mergeIngress(raw, status.services[key]?.ips);
      this.servicesByKey.set(key, merged);
    }
    const { delta: _delta, ...rest } = last;
    // Not handed to anyone (our own write is no news): the list of every Service is built only if
    // current() is read, instead of after every edit.
    const snapshot = { ...rest, status } as Snapshot;
    const byKey = this.servicesByKey;
    let services: Service[] | undefined;
    Object.defineProperty(snapshot, 'services', { get: () => (services ??= [...byKey.values()]), enumerable: false, configurable: true });
    return snapshot;
  }

  /** Writes the texts of the config-relevant files in force: what a restart falls back to. */
  private persistLastGood(): void {
    const parts: string[] = ['# Written by ironlb: the last accepted configuration (the files below, as they were), used at start when the files on disk are rejected. Do not edit.'];
    for (const f of [...this.cache.keys()].sort()) {
      const e = this.cache.get(f)!;
      if (e.configRelevant && e.text !== undefined) parts.push(`# from ${path.relative(this.folder, f)}\n${e.text}`);
    }
    const text = parts.join('\n---\n') + '\n';
    this.persisting = this.persisting.then(() => writeAtomic(path.join(stateDir(this.folder), lastGoodFile), text))
      .catch((e: unknown) => this.options.logger?.warn({ err: e }, 'cannot keep the last good configuration'));
  }

  private async readLastGood(): Promise<LoadResult | undefined> {
    const file = path.join(stateDir(this.folder), lastGoodFile);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    const r = await this.options.loader(file, text);
    return r.diagnostics.some((d) => d.severity === 'error') ? undefined : r;
  }

  /** A file that holds Services and nothing else (or is absent). */
  private holdsOnlyServices(e: CachedFile | undefined): boolean {
    return e === undefined || (!e.configRelevant && e.result.objects.every((o) => o.object.kind === 'Service'));
  }

  /** Whether the changed files define a Service twice, or one that another file defines (the full read reports it). */
  private duplicatesIn(files: ReadonlySet<string>): boolean {
    const seen = new Set<string>();
    for (const f of files) {
      for (const o of this.cache.get(f)?.result.objects ?? []) {
        const key = serviceKey(o.object);
        const owner = this.serviceFile.get(key);
        if (seen.has(key) || (owner !== undefined && owner !== f && !files.has(owner))) return true;
        seen.add(key);
      }
    }
    return false;
  }

  /** The next snapshot when only Service files changed: only those files are looked at. */
  private nextByFiles(last: Snapshot): Snapshot {
    const status = last.status;
    const upserted = new Map<string, Service>();
    const gone = new Set<string>();
    for (const f of this.changedFiles) {
      for (const o of this.snapshotFiles.get(f)?.result.objects ?? []) gone.add(serviceKey(o.object));
      for (const o of this.cache.get(f)?.result.objects ?? []) {
        const svc = o.object as Service;
        const key = serviceKey(svc);
        upserted.set(key, mergeIngress(svc, status.services[key]?.ips));
      }
    }
    const deleted: string[] = [];
    for (const key of gone) {
      if (upserted.has(key)) continue; // moved between the changed files
      this.rawByKey.delete(key);
      if (this.servicesByKey.delete(key)) deleted.push(key);
    }
    for (const key of deleted) this.serviceFile.delete(key);
    for (const f of this.changedFiles) {
      for (const o of this.cache.get(f)?.result.objects ?? []) { const key = serviceKey(o.object); this.rawByKey.set(key, o.object as Service); this.serviceFile.set(key, f); }
    }
    for (const [key, svc] of upserted) {
      if (this.servicesByKey.get(key) === svc) upserted.delete(key);
      else this.servicesByKey.set(key, svc);
    }
    const objects: LoadedObject[] = [];
    for (const e of this.cache.values()) for (const o of e.result.objects) objects.push(o);
    return {
      ...last, generation: ++this.generation, objects, services: [...this.servicesByKey.values()],
      delta: { from: last.generation, servicesOnly: true, upserted: [...upserted.values()], deleted },
    };
  }
}
