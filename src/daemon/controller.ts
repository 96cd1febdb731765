// The controller role: on every snapshot, run the allocator over all Services and write each
// Service's IPs, pool usage and new events back to the store. The allocator starts from the IPs
// the Services already carry (the store merges the last status into them), so a restart never
// moves a Service to another IP.
import type { Logger } from 'pino';
import type { Metrics } from '../observe/metrics.ts';
import { fingerprint } from '../api/fingerprint.ts';
import type { Service } from '../api/resources.ts';
import { type ControllerStatus, copyFields, type ServiceAssignment, serviceKey, type Snapshot, type SnapshotDelta, snapshotBase, type StatusEvent, type Store, withIngress, withLazyLists } from '../store/store.ts';
import type { Allocate, AllocationResult } from './engines.ts';
import { CappedLog } from '../observe/log.ts';

const keptEvents = 200;

/** What an event says, as a fingerprint: equal when reason and message are. */
const saidOf = (e: { readonly reason: string; readonly message: string }): number => fingerprint(`${e.reason}\u0000${e.message}`);

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const sameAssignment = (a: ServiceAssignment | undefined, b: ServiceAssignment | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.pool === b.pool && a.ips.length === b.ips.length && a.ips.every((ip, i) => ip === b.ips[i]));

/** Assignment maps compared entry by entry (thousands of Services: no serialising). */
function sameAssignments(a: ControllerStatus['services'], b: ControllerStatus['services']): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => sameAssignment(a[k], b[k]));
}

export interface ControllerRoleOptions {
  readonly store: Store;
  readonly allocate: Allocate;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
  /**
   * Called with the snapshot as it will read once the status is written: standalone hands it to
   * its speaker at once instead of waiting for the file round trip.
   */
  readonly onAllocated?: (s: Snapshot) => void;
  /**
   * The operator accepts that a damaged status is lost (`--accept-lost-state`): allocate afresh.
   * Without it a damaged status stops all allocation until every Service carries its IPs again.
   */
  readonly acceptLostState?: boolean;
}

/** Services that would get a fresh IP: LoadBalancers carrying none of their own. */
const unaddressed = (s: Snapshot): number =>
  s.services.filter((svc) => svc.spec.type === 'LoadBalancer' && (svc.status?.loadBalancer?.ingress ?? []).length === 0).length;

export class ControllerRole {
  private writing: Promise<void> = Promise.resolve();
  private lastWritten: ControllerStatus | undefined;
  private pending: ControllerStatus | undefined;
  private pendingChanged: Set<string> | 'all' = new Set();
  private lastGeneration: number | undefined;
  /** The Services as handed to onAllocated (IPs merged), and the generation they were handed at. */
  private allocated = new Map<string, Service>();
  private allocatedGeneration: number | undefined;
  private damageReported: string | undefined;
  /**
   * The latest event per object, for every object (the status keeps only the last 200): the
   * allocator repeats itself on every run, and an event is new only when it says something else.
   * Kept as a fingerprint of reason and message (saidOf), not the event: at 50,000 Services the
   * events were 12 MiB of the heap.
   */
  private readonly lastEvent = new Map<string, number>();
  private eventsSeeded = false;
  /**
   * Events not yet handed to the store, coalesced per object and reason as client-go's correlator
   * does (a newer one replaces the older): bounded by the Services, and a burst loses none.
   */
  private readonly undelivered = new Map<string, StatusEvent>();

  constructor(private readonly o: ControllerRoleOptions) {}

  /** Resolves when every status computed so far is written (before the process exits). */
  async flush(): Promise<void> {
    while (this.pending !== undefined) await this.writing;
    await this.writing;
  }

