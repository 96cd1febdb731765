// What the folder store knows of each file: the objects parsed from it, keyed by the file's stat
// (inode, size, mtime), so that a file is parsed again only when it changed.
//
// A file that cannot be read (EMFILE, EACCES, EIO...) is never taken for a deleted one: a failed
// read is retried, and a file still unreadable keeps what was last read from it (and is reported)
// until it can be read again. A known file that turns empty or stops validating (an editor
// truncating it and then writing it) is held unchanged for `settleMs`: only if it stays that way
// is the change taken (an empty file then really empties it; a broken one is rejected).
import { readFileSync, statSync } from 'node:fs';
import type { Diagnostic } from '../../api/diagnostics.ts';
import type { LoadedObject } from '../../api/loaded.ts';
import { defaultMaxFileBytes, sizeProblem } from './bounds.ts';

export interface LoadResult {
  readonly objects: readonly LoadedObject[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Parses and validates the text of one file (api/'s loader in production). */
export type FileLoader = (file: string, text: string) => LoadResult | Promise<LoadResult>;

export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
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
export const nodeFs: StoreFs = { readFile: (f) => readFileSync(f, 'utf8'), stat: (f) => statSync(f) };

/** Errors that say nothing about whether the file exists: retry, never treat as deleted. */
export const gone = new Set(['ENOENT', 'ENOTDIR']);
export const errCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

class UnreadableError extends Error {
  constructor(readonly file: string, readonly code: string) { super(`${file}: ${code}`); }
}

export interface CachedFile {
  readonly signature: string;
  readonly result: LoadResult;
  /** Holds something other than Services, EndpointSlices and Nodes (or a problem). */
  readonly configRelevant: boolean;
  /** The text of a config-relevant file: persisted as the last good configuration. */
  readonly text?: string;
}

/** Kinds that never change the resolved Config. */
export const perServiceKinds = new Set(['Service', 'EndpointSlice', 'Node']);

export const objectKey = (o: LoadedObject): string => `${o.object.kind}/${o.object.metadata?.namespace ?? ''}/${o.object.metadata?.name ?? ''}`;

/** A stat's identity: a file whose signature is unchanged is not read again. */
export const statSignature = (st: StoreStat): string => `${st.ino}:${st.size}:${st.mtimeMs}`;

export interface FileCacheOptions {
  readonly loader: FileLoader;
  readonly fs: StoreFs;
  readonly logger?: StoreLogger;
  readonly maxFileBytes?: number;
  readonly settleMs?: number;
  /** Asks for the unreadable and unsettled files to be read again in `ms`. */
  readonly retryLater: (ms: number) => void;
}

export class FileCache {
  readonly entries = new Map<string, CachedFile>();
  /** Files that exist but could not be read, with the error: what was last read from them stays. */
  readonly unreadable = new Map<string, string>();
  /** Known files seen empty or invalid, held unchanged since `since` (see settleMs). */
  private readonly unsettled = new Map<string, { signature: string; since: number }>();
  /** Bumped whenever a file is added, changed or removed: the cheap identity of the folder's contents. */
  version = 0;
  /** Files added, changed or removed since the owner last cleared this set. */
  readonly changed = new Set<string>();

  constructor(private readonly o: FileCacheOptions) {}

  get(file: string): CachedFile | undefined {
    return this.entries.get(file);
  }

  /** The files to read again when retryLater fires. */
  retries(): string[] {
    return [...this.unreadable.keys(), ...this.unsettled.keys()];
  }

  /** The file is gone: it leaves the cache (its Services are deleted). */
  forget(file: string): void {
    this.unreadable.delete(file);
    this.unsettled.delete(file);
    if (this.entries.delete(file)) { this.version++; this.changed.add(file); }
  }

  private set(file: string, entry: CachedFile): CachedFile {
    this.entries.set(file, entry);
    this.version++;
    this.changed.add(file);
    return entry;
  }

  /** Reads a file, retrying errors that do not mean "gone"; throws UnreadableError when they persist. */
  private async readText(file: string): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.o.fs.readFile(file);
      } catch (e) {
        const code = errCode(e);
        if (gone.has(code)) return undefined;
        if (code === 'EISDIR') return undefined;
        if (attempt >= 3) throw new UnreadableError(file, code);
        await new Promise((r) => setTimeout(r, 10 * 4 ** attempt));
      }
    }
  }

