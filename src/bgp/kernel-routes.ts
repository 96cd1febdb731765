// Received routes into the node's kernel routing table over rtnetlink (rtnetlink.ts builds the
// messages, the native addon moves them; no process is spawned). Every route ironlb writes
// carries its own route protocol number (248) and every delete names it, so routes ironlb did not
// install are never touched — not even one for the same prefix: the kernel deletes only a route
// with that protocol, and a new route is added with NLM_F_EXCL, so a route someone else has in
// the same slot (table, prefix, metric) makes the add fail rather than be overwritten. Each
// operation's answer is read: only what the kernel accepted counts as installed. `cleanup()`
// removes every route with ironlb's protocol from the table (what a killed run left, too) and is
// what shutdown calls.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { type IpAddress, formatIp } from '../net/ip.ts';
import { type Prefix, formatPrefix } from '../net/prefix.ts';
import { loadNative } from '../native/addon.ts';
import type { BgpLogger } from './peer-config.ts';
import { type KernelRoute, type NetlinkReply, encodeRoute, encodeRouteDump, parseReplies } from './rtnetlink.ts';

/** ironlb's route protocol number (rtnetlink rtm_protocol): unused by the kernel, FRR, BIRD. */
export const ironlbRouteProtocol = 248;
/**
 * The metric of the routes ironlb installs (FRR's zebra uses 20 for BGP too). The kernel tells
 * routes apart by table, prefix and metric: a static route (metric 0) for the same prefix stays
 * in force and untouched.
 */
export const ironlbRouteMetric = 20;

export type RouteOp = { readonly op: 'add' | 'replace' | 'delete'; readonly route: KernelRoute };

/** Where routes are written: rtnetlink (NetlinkRouteWriter), or a fake in unit tests. */
export interface RouteWriter {
  /** Applies the operations in order; per operation undefined (done) or why it failed. */
  apply(ops: readonly RouteOp[]): Promise<(string | undefined)[]>;
  /** The routes of one protocol in one table, both families. */
  list(table: number, protocol: number): Promise<KernelRoute[]>;
  close(): void;
}

export interface KernelRoutesOptions {
  /** Routing table number; default 254 (main). */
  readonly table?: number;
  readonly protocol?: number;
  /** Write inside this named network namespace (/run/netns/NAME; tests). */
  readonly netns?: string;
  readonly logger?: BgpLogger;
  /** Replaces rtnetlink (unit tests). */
  readonly writer?: RouteWriter;
  /** After each write: what routes() reports may have changed. */
  readonly onWritten?: () => void;
}

const errnoText = (errno: number, message?: string): string => {
  const names: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL', 101: 'ENETUNREACH', 113: 'EHOSTUNREACH' };
  return `${names[errno] ?? `errno ${errno}`}${message ? `: ${message}` : ''}`;
};

/** rtnetlink through the addon: one NETLINK_ROUTE socket, requests sent in chunks, every answer read. */
export class NetlinkRouteWriter implements RouteWriter {
  private fd: number | undefined;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  /** Messages per datagram: a few kB each way, and the event loop gets a turn between chunks. */
  private static readonly chunk = 128;

  constructor(private readonly netns?: string) {}

  private socket(): number {
    this.fd ??= loadNative().netlinkOpen(this.netns !== undefined ? `/run/netns/${this.netns}` : undefined);
    return this.fd;
  }

  /** Every reply queued now (the kernel answers while the request is being sent). */
  private drain(): NetlinkReply[] {
    const out: NetlinkReply[] = [];
    const native = loadNative();
    for (let b = native.netlinkRecv(this.socket()); b; b = native.netlinkRecv(this.socket())) out.push(...parseReplies(b));
    return out;
  }

  async apply(ops: readonly RouteOp[]): Promise<(string | undefined)[]> {
    const results: (string | undefined)[] = [];
    for (let i = 0; i < ops.length; i += NetlinkRouteWriter.chunk) {
      if (i > 0) await yieldToLoop();
      const part = ops.slice(i, i + NetlinkRouteWriter.chunk);
      const first = (this.seq = (this.seq + 1) >>> 0);
      this.seq = (this.seq + part.length - 1) >>> 0;
      loadNative().netlinkSend(this.socket(), Buffer.concat(part.map((o, j) => encodeRoute(o.op, o.route, (first + j) >>> 0))));
      const acks = new Map<number, string | undefined>();
      for (const r of this.drain()) if (r.kind === 'ack') acks.set(r.seq, r.errno === 0 ? undefined : errnoText(r.errno, r.message));
      part.forEach((_, j) => {
        const seq = (first + j) >>> 0;
        results.push(acks.has(seq) ? acks.get(seq) : 'no answer from the kernel');
      });
    }
    return results;
  }

