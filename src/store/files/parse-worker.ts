// The worker thread behind WorkerLoader: parses and validates one file's text at a time, and
// resolves the folder's objects into a Config, away from the event loop that runs the BGP and BFD
// timers. Returns plain data (objects, a Config, diagnostics); positions are re-derived on the main
// thread, from the text, only when a problem is reported.
import { parentPort } from 'node:worker_threads';
import type { FieldPath, LoadedObject } from '../../api/loaded.ts';
import { loadText } from '../../api/load.ts';
import { type ResolveOptions, resolveConfig } from '../../config/resolve.ts';
import { nestingProblem } from './bounds.ts';
import { positionToken } from './resolve-positions.ts';

interface ResolveJob {
  readonly kind: 'resolve';
  readonly id: number;
  readonly objects: readonly { object: LoadedObject['object']; source?: LoadedObject['source'] }[];
  readonly options: ResolveOptions;
}

interface ParseManyJob { readonly kind: 'parseMany'; readonly id: number; readonly files: readonly { file: string; text: string }[]; readonly maxDepth: number }

/**
 * Arrays rebuilt packed before they are posted. Arrays V8 made holey or with room to grow here
 * (after thousands of files, allocation-site feedback does both) arrive on the main thread with
 * room for 16 elements: 176 bytes for a one-port list, 8 MiB at 50,000 Services.
 */
function packed<T>(v: T): T {
  if (Array.isArray(v)) {
    const out: unknown[] = []; // filled by push: packed (map and Array(n) give holey arrays)
    for (const x of v as unknown[]) out.push(packed(x));
    return out as T;
  }
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = packed((v as Record<string, unknown>)[k]);
  return v;
}

function parseOne(file: string, text: string, maxDepth: number): { objects: unknown[]; diagnostics: unknown[] } {
  const deep = nestingProblem(text, file, maxDepth);
  if (deep) return { objects: [], diagnostics: [deep] };
  try {
    const r = loadText(text, file);
    return { objects: r.objects.map((o) => ({ object: packed(o.object), source: o.source })), diagnostics: r.diagnostics };
  } catch (e) {
    const message = `cannot be read as YAML: ${(e as Error).message}`;
    return { objects: [], diagnostics: [{ severity: 'error', position: { file, line: 1, column: 1 }, path: '', message }] };
  }
}

/** Several files, one message each way. */
function parseMany(job: ParseManyJob): void {
  parentPort!.postMessage({ id: job.id, replies: job.files.map((f) => parseOne(f.file, f.text, job.maxDepth)) });
}

/**
 * The texts stay on the main thread, so a position asked for here is a token (see
 * resolve-positions.ts) that the main thread replaces with the real one; `asks` says what each is.
 */
function resolve(job: ResolveJob): void {
  const asks: [number, FieldPath][] = [];
  const objects = job.objects.map((o, i): LoadedObject => ({
    ...o,
    positionOf: (path) => positionToken(asks.push([i, path]) - 1),
  }));
  const r = resolveConfig(objects, job.options);
  parentPort!.postMessage({ id: job.id, ...(r.config ? { config: r.config } : {}), diagnostics: r.diagnostics, asks });
}

parentPort?.on('message', (job: ParseManyJob | ResolveJob) => {
  if (job.kind === 'resolve') resolve(job);
  else parseMany(job);
});
