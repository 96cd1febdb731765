// GoBGP (gobgpd) as a receiver on a loopback address and a private port; its gRPC API listens
// on 127.0.0.1 at port + 1. RIB queries go through the gobgp CLI's JSON output.
import { writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { type DaemonOptions, type NormalizedRoute, type PeerDaemon, killPid, makeDir, removeDir, requireBinary, run, sortRoutes, spawnDaemon, waitFor } from './common.ts';

const GOBGPD = '/usr/bin/gobgpd';
const GOBGP = '/usr/bin/gobgp';

export class GobgpDaemon implements PeerDaemon {
  readonly kind = 'gobgp' as const;
  readonly dir: string;
  private child?: ChildProcess;

  constructor(readonly options: DaemonOptions, private readonly extraConfig: string[] = []) {
    requireBinary(GOBGPD, 'gobgpd');
    requireBinary(GOBGP, 'gobgpd');
    this.dir = makeDir(`gobgp-${options.name}`);
  }

  get apiPort(): number { return this.options.port + 1; }

  config(): string {
    const o = this.options;
    const lines = ['[global.config]', `  as = ${o.asn}`, `  router-id = "${o.routerId ?? o.address}"`, `  port = ${o.port}`, `  local-address-list = ["${o.address}"]`];
    for (const n of o.neighbors) {
      lines.push('[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${n.address}"`, `    peer-as = ${n.asn}`);
      if (n.md5) lines.push(`    auth-password = "${n.md5}"`);
      lines.push('  [neighbors.transport.config]', '    passive-mode = true', `    local-address = "${o.address}"`,
        '  [neighbors.timers.config]', '    connect-retry = 1', '    hold-time = 9', '    keepalive-interval = 3');
      if (n.gracefulRestart) lines.push('  [neighbors.graceful-restart.config]', '    enabled = true', '    helper-only = true', '    restart-time = 60');
      for (const af of ['ipv4-unicast', 'ipv6-unicast']) {
        lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${af}"`);
        if (n.gracefulRestart) lines.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
      }
    }
    lines.push(...this.extraConfig);
    return `${lines.join('\n')}\n`;
  }

  async start(): Promise<void> {
    const conf = join(this.dir, 'gobgpd.toml');
    writeFileSync(conf, this.config());
    this.child = spawnDaemon(GOBGPD, ['-f', conf, '-p', '--pprof-disable', '--api-hosts', `127.0.0.1:${this.apiPort}`, '-l', 'info'], join(this.dir, 'gobgpd.log'));
    await waitFor('gobgpd API', async () => (await this.gobgp(['global'])).length > 0, 10000, 100);
  }

  async stop(): Promise<void> {
    if (this.child?.pid !== undefined) await killPid(this.child.pid, 5000);
    this.child = undefined;
  }

  async restart(): Promise<void> { await this.stop(); await this.start(); }

  async dispose(): Promise<void> { await this.stop(); removeDir(this.dir); }

  gobgp(args: string[]): Promise<string> {
    return run(GOBGP, ['-p', String(this.apiPort), '-u', '127.0.0.1', ...args], { timeoutMs: 60000 });
  }

  async isEstablished(address: string): Promise<boolean> {
    const j = JSON.parse(await this.gobgp(['-j', 'neighbor', address])) as { state?: { session_state?: number | string } };
    const s = j.state?.session_state;
    return s === 6 || s === 'established' || s === 'ESTABLISHED';
  }

  /** Route counts per family (cheap: for bulk checks). */
  async count(family: 'ipv4' | 'ipv6'): Promise<number> {
    const out = await this.gobgp(['global', 'rib', '-a', family, 'summary']);
    const m = /Destination:\s*(\d+)/.exec(out);
    return m ? Number(m[1]) : 0;
  }

  async routes(): Promise<NormalizedRoute[]> {
    const out: NormalizedRoute[] = [];
    for (const af of ['ipv4', 'ipv6']) {
      const j = JSON.parse(await this.gobgp(['-j', 'global', 'rib', '-a', af])) as Record<string, GobgpPath[]>;
      for (const [prefix, paths] of Object.entries(j)) for (const p of paths) out.push(normalizeGobgpPath(prefix, p));
    }
    return sortRoutes(out);
  }
}

interface GobgpAttr {
  type: number;
  as_paths?: { segment_type: number; asns: number[] }[];
  nexthop?: string;
  metric?: number;
  value?: unknown;
  communities?: number[];
}
interface GobgpPath { attrs?: GobgpAttr[]; stale?: boolean; 'neighbor-ip'?: string; 'source-id'?: string }

function normalizeGobgpPath(prefix: string, p: GobgpPath): NormalizedRoute {
  const r: NormalizedRoute = { prefix, nextHop: '', asPath: [], communities: [], largeCommunities: [], from: p['neighbor-ip'] ?? '' };
  for (const a of p.attrs ?? []) {
    switch (a.type) {
      case 2: r.asPath = (a.as_paths ?? []).flatMap((s) => s.asns); break;
      case 3: r.nextHop = a.nexthop ?? ''; break;
      case 4: r.med = a.metric ?? 0; break;
      case 5: r.localPref = Number(a.value); break;
      case 8: r.communities = (a.communities ?? []).map((c) => `${c >>> 16}:${c & 0xffff}`).sort(); break;
      case 14: r.nextHop = a.nexthop ?? r.nextHop; break;
      case 32: r.largeCommunities = ((a.value as { ASN: number; LocalData1: number; LocalData2: number }[] | undefined) ?? [])
        .map((c) => `${c.ASN}:${c.LocalData1}:${c.LocalData2}`).sort(); break;
      default: break;
    }
  }
  if (p.stale) r.stale = true;
  return r;
}
