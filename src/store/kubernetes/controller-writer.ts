// The controller's status in a cluster: each Service's `status.loadBalancer.ingress` (through the
// status subresource), the `metallb.io/ip-allocated-from-pool` annotation, Events with MetalLB's
// reasons and messages, and each IPAddressPool's status. Everything is compared with what the
// informers hold and written only when it differs; a write the cache has not seen yet is not
// repeated. Writes go through a WriteQueue: bounded concurrency, status before annotations before
// pool status before Events (an IP shows up first), and retries with backoff that read the newest
// wanted state when they run, so a failed write is neither lost nor written stale.
import type { Service } from '../../api/resources.ts';
import type { ControllerStatus, PoolUsage, StatusEvent } from '../store.ts';
import { serviceKey } from '../store.ts';
import { allocatedFromPoolAnnotation } from './assemble.ts';
import type { Json, KubeClient } from './kube-client.ts';
import { resourcePath } from './kube-client.ts';
import { events as eventsResource, ipAddressPools, services as servicesResource } from './resources.ts';
import { WriteQueue } from './write-queue.ts';

export interface WriterLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ControllerWriterOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly services: () => ReadonlyMap<string, Json>;
  readonly pools: () => ReadonlyMap<string, Json>;
  /** The controller's LoadBalancerClass: Services of another class are never touched. */
  readonly loadBalancerClass?: string;
  readonly logger?: WriterLogger;
  /** The Event source component (MetalLB: metallb-controller). */
  readonly component?: string;
  /** API writes in flight at most (default 32). */
  readonly concurrency?: number;
  /** First retry delay after a failed write (default 500 ms, doubling to 30 s). */
  readonly retryMs?: number;
}

/** Write order: what a user waits for first. */
const priority = { ingress: 0, annotation: 1, poolStatus: 2, event: 3 } as const;

const ipsOf = (svc: Service): string[] => (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '');
const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether this controller may write the Service (its class, or none, as MetalLB decides). */
export function managedService(svc: Service, loadBalancerClass: string | undefined): boolean {
  const cls = svc.spec?.loadBalancerClass;
  return loadBalancerClass === undefined ? cls === undefined || cls === '' : cls === loadBalancerClass;
}

export class ControllerStatusWriter {
  /** What was last written per object and the resourceVersion it was written over. */
  private readonly written = new Map<string, { value: string; over: string | undefined }>();
  private readonly emitted = new WeakSet<StatusEvent>();
  private readonly queue: WriteQueue;
  private last: ControllerStatus | undefined;
  private eventSeq = 0;
  /** Services whose object changed in the cache since the last write (see touched()). */
  private readonly touchedKeys = new Set<string>();
  /** The next write looks at every Service (the first one, after a standby spell). */
  private scanAll = true;
  private closed = false;
  /** False while a standby: nothing is written, events are only marked seen. */
  active = true;

  constructor(private readonly o: ControllerWriterOptions) {
    this.queue = new WriteQueue({
      concurrency: o.concurrency ?? 32, minBackoffMs: o.retryMs ?? 500, ...(o.logger ? { logger: o.logger } : {}),
    });
  }

  /** Requests sent, failed and retried by the queue (benchmarks, tests). */
  get stats(): WriteQueue['stats'] {
    return this.queue.stats;
  }