  async list(table: number, protocol: number): Promise<KernelRoute[]> {
    const out: KernelRoute[] = [];
    for (const family of [4, 6] as const) {
      const seq = (this.seq = (this.seq + 1) >>> 0);
      loadNative().netlinkSend(this.socket(), encodeRouteDump(family, seq));
      // A dump comes in parts, each filled while the previous one is read.
      for (let done = false, idle = 0; !done && idle < 1000;) {
        const replies = this.drain();
        if (replies.length === 0) { idle++; await yieldToLoop(); continue; }
        for (const r of replies) {
          if (r.seq !== seq) continue;
          if (r.kind === 'done') done = true;
          else if (r.kind === 'ack' && r.errno !== 0) throw new Error(`listing routes: ${errnoText(r.errno, r.message)}`);
          else if (r.kind === 'route' && r.route.table === table && r.route.protocol === protocol) out.push(r.route);
        }
      }
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) loadNative().closeFd(this.fd);
    this.fd = undefined;
  }
}

const unique = (hops: readonly IpAddress[]): IpAddress[] => {
  const byText = new Map(hops.map((h) => [formatIp(h), h]));
  return [...byText.keys()].sort().map((k) => byText.get(k)!);
};

/** One route as status and logs show it: `PREFIX via A[ via B…]`. */
export const routeText = (r: KernelRoute): string => `${formatPrefix(r.prefix)}${r.nextHops.map((h) => ` via ${formatIp(h)}`).join('')}`;

export class KernelRoutes {
  private readonly table: number;
  private readonly protocol: number;
  private readonly writer: RouteWriter;
  /** What the kernel holds of ours, by key (only what it accepted). */
  private readonly installed = new Map<string, KernelRoute>();
  private readonly desired = new Map<string, { prefix: Prefix; nextHops: readonly IpAddress[] }>();
  private readonly dirty = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;
  /** Whether this run wrote anything: cleanup() lists the table only then. */
  private wrote = false;

  constructor(private readonly options: KernelRoutesOptions = {}) {
    this.table = options.table ?? 254;
    this.protocol = options.protocol ?? ironlbRouteProtocol;
    this.writer = options.writer ?? new NetlinkRouteWriter(options.netns);
  }

  /** The route for `key`: its next hops (ECMP when several), or none to remove it. */
  set(key: string, prefix: Prefix, nextHops: readonly IpAddress[]): void {
    if (nextHops.length === 0) this.desired.delete(key);
    else this.desired.set(key, { prefix, nextHops });
    this.dirty.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => { this.scheduled = false; void this.flush(); });
    }
  }

  /** Key → the route in the kernel, for status. */
  routes(): ReadonlyMap<string, KernelRoute> {
    return this.installed;
  }

  private route(prefix: Prefix, nextHops: readonly IpAddress[]): KernelRoute {
    return { prefix, table: this.table, protocol: this.protocol, metric: ironlbRouteMetric, nextHops: unique(nextHops) };
  }

  /** Writes the changes made since the last flush; flushes run one at a time, in order. */
  flush(): Promise<void> {
    const next = this.writing.then(async () => {
      if (this.dirty.size === 0) return;
      const ops: (RouteOp & { key: string })[] = [];
      for (const key of this.dirty) {
        const want = this.desired.get(key);
        const have = this.installed.get(key);
        if (want) {
          const r = this.route(want.prefix, want.nextHops);
          // A route not ours yet is added (never replacing someone else's); ours is replaced.
          if (!have || routeText(have) !== routeText(r)) ops.push({ key, op: have ? 'replace' : 'add', route: r });
        } else if (have) {
          ops.push({ key, op: 'delete', route: have });
        }
      }
      this.dirty.clear();
      if (ops.length === 0) return;
      this.wrote = true;
      let results: (string | undefined)[];
      try {
        results = await this.writer.apply(ops);
      } catch (e) {
        results = ops.map(() => String(e));
      }
      const failed: string[] = [];
      ops.forEach((o, i) => {
        const err = results[i];
        if (err === undefined) {
          if (o.op === 'delete') this.installed.delete(o.key);
          else this.installed.set(o.key, o.route);
        } else if (o.op === 'delete' && err.startsWith('ESRCH')) {
          this.installed.delete(o.key); // already gone (someone removed it)
        } else {
          failed.push(`${o.op} ${routeText(o.route)}: ${err}`);
        }
      });
      if (failed.length > 0) {
        this.options.logger?.warn({ failed: failed.length, of: ops.length, first: failed.slice(0, 5) }, 'installing received routes in the kernel failed (some or all)');
      }
      this.options.onWritten?.();
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  /**
   * Removes every route with ironlb's protocol number from the table (ours only), both families;
   * `always` also when this run installed nothing (left over by a run that was killed).
   */
  async cleanup(always = false): Promise<void> {
    await this.writing;
    this.desired.clear();
    this.dirty.clear();
    try {
      if (this.wrote || always) {
        const ours = await this.writer.list(this.table, this.protocol);
        const results = await this.writer.apply(ours.map((route) => ({ op: 'delete' as const, route })));
        const failed = results.filter((r) => r !== undefined && !r.startsWith('ESRCH'));
        if (failed.length > 0) this.options.logger?.warn({ failed: failed.length, first: failed[0] }, 'removing ironlb\'s received routes from the kernel failed');
      }
    } catch (e) {
      this.options.logger?.warn({ err: String(e) }, 'removing ironlb\'s received routes from the kernel failed');
    } finally {
      this.installed.clear();
      this.writer.close();
    }
  }
}
