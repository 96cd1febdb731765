// A folder of the user's YAML as a Store. Every change is picked up at once (fs.watch, debounced a
// few milliseconds) and again by a slow safety re-scan (watchers miss events on some filesystems).
// Only files whose stat changed are parsed again, so a folder of thousands of Services stays
// cheap to re-read. A change that makes the configuration invalid is rejected with the
// validator's diagnostics and the last good snapshot stays in force: nothing is withdrawn.
import { type FSWatcher, watch } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Diagnostic } from '../../api/diagnostics.ts';
import type { LoadedObject } from '../../api/loaded.ts';
import type { EndpointSlice, Namespace, Node, Service } from '../../api/resources.ts';
import type { Config } from '../../config/types.ts';
import type { ControllerStatus, Snapshot, SpeakerStatus, Store, StoreListener } from '../store.ts';
import { serviceKey, withIngress, withStatus } from '../store.ts';
import {
  controllerStatusFile, parseControllerStatus, readSpeakerStatuses, stateDir, stateDirName, writeControllerStatus, writeSpeakerStatus,
} from './status-file.ts';

export interface LoadResult {
  readonly objects: readonly LoadedObject[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Parses and validates the text of one file (api/'s loader in production). */
export type FileLoader = (file: string, text: string) => LoadResult | Promise<LoadResult>;
/** Resolves all objects into one Config (config/'s resolveConfig in production). */
export type ConfigResolver = (objects: readonly LoadedObject[], options: { namespace?: string }) => { config?: Config; diagnostics: Diagnostic[] };

export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface FolderStoreOptions {
  readonly loader: FileLoader;
  readonly resolver: ConfigResolver;
  /** The MetalLB namespace, when not inferred. */
  readonly namespace?: string;
  readonly debounceMs?: number;
  /** Safety re-scan period; 0 disables it. */
  readonly rescanMs?: number;
  readonly logger?: StoreLogger;
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
}

/** Kinds that never change the resolved Config. */
const perServiceKinds = new Set(['Service', 'EndpointSlice', 'Node']);

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
  private ownStatus: { text: string; status: ControllerStatus; signature: string } | undefined;
  /** Bumped whenever a file is added, changed or removed: the cheap identity of the folder's contents. */
  private cacheVersion = 0;
  private dirty: Set<string> | 'all' = 'all';
  private knownDirs: string[] = [];
  private parsedStatus: { signature: string; status: ControllerStatus } | undefined;
  private lastResolved: { key: string; result: ReturnType<ConfigResolver> } | undefined;
  private lastFileSignatures = '';
  private closed = false;

  constructor(readonly folder: string, private readonly options: FolderStoreOptions) {}

  async start(listener: StoreListener): Promise<Snapshot> {
    this.listener = listener;
    const first = await this.read();
    if ('rejected' in first) throw new ConfigRejectedError(first.rejected);
    if (!('snapshot' in first) || first.snapshot === undefined) throw new Error('unreachable: first read produced no snapshot');
    const snapshot = first.snapshot;
    this.accept(snapshot, first.fingerprint, first.fileSignatures);
    await mkdir(stateDir(this.folder), { recursive: true });
    this.watchDir(stateDir(this.folder));
    this.syncWatchers(this.knownDirs);
    const every = this.options.rescanMs ?? 2000;
    if (every > 0) {
      this.rescan = setInterval(() => { this.dirty = 'all'; this.scheduleScan(); }, every);
      this.rescan.unref();
    }
    return snapshot;
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

  async writeControllerStatus(s: ControllerStatus): Promise<void> {
    const text = await writeControllerStatus(this.folder, s);
    this.ownStatus = { text, status: s, signature: await this.statusSignature() };
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
    clearInterval(this.rescan);
    while (this.scanning) await this.scanning;
  }

  private onFsEvent(name: string): void {
    const parts = name.split(path.sep);
    // Our own temp files and the speakers' status files change nothing a snapshot holds.
    if (parts[0] === stateDirName && parts[1] !== controllerStatusFile) return;
    if (name === '') this.dirty = 'all';
    else if (parts[0] !== stateDirName && this.dirty !== 'all') this.dirty.add(path.join(this.folder, name));
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.scheduleScan(), this.options.debounceMs ?? 2);
  }

  private scheduleScan(): void {
    if (this.closed) return;
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
      if (this.last) this.last = withStatus(this.last, r.ownStatus);
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
    this.lastFileSignatures = fileSignatures;
    this.lastFingerprint = fingerprint;
    this.listener?.snapshot(s);
  }

  private forget(file: string): void {
    if (this.cache.delete(file)) this.cacheVersion++;
  }

  /** Reads one file if its stat changed; undefined when it is gone (then it leaves the cache). */
  private async loadFile(file: string): Promise<CachedFile | undefined> {
    let st;
    try {
      st = await stat(file);
    } catch {
      this.forget(file);
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const signature = `${st.ino}:${st.size}:${st.mtimeMs}`;
    const cached = this.cache.get(file);
    if (cached?.signature === signature) return cached;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      this.forget(file);
      return undefined;
    }
    const result = await this.options.loader(file, text);
    const entry = { signature, result, configRelevant: result.diagnostics.length > 0 || result.objects.some((o) => !perServiceKinds.has(o.object.kind)) };
    this.cache.set(file, entry);
    this.cacheVersion++;
    return entry;
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
          isDir = (await stat(f)).isDirectory();
        } catch {
          this.forget(f);
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
    for (const f of [...this.cache.keys()]) if (!present.has(f)) this.forget(f);
    await Promise.all(files.map((f) => this.loadFile(f)));
  }

  /** The status file's identity (inode, size, mtime): cheaper than reading it to see it changed. */
  private async statusSignature(): Promise<string> {
    try {
      const st = await stat(path.join(stateDir(this.folder), controllerStatusFile));
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return 'none';
    }
  }

  private async readStatus(signature: string): Promise<ControllerStatus> {
    if (this.ownStatus?.signature === signature) return this.ownStatus.status;
    if (this.parsedStatus?.signature === signature) return this.parsedStatus.status;
    let text = '';
    try {
      text = await readFile(path.join(stateDir(this.folder), controllerStatusFile), 'utf8');
    } catch {
      // no status yet
    }
    const status = this.ownStatus?.text === text ? this.ownStatus.status : parseControllerStatus(text);
    this.parsedStatus = { signature, status };
    return status;
  }

  private async read(): Promise<
    { fingerprint: string; fileSignatures: string; snapshot?: Snapshot } | { fingerprint: string; rejected: Diagnostic[] } | { fingerprint: string; ownStatus: ControllerStatus }
  > {
    await this.refreshCache();
    const fileSignatures = String(this.cacheVersion);
    const statusSig = await this.statusSignature();
    const fingerprint = `${fileSignatures}|${statusSig}`;
    if (fingerprint === this.lastFingerprint) return { fingerprint, fileSignatures };
    if (this.ownStatus?.signature === statusSig && fileSignatures === this.lastFileSignatures) return { fingerprint, ownStatus: this.ownStatus.status };

    const configSignatures: string[] = [];
    const objects: LoadedObject[] = [];
    const diagnostics: Diagnostic[] = [];
    for (const f of [...this.cache.keys()].sort()) {
      const e = this.cache.get(f)!;
      if (e.configRelevant) configSignatures.push(`${f}@${e.signature}`);
      objects.push(...e.result.objects);
      diagnostics.push(...e.result.diagnostics);
    }
    // Services, EndpointSlices and Nodes do not change the Config: when only they changed, the
    // last resolution still holds (resolving is the costly part with thousands of Services).
    const configKey = configSignatures.join('\n');
    let resolved = this.lastResolved?.key === configKey ? this.lastResolved.result : undefined;
    if (!resolved) {
      resolved = this.options.resolver(objects.filter((o) => !perServiceKinds.has(o.object.kind)), this.options.namespace !== undefined ? { namespace: this.options.namespace } : {});
      this.lastResolved = { key: configKey, result: resolved };
    }
    diagnostics.push(...resolved.diagnostics);
    if (resolved.config === undefined || diagnostics.some((d) => d.severity === 'error')) return { fingerprint, rejected: diagnostics };

    const status = await this.readStatus(statusSig);
    const services: Service[] = [];
    const endpointSlices: EndpointSlice[] = [];
    const nodes: Node[] = [];
    const namespaces: Namespace[] = [];
    for (const lo of objects) {
      const o = lo.object;
      if (o.kind === 'Service') services.push(mergeIngress(o, status.services[serviceKey(o)]?.ips));
      else if (o.kind === 'EndpointSlice') endpointSlices.push(o);
      else if (o.kind === 'Node') nodes.push(o);
      else if (o.kind === 'Namespace') namespaces.push(o);
    }
    const snapshot: Snapshot = {
      generation: ++this.generation, config: resolved.config, objects, services, endpointSlices, nodes, namespaces,
      diagnostics: diagnostics.filter((d) => d.severity !== 'error'), status,
    };
    return { fingerprint, fileSignatures, snapshot };
  }
}
