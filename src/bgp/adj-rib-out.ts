// The Adj-RIB-Out of one peer (RFC 4271 §3.2): the desired routes (what the caller asked for),
// what this session has sent, and the set of prefixes whose two states may differ. The dirty set
// holds keys only, so a burst of changes to one prefix coalesces into its latest state.
import type { Family } from '../net/ip.ts';
import type { Prefix } from '../net/prefix.ts';
import type { Route, RouteAttributes } from './route.ts';
import { attributeKey } from './outbound-attributes.ts';

/** One interned attribute set; identity comparison means "same attributes". */
export interface AttributeSet {
  readonly id: number;
  readonly key: string;
  readonly attributes: RouteAttributes;
}

/**
 * A prefix as a string of its wire bytes (length byte + significant network bytes, read as
 * latin1): a compact Map key that the packer copies straight into UPDATEs.
 */
export function prefixKey(p: Prefix): string {
  const n = (p.length + 7) >> 3;
  if (p.family === 4) return wordChars(p.length, Number(p.network), n);
  // Four 32-bit words; only as many bytes as the length needs (usually all for /128).
  const v = p.network;
  const w0 = Number(v >> 96n);
  if (n <= 4) return wordChars(p.length, w0, n);
  const w1 = Number((v >> 64n) & 0xffffffffn);
  const w2 = Number((v >> 32n) & 0xffffffffn);
  const w3 = Number(v & 0xffffffffn);
  return wordChars(p.length, w0, 4) + wordChars(-1, w1, Math.min(4, n - 4)) + wordChars(-1, w2, Math.max(0, Math.min(4, n - 8))) + wordChars(-1, w3, Math.max(0, n - 12));
}

/** `bytes` leading bytes of a 32-bit word as latin1 characters, after a length byte (unless lead < 0). */
function wordChars(lead: number, w: number, bytes: number): string {
  const c = String.fromCharCode;
  const b0 = w >>> 24, b1 = (w >>> 16) & 0xff, b2 = (w >>> 8) & 0xff, b3 = w & 0xff;
  if (lead < 0) {
    switch (bytes) {
      case 0: return '';
      case 1: return c(b0);
      case 2: return c(b0, b1);
      case 3: return c(b0, b1, b2);
      default: return c(b0, b1, b2, b3);
    }
  }
  switch (bytes) {
    case 0: return c(lead);
    case 1: return c(lead, b0);
    case 2: return c(lead, b0, b1);
    case 3: return c(lead, b0, b1, b2);
    default: return c(lead, b0, b1, b2, b3);
  }
}

export function prefixFromKey(family: Family, key: string): Prefix {
  const length = key.charCodeAt(0);
  const bytes = family === 4 ? 4 : 16;
  let network = 0n;
  for (let i = 0; i < bytes; i++) network = (network << 8n) | BigInt(i + 1 < key.length ? key.charCodeAt(i + 1) : 0);
  return { family, network, length };
}

/** Sets are compared by identity first; a set that left the intern table and came back is equal by key. */
export const sameSet = (a: AttributeSet | undefined, b: AttributeSet | undefined): boolean => a === b || (a !== undefined && b !== undefined && a.key === b.key);

export class FamilyTable {
  /** Prefix key -> the attribute set wanted: no object per route (at 50,000 prefixes x peers they add up). */
  readonly desired = new Map<string, AttributeSet>();
  /**
   * What the peer holds where it is not what `desired` says (null: nothing); every other desired
   * prefix is held as desired. Once the table is sent this is empty: a second 50,000-entry Map per
   * peer ("sent") repeated `desired` (~1.75 MiB of table each at 50,000 prefixes).
   */
  readonly differs = new Map<string, AttributeSet | null>();
  /** Keys whose desired and sent state may differ. */
  readonly dirty = new Set<string>();
  /** A session is up: only then does the peer hold anything. */
  active = false;

  /** What the peer holds for the key from this session. */
  sent(k: string): AttributeSet | undefined {
    if (!this.active) return undefined;
    const d = this.differs.get(k);
    return d !== undefined ? d ?? undefined : this.desired.get(k);
  }

  /** The peer now holds `set` (undefined: nothing) for the key. */
  markSent(k: string, set: AttributeSet | undefined): void {
    if (set === this.desired.get(k)) this.differs.delete(k);
    else this.differs.set(k, set ?? null);
  }

  /** Called before `desired` changes for the key: keeps what the peer holds, then marks it dirty. */
  changing(k: string): void {
    if (!this.active) return;
    if (!this.differs.has(k)) this.differs.set(k, this.desired.get(k) ?? null);
    this.dirty.add(k);
  }

  /** How many prefixes the peer holds from this session. */
  get sentCount(): number {
    if (!this.active) return 0;
    let n = this.desired.size;
    for (const [k, v] of this.differs) n += (v !== null ? 1 : 0) - (this.desired.has(k) ? 1 : 0);
    return n;
  }
}

