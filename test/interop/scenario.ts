// One interop scenario for every daemon: ironlb (BgpSpeaker over the native transport) peers
// with the daemon over eBGP and iBGP at once, with 4-byte ASNs, IPv4 and IPv6 prefixes, and
// every attribute ironlb can send; the tests then read the daemon's own RIB.
import assert from 'node:assert/strict';
import { BgpSpeaker } from '../../src/bgp/speaker.ts';
import type { PeerConfig, Route, RouteAttributes } from '../../src/bgp/speaker.ts';
import { parseCommunity, type Community } from '../../src/net/community.ts';
import { parseIp, type IpAddress } from '../../src/net/ip.ts';
import { formatPrefix, parsePrefix, type Prefix } from '../../src/net/prefix.ts';
import { nativeTransport } from '../../src/native/transport.ts';
import { type NormalizedRoute, type PeerDaemon, sleep, sortRoutes } from './harness/index.ts';

export const ip = (s: string): IpAddress => { const a = parseIp(s); if (!a) throw new Error(`bad ip ${s}`); return a; };
export const pfx = (s: string): Prefix => { const p = parsePrefix(s); if (!p) throw new Error(`bad prefix ${s}`); return p.prefix; };
export const comm = (s: string): Community => { const c = parseCommunity(s).community; if (!c) throw new Error(`bad community ${s}`); return c; };

/** One ironlb session as both sides see it. */
export interface SessionSpec {
  id: string;
  /** ironlb's local address (the daemon's neighbor address). */
  local: string;
  myAsn: number;
  peerAsn: number;
  md5?: string;
  /** Configured next hops; when absent the IPv4 one is the session's local address. */
  nextHop?: string;
  nextHopV6: string;
  gracefulRestart?: boolean;
}

export interface DaemonQuirks {
  /** BIRD gives every eBGP route its default LOCAL_PREF (100) on import; others show none. */
  ebgpLocalPref?: number;
  /** OpenBGPD shows MED 0 for a route that came without one. */
  absentMed?: number;
}

export const EBGP_ASN = 4200000001;
export const DAEMON_ASN = 4200000100;

export function peerConfig(daemon: PeerDaemon, s: SessionSpec): PeerConfig {
  return {
    id: s.id,
    peerAddress: ip(daemon.options.address),
    peerPort: daemon.options.port,
    localAddress: ip(s.local),
    myAsn: s.myAsn,
    peerAsn: s.peerAsn,
    routerId: ip(s.local),
    holdTimeSeconds: 9,
    connectRetrySeconds: 1,
    ebgpMultiHop: false,
    ...(s.md5 ? { password: s.md5 } : {}),
    ...(s.nextHop ? { nextHop: ip(s.nextHop) } : {}),
    nextHopV6: ip(s.nextHopV6),
    ...(s.gracefulRestart ? { gracefulRestart: { restartTimeSeconds: 60 } } : {}),
  };
}

export function newSpeaker(daemon: PeerDaemon, sessions: SessionSpec[]): BgpSpeaker {
  const speaker = new BgpSpeaker({ transport: nativeTransport });
  speaker.on('error', () => undefined); // reported through state changes; tests assert on the RIB
  for (const s of sessions) speaker.addPeer(peerConfig(daemon, s));
  return speaker;
}

const r = (prefix: string, attributes: Partial<RouteAttributes>): Route => ({ prefix: pfx(prefix), attributes: { communities: [], ...attributes } });

/** eBGP: prepends, MED, standard and large communities, IPv4 and IPv6, and a bare route of each. */
export const ebgpRoutes: Route[] = [
  r('198.51.100.1/32', { med: 10, communities: [comm('65000:1'), comm('65000:2'), comm('large:4200000001:1:2')], asPrepend: { count: 2 } }),
  r('198.51.100.2/32', {}),
  r('203.0.113.0/28', { med: 0, communities: [comm('64512:65281')], asPrepend: { count: 1, asn: 4200000077 } }),
  r('2001:db8:100::1/128', { med: 20, communities: [comm('65000:3'), comm('large:1:2:3'), comm('large:4200000001:7:8')], asPrepend: { count: 3 } }),
  r('2001:db8:100::2/128', {}),
];

