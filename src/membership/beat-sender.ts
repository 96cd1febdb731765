// The owner's side of the layer-2 heartbeats: a small worker thread sends them, so that a stall of
// the speaker's own event loop (garbage collection, a large configuration change planned
// synchronously, a slow disk read) does not look like the owner's death to its successors.
// The main thread still vouches for itself, but in advance and for a bounded time: it signs the
// heartbeats of the next `aheadMs` (1 s; epochs of direct.ts) and hands them to the worker every
// `refreshMs`; the worker sends the bytes of the current epoch and nothing once they run out (and
// tells the main thread, which logs it). So a main loop stalled for longer than `aheadMs` (stuck:
// it answers no ARP) loses its IPs as a dead one would, and a shorter stall costs nothing.
//
// The worker is plain JavaScript with Node's built-ins only (no tsx, no project modules: ~9 MiB,
// the smallest isolate Node makes). It asks the kernel for a higher priority for its own thread
// (nice -10, per thread on Linux); without CAP_SYS_NICE that fails and it runs at the process's.
import { Worker } from 'node:worker_threads';
import { type DirectKind, directEpochMs, encodeDirect, epochAt, monotonicMs } from './direct.ts';
import { retuneAfter } from '../daemon/heap-tuning.ts';

const workerSource = `
const { parentPort } = require('node:worker_threads');
const { createSocket } = require('node:dgram');
const { setPriority } = require('node:os');
let niced = false;
try { setPriority(0, -10); niced = true; } catch { /* no CAP_SYS_NICE: the process's priority */ }
const sockets = new Map();
let bytes = new Map();
let timer;
// Whether the main thread has vouched yet, and whether we are in a run of epochs it has not signed.
let vouched = false;
let unsigned = false;
const epochMs = ${directEpochMs};
const epochNow = () => Math.floor(Number(process.hrtime.bigint() / 1000n) / 1000 / epochMs) >>> 0;
function open(address) {
  const m = /^\\[?([^\\]]+?)\\]?:(\\d+)$/.exec(address);
  const s = createSocket(m[1].includes(':') ? 'udp6' : 'udp4');
  const link = { s, ready: false };
  s.on('error', () => { /* a lost heartbeat */ });
  s.connect(Number(m[2]), m[1], () => { link.ready = true; });
  return link;
}
function tick() {
  const b = bytes.get(epochNow());
  if (b === undefined) {
    // The main thread has not vouched for this epoch (stuck, or starved of CPU): stay silent, say so once.
    if (vouched && !unsigned && sockets.size > 0) { unsigned = true; parentPort.postMessage({ unsigned: true }); }
    return;
  }
  unsigned = false;
  for (const l of sockets.values()) {
    if (!l.ready) continue; // Node sends on a connected socket only once the connection is made
    try { l.s.send(b); } catch { /* a lost heartbeat */ }
  }
}
parentPort.on('message', (m) => {
  if (m.targets) {
    for (const [a, l] of sockets) if (!m.targets.includes(a)) { l.s.close(); sockets.delete(a); }
    for (const a of m.targets) if (!sockets.has(a)) sockets.set(a, open(a));
    tick();
  }
  if (m.bytes) {
    const e = epochNow();
    if (m.replace) bytes = new Map();
    for (const [k] of bytes) if (k < e) bytes.delete(k);
    for (const [k, b] of m.bytes) bytes.set(k, b);
    if (m.bytes.length > 0) vouched = true;
  }
  if (m.every !== undefined) { clearInterval(timer); timer = setInterval(tick, m.every); }
  if (m.stop) { clearInterval(timer); for (const l of sockets.values()) l.s.close(); parentPort.close(); }
});
parentPort.postMessage({ niced });
`;

/**
 * How far ahead the main thread signs by default. A main thread that does not run for longer
 * (stuck, or starved: a speaker at a low priority on a saturated node) stops vouching and its
 * successors take its IPs. 400 ms (before) was too short for a starved one: under load ~20 its
 * heartbeats paused for 50-170 ms now and then, which made its successors allow it 100-350 ms of
 * silence and lengthened failovers by as much.
 */
export const defaultSignAheadMs = 1000;

export interface BeatSenderOptions {
  readonly key: Buffer;
  readonly name: string;
  readonly everyMs: number;
  /** How far ahead the main thread signs: the longest main-loop stall its successors tolerate (default 1000 ms). */
  readonly aheadMs?: number;
  readonly refreshMs?: number;
  /** The gossip incarnation now (it rises when this node refutes a suspicion). */
  readonly incarnation: () => number;
  /** Whether the worker thread got its higher priority (for the start-up log). */
  readonly onStarted?: (niced: boolean) => void;
  /** The worker had nothing signed for the current epoch: the heartbeats stopped because the main thread did not run in time. */
  readonly onUnsigned?: () => void;
  readonly onError?: (e: Error) => void;
}

export class BeatSender {
  private worker!: Worker;
  private readonly refresh: NodeJS.Timeout;
  private signedUpTo = -1;
  private signedInc = Number.NaN;
  private targets: readonly string[] = [];
  private closed = false;

  constructor(private readonly o: BeatSenderOptions) {
    this.worker = this.startWorker();
    this.refresh = setInterval(() => this.sign(), o.refreshMs ?? 100);
    this.refresh.unref();
  }

  private startWorker(): Worker {
    const w = new Worker(workerSource, { eval: true });
    retuneAfter(w);
    w.unref();
    w.on('message', (m: { niced?: boolean; unsigned?: boolean }) => {
      if (m.niced !== undefined) this.o.onStarted?.(m.niced);
      if (m.unsigned) this.o.onUnsigned?.();
    });
    // The worker should never fail; if it does, the heartbeats stop (the successors take over as
    // for a death, the gossip refutes): say so, and start another one.
    w.once('error', (e) => this.o.onError?.(e));
    w.once('exit', () => {
      if (this.closed) return;
      this.o.onError?.(new Error('the layer-2 heartbeat worker exited; starting another'));
      this.worker = this.startWorker();
    });
    w.postMessage({ every: this.o.everyMs });
    w.postMessage({ targets: this.targets });
    this.signedInc = Number.NaN;
    this.worker = w;
    this.sign();
    return w;
  }

  /** Member addresses ("host:port") to send heartbeats to; [] = none. */
  setTargets(addresses: readonly string[]): void {
    if (this.closed || addresses.join(',') === this.targets.join(',')) return;
    this.targets = [...addresses];
    this.worker.postMessage({ targets: this.targets });
  }

  /** Signs the epochs up to `aheadMs` from now (all of them again when the incarnation changed). */
  sign(): void {
    if (this.closed) return;
    const inc = this.o.incarnation();
    const now = epochAt(monotonicMs());
    const last = epochAt(monotonicMs() + (this.o.aheadMs ?? defaultSignAheadMs));
    const replace = inc !== this.signedInc;
    const from = replace ? now : Math.max(now, this.signedUpTo + 1);
    const out: [number, Buffer][] = [];
    for (let e = from; e <= last; e++) out.push([e, encodeDirect(this.o.key, { kind: 'beat' satisfies DirectKind, from: this.o.name, inc, epoch: e })]);
    this.signedInc = inc;
    this.signedUpTo = last;
    if (out.length > 0 || replace) this.worker.postMessage({ bytes: out, replace });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.refresh);
    this.worker.postMessage({ stop: true });
    void this.worker.terminate();
  }
}
