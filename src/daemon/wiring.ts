// The real engines behind the daemons' interfaces: controller/'s reconcileAll, speaker/'s
// planAnnouncements, bgp/'s BgpSpeaker (with the native transport when the addon is built, for
// TCP MD5 and TTL), and bfd/'s BfdManager.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
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
  return pool ? { ips, pool } : { ips };
};

/**
 * The allocator over whole snapshots. A new Config, a deleted Service that held addresses, or an
 * outcome asking for it runs every Service through reconcileAll; otherwise only the Services that
 * changed since the last call are reconciled, so one new Service among thousands costs one
 * Service's work.
 */
export function makeAllocate(options: { loadBalancerClass?: string } = {}): Allocate {
  let state: Allocator | undefined;
  let lastConfig: Config | undefined;
  let seen = new Map<string, { svc: Service; json: string }>();
  let assignments: Record<string, ServiceAssignment> = {};
  type Ev = AllocationResult['events'][number];
  const eventOf = (e: ControllerEvent): Ev => ({ type: e.type, object: `${e.object.namespace}/${e.object.name}`, reason: e.reason, message: e.message });

  const full = (config: Config, services: readonly Service[], now: number): Ev[] => {
    const r = reconcileAll(config, services.map(withClusterIps), state, { now, ...options });
    state = r.state;
    lastConfig = config;
    assignments = {};
    for (const [key, w] of r.services) {
      const a = assignmentOf(key, w.ingress, r.state);
      if (a) assignments[key] = a;
    }
    seen = new Map(services.map((svc) => [serviceKey(svc), { svc, json: JSON.stringify(svc) }]));
    return r.events.map(eventOf);
  };

  const incremental = (alloc: Allocator, services: readonly Service[], now: number): Ev[] | undefined => {
    // The store keeps unchanged Services the same objects: serialise only the others.
    const next = new Map<string, { svc: Service; json: string }>();
    for (const svc of services) {
      const key = serviceKey(svc);
      const old = seen.get(key);
      next.set(key, old?.svc === svc ? old : { svc, json: JSON.stringify(svc) });
    }
    for (const key of seen.keys()) {
      if (next.has(key)) continue;
      if (alloc.deleteService(key)) return undefined; // freed addresses may let a pending Service through
      delete assignments[key];
    }
    const events: Ev[] = [];
    // Requests first: a changed Service early in the list must not take an address a later one asks for.
    alloc.noteRequests(services.filter((svc) => seen.get(serviceKey(svc))?.json !== next.get(serviceKey(svc))?.json));
    for (const svc of services) {
      const key = serviceKey(svc);
      if (seen.get(key)?.json === next.get(key)?.json) continue;
      const r = alloc.reconcileService(withClusterIps(svc), now);
      if (r?.reprocessAll) return undefined;
      events.push(...(r?.events ?? []).map(eventOf));
      const a = r ? assignmentOf(key, r.status.loadBalancer?.ingress, alloc) : undefined;
      if (a) assignments[key] = a;
      else delete assignments[key];
    }
    seen = next;
    return events;
  };

  return (config: Config, services: readonly Service[]): AllocationResult => {
    const now = Date.now();
    const events = (state && config === lastConfig ? incremental(state, services, now) : undefined) ?? full(config, services, now);
    const pools: Record<string, PoolUsage> = {};
    for (const [name, st] of state!.poolStatuses()) pools[name] = { ...st };
    return { services: { ...assignments }, pools, events };
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
