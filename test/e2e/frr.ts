// FRR instances for the tests, the lab and the benchmark: bgpd (and, in a namespace, zebra and
// bfdd) run directly with a private directory for config, pid files, vty and zserv sockets, so
// any number can run side by side (testbed README §3). Queries go through vtysh's JSON output.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const frrDir = '/usr/lib/frr';

export function frrInstalled(): boolean {
  return existsSync(path.join(frrDir, 'bgpd')) && existsSync('/usr/bin/vtysh');
}

/** Installs FRR from apt when missing (root only); throws when that is impossible. */
export function ensureFrr(): void {
  if (frrInstalled()) return;
  if (process.getuid?.() !== 0) throw new Error('FRR is not installed and we are not root: apt-get install frr');
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-q', 'frr'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

export interface FrrRoute {
  prefix: string;
  nexthops: string[];
  localPref?: number;
  med?: number;
  communities: string[];
  largeCommunities: string[];
  asPath: string;
  bestpath: boolean;
}

export class FrrInstance {
  readonly dir: string;
  private readonly daemons: string[] = [];

  constructor(readonly name: string, root: string, readonly netns?: string) {
    this.dir = path.join(root, name);
    mkdirSync(this.dir, { recursive: true });
    chmodSync(root, 0o755); // mkdtemp makes it 0700, which the frr user cannot enter
    chmodSync(this.dir, 0o777); // the daemons drop root for the frr user
  }

  private prefix(): string[] {
    return this.netns ? ['ip', 'netns', 'exec', this.netns] : [];
  }

  /** Starts one daemon with `<daemon>.conf` written from `config`. */
  start(daemon: 'bgpd' | 'zebra' | 'bfdd', config: string, args: string[] = []): void {
    const conf = path.join(this.dir, `${daemon}.conf`);
    writeFileSync(conf, config.replaceAll('@DIR@', this.dir), { mode: 0o644 });
    const argv = [
      ...this.prefix(), path.join(frrDir, daemon), '-d', '-f', conf, '-i', path.join(this.dir, `${daemon}.pid`),
      '-z', path.join(this.dir, 'zserv.api'), '--vty_socket', this.dir, '-P', '0',
      ...(daemon === 'bfdd' ? ['--bfdctl', path.join(this.dir, 'bfdd.sock')] : []), ...args,
    ];
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'pipe' });
    this.daemons.push(daemon);
  }

  pid(daemon: string): number | undefined {
    try {
      return Number(readFileSync(path.join(this.dir, `${daemon}.pid`), 'utf8').trim());
    } catch {
      return undefined;
    }
  }

  async vtysh(command: string, daemon?: string): Promise<string> {
    const { stdout } = await run('vtysh', ['--vty_socket', this.dir, ...(daemon ? ['-d', daemon] : []), '-c', command], { maxBuffer: 256 << 20 });
    return stdout;
  }

  async json<T = unknown>(command: string): Promise<T> {
    return JSON.parse(await this.vtysh(command, 'bgpd')) as T;
  }

  /** The IPv4 unicast RIB: every path per prefix. */
  async routes(): Promise<Map<string, FrrRoute[]>> {
    const j = await this.json<{ routes?: Record<string, { nexthops?: { ip: string }[]; locPrf?: number; metric?: number; path?: string; bestpath?: boolean }[]> }>('show bgp ipv4 unicast json');
    const out = new Map<string, FrrRoute[]>();
    for (const [prefix, paths] of Object.entries(j.routes ?? {})) {
      out.set(prefix, paths.map((p) => ({
        prefix, nexthops: (p.nexthops ?? []).map((n) => n.ip), ...(p.locPrf !== undefined ? { localPref: p.locPrf } : {}),
        ...(p.metric !== undefined ? { med: p.metric } : {}), communities: [], largeCommunities: [], asPath: p.path ?? '', bestpath: p.bestpath === true,
      })));
    }
    return out;
  }

  /** One prefix with its attributes (communities are only in the detailed view). */
  async route(prefix: string): Promise<FrrRoute[]> {
    type Path = { nexthops?: { ip: string }[]; localpref?: number; locPrf?: number; med?: number; community?: { string: string }; largeCommunity?: { string: string }; aspath?: { string: string }; bestpath?: { overall?: boolean } };
    const j = await this.json<{ paths?: Path[] }>(`show bgp ipv4 unicast ${prefix} json`);
    return (j.paths ?? []).map((p) => ({
      prefix, nexthops: (p.nexthops ?? []).map((n) => n.ip), ...((p.locPrf ?? p.localpref) !== undefined ? { localPref: p.locPrf ?? p.localpref } : {}),
      ...(p.med !== undefined ? { med: p.med } : {}),
      communities: p.community?.string.split(' ').filter(Boolean) ?? [], largeCommunities: p.largeCommunity?.string.split(' ').filter(Boolean) ?? [],
      asPath: p.aspath?.string ?? '', bestpath: p.bestpath?.overall === true,
    }));
  }

  async neighbors(): Promise<Record<string, { state: string; pfxRcd?: number }>> {
    const j = await this.json<{ ipv4Unicast?: { peers?: Record<string, { state: string; pfxRcd?: number }> } }>('show bgp summary json');
    return j.ipv4Unicast?.peers ?? {};
  }

  stop(): void {
    for (const d of this.daemons.splice(0).reverse()) {
      const pid = this.pid(d);
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }

  /** Kills every daemon at once (a router failure). */
  kill(): void {
    for (const d of this.daemons.splice(0)) {
      const pid = this.pid(d);
      if (pid !== undefined) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
}

/**
 * A bgpd without zebra on a loopback address and port, accepting any speaker from `listenRange`
 * (default 127.0.0.0/24). `logUpdates`: every prefix received is logged with microsecond
 * timestamps (the convergence benchmark's arrival times).
 */
export function loopbackBgpdConfig(o: { asn: number; routerId: string; extra?: string; listenRange?: string; logUpdates?: boolean }): string {
  return `frr defaults traditional
hostname ilbl-frr
log file @DIR@/bgpd.log
${o.logUpdates ? 'log timestamp precision 6\ndebug bgp updates in\n' : ''}router bgp ${o.asn}
 bgp router-id ${o.routerId}
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp allow-martian-nexthop
 neighbor SPEAKERS peer-group
 neighbor SPEAKERS remote-as external
 neighbor SPEAKERS timers 3 9
 bgp listen range ${o.listenRange ?? '127.0.0.0/24'} peer-group SPEAKERS
 address-family ipv4 unicast
  maximum-paths 8
 exit-address-family
${o.extra ?? ''}exit
`;
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
