// rtnetlink route messages (RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE, linux/rtnetlink.h), built
// and parsed here; the addon only moves the bytes (native/netsock.cc `netlink*`). Pure: no I/O.
// Layout: nlmsghdr (16 bytes: len, type, flags, seq, pid), rtmsg (12 bytes), then attributes
// (len, type, value padded to 4). Several next hops go in RTA_MULTIPATH as rtnexthop records,
// each with its own RTA_GATEWAY (and RTA_OIF-less: the kernel finds the interface by the gateway,
// as `ip route add ... nexthop via A nexthop via B` does).
import { type IpAddress, ipFromBytes, ipToBytes } from '../net/ip.ts';
import { type Prefix, makePrefix } from '../net/prefix.ts';

export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

const AF_INET = 2;
const AF_INET6 = 10;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_MULTIPATH = 9;
const RTA_TABLE = 15;
const RTN_UNICAST = 1;
const RT_SCOPE_UNIVERSE = 0;
const RT_TABLE_UNSPEC = 0;

export interface KernelRoute {
  readonly prefix: Prefix;
  readonly table: number;
  readonly protocol: number;
  readonly metric: number;
  /** Gateways; several: one multipath (ECMP) route. None on a delete. */
  readonly nextHops: readonly IpAddress[];
}

const align = (n: number): number => (n + 3) & ~3;

function attr(type: number, value: Buffer): Buffer {
  const b = Buffer.alloc(align(4 + value.length));
  b.writeUInt16LE(4 + value.length, 0);
  b.writeUInt16LE(type, 2);
  value.copy(b, 4);
  return b;
}

const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0, 0); return b; };

// Netlink is in the host's byte order: little-endian on every platform ironlb is built for.
const hdr = (len: number, type: number, flags: number, seq: number): Buffer => {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  return b;
};

function rtmsg(family: 4 | 6, dstLen: number, table: number, protocol: number, type: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = family === 4 ? AF_INET : AF_INET6;
  b[1] = dstLen;
  b[4] = table < 256 ? table : RT_TABLE_UNSPEC;
  b[5] = protocol;
  b[6] = RT_SCOPE_UNIVERSE;
  b[7] = type;
  return b;
}

function message(type: number, flags: number, seq: number, body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([hdr(16 + payload.length, type, flags, seq), payload]);
}

/**
 * RTM_NEWROUTE (`replace`: NLM_F_REPLACE, ours already there; else NLM_F_EXCL, so a route someone
 * else has in the same slot is never overwritten) or RTM_DELROUTE (matched by table, prefix,
 * protocol and metric: the kernel deletes only a route with this protocol number).
 */
export function encodeRoute(op: 'add' | 'replace' | 'delete', r: KernelRoute, seq: number): Buffer {
  const family = r.prefix.family;
  const attrs = [
    attr(RTA_DST, ipToBytes({ family, value: r.prefix.network })),
    attr(RTA_TABLE, u32(r.table)),
    attr(RTA_PRIORITY, u32(r.metric)),
  ];
  if (op !== 'delete') {
    if (r.nextHops.length === 1) attrs.push(attr(RTA_GATEWAY, ipToBytes(r.nextHops[0]!)));
    else if (r.nextHops.length > 1) {
      attrs.push(attr(RTA_MULTIPATH, Buffer.concat(r.nextHops.map((h) => {
        const gw = attr(RTA_GATEWAY, ipToBytes(h));
        const nh = Buffer.alloc(8); // rtnexthop: len, flags, hops (weight - 1), ifindex
        nh.writeUInt16LE(8 + gw.length, 0);
        return Buffer.concat([nh, gw]);
      }))));
    }
  }
  const flags = NLM_F_REQUEST | NLM_F_ACK | (op === 'add' ? NLM_F_CREATE | NLM_F_EXCL : op === 'replace' ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  return message(op === 'delete' ? RTM_DELROUTE : RTM_NEWROUTE, flags, seq, [rtmsg(family, r.prefix.length, r.table, r.protocol, RTN_UNICAST), ...attrs]);
}

/** A dump of one family's routes (every table; the caller filters). */
export function encodeRouteDump(family: 4 | 6, seq: number): Buffer {
  return message(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq, [rtmsg(family, 0, 0, 0, 0)]);
}

export type NetlinkReply =
  | { readonly kind: 'ack'; readonly seq: number; readonly errno: number; readonly message?: string }
  | { readonly kind: 'done'; readonly seq: number }
  | { readonly kind: 'route'; readonly seq: number; readonly route: KernelRoute & { readonly oif?: number } };

function attrs(b: Buffer, from: number, to: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let o = from; o + 4 <= to;) {
    const len = b.readUInt16LE(o);
    if (len < 4 || o + len > to) break;
    out.set(b.readUInt16LE(o + 2) & 0x3fff, b.subarray(o + 4, o + len));
    o += align(len);
  }
  return out;
}

