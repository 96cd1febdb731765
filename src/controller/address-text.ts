// Address text on the allocation hot path. Same output as net/ip.ts formatIp (dotted quad,
// RFC 5952), but with one BigInt operation per address instead of one per group, so writing
// 100k statuses costs the same for IPv6 as for IPv4.
import type { IpAddress } from '../net/ip.ts';

export function formatAddress(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  }
  return formatV6(ip.value);
}

/** Group text without leading zeros ("0" for zero) of the 4 hex digits at `at`. */
function groupText(hex: string, at: number): string {
  let k = 0;
  while (k < 3 && hex.charCodeAt(at + k) === 48) k++;
  return hex.slice(at + k, at + 4);
}

// Consecutive addresses in a pool share their upper 96 bits. For those, the text is kept as a
// template per zero-ness of the last two groups (RFC 5952's "::" depends only on which groups
// are zero), so most addresses cost one BigInt subtraction and two or three concatenations.
let base = -1n;
/** Pieces around the texts of groups 6 and 7, indexed by (group 6 ≠ 0) | (group 7 ≠ 0) << 1. */
const templates: string[][] = [[], [], [], []];

function formatV6(value: bigint): string {
  let low = value - base;
  if (base < 0n || low < 0n || low > 0xffffffffn) {
    const hex = value.toString(16).padStart(32, '0');
    const texts: string[] = [];
    for (let i = 0; i < 6; i++) texts.push(groupText(hex, i * 4));
    for (let k = 0; k < 4; k++) {
      // Non-zero groups as marks ('x', 'y': never in the text of an address), split out afterwards.
      templates[k] = rfc5952([...texts, (k & 1) !== 0 ? 'x' : '0', (k & 2) !== 0 ? 'y' : '0']).split(/[xy]/);
    }
    base = value - BigInt.asUintN(32, value);
    low = value - base;
  }
  const n = Number(low);
  const g6 = n >>> 16;
  const g7 = n & 0xffff;
  const p = templates[(g6 !== 0 ? 1 : 0) | (g7 !== 0 ? 2 : 0)]!;
  if (g6 === 0) return g7 === 0 ? p[0]! : p[0]! + g7.toString(16) + p[1]!;
  return g7 === 0 ? p[0]! + g6.toString(16) + p[1]! : p[0]! + g6.toString(16) + p[1]! + g7.toString(16) + p[2]!;
}

/** Eight group texts without leading zeros → RFC 5952 text (the first longest run of two or more zero groups is "::"). */
function rfc5952(texts: readonly string[]): string {
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (texts[i] === '0') {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) { bestStart = runStart; bestLen = i - runStart + 1; }
    } else runStart = -1;
  }
  if (bestStart < 0) return texts.join(':');
  return `${texts.slice(0, bestStart).join(':')}::${texts.slice(bestStart + bestLen).join(':')}`;
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

const hexValue = (c: number): number => (c <= 57 ? c - 48 : (c | 32) - 87);

/**
 * Parses an IPv6 text into eight 16-bit groups in one pass (`::`, an IPv4 tail); false when
 * invalid. No strings or BigInts are built, so checking a ClusterIP's family costs little.
 */
function parseV6Groups(s: string, out: number[]): boolean {
  const n = s.length;
  let g = 0;
  let gap = -1;
  let i = 0;
  if (n >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) { gap = 0; i = 2; }
  while (i < n) {
    let j = i;
    let v = 0;
    while (j < n && j - i < 5 && isHex(s.charCodeAt(j))) { v = v * 16 + hexValue(s.charCodeAt(j)); j++; }
    if (j < n && s.charCodeAt(j) === 46) {
      const tail = g <= 6 ? parseV4Number(s.slice(i)) : undefined;
      if (tail === undefined) return false;
      out[g++] = Math.floor(tail / 65536);
      out[g++] = tail % 65536;
      break;
    }
    if (j === i || j - i > 4 || g >= 8) return false;
    out[g++] = v;
    i = j;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = g;
      i++;
    } else if (i === n) return false;
  }
  if (gap < 0) return g === 8;
  if (g > 7) return false;
  const after = g - gap;
  for (let k = 0; k < after; k++) out[7 - k] = out[g - 1 - k]!;
  for (let k = gap; k < 8 - after; k++) out[k] = 0;
  return true;
}

const groups: number[] = [0, 0, 0, 0, 0, 0, 0, 0];
const isV4Mapped = (x: readonly number[]): boolean => x[0] === 0 && x[1] === 0 && x[2] === 0 && x[3] === 0 && x[4] === 0 && x[5] === 0xffff;

/**
 * Go's net.ParseIP, as the allocator needs it (no surrounding space, no zone, no leading zeros
 * in IPv4 parts); IPv4-mapped IPv6 addresses are IPv4, as in Go.
 */
export function parseAddress(text: string): IpAddress | undefined {
  if (text.indexOf(':') < 0) {
    const v = parseV4Number(text);
    return v === undefined ? undefined : { family: 4, value: BigInt(v) };
  }
  if (!parseV6Groups(text, groups)) return undefined;
  if (isV4Mapped(groups)) return { family: 4, value: BigInt(groups[6]! * 65536 + groups[7]!) };
  let hex = '0x';
  for (const x of groups) hex += x < 0x10 ? `000${x.toString(16)}` : x < 0x100 ? `00${x.toString(16)}` : x < 0x1000 ? `0${x.toString(16)}` : x.toString(16);
  return { family: 6, value: BigInt(hex) };
}

/** The family net.ParseIP would give, without building the value; undefined when invalid. */
export function addressFamily(text: string): 4 | 6 | undefined {
  if (text.indexOf(':') < 0) return parseV4Number(text) === undefined ? undefined : 4;
  if (!parseV6Groups(text, groups)) return undefined;
  return isV4Mapped(groups) ? 4 : 6;
}
