// BGPPeer: ASNs, addresses, timers, password (inline or from a basic-auth Secret), BFD profile and
// graceful restart resolved; two peers that would open two sessions from one node to one router
// (same address and VRF, node selectors that can meet) are refused, naming both.
import type { LoadedObject } from '../api/loaded.ts';
import type { BGPPeer, Secret } from '../api/resources.ts';
import { asnRangeText } from '../api/schema-kit.ts';
import { type IpAddress, formatIp, parseIp } from '../net/ip.ts';
import { warnReservedAsns } from './dangerous-values.ts';
import { parseDurationMs } from './duration.ts';
import { type Report, describe, locate } from './report.ts';
import { compileSelectors, selectorListsIntersect, selectorsText } from './selectors.ts';
import { resolveTimers } from './timers.ts';
import type { GracefulRestart, Peer, PeerPassword } from './types.ts';

export interface ResolvedPeer {
  readonly lo: LoadedObject<BGPPeer>;
  readonly peer: Peer;
}

export interface PeerContext {
  /** The MetalLB namespace: where password Secrets must live. */
  readonly namespace: string;
  readonly bfdProfiles: ReadonlySet<string>;
  readonly secrets: readonly LoadedObject<Secret>[];
}

/**
 * eBGP or iBGP, as the session will run: the ASN it presents (localASN when set, else myASN)
 * against peerASN, or dynamicASN. LOCAL_PREF goes to iBGP peers only (RFC 4271 §5.1.5).
 */
export function sessionIsEbgp(peer: Peer): boolean {
  if (peer.dynamicAsn !== undefined) return peer.dynamicAsn === 'external';
  return peer.peerAsn !== undefined && peer.peerAsn !== (peer.localAsn ?? peer.myAsn);
}

export const defaultRestartTimeMs = 120_000;
/** RFC 4724 §3: the Restart Time is a 12-bit count of seconds. */
const maxRestartTimeMs = 4095_000;
/** Linux TCP_MD5SIG_MAXKEYLEN: the longest TCP MD5 key (RFC 2385) the kernel takes. */
export const maxPasswordBytes = 80;
const basicAuth = 'kubernetes.io/basic-auth';

/** Linux network device names (interfaces, VRFs): 1..15 bytes, no '/', whitespace or ':'. */
export function ifnameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'an interface name must not be empty, "." or ".."';
  if (Buffer.byteLength(name) > 15) return `"${name}" is longer than 15 bytes, the Linux limit for interface names`;
  if (/[\s/:]/.test(name)) return `"${name}" contains whitespace, '/' or ':', which Linux interface names cannot hold`;
  return undefined;
}

function ip(report: Report, lo: LoadedObject, field: string, text: string | undefined, what: string): IpAddress | undefined {
  if (text === undefined || text === '') return undefined;
  const a = parseIp(text);
  if (!a) report.error(lo, ['spec', field], `invalid ${what} "${text}": want an IPv4 or IPv6 address`);
  return a;
}

function resolveGracefulRestart(report: Report, lo: LoadedObject<BGPPeer>): GracefulRestart {
  const spec = lo.object.spec;
  const gr = spec.gracefulRestart;
  if (gr?.enabled !== undefined && spec.enableGracefulRestart !== undefined && gr.enabled !== spec.enableGracefulRestart) {
    report.error(lo, ['spec', 'gracefulRestart', 'enabled'], `gracefulRestart.enabled is ${gr.enabled} but enableGracefulRestart is ${spec.enableGracefulRestart}: set one of them, or both to the same value`);
  }
  // A gracefulRestart block is a request for graceful restart unless it says enabled: false.
  const enabled = gr?.enabled ?? spec.enableGracefulRestart ?? gr !== undefined;
  let restartTimeMs = defaultRestartTimeMs;
  if (gr?.restartTime !== undefined) {
    const d = parseDurationMs(gr.restartTime);
    const at = ['spec', 'gracefulRestart', 'restartTime'];
    if (d.ms === undefined) report.error(lo, at, d.error ?? 'invalid duration');
    else if (d.ms % 1000 !== 0 || d.ms < 1000 || d.ms > maxRestartTimeMs) {
      report.error(lo, at, `restartTime ${gr.restartTime} is not allowed: want whole seconds from 1s to 4095s (RFC 4724's 12-bit Restart Time)`);
    } else restartTimeMs = d.ms;
    if (!enabled) report.warn(lo, at, 'restartTime has no effect: graceful restart is not enabled for this peer');
  }
  return { enabled, restartTimeMs };
}

