// ARP (RFC 826) and Neighbor Discovery (RFC 4861) packets: parsed and built here, sent and
// received by the native addon. Pure functions over Buffers, so every byte is unit-tested.
import { type IpAddress, ipFromBytes, ipToBytes } from '../net/ip.ts';

export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const BROADCAST_MAC = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ALL_NODES = Buffer.from('ff020000000000000000000000000001', 'hex');

export interface ArpPacket {
  readonly op: number;
  readonly senderMac: Buffer;
  readonly senderIp: IpAddress;
  readonly targetMac: Buffer;
  readonly targetIp: IpAddress;
}

/** An Ethernet/IPv4 ARP payload (the kernel strips the Ethernet header); undefined otherwise. */
export function parseArp(b: Buffer): ArpPacket | undefined {
  if (b.length < 28 || b.readUInt16BE(0) !== 1 || b.readUInt16BE(2) !== 0x0800 || b[4] !== 6 || b[5] !== 4) return undefined;
  return {
    op: b.readUInt16BE(6),
    senderMac: b.subarray(8, 14),
    senderIp: ipFromBytes(b.subarray(14, 18)),
    targetMac: b.subarray(18, 24),
    targetIp: ipFromBytes(b.subarray(24, 28)),
  };
}

export function buildArp(op: number, senderMac: Buffer, senderIp: IpAddress, targetMac: Buffer, targetIp: IpAddress): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 0); // Ethernet
  b.writeUInt16BE(0x0800, 2); // IPv4
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(op, 6);
  senderMac.copy(b, 8);
  ipToBytes(senderIp).copy(b, 14);
  targetMac.copy(b, 18);
  ipToBytes(targetIp).copy(b, 24);
  return b;
}

/** The reply to a request for `vip`, from `mac`, addressed to the asker. */
export function arpReply(req: ArpPacket, mac: Buffer, vip: IpAddress): Buffer {
  return buildArp(ARP_REPLY, mac, vip, req.senderMac, req.senderIp);
}

/**
 * Gratuitous ARP: sender and target protocol address are both the VIP. MetalLB sends it twice,
 * as a request (target MAC zero) and as a reply (target MAC broadcast), because hosts differ in
 * which of the two updates their caches; both go to the broadcast address.
 */
export function gratuitousArp(op: typeof ARP_REQUEST | typeof ARP_REPLY, mac: Buffer, vip: IpAddress): Buffer {
  return buildArp(op, mac, vip, op === ARP_REQUEST ? Buffer.alloc(6) : BROADCAST_MAC, vip);
}

export interface NeighborSolicitation {
  readonly target: IpAddress;
  /** The Source Link-Layer Address option (absent in DAD probes). */
  readonly sourceMac?: Buffer;
}

/** An ICMPv6 Neighbor Solicitation (as a raw ICMPv6 socket delivers it: no IPv6 header). */
export function parseNeighborSolicitation(b: Buffer): NeighborSolicitation | undefined {
  if (b.length < 24 || b[0] !== ND_NEIGHBOR_SOLICIT || b[1] !== 0) return undefined;
  const target = ipFromBytes(b.subarray(8, 24));
  let sourceMac: Buffer | undefined;
  for (let off = 24; off + 8 <= b.length;) {
    const len = b[off + 1]! * 8;
    if (len === 0) return undefined; // RFC 4861 §4.6: a zero-length option invalidates the packet
    if (b[off] === 1 && len >= 8) sourceMac = b.subarray(off + 2, off + 8);
    off += len;
  }
  return sourceMac ? { target, sourceMac } : { target };
}

/** ff02::1:ffXX:XXXX, the group a solicitation for `ip` is sent to. */
export function solicitedNodeGroup(ip: IpAddress): IpAddress {
  return { family: 6, value: 0xff020000000000000000000000000000n | 0x1ff000000n | (ip.value & 0xffffffn) };
}

/** The Ethernet multicast address of an IPv6 multicast group (33:33 + its last 32 bits). */
export function ipv6MulticastMac(group: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x33, 0x33]), group.subarray(12, 16)]);
}

function checksum(parts: readonly Buffer[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += p.readUInt16BE(i);
    if (p.length % 2 === 1) sum += p[p.length - 1]! << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export const NA_ROUTER = 0x80;
export const NA_SOLICITED = 0x40;
export const NA_OVERRIDE = 0x20;

/**
 * A whole IPv6 packet (header + Neighbor Advertisement with the Target Link-Layer Address option)
 * for an AF_PACKET socket. It is sourced from the VIP itself: ndisc6 and other strict clients
 * ignore an advertisement for a target that comes from another address. Hop limit 255 (§7.1.2).
 */
export function neighborAdvertisement(vip: IpAddress, mac: Buffer, destination: Buffer, flags: number): Buffer {
  const icmp = Buffer.alloc(32);
  icmp[0] = ND_NEIGHBOR_ADVERT;
  icmp[4] = flags;
  ipToBytes(vip).copy(icmp, 8);
  icmp[24] = 2; // Target Link-Layer Address
  icmp[25] = 1;
  mac.copy(icmp, 26);
  const src = ipToBytes(vip);
  const pseudo = Buffer.alloc(8);
  pseudo.writeUInt32BE(icmp.length, 0);
  pseudo[7] = 58;
  icmp.writeUInt16BE(checksum([src, destination, pseudo, icmp]), 2);
  const ip6 = Buffer.alloc(40);
  ip6.writeUInt32BE(0x60000000, 0);
  ip6.writeUInt16BE(icmp.length, 4);
  ip6[6] = 58;
  ip6[7] = 255;
  src.copy(ip6, 8);
  destination.copy(ip6, 24);
  return Buffer.concat([ip6, icmp]);
}

/** Verifies the ICMPv6 checksum of a whole IPv6 packet (tests and the lab's own checks). */
export function icmpv6ChecksumOk(packet: Buffer): boolean {
  const len = packet.readUInt16BE(4);
  const pseudo = Buffer.alloc(8);
  pseudo.writeUInt32BE(len, 0);
  pseudo[7] = 58;
  return checksum([packet.subarray(8, 24), packet.subarray(24, 40), pseudo, packet.subarray(40, 40 + len)]) === 0;
}

export const formatMac = (mac: Buffer): string => [...mac].map((x) => x.toString(16).padStart(2, '0')).join(':');
export const parseMac = (text: string): Buffer => Buffer.from(text.trim().split(':').map((h) => parseInt(h, 16)));
