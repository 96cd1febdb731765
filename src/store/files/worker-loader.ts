// api/'s loader and config/'s resolver on a worker thread: a large or hostile file (megabytes,
// 10,000 pools, deep nesting) is parsed, validated and resolved there while the event loop keeps
// BGP keepalives and BFD packets going.
// Files are bounded first (size before reading, nesting before parsing), with an error naming the
// file and the limit. One worker, files in turn; the main thread keeps only the objects, and
// re-derives positions from the text when an error about an object is reported. The resolved Config
// is plain data (selectors compiled to requirement lists, addresses as bigints), so it crosses
// intact; it is frozen again here, as resolveConfig leaves it.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../../api/diagnostics.ts';
import type { SourcePosition } from '../../api/diagnostics.ts';
import { fingerprint } from '../../api/fingerprint.ts';
import type { FieldPath, LoadedObject } from '../../api/loaded.ts';
import { loadText } from '../../api/load.ts';
import { deepFreeze } from '../../config/resolve.ts';
import type { Config } from '../../config/types.ts';
import { defaultMaxDepth, defaultMaxFileBytes, sizeProblem } from './bounds.ts';
import type { FileLoader, FolderResolver, LoadResult } from './folder-store.ts';
import { restorePositions } from './resolve-positions.ts';
import { appliedHeapFlags, reapplyHeapFlags, retuneAfter } from '../../daemon/heap-tuning.ts';

interface Reply { readonly id: number; readonly objects: { object: LoadedObject['object']; source?: LoadedObject['source'] }[]; readonly diagnostics: Diagnostic[] }
interface ResolveReply { readonly id: number; readonly config?: Config; readonly diagnostics: Diagnostic[]; readonly asks: [number, FieldPath][] }

export interface WorkerLoaderOptions {
  readonly maxFileBytes?: number;
  readonly maxDepth?: number;
  /**
   * Parser threads (default 1). Batches of files are handed to them in turn; those beyond the
   * first exit once idle for a few seconds (each holds a heap); the first also resolves the
   * Config. On the shared 2-core test machine a second one made a 10,000-file start slower.
   */
  readonly parsers?: number;
  /**
   * Where positions come from when a problem is reported: 'text' keeps each file's text (the
   * default); 'file' reads the file again then (the daemon: at 50,000 Services the kept texts,
   * with a closure and two contexts per object, were ~20 MiB). A file changed since it was loaded
   * gives no positions rather than wrong ones (its length and fingerprint are kept to tell).
   */
  readonly positions?: 'text' | 'file';
  /**
   * Once idle, a parser that has read more than this many files since it started is replaced by a
   * fresh one (default 2,000): V8 keeps the heap a big read grew (at 50,000 files, ~90 MiB more
   * RSS than a fresh worker), and the replacement is started at once so that the next edit finds
   * it ready.
   */
  readonly recycleAfterFiles?: number;
}

/** One file's objects' way back to their positions. */
interface Origin { readonly file: string; readonly text: string | undefined; readonly length: number; readonly hash: number }
interface Positioned extends LoadedObject { readonly origin: Origin; readonly index: number }

/** The files parsed again for positions in this turn of the event loop (one resolve's diagnostics), then dropped. */
const reparsed = new Map<Origin, LoadedObject[]>();
function objectsAgain(o: Origin): LoadedObject[] {
  let again = reparsed.get(o);
  if (!again) {
    let text = o.text;
    if (text === undefined) {
      try { text = readFileSync(o.file, 'utf8'); } catch { text = undefined; }
      if (text !== undefined && (text.length !== o.length || fingerprint(text) !== o.hash)) text = undefined;
    }
    again = text === undefined ? [] : loadText(text, o.file).objects;
    if (reparsed.size === 0) setImmediate(() => reparsed.clear());
    reparsed.set(o, again);
  }
  return again;
}

const noDiagnostics: readonly never[] = Object.freeze([]);

/** Shared by every object (no closure per object): `this` is the object asked. */
function positionOf(this: Positioned, path: FieldPath): SourcePosition | undefined {
  return objectsAgain(this.origin)[this.index]?.positionOf(path);
}

interface Pending { readonly slot: number; resolve(r: unknown): void; reject(e: Error): void }

export class WorkerLoader {
  private readonly workers: (Worker | undefined)[] = [];
  private next = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, Pending>();
  private idle: NodeJS.Timeout | undefined;
  /** Files parsed by each worker since it started. */
  private readonly parsed: number[] = [];
  private closed = false;
  /** How many times the first parser was replaced by a fresh one (recycleAfterFiles). */
  recycled = 0;

  constructor(private readonly options: WorkerLoaderOptions = {}) {}

  /** The FileLoader a FolderStore takes. */
  readonly load: FileLoader = async (file: string, text: string): Promise<LoadResult> => {
    const tooBig = sizeProblem(file, Buffer.byteLength(text), this.options.maxFileBytes ?? defaultMaxFileBytes);
    if (tooBig) return { objects: [], diagnostics: [tooBig] };
    const reply = await this.parse(file, text);
    const keep = this.options.positions !== 'file';
    const origin: Origin = { file, text: keep ? text : undefined, length: keep ? 0 : text.length, hash: keep ? 0 : fingerprint(text) };
    const objects = reply.objects.map((o, index): Positioned => ({
      object: o.object,
      // The main thread's copy of the path, not one more per object from the worker.
      ...(o.source ? { source: o.source.file === file ? { file, document: o.source.document } : o.source } : {}),
      positionOf, origin, index,
    }));
    // Most files have no problem: one shared empty list, not one per file (32 bytes each).
    return { objects, diagnostics: reply.diagnostics.length === 0 ? noDiagnostics : reply.diagnostics };
  };