  /** Applies one snapshot; resolves when its status is written. */
  onSnapshot(s: Snapshot): Promise<void> {
    if (this.refuseDamaged(s)) return this.writing;
    const started = process.hrtime.bigint();
    const d = s.delta;
    const delta = d?.servicesOnly === true && d.from === this.lastGeneration ? d : undefined;
    this.lastGeneration = s.generation;
    let result: AllocationResult;
    try {
      result = this.o.allocate(s.config, () => s.services, delta);
    } catch (e) {
      this.o.logger.error({ err: e, generation: s.generation }, 'allocator failed; status left as it was');
      return this.writing;
    }
    const base = this.lastWritten ?? s.status;
    this.forgetEvents(s, delta, result);
    const next = this.nextStatus(base, result);
    this.o.metrics?.reconcileSeconds.observe({ role: 'controller' }, Number(process.hrtime.bigint() - started) / 1e9);
    for (const [pool, u] of Object.entries(result.pools)) {
      this.o.metrics?.addressesInUse.set({ pool }, u.assignedIPv4 + u.assignedIPv6);
      this.o.metrics?.addressesTotal.set({ pool }, u.assignedIPv4 + u.assignedIPv6 + u.availableIPv4 + u.availableIPv6);
    }
    if (this.o.onAllocated) this.o.onAllocated(this.allocatedSnapshot(s, next ?? base, result, delta));
    if (next === undefined) return this.writing;
    this.logChanges(base, next, result);
    this.lastWritten = next;
    // Writes are coalesced: while one is under way, only the newest status waits for its turn.
    const queued = this.pending !== undefined;
    this.pending = next;
    if (result.changed && this.pendingChanged !== 'all') for (const k of result.changed.keys()) this.pendingChanged.add(k);
    else this.pendingChanged = 'all';
    if (!queued) {
      this.writing = this.writing.then(async () => {
        const s = this.pending;
        const changed = this.pendingChanged;
        this.pending = undefined;
        this.pendingChanged = new Set();
        const newEvents = [...this.undelivered.values()];
        this.undelivered.clear();
        if (s) await this.o.store.writeControllerStatus(newEvents.length > 0 ? { ...s, newEvents } : s, changed === 'all' ? undefined : changed);
      }).catch((e: unknown) => {
        this.o.logger.error({ err: e }, 'writing the status failed');
      });
    }
    return this.writing;
  }

  /**
   * The snapshot as it reads once the status is written, for a speaker in this process. With a
   * delta, only the Services it names and those whose assignment changed are merged again, and
   * the result carries the delta a speaker needs to re-plan just those.
   */
  private allocatedSnapshot(s: Snapshot, status: ControllerStatus, r: AllocationResult, delta: SnapshotDelta | undefined): Snapshot {
    // Not `r` itself: every closure made here shares one context, and the snapshot's lazy lists
    // (kept by the speaker and layer 2 until the next snapshot) would keep the whole result with
    // it, i.e. the start's 50,000 IPAllocated events and its `changed` Map (~9 MiB at 50k).
    const assigned = r.services;
    const ipsOf = (key: string): readonly string[] => assigned[key]?.ips ?? [];
    const base = copyFields(snapshotBase(s), { status });
    if (!delta || !r.changed || this.allocatedGeneration === undefined) {
      this.allocated = new Map(s.services.map((svc) => { const key = serviceKey(svc); return [key, withIngress(svc, ipsOf(key))]; }));
      this.allocatedGeneration = s.generation;
      const services = [...this.allocated.values()];
      return withLazyLists(base, () => services, () => s.objects);
    }
    const upserted = new Map<string, Service>();
    for (const key of delta.deleted) this.allocated.delete(key);
    for (const svc of delta.upserted) upserted.set(serviceKey(svc), svc);
    for (const key of r.changed.keys()) { const svc = this.allocated.get(key); if (svc && !upserted.has(key)) upserted.set(key, svc); }
    for (const [key, svc] of upserted) {
      const merged = withIngress(svc, ipsOf(key));
      this.allocated.set(key, merged);
      upserted.set(key, merged);
    }
    const from = this.allocatedGeneration;
    this.allocatedGeneration = s.generation;
    // The list of every Service is built only if a consumer reads it (an edit's read the delta).
    const allocated = this.allocated;
    return withLazyLists(copyFields(base, { delta: { from, servicesOnly: true, upserted: [...upserted.values()], deleted: delta.deleted, ...(delta.slices ? { slices: delta.slices } : {}) } }), () => [...allocated.values()], () => s.objects);
  }

