// Events on Services, recorded the way client-go's recorder (which MetalLB's speaker uses) makes
// them look in the cluster: an Event repeated for the same object (same type, reason and message)
// is one Event object whose `count` and `lastTimestamp` go up (a PATCH), not a new object each
// time; a burst of Events on one object is cut off by a token bucket per object (25, then one per
// 5 minutes), so a flapping Service cannot flood the apiserver. Writes go through a WriteQueue
// keyed per Event object: at most a few in flight, a repeat that arrives while the first is being
// written folds into it (the job reads the newest count when it runs), a few tries, then dropped
// (Events are best effort, as client-go's).
import { createHash } from 'node:crypto';
import type { Json, KubeClient } from './kube-client.ts';
import { KubeApiError, resourcePath } from './kube-client.ts';
import { events as eventsResource } from './resources.ts';
import { WriteQueue } from './write-queue.ts';

export interface ServiceEvent {
  /** namespace/name of the Service. */
  readonly object: string;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface EventRecorderOptions {
  readonly client: KubeClient;
  /** `source.component` and `reportingComponent` (MetalLB's speaker: metallb-speaker). */
  readonly component: string;
  /** `source.host` and `reportingInstance`: the node the speaker runs on. */
  readonly host?: string;
  /** The Services as the informer holds them: the Event names the Service's uid when known. */
  readonly services?: () => ReadonlyMap<string, Json>;
  readonly logger?: { warn(obj: object, msg?: string): void };
  readonly now?: () => number;
  /** Events per object at once, then one per refillMs (client-go: 25, 5 minutes). */
  readonly burst?: number;
  readonly refillMs?: number;
  /** Event objects remembered for counting repeats (client-go: 4096). */
  readonly cacheSize?: number;
  /** API writes in flight at most (default 4: Events come after everything else). */
  readonly concurrency?: number;
  readonly retryMs?: number;
}

interface Recorded {
  readonly e: ServiceEvent;
  /** The Event object's name once created. */
  name?: string;
  count: number;
  /** The count the cluster holds (0: not created yet). */
  written: number;
  first: string;
  last: string;
}

export class EventRecorder {
  /** Per Event object (object, type, reason, message): oldest first, for the LRU. */
  private readonly seen = new Map<string, Recorded>();
  /** Per object: tokens left and when they were counted. */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly queue: WriteQueue;
  /** Events dropped by the per-object limit (tests, logs). */
  dropped = 0;

  constructor(private readonly o: EventRecorderOptions) {
    this.queue = new WriteQueue({ concurrency: o.concurrency ?? 4, minBackoffMs: o.retryMs ?? 500, ...(o.logger ? { logger: o.logger } : {}) });
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** Takes a token of the object's bucket; false when it has none left (the Event is dropped). */
  private allowed(object: string): boolean {
    const burst = this.o.burst ?? 25;
    const refill = this.o.refillMs ?? 300_000;
    const now = this.now();
    const b = this.buckets.get(object) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + (now - b.at) / refill);
    b.at = now;
    this.buckets.delete(object);
    this.buckets.set(object, b);
    while (this.buckets.size > (this.o.cacheSize ?? 4096)) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  }

  /** Records the Event (a new object, or one more of an identical one); the write happens later. */
  record(e: ServiceEvent): void {
    if (!this.allowed(e.object)) {
      this.dropped++;
      return;
    }
    const key = `${e.object}\n${e.type}\n${e.reason}\n${e.message}`;
    const time = new Date(Math.floor(this.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    let r = this.seen.get(key);
    if (r) this.seen.delete(key);
    else r = { e, count: 0, written: 0, first: time, last: time };
    r.count++;
    r.last = time;
    this.seen.set(key, r);
    while (this.seen.size > (this.o.cacheSize ?? 4096)) this.seen.delete(this.seen.keys().next().value!);
    const id = createHash('sha256').update(key).digest('hex').slice(0, 16);
    const rec = r;
    void this.queue.enqueue(`event/${id}`, 0, () => this.flush(rec), { maxAttempts: 3 });
  }

  /** Resolves when every Event recorded so far has been written (or given up). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  close(): void {
    this.queue.close();
  }

  /** Writes what `r` holds now: creates the Event, or patches its count. */
  private async flush(r: Recorded): Promise<void> {
    if (r.written === r.count) return;
    const [namespace = '', name = ''] = r.e.object.split('/');
    const count = r.count;
    if (r.name !== undefined) {
      try {
        await this.o.client.request('PATCH', resourcePath(eventsResource, namespace, r.name), { body: { count, lastTimestamp: r.last } });
        r.written = count;
        return;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 404)) throw err;
        delete r.name; // expired (the apiserver keeps Events an hour) or deleted: a new one
      }
    }
    const svc = this.o.services?.().get(r.e.object) as { metadata?: { uid?: string; resourceVersion?: string } } | undefined;
    const body = {
      apiVersion: 'v1', kind: 'Event',
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: {
        apiVersion: 'v1', kind: 'Service', namespace, name,
        ...(svc?.metadata?.uid ? { uid: svc.metadata.uid } : {}), ...(svc?.metadata?.resourceVersion ? { resourceVersion: svc.metadata.resourceVersion } : {}),
      },
      reason: r.e.reason, message: r.e.message, type: r.e.type,
      source: { component: this.o.component, ...(this.o.host ? { host: this.o.host } : {}) },
      firstTimestamp: r.first, lastTimestamp: r.last, count,
      reportingComponent: this.o.component, reportingInstance: this.o.host ?? '',
    };
    const made = await this.o.client.request<{ metadata?: { name?: string } }>('POST', resourcePath(eventsResource, namespace), { body });
    r.name = made.metadata?.name;
    r.written = count;
  }
}