  /**
   * Makes the cluster hold `s`; resolves when every write it needs has been tried once (failures
   * are logged and retried in the background until they succeed or are no longer wanted).
   */
  async write(s: ControllerStatus, changed?: ReadonlySet<string>): Promise<void> {
    this.last = s;
    // newEvents: every event since the last write (events keeps only the latest, for display).
    const events = s.newEvents ?? s.events;
    if (!this.active || this.closed) {
      for (const e of events) this.emitted.add(e);
      for (const e of s.events) this.emitted.add(e);
      this.scanAll = true;
      return;
    }
    const tried: Promise<void>[] = [];
    // Only the Services whose assignment changed or whose object changed since the last write can
    // differ now (tens of thousands of Services: no full scan per burst); everything when unknown.
    const keys = changed === undefined || this.scanAll ? undefined : new Set([...changed, ...this.touchedKeys]);
    this.scanAll = false;
    this.touchedKeys.clear();
    const services = this.o.services();
    const candidates = keys === undefined ? services.values() : [...keys].map((k) => services.get(k) ?? k);
    for (const raw of candidates) {
      if (typeof raw === 'string') { // gone: nothing to write
        this.queue.cancel(`ingress/${raw}`);
        this.queue.cancel(`pool/${raw}`);
        continue;
      }
      const svc = raw as unknown as Service;
      const key = serviceKey(svc);
      const w = this.wanted(svc, s);
      if (w && !same(ipsOf(svc), w.ips)) tried.push(this.queue.enqueue(`ingress/${key}`, priority.ingress, () => this.syncIngress(key)));
      else this.queue.cancel(`ingress/${key}`);
      if (w && svc.metadata.annotations?.[allocatedFromPoolAnnotation] !== w.pool) tried.push(this.queue.enqueue(`pool/${key}`, priority.annotation, () => this.syncPoolAnnotation(key)));
      else this.queue.cancel(`pool/${key}`);
    }
    for (const [name, usage] of Object.entries(s.pools)) {
      const pool = this.o.pools().get(`${this.o.namespace}/${name}`);
      if (!pool || sameUsage(pool.status, usageJson(usage))) continue;
      tried.push(this.queue.enqueue(`poolstatus/${name}`, priority.poolStatus, () => this.syncPoolStatus(name)));
    }
    for (const e of events) {
      if (this.emitted.has(e)) continue;
      this.emitted.add(e);
      // Events are best effort, as client-go's recorder: a few tries, then dropped.
      tried.push(this.queue.enqueue(`event/${++this.eventSeq}`, priority.event, () => this.createEvent(e), { maxAttempts: 3 }));
    }
    await Promise.all(tried);
  }

  /** The store saw this Service change (its own writes coming back included): the next write re-checks it. */
  touched(key: string): void {
    this.touchedKeys.add(key);
  }

  /** Resolves when no write waits or runs (retries included). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Writes the last status again (after becoming the leader: the standby wrote nothing). */
  async resume(): Promise<void> {
    this.active = true;
    this.scanAll = true;
    if (this.last) await this.write(this.last);
  }

  close(): void {
    this.closed = true;
    this.queue.close();
  }

  /** The IPs and pool the Service should carry under `s`; undefined when this controller leaves it alone. */
  private wanted(svc: Service, s: ControllerStatus): { ips: string[]; pool: string | undefined } | undefined {
    if (!managedService(svc, this.o.loadBalancerClass)) return undefined;
    const a = s.services[serviceKey(svc)];
    const ips = a?.ips ?? [];
    // A Service that is no LoadBalancer with an ingress someone else wrote: not ours to clear.
    if (svc.spec.type !== 'LoadBalancer' && ipsOf(svc).length > 0 && svc.metadata.annotations?.[allocatedFromPoolAnnotation] === undefined) return undefined;
    return { ips: [...ips], pool: ips.length > 0 ? a?.pool : undefined };
  }

  /** The Service as the cache holds it now, and what it should carry, when this replica may write. */
  private current(key: string): { svc: Service; want: { ips: string[]; pool: string | undefined } } | undefined {
    if (!this.active || this.closed || !this.last) return undefined;
    const svc = this.o.services().get(key) as unknown as Service | undefined;
    const want = svc ? this.wanted(svc, this.last) : undefined;
    return svc && want ? { svc, want } : undefined;
  }

  private async syncIngress(key: string): Promise<void> {
    const c = this.current(key);
    if (!c || same(ipsOf(c.svc), c.want.ips)) return;
    await this.patchIngress(c.svc, c.want.ips);
  }

  private async syncPoolAnnotation(key: string): Promise<void> {
    const c = this.current(key);
    if (!c || c.svc.metadata.annotations?.[allocatedFromPoolAnnotation] === c.want.pool) return;
    await this.patchPoolAnnotation(c.svc, c.want.pool);
  }

