// Which files of the folder may have changed: one fs.watch per folder names them at once (debounced
// a few milliseconds), and a slow safety re-scan (watchers miss events on some filesystems) marks
// them all. The owner reads what `takeDirty` hands it.
import { type FSWatcher, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { StoreLogger } from './file-cache.ts';
import { controllerJournalFile, controllerStatusFile, stateDir, stateDirName } from './status-file.ts';

const yamlFile = /\.(ya?ml|json)$/i;
export const isYamlFile = (f: string): boolean => yamlFile.test(f);

/** The YAML files under `dir` and the folders that hold them (hidden ones skipped). */
export async function listFiles(dir: string, dirs: string[] = []): Promise<{ files: string[]; dirs: string[] }> {
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

export interface FolderWatchOptions {
  readonly logger?: StoreLogger;
  readonly debounceMs?: number;
  /** Safety re-scan period (0: none); also spaced at least 200 times the last re-scan's CPU time apart (at most 0.5% of a core). */
  readonly rescanMs: number;
  /** Something may have changed: read what takeDirty() hands out. */
  readonly onChange: () => void;
  /** Resolves once the scan under way (if any) is over. */
  readonly scanDone: () => Promise<void>;
}

export class FolderWatch {
  /**
   * One plain (non-recursive) watcher per folder: Node's recursive watch on Linux re-walks the
   * whole tree on changes, which with thousands of files costs seconds.
   */
  private readonly watchers = new Map<string, FSWatcher>();
  private dirty: Set<string> | 'all' = 'all';
  private debounce: NodeJS.Timeout | undefined;
  private rescan: NodeJS.Timeout | undefined;
  private lastRescanMs = 0;
  private closed = false;
  /** The folders the last full listing found. */
  knownDirs: string[] = [];

  constructor(private readonly folder: string, private readonly o: FolderWatchOptions) {}

  /** The paths to read ('all': list the folder and read every file), and a fresh empty set. */
  takeDirty(): Set<string> | 'all' {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  markAll(): void {
    this.dirty = 'all';
  }

  mark(files: Iterable<string>): void {
    if (this.dirty === 'all') return;
    for (const f of files) this.dirty.add(f);
  }

  get started(): boolean {
    return this.watchers.size > 0;
  }

  watchDir(dir: string): void {
    if (this.watchers.has(dir) || this.closed) return;
    try {
      const w = watch(dir, (_event, name) => this.onFsEvent(name === null ? '' : path.relative(this.folder, path.join(dir, String(name)))));
      w.on('error', (e) => {
        this.o.logger?.warn({ err: e, dir }, 'folder watch failed; relying on re-scan');
        w.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, w);
    } catch (e) {
      this.o.logger?.warn({ err: e, dir }, 'cannot watch folder; relying on re-scan');
    }
  }

  /** Watches exactly these folders (and the state folder). */
  sync(dirs: readonly string[]): void {
    const keep = new Set([...dirs, stateDir(this.folder)]);
    for (const [d, w] of this.watchers) if (!keep.has(d)) { w.close(); this.watchers.delete(d); }
    for (const d of dirs) this.watchDir(d);
  }

  private onFsEvent(name: string): void {
    const parts = name.split(path.sep);
    // Our own temp files and the speakers' status files change nothing a snapshot holds.
    if (parts[0] === stateDirName && parts[1] !== controllerStatusFile && parts[1] !== controllerJournalFile) return;
    if (name === '') this.dirty = 'all';
    else if (parts[0] !== stateDirName && this.dirty !== 'all') this.dirty.add(path.join(this.folder, name));
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.o.onChange(), this.o.debounceMs ?? 2);
  }

  scheduleRescan(): void {
    const every = this.o.rescanMs;
    if (every <= 0 || this.closed) return;
    this.rescan = setTimeout(() => {
      // Its CPU, not its wall time: a re-scan yields every few milliseconds, and on a loaded
      // machine the wall time is mostly waiting (50,000 files: ~0.4 s of CPU in 5–12 s).
      const c0 = process.cpuUsage();
      this.dirty = 'all';
      this.o.onChange();
      void (async () => {
        await this.o.scanDone();
        const c = process.cpuUsage(c0);
        this.lastRescanMs = (c.user + c.system) / 1000;
        this.scheduleRescan();
      })();
    }, Math.max(every, 200 * this.lastRescanMs));
    this.rescan.unref();
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    clearTimeout(this.debounce);
    clearTimeout(this.rescan);
  }
}
