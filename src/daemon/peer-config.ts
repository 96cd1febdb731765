// From a configured BGPPeer (and this node) to the session settings bgp/ takes, with MetalLB's
// defaults: hold 90 s / keepalive 30 s, TTL 255 only with ebgpMultiHop, the router ID from the
// peer, else the session's IPv4 source, else the node's IPv4 address, else (an IPv6-only node)
// MetalLB's last resort: the little-endian CRC-32 of the node name.
import type { Node } from '../api/resources.ts';
import type { AddressFamily, PeerConfig } from '../bgp/speaker.ts';
import type { Peer } from '../config/types.ts';
import { type IpAddress, parseIp } from '../net/ip.ts';
import type { Family } from '../net/ip.ts';

export const defaultHoldTimeSeconds = 90;
export const defaultKeepaliveSeconds = 30;

/** A session to run, or why this peer cannot have one (logged as a warning by the role). */
export type PeerMapping = { config: PeerConfig } | { unsupported: string };

function nodeIpv4(node: Node | undefined, fallback: IpAddress | undefined): IpAddress | undefined {
  for (const t of ['InternalIP', 'ExternalIP']) {
    for (const a of node?.status?.addresses ?? []) {
      if (a.type !== t) continue;
      const ip = parseIp(a.address);
      if (ip?.family === 4) return ip;
    }
  }
  return fallback;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE), as Go's crc32.ChecksumIEEE; Node 20 has no zlib.crc32. */
export function crc32(text: string): number {
  let c = 0xffffffff;
  for (const b of Buffer.from(text, 'utf8')) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The router ID MetalLB derives from a node name: the CRC-32's bytes, little-endian, read as IPv4. */
export function routerIdFromNodeName(name: string): IpAddress | undefined {
  const c = crc32(name);
  if (c === 0) return undefined;
  const le = ((c & 0xff) << 24) | ((c >>> 8 & 0xff) << 16) | ((c >>> 16 & 0xff) << 8) | (c >>> 24);
  return { family: 4, value: BigInt(le >>> 0) };
}

export function peerConfigFor(peer: Peer, families: readonly Family[], node: Node | undefined, hostIpv4?: IpAddress, nodeName?: string): PeerMapping {
  if (peer.address === undefined) return { unsupported: `BGPPeer ${peer.name}: unnumbered peers (interface ${peer.interface ?? '?'}) are not supported: no session is run for this peer` };
  // dynamicASN: the ASN comes from the peer's OPEN, of the configured kind (bgp/ checks it).
  const asn = peer.peerAsn !== undefined ? { peerAsn: peer.peerAsn } : peer.dynamicAsn !== undefined ? { dynamicAsn: peer.dynamicAsn } : undefined;
  if (asn === undefined) return { unsupported: `BGPPeer ${peer.name}: neither peerASN nor dynamicASN is set: no session is run for this peer` };
  const name = node?.metadata.name ?? nodeName;
  const routerId = peer.routerId ?? (peer.sourceAddress?.family === 4 ? peer.sourceAddress : undefined) ?? nodeIpv4(node, hostIpv4)
    ?? (name ? routerIdFromNodeName(name) : undefined);
  if (routerId === undefined) return { unsupported: `BGPPeer ${peer.name}: no router ID (set spec.routerID, or give the node an IPv4 address): no session is run for this peer` };
  const holdTimeSeconds = peer.holdTimeMs !== undefined ? Math.round(peer.holdTimeMs / 1000) : defaultHoldTimeSeconds;
  const keepaliveSeconds = peer.keepaliveTimeMs !== undefined
    ? Math.round(peer.keepaliveTimeMs / 1000)
    : peer.holdTimeMs !== undefined ? Math.floor(holdTimeSeconds / 3) : defaultKeepaliveSeconds;
  const fams: AddressFamily[] = families.map((f) => (f === 4 ? 'ipv4' : 'ipv6'));
  const config: PeerConfig = {
    id: peer.name,
    peerAddress: peer.address,
    peerPort: peer.port,
    ...(peer.sourceAddress ? { localAddress: peer.sourceAddress } : {}),
    myAsn: peer.localAsn ?? peer.myAsn,
    ...asn,
    routerId,
    holdTimeSeconds,
    keepaliveSeconds,
    ...(peer.connectTimeMs !== undefined ? { connectRetrySeconds: Math.max(1, Math.round(peer.connectTimeMs / 1000)) } : {}),
    ebgpMultiHop: peer.ebgpMultiHop,
    ...(peer.password ? { password: peer.password.value } : {}),
    ...(peer.vrf ? { vrf: peer.vrf } : {}),
    ...(peer.gracefulRestart.enabled ? { gracefulRestart: { restartTimeSeconds: Math.round(peer.gracefulRestart.restartTimeMs / 1000) } } : {}),
    ...(fams.length > 0 ? { families: fams } : {}),
  };
  return { config };
}
