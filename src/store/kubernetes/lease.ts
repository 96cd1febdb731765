// Leader election with a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: the
// holder renews every `renewMs`; a candidate takes the Lease over when it has not been renewed for
// `leaseDurationMs` (measured on the candidate's own clock from when it last saw the Lease change,
// so clock skew between nodes does not matter). Updates carry the resourceVersion read, so of two
// candidates exactly one wins (409 Conflict for the other). A holder that cannot renew within
// the lease duration steps down before anyone else may take over.
import type { Json, KubeClient } from './kube-client.ts';
import { KubeApiError, resourcePath } from './kube-client.ts';
import { leases } from './resources.ts';

export interface LeaseOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewMs?: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  leading = false;
  private timer: NodeJS.Timeout | undefined;
  private observed: { rv: string | undefined; at: number } | undefined;
  private lastRenew = 0;
  private stopped = false;

  constructor(private readonly o: LeaseOptions) {}

  private get duration(): number {
    return this.o.leaseDurationMs ?? 10_000;
  }

  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.get();
      const spec = (lease?.spec ?? {}) as LeaseSpec;
      if (lease && spec.holderIdentity === this.o.identity) {
        await this.o.client.request('PUT', this.path(), {
          body: { ...lease, spec: { ...spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) } },
        });
      }
    } catch {
      // the Lease expires by itself
    }
  }

  private path(name?: string): string {
    return resourcePath(leases, this.o.namespace, name ?? this.o.name);
  }

  private async get(): Promise<Json | undefined> {
    try {
      return await this.o.client.request('GET', this.path());
    } catch (e) {
      if (e instanceof KubeApiError && e.code === 404) return undefined;
      throw e;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = this.o.renewMs ?? 2000;
    // A standby looks twice as often as the leader renews: it notices an expiry sooner.
    this.timer = setTimeout(() => void this.tick(), this.leading ? every : every / 2 + Math.random() * 250);
  }

  private setLeading(v: boolean): void {
    if (this.leading === v) return;
    this.leading = v;
    this.o.logger?.info({ lease: this.o.name, identity: this.o.identity }, v ? 'became the leader' : 'stopped leading');
    if (v) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  private async tick(): Promise<void> {
    try {
      await this.tryAcquireOrRenew();
    } catch (e) {
      this.o.logger?.warn({ lease: this.o.name, err: (e as Error).message }, 'lease update failed');
    }
    // A leader that could not renew for (almost) a whole lease duration steps down before a
    // standby can take over: never two writers.
    if (this.leading && Date.now() - this.lastRenew > this.duration - (this.o.renewMs ?? 2000)) this.setLeading(false);
    this.schedule();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = new Date();
    const mine: LeaseSpec = { holderIdentity: this.o.identity, leaseDurationSeconds: Math.ceil(this.duration / 1000), renewTime: microTime(now) };
    const lease = await this.get();
    if (!lease) {
      await this.o.client.request('POST', resourcePath(leases, this.o.namespace), {
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace }, spec: { ...mine, acquireTime: microTime(now), leaseTransitions: 0 } },
      });
      this.lastRenew = Date.now();
      this.setLeading(true);
      return;
    }
    const spec = (lease.spec ?? {}) as LeaseSpec;
    const rv = (lease.metadata as { resourceVersion?: string }).resourceVersion;
    const observed = this.observed !== undefined && this.observed.rv === rv ? this.observed : { rv, at: Date.now() };
    this.observed = observed;
    const held = spec.holderIdentity !== undefined && spec.holderIdentity !== '';
    const heldByMe = spec.holderIdentity === this.o.identity;
    const expired = Date.now() - observed.at > (spec.leaseDurationSeconds ?? 10) * 1000;
    if (held && !heldByMe && !expired) {
      this.setLeading(false);
      return;
    }
    const next: LeaseSpec = heldByMe
      ? { ...spec, ...mine }
      : { ...mine, acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    try {
      const updated = await this.o.client.request<Json>('PUT', this.path(), { body: { ...lease, spec: next } });
      this.observed = { rv: (updated.metadata as { resourceVersion?: string }).resourceVersion, at: Date.now() };
      this.lastRenew = Date.now();
      this.setLeading(true);
    } catch (e) {
      if (e instanceof KubeApiError && e.code === 409) {
        this.setLeading(false); // someone else got there first
        return;
      }
      throw e;
    }
  }
}
