// The real engines behind the daemons' interfaces: controller/'s reconcileAll, speaker/'s
// planAnnouncements, bgp/'s BgpSpeaker (with the native transport when the addon is built, for
// TCP MD5 and TTL), and bfd/'s BfdManager.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { exact } from '../api/exact.ts';
import type { Service } from '../api/resources.ts';
import { BfdManager, type BfdManagerOptions } from '../bfd/manager.ts';
import { BgpSpeaker } from '../bgp/speaker.ts';
import { plainTransport, type BgpTransport } from '../bgp/transport.ts';
import type { BfdProfile, Config } from '../config/types.ts';
import { type Allocator, type ControllerEvent, reconcileAll } from '../controller/ipam.ts';
import { serviceKey } from '../store/store.ts';
import { planAnnouncements } from '../speaker/index.ts';
import type { PlanOptions } from '../speaker/eligibility.ts';
import type { PoolUsage, ServiceAssignment } from '../store/store.ts';
import type { Allocate, AllocationResult, BfdEngine, BfdSessionSpec, BfdStateEvent, BgpEngine, Plan } from './engines.ts';

/**
 * A Service written by hand has no cluster IP (the API server would have given it one), and the
 * allocator reads the Service's family from it: stand in with a placeholder of each family asked for.
 */
function withClusterIps(svc: Service): Service {
  if ((svc.spec.clusterIPs?.length ?? 0) > 0 || (svc.spec.clusterIP ?? '') !== '') return svc;
  const families = svc.spec.ipFamilies ?? (svc.spec.ipFamilyPolicy === 'RequireDualStack' || svc.spec.ipFamilyPolicy === 'PreferDualStack' ? ['IPv4', 'IPv6'] : ['IPv4']);
  const clusterIPs = families.map((f) => (f === 'IPv6' ? 'fd00:ffff::1' : '10.255.255.254'));
  return { ...svc, spec: { ...svc.spec, clusterIP: clusterIPs[0]!, clusterIPs } };
}

const assignmentOf = (key: string, ingress: readonly { ip?: string }[] | undefined, state: Allocator): ServiceAssignment | undefined => {
  const ips = (ingress ?? []).map((i) => i.ip).filter((x): x is string => x !== undefined);
  if (ips.length === 0) return undefined;
  const pool = state.poolOf(key);
  return pool ? { ips: exact(ips), pool } : { ips: exact(ips) };
};

const sameAssignment = (a: ServiceAssignment | undefined, b: ServiceAssignment | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.pool === b.pool && a.ips.length === b.ips.length && a.ips.every((ip, i) => ip === b.ips[i]));

/**
 * The allocator over snapshots. A new Config runs every Service through reconcileAll; otherwise
 * only the Services that changed are reconciled: those the snapshot's delta names, or (without
 * one) those that are not the same objects as last time (the stores keep unchanged Services the
 * same objects). When a deletion frees addresses (or an outcome asks for it), the Services still
 * waiting for an address get another try: one new or deleted Service among thousands costs one
 * Service's work, plus the pending ones. `services` in the result is the allocator's own record
 * (read it, do not keep it); `changed` holds each Service whose assignment changed, with the
 * assignment it had before.
 */
