// Many peers, one optional listener. The public face of bgp/: callers add peers and set, per
// peer, the routes they want announced; the speaker keeps sessions up and sends only differences.
import { EventEmitter } from 'node:events';
import type { BgpTransport } from './transport.ts';
import type { Route } from './route.ts';
import type { BgpLogger, Clock, PeerConfig, PeerStatus } from './peer-config.ts';

export type * from './peer-config.ts';
export type { Route, RouteAttributes } from './route.ts';

export interface BgpSpeakerOptions {
  readonly transport?: BgpTransport;
  /** Accept connections from configured peers (others are refused). */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly logger?: BgpLogger;
  readonly clock?: Clock;
}

/**
 * Events: 'state' StateChangeEvent, 'established' EstablishedEvent, 'notification'
 * NotificationEvent, 'error' PeerErrorEvent (only emitted when someone listens; otherwise logged).
 */
export class BgpSpeaker extends EventEmitter {
  constructor(readonly options: BgpSpeakerOptions = {}) { super(); }
  /** Starts the listener, if configured. Peers can be added before or after. */
  async start(): Promise<void> { throw new Error('not implemented yet'); }
  addPeer(_c: PeerConfig): void { throw new Error('not implemented yet'); }
  /** Applies new settings; a change that affects the session restarts it. */
  updatePeer(_c: PeerConfig): void { throw new Error('not implemented yet'); }
  removePeer(_id: string): Promise<void> { throw new Error('not implemented yet'); }
  /** Desired state for the peer: only the difference from what was sent goes on the wire. */
  setRoutes(_peerId: string, _routes: readonly Route[]): void { throw new Error('not implemented yet'); }
  peerState(_id: string): PeerStatus | undefined { throw new Error('not implemented yet'); }
  peerIds(): string[] { throw new Error('not implemented yet'); }
  /** graceful: just close (peers keep routes as stale, RFC 4724); else withdraw all, then Cease. */
  close(_opts?: { graceful?: boolean }): Promise<void> { throw new Error('not implemented yet'); }
  /** The listener's bound address (after start()). */
  listenAddress(): { address: string; port: number } | undefined { throw new Error('not implemented yet'); }
}
