// Address text on the allocation hot path. Same output as net/ip.ts formatIp (dotted quad,
// RFC 5952), but with one BigInt operation per address instead of one per group, so writing
// 100k statuses costs the same for IPv6 as for IPv4.
import type { IpAddress } from '../net/ip.ts';

export function formatAddress(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  }
  const hex = ip.value.toString(16).padStart(32, '0');
  const groups: string[] = [];
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    // Strip leading zeros of the group: parseInt/toString would cost more than a regex-free scan.
    let g = hex.slice(i * 4, i * 4 + 4);
    let k = 0;
    while (k < 3 && g.charCodeAt(k) === 48) k++;
    g = g.slice(k);
    groups.push(g);
    if (g === '0') {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) { bestStart = runStart; bestLen = i - runStart + 1; }
    } else runStart = -1;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

/** A dotted quad as a number, undefined unless four decimal parts 0-255 without leading zeros. */
function parseV4Number(s: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 255) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      if (++dots > 4) return undefined;
      continue;
    }
    if (!isDigit(c) || (digits === 1 && part === 0)) return undefined;
    part = part * 10 + (c - 48);
    if (++digits > 3) return undefined;
  }
  return dots === 4 ? value : undefined;
}

/** 1-4 hex digits, zero-padded to 4; undefined otherwise. */
function hexGroup(g: string): string | undefined {
  if (g.length < 1 || g.length > 4) return undefined;
  for (let i = 0; i < g.length; i++) if (!isHex(g.charCodeAt(i))) return undefined;
  return g.length === 4 ? g : '0000'.slice(g.length) + g;
}

/** The 32 hex digits of an IPv6 text (an IPv4 tail spelled as zeros) and that tail; undefined if invalid. */
function parseV6Hex(s: string): { hex: string; tail: number | undefined } | undefined {
  let text = s;
  let tail: number | undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  if (text.indexOf('.', lastColon) >= 0) {
    tail = parseV4Number(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const gap = text.indexOf('::');
  let groups: string[];
  if (gap < 0) {
    groups = text.split(':');
    if (groups.length !== 8) return undefined;
  } else {
    if (text.indexOf('::', gap + 1) >= 0) return undefined;
    const left = gap === 0 ? [] : text.slice(0, gap).split(':');
    const right = gap + 2 === text.length ? [] : text.slice(gap + 2).split(':');
    const missing = 8 - left.length - right.length;
    if (missing < 1) return undefined;
    groups = left;
    for (let i = 0; i < missing; i++) groups.push('0');
    for (const g of right) groups.push(g);
  }
  let hex = '';
  for (const g of groups) {
    const h = hexGroup(g);
    if (h === undefined) return undefined;
    hex += h;
  }
  return { hex, tail };
}

const v4MappedHead = '00000000000000000000ffff';

/**
 * Go's net.ParseIP, as the allocator needs it (no surrounding space, no zone, no leading zeros
 * in IPv4 parts); IPv4-mapped IPv6 addresses are IPv4, as in Go. One BigInt operation per address.
 */
export function parseAddress(text: string): IpAddress | undefined {
  if (text.indexOf(':') < 0) {
    const v = parseV4Number(text);
    return v === undefined ? undefined : { family: 4, value: BigInt(v) };
  }
  const p = parseV6Hex(text);
  if (p === undefined) return undefined;
  const mapped = p.hex.slice(0, 24).toLowerCase() === v4MappedHead;
  if (mapped) return { family: 4, value: BigInt(p.tail ?? parseInt(p.hex.slice(24), 16)) };
  let v = BigInt(`0x${p.hex}`);
  if (p.tail !== undefined) v = ((v >> 32n) << 32n) | BigInt(p.tail);
  return { family: 6, value: v };
}

/** The family net.ParseIP would give, without building the value; undefined when invalid. */
export function addressFamily(text: string): 4 | 6 | undefined {
  if (text.indexOf(':') < 0) return parseV4Number(text) === undefined ? undefined : 4;
  const p = parseV6Hex(text);
  if (p === undefined) return undefined;
  return p.hex.slice(0, 24).toLowerCase() === v4MappedHead ? 4 : 6;
}