export function makeAllocate(options: { loadBalancerClass?: string } = {}): Allocate {
  let state: Allocator | undefined;
  let lastConfig: Config | undefined;
  let seen = new Map<string, Service>();
  let assignments: Record<string, ServiceAssignment> = {};
  /** LoadBalancer Services without an address: what freed addresses may now serve. */
  let waiting = new Set<string>();
  let changed = new Map<string, ServiceAssignment | undefined>();
  type Ev = AllocationResult['events'][number];
  const eventOf = (e: ControllerEvent): Ev => ({ type: e.type, object: `${e.object.namespace}/${e.object.name}`, reason: e.reason, message: e.message });

  const assign = (key: string, a: ServiceAssignment | undefined): void => {
    const prev = assignments[key];
    if (sameAssignment(prev, a)) return;
    if (!changed.has(key)) changed.set(key, prev);
    if (a) assignments[key] = a; else delete assignments[key];
  };

  const full = (config: Config, services: readonly Service[], now: number): Ev[] => {
    const r = reconcileAll(config, services.map(withClusterIps), state, { now, ...options });
    state = r.state;
    lastConfig = config;
    const before = assignments;
    assignments = { ...before };
    for (const key of Object.keys(before)) if (!r.services.has(key)) assign(key, undefined);
    for (const [key, w] of r.services) assign(key, assignmentOf(key, w.ingress, r.state));
    seen = new Map(services.map((svc) => [serviceKey(svc), svc]));
    waiting = new Set();
    for (const [key, svc] of seen) if (svc.spec.type === 'LoadBalancer' && assignments[key] === undefined) waiting.add(key);
    return r.events.map(eventOf);
  };

  /** Reconciles one Service; true when others should be reprocessed. */
  const reconcileOne = (alloc: Allocator, svc: Service, key: string, now: number, events: Ev[]): boolean => {
    const r = alloc.reconcileService(withClusterIps(svc), now, key);
    for (const e of r?.events ?? []) events.push(eventOf(e));
    const a = r ? assignmentOf(key, r.status.loadBalancer?.ingress, alloc) : undefined;
    assign(key, a);
    if (a === undefined && svc.spec.type === 'LoadBalancer') waiting.add(key); else waiting.delete(key);
    return r?.reprocessAll === true;
  };

  const incremental = (alloc: Allocator, upserted: readonly Service[], deleted: readonly string[], now: number): Ev[] => {
    let reprocess = false;
    for (const key of deleted) {
      if (!seen.delete(key)) continue;
      waiting.delete(key);
      if (alloc.deleteService(key)) reprocess = true;
      assign(key, undefined);
    }
    const events: Ev[] = [];
    const ordered = upserted.map((svc) => ({ svc, key: serviceKey(svc) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // Requests first: a changed Service early in the list must not take an address a later one asks for.
    alloc.noteRequests(ordered.map((o) => o.svc));
    for (const { svc, key } of ordered) {
      seen.set(key, svc);
      if (reconcileOne(alloc, svc, key, now, events)) reprocess = true;
    }
    if (reprocess) {
      // Freed addresses or a changed sharing key: the waiting Services try again, in name order.
      for (const key of [...waiting].sort()) {
        const svc = seen.get(key);
        if (svc) reconcileOne(alloc, svc, key, now, events);
      }
    }
    return events;
  };

  return (config: Config, allServices: () => readonly Service[], delta?: { upserted: readonly Service[]; deleted: readonly string[] }): AllocationResult => {
    const now = Date.now();
    changed = new Map();
    let events: Ev[];
    if (state && config === lastConfig) {
      if (delta) events = incremental(state, delta.upserted, delta.deleted, now);
      else {
        const present = new Set<string>();
        const upserted: Service[] = [];
        for (const svc of allServices()) {
          const key = serviceKey(svc);
          present.add(key);
          if (seen.get(key) !== svc) upserted.push(svc);
        }
        events = incremental(state, upserted, [...seen.keys()].filter((k) => !present.has(k)), now);
      }
    } else events = full(config, allServices(), now);
    const pools: Record<string, PoolUsage> = {};
    for (const [name, st] of state!.poolStatuses()) pools[name] = { ...st };
    return { services: assignments, pools, events, changed };
  };
}

export const plan: Plan = (input) => planAnnouncements(input);

/** The planner with a speaker's flags (MetalLB's --lb-class, --ignore-exclude-lb). */
export function planFor(options: PlanOptions): Plan {
  if (options.loadBalancerClass === undefined && options.ignoreExcludeLb === undefined) return plan;
  return (input) => planAnnouncements({ ...input, options: { ...input.options, ...options } });
}

async function chooseTransport(logger: Logger): Promise<BgpTransport> {
  try {
    const native = await import('../native/index.ts');
    if (native.nativeAvailable()) return native.nativeTransport;
    logger.info({}, 'native addon not built: BGP uses node:net (no TCP MD5, no TTL control)');
  } catch (e) {
    logger.info({ err: e }, 'native addon unavailable: BGP uses node:net (no TCP MD5, no TTL control)');
  }
  return plainTransport;
}

export async function makeBgp(logger: Logger, listen?: { host: string; port: number }): Promise<BgpEngine> {
  const transport = await chooseTransport(logger);
  return new BgpSpeaker({ transport, logger: logger.child({ component: 'bgp' }), ...(listen ? { listen } : {}) });
}

/** bfd/'s manager behind the daemon's interface: damped up/down become 'state' events. */
export class BfdAdapter extends EventEmitter implements BfdEngine {
  constructor(private readonly m: BfdManager, private readonly logger: Logger) {
    super();
    m.on('up', (e: { id: string }) => this.emit('state', { id: e.id, state: 'Up' } satisfies BfdStateEvent));
    // Not 'down': that one only follows a reported (undamped) Up, and a session that went Up
    // while damped and then Down again must still reset BGP. The manager records the flap in
    // the damper right after its 'state' event, so read `damped` a microtask later.
    m.on('state', (e: { id: string; from: string; to: string; diag: string }) => {
      if (e.from !== 'Up' || e.to !== 'Down') return;
      queueMicrotask(() => this.emit('state', { id: e.id, state: 'Down', diagnostic: e.diag, damped: this.damped(e.id) } satisfies BfdStateEvent));
    });
    m.on('error', (e: Error) => logger.warn({ err: e }, 'BFD socket error'));
  }

  addSession(s: BfdSessionSpec): void {
    this.m.addSession({ id: s.id, peerAddress: s.peerAddress, ...(s.localAddress ? { localAddress: s.localAddress } : {}), multihop: s.multiHop, profile: s.profile })
      .catch((e: unknown) => this.logger.error({ err: e, peer: s.id }, 'BFD session could not start'));
  }

  damped(id: string): boolean {
    return this.m.sessionState(id)?.damped ?? false;
  }

  removeSession(id: string): void {
    this.m.removeSession(id).catch((e: unknown) => this.logger.warn({ err: e, peer: id }, 'BFD session removal failed'));
  }

  updateProfile(id: string, profile: BfdProfile): void {
    this.m.updateProfile(id, profile);
  }

  close(): Promise<void> {
    return this.m.close();
  }
}

export function makeBfd(logger: Logger, options: BfdManagerOptions = {}): BfdEngine {
  return new BfdAdapter(new BfdManager(options), logger.child({ component: 'bfd' }));
}