  /** The resolver a FolderStore takes: config/'s resolveConfig, on the worker. */
  readonly resolve: FolderResolver = async (objects, options) => {
    const reply = await this.call<ResolveReply>({ kind: 'resolve', objects: objects.map((o) => ({ object: o.object, ...(o.source ? { source: o.source } : {}) })), options });
    const diagnostics = reply.asks.length > 0 ? restorePositions(reply.diagnostics, reply.asks, objects) : reply.diagnostics;
    return { ...(reply.config ? { config: deepFreeze(reply.config) } : {}), diagnostics };
  };

  /**
   * Files asked for in one turn of the event loop go to the worker in one message, and come back
   * in one: at 50,000 files the per-message cost (a structured clone, a port event on each side)
   * was a tenth of the worker's time.
   */
  private batch: { file: string; text: string; resolve(r: Reply): void; reject(e: Error): void }[] = [];

  private parse(file: string, text: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(() => this.sendBatch());
      this.batch.push({ file, text, resolve, reject });
    });
  }

  private sendBatch(): void {
    const batch = this.batch;
    this.batch = [];
    this.call<{ replies: Reply[] }>({ kind: 'parseMany', files: batch.map((b) => ({ file: b.file, text: b.text })), maxDepth: this.options.maxDepth ?? defaultMaxDepth })
      .then((r) => batch.forEach((b, i) => b.resolve(r.replies[i]!)), (e: Error) => { for (const b of batch) b.reject(e); });
  }

  private start(slot: number): Worker {
    const ts = import.meta.url.endsWith('.ts');
    const url = new URL(`./parse-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
    // Sources run through tsx (bin/ironlb.js, tests): the worker registers it before loading its module.
    // A tuned daemon's parser: its young generation capped at 2 MiB semi-spaces (its own modules
    // would grow it to 8), and the flags set again first thing (starting an isolate puts
    // semi-space-growth-factor back to 2: see daemon/heap-tuning.ts).
    const heapFlags = appliedHeapFlags();
    const options = heapFlags.length > 0 ? { resourceLimits: { maxYoungGenerationSizeMb: 6 } } : {};
    // (eval'd code: CommonJS in the daemon, a module under --input-type=module; import() works in both)
    const tuned = (then: string): string => `import('node:v8').then((v8) => { for (const f of ${JSON.stringify(heapFlags)}) v8.setFlagsFromString(f); }).then(${then});`;
    const viaTsx = `async () => { (await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})).register(); await import(${JSON.stringify(url.href)}); }`;
    const w = ts
      ? new Worker(heapFlags.length > 0 ? tuned(viaTsx) : `(${viaTsx})();`, { eval: true, ...options })
      : heapFlags.length > 0 ? new Worker(tuned(`() => import(${JSON.stringify(url.href)})`), { eval: true, ...options }) : new Worker(url);
    retuneAfter(w);
    w.unref();
    this.parsed[slot] = 0;
    w.on('message', (r: { id: number }) => {
      // Again with each reply: under tsx the worker starts one more isolate of its own (module hooks).
      reapplyHeapFlags(heapFlags);
      const p = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      p?.resolve(r);
    });
    const fail = (e: Error): void => {
      if (this.workers[slot] !== w) return;
      this.workers[slot] = undefined;
      for (const [id, p] of this.waiting) if (p.slot === slot) { this.waiting.delete(id); p.reject(e); }
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the parser worker exited (${code})`)));
    return w;
  }

  private call<R>(job: { readonly kind: string; readonly [k: string]: unknown }): Promise<R> {
    const n = Math.max(1, this.options.parsers ?? 1);
    const slot = job.kind === 'parseMany' ? this.next++ % n : 0;
    const w = (this.workers[slot] ??= this.start(slot));
    if (job.kind === 'parseMany') this.parsed[slot] = (this.parsed[slot] ?? 0) + (job.files as readonly unknown[]).length;
    const id = this.nextId++;
    clearTimeout(this.idle);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { slot, resolve, reject });
      w.ref(); // keep the process alive while a file is being parsed
      w.postMessage({ ...job, id });
    }).finally(() => {
      if (this.waiting.size > 0) return;
      for (const x of this.workers) x?.unref();
      clearTimeout(this.idle);
      this.idle = setTimeout(() => {
        for (const x of this.workers.splice(1)) void x?.terminate();
        this.parsed.length = Math.min(this.parsed.length, 1);
        const first = this.workers[0];
        if (first && !this.closed && (this.parsed[0] ?? 0) > (this.options.recycleAfterFiles ?? 2000) && this.waiting.size === 0) {
          void first.terminate();
          this.workers[0] = this.start(0);
          this.recycled++;
        }
      }, 3000);
      this.idle.unref();
    }) as Promise<R>;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idle);
    const ws = this.workers.splice(0);
    await Promise.all(ws.map((w) => (w ? w.terminate() : Promise.resolve(0))));
  }
}