  private async syncPoolStatus(name: string): Promise<void> {
    if (!this.active || this.closed) return;
    const usage = this.last?.pools[name];
    const pool = this.o.pools().get(`${this.o.namespace}/${name}`);
    if (!usage || !pool || sameUsage(pool.status, usageJson(usage))) return;
    await this.patchPoolStatus(pool, usage);
  }

  /** Skips a write identical to one already sent over the same resourceVersion (the cache lags). */
  private once(id: string, value: string, rv: string | undefined, write: () => Promise<Json>): Promise<void> {
    const w = this.written.get(id);
    if (w && w.value === value && w.over === rv) return Promise.resolve();
    return write().then(() => { this.written.set(id, { value, over: rv }); });
  }

  private patchIngress(svc: Service, ips: readonly string[]): Promise<void> {
    const { namespace, name, resourceVersion } = svc.metadata;
    const body = { status: { loadBalancer: { ingress: ips.length > 0 ? ips.map((ip) => ({ ip })) : null } } };
    return this.once(`ingress/${namespace}/${name}`, ips.join(','), resourceVersion, () =>
      this.o.client.request('PATCH', resourcePath(servicesResource, namespace, name, 'status'), { body }));
  }

  private patchPoolAnnotation(svc: Service, pool: string | undefined): Promise<void> {
    const { namespace, name, resourceVersion } = svc.metadata;
    const body = { metadata: { annotations: { [allocatedFromPoolAnnotation]: pool ?? null } } };
    return this.once(`pool/${namespace}/${name}`, pool ?? '', resourceVersion, () =>
      this.o.client.request('PATCH', resourcePath(servicesResource, namespace, name), { body }));
  }

  private patchPoolStatus(pool: Json, usage: PoolUsage): Promise<void> {
    const m = pool.metadata as { name: string; resourceVersion?: string };
    const body = { status: usageJson(usage) };
    return this.once(`poolstatus/${m.name}`, JSON.stringify(body), m.resourceVersion, () =>
      this.o.client.request('PATCH', resourcePath(ipAddressPools, this.o.namespace, m.name, 'status'), { body }));
  }

  private async createEvent(e: StatusEvent): Promise<void> {
    if (!this.active || this.closed) return;
    const [namespace, name] = e.object.split('/');
    if (!namespace || !name) return;
    const svc = this.o.services().get(e.object) as { metadata?: { uid?: string; resourceVersion?: string } } | undefined;
    const time = e.time;
    const body = {
      apiVersion: 'v1', kind: 'Event',
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Service', namespace, name, ...(svc?.metadata?.uid ? { uid: svc.metadata.uid } : {}), ...(svc?.metadata?.resourceVersion ? { resourceVersion: svc.metadata.resourceVersion } : {}) },
      reason: e.reason, message: e.message, type: e.type,
      source: { component: this.o.component ?? 'metallb-controller' },
      firstTimestamp: time, lastTimestamp: time, count: 1,
      reportingComponent: this.o.component ?? 'metallb-controller', reportingInstance: process.env.HOSTNAME ?? 'ironlb',
    };
    await this.o.client.request('POST', resourcePath(eventsResource, namespace), { body });
  }
}

/** Pool usage as IPAddressPool.status holds it (int64 counters; Infinity for huge IPv6 pools saturates). */
function usageJson(u: PoolUsage): Record<string, number> {
  const cap = (n: number) => (Number.isFinite(n) ? Math.min(n, Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER);
  return { assignedIPv4: cap(u.assignedIPv4), assignedIPv6: cap(u.assignedIPv6), availableIPv4: cap(u.availableIPv4), availableIPv6: cap(u.availableIPv6) };
}

function sameUsage(have: unknown, want: Record<string, number>): boolean {
  if (have === null || typeof have !== 'object') return false;
  const h = have as Record<string, unknown>;
  return Object.entries(want).every(([k, v]) => h[k] === v);
}
