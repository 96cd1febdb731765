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
  if (p.family === 4) {
    const v = Number(p.network);
    const b = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    return String.fromCharCode(p.length, ...b.slice(0, n));
  }
  const words = [Number((p.network >> 96n) & 0xffffffffn), Number((p.network >> 64n) & 0xffffffffn), Number((p.network >> 32n) & 0xffffffffn), Number(p.network & 0xffffffffn)];
  const b: number[] = [];
  for (const w of words) b.push(w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff);
  return String.fromCharCode(p.length, ...b.slice(0, n));
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
  desired = new Map<string, AttributeSet>();
  /** What the peer holds from this session. */
  readonly sent = new Map<string, AttributeSet>();
  /** Keys whose desired and sent state may differ. */
  readonly dirty = new Set<string>();
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
    const next: Record<Family, Map<string, AttributeSet>> = { 4: new Map(), 6: new Map() };
    for (const r of routes) next[r.prefix.family].set(prefixKey(r.prefix), intern(r.attributes));
    let changes = 0;
    for (const family of [4, 6] as const) {
      const t = this.tables[family];
      const now = next[family];
      for (const [k, s] of now) if (!sameSet(t.desired.get(k), s)) { changes++; if (this.active) t.dirty.add(k); }
      for (const k of t.desired.keys()) if (!now.has(k)) { changes++; if (this.active) t.dirty.add(k); }
      t.desired = now;
    }
    this.sets = sets;
    this.byObject = byObject;
    return changes;
  }

  /** A session came up: the peer holds nothing, so everything desired is to be sent. */
  sessionUp(): void {
    this.active = true;
    for (const t of Object.values(this.tables)) {
      t.sent.clear();
      t.dirty.clear();
      for (const k of t.desired.keys()) t.dirty.add(k);
    }
  }

  /** The session ended: forget what was sent; nothing is tracked until the next one. */
  sessionDown(): void {
    this.active = false;
    for (const t of Object.values(this.tables)) { t.sent.clear(); t.dirty.clear(); }
  }

  /** ROUTE-REFRESH: send every desired route of the family again. */
  refresh(family: Family): void {
    if (!this.active) return;
    const t = this.tables[family];
    for (const k of t.desired.keys()) { t.sent.delete(k); t.dirty.add(k); }
  }

  hasPending(): boolean { return this.tables[4].dirty.size > 0 || this.tables[6].dirty.size > 0; }
  get desiredCount(): number { return this.tables[4].desired.size + this.tables[6].desired.size; }
  get sentCount(): number { return this.tables[4].sent.size + this.tables[6].sent.size; }
}