export class AdjRibOut {
  readonly tables: Record<Family, FamilyTable> = { 4: new FamilyTable(), 6: new FamilyTable() };
  private sets = new Map<string, AttributeSet>();
  private byObject = new WeakMap<RouteAttributes, AttributeSet>();
  private nextId = 1;
  /** True while a session is up: only then are changes tracked for sending. */
  private active = false;

  /** Replaces the desired routes; marks only the prefixes whose state changed. Returns the number of changes. */
  setDesired(routes: readonly Route[]): number {
    // A fresh intern table per call, reusing surviving sets: sets no longer used are dropped.
    const oldSets = this.sets;
    const sets = new Map<string, AttributeSet>();
    const byObject = new WeakMap<RouteAttributes, AttributeSet>();
    const intern = (a: RouteAttributes): AttributeSet => {
      let s = byObject.get(a);
      if (s) return s;
      // The same (immutable) attributes object as last time: same key, no need to compute it.
      const previous = this.byObject.get(a);
      const key = previous ? previous.key : attributeKey(a);
      s = sets.get(key) ?? previous ?? oldSets.get(key);
      if (!s) s = { id: this.nextId++, key, attributes: a };
      sets.set(key, s);
      byObject.set(a, s);
      return s;
    };
    // Updated in place (an existing entry keeps its key string, shared with `sent`): the keys seen
    // in this call stay, the rest are withdrawn.
    const seen: Record<Family, Set<string>> = { 4: new Set(), 6: new Set() };
    let changes = 0;
    for (const r of routes) {
      const t = this.tables[r.prefix.family];
      const k = prefixKey(r.prefix);
      const set = intern(r.attributes);
      const was = t.desired.get(k);
      const duplicate = seen[r.prefix.family].has(k);
      seen[r.prefix.family].add(k);
      // An equal set: the peer holds what it should (the packer compares sets by key).
      if (was !== undefined && sameSet(was, set)) { t.desired.set(k, set); continue; }
      t.changing(k);
      t.desired.set(k, set);
      // The same prefix twice in one call: the last one wins, counted once.
      if (!duplicate) changes++;
    }
    for (const family of [4, 6] as const) {
      const t = this.tables[family];
      for (const k of t.desired.keys()) {
        if (seen[family].has(k)) continue;
        t.changing(k);
        t.desired.delete(k);
        changes++;
      }
    }
    this.sets = sets;
    this.byObject = byObject;
    return changes;
  }

  /**
   * Changes some desired routes and leaves the rest alone: what one edit costs (setDesired walks
   * every route). Attribute sets are interned into the same table; returns the number of changes.
   */
  updateDesired(announce: readonly Route[], withdraw: readonly Prefix[]): number {
    let changes = 0;
    for (const p of withdraw) {
      const t = this.tables[p.family];
      const k = prefixKey(p);
      if (!t.desired.has(k)) continue;
      t.changing(k);
      t.desired.delete(k);
      changes++;
    }
    for (const r of announce) {
      const t = this.tables[r.prefix.family];
      const k = prefixKey(r.prefix);
      let set = this.byObject.get(r.attributes);
      if (!set) {
        const key = attributeKey(r.attributes);
        set = this.sets.get(key) ?? { id: this.nextId++, key, attributes: r.attributes };
        this.sets.set(key, set);
        this.byObject.set(r.attributes, set);
      }
      const was = t.desired.get(k);
      if (was && sameSet(was, set)) continue;
      t.changing(k);
      t.desired.set(k, set);
      changes++;
    }
    return changes;
  }

  /** A session came up: the peer holds nothing, so everything desired is to be sent. */
  sessionUp(): void {
    this.active = true;
    for (const t of Object.values(this.tables)) {
      t.active = true;
      t.differs.clear();
      t.dirty.clear();
      for (const k of t.desired.keys()) { t.differs.set(k, null); t.dirty.add(k); }
    }
  }

  /** The session ended: forget what was sent; nothing is tracked until the next one. */
  sessionDown(): void {
    this.active = false;
    for (const t of Object.values(this.tables)) { t.active = false; t.differs.clear(); t.dirty.clear(); }
  }

  /** ROUTE-REFRESH: send every desired route of the family again. */
  refresh(family: Family): void {
    if (!this.active) return;
    const t = this.tables[family];
    for (const k of t.desired.keys()) { t.differs.set(k, null); t.dirty.add(k); }
  }

  hasPending(): boolean { return this.tables[4].dirty.size > 0 || this.tables[6].dirty.size > 0; }
  get desiredCount(): number { return this.tables[4].desired.size + this.tables[6].desired.size; }
  get sentCount(): number { return this.tables[4].sentCount + this.tables[6].sentCount; }
}