/** iBGP: LOCAL_PREF set and defaulted, MED and communities; no own-ASN prepends (a loop to the peer). */
export const ibgpRoutes: Route[] = [
  r('198.51.100.1/32', { localPref: 300, med: 5, communities: [comm('65000:10'), comm('large:4200000100:1:1')] }),
  r('198.51.100.3/32', {}),
  r('2001:db8:100::1/128', { localPref: 50, communities: [comm('65000:11')] }),
  r('2001:db8:100::3/128', { med: 1 }),
];

/** What the daemon must hold for these routes from this session, attribute by attribute. */
export function expectedRoutes(routes: Route[], s: SessionSpec, quirks: DaemonQuirks = {}): NormalizedRoute[] {
  const ebgp = s.myAsn !== s.peerAsn;
  return sortRoutes(routes.map((route) => {
    const a = route.attributes;
    // eBGP: our AS leftmost, then the prepends (what FRR sends for a route-map prepend).
    const asPath: number[] = ebgp ? [s.myAsn] : [];
    for (let i = 0; i < (a.asPrepend?.count ?? 0); i++) asPath.push(a.asPrepend?.asn ?? s.myAsn);
    const n: NormalizedRoute = {
      prefix: formatPrefix(route.prefix),
      nextHop: route.prefix.family === 4 ? (s.nextHop ?? s.local) : s.nextHopV6,
      asPath,
      communities: a.communities.filter((c) => c.kind === 'standard').map((c) => `${c.value >>> 16}:${c.value & 0xffff}`).sort(),
      largeCommunities: a.communities.flatMap((c) => (c.kind === 'large' ? [`${c.global}:${c.local1}:${c.local2}`] : [])).sort(),
      from: s.local,
    };
    const med = a.med ?? quirks.absentMed;
    if (med !== undefined) n.med = med;
    const lp = ebgp ? quirks.ebgpLocalPref : (a.localPref ?? 100);
    if (lp !== undefined) n.localPref = lp;
    return n;
  }));
}

/** The daemon's routes from these neighbors, with fields compared exactly (stale dropped unless asked). */
export async function ribFrom(daemon: PeerDaemon, from: string[], keepStale = false): Promise<NormalizedRoute[]> {
  const all = await daemon.routes();
  return all.filter((x) => from.includes(x.from)).map((x) => {
    if (keepStale) return x;
    const { stale: _stale, ...rest } = x;
    return rest;
  });
}

/** Key order does not matter: each daemon's normalizer builds its objects in its own order. */
export const canonical = (routes: NormalizedRoute[]): string =>
  JSON.stringify(routes.map((x) => Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)))));

/** Waits until the daemon's RIB (from these neighbors) equals `want`; on timeout shows the diff. */
export async function waitForRib(daemon: PeerDaemon, from: string[], want: NormalizedRoute[], timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let got: NormalizedRoute[] = [];
  while (Date.now() < deadline) {
    try {
      got = await ribFrom(daemon, from);
      if (canonical(got) === canonical(want)) return;
    } catch { /* daemon restarting */ }
    await sleep(150);
  }
  assert.deepEqual(got, want, `${daemon.kind}: RIB from ${from.join(', ')} did not reach the expected state in ${timeoutMs} ms`);
}

export async function waitEstablished(daemon: PeerDaemon, neighbors: string[], timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let all = true;
    for (const n of neighbors) if (!(await daemon.isEstablished(n).catch(() => false))) { all = false; break; }
    if (all) return;
    await sleep(150);
  }
  assert.fail(`${daemon.kind}: sessions from ${neighbors.join(', ')} not Established within ${timeoutMs} ms`);
}

