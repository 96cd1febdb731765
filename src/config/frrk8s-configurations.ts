// FRRConfiguration (frr-k8s's kind): the meaning checks frr-k8s makes (one router per VRF, one
// neighbour per address, "each configuration must be self contained": advertised prefixes are the
// router's own, BFD profiles the object's own), ironlb's session limits, and a refusal, naming the
// field, of everything ironlb's speaker cannot do (raw FRR text, EVPN, VRF imports, forced next
// hops, the EVPN family, a source interface). Every object is judged alone: an invalid one is left
// out with its errors, the others stand (frr-k8s keeps a node's last valid state the same way).
import type { FieldPath, LoadedObject } from '../api/loaded.ts';
import type { FRRConfiguration as FRRConfigurationResource, Secret } from '../api/resources.ts';
import type { FrrNeighborValue, FrrRouterValue } from '../api/frrk8s-schema.ts';
import type { Diagnostic } from '../api/diagnostics.ts';
import { parseCommunity } from '../net/community.ts';
import type { Community } from '../net/community.ts';
import { type IpAddress, familyBits, formatIp, parseIp } from '../net/ip.ts';
import { type Prefix, formatPrefix, parsePrefix, prefixEquals } from '../net/prefix.ts';
import { SelectorError, compileSelector, everything } from '../net/selector.ts';
import type { Selector } from '../net/selector.ts';
import { parseDurationMs } from './duration.ts';
import { Report } from './report.ts';
import { type BfdProfile, type PeerPassword, bfdDefaults } from './types.ts';
import type { AdvertisePolicy, FrrConfiguration, FrrNeighbor, FrrRouter, PrefixFilter, ReceivePolicy } from './frrk8s-types.ts';

export interface FrrResolveResult {
  /** The valid objects, sorted by namespace/name. */
  readonly configurations: readonly FrrConfiguration[];
  readonly diagnostics: readonly Diagnostic[];
}

type FrrLo = LoadedObject<FRRConfigurationResource>;
const notSupported = 'is not supported by ironlb\'s own BGP speaker';
const maxPasswordBytes = 80;

export function resolveFrrConfigurations(objects: readonly LoadedObject[]): FrrResolveResult {
  const diagnostics: Diagnostic[] = [];
  const configurations: FrrConfiguration[] = [];
  const secrets = objects.filter((o) => o.object.kind === 'Secret') as LoadedObject<Secret>[];
  const los = (objects.filter((o) => o.object.kind === 'FRRConfiguration') as FrrLo[])
    .sort((a, b) => idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0);
  const seen = new Set<string>();
  for (const lo of los) {
    const report = new Report();
    if (seen.has(idOf(lo))) report.error(lo, ['metadata', 'name'], `a second FRRConfiguration named ${idOf(lo)}: names are unique per namespace`);
    seen.add(idOf(lo));
    const c = resolveOne(report, lo, secrets);
    diagnostics.push(...report.diagnostics);
    if (report.errorCount === 0) configurations.push(c);
  }
  return { configurations, diagnostics };
}

function idOf(lo: FrrLo): string {
  return `${lo.object.metadata.namespace ?? ''}/${lo.object.metadata.name ?? ''}`;
}

function resolveOne(report: Report, lo: FrrLo, secrets: readonly LoadedObject<Secret>[]): FrrConfiguration {
  const spec = lo.object.spec;
  if (spec.raw !== undefined && ((spec.raw.rawConfig ?? '') !== '' || spec.raw.priority !== undefined)) {
    report.error(lo, ['spec', 'raw'], `raw FRR configuration ${notSupported}: ironlb is not FRR and cannot run FRR commands; express it with bgp.routers, or keep frr-k8s as the speaker (--bgp-backend frr-k8s)`);
  }
  let nodeSelector: Selector = everything;
  if (spec.nodeSelector) {
    try {
      nodeSelector = compileSelector(spec.nodeSelector);
    } catch (e) {
      if (!(e instanceof SelectorError)) throw e;
      report.error(lo, ['spec', 'nodeSelector'], e.message);
    }
  }
  const bfdProfiles = resolveBfd(report, lo);
  const routers: FrrRouter[] = [];
  const vrfs = new Map<string, number>();
  (spec.bgp?.routers ?? []).forEach((r, i) => {
    const vrf = r.vrf ?? '';
    const first = vrfs.get(vrf);
    if (first !== undefined) report.error(lo, ['spec', 'bgp', 'routers', i, 'vrf'], `a second router for ${vrf === '' ? 'the default VRF' : `VRF "${vrf}"`} (routers[${first}] is one): one router per VRF`);
    else vrfs.set(vrf, i);
    routers.push(resolveRouter(report, lo, r, i, new Set(bfdProfiles.map((p) => p.name)), secrets));
  });
  return {
    namespace: lo.object.metadata.namespace ?? '', name: lo.object.metadata.name ?? '', id: idOf(lo),
    nodeSelector, routers, bfdProfiles,
  };
}

