// FRR bgpd without zebra, on a loopback address and a private port, in its own directory (pid
// file, vty socket, zserv socket, log). Loopback quirks: 127/8 next hops are "martian" unless
// allowed, and single-hop eBGP needs disable-connected-check without zebra's connected routes.
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { type DaemonOptions, type NormalizedRoute, type PeerDaemon, killPid, makeDir, parseJsonStream, readPid, removeDir, requireBinary, run, sortRoutes, track, waitFor } from './common.ts';

const BGPD = '/usr/lib/frr/bgpd';
const VTYSH = '/usr/bin/vtysh';

export class FrrDaemon implements PeerDaemon {
  readonly kind = 'frr' as const;
  readonly dir: string;
  private pid?: number;

  constructor(readonly options: DaemonOptions, private readonly extraConfig: string[] = []) {
    requireBinary(BGPD, 'frr');
    requireBinary(VTYSH, 'frr');
    this.dir = makeDir(`frr-${options.name}`);
  }

  config(): string {
    const o = this.options;
    const gr = o.neighbors.some((n) => n.gracefulRestart);
    const lines = [
      'frr defaults traditional',
      `hostname ilbn-${o.name}`,
      `log file ${this.dir}/bgpd.log`,
      'log timestamp precision 6',
      'debug bgp neighbor-events',
      '!',
      `router bgp ${o.asn}`,
      ` bgp router-id ${o.routerId ?? o.address}`,
      ' bgp log-neighbor-changes',
      ' no bgp ebgp-requires-policy',
      ' no bgp network import-check',
      ' no bgp default ipv4-unicast',
      ' bgp allow-martian-nexthop',
      ...(gr ? [' bgp graceful-restart', ' bgp graceful-restart stalepath-time 60'] : []),
    ];
    for (const n of o.neighbors) {
      lines.push(` neighbor ${n.address} remote-as ${n.asn}`, ` neighbor ${n.address} passive`, ` neighbor ${n.address} timers 3 9`,
        ` neighbor ${n.address} disable-connected-check`);
      if (n.md5) lines.push(` neighbor ${n.address} password ${n.md5}`);
    }
    for (const af of ['ipv4', 'ipv6']) {
      lines.push(` address-family ${af} unicast`);
      for (const n of o.neighbors) lines.push(`  neighbor ${n.address} activate`);
      lines.push(' exit-address-family');
    }
    lines.push(...this.extraConfig, 'exit', '!');
    return `${lines.join('\n')}\n`;
  }

  async start(): Promise<void> {
    const conf = join(this.dir, 'bgpd.conf');
    writeFileSync(conf, this.config());
    chmodSync(conf, 0o644);
    const o = this.options;
    await run(BGPD, ['-d', '-Z', '-l', o.address, '-p', String(o.port), '-P', '0', '-f', conf, '-i', join(this.dir, 'bgpd.pid'),
      '-z', join(this.dir, 'zserv.api'), '--vty_socket', this.dir]);
    this.pid = await waitFor('bgpd pid file', async () => readPid(join(this.dir, 'bgpd.pid')), 5000, 20);
    track(this.pid);
    await waitFor('bgpd vty', async () => (await this.vtysh(['show bgp summary json'])).length > 0, 5000, 50);
  }

  async stop(): Promise<void> {
    if (this.pid !== undefined) await killPid(this.pid);
    this.pid = undefined;
  }

  async restart(): Promise<void> { await this.stop(); await this.start(); }

  async dispose(): Promise<void> { await this.stop(); removeDir(this.dir); }

  vtysh(commands: string[]): Promise<string> {
    return run(VTYSH, ['--vty_socket', this.dir, '-d', 'bgpd', ...commands.flatMap((c) => ['-c', c])], { timeoutMs: 30000 });
  }

  /** Runs configuration commands under `router bgp`. */
  async configure(commands: string[]): Promise<void> {
    await this.vtysh(['configure terminal', `router bgp ${this.options.asn}`, ...commands]);
  }

  async neighbor(address: string): Promise<Record<string, unknown> | undefined> {
    const j = JSON.parse(await this.vtysh([`show bgp neighbors ${address} json`])) as Record<string, Record<string, unknown>>;
    return j[address];
  }

  async isEstablished(address: string): Promise<boolean> {
    return (await this.neighbor(address))?.bgpState === 'Established';
  }

  /** Prefix counts received from a neighbor, per family (cheap: for bulk checks). */
  async received(address: string): Promise<{ ipv4: number; ipv6: number }> {
    const j = JSON.parse(await this.vtysh(['show bgp summary json'])) as Record<string, { peers?: Record<string, { pfxRcd?: number }> }>;
    return { ipv4: j.ipv4Unicast?.peers?.[address]?.pfxRcd ?? 0, ipv6: j.ipv6Unicast?.peers?.[address]?.pfxRcd ?? 0 };
  }

  async routes(): Promise<NormalizedRoute[]> {
    const out: NormalizedRoute[] = [];
    for (const af of ['ipv4', 'ipv6'] as const) {
      const table = JSON.parse(await this.vtysh([`show bgp ${af} unicast json`])) as { routes?: Record<string, unknown> };
      const prefixes = Object.keys(table.routes ?? {});
      for (let i = 0; i < prefixes.length; i += 100) {
        const docs = parseJsonStream(await this.vtysh(prefixes.slice(i, i + 100).map((p) => `show bgp ${af} unicast ${p} json`)));
        for (const d of docs) out.push(...normalizeFrrPrefix(d as FrrPrefixJson));
      }
    }
    return sortRoutes(out);
  }
}

interface FrrPathJson {
  aspath?: { string?: string; segments?: { type: string; list: number[] }[] };
  med?: number;
  metric?: number;
  locPrf?: number;
  localpref?: number;
  community?: { list?: string[]; string?: string };
  largeCommunity?: { list?: string[]; string?: string };
  nexthops?: { ip: string; afi?: string; scope?: string }[];
  peer?: { peerId?: string };
  stale?: boolean;
}
interface FrrPrefixJson { prefix: string; paths?: FrrPathJson[] }

function normalizeFrrPrefix(d: FrrPrefixJson): NormalizedRoute[] {
  return (d.paths ?? []).map((p) => {
    const asPath = (p.aspath?.segments ?? []).flatMap((s) => s.list);
    const nh = p.nexthops?.find((n) => n.scope !== 'link-local') ?? p.nexthops?.[0];
    const med = p.med ?? p.metric;
    const lp = p.locPrf ?? p.localpref;
    const r: NormalizedRoute = {
      prefix: d.prefix,
      nextHop: nh?.ip ?? '',
      asPath,
      communities: [...(p.community?.list ?? (p.community?.string ? p.community.string.split(' ') : []))].sort(),
      largeCommunities: [...(p.largeCommunity?.list ?? (p.largeCommunity?.string ? p.largeCommunity.string.split(' ') : []))].sort(),
      from: p.peer?.peerId ?? '',
    };
    if (med !== undefined) r.med = med;
    if (lp !== undefined) r.localPref = lp;
    if (p.stale) r.stale = true;
    return r;
  });
}
