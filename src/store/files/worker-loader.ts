// api/'s loader and config/'s resolver on a worker thread: a large or hostile file (megabytes,
// 10,000 pools, deep nesting) is parsed, validated and resolved there while the event loop keeps
// BGP keepalives and BFD packets going.
// Files are bounded first (size before reading, nesting before parsing), with an error naming the
// file and the limit. One worker, files in turn; the main thread keeps only the objects, and
// re-derives positions from the text when an error about an object is reported. The resolved Config
// is plain data (selectors compiled to requirement lists, addresses as bigints), so it crosses
// intact; it is frozen again here, as resolveConfig leaves it.
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../../api/diagnostics.ts';
import type { LoadedObject } from '../../api/loaded.ts';
import type { FieldPath } from '../../api/loaded.ts';
import { loadText } from '../../api/load.ts';
import { deepFreeze } from '../../config/resolve.ts';
import type { Config } from '../../config/types.ts';
import { defaultMaxDepth, defaultMaxFileBytes, sizeProblem } from './bounds.ts';
import type { FileLoader, FolderResolver, LoadResult } from './folder-store.ts';
import { restorePositions } from './resolve-positions.ts';

interface Reply { readonly id: number; readonly objects: { object: LoadedObject['object']; source?: LoadedObject['source'] }[]; readonly diagnostics: Diagnostic[] }
interface ResolveReply { readonly id: number; readonly config?: Config; readonly diagnostics: Diagnostic[]; readonly asks: [number, FieldPath][] }

export interface WorkerLoaderOptions {
  readonly maxFileBytes?: number;
  readonly maxDepth?: number;
}

export class WorkerLoader {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly options: WorkerLoaderOptions = {}) {}

  /** The FileLoader a FolderStore takes. */
  readonly load: FileLoader = async (file: string, text: string): Promise<LoadResult> => {
    const tooBig = sizeProblem(file, Buffer.byteLength(text), this.options.maxFileBytes ?? defaultMaxFileBytes);
    if (tooBig) return { objects: [], diagnostics: [tooBig] };
    const reply = await this.call<Reply>({ kind: 'parse', file, text, maxDepth: this.options.maxDepth ?? defaultMaxDepth });
    let again: LoadedObject[] | undefined;
    const objects = reply.objects.map((o, i): LoadedObject => ({
      object: o.object,
      ...(o.source ? { source: o.source } : {}),
      positionOf: (path) => (again ??= loadText(text, file).objects)[i]?.positionOf(path),
    }));
    return { objects, diagnostics: reply.diagnostics };
  };

  /** The resolver a FolderStore takes: config/'s resolveConfig, on the worker. */
  readonly resolve: FolderResolver = async (objects, options) => {
    const reply = await this.call<ResolveReply>({ kind: 'resolve', objects: objects.map((o) => ({ object: o.object, ...(o.source ? { source: o.source } : {}) })), options });
    const diagnostics = reply.asks.length > 0 ? restorePositions(reply.diagnostics, reply.asks, objects) : reply.diagnostics;
    return { ...(reply.config ? { config: deepFreeze(reply.config) } : {}), diagnostics };
  };

  private start(): Worker {
    const ts = import.meta.url.endsWith('.ts');
    const url = new URL(`./parse-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
    // Sources run through tsx (bin/ironlb.js, tests): the worker registers it before loading its module.
    const w = ts
      ? new Worker(`(async () => { (await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})).register(); await import(${JSON.stringify(url.href)}); })();`, { eval: true })
      : new Worker(url);
    w.unref();
    w.on('message', (r: { id: number }) => {
      const p = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      p?.resolve(r);
    });
    const fail = (e: Error): void => {
      this.worker = undefined;
      for (const p of this.waiting.values()) p.reject(e);
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => { if (this.worker === w) fail(new Error(`the parser worker exited (${code})`)); });
    return w;
  }

  private call<R>(job: object): Promise<R> {
    this.worker ??= this.start();
    const id = this.nextId++;
    const w = this.worker;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.ref(); // keep the process alive while a file is being parsed
      w.postMessage({ ...job, id });
    }).finally(() => { if (this.waiting.size === 0) w.unref(); }) as Promise<R>;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