function resolveBfd(report: Report, lo: FrrLo): BfdProfile[] {
  const out: BfdProfile[] = [];
  (lo.object.spec.bgp?.bfdProfiles ?? []).forEach((p, i) => {
    const at: FieldPath = ['spec', 'bgp', 'bfdProfiles', i];
    if (out.some((o) => o.name === p.name)) report.error(lo, [...at, 'name'], `a second BFD profile named "${p.name}" in this object`);
    if (p.echoMode === true) report.error(lo, [...at, 'echoMode'], 'echo mode is not supported by ironlb\'s BFD (no echo function): set echoMode: false');
    out.push({
      name: p.name,
      receiveIntervalMs: p.receiveInterval ?? bfdDefaults.receiveIntervalMs,
      transmitIntervalMs: p.transmitInterval ?? bfdDefaults.transmitIntervalMs,
      detectMultiplier: p.detectMultiplier ?? bfdDefaults.detectMultiplier,
      echoIntervalMs: p.echoInterval ?? bfdDefaults.echoIntervalMs,
      echoMode: false,
      passiveMode: p.passiveMode ?? bfdDefaults.passiveMode,
      minimumTtl: p.minimumTtl ?? bfdDefaults.minimumTtl,
    });
  });
  return out;
}

function prefixAt(report: Report, lo: FrrLo, path: FieldPath, text: string): Prefix | undefined {
  const p = parsePrefix(text);
  if (!p) {
    report.error(lo, path, `"${text}" is not a CIDR such as 192.168.10.0/24 or fc00:f853::/64`);
    return undefined;
  }
  if (p.hostBitsSet) report.error(lo, path, `"${text}" has bits set past its length: write ${formatPrefix(p.prefix)}`);
  return p.prefix;
}

function resolveRouter(report: Report, lo: FrrLo, r: FrrRouterValue, i: number, bfdNames: ReadonlySet<string>, secrets: readonly LoadedObject<Secret>[]): FrrRouter {
  const at: FieldPath = ['spec', 'bgp', 'routers', i];
  if (r.asn === 0) report.error(lo, [...at, 'asn'], 'missing local ASN: want an AS number from 1 to 4294967295');
  let routerId: IpAddress | undefined;
  if (r.id !== undefined && r.id !== '') {
    routerId = parseIp(r.id);
    if (!routerId || routerId.family !== 4 || routerId.value === 0n) report.error(lo, [...at, 'id'], `"${r.id}" is not a router ID: want a non-zero IPv4 address (the BGP identifier is 32 bits)`);
  }
  if ((r.imports ?? []).length > 0) report.error(lo, [...at, 'imports'], `importing routes from other VRFs ${notSupported}`);
  if (r.evpn !== undefined) report.error(lo, [...at, 'evpn'], `EVPN ${notSupported} (it carries IPv4/IPv6 unicast only)`);
  const prefixes: Prefix[] = [];
  (r.prefixes ?? []).forEach((t, j) => {
    const p = prefixAt(report, lo, [...at, 'prefixes', j], t);
    if (p && !prefixes.some((q) => prefixEquals(p, q))) prefixes.push(p);
  });
  const neighbors: FrrNeighbor[] = [];
  (r.neighbors ?? []).forEach((n, j) => {
    const nb = resolveNeighbor(report, lo, n, [...at, 'neighbors', j], j, r, prefixes, bfdNames, secrets);
    const twin = neighbors.find((m) => m.key === nb.key);
    if (twin) report.error(lo, [...at, 'neighbors', j], `a second neighbour ${nb.key.slice(nb.key.indexOf('|') + 1)} in this router (neighbors[${twin.index}] is the first)`);
    neighbors.push(nb);
  });
  return { asn: r.asn, ...(routerId ? { routerId } : {}), vrf: r.vrf ?? '', prefixes, neighbors, index: i };
}