const NLMSGERR_ATTR_MSG = 1;
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;

/** Every message in one datagram from the kernel: ACKs (errno 0) and errors, dump entries, DONE. */
export function parseReplies(b: Buffer): NetlinkReply[] {
  const out: NetlinkReply[] = [];
  for (let o = 0; o + 16 <= b.length;) {
    const len = b.readUInt32LE(o);
    if (len < 16 || o + len > b.length) break;
    const type = b.readUInt16LE(o + 4);
    const seq = b.readUInt32LE(o + 8);
    const body = o + 16;
    if (type === NLMSG_ERROR) {
      const errno = -b.readInt32LE(body);
      // The request follows (only its header when NLM_F_CAPPED), then, with NLM_F_ACK_TLVS
      // (NETLINK_EXT_ACK), attributes: the kernel's error text.
      const flags = b.readUInt16LE(o + 6);
      const origLen = flags & NLM_F_CAPPED ? 16 : align(b.readUInt32LE(body + 4));
      const ext = flags & NLM_F_ACK_TLVS ? attrs(b, body + 4 + origLen, o + len).get(NLMSGERR_ATTR_MSG) : undefined;
      const message = ext ? ext.subarray(0, ext.indexOf(0) < 0 ? ext.length : ext.indexOf(0)).toString() : undefined;
      out.push({ kind: 'ack', seq, errno, ...(message ? { message } : {}) });
    } else if (type === NLMSG_DONE) {
      out.push({ kind: 'done', seq });
    } else if (type === RTM_NEWROUTE && len >= 28) {
      const family = b[body] === AF_INET ? 4 : b[body] === AF_INET6 ? 6 : undefined;
      if (family !== undefined) {
        const a = attrs(b, body + 12, o + len);
        const dst = a.get(RTA_DST);
        const table = a.get(RTA_TABLE)?.readUInt32LE(0) ?? b[body + 4]!;
        const value = dst ? ipFromBytes(dst).value : 0n;
        const nextHops: IpAddress[] = [];
        const gw = a.get(RTA_GATEWAY);
        if (gw) nextHops.push(ipFromBytes(gw));
        const mp = a.get(RTA_MULTIPATH);
        for (let m = 0; mp && m + 8 <= mp.length;) {
          const nlen = mp.readUInt16LE(m);
          if (nlen < 8) break;
          const g = attrs(mp, m + 8, Math.min(m + nlen, mp.length)).get(RTA_GATEWAY);
          if (g) nextHops.push(ipFromBytes(g));
          m += align(nlen);
        }
        const oif = a.get(RTA_OIF)?.readUInt32LE(0);
        out.push({
          kind: 'route', seq,
          route: {
            prefix: makePrefix(family, value, b[body + 1]!), table, protocol: b[body + 5]!,
            metric: a.get(RTA_PRIORITY)?.readUInt32LE(0) ?? 0, nextHops, ...(oif !== undefined ? { oif } : {}),
          },
        });
      }
    }
    o += align(len);
  }
  return out;
}