function resolvePassword(report: Report, lo: LoadedObject<BGPPeer>, ctx: PeerContext): PeerPassword | undefined {
  const spec = lo.object.spec;
  const ref = spec.passwordSecret;
  const hasRef = ref !== undefined && (ref.name ?? '') !== '';
  if (spec.password && hasRef) {
    report.error(lo, ['spec', 'passwordSecret'], 'password and passwordSecret are mutually exclusive: set at most one of them');
    return undefined;
  }
  let password: PeerPassword | undefined;
  if (spec.password) password = { source: 'inline', value: spec.password };
  else if (ref !== undefined && !hasRef) {
    // MetalLB reads a reference without a name as no reference; its converter writes
    // `passwordSecret: {}` for every peer without one.
    if ((ref.namespace ?? '') !== '') report.warn(lo, ['spec', 'passwordSecret', 'name'], 'passwordSecret has a namespace but no name: it is ignored and the session runs without a password (name a Secret of type kubernetes.io/basic-auth holding the key "password")');
  } else if (ref !== undefined) {
    const name = ref.name!;
    const ns = ref.namespace ?? ctx.namespace;
    if (ns !== ctx.namespace) {
      report.error(lo, ['spec', 'passwordSecret', 'namespace'], `the Secret must be in the MetalLB namespace "${ctx.namespace}", not "${ns}"`);
      return undefined;
    }
    const secretLo = ctx.secrets.find((s) => s.object.metadata.name === name && (s.object.metadata.namespace ?? ctx.namespace) === ns);
    if (!secretLo) {
      report.error(lo, ['spec', 'passwordSecret', 'name'], `Secret ${ns}/${name} not found: the peer needs a Secret of type kubernetes.io/basic-auth with the key "password"`);
      return undefined;
    }
    const secret = secretLo.object;
    if (secret.type !== basicAuth) {
      report.error(lo, ['spec', 'passwordSecret', 'name'], `Secret ${ns}/${name} has type "${secret.type ?? 'Opaque'}": want type ${basicAuth}`);
      return undefined;
    }
    let value: string | undefined = secret.stringData?.password;
    if (value === undefined && secret.data?.password !== undefined) {
      const b64 = secret.data.password.replace(/\s+/g, '');
      if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
        report.error(secretLo, ['data', 'password'], 'not valid base64: Secret data values are base64-encoded (use stringData for plain text)');
        return undefined;
      }
      value = Buffer.from(b64, 'base64').toString('utf8');
    }
    if (value === undefined) {
      report.error(lo, ['spec', 'passwordSecret', 'name'], `Secret ${ns}/${name} has no key "password" in data or stringData`);
      return undefined;
    }
    password = { source: 'secret', secretNamespace: ns, secretName: name, value };
  }
  if (password) {
    const field = password.source === 'inline' ? 'password' : 'passwordSecret';
    if (/[\r\n]/.test(password.value)) report.error(lo, ['spec', field], 'the password contains a line break, which is not allowed');
    if (password.value === '') report.error(lo, ['spec', field], 'the password is empty: give a TCP MD5 key of 1..80 bytes, or no password');
    if (Buffer.byteLength(password.value) > maxPasswordBytes) {
      report.error(lo, ['spec', field], `the password is ${Buffer.byteLength(password.value)} bytes: a TCP MD5 key is at most ${maxPasswordBytes} bytes`);
    }
  }
  return password;
}

