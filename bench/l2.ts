// `npm run bench -- l2 [kills]` (as root): layer-2 failover as the client sees it, in the lab of
// test/e2e/l2-lab.ts (three nodes on one bridge, a client pinging every 10 ms).
//
// 1. ironlb, silent death: the owner's link goes down, then its speaker is SIGKILLed; the outage
//    is the longest run of lost pings. Then the node comes back (and, first in MetalLB's order,
//    takes its address back). `kills` times (default 20): median and p95.
// 2. ironlb, loud death: SIGTERM (the speaker tells the others before it goes).
// 3. ironlb with the other heartbeat interval of the two tried (5 and 10 ms: the one that is not
//    the default), then without the layer-2 heartbeats (--l2-heartbeat-interval 0): gossip alone,
//    as before the heartbeats existed.
// 4. keepalived (VRRPv3, Debian), the same silent death of the master, at its fastest sub-second
//    advert interval (10 ms), when keepalived is installed.
// The silent kills of 1 and 4 also measure HTTP: a new connection every 10 ms (HttpLoop).
//
// `npm run bench -- l2 idle [services]`: the three speakers idle with 1,000 layer-2 Services (RSS and
// CPU seconds per minute of each speaker process, after the takeover announcements are over): the
// compiled daemon (dist/, built first) with the heartbeats (default) and without them (their CPU
// cost is the difference), then the sources through tsx (the lab's way) with the heartbeats.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { failover, HttpLoop, L2Lab, PingLoop } from '../test/e2e/l2-lab.ts';
import { inNs } from '../test/e2e/netns.ts';
import { defaultHeartbeatMs } from '../src/membership/heartbeat.ts';

const idle = process.argv[2] === 'idle';
const kills = idle ? 0 : Number(process.argv[2] ?? 20);
const idleServices = idle ? Number(process.argv[3] ?? 1000) : 0;
/** Of the two heartbeat intervals compared (5 and 10 ms), the one that is not the default. */
const otherHeartbeatMs = (defaultHeartbeatMs as number) === 5 ? 10 : 5;
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!; };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const row = (name: string, xs: number[]): string => {
  const ok = xs.filter((x) => x >= 0);
  if (ok.length === 0) return `  ${name.padEnd(40)} no run recovered (${xs.length} runs)`;
  return `  ${name.padEnd(40)} ${String(pct(ok, 50)).padStart(6)} ${String(pct(ok, 95)).padStart(6)} ${String(Math.min(...ok)).padStart(6)} ${String(Math.max(...ok)).padStart(6)}   ${ok.length}/${xs.length}`;
};

