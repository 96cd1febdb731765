// A folder of the user's YAML as a Store. Every change is picked up at once (fs.watch, debounced a
// few milliseconds) and again by a slow safety re-scan (watchers miss events on some filesystems).
// Only files whose stat changed are parsed again, so a folder of thousands of Services stays
// cheap to re-read. A change that makes the configuration invalid is rejected with the
// validator's diagnostics and the last good snapshot stays in force: nothing is withdrawn.
//
// The parts: file-cache.ts (what each file holds; unreadable and half-written files),
// folder-watch.ts (which files may have changed), folder-services.ts (the Services of the last
// snapshot and the next snapshot, whole or by delta), last-good.ts (the configuration a restart
// falls back to). Here: reading them into snapshots, the resolved Config, and the status files.
//
// The first snapshot waits until every file has been read: a file that cannot be read is never
// taken for a deleted one (see file-cache.ts).
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Diagnostic } from '../../api/diagnostics.ts';
import type { LoadedObject } from '../../api/loaded.ts';
import type { Config } from '../../config/types.ts';
import type { ResolveOptions } from '../../config/resolve.ts';
import type { ControllerStatus, Snapshot, SpeakerStatus, SpeakerStatusWrite, Store, StoreListener } from '../store.ts';
import { emptyControllerStatus } from '../store.ts';
import { type CachedFile, errCode, FileCache, type FileLoader, gone, type LoadResult, nodeFs, perServiceKinds, type StoreFs, type StoreLogger } from './file-cache.ts';
import { FolderServices, holdsOnlyServices } from './folder-services.ts';
import { FolderWatch, isYamlFile, listFiles } from './folder-watch.ts';
import {
  applyJournalLine, baseToken, controllerJournalFile, controllerStatusFile, journalHead, type JournalTarget, parseControllerStatus, removeStaleTemps, stateDir,
} from './status-file.ts';
import { ControllerStatusWriter } from './status-journal.ts';
import { LastGoodConfig } from './last-good.ts';
import { readSpeakerStatuses, SpeakerStatusJournal } from './speaker-status-journal.ts';

export type { FileLoader, LoadResult, StoreFs, StoreLogger, StoreStat } from './file-cache.ts';

/** Resolves all objects into one Config (config/'s resolveConfig in production). */
export type ConfigResolver = (objects: readonly LoadedObject[], options: ResolveOptions) => { config?: Config; diagnostics: Diagnostic[] };
/** A resolver the folder store may wait for (WorkerLoader.resolve runs it on the parser's thread). */
export type FolderResolver = (...args: Parameters<ConfigResolver>) => ReturnType<ConfigResolver> | Promise<ReturnType<ConfigResolver>>;

export interface FolderStoreOptions {
  readonly loader: FileLoader;
  readonly resolver: FolderResolver;
  /** The MetalLB namespace, when not inferred. */
  readonly namespace?: string;
  readonly debounceMs?: number;
  /**
   * Safety re-scan period (default 30 s; 0 disables it). A re-scan stats every file, so it is also
   * spaced at least 200 times its own CPU time apart: the watcher does the work, not the re-scan.
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
  /** Quiet time after which the controller status journal is folded into status.yaml (default: never; it is when it outgrows the base). */
  readonly statusCompactAfterMs?: number;
}

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

export class ConfigRejectedError extends Error {
  override readonly name = 'ConfigRejectedError';
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(`configuration rejected: ${diagnostics.filter((d) => d.severity === 'error').length} error(s)`);
  }
}

