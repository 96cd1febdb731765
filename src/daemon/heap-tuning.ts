// V8's garbage-collector settings for the daemons (controller, speaker, standalone), set by the
// process itself (cli/tune-heap.ts, before any other module loads) so that every way of launching
// it (bin/ironlb.js, `npm start`, the image, the chart, the scale bench) runs with them; MetalLB's Go binaries are tuned the same way (GOGC /
// GOMEMLIMIT). Both flags are GC heuristics V8 reads on every collection, so setting them at
// start-up works (node would refuse --heap-growing-percent in NODE_OPTIONS):
// - heap-growing-percent: after a major GC V8 lets the old generation grow by 1.1-4x (more when
//   collection is fast against allocation) before the next one; a start that loads 50,000
//   Services thus commits 2-2.7x its live heap. 30% keeps the committed heap near the live one.
// - semi-space-growth-factor=1: the young generation stays at its initial 1 MiB semi-spaces
//   instead of doubling up to 16 MiB (32 MiB of new space; set after the modules are loaded, it
//   would stay at the 8 MiB semi-spaces loading them grew it to).
// Figures (start time and peak RSS at 50,000 Services, with and without): src/store/README.md.
// IRONLB_V8_FLAGS replaces the list (empty: node's defaults); a flag given on node's command line
// wins over ours.
import { setFlagsFromString } from 'node:v8';

export const defaultHeapFlags = '--heap-growing-percent=30 --semi-space-growth-factor=1';

/** The flags applied: IRONLB_V8_FLAGS or the defaults, less those node's command line sets. */
export function heapFlags(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): string[] {
  const given = new Set(execArgv.map((a) => a.replace(/^--/, '').split('=')[0]!.replaceAll('_', '-')));
  return (env.IRONLB_V8_FLAGS ?? defaultHeapFlags).split(/\s+/).filter((f) => f !== '' && !given.has(f.replace(/^--/, '').split('=')[0]!.replaceAll('_', '-')));
}

let applied: readonly string[] = [];

export function tuneHeap(): void {
  applied = heapFlags();
  for (const f of applied) setFlagsFromString(f);
}

/** The flags tuneHeap applied in this process (none: not a daemon, or IRONLB_V8_FLAGS empty). */
export const appliedHeapFlags = (): readonly string[] => applied;

/**
 * V8 raises semi-space-growth-factor back to 2 whenever it sets up an isolate's heap, i.e. when a
 * Worker starts (the young generation then grows to 16 MiB semi-spaces at the next busy moment):
 * call with every new Worker. Sets the flags again now and once the worker runs (a worker of ours
 * also sets them as its first statement: store/files/worker-loader.ts).
 */
export function retuneAfter(w: { once(event: 'online', f: () => void): unknown }): void {
  if (applied.length === 0) return;
  reapplyHeapFlags(applied);
  w.once('online', () => reapplyHeapFlags(applied));
}

export function reapplyHeapFlags(flags: readonly string[] | undefined): void {
  for (const f of flags ?? []) setFlagsFromString(f);
}

/** The command line runs a daemon (the first word that is not an option): controller, speaker, standalone. */
export const isDaemonCommand = (args: readonly string[]): boolean => ['controller', 'speaker', 'standalone'].includes(args.find((a) => !a.startsWith('-')) ?? '');
