// Four network namespaces for BGP over IPv6 sessions (all named "ilb6-<pid>-…", removed by
// destroy(), also on failure): ironlb's node `n`, the router `r` (FRR bgpd), a plain IPv6
// router `x` between them on a second path, so that a session across two hops shows whether
// ironlb's hop limit really is 1 for single-hop eBGP, and `b` (BIRD).
//
//   n eth0 2001:db8:6::2/64 ───────────────────── r eth0 2001:db8:6::1/64      (one hop)
//   n eth1 2001:db8:8::2/64 ── x ── 2001:db8:9::1/64 … r eth1 2001:db8:9::2/64  (two hops)
//   n eth2 2001:db8:7::2/64 ───────────────────── b eth0 2001:db8:7::1/64      (one hop)
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BirdDaemon, FrrDaemon, type DaemonOptions, inCi, killPid, readPid, requireBinary, run, track, waitFor } from '../harness/index.ts';

export const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns: string, ...args: string[]): string => sh('ip', ['netns', 'exec', ns, ...args]);

export const addr = {
  nodeDirect: '2001:db8:6::2', routerDirect: '2001:db8:6::1',
  nodeFar: '2001:db8:8::2', hopNode: '2001:db8:8::1', hopRouter: '2001:db8:9::1', routerFar: '2001:db8:9::2',
  nodeBird: '2001:db8:7::2', bird: '2001:db8:7::1',
} as const;

/** Root and iproute2 are needed; under CI=true their absence is a loud failure, as elsewhere. */
export function requireNetns(): void {
  requireBinary('/usr/lib/frr/bgpd', 'frr');
  requireBinary('/usr/bin/vtysh', 'frr');
  requireBinary('/usr/sbin/bird', 'bird2');
  requireBinary('/usr/sbin/birdc', 'bird2');
  if (process.getuid?.() !== 0) throw new Error(`BGP over IPv6 sessions needs root (network namespaces)${inCi() ? ' — CI=true: failing' : ''}`);
}

export class Lab6 {
  readonly node: string;
  readonly router: string;
  readonly hop: string;
  readonly bird: string;
  private readonly made: string[] = [];
  private readonly links: [string, string][] = [];

  constructor() {
    const id = process.pid % 100000;
    this.node = `ilb6-${id}-n`;
    this.router = `ilb6-${id}-r`;
    this.hop = `ilb6-${id}-x`;
    this.bird = `ilb6-${id}-b`;
    // Last resort when the run dies without its after() hook: no namespace of ours outlives it.
    process.once('exit', () => this.destroy());
  }

  /** Builds the namespaces and links; resolves when every address has its local and prefix routes. */
  async build(): Promise<void> {
    for (const ns of [this.node, this.router, this.hop, this.bird]) this.netns(ns);
    this.link(this.node, 'eth0', `${addr.nodeDirect}/64`, this.router, 'eth0', `${addr.routerDirect}/64`);
    this.link(this.node, 'eth1', `${addr.nodeFar}/64`, this.hop, 'eth0', `${addr.hopNode}/64`);
    this.link(this.hop, 'eth1', `${addr.hopRouter}/64`, this.router, 'eth1', `${addr.routerFar}/64`);
    this.link(this.node, 'eth2', `${addr.nodeBird}/64`, this.bird, 'eth0', `${addr.bird}/64`);
    this.sysctl(this.hop, 'net/ipv6/conf/all/forwarding', '1');
    sh('ip', ['-n', this.node, '-6', 'route', 'add', '2001:db8:9::/64', 'via', addr.hopNode]);
    sh('ip', ['-n', this.router, '-6', 'route', 'add', '2001:db8:8::/64', 'via', addr.hopRouter]);
    // Until IPv6 has set up a fresh veth (local and prefix routes), arriving packets are dropped
    // as "no route" (Ip6InNoRoutes): a first SYN would be lost and cost a 1 s retransmission.
    await waitFor('IPv6 routes on every link', async () => this.links.every(([ns, a]) => {
      const table = sh('ip', ['-n', ns, '-6', 'route', 'show', 'table', 'all']);
      return table.includes(`local ${a.split('/')[0]!} `) && table.split('\n').some((l) => l.startsWith(`${a.split('::')[0]!}::/64 `));
    }), 5000, 20);
  }