export class FolderStore implements Store {
  private readonly cache: FileCache;
  private readonly watch: FolderWatch;
  private readonly services = new FolderServices();
  private listener: StoreListener | undefined;
  private last: Snapshot | undefined;
  private lastFingerprint = '';
  private scanning: Promise<void> | undefined;
  private scanAgain = false;
  /** The status this store last wrote: reading it back is no news to this process. */
  private ownStatus: { status: ControllerStatus; signature: string } | undefined;
  /** Status writes under way: the status files are then half-written news of our own, not read. */
  private statusWrites = 0;
  /** Own status writes started so far: a signature taken while one started is of a half-written status. */
  private statusWritesStarted = 0;
  /** The status files' signature as last looked at. */
  private readStatusSig: string | undefined;
  private readonly statusWriter: ControllerStatusWriter;
  /**
   * The controller status as last read from the files. `target` (when the journal belongs to the
   * base) is the status being kept up to date, in place, from the lines the journal appends: in
   * split mode the controller's every edit is one line, and this process reads that line, not the
   * whole status again. `offset`: the journal's bytes applied so far (whole lines).
   */
  private parsedStatus: { signature: string; status: ControllerStatus; base: string; journalIno?: number; offset: number; target?: JournalTarget } | undefined;
  private lastResolved: { key: string; result: ReturnType<ConfigResolver> } | undefined;
  private lastFileSignatures = '';
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The entries the last accepted snapshot was built from (the files changed since are cache.changed). */
  private readonly snapshotFiles = new Map<string, CachedFile>();
  /** At start, while the files on disk are rejected: the last good configuration's objects. */
  private lastGood: LoadResult | undefined;
  private readonly lastGoodConfig: LastGoodConfig;
  /** Bytes of the controller's status files read (tests: another process's edit costs its journal line). */
  statusBytesRead = 0;
  /** Speaker status writers, by node. */
  private readonly speakerJournals = new Map<string, SpeakerStatusJournal>();
  /** Scans run in the background only once start() has its first snapshot. */
  private started = false;

