// OpenBGPD (bgpd from Debian's openbgpd) as a receiver on a loopback address and a private port,
// with its control socket in its own directory. It checks more than the others by default:
// `enforce neighbor-as` on eBGP (the leftmost AS must be the neighbor's) and a default-deny
// filter (hence `allow from any`). A neighbor can be made a 2-octet-only speaker (RFC 6793
// "OLD": `announce as-4byte no` with a 2-octet `local-as`). RIB queries use bgpctl's JSON.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { type DaemonOptions, type NormalizedRoute, type PeerDaemon, killPid, makeDir, removeDir, requireBinary, run, sortRoutes, spawnDaemon, waitFor } from './common.ts';

const BGPD = '/usr/sbin/bgpd';
const BGPCTL = '/usr/sbin/bgpctl';

export interface OpenbgpdExtras {
  /** Neighbors (by address) this bgpd talks to as a 2-octet-only speaker with this local AS. */
  readonly twoOctet?: Readonly<Record<string, number>>;
}

interface RibEntry {
  prefix: string;
  aspath?: string;
  exit_nexthop?: string;
  neighbor?: { remote_addr?: string };
  metric?: number;
  localpref?: number;
  communities?: string[];
  large_communities?: string[];
}

export class OpenbgpdDaemon implements PeerDaemon {
  readonly kind = 'openbgpd' as const;
  readonly dir: string;
  private child?: ChildProcess;

  constructor(readonly options: DaemonOptions, private readonly extras: OpenbgpdExtras = {}) {
    requireBinary(BGPD, 'openbgpd');
    requireBinary(BGPCTL, 'openbgpd');
    this.dir = makeDir(`openbgpd-${options.name}`);
  }

  get socket(): string { return join(this.dir, 'bgpd.sock'); }
  get logFile(): string { return join(this.dir, 'bgpd.log'); }

  config(): string {
    const o = this.options;
    const lines = [
      `AS ${o.asn}`,
      `router-id ${o.routerId ?? o.address}`,
      `listen on ${o.address} port ${o.port}`,
      `socket "${this.socket}"`,
      'fib-update no',
    ];
    for (const n of o.neighbors) {
      const old = this.extras.twoOctet?.[n.address];
      lines.push(`neighbor ${n.address} {`, `  remote-as ${n.asn}`, `  local-address ${o.address}`, '  passive', '  holdtime 9',
        '  announce IPv4 unicast', '  announce IPv6 unicast');
      if (n.md5) lines.push(`  tcp md5sig password ${n.md5}`);
      if (old !== undefined) lines.push(`  local-as ${old}`, '  announce as-4byte no');
      lines.push('}');
    }
    lines.push('allow from any', 'allow to any');
    return `${lines.join('\n')}\n`;
  }

  async start(): Promise<void> {
    const conf = join(this.dir, 'bgpd.conf');
    writeFileSync(conf, this.config());
    chmodSync(conf, 0o600); // bgpd refuses a config others can read (it may hold MD5 keys)
    // The unprivileged processes chroot to the _openbgpd user's home (systemd's RuntimeDirectory).
    mkdirSync('/run/openbgpd', { recursive: true });
    this.child = spawnDaemon(BGPD, ['-d', '-v', '-f', conf], this.logFile);
    await waitFor('bgpd control socket', async () => (await this.bgpctl(['show', 'summary'])).length > 0, 10000, 50);
  }

  async stop(): Promise<void> {
    if (this.child?.pid !== undefined) await killPid(this.child.pid, 5000);
    this.child = undefined;
  }

  async restart(): Promise<void> { await this.stop(); await this.start(); }

  async dispose(): Promise<void> { await this.stop(); removeDir(this.dir); }

  bgpctl(args: string[]): Promise<string> {
    return run(BGPCTL, ['-s', this.socket, ...args], { timeoutMs: 30000 });
  }

  async neighbor(address: string): Promise<Record<string, unknown> | undefined> {
    const j = JSON.parse(await this.bgpctl(['-j', 'show', 'neighbor'])) as { neighbors?: Record<string, unknown>[] };
    return j.neighbors?.find((n) => n.remote_addr === address);
  }

  async isEstablished(address: string): Promise<boolean> {
    return (await this.neighbor(address))?.state === 'Established';
  }

  async routes(): Promise<NormalizedRoute[]> {
    const j = JSON.parse(await this.bgpctl(['-j', 'show', 'rib', 'detail'])) as { rib?: RibEntry[] };
    return sortRoutes((j.rib ?? []).map(normalizeOpenbgpd));
  }
}

function normalizeOpenbgpd(e: RibEntry): NormalizedRoute {
  const r: NormalizedRoute = {
    prefix: e.prefix,
    nextHop: e.exit_nexthop ?? '',
    asPath: e.aspath === undefined || e.aspath === '' ? [] : e.aspath.split(/\s+/).map(Number),
    communities: [...(e.communities ?? [])].sort(),
    largeCommunities: [...(e.large_communities ?? [])].sort(),
    from: e.neighbor?.remote_addr ?? '',
  };
  // bgpd shows MED 0 when none was sent; the scenario's only MED 0 route cannot be told apart.
  if (e.metric !== undefined) r.med = e.metric;
  if (e.localpref !== undefined) r.localPref = e.localpref;
  return r;
}
