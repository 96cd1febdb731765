// What the daemons need from the pure core and the protocol engines, as narrow interfaces. The
// wiring (wiring.ts) plugs in controller/, speaker/, bgp/ and bfd/; tests plug in fakes.
import type { EventEmitter } from 'node:events';
import type { Service } from '../api/resources.ts';
import type { BgpState, PeerConfig, PeerStatus, Route } from '../bgp/speaker.ts';
import type { BfdProfile, Config } from '../config/types.ts';
import type { Prefix } from '../net/prefix.ts';
import type { AnnouncementPlan } from '../speaker/plan-types.ts';
import type { PlanInput } from '../speaker/plan.ts';
import type { PoolUsage, ServiceAssignment, StatusEvent } from '../store/store.ts';

/** One run of the allocator over every Service (existing ingress IPs are kept when still valid). */
export interface AllocationResult {
  /** Every assignment (the allocator's own record: read it now, copy what you keep). */
  readonly services: Readonly<Record<string, ServiceAssignment>>;
  /** The Services whose assignment this run changed, with the assignment before (undefined: none). */
  readonly changed?: ReadonlyMap<string, ServiceAssignment | undefined>;
  readonly pools: Readonly<Record<string, PoolUsage>>;
  readonly events: readonly Omit<StatusEvent, 'time'>[];
}
/**
 * `services`: every Service, asked for only when needed. `delta`: only these Services changed since
 * the last call (same Config): reconcile just them (the list of every Service is then not read).
 */
export type Allocate = (config: Config, services: () => readonly Service[], delta?: { readonly upserted: readonly Service[]; readonly deleted: readonly string[] }) => AllocationResult;

export type { PlanInput };
export type Plan = (input: PlanInput) => AnnouncementPlan;

/** The part of bgp/'s BgpSpeaker the speaker role drives. */
export interface BgpEngine extends EventEmitter {
  start(): Promise<void>;
  addPeer(c: PeerConfig): void;
  updatePeer(c: PeerConfig): void;
  removePeer(id: string): Promise<void>;
  setRoutes(peerId: string, routes: readonly Route[]): void;
  /** Some routes changed; the others stay (an edit's cost, not the table's). */
  updateRoutes(peerId: string, announce: readonly Route[], withdraw: readonly Prefix[]): void;
  peerState(id: string): PeerStatus | undefined;
  close(opts?: { graceful?: boolean }): Promise<void>;
  /**
   * Ends the session now with NOTIFICATION Cease `subcode` (BFD Down: 10) and lets it reconnect;
   * `holdDown` keeps it from reconnecting until releasePeer (BFD damped).
   */
  resetPeer(id: string, reason: { subcode: number; message?: string; holdDown?: boolean }): void;
  releasePeer(id: string): void;
  /** ROUTE-REFRESH (RFC 2918) to an Established peer that advertised it; false when not possible. */
  refreshPeer(id: string): boolean;
}
export type { BgpState };

export interface BfdSessionSpec {
  readonly id: string;
  readonly peerAddress: string;
  readonly localAddress?: string;
  readonly multiHop: boolean;
  readonly profile: BfdProfile;
}

/**
 * The part of bfd/'s manager the speaker role drives. Events: 'state' BfdStateEvent, where Down
 * is every Up→Down of the session itself (at once, whether or not the Up was reported: damping
 * never delays a Down) and Up is the damped report.
 */
export interface BfdEngine extends EventEmitter {
  addSession(s: BfdSessionSpec): void;
  /** True while the flap damper holds back Up reports for this session. */
  damped(id: string): boolean;
  removeSession(id: string): void;
  updateProfile(id: string, profile: BfdProfile): void;
  close(): Promise<void>;
}
export interface BfdStateEvent {
  readonly id: string;
  readonly state: 'Up' | 'Down' | 'Init' | 'AdminDown';
  readonly diagnostic?: string;
  /** On Down: this flap left the session damped (its next Up will be held back). */
  readonly damped?: boolean;
}