function keepalivedInstalled(): boolean {
  try { execFileSync('sh', ['-c', 'command -v keepalived'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** keepalived on every node for VIP 192.168.50.250: node1 150, node2 100, node3 50 (node1 is master). */
class Vrrp {
  readonly procs = new Map<string, ChildProcess>();
  constructor(private readonly lab: L2Lab, private readonly advertS: number) {}
  conf(n: string, prio: number): string {
    const f = path.join(this.lab.root, `keepalived-${n}.conf`);
    writeFileSync(f, `global_defs {\n  vrrp_version 3\n  script_user root\n  enable_script_security\n  vrrp_garp_master_delay 0\n  vrrp_garp_master_repeat 5\n}\nvrrp_instance lab {\n  state BACKUP\n  interface eth0\n  virtual_router_id 50\n  priority ${prio}\n  advert_int ${this.advertS}\n  virtual_ipaddress {\n    192.168.50.250/32 dev eth0\n  }\n}\n`);
    return f;
  }
  start(n: string, prio: number): void {
    const dir = this.lab.root;
    const log = openSync(path.join(dir, `keepalived-${n}.log`), 'a');
    this.procs.set(n, spawn('ip', ['netns', 'exec', `l2-${n}`, 'keepalived', '-n', '-l', '-P', '-f', this.conf(n, prio),
      '-p', path.join(dir, `ka-${n}.pid`), '-r', path.join(dir, `ka-vrrp-${n}.pid`)], { stdio: ['ignore', log, log] }));
  }
  kill(n: string): void {
    for (const f of [`ka-vrrp-${n}.pid`, `ka-${n}.pid`]) {
      try { process.kill(Number(readFileSync(path.join(this.lab.root, f), 'utf8').trim()), 'SIGKILL'); } catch { /* gone */ }
    }
    this.procs.get(n)?.kill('SIGKILL');
  }
  stopAll(): void { for (const n of this.procs.keys()) this.kill(n); }
  master(): string | undefined {
    for (const n of ['node1', 'node2', 'node3']) if (inNs(`l2-${n}`, 'ip', '-4', 'addr', 'show', 'dev', 'eth0').includes('192.168.50.250')) return n;
    return undefined;
  }
}

async function vrrpKills(lab: L2Lab, advertS: number, n: number, httpOut: number[]): Promise<number[]> {
  const v = new Vrrp(lab, advertS);
  const prio: Record<string, number> = { node1: 150, node2: 100, node3: 50 };
  for (const [node, p] of Object.entries(prio)) v.start(node, p);
  const out: number[] = [];
  try {
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < 100 && v.master() !== 'node1'; i++) await sleep(100);
      await sleep(1000);
      const ping = new PingLoop('192.168.50.250', 3);
      const http = new HttpLoop('http://192.168.50.250/', 3);
      await sleep(800);
      inNs('l2-node1', 'ip', 'link', 'set', 'eth0', 'down');
      v.kill('node1');
      const r = await ping.outage();
      out.push(r.outageMs);
      httpOut.push((await http.outage()).gapMs);
      inNs('l2-node1', 'ip', 'link', 'set', 'eth0', 'up');
      // The killed keepalived left the VIP on the interface: a dead node keeps nothing.
      try { inNs('l2-node1', 'ip', 'addr', 'del', '192.168.50.250/32', 'dev', 'eth0'); } catch { /* not there */ }
      v.start('node1', prio.node1!);
    }
  } catch (e) {
    console.log(`keepalived run stopped: ${(e as Error).message}`);
  } finally {
    v.stopAll();
    for (const node of Object.keys(prio)) try { inNs(`l2-${node}`, 'ip', 'addr', 'del', '192.168.50.250/32', 'dev', 'eth0'); } catch { /* not there */ }
  }
  return out;
}

/** A /22 pool answered on LAN A and `n` Services with an endpoint on every node. */
function manyServices(n: number): string {
  const docs = ['apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: many, namespace: metallb-system }\nspec: { addresses: [192.168.52.0/22] }',
    'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: { name: many, namespace: metallb-system }\nspec: { ipAddressPools: [many], interfaces: [eth0] }'];
  for (let i = 0; i < n; i++) {
    docs.push(`apiVersion: v1\nkind: Service\nmetadata: { name: s${i}, namespace: default, annotations: { metallb.io/address-pool: many } }\nspec: { type: LoadBalancer, ports: [{ port: 80 }] }`);
    docs.push(`apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: s${i}-1, namespace: default, labels: { kubernetes.io/service-name: s${i} } }\naddressType: IPv4\nendpoints: [${['node1', 'node2', 'node3'].map((nd, j) => `{ addresses: [10.244.${j}.${i % 250 + 1}], nodeName: ${nd}, conditions: { ready: true } }`).join(', ')}]`);
  }
  return docs.join('\n---\n') + '\n';
}

/** A round whose speakers did not agree beforehand (one still starting on a loaded machine) is skipped, not counted. */
function skip(e: unknown): undefined {
  console.log(`  round skipped: ${(e as Error).message}`);
  return undefined;
}

/** One line per silent kill: where the outage went (kill → takeover decision → first gratuitous round; the rest is the client's). */
function breakdown(r: Awaited<ReturnType<typeof failover>>, k: number, label: string): ReturnType<L2Lab['takeoverTimes']> {
  const t = lab.takeoverTimes(r.victim, r.killedAt, lab.ips().web4 ?? '');
  const ms = (x: number | undefined): string => (x === undefined ? '-' : String(x));
  console.log(`  ${label} kill ${k + 1}: ping outage ${r.outageMs} ms; ${t.by ?? '?'} took over after ${ms(t.silenceMs)} ms without a heartbeat (allowed ${ms(t.allowedMs)}), ${ms(t.detectMs)} ms after the kill began; first gratuitous round ${ms(t.announceMs)} ms after it`);
  return t;
}

/** `n` failovers of web4's owner; a round whose speakers did not agree beforehand is skipped. */
async function killRounds(n: number, mode: 'silent' | 'loud', http: boolean, each: (r: Awaited<ReturnType<typeof failover>>, k: number) => void): Promise<void> {
  for (let k = 0; k < n; k++) {
    const r = await failover(lab, 'web4', mode, { seconds: 3, http }).catch(skip);
    if (!r) continue;
    each(r, k);
    await lab.allOwned(['web4'], undefined, 20_000);
    await sleep(500);
  }
}

async function restartSpeakers(lab: L2Lab, args: string[]): Promise<void> {
  lab.speakerArgs = args;
  for (const n of ['node1', 'node2', 'node3'] as const) {
    const p = lab.procs.get(`speaker-${n}`);
    lab.kill(`speaker-${n}`, 'SIGTERM');
    await lab.exited(`speaker-${n}`, p);
    lab.startSpeaker(n);
  }
}

/** Takeovers a speaker logged so far: while everyone is alive, each one is a false takeover (a stall, lost heartbeats). */
function takeovers(n: string): number {
  try { return readFileSync(path.join(lab.root, `speaker-${n}.log`), 'utf8').split('no heartbeat from the owner').length - 1; } catch { return 0; }
}

function procStats(pid: number): { cpuS: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime, in clock ticks (100/s)
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuS: ticks / 100, rssMiB: rss / 1024 };
}

const lab = new L2Lab();
process.once('SIGINT', () => { lab.stop(false); process.exit(130); });
try {
  if (idle) {
    lab.extraFiles = { 'many.yaml': manyServices(idleServices) };
    console.log('building dist/ (npm run build) for the compiled rows');
    execFileSync(process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
    lab.compiled = true;
    const t0 = Date.now();
    await lab.start();
    const all = await lab.allOwned(Array.from({ length: idleServices }, (_, i) => `s${i}`), undefined, 120_000).catch(() => undefined);
    console.log(`l2 idle bench: ${idleServices} layer-2 Services ${all ? `owned and agreed in ${Date.now() - t0} ms` : 'NOT all agreed in 120 s'}`);
    const rows = [
      [`compiled (dist/), heartbeats every ${defaultHeartbeatMs} ms (default)`, [], true],
      [`compiled (dist/), heartbeats every ${otherHeartbeatMs} ms`, ['--l2-heartbeat-interval', String(otherHeartbeatMs)], true],
      ['compiled (dist/), no heartbeats (--l2-heartbeat-interval 0)', ['--l2-heartbeat-interval', '0'], true],
      [`tsx (sources), heartbeats every ${defaultHeartbeatMs} ms (default)`, [], false],
    ] as const;
    for (const [i, [label, args, compiled]] of rows.entries()) {
      if (i > 0) {
        lab.compiled = compiled;
        await restartSpeakers(lab, [...args]);
        await lab.allOwned(Array.from({ length: idleServices }, (_, i) => `s${i}`), undefined, 120_000).catch(() => undefined);
      }
      await sleep(8000); // the takeover's gratuitous rounds are over
      const pids = (['node1', 'node2', 'node3'] as const).map((n) => ({ n, pid: lab.procs.get(`speaker-${n}`)!.pid! }));
      if (process.env.L2_BENCH_KEEP) console.log(`logs in ${lab.root}`);
      const before = pids.map((p) => procStats(p.pid));
      const takeoversBefore = pids.map((p) => takeovers(p.n));
      const seconds = 30;
      await sleep(seconds * 1000);
      console.log(`${label}:`);
      console.log(`  speaker      IPs owned   RSS MiB   CPU s/min   false takeovers (idle, ${seconds} s sampled; load ${loadavg()[0]!.toFixed(1)})`);
      pids.forEach((p, i) => {
        const after = procStats(p.pid);
        const owned = Object.values(lab.speakerLayer2(p.n)).filter((e) => e.node === p.n).length;
        console.log(`    ${p.n.padEnd(10)} ${String(owned).padStart(9)} ${after.rssMiB.toFixed(1).padStart(9)} ${(((after.cpuS - before[i]!.cpuS) * 60) / seconds).toFixed(2).padStart(11)} ${String(takeovers(p.n) - takeoversBefore[i]!).padStart(9)}`);
      });
    }
  } else {
  await lab.start();
  const owners = await lab.allOwned(['web4', 'web6'], undefined, 120_000);
  if (!owners) throw new Error(`the lab did not converge; logs in ${lab.root}`);
  console.log(`l2 bench: ${kills} kills each; client pings every 10 ms; outage = longest run of lost pings (10 ms resolution); load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const silent: number[] = [];
  const loud: number[] = [];
  const http: number[] = [];
  const detect: number[] = [];
  const announce: number[] = [];
  await killRounds(kills, 'silent', true, (r, k) => {
    silent.push(r.outageMs);
    http.push(r.httpGapMs);
    const t = breakdown(r, k, `${defaultHeartbeatMs} ms (default)`);
    if (t.silenceMs !== undefined) detect.push(t.silenceMs);
    if (t.announceMs !== undefined) announce.push(t.announceMs);
    if (process.env.L2_BENCH_HTTP_TRACE) console.log(`  kill ${k + 1}: ping outage ${r.outageMs} ms; HTTP gap ${r.httpGapMs} ms: ${r.httpAttempts.join(', ')}`);
  });
  await killRounds(Math.min(kills, 10), 'loud', false, (r) => loud.push(r.outageMs));
  // The same silent kills with the other heartbeat interval, then with the gossip alone.
  await restartSpeakers(lab, ['--l2-heartbeat-interval', String(otherHeartbeatMs)]);
  await lab.allOwned(['web4'], undefined, 60_000);
  await sleep(1000);
  const hbOther: number[] = [];
  await killRounds(kills, 'silent', false, (r, k) => { hbOther.push(r.outageMs); breakdown(r, k, `${otherHeartbeatMs} ms`); });
  await restartSpeakers(lab, ['--l2-heartbeat-interval', '0']);
  await lab.allOwned(['web4'], undefined, 30_000);
  await sleep(1000);
  const fast: number[] = [];
  await killRounds(Math.min(kills, 5), 'silent', false, (r) => fast.push(r.outageMs));
  const ka10: number[] = [];
  const kaHttp: number[] = [];
  if (keepalivedInstalled()) {
    ka10.push(...await vrrpKills(lab, 0.01, kills, kaHttp));
  } else {
    console.log('keepalived is not installed (apt-get install keepalived): no VRRP comparison');
  }
  console.log(`client-observed outage (ms; load now ${loadavg().map((x) => x.toFixed(1)).join(' ')})  median    p95    min    max   runs`);
  console.log(row(`ironlb, silent (link down + KILL), ${defaultHeartbeatMs} ms`, silent));
  console.log(row('ironlb, silent: HTTP outage (new conn/10 ms)', http));
  if (detect.length > 0) console.log(row('ironlb, silent: silence before the takeover', detect));
  if (announce.length > 0) console.log(row('ironlb, silent: kill began → first gratuitous', announce));
  console.log(row('ironlb, loud (SIGTERM)', loud));
  console.log(row(`ironlb, silent, heartbeats every ${otherHeartbeatMs} ms`, hbOther));
  console.log(row('ironlb, silent, gossip only (no heartbeats)', fast));
  if (ka10.length > 0) console.log(row('keepalived VRRPv3 advert 10 ms, silent', ka10));
  if (kaHttp.length > 0) console.log(row('keepalived: HTTP outage (new conn/10 ms)', kaHttp));
  const ok = (xs: number[]): number[] => xs.filter((x) => x >= 0);
  const ratio = (a: number[], b: number[]): string => `median ${(pct(ok(a), 50) / Math.max(10, pct(ok(b), 50))).toFixed(2)}, p95 ${(pct(ok(a), 95) / Math.max(10, pct(ok(b), 95))).toFixed(2)}`;
  if (ok(ka10).length > 0) {
    console.log(`ratio ironlb (default, heartbeats every ${defaultHeartbeatMs} ms) / keepalived 10 ms: ${ratio(silent, ka10)}; HTTP outage: ${ratio(http, kaHttp)}`);
    console.log(`ratio ironlb (heartbeats every ${otherHeartbeatMs} ms) / keepalived 10 ms: ${ratio(hbOther, ka10)}`);
    console.log(`ratio ironlb (gossip only, 100 ms period) / keepalived 10 ms: ${ratio(fast, ka10)}`);
  }
  }
} finally {
  lab.stop(process.env.L2_BENCH_KEEP !== undefined);
}
