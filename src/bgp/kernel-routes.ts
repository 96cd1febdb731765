// Received routes into the node's kernel routing table, through iproute2 (`ip -batch -`: one
// process per burst of changes, rtnetlink underneath). Every route ironlb writes carries its own
// route protocol number (`proto 248`) and every delete is filtered by it, so routes ironlb did
// not install are never touched — not even one for the same prefix. `cleanup()` removes what a
// previous run left (a crash, SIGKILL) and is what shutdown calls.
import { spawn } from 'node:child_process';
import { type IpAddress, formatIp } from '../net/ip.ts';
import { type Prefix, formatPrefix } from '../net/prefix.ts';
import type { BgpLogger } from './peer-config.ts';

/** ironlb's route protocol number (rtnetlink rtm_protocol): unused by the kernel, FRR, BIRD. */
export const ironlbRouteProtocol = 248;
/**
 * The metric of the routes ironlb installs (FRR's zebra uses 20 for BGP too). The kernel tells
 * routes apart by table, prefix and metric: a route someone else put in the same slot (a static
 * route has metric 0) is not replaced — a new route is added with `route add`, which fails rather
 * than overwrite, and the other route stays in force.
 */
export const ironlbRouteMetric = 20;

export interface KernelRoutesOptions {
  /** Routing table number; default 254 (main). */
  readonly table?: number;
  readonly protocol?: number;
  /** Run `ip -n NETNS` (tests). */
  readonly netns?: string;
  readonly logger?: BgpLogger;
  /** Replaces running `ip` (unit tests): gets the argv and the batch text. */
  readonly run?: (args: readonly string[], input: string) => Promise<void>;
}

function runIp(args: readonly string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: [input === '' ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let err = '';
    // ip exiting early (an error) closes its stdin under us: the exit code says what happened.
    child.stdin?.on('error', () => undefined);
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ip ${args.join(' ')}: exit ${code}: ${err.trim()}`))));
    child.stdin?.end(input);
  });
}

export class KernelRoutes {
  private readonly table: number;
  private readonly protocol: number;
  private readonly installed = new Map<string, string>();
  private readonly desired = new Map<string, { prefix: Prefix; nextHops: readonly IpAddress[] }>();
  private readonly dirty = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;
  /** Whether this run wrote anything: cleanup() runs `ip` only then. */
  private wrote = false;

  constructor(private readonly options: KernelRoutesOptions = {}) {
    this.table = options.table ?? 254;
    this.protocol = options.protocol ?? ironlbRouteProtocol;
  }

  private args(batch: boolean): string[] {
    return [...(this.options.netns ? ['-n', this.options.netns] : []), ...(batch ? ['-force', '-batch', '-'] : [])];
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

  /** Prefix text → the next hops installed, for status. */
  routes(): ReadonlyMap<string, string> {
    return this.installed;
  }

  private line(prefix: Prefix, nextHops: readonly IpAddress[]): string {
    const unique = [...new Set(nextHops.map(formatIp))].sort();
    const via = unique.length === 1 ? `via ${unique[0]}` : unique.map((h) => `nexthop via ${h}`).join(' ');
    return `route replace ${formatPrefix(prefix)} proto ${this.protocol} metric ${ironlbRouteMetric} table ${this.table} ${via}`;
  }

  /** Writes the changes made since the last flush; flushes run one at a time, in order. */
  flush(): Promise<void> {
    const next = this.writing.then(async () => {
      if (this.dirty.size === 0) return;
      const lines: string[] = [];
      const after = new Map<string, string | undefined>();
      for (const key of this.dirty) {
        const want = this.desired.get(key);
        const have = this.installed.get(key);
        if (want) {
          const l = this.line(want.prefix, want.nextHops);
          // A route not ours yet is added (never replacing someone else's); ours is replaced.
          if (l !== have) { lines.push(have === undefined ? l.replace('route replace', 'route add') : l); after.set(key, l); }
        } else if (have !== undefined) {
          const prefix = have.split(' ')[2]!;
          lines.push(`route del ${prefix} proto ${this.protocol} metric ${ironlbRouteMetric} table ${this.table}`);
          after.set(key, undefined);
        }
      }
      this.dirty.clear();
      if (lines.length === 0) return;
      this.wrote = true;
      try {
        await (this.options.run ?? runIp)(this.args(true), lines.join('\n') + '\n');
      } catch (e) {
        this.options.logger?.warn({ err: String(e), routes: lines.length }, 'installing received routes in the kernel failed (some or all)');
      }
      for (const [k, l] of after) if (l === undefined) this.installed.delete(k); else this.installed.set(k, l);
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
    if (!this.wrote && !always) return;
    this.desired.clear();
    this.dirty.clear();
    const run = this.options.run ?? runIp;
    for (const family of ['-4', '-6']) {
      try {
        await run([...this.args(false), family, 'route', 'flush', 'proto', String(this.protocol), 'table', String(this.table)], '');
      } catch (e) {
        this.options.logger?.warn({ err: String(e) }, 'removing ironlb\'s received routes from the kernel failed');
      }
    }
    this.installed.clear();
  }
}