function resolvePeer(report: Report, lo: LoadedObject<BGPPeer>, ctx: PeerContext): Peer {
  const spec = lo.object.spec;
  const myAsn = spec.myASN ?? 0;
  if (myAsn === 0) report.error(lo, ['spec', 'myASN'], `missing local ASN: myASN must be ${asnRangeText}`);
  const peerAsn = spec.peerASN !== undefined && spec.peerASN !== 0 ? spec.peerASN : undefined;
  if (peerAsn === undefined && spec.dynamicASN === undefined) {
    report.error(lo, ['spec', 'peerASN'], `missing peer ASN: set exactly one of peerASN (${asnRangeText}) or dynamicASN (internal or external)`);
  } else if (peerAsn !== undefined && spec.dynamicASN !== undefined) {
    report.error(lo, ['spec', 'dynamicASN'], 'both peerASN and dynamicASN are set: set exactly one of them');
  }
  warnReservedAsns(report, lo, [{ path: ['spec', 'myASN'], asn: myAsn }, { path: ['spec', 'peerASN'], asn: peerAsn }, { path: ['spec', 'localASN'], asn: spec.localASN }]);
  const ibgp = (peerAsn !== undefined && peerAsn === myAsn) || spec.dynamicASN === 'internal';
  if (ibgp && spec.ebgpMultiHop) {
    report.error(lo, ['spec', 'ebgpMultiHop'], `ebgpMultiHop is for eBGP peers only, and this peer is iBGP (${peerAsn !== undefined ? `peerASN = myASN = ${myAsn}` : 'dynamicASN internal'})`);
  }
  const hasAddress = (spec.peerAddress ?? '') !== '';
  const hasInterface = (spec.interface ?? '') !== '';
  if (!hasAddress && !hasInterface) report.error(lo, ['spec', 'peerAddress'], 'the peer has neither peerAddress nor interface: set exactly one of them');
  if (hasAddress && hasInterface) report.error(lo, ['spec', 'interface'], 'the peer has both peerAddress and interface: set exactly one of them');
  const address = ip(report, lo, 'peerAddress', spec.peerAddress, 'peer address');
  if (hasInterface) {
    const bad = ifnameProblem(spec.interface!);
    if (bad) report.error(lo, ['spec', 'interface'], bad);
    else report.warn(lo, ['spec', 'interface'], `unnumbered BGP (interface ${spec.interface}) is accepted for MetalLB compatibility, but ironlb's speaker does not run unnumbered sessions yet: no session will be started for this peer; give it a peerAddress instead`);
  }
  const sourceAddress = ip(report, lo, 'sourceAddress', spec.sourceAddress, 'source address');
  if (address && sourceAddress && address.family !== sourceAddress.family) {
    report.error(lo, ['spec', 'sourceAddress'], `sourceAddress ${formatIp(sourceAddress)} is IPv${sourceAddress.family} but peerAddress ${formatIp(address)} is IPv${address.family}: a session's ends must be of one family`);
  }
  const routerId = ip(report, lo, 'routerID', spec.routerID, 'router ID');
  if (routerId && (routerId.family !== 4 || routerId.value === 0n)) {
    report.error(lo, ['spec', 'routerID'], `router ID "${spec.routerID}" is not allowed: the BGP identifier is a non-zero IPv4 address (RFC 6286)`);
  }
  const vrf = spec.vrf ?? '';
  if (vrf !== '') {
    const bad = ifnameProblem(vrf);
    if (bad) report.error(lo, ['spec', 'vrf'], bad.replace('an interface name', 'a VRF name').replace('interface names', 'VRF device names'));
  }
  if (spec.bfdProfile && !ctx.bfdProfiles.has(spec.bfdProfile)) {
    const known = [...ctx.bfdProfiles].sort();
    report.error(lo, ['spec', 'bfdProfile'], `BFD profile "${spec.bfdProfile}" not found: ${known.length ? `known profiles are ${known.map((k) => `"${k}"`).join(', ')}` : 'no BFDProfile is defined'}`);
  }
  const timers = resolveTimers(report, lo);
  const password = resolvePassword(report, lo, ctx);
  return {
    name: lo.object.metadata.name ?? '',
    namespace: lo.object.metadata.namespace ?? ctx.namespace,
    myAsn,
    ...(peerAsn !== undefined ? { peerAsn } : {}),
    ...(spec.dynamicASN !== undefined ? { dynamicAsn: spec.dynamicASN } : {}),
    ...(spec.localASN !== undefined && spec.localASN !== 0 ? { localAsn: spec.localASN } : {}),
    ...(address ? { address } : {}),
    ...(hasInterface ? { interface: spec.interface! } : {}),
    port: spec.peerPort ?? 179,
    ...(sourceAddress ? { sourceAddress } : {}),
    ...timers,
    ...(routerId ? { routerId } : {}),
    nodeSelectors: compileSelectors(report, lo, ['spec', 'nodeSelectors'], spec.nodeSelectors),
    ...(password ? { password } : {}),
    ...(spec.bfdProfile ? { bfdProfile: spec.bfdProfile } : {}),
    gracefulRestart: resolveGracefulRestart(report, lo),
    ebgpMultiHop: spec.ebgpMultiHop ?? false,
    vrf,
    disableMP: spec.disableMP ?? false,
    dualStackAddressFamily: spec.dualStackAddressFamily ?? false,
  };
}

function endpoint(p: Peer): string {
  const where = p.address ? formatIp(p.address) : `interface ${p.interface ?? ''}`;
  return p.vrf ? `${where} in VRF ${p.vrf}` : where;
}

/** Peers by name; reports duplicates and same-router peers whose node sets can meet. */
export function resolvePeers(report: Report, los: readonly LoadedObject<BGPPeer>[], ctx: PeerContext): Map<string, ResolvedPeer> {
  const out = new Map<string, ResolvedPeer>();
  /** Peers so far by the router they reach: only those can conflict. */
  const byEndpoint = new Map<string, ResolvedPeer[]>();
  const sorted = [...los].sort((a, b) => ((a.object.metadata.name ?? '') < (b.object.metadata.name ?? '') ? -1 : 1));
  for (const lo of sorted) {
    const peer = resolvePeer(report, lo, ctx);
    const earlier = out.get(peer.name);
    if (earlier) {
      report.error(lo, ['metadata', 'name'], `duplicate definition of BGP peer "${peer.name}": already defined${locate(earlier.lo)}; peer names must be unique`);
      continue;
    }
    const where = endpoint(peer);
    const same = byEndpoint.get(where) ?? [];
    for (const other of peer.address || peer.interface ? same : []) {
      if (!selectorListsIntersect(other.peer.nodeSelectors, peer.nodeSelectors)) continue;
      report.error(lo, ['spec', peer.address ? 'peerAddress' : 'interface'],
        `conflicts with ${describe(other.lo)}: both peer with ${where} and their node selectors can select the same node ` +
        `(${selectorsText(other.peer.nodeSelectors)} vs ${selectorsText(peer.nodeSelectors)}), which would open two sessions from that node to one router; ` +
        'give them node selectors that cannot select the same node, or keep one of them');
    }
    same.push({ lo, peer });
    byEndpoint.set(where, same);
    out.set(peer.name, { lo, peer });
  }
  return out;
}
