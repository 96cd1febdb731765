// The controller's API writes as a keyed queue, like client-go's workqueue: at most `concurrency`
// requests in flight, one at a time per key (two writes to one object never race), a newer job for
// a key replaces the one waiting, lower priority numbers go first (Service status before the pool
// annotation before Events), and a failed job comes back after a per-key exponential backoff, so
// no write is lost to a transient error. A 429 (API Priority and Fairness) pauses every write for
// the server's Retry-After. Jobs are expected to be level-triggered: they read what to write when
// they run, so a retry or a late run writes the newest state, never a stale one.
import { KubeApiError } from './kube-client.ts';

export interface WriteQueueLogger {
  warn(obj: object, msg?: string): void;
}

export interface WriteQueueOptions {
  /** Requests in flight at most (default 32). */
  readonly concurrency?: number;
  /** First retry delay after a failure, doubled per failure of the same key up to maxBackoffMs. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly logger?: WriteQueueLogger;
}

export interface JobOptions {
  /** Attempts before the job is given up (default: never; Events are best effort). */
  readonly maxAttempts?: number;
}

interface Job {
  readonly key: string;
  readonly priority: number;
  readonly run: () => Promise<void>;
  readonly maxAttempts: number;
  attempts: number;
  /** Settles the enqueue() promise: after the first attempt, or when a newer job replaces this one. */
  settle: (() => void) | undefined;
  retry?: NodeJS.Timeout;
}

/** A 404 means the object is gone (nothing left to write); 400/422 will not succeed by repeating. */
const final = (e: unknown): boolean => e instanceof KubeApiError && (e.code === 404 || e.code === 400 || e.code === 422);

export class WriteQueue {
  /** The job waiting per key (queued, or waiting for its retry). */
  private readonly waiting = new Map<string, Job>();
  private readonly inFlight = new Set<string>();
  /** Keys ready to run, per priority; an entry whose job changed is skipped when reached. */
  private readonly ready: { keys: string[]; head: number }[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private pausedUntil = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Requests sent and failures, for logs and tests. */
  readonly stats = { attempts: 0, failures: 0, retries: 0, throttled: 0 };

  constructor(private readonly o: WriteQueueOptions = {}) {}

  get size(): number {
    return this.waiting.size + this.inFlight.size;
  }

  /** Queues `run` for `key`, replacing a job waiting for the same key; resolves after its first attempt. */
  enqueue(key: string, priority: number, run: () => Promise<void>, opts: JobOptions = {}): Promise<void> {
    if (this.closed) return Promise.resolve();
    const old = this.waiting.get(key);
    if (old) this.drop(old);
    return new Promise<void>((resolve) => {
      const job: Job = { key, priority, run, maxAttempts: opts.maxAttempts ?? Infinity, attempts: 0, settle: resolve };
      this.waiting.set(key, job);
      if (!this.inFlight.has(key)) this.push(job);
      this.pump();
    });
  }

  /** Forgets the job waiting for `key` (what it would write is no longer wanted). */
  cancel(key: string): void {
    const job = this.waiting.get(key);
    if (job) this.drop(job);
  }

  /** Resolves when nothing waits and nothing is in flight (retries pending count as waiting). */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.pauseTimer);
    for (const job of [...this.waiting.values()]) this.drop(job);
    this.notifyIdle();
  }

  private drop(job: Job): void {
    clearTimeout(job.retry);
    if (this.waiting.get(job.key) === job) this.waiting.delete(job.key);
    job.settle?.();
    job.settle = undefined;
  }

  private push(job: Job): void {
    (this.ready[job.priority] ??= { keys: [], head: 0 }).keys.push(job.key);
  }

  private next(): Job | undefined {
    for (const q of this.ready) {
      if (!q) continue;
      while (q.head < q.keys.length) {
        const key = q.keys[q.head++]!;
        const job = this.waiting.get(key);
        if (job && job.retry === undefined && !this.inFlight.has(key)) {
          if (q.head > 1024 && q.head * 2 > q.keys.length) { q.keys.splice(0, q.head); q.head = 0; }
          return job;
        }
      }
      q.keys.length = 0;
      q.head = 0;
    }
    return undefined;
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 32;
    const pausedFor = this.pausedUntil - Date.now();
    if (pausedFor > 0 && !this.closed) {
      // Timers run on a monotonic clock and may fire a millisecond before Date.now() reaches
      // pausedUntil: re-arm for the rest, or the queued writes would wait for the next enqueue.
      clearTimeout(this.pauseTimer);
      this.pauseTimer = setTimeout(() => this.pump(), pausedFor);
      return;
    }
    while (!this.closed && this.inFlight.size < limit && Date.now() >= this.pausedUntil) {
      const job = this.next();
      if (!job) break;
      this.waiting.delete(job.key);
      this.inFlight.add(job.key);
      void this.start(job);
    }
  }

  private async start(job: Job): Promise<void> {
    job.attempts++;
    this.stats.attempts++;
    let failure: unknown;
    try {
      await job.run();
    } catch (e) {
      failure = e;
    }
    this.inFlight.delete(job.key);
    if (failure !== undefined) this.failed(job, failure);
    job.settle?.();
    job.settle = undefined;
    // A newer job for this key waited for this one to finish.
    const newer = this.waiting.get(job.key);
    if (newer && newer !== job && newer.retry === undefined) this.push(newer);
    this.pump();
    this.notifyIdle();
  }

  private failed(job: Job, e: unknown): void {
    this.stats.failures++;
    const err = e as Error;
    if (this.closed || final(e) || this.waiting.has(job.key)) {
      // Gone, hopeless, or already replaced by a newer job: nothing to retry.
      if (!(e instanceof KubeApiError && e.code === 404)) this.o.logger?.warn({ key: job.key, err: err.message }, 'API write failed; not retried');
      return;
    }
    if (job.attempts >= job.maxAttempts) {
      this.o.logger?.warn({ key: job.key, err: err.message, attempts: job.attempts }, 'API write failed; given up');
      return;
    }
    const min = this.o.minBackoffMs ?? 500;
    let delay = Math.min(min * 2 ** (job.attempts - 1), this.o.maxBackoffMs ?? 30_000);
    if (e instanceof KubeApiError && e.code === 429) {
      // The server asks every client to slow down: pause all writes, not just this key.
      this.stats.throttled++;
      delay = Math.max(delay, (e.retryAfterSeconds ?? 1) * 1000);
      this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
      clearTimeout(this.pauseTimer);
      this.pauseTimer = setTimeout(() => this.pump(), this.pausedUntil - Date.now());
    }
    this.stats.retries++;
    if (job.attempts === 1) this.o.logger?.warn({ key: job.key, err: err.message, retryInMs: delay }, 'API write failed; will retry');
    this.waiting.set(job.key, job);
    job.retry = setTimeout(() => {
      job.retry = undefined;
      if (this.waiting.get(job.key) !== job || this.closed) return;
      if (!this.inFlight.has(job.key)) this.push(job);
      this.pump();
    }, delay);
  }

  private notifyIdle(): void {
    if (this.size !== 0 && !this.closed) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
