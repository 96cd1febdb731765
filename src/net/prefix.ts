// Prefixes (CIDRs) and address ranges on BigInt, IPv4 and IPv6 alike.
import { type Family, type IpAddress, familyBits, familyMax, formatIp, parseIp } from './ip.ts';

export interface Prefix {
  readonly family: Family;
  /** The network address: host bits are always zero. */
  readonly network: bigint;
  readonly length: number;
}

/** An inclusive range of addresses of one family. */
export interface IpRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

export const hostMask = (family: Family, length: number): bigint =>
  (1n << BigInt(familyBits(family) - length)) - 1n;

export function makePrefix(family: Family, address: bigint, length: number): Prefix {
  return { family, network: address & ~hostMask(family, length) & familyMax(family), length };
}

export interface ParsedPrefix {
  readonly prefix: Prefix;
  /** True when the text had bits set past the prefix length (`10.0.0.1/24`). */
  readonly hostBitsSet: boolean;
}

/** Parses `address/length`; undefined when it is not a CIDR. */
export function parsePrefix(text: string): ParsedPrefix | undefined {
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > familyBits(ip.family)) return undefined;
  const prefix = makePrefix(ip.family, ip.value, length);
  return { prefix, hostBitsSet: prefix.network !== ip.value };
}

export function formatPrefix(p: Prefix): string {
  return `${formatIp({ family: p.family, value: p.network })}/${p.length}`;
}

export const prefixFirst = (p: Prefix): bigint => p.network;
export const prefixLast = (p: Prefix): bigint => p.network | hostMask(p.family, p.length);
export const prefixSize = (p: Prefix): bigint => 1n << BigInt(familyBits(p.family) - p.length);
export const prefixToRange = (p: Prefix): IpRange => ({ family: p.family, first: prefixFirst(p), last: prefixLast(p) });

export function prefixContains(p: Prefix, ip: IpAddress): boolean {
  return p.family === ip.family && (ip.value & ~hostMask(p.family, p.length)) === p.network;
}

export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  const len = Math.min(a.length, b.length);
  const m = ~hostMask(a.family, len);
  return (a.network & m) === (b.network & m);
}

export function prefixEquals(a: Prefix, b: Prefix): boolean {
  return a.family === b.family && a.network === b.network && a.length === b.length;
}

export function comparePrefix(a: Prefix, b: Prefix): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  return a.length - b.length;
}

/** The prefix of the given length that holds `ip` (aggregation). */
export function prefixOf(ip: IpAddress, length: number): Prefix {
  return makePrefix(ip.family, ip.value, length);
}

/** The minimal list of CIDRs covering exactly [first, last], in address order. */
export function summarizeRange(range: IpRange): Prefix[] {
  const bits = familyBits(range.family);
  const out: Prefix[] = [];
  let cur = range.first;
  while (cur <= range.last) {
    // The largest block aligned at `cur` that does not pass `last`.
    let size = 0;
    while (size < bits) {
      const next = size + 1;
      const mask = (1n << BigInt(next)) - 1n;
      if ((cur & mask) !== 0n || cur + mask > range.last) break;
      size = next;
    }
    out.push({ family: range.family, network: cur, length: bits - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

/** Parses `start-end` (whitespace around either side allowed); undefined when it is not a range. */
export function parseRange(text: string): { range?: IpRange; error?: string } | undefined {
  const dash = text.indexOf('-');
  if (dash < 0) return undefined;
  const a = parseIp(text.slice(0, dash));
  const b = parseIp(text.slice(dash + 1));
  if (!a || !b) return { error: `invalid IP range "${text}": both ends must be IP addresses` };
  if (a.family !== b.family) return { error: `invalid IP range "${text}": both ends must be of the same family` };
  if (a.value > b.value) return { error: `invalid IP range "${text}": start is after end` };
  return { range: { family: a.family, first: a.value, last: b.value } };
}