function durationAt(report: Report, lo: FrrLo, path: FieldPath, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const d = parseDurationMs(text);
  if (d.ms === undefined) report.error(lo, path, d.error ?? `invalid duration "${text}"`);
  return d.ms;
}

function resolveNeighbor(
  report: Report, lo: FrrLo, n: FrrNeighborValue, at: FieldPath, index: number, r: FrrRouterValue, routerPrefixes: readonly Prefix[],
  bfdNames: ReadonlySet<string>, secrets: readonly LoadedObject<Secret>[],
): FrrNeighbor {
  const err = (field: string | FieldPath, message: string) => report.error(lo, [...at, ...(typeof field === 'string' ? [field] : field)], message);
  const hasAsn = n.asn !== undefined && n.asn !== 0;
  if (hasAsn === (n.dynamicASN !== undefined)) err(hasAsn ? 'dynamicASN' : 'asn', 'set exactly one of asn (the peer\'s AS number, 1..4294967295) and dynamicASN (internal or external)');
  const hasAddr = (n.address ?? '') !== '';
  const hasIf = (n.interface ?? '') !== '';
  if (hasAddr === hasIf) err(hasAddr ? 'interface' : 'address', 'set exactly one of address (an IP address) and interface (unnumbered BGP)');
  let address: IpAddress | undefined;
  if (hasAddr) {
    address = parseIp(n.address!);
    if (!address) err('address', `"${n.address}" is not an IP address`);
  }
  let sourceAddress: IpAddress | undefined;
  if ((n.sourceaddress ?? '') !== '') {
    sourceAddress = parseIp(n.sourceaddress!);
    if (!sourceAddress) err('sourceaddress', `"${n.sourceaddress}" is not an IP address: a source interface name ${notSupported}; give the address`);
    else if (address && sourceAddress.family !== address.family) err('sourceaddress', `${n.sourceaddress} and the neighbour address ${n.address} are of different families`);
  }
  if (n.port === 0) err('port', 'port 0 cannot be dialled: want 1..16384 (default 179)');
  if (n.localASN !== undefined && hasAsn && n.asn === r.asn) err('localASN', 'localASN applies to eBGP sessions only (this neighbour\'s asn is the router\'s)');
  if ((n.addressFamilies ?? []).includes('evpn')) err('addressFamilies', `the EVPN address family ${notSupported}: leave addressFamilies out or write [unicast]`);
  if (n.toAdvertise?.nextHop !== undefined && ((n.toAdvertise.nextHop.ipv4 ?? '') !== '' || (n.toAdvertise.nextHop.ipv6 ?? '') !== '')) {
    err(['toAdvertise', 'nextHop'], `a forced next hop ${notSupported}: ironlb advertises the session's own address, as MetalLB does`);
  }
  if (n.bfdProfile !== undefined && n.bfdProfile !== '' && !bfdNames.has(n.bfdProfile)) {
    err('bfdProfile', `BFD profile "${n.bfdProfile}" is not in this object's spec.bgp.bfdProfiles (each FRRConfiguration must be self-contained)`);
  }
  const holdTimeMs = durationAt(report, lo, [...at, 'holdTime'], n.holdTime);
  const keepaliveTimeMs = durationAt(report, lo, [...at, 'keepaliveTime'], n.keepaliveTime);
  const connectTimeMs = durationAt(report, lo, [...at, 'connectTime'], n.connectTime);
  if (connectTimeMs !== undefined && (connectTimeMs % 1000 !== 0 || connectTimeMs < 1000 || connectTimeMs > 65535_000)) {
    err('connectTime', `connectTime ${n.connectTime} is not allowed: want whole seconds from 1s to 65535s`);
  }
  if (holdTimeMs !== undefined) {
    const s = Math.floor(holdTimeMs / 1000);
    if ((s !== 0 && s < 3) || s > 65535) err('holdTime', `holdTime ${n.holdTime} is not allowed: 0 (no keepalives) or 3s..65535s`);
  }
  if (holdTimeMs !== undefined && keepaliveTimeMs !== undefined && keepaliveTimeMs > holdTimeMs) {
    err('keepaliveTime', `keepaliveTime ${n.keepaliveTime} is longer than holdTime ${n.holdTime}`);
  }
  const password = resolvePassword(err, n, lo.object.metadata.namespace ?? '', secrets);
  return {
    key: neighborKey(r.vrf ?? '', address ? formatIp(address) : hasIf ? n.interface! : n.address ?? ''), index,
    ...(address ? { address } : {}), ...(hasIf ? { interface: n.interface! } : {}),
    ...(hasAsn ? { asn: n.asn! } : {}), ...(n.dynamicASN ? { dynamicAsn: n.dynamicASN } : {}),
    ...(n.localASN !== undefined ? { localAsn: n.localASN } : {}),
    ...(n.port !== undefined && n.port !== 179 ? { port: n.port } : {}),
    ...(sourceAddress ? { sourceAddress } : {}), ...(password ? { password } : {}),
    ...(holdTimeMs !== undefined ? { holdTimeMs } : {}), ...(keepaliveTimeMs !== undefined ? { keepaliveTimeMs } : {}),
    ...(connectTimeMs !== undefined ? { connectTimeMs } : {}),
    ebgpMultiHop: n.ebgpMultiHop === true,
    ...(n.bfdProfile ? { bfdProfile: n.bfdProfile } : {}),
    gracefulRestart: n.enableGracefulRestart === true,
    dualStackAddressFamily: n.dualStackAddressFamily === true,
    toAdvertise: resolveAdvertise(err, n, routerPrefixes),
    toReceive: resolveReceive(report, lo, at, n),
  };
}