  /**
   * A damaged status (and nothing written since) would hand every Service a fresh IP: refuse,
   * loudly, unless the Services all still carry their IPs (the state rebuilds from them) or the
   * operator accepted the loss.
   */
  private refuseDamaged(s: Snapshot): boolean {
    const damaged = this.lastWritten === undefined ? s.status.damaged : undefined;
    if (damaged === undefined || this.o.acceptLostState) return false;
    const missing = unaddressed(s);
    if (missing === 0) return false;
    if (this.damageReported !== damaged) {
      this.damageReported = damaged;
      this.o.logger.error({ damaged, servicesWithoutIp: missing },
        'the stored status (assigned IPs) is damaged: refusing to allocate, since starting from nothing would renumber every Service. ' +
        'Restore the status file, or restart with --accept-lost-state to allocate afresh');
    }
    return true;
  }

  /** Drops the latest events of Services gone (one re-created with the same name gets its events again). */
  private forgetEvents(s: Snapshot, delta: SnapshotDelta | undefined, r: AllocationResult): void {
    if (this.lastEvent.size === 0) return;
    if (delta) {
      for (const key of delta.deleted) this.lastEvent.delete(key);
      return;
    }
    const live = new Set(s.services.map(serviceKey));
    for (const key of this.lastEvent.keys()) if (!live.has(key) && !(key in r.services)) this.lastEvent.delete(key);
  }

  /** The new status, or undefined when nothing a reader cares about changed. */
  private nextStatus(base: ControllerStatus, r: AllocationResult): ControllerStatus | undefined {
    const time = (this.o.now?.() ?? new Date()).toISOString();
    // An event is new when the object's latest event says something else: the allocator repeats
    // itself on every run, and the status file must not grow (or be rewritten) because of it.
    if (!this.eventsSeeded) {
      for (const e of base.events) this.lastEvent.set(e.object, saidOf(e));
      this.eventsSeeded = true;
    }
    const fresh: StatusEvent[] = [];
    for (const e of r.events) {
      const said = saidOf(e);
      if (this.lastEvent.get(e.object) === said) continue;
      const ev = { time, ...e };
      fresh.push(ev);
      this.lastEvent.set(e.object, said);
      const key = `${e.object}\0${e.reason}`;
      this.undelivered.delete(key); // re-inserted last: delivery keeps the order they happened in
      this.undelivered.set(key, ev);
    }
    const same = r.changed ? r.changed.size === 0 : sameAssignments(base.services, r.services);
    if (fresh.length === 0 && same && sameJson(base.pools, r.pools)) return undefined;
    const log = new CappedLog(this.o.logger);
    for (const e of fresh) log[e.type === 'Warning' ? 'warn' : 'info'](() => ({ object: e.object, reason: e.reason }), e.message, `event ${e.reason}`);
    log.done();
    return { services: r.services, pools: r.pools, events: [...base.events, ...fresh].slice(-keptEvents), updated: time };
  }

  private logChanges(before: ControllerStatus, after: ControllerStatus, r: AllocationResult): void {
    const log = new CappedLog(this.o.logger);
    if (r.changed) {
      for (const [key, previous] of r.changed) {
        const a = after.services[key];
        if (a) log.info(() => ({ service: key, ips: a.ips, pool: a.pool, previous: previous?.ips }), 'service IPs assigned');
        else log.info(() => ({ service: key, previous: previous?.ips }), 'service IPs released');
      }
      log.done();
      return;
    }
    for (const [key, a] of Object.entries(after.services)) {
      const b = before.services[key];
      if (!sameAssignment(a, b)) log.info(() => ({ service: key, ips: a.ips, pool: a.pool, previous: b?.ips }), 'service IPs assigned');
    }
    for (const key of Object.keys(before.services)) {
      if (!(key in after.services)) log.info(() => ({ service: key, previous: before.services[key]?.ips }), 'service IPs released');
    }
    log.done();
  }
}
