// BIRD 2 as a receiver on a loopback address and a private port. Loopback quirks: BIRD refuses
// a host-scope neighbor unless `multihop`, and listens on 0.0.0.0 unless `strict bind`. Routes
// from 127/8 next hops show as "unreachable" (nothing resolves them) but keep every attribute.
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { type DaemonOptions, type NormalizedRoute, type PeerDaemon, killPid, makeDir, readPid, removeDir, requireBinary, run, sortRoutes, track, waitFor } from './common.ts';

const BIRD = '/usr/sbin/bird';
const BIRDC = '/usr/sbin/birdc';

/** BIRD protocol names must be identifiers. */
export const birdProtocolName = (address: string): string => `n_${address.replace(/[.:]/g, '_')}`;

export class BirdDaemon implements PeerDaemon {
  readonly kind = 'bird' as const;
  readonly dir: string;
  private pid?: number;

  constructor(readonly options: DaemonOptions, private readonly extraConfig: string[] = []) {
    requireBinary(BIRD, 'bird2');
    requireBinary(BIRDC, 'bird2');
    this.dir = makeDir(`bird-${options.name}`);
  }

  get socket(): string { return join(this.dir, 'bird.ctl'); }

  config(): string {
    const o = this.options;
    const lines = [
      `router id ${o.routerId ?? o.address};`,
      `log "${this.dir}/bird.log" all;`,
      'protocol device { scan time 10; }',
      ...this.extraConfig,
    ];
    for (const n of o.neighbors) {
      lines.push(`protocol bgp ${birdProtocolName(n.address)} {`,
        `  local ${o.address} port ${o.port} as ${o.asn};`,
        `  neighbor ${n.address} as ${n.asn};`,
        '  passive on;',
        '  multihop;',
        '  strict bind yes;',
        '  hold time 9; keepalive time 3; connect retry time 1;',
        ...(n.md5 ? [`  password "${n.md5}";`] : []),
        ...(n.gracefulRestart ? ['  graceful restart on;'] : []),
        '  ipv4 { import all; export none; };',
        '  ipv6 { import all; export none; };',
        '}');
    }
    return `${lines.join('\n')}\n`;
  }

  async start(): Promise<void> {
    const conf = join(this.dir, 'bird.conf');
    writeFileSync(conf, this.config());
    chmodSync(conf, 0o644);
    await run(BIRD, ['-c', conf, '-s', this.socket, '-P', join(this.dir, 'bird.pid')]);
    this.pid = await waitFor('bird pid file', async () => readPid(join(this.dir, 'bird.pid')), 5000, 20);
    track(this.pid);
    await waitFor('bird control socket', async () => (await this.birdc(['show status'])).includes('Daemon is up'), 5000, 50);
  }

  async stop(): Promise<void> {
    if (this.pid !== undefined) await killPid(this.pid);
    this.pid = undefined;
  }

  async restart(): Promise<void> { await this.stop(); await this.start(); }

  async dispose(): Promise<void> { await this.stop(); removeDir(this.dir); }

  birdc(args: string[]): Promise<string> {
    return run(BIRDC, ['-s', this.socket, ...args], { timeoutMs: 60000 });
  }

  async isEstablished(address: string): Promise<boolean> {
    const out = await this.birdc(['show', 'protocols', birdProtocolName(address)]);
    return /\bEstablished\b/.test(out);
  }

  /** Route counts per table (cheap: for bulk checks). */
  async count(table: 'master4' | 'master6'): Promise<number> {
    const out = await this.birdc(['show', 'route', 'table', table, 'count']);
    const m = /(\d+) of \d+ routes/.exec(out);
    return m ? Number(m[1]) : 0;
  }

  async routes(): Promise<NormalizedRoute[]> {
    const out: NormalizedRoute[] = [];
    for (const table of ['master4', 'master6']) {
      out.push(...parseBirdRoutes(await this.birdc(['show', 'route', 'table', table, 'all'])));
    }
    return sortRoutes(out);
  }
}

/**
 * Parses `show route all`: a route line (prefix, or blank for another path to the same prefix)
 * with "[proto time from ADDR]", then indented attribute lines "BGP.x: value".
 */
export function parseBirdRoutes(text: string): NormalizedRoute[] {
  const routes: NormalizedRoute[] = [];
  let prefix = '';
  let cur: NormalizedRoute | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\d{4}-/, '');
    const head = /^(\S+)?\s+(?:unicast|unreachable|blackhole|prohibit)\s+\[(\S+)\s+[^\]]*?(?:from (\S+?))?\]/.exec(line);
    if (head && !line.startsWith('\t')) {
      if (head[1] && head[1].includes('/')) prefix = head[1];
      cur = { prefix, nextHop: '', asPath: [], communities: [], largeCommunities: [], from: head[3] ?? '' };
      routes.push(cur);
      continue;
    }
    const attr = /^\s+BGP\.(\w+):\s*(.*)$/.exec(line);
    if (!attr || !cur) continue;
    const [, key, value] = attr as unknown as [string, string, string];
    switch (key) {
      case 'as_path': cur.asPath = value.trim() === '' ? [] : value.trim().split(/\s+/).map(Number); break;
      case 'next_hop': cur.nextHop = value.trim().split(/\s+/)[0] ?? ''; break;
      case 'med': cur.med = Number(value); break;
      case 'local_pref': cur.localPref = Number(value); break;
      case 'community': cur.communities = [...value.matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`).sort(); break;
      case 'large_community': cur.largeCommunities = [...value.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`).sort(); break;
      default: break;
    }
  }
  return routes;
}
