// The test's side of agent.ts: spawns it inside a namespace and speaks its JSON lines.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerConfig, PeerStatus, Route } from '../../../src/bgp/speaker.ts';
import { parseCommunity, type Community } from '../../../src/net/community.ts';
import { parseIp, type IpAddress } from '../../../src/net/ip.ts';
import { parsePrefix } from '../../../src/net/prefix.ts';
import { AgentChannel } from '../agent-lines.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

/** A peer as plain JSON (addresses as text); the agent turns it into a PeerConfig. */
export interface PeerSpec {
  id: string;
  peerAddress: string;
  peerPort: number;
  localAddress: string;
  myAsn: number;
  peerAsn: number;
  routerId: string;
  ebgpMultiHop: boolean;
  password?: string;
  families?: ('ipv4' | 'ipv6')[];
}

/** A route as plain JSON: communities as text ("65000:1", "large:1:2:3"). */
export interface RouteSpec {
  prefix: string;
  med?: number;
  localPref?: number;
  communities?: string[];
  asPrepend?: { count: number; asn?: number };
}

function ip(s: string): IpAddress {
  const a = parseIp(s);
  if (!a) throw new Error(`bad address "${s}"`);
  return a;
}

function community(s: string): Community {
  const c = parseCommunity(s).community;
  if (!c) throw new Error(`bad community "${s}"`);
  return c;
}

export function peerConfig(p: PeerSpec): PeerConfig {
  return {
    id: p.id,
    peerAddress: ip(p.peerAddress),
    peerPort: p.peerPort,
    localAddress: ip(p.localAddress),
    myAsn: p.myAsn,
    peerAsn: p.peerAsn,
    routerId: ip(p.routerId),
    holdTimeSeconds: 9,
    connectRetrySeconds: 1,
    ebgpMultiHop: p.ebgpMultiHop,
    ...(p.password !== undefined ? { password: p.password } : {}),
    ...(p.families ? { families: p.families } : {}),
  };
}

export function route(r: RouteSpec): Route {
  const p = parsePrefix(r.prefix);
  if (!p) throw new Error(`bad prefix "${r.prefix}"`);
  return {
    prefix: p.prefix,
    attributes: {
      communities: (r.communities ?? []).map(community),
      ...(r.med !== undefined ? { med: r.med } : {}),
      ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
      ...(r.asPrepend ? { asPrepend: r.asPrepend } : {}),
    },
  };
}

export type AgentEvent = { ev: string; peerId?: string; to?: string; [k: string]: unknown };

export class BgpAgent {
  readonly events: AgentEvent[] = [];
  private readonly channel: AgentChannel;
  private onReady: (() => void) | undefined;

  private constructor(readonly child: ChildProcess) {
    this.channel = new AgentChannel(child, (m) => {
      if (m.ev === 'ready') this.onReady?.();
      else this.events.push(m as AgentEvent);
    });
  }

  /** Starts the agent in `ns` and resolves once it is ready (the native addon loaded). */
  static async start(ns: string): Promise<BgpAgent> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(here, 'agent.ts')], {
      cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    const a = new BgpAgent(child);
    const stderr = () => a.channel.stderr.trim();
    const ready = new Promise<void>((resolve, reject) => {
      a.onReady = resolve;
      child.once('exit', (code) => reject(new Error(`BGP agent in ${ns} exited (${code}) before it was ready: ${stderr()}`)));
    });
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`BGP agent in ${ns} not ready in 15 s: ${stderr()}`)), 15000).unref());
    try { await Promise.race([ready, timer]); } catch (e) { await a.close(); throw e; }
    return a;
  }

  private call(o: object): Promise<unknown> {
    return this.channel.call(o);
  }

  addPeer(peer: PeerSpec): Promise<unknown> { return this.call({ op: 'addPeer', peer }); }
  updatePeer(peer: PeerSpec): Promise<unknown> { return this.call({ op: 'updatePeer', peer }); }
  setRoutes(id: string, routes: RouteSpec[]): Promise<unknown> { return this.call({ op: 'setRoutes', id, routes }); }
  removePeer(id: string): Promise<unknown> { return this.call({ op: 'removePeer', id }); }
  async state(id: string): Promise<PeerStatus | null> { return (await this.call({ op: 'state', id })) as PeerStatus | null; }

  /** Closes stdin (the agent withdraws, sends Cease and exits); kills it if it lingers. */
  close(): Promise<void> {
    return this.channel.close();
  }
}