export interface SuiteOptions {
  /** Builds the daemon for these ironlb sessions (not started). */
  makeDaemon: (sessions: SessionSpec[]) => PeerDaemon;
  sessions: { ebgp: SessionSpec; ibgp: SessionSpec };
  quirks?: DaemonQuirks;
}

/**
 * The shared checks, as steps a test file runs in order: routes arrive with exactly the expected
 * attributes, withdrawals remove them, and a restart of the daemon is followed by reconnection
 * and a full resend.
 */
export class InteropRun {
  daemon!: PeerDaemon;
  speaker!: BgpSpeaker;
  readonly ebgp: SessionSpec;
  readonly ibgp: SessionSpec;
  readonly neighbors: string[];

  constructor(private readonly o: SuiteOptions) {
    this.ebgp = o.sessions.ebgp;
    this.ibgp = o.sessions.ibgp;
    this.neighbors = [this.ebgp.local, this.ibgp.local];
  }

  expected(ebgp: Route[], ibgp: Route[]): NormalizedRoute[] {
    return sortRoutes([...expectedRoutes(ebgp, this.ebgp, this.o.quirks), ...expectedRoutes(ibgp, this.ibgp, this.o.quirks)]);
  }

  async setUp(): Promise<void> {
    this.daemon = this.o.makeDaemon([this.ebgp, this.ibgp]);
    await this.daemon.start();
    this.speaker = newSpeaker(this.daemon, [this.ebgp, this.ibgp]);
  }

  async tearDown(): Promise<void> {
    await this.speaker?.close().catch(() => undefined);
    await this.daemon?.dispose();
  }

  async announceAll(): Promise<void> {
    this.speaker.setRoutes(this.ebgp.id, ebgpRoutes);
    this.speaker.setRoutes(this.ibgp.id, ibgpRoutes);
    await waitEstablished(this.daemon, this.neighbors);
    await waitForRib(this.daemon, this.neighbors, this.expected(ebgpRoutes, ibgpRoutes));
  }

  async withdrawSome(): Promise<void> {
    const keepE = ebgpRoutes.filter((x) => !['198.51.100.2/32', '2001:db8:100::1/128'].includes(formatPrefix(x.prefix)));
    const keepI = ibgpRoutes.filter((x) => formatPrefix(x.prefix) !== '198.51.100.1/32');
    this.speaker.setRoutes(this.ebgp.id, keepE);
    this.speaker.setRoutes(this.ibgp.id, keepI);
    await waitForRib(this.daemon, this.neighbors, this.expected(keepE, keepI));
    // A changed attribute set replaces the route rather than adding a second path.
    const changed = keepE.map((x) => (formatPrefix(x.prefix) === '198.51.100.1/32' ? { ...x, attributes: { ...x.attributes, med: 99 } } : x));
    this.speaker.setRoutes(this.ebgp.id, changed);
    await waitForRib(this.daemon, this.neighbors, this.expected(changed, keepI));
    this.speaker.setRoutes(this.ebgp.id, []);
    this.speaker.setRoutes(this.ibgp.id, []);
    await waitForRib(this.daemon, this.neighbors, []);
    assert.equal((await this.daemon.routes()).length, 0, 'no routes at all remain');
  }

  async peerRestart(): Promise<void> {
    this.speaker.setRoutes(this.ebgp.id, ebgpRoutes);
    this.speaker.setRoutes(this.ibgp.id, ibgpRoutes);
    await waitForRib(this.daemon, this.neighbors, this.expected(ebgpRoutes, ibgpRoutes));
    await this.daemon.stop();
    await this.daemon.start();
    await waitEstablished(this.daemon, this.neighbors, 30000);
    await waitForRib(this.daemon, this.neighbors, this.expected(ebgpRoutes, ibgpRoutes));
  }
}
