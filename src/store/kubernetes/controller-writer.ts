// The controller's status in a cluster: each Service's `status.loadBalancer.ingress` (through the
// status subresource), the `metallb.io/ip-allocated-from-pool` annotation, Events with MetalLB's
// reasons and messages, and each IPAddressPool's status. Everything is compared with what the
// informers hold and written only when it differs; a write the cache has not seen yet is not
// repeated. Failed writes are retried after a delay from the last status asked for.
import type { Service } from '../../api/resources.ts';
import type { ControllerStatus, PoolUsage, StatusEvent } from '../store.ts';
import { serviceKey } from '../store.ts';
import { allocatedFromPoolAnnotation } from './assemble.ts';
import type { Json, KubeClient } from './kube-client.ts';
import { KubeApiError, resourcePath } from './kube-client.ts';
import { events as eventsResource, ipAddressPools, services as servicesResource } from './resources.ts';

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
  readonly concurrency?: number;
  readonly retryMs?: number;
}

const ipsOf = (svc: Service): string[] => (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '');
const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether this controller may write the Service (its class, or none, as MetalLB decides). */
export function managedService(svc: Service, loadBalancerClass: string | undefined): boolean {
  const cls = svc.spec?.loadBalancerClass;
  return loadBalancerClass === undefined ? cls === undefined || cls === '' : cls === loadBalancerClass;
}

/** Runs `tasks` with at most `n` at a time. */
async function pooled(tasks: (() => Promise<void>)[], n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
}

export class ControllerStatusWriter {
  /** What was last written per object and the resourceVersion it was written over. */
  private readonly written = new Map<string, { value: string; over: string | undefined }>();
  private readonly emitted = new WeakSet<StatusEvent>();
  private last: ControllerStatus | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** False while a standby: nothing is written, events are only marked seen. */
  active = true;

  constructor(private readonly o: ControllerWriterOptions) {}

  /** Makes the cluster hold `s`; resolves when every write needed is done (failures logged, retried later). */
  async write(s: ControllerStatus): Promise<void> {
    this.last = s;
    if (!this.active || this.closed) {
      for (const e of s.events) this.emitted.add(e);
      return;
    }
    const tasks: (() => Promise<void>)[] = [];
    let failed = false;
    const attempt = (what: () => Promise<void>) => tasks.push(async () => {
      try {
        await what();
      } catch (e) {
        if (e instanceof KubeApiError && e.code === 404) return; // gone meanwhile: nothing to write
        failed = true;
        this.o.logger?.warn({ err: (e as Error).message }, 'status write failed; will retry');
      }
    });
    for (const [, raw] of this.o.services()) {
      const svc = raw as unknown as Service;
      if (!managedService(svc, this.o.loadBalancerClass)) continue;
      const key = serviceKey(svc);
      const a = s.services[key];
      const wantIps = a?.ips ?? [];
      const havePool = svc.metadata.annotations?.[allocatedFromPoolAnnotation];
      if (svc.spec.type !== 'LoadBalancer' && ipsOf(svc).length > 0 && havePool === undefined) continue; // not ours to clear
      if (!same(ipsOf(svc), wantIps)) attempt(() => this.patchIngress(svc, wantIps));
      const wantPool = wantIps.length > 0 ? a?.pool : undefined;
      if (havePool !== wantPool) attempt(() => this.patchPoolAnnotation(svc, wantPool));
    }
    for (const [name, usage] of Object.entries(s.pools)) {
      const pool = this.o.pools().get(`${this.o.namespace}/${name}`);
      if (!pool || sameUsage(pool.status, usageJson(usage))) continue;
      attempt(() => this.patchPoolStatus(pool, usage));
    }
    for (const e of s.events) {
      if (this.emitted.has(e)) continue;
      this.emitted.add(e);
      attempt(() => this.createEvent(e));
    }
    await pooled(tasks, this.o.concurrency ?? 16);
    if (failed && !this.closed) {
      clearTimeout(this.retry);
      this.retry = setTimeout(() => { if (this.last) void this.write(this.last); }, this.o.retryMs ?? 2000);
      this.retry.unref();
    }
  }

  /** Writes the last status again (after becoming the leader: the standby wrote nothing). */
  async resume(): Promise<void> {
    this.active = true;
    if (this.last) await this.write(this.last);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
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