  markUnreadable(file: string, code: string): CachedFile | undefined {
    if (this.unreadable.get(file) !== code) {
      this.o.logger?.warn({ file, code }, 'file exists but cannot be read; what was last read from it stays in force (an unreadable file is never taken as deleted)');
    }
    this.unreadable.set(file, code);
    this.o.retryLater(1000);
    return this.entries.get(file);
  }

  /** Empty, invalid, or lost objects the file held: what a file half-way through a rewrite looks like. */
  private looksTransient(before: LoadResult, text: string, after: LoadResult): boolean {
    if (text.trim() === '') return before.objects.length > 0;
    if (after.diagnostics.some((d) => d.severity === 'error')) return true;
    const keys = new Set(after.objects.map((o) => objectKey(o)));
    return before.objects.some((o) => !keys.has(objectKey(o)));
  }

  /**
   * Reads one file if its stat changed; undefined when it is gone (then it leaves the cache). A
   * file that cannot be read keeps its cached contents; a known file turned empty or invalid is
   * held unchanged until it has stayed so for settleMs.
   */
  async load(file: string): Promise<CachedFile | undefined> {
    const r = await this.read(file);
    return 'parse' in r ? r.parse() : r.entry;
  }

  /**
   * The reading half of load(): the file's stat and text. When the text must be parsed, `parse`
   * finishes the job: a folder is read while the parser thread works on what was read before.
   */
  async read(file: string): Promise<{ entry: CachedFile | undefined } | { parse: () => Promise<CachedFile | undefined> }> {
    let st;
    try {
      st = await this.o.fs.stat(file);
    } catch (e) {
      if (!gone.has(errCode(e))) return { entry: this.markUnreadable(file, errCode(e)) };
      this.forget(file);
      return { entry: undefined };
    }
    if (!st.isFile()) return { entry: undefined };
    const signature = statSignature(st);
    const cached = this.entries.get(file);
    if (cached?.signature === signature && !this.unreadable.has(file)) return { entry: cached };
    const tooBig = sizeProblem(file, st.size, this.o.maxFileBytes ?? defaultMaxFileBytes);
    // Not even read: the configuration is rejected naming the file and the limit.
    if (tooBig) return { entry: this.set(file, { signature, result: { objects: [], diagnostics: [tooBig] }, configRelevant: true }) };
    let text: string | undefined;
    try {
      text = await this.readText(file);
    } catch (e) {
      if (e instanceof UnreadableError) return { entry: this.markUnreadable(file, e.code) };
      throw e;
    }
    if (this.unreadable.delete(file)) this.o.logger?.info({ file }, 'file readable again');
    if (text === undefined) {
      this.forget(file);
      return { entry: undefined };
    }
    const parsing = this.o.loader(file, text);
    return { parse: () => this.parsed(file, signature, cached, text, parsing) };
  }

  private async parsed(file: string, signature: string, cached: CachedFile | undefined, text: string, parsing: LoadResult | Promise<LoadResult>): Promise<CachedFile | undefined> {
    const result = await parsing;
    if (cached && this.looksTransient(cached.result, text, result)) {
      const u = this.unsettled.get(file);
      const now = Date.now();
      const settle = this.o.settleMs ?? 500;
      if (u?.signature !== signature) this.unsettled.set(file, { signature, since: now });
      if (u?.signature !== signature || now - u.since < settle) {
        this.o.retryLater(settle);
        return cached;
      }
    }
    this.unsettled.delete(file);
    const configRelevant = result.diagnostics.length > 0 || result.objects.some((o) => !perServiceKinds.has(o.object.kind));
    return this.set(file, { signature, result, configRelevant, ...(configRelevant ? { text } : {}) });
  }
}