  private netns(ns: string): void {
    try { sh('ip', ['netns', 'del', ns]); } catch { /* not there: the usual case */ }
    sh('ip', ['netns', 'add', ns]);
    this.made.push(ns);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // A link flap must not flush the IPv6 addresses (the sessions would never come back).
    this.sysctl(ns, 'net/ipv6/conf/default/keep_addr_on_down', '1');
    this.sysctl(ns, 'net/ipv6/conf/all/keep_addr_on_down', '1');
  }

  /** Through /proc (no procps needed); /proc/sys/net is per namespace. */
  private sysctl(ns: string, key: string, value: string): void {
    inNs(ns, 'sh', '-c', `echo ${value} > /proc/sys/${key}`);
  }

  /** A veth pair made inside the two namespaces; `nodad` makes the addresses usable at once. */
  private link(nsA: string, ifA: string, addrA: string, nsB: string, ifB: string, addrB: string): void {
    sh('ip', ['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    for (const [ns, ifn, a] of [[nsA, ifA, addrA], [nsB, ifB, addrB]] as const) {
      this.sysctl(ns, `net/ipv6/conf/${ifn}/keep_addr_on_down`, '1');
      sh('ip', ['-n', ns, '-6', 'addr', 'add', a, 'dev', ifn, 'nodad']);
      this.links.push([ns, a]);
      sh('ip', ['-n', ns, 'link', 'set', ifn, 'up']);
    }
  }

  /** Kills whatever still runs inside our namespaces (by pid), then deletes them. Safe twice. */
  destroy(): void {
    for (const ns of this.made.splice(0)) {
      let pids: string[] = [];
      try { pids = sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean); } catch { /* gone */ }
      for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
      try { sh('ip', ['netns', 'del', ns]); } catch { /* gone */ }
    }
  }
}

/**
 * The harness' FrrDaemon (its config, vtysh and RIB parsers), but bgpd runs inside a namespace
 * and listens on every address there, port 179 (the namespace is ours alone).
 */
export class NetnsFrrDaemon extends FrrDaemon {
  private nsPid?: number;

  constructor(readonly ns: string, options: DaemonOptions, extraConfig: string[] = []) {
    super(options, extraConfig);
  }

  override async start(): Promise<void> {
    const conf = join(this.dir, 'bgpd.conf');
    writeFileSync(conf, this.config());
    chmodSync(conf, 0o644);
    const pidFile = join(this.dir, 'bgpd.pid');
    await run('ip', ['netns', 'exec', this.ns, '/usr/lib/frr/bgpd', '-d', '-Z', '-p', String(this.options.port), '-P', '0', '-f', conf,
      '-i', pidFile, '-z', join(this.dir, 'zserv.api'), '--vty_socket', this.dir]);
    this.nsPid = await waitFor('bgpd pid file', async () => readPid(pidFile), 5000, 20);
    track(this.nsPid);
    await waitFor('bgpd vty', async () => (await this.vtysh(['show bgp summary json'])).length > 0, 5000, 50);
  }

  override async stop(): Promise<void> {
    if (this.nsPid !== undefined) await killPid(this.nsPid);
    this.nsPid = undefined;
  }

  log(): string {
    try { return sh('tail', ['-n', '40', join(this.dir, 'bgpd.log')]); } catch { return ''; }
  }
}

/** The harness' BirdDaemon (config, birdc, RIB parser), with bird running inside a namespace. */
export class NetnsBirdDaemon extends BirdDaemon {
  private nsPid?: number;

  constructor(readonly ns: string, options: DaemonOptions, extraConfig: string[] = []) {
    super(options, extraConfig);
  }

  override async start(): Promise<void> {
    const conf = join(this.dir, 'bird.conf');
    writeFileSync(conf, this.config());
    chmodSync(conf, 0o644);
    const pidFile = join(this.dir, 'bird.pid');
    await run('ip', ['netns', 'exec', this.ns, '/usr/sbin/bird', '-c', conf, '-s', this.socket, '-P', pidFile]);
    this.nsPid = await waitFor('bird pid file', async () => readPid(pidFile), 5000, 20);
    track(this.nsPid);
    await waitFor('bird control socket', async () => (await this.birdc(['show status'])).includes('Daemon is up'), 5000, 50);
  }

  override async stop(): Promise<void> {
    if (this.nsPid !== undefined) await killPid(this.nsPid);
    this.nsPid = undefined;
  }
}
