// BGP communities as values: standard (RFC 1997, two 16-bit halves) and large (RFC 8092).

export type Community =
  | { readonly kind: 'standard'; readonly value: number }
  | { readonly kind: 'large'; readonly global: number; readonly local1: number; readonly local2: number };

const u16 = /^(0|[1-9]\d{0,4})$/;
const u32 = /^(0|[1-9]\d{0,9})$/;

/** Parses `AS:VAL` or `large:GA:LD1:LD2`; returns an error text when malformed. */
export function parseCommunity(text: string): { community?: Community; error?: string } {
  const s = text.trim();
  if (s.startsWith('large:')) {
    const parts = s.slice('large:'.length).split(':');
    if (parts.length !== 3 || !parts.every((p) => u32.test(p) && Number(p) <= 0xffffffff)) {
      return { error: `invalid large community "${text}": want large:GA:LD1:LD2, each 0..4294967295` };
    }
    const [g, a, b] = parts.map(Number) as [number, number, number];
    return { community: { kind: 'large', global: g, local1: a, local2: b } };
  }
  const parts = s.split(':');
  if (parts.length !== 2 || !parts.every((p) => u16.test(p) && Number(p) <= 0xffff)) {
    return { error: `invalid community "${text}": want AS:VALUE, each 0..65535, or large:GA:LD1:LD2` };
  }
  const [hi, lo] = parts.map(Number) as [number, number];
  return { community: { kind: 'standard', value: ((hi << 16) >>> 0) + lo } };
}

export function formatCommunity(c: Community): string {
  if (c.kind === 'standard') return `${c.value >>> 16}:${c.value & 0xffff}`;
  return `large:${c.global}:${c.local1}:${c.local2}`;
}

export function compareCommunity(a: Community, b: Community): number {
  const ka = formatKey(a);
  const kb = formatKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function formatKey(c: Community): string {
  return c.kind === 'standard'
    ? `0:${c.value.toString(16).padStart(8, '0')}`
    : `1:${[c.global, c.local1, c.local2].map((x) => x.toString(16).padStart(8, '0')).join('')}`;
}

/** A merged, sorted, duplicate-free list. */
export function mergeCommunities(...lists: readonly (readonly Community[])[]): Community[] {
  const seen = new Map<string, Community>();
  for (const l of lists) for (const c of l) seen.set(formatKey(c), c);
  return [...seen.values()].sort(compareCommunity);
}
