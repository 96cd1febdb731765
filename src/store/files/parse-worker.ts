// The worker thread behind WorkerLoader: parses and validates one file's text at a time, away from
// the event loop that runs the BGP and BFD timers. Returns plain data (objects and diagnostics);
// positions are re-derived on the main thread, from the text, only when an error is reported.
import { parentPort } from 'node:worker_threads';
import { loadText } from '../../api/load.ts';
import { nestingProblem } from './bounds.ts';

interface Job { readonly id: number; readonly file: string; readonly text: string; readonly maxDepth: number }

parentPort?.on('message', (job: Job) => {
  const deep = nestingProblem(job.text, job.file, job.maxDepth);
  if (deep) {
    parentPort!.postMessage({ id: job.id, objects: [], diagnostics: [deep] });
    return;
  }
  try {
    const r = loadText(job.text, job.file);
    parentPort!.postMessage({ id: job.id, objects: r.objects.map((o) => ({ object: o.object, source: o.source })), diagnostics: r.diagnostics });
  } catch (e) {
    const message = `cannot be read as YAML: ${(e as Error).message}`;
    parentPort!.postMessage({ id: job.id, objects: [], diagnostics: [{ severity: 'error', position: { file: job.file, line: 1, column: 1 }, path: '', message }] });
  }
});
