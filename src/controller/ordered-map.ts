// An ordered map keyed by bigint addresses: a treap, so that insert, delete, floor and ceiling
// cost O(log n) expected in the number of keys held, whatever the size of the address space.
// Node priorities come from a fixed-seed generator: the shape is random enough to stay balanced
// and the same on every run, which keeps the allocator deterministic down to its memory layout.

export interface Entry<V> {
  readonly key: bigint;
  value: V;
}

interface Node<V> extends Entry<V> {
  readonly priority: number;
  left: Node<V> | undefined;
  right: Node<V> | undefined;
}

export class OrderedMap<V> {
  private root: Node<V> | undefined;
  private count = 0;
  private seed = 0x2545f491;

  get size(): number {
    return this.count;
  }

  private nextPriority(): number {
    // xorshift32: cheap, deterministic, good enough for treap priorities.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }

  get(key: bigint): V | undefined {
    let n = this.root;
    while (n) {
      if (key === n.key) return n.value;
      n = key < n.key ? n.left : n.right;
    }
    return undefined;
  }

  has(key: bigint): boolean {
    return this.entry(key) !== undefined;
  }

  entry(key: bigint): Entry<V> | undefined {
    let n = this.root;
    while (n) {
      if (key === n.key) return n;
      n = key < n.key ? n.left : n.right;
    }
    return undefined;
  }

  /** The entry with the greatest key ≤ `key`. */
  floor(key: bigint): Entry<V> | undefined {
    let n = this.root;
    let best: Node<V> | undefined;
    // One BigInt comparison per level: they cost more than the pointer chasing.
    while (n) {
      if (n.key <= key) { best = n; n = n.right; } else n = n.left;
    }
    return best;
  }

  /** The entry with the least key ≥ `key`. */
  ceiling(key: bigint): Entry<V> | undefined {
    let n = this.root;
    let best: Node<V> | undefined;
    while (n) {
      if (n.key >= key) { best = n; n = n.left; } else n = n.right;
    }
    return best;
  }

  /** The entry with the least key > `key`. */
  higher(key: bigint): Entry<V> | undefined {
    let n = this.root;
    let best: Node<V> | undefined;
    while (n) {
      if (n.key > key) { best = n; n = n.left; } else n = n.right;
    }
    return best;
  }

  /** floor(key) and higher(key) in one descent. */
  around(key: bigint): [Entry<V> | undefined, Entry<V> | undefined] {
    let n = this.root;
    let lo: Node<V> | undefined;
    let hi: Node<V> | undefined;
    while (n) {
      if (n.key <= key) { lo = n; n = n.right; } else { hi = n; n = n.left; }
    }
    return [lo, hi];
  }

  /** The entry with the least key. */
  first(): Entry<V> | undefined {
    let n = this.root;
    while (n?.left) n = n.left;
    return n;
  }

  set(key: bigint, value: V): void {
    const e = this.entry(key);
    if (e) { e.value = value; return; }
    this.insertNew(key, value);
  }

  /** Inserts a key the caller knows is absent (saves the look-up `set` does first). */
  insertNew(key: bigint, value: V): void {
    this.root = this.insert(this.root, { key, value, priority: this.nextPriority(), left: undefined, right: undefined });
    this.count++;
  }

  delete(key: bigint): boolean {
    if (!this.entry(key)) return false;
    this.root = this.remove(this.root, key);
    this.count--;
    return true;
  }

  /** Entries in key order (for tests and status dumps; allocation never walks the whole map). */
  *entries(): IterableIterator<Entry<V>> {
    const stack: Node<V>[] = [];
    let n = this.root;
    while (n || stack.length > 0) {
      while (n) { stack.push(n); n = n.left; }
      const top = stack.pop()!;
      yield top;
      n = top.right;
    }
  }

  private insert(n: Node<V> | undefined, fresh: Node<V>): Node<V> {
    if (!n) return fresh;
    if (fresh.key < n.key) {
      n.left = this.insert(n.left, fresh);
      if (n.left.priority > n.priority) return rotateRight(n);
    } else {
      n.right = this.insert(n.right, fresh);
      if (n.right.priority > n.priority) return rotateLeft(n);
    }
    return n;
  }

  private remove(n: Node<V> | undefined, key: bigint): Node<V> | undefined {
    if (!n) return undefined;
    if (key < n.key) { n.left = this.remove(n.left, key); return n; }
    if (key > n.key) { n.right = this.remove(n.right, key); return n; }
    return merge(n.left, n.right);
  }
}

function rotateRight<V>(n: Node<V>): Node<V> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  return l;
}

function rotateLeft<V>(n: Node<V>): Node<V> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  return r;
}

function merge<V>(a: Node<V> | undefined, b: Node<V> | undefined): Node<V> | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.priority > b.priority) { a.right = merge(a.right, b); return a; }
  b.left = merge(a, b.left);
  return b;
}
