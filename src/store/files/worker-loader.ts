// api/'s loader on a worker thread: a large or hostile file (megabytes, 10,000 pools, deep nesting)
// is parsed and validated there while the event loop keeps BGP keepalives and BFD packets going.
// Files are bounded first (size before reading, nesting before parsing), with an error naming the
// file and the limit. One worker, files in turn; the main thread keeps only the objects, and
// re-derives positions from the text when an error about an object is reported.
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../../api/diagnostics.ts';
import type { LoadedObject } from '../../api/loaded.ts';
import { loadText } from '../../api/load.ts';
import { defaultMaxDepth, defaultMaxFileBytes, sizeProblem } from './bounds.ts';
import type { FileLoader, LoadResult } from './folder-store.ts';

interface Reply { readonly id: number; readonly objects: { object: LoadedObject['object']; source?: LoadedObject['source'] }[]; readonly diagnostics: Diagnostic[] }

export interface WorkerLoaderOptions {
  readonly maxFileBytes?: number;
  readonly maxDepth?: number;
}

export class WorkerLoader {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  constructor(private readonly options: WorkerLoaderOptions = {}) {}

  /** The FileLoader a FolderStore takes. */
  readonly load: FileLoader = async (file: string, text: string): Promise<LoadResult> => {
    const tooBig = sizeProblem(file, Buffer.byteLength(text), this.options.maxFileBytes ?? defaultMaxFileBytes);
    if (tooBig) return { objects: [], diagnostics: [tooBig] };
    const reply = await this.call(file, text);
    let again: LoadedObject[] | undefined;
    const objects = reply.objects.map((o, i): LoadedObject => ({
      object: o.object,
      ...(o.source ? { source: o.source } : {}),
      positionOf: (path) => (again ??= loadText(text, file).objects)[i]?.positionOf(path),
    }));
    return { objects, diagnostics: reply.diagnostics };
  };

  private start(): Worker {
    const ts = import.meta.url.endsWith('.ts');
    const url = new URL(`./parse-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
    // Sources run through tsx (bin/ironlb.js, tests): the worker registers it before loading its module.
    const w = ts
      ? new Worker(`(async () => { (await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})).register(); await import(${JSON.stringify(url.href)}); })();`, { eval: true })
      : new Worker(url);
    w.unref();
    w.on('message', (r: Reply) => {
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

  private call(file: string, text: string): Promise<Reply> {
    this.worker ??= this.start();
    const id = this.nextId++;
    const w = this.worker;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.ref(); // keep the process alive while a file is being parsed
      w.postMessage({ id, file, text, maxDepth: this.options.maxDepth ?? defaultMaxDepth });
    }).finally(() => { if (this.waiting.size === 0) w.unref(); }) as Promise<Reply>;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