  constructor(readonly folder: string, private readonly options: FolderStoreOptions) {
    this.cache = new FileCache({
      loader: options.loader, fs: options.fs ?? nodeFs, ...(options.logger ? { logger: options.logger } : {}),
      ...(options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}), ...(options.settleMs !== undefined ? { settleMs: options.settleMs } : {}),
      retryLater: (ms) => this.retryLater(ms),
    });
    this.watch = new FolderWatch(folder, {
      ...(options.logger ? { logger: options.logger } : {}), ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
      rescanMs: options.rescanMs ?? 30_000, onChange: () => this.scheduleScan(),
      scanDone: async () => { while (this.scanning) await this.scanning; },
    });
    this.lastGoodConfig = new LastGoodConfig(folder, { loader: options.loader, ...(options.logger ? { logger: options.logger } : {}) });
    this.statusWriter = new ControllerStatusWriter(folder, {
      ...(options.statusCompactAfterMs !== undefined ? { compactAfterMs: options.statusCompactAfterMs } : {}),
      onCompact: (write) => this.ownWrite(write),
    });
  }

  /** Files that exist but cannot be read right now (their last contents stay in force). */
  unreadableFiles(): ReadonlyMap<string, string> {
    return this.cache.unreadable;
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
    for (let wait = 50; this.cache.unreadable.size > 0 && !this.closed; wait = Math.min(wait * 2, 5000)) {
      this.options.logger?.error({ files: this.cache.unreadable.size, first: [...this.cache.unreadable].slice(0, 5).map(([f, c]) => `${f}: ${c}`) }, 'files exist but cannot be read; waiting for them before the first snapshot');
      await new Promise((r) => setTimeout(r, wait));
      this.watch.takeDirty();
      this.watch.mark(this.cache.unreadable.keys());
      first = await this.read();
    }
    let fallback = false;
    if ('rejected' in first) {
      // A restart never loses a working configuration: start from the last accepted one, and
      // report the rejected files exactly as a running daemon would (they stay rejected until fixed).
      const rejected = first.rejected;
      this.lastGood = await this.lastGoodConfig.read();
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
    const pendingConfig = fallback ? [...this.cache.entries].filter(([, e]) => e.configRelevant).map(([f]) => f) : [];
    this.accept(snapshot, first.fingerprint, first.fileSignatures);
    for (const f of pendingConfig) this.cache.changed.add(f);
    if (fallback) this.lastFingerprint = '';
    this.started = true;
    await mkdir(stateDir(this.folder), { recursive: true });
    const stale = await removeStaleTemps(this.folder);
    if (stale.length > 0) this.options.logger?.info({ files: stale }, 'removed temp files left by a writer that was killed');
    if (snapshot.status.damaged !== undefined) this.options.logger?.error({ folder: this.folder, damaged: snapshot.status.damaged }, 'the controller status (assigned IPs) is damaged');
    this.watch.watchDir(stateDir(this.folder));
    this.watch.sync(this.watch.knownDirs);
    // A change made after the first read but before the watchers were up (the controller's first
    // status write, typically) raised no event: look once more now (no news when nothing changed).
    this.scheduleScan();
    this.watch.scheduleRescan();
    return snapshot;
  }

  current(): Snapshot | undefined {
    return this.last;
  }

  /** Re-reads the folder now (tests, and callers that just wrote a file). */
  async refresh(): Promise<void> {
    this.watch.markAll();
    this.scheduleScan();
    while (this.scanning) await this.scanning;
  }

  async writeControllerStatus(s: ControllerStatus, changed?: ReadonlySet<string>): Promise<void> {
    this.services.noteOwnWrite(changed);
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
    this.statusWritesStarted++;
    try {
      const status = await write();
      this.ownStatus = { status, signature: await this.statusSignature() };
    } finally {
      this.statusWrites--;
    }
    // A scan during the write took the files for unchanged: fold our status in now.
    this.scheduleScan();
  }

  /** Whole at first, then (for writes that carry their changes) a journal line per write. */
  writeSpeakerStatus(w: SpeakerStatusWrite): Promise<void> {
    const node = 'changes' in w ? w.changes.node : w.node;
    let j = this.speakerJournals.get(node);
    if (!j) this.speakerJournals.set(node, (j = new SpeakerStatusJournal(this.folder, node)));
    return j.write(w);
  }

  /** The speaker status journals (tests: what an edit writes). */
  speakerJournal(node: string): SpeakerStatusJournal | undefined {
    return this.speakerJournals.get(node);
  }

  readSpeakerStatuses(): Promise<SpeakerStatus[]> {
    return readSpeakerStatuses(this.folder);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watch.close();
    clearTimeout(this.retryTimer);
    while (this.scanning) await this.scanning;
    await this.lastGoodConfig.flush();
    await this.statusWriter.flush();
    this.statusWriter.close();
    for (const j of this.speakerJournals.values()) await j.flush();
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
        // The paths the watcher named are marked again (refreshCache) and read once more in a
        // second: a change must never wait for the next event or the safety re-scan.
        this.options.logger?.error({ err: e, folder: this.folder }, 'reading the folder failed; trying again in a second');
        this.retryLater(1000);
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
    for (const f of this.cache.changed) {
      const e = this.cache.get(f);
      if (e) this.snapshotFiles.set(f, e); else this.snapshotFiles.delete(f);
    }
    this.cache.changed.clear();
    this.lastFileSignatures = fileSignatures;
    this.lastFingerprint = fingerprint;
    this.listener?.snapshot(s);
  }

  /** Re-reads the unreadable and unsettled files (and whatever is marked) a little later. */
  private retryLater(ms: number): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.watch.mark(this.cache.retries());
      this.scheduleScan();
    }, ms);
    this.retryTimer.unref();
  }

  /** Brings the cache up to date: every file after a full listing, else only the paths the watcher named. */
  private async refreshCache(): Promise<void> {
    const dirty = this.watch.takeDirty();
    try {
      await this.refreshDirty(dirty);
    } catch (e) {
      if (dirty === 'all') this.watch.markAll(); else this.watch.mark(dirty);
      throw e;
    }
  }

  private async refreshDirty(dirty: Set<string> | 'all'): Promise<void> {
    if (dirty === 'all') return this.refreshAll();
    for (const f of dirty) {
      const rel = path.relative(this.folder, f);
      if (rel.split(path.sep).some((part) => part.startsWith('.'))) continue;
      let isDir: boolean;
      try {
        isDir = (await (this.options.fs ?? nodeFs).stat(f)).isDirectory();
      } catch (e) {
        if (gone.has(errCode(e))) this.cache.forget(f); else this.cache.markUnreadable(f, errCode(e));
        continue;
      }
      if (isDir) return this.refreshAll(); // a folder appeared or moved: list everything
      if (isYamlFile(f)) await this.cache.load(f);
    }
  }

  private async refreshAll(): Promise<void> {
    const { files, dirs } = await listFiles(this.folder);
    this.watch.knownDirs = dirs;
    if (this.watch.started || this.listener !== undefined) this.watch.sync(dirs);
    const present = new Set(files);
    for (const f of [...this.cache.entries.keys()]) if (!present.has(f)) this.cache.forget(f);
    // Reading goes on while the parser thread works on the files read before (their replies come
    // back between the reads' turns of the event loop).
    const parses: Promise<unknown>[] = [];
    await eachLimited(files, this.options.readConcurrency ?? 64, async (f) => {
      const r = await this.cache.read(f);
      if ('parse' in r) parses.push(r.parse());
    });
    await Promise.all(parses);
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

  /**
   * The controller status the files hold. `from` and `changed`, when the status follows `from`
   * by journal lines alone: the Services those lines set or released (`from.services` is then
   * updated in place: a status is read while its snapshot is the newest).
   */
  private async readStatus(signature: string): Promise<{ status: ControllerStatus; from?: ControllerStatus; changed?: ReadonlySet<string> }> {
    if (this.ownStatus?.signature === signature) return { status: this.ownStatus.status };
    if (this.parsedStatus?.signature === signature) return { status: this.parsedStatus.status };
    const appended = await this.readAppended(signature).catch(() => undefined);
    if (appended) return appended;
    // The journal before the base (see status-file.ts, readControllerStatus).
    const journal = await readWithIno(path.join(stateDir(this.folder), controllerJournalFile));
    let text = '';
    let status: ControllerStatus | undefined;
    try {
      text = await readFile(path.join(stateDir(this.folder), controllerStatusFile), 'utf8');
    } catch (e) {
      // none yet is an empty status; one that exists but cannot be read is a damaged one
      if (errCode(e) !== 'ENOENT') status = { ...emptyControllerStatus, damaged: `cannot read ${controllerStatusFile}: ${errCode(e)}` };
    }
    this.statusBytesRead += text.length + (journal?.text.length ?? 0);
    status ??= parseControllerStatus(text, journal?.text ?? '');
    const base = signature.split('|')[0] ?? 'none';
    const token = baseToken(text);
    // Kept up to date from the journal's next lines when the journal belongs to this base.
    const follows = status.damaged === undefined && token !== undefined && journal !== undefined && journalHead(journal.text) === token;
    const target: JournalTarget | undefined = follows
      ? { services: status.services, pools: status.pools, events: status.events, ...(status.updated !== undefined ? { updated: status.updated } : {}) }
      : undefined;
    if (target && status.services === emptyControllerStatus.services) throw new Error('unreachable: the empty status is shared');
    this.parsedStatus = {
      signature, status, base, offset: journal ? Buffer.byteLength(journal.text.slice(0, journal.text.lastIndexOf('\n') + 1)) : 0,
      ...(journal ? { journalIno: journal.ino } : {}), ...(target ? { target } : {}),
    };
    return { status };
  }

  /** The status after the lines the journal appended since it was last read (undefined: read it whole). */
  private async readAppended(signature: string): Promise<{ status: ControllerStatus; from: ControllerStatus; changed: ReadonlySet<string> } | undefined> {
    const p = this.parsedStatus;
    const [base, journal = 'none'] = signature.split('|');
    if (!p?.target || p.base !== base || journal === 'none' || Number(journal.split(':')[0]) !== p.journalIno) return undefined;
    const fh = await open(path.join(stateDir(this.folder), controllerJournalFile), 'r');
    try {
      const st = await fh.stat();
      if (st.ino !== p.journalIno || st.size < p.offset) return undefined; // replaced or cut: read it whole
      const buf = Buffer.alloc(st.size - p.offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, p.offset);
      const end = bytesRead > 0 ? buf.lastIndexOf(10, bytesRead - 1) + 1 : 0; // whole lines only: a line being appended waits
      this.statusBytesRead += bytesRead;
      const changed = new Set<string>();
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) applyJournalLine(p.target, line, changed);
      const t = p.target;
      const status: ControllerStatus = { services: t.services, pools: t.pools, events: t.events, ...(t.updated !== undefined ? { updated: t.updated } : {}) };
      this.parsedStatus = { ...p, signature, status, offset: p.offset + end };
      return { status, from: p.status, changed };
    } finally {
      await fh.close();
    }
  }

  private async read(): Promise<
    { fingerprint: string; fileSignatures: string; snapshot?: Snapshot } | { fingerprint: string; rejected: Diagnostic[] } | { fingerprint: string; ownStatus: ControllerStatus }
  > {
    await this.refreshCache();
    const fileSignatures = String(this.cache.version);
    // While we write the status ourselves it is as we last finished writing it (ownStatus); the
    // write's end looks again. So is it when a write started while the files were looked at (what
    // was seen is half of it). The signature of an older read instead (as before) differed from
    // ownStatus once a write had finished in between: the half-written files were taken for another
    // process's change, read whole and every Service merged again (~0.6-2 s at 50,000, once or twice
    // per 100 edits in the bench's profiles).
    const started = this.statusWritesStarted;
    const ours = (): string | undefined => this.ownStatus?.signature ?? this.readStatusSig;
    let statusSig = this.statusWrites > 0 ? ours() ?? await this.statusSignature() : await this.statusSignature();
    if (this.statusWritesStarted !== started) statusSig = ours() ?? statusSig;
    this.readStatusSig = statusSig;
    const fingerprint = `${fileSignatures}|${statusSig}`;
    if (fingerprint === this.lastFingerprint) return { fingerprint, fileSignatures };
    if (this.ownStatus?.signature === statusSig) {
      // Our own write is no news, but the Services merged with it must read as it says before a
      // file change is taken (else that change would look like a status change: a whole rebuild).
      if (this.last && this.last.status !== this.ownStatus.status) this.last = this.services.withOwnStatus(this.last, this.ownStatus.status);
      if (fileSignatures === this.lastFileSignatures) return { fingerprint, ownStatus: this.ownStatus.status };
    }
    const read = await this.readStatus(statusSig);
    const status = read.status;
    const last = this.last;
    const changed = this.cache.changed;
    const servicesOnly = [...changed].every((f) => holdsOnlyServices(this.cache.get(f)) && holdsOnlyServices(this.snapshotFiles.get(f)));
    // Only Service files changed, and the status is the one the last snapshot holds or follows it
    // by journal lines (another process's writes: the controller, in split mode): by delta.
    const statusFollows = status === last?.status ? undefined : read.from !== undefined && read.from === last?.status ? read.changed : null;
    if (last && servicesOnly && statusFollows !== null && !this.services.duplicatesIn(changed, this.cache.entries)) {
      return { fingerprint, fileSignatures, snapshot: this.services.next(last, changed, this.cache.entries, this.snapshotFiles, statusFollows && { status, keys: statusFollows }) };
    }

    const configSignatures: string[] = [];
    const objects: LoadedObject[] = [];
    const diagnostics: Diagnostic[] = [];
    for (const f of [...this.cache.entries.keys()].sort()) {
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
    if (!this.lastGood) this.lastGoodConfig.keep(configKey, this.cache.entries);
    const whole = this.services.collect(objects, status, diagnostics);
    if (diagnostics.some((d) => d.severity === 'error')) return { fingerprint, rejected: diagnostics };
    const sameWorld = last !== undefined && servicesOnly && resolved.config === last.config;
    const snapshot = this.services.whole(whole, { config: resolved.config, objects, diagnostics: diagnostics.filter((d) => d.severity !== 'error'), status }, last, sameWorld);
    return { fingerprint, fileSignatures, snapshot };
  }
}

/** A file's text and inode (read through one handle, so both are of the same file); undefined when absent. */
async function readWithIno(file: string): Promise<{ text: string; ino: number } | undefined> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = await fh.stat();
    return { text: await fh.readFile('utf8'), ino: st.ino };
  } finally {
    await fh.close();
  }
}