/** Neighbours are one when VRF and address (canonical text) or interface are. */
export function neighborKey(vrf: string, addressOrInterface: string): string {
  return `${vrf}|${addressOrInterface}`;
}

function resolvePassword(
  err: (field: string | FieldPath, message: string) => void, n: FrrNeighborValue, namespace: string, secrets: readonly LoadedObject<Secret>[],
): PeerPassword | undefined {
  const ref = n.passwordSecret;
  const hasRef = (ref?.name ?? '') !== '';
  if ((n.password ?? '') !== '' && hasRef) {
    err('passwordSecret', 'password and passwordSecret are mutually exclusive: set at most one of them');
    return undefined;
  }
  let password: PeerPassword | undefined;
  if ((n.password ?? '') !== '') password = { source: 'inline', value: n.password! };
  else if (hasRef) {
    const ns = ref!.namespace || namespace;
    const secret = secrets.find((s) => s.object.metadata.name === ref!.name && (s.object.metadata.namespace ?? '') === ns)?.object;
    const value = secret?.stringData?.password ?? (secret?.data?.password !== undefined ? Buffer.from(secret.data.password, 'base64').toString('utf8') : undefined);
    if (!secret || secret.type !== 'kubernetes.io/basic-auth' || value === undefined) {
      err(['passwordSecret', 'name'], `Secret ${ns}/${ref!.name} ${!secret ? 'not found' : secret.type !== 'kubernetes.io/basic-auth' ? `has type "${secret.type ?? 'Opaque'}"` : 'has no key "password"'}: want a Secret of type kubernetes.io/basic-auth with the key "password"`);
      return undefined;
    }
    password = { source: 'secret', secretNamespace: ns, secretName: ref!.name!, value };
  }
  if (password && (Buffer.byteLength(password.value) > maxPasswordBytes || /[\r\n]/.test(password.value))) {
    err(password.source === 'inline' ? 'password' : 'passwordSecret', `a TCP MD5 key is 1..${maxPasswordBytes} bytes without line breaks`);
  }
  return password;
}

