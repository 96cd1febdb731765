// ExaBGP as a receiver: it keeps no RIB of its own, so its API process writes every message as
// one JSON line and the harness replays the log (announce, withdraw, session down) into a RIB.
// Loopback quirk: ExaBGP only listens when exabgp_tcp_bind / exabgp_tcp_port are set.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { type DaemonOptions, type NormalizedRoute, type PeerDaemon, killPid, makeDir, removeDir, requireBinary, sortRoutes, spawnDaemon, waitFor } from './common.ts';

const EXABGP = '/usr/sbin/exabgp';

export class ExabgpDaemon implements PeerDaemon {
  readonly kind = 'exabgp' as const;
  readonly dir: string;
  private child?: ChildProcess;

  constructor(readonly options: DaemonOptions) {
    requireBinary(EXABGP, 'exabgp');
    this.dir = makeDir(`exabgp-${options.name}`);
  }

  get logFile(): string { return join(this.dir, 'received.jsonl'); }

  config(): string {
    const o = this.options;
    // The API process must never write to stdout: that is ExaBGP's command channel.
    const lines = ['process receiver {', `  run ${join(this.dir, 'receiver.py')};`, '  encoder json;', '}'];
    for (const n of o.neighbors) {
      lines.push(`neighbor ${n.address} {`, `  router-id ${o.routerId ?? o.address};`, `  local-address ${o.address};`,
        `  local-as ${o.asn};`, `  peer-as ${n.asn};`, '  hold-time 9;', '  passive true;', `  listen ${o.port};`,
        ...(n.md5 ? [`  md5-password "${n.md5}";`] : []),
        '  family { ipv4 unicast; ipv6 unicast; }',
        `  capability { asn4 enable; ${n.gracefulRestart ? 'graceful-restart 60; ' : ''}}`,
        '  api { processes [ receiver ]; neighbor-changes; receive { parsed; update; notification; } }',
        '}');
    }
    return `${lines.join('\n')}\n`;
  }

  async start(): Promise<void> {
    const conf = join(this.dir, 'exabgp.conf');
    writeFileSync(conf, this.config());
    // ExaBGP is Python, so python3 is there; line-buffered so each message lands at once.
    const receiver = join(this.dir, 'receiver.py');
    writeFileSync(receiver, `#!/usr/bin/python3\nimport sys\nwith open(${JSON.stringify(this.logFile)}, 'a', buffering=1) as out:\n    for line in sys.stdin:\n        out.write(line)\n`);
    chmodSync(receiver, 0o755);
    writeFileSync(this.logFile, ''); // a new instance knows nothing of the old one's sessions
    const env = {
      ...process.env, exabgp_daemon_user: 'root', exabgp_daemon_drop: 'false', exabgp_api_cli: 'false',
      exabgp_tcp_bind: this.options.address, exabgp_tcp_port: String(this.options.port), exabgp_log_level: 'INFO',
    };
    this.child = spawnDaemon(EXABGP, [conf], join(this.dir, 'exabgp.log'), env);
    await waitFor('exabgp configuration loaded', async () => readFileSync(join(this.dir, 'exabgp.log'), 'utf8').includes('loaded new configuration'), 10000, 50);
  }

  async stop(): Promise<void> {
    if (this.child?.pid !== undefined) await killPid(this.child.pid);
    this.child = undefined;
  }

  async restart(): Promise<void> { await this.stop(); await this.start(); }

  async dispose(): Promise<void> { await this.stop(); removeDir(this.dir); }

  private replay(): { rib: Map<string, NormalizedRoute>; up: Set<string> } {
    const rib = new Map<string, NormalizedRoute>();
    const up = new Set<string>();
    const text = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
    for (const line of text.split('\n')) {
      if (!line.trim().startsWith('{')) continue;
      let m: ExaMessage;
      try { m = JSON.parse(line) as ExaMessage; } catch { continue; }
      const peer = m.neighbor?.address?.peer ?? '';
      if (m.type === 'state') {
        if (m.neighbor?.state === 'up') up.add(peer);
        else { up.delete(peer); for (const k of [...rib.keys()]) if (k.startsWith(`${peer} `)) rib.delete(k); }
      } else if (m.type === 'update') {
        applyUpdate(rib, peer, m.neighbor?.message?.update);
      }
    }
    return { rib, up };
  }

  async isEstablished(address: string): Promise<boolean> { return this.replay().up.has(address); }

  async routes(): Promise<NormalizedRoute[]> { return sortRoutes([...this.replay().rib.values()]); }

  /** Routes per family (for bulk checks). */
  async count(): Promise<{ ipv4: number; ipv6: number }> {
    let ipv4 = 0; let ipv6 = 0;
    for (const r of this.replay().rib.values()) { if (r.prefix.includes(':')) ipv6++; else ipv4++; }
    return { ipv4, ipv6 };
  }
}

interface ExaAttributes {
  'as-path'?: (number | number[])[];
  med?: number;
  'local-preference'?: number;
  community?: [number, number][];
  'large-community'?: [number, number, number][];
}
interface ExaUpdate {
  attribute?: ExaAttributes;
  announce?: Record<string, Record<string, ({ nlri: string } | string)[]>>;
  withdraw?: Record<string, ({ nlri: string } | string)[]>;
}
interface ExaMessage {
  type?: string;
  neighbor?: { address?: { peer?: string }; state?: string; message?: { update?: ExaUpdate } };
}

const nlriText = (n: { nlri: string } | string): string => (typeof n === 'string' ? n : n.nlri);

function applyUpdate(rib: Map<string, NormalizedRoute>, peer: string, u: ExaUpdate | undefined): void {
  if (!u) return;
  for (const list of Object.values(u.withdraw ?? {})) for (const n of list) rib.delete(`${peer} ${nlriText(n)}`);
  const a = u.attribute ?? {};
  for (const byNextHop of Object.values(u.announce ?? {})) {
    for (const [nextHop, list] of Object.entries(byNextHop)) {
      for (const n of list) {
        const prefix = nlriText(n);
        const r: NormalizedRoute = {
          prefix, nextHop, from: peer,
          asPath: (a['as-path'] ?? []).flatMap((x) => (Array.isArray(x) ? x : [x])),
          communities: (a.community ?? []).map(([hi, lo]) => `${hi}:${lo}`).sort(),
          largeCommunities: (a['large-community'] ?? []).map(([g, l1, l2]) => `${g}:${l1}:${l2}`).sort(),
        };
        if (a.med !== undefined) r.med = a.med;
        if (a['local-preference'] !== undefined) r.localPref = a['local-preference'];
        rib.set(`${peer} ${prefix}`, r);
      }
    }
  }
}