function resolveAdvertise(err: (field: string | FieldPath, message: string) => void, n: FrrNeighborValue, routerPrefixes: readonly Prefix[]): AdvertisePolicy {
  const t = n.toAdvertise;
  const mode = t?.allowed?.mode ?? 'filtered';
  const inRouter = (field: FieldPath, text: string): Prefix | undefined => {
    const p = parsePrefix(text);
    if (!p) {
      err(field, `"${text}" is not a CIDR`);
      return undefined;
    }
    if (!routerPrefixes.some((q) => prefixEquals(q, p.prefix))) {
      err(field, `${text} is not among this router's prefixes: a neighbour may advertise only prefixes its own router lists (each FRRConfiguration must be self-contained)`);
      return undefined;
    }
    return p.prefix;
  };
  const prefixes: Prefix[] = [];
  (t?.allowed?.prefixes ?? []).forEach((text, i) => {
    const p = inRouter(['toAdvertise', 'allowed', 'prefixes', i], text);
    if (p && !prefixes.some((q) => prefixEquals(p, q))) prefixes.push(p);
  });
  const allowed = mode === 'all' ? routerPrefixes : prefixes;
  const mustBeAllowed = (field: FieldPath, text: string): Prefix | undefined => {
    const p = inRouter(field, text);
    if (p && !allowed.some((q) => prefixEquals(p, q))) {
      err(field, `${text} is not advertised to this neighbour: add it to toAdvertise.allowed.prefixes (or set mode: all)`);
      return undefined;
    }
    return p;
  };
  const localPrefs: { prefix: Prefix; localPref: number }[] = [];
  (t?.withLocalPref ?? []).forEach((w, i) => {
    (w.prefixes ?? []).forEach((text, j) => {
      const p = mustBeAllowed(['toAdvertise', 'withLocalPref', i, 'prefixes', j], text);
      if (!p) return;
      const other = localPrefs.find((l) => prefixEquals(l.prefix, p));
      if (other && other.localPref !== (w.localPref ?? 0)) err(['toAdvertise', 'withLocalPref', i, 'localPref'], `${text} has two local preferences (${other.localPref} and ${w.localPref ?? 0})`);
      else if (!other) localPrefs.push({ prefix: p, localPref: w.localPref ?? 0 });
    });
  });
  const communities: { prefix: Prefix; community: Community }[] = [];
  (t?.withCommunity ?? []).forEach((w, i) => {
    const c = parseCommunity(w.community ?? '');
    if (!c.community) err(['toAdvertise', 'withCommunity', i, 'community'], c.error ?? 'missing community');
    (w.prefixes ?? []).forEach((text, j) => {
      const p = mustBeAllowed(['toAdvertise', 'withCommunity', i, 'prefixes', j], text);
      if (p && c.community) communities.push({ prefix: p, community: c.community });
    });
  });
  return { mode, prefixes, localPrefs, communities };
}

function resolveReceive(report: Report, lo: FrrLo, at: FieldPath, n: FrrNeighborValue): ReceivePolicy {
  const allowed = n.toReceive?.allowed;
  const prefixes: PrefixFilter[] = [];
  (allowed?.prefixes ?? []).forEach((s, i) => {
    const path: FieldPath = [...at, 'toReceive', 'allowed', 'prefixes', i];
    if (s.prefix === undefined) {
      report.error(lo, [...path, 'prefix'], 'missing prefix: want a CIDR');
      return;
    }
    const p = prefixAt(report, lo, [...path, 'prefix'], s.prefix);
    if (!p) return;
    const max = familyBits(p.family);
    // FRR's prefix-list rule: len < ge <= le <= the family's length.
    if (s.ge !== undefined && (s.ge <= p.length || s.ge > max)) report.error(lo, [...path, 'ge'], `ge ${s.ge} must be longer than the prefix's /${p.length} and at most ${max}`);
    if (s.le !== undefined && (s.le < p.length || s.le > max || (s.ge !== undefined && s.le < s.ge))) {
      report.error(lo, [...path, 'le'], `le ${s.le} must be from ${Math.max(p.length, s.ge ?? 0)} to ${max}`);
    }
    prefixes.push({ prefix: p, ...(s.le !== undefined ? { le: s.le } : {}), ...(s.ge !== undefined ? { ge: s.ge } : {}) });
  });
  return { mode: allowed?.mode ?? 'filtered', prefixes };
}

/** Whether a received prefix passes a receive policy (FRR prefix-list semantics for le/ge). */
export function receiveAllows(policy: ReceivePolicy | undefined, prefix: Prefix): boolean {
  if (!policy) return false;
  if (policy.mode === 'all') return true;
  return policy.prefixes.some((f) => filterMatches(f, prefix));
}

export function filterMatches(f: PrefixFilter, p: Prefix): boolean {
  if (f.prefix.family !== p.family || p.length < f.prefix.length) return false;
  const shift = BigInt(familyBits(p.family) - f.prefix.length);
  if ((p.network >> shift) !== (f.prefix.network >> shift)) return false;
  if (f.le === undefined && f.ge === undefined) return p.length === f.prefix.length;
  const lo = f.ge ?? f.prefix.length;
  const hi = f.le ?? familyBits(p.family);
  return p.length >= lo && p.length <= hi;
}
