// The layer-2 lab (`npm run lab -- l2`, test/e2e/l2-lab.test.ts, `npm run bench -- l2`): three
// nodes running `ironlb speaker` with gossip membership, one controller, a client on LAN A and a
// probe on LAN B, all in network namespaces named l2-*. Topology:
//
//   client 192.168.50.100 fd50::100 ─┐            ┌─ node1 eth0 .11 ::11 │ eth1 192.168.60.11
//                                    ├─ br0 (A) ──┼─ node2 eth0 .12 ::12 │ eth1 192.168.60.12
//                                    │  (l2-sw)   └─ node3 eth0 .13 ::13 │ eth1 192.168.60.13
//   probe  192.168.60.100 ───────────┴─ br1 (B) ── every node's eth1 ────┘
//
// Nodes accept traffic for every Service address (local routes, as kube-proxy would) with
// arp_ignore=1 / arp_announce=2 (kube-proxy's strictARP), so only ironlb answers for them.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { waitFor } from './frr.ts';
import { addNs, inNs, link, sh, spawnInNs } from './netns.ts';
import { controllerJournalFile, controllerStatusFile, parseControllerStatus, speakerStatusFile, stateDirName } from '../../src/store/files/status-file.ts';
import { parseSpeakerStatus, speakerJournalFile } from '../../src/store/files/speaker-status-journal.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
const fixtures = path.join(import.meta.dirname, 'fixtures', 'l2lab');
export const l2Nodes = ['node1', 'node2', 'node3'] as const;
export type L2Node = (typeof l2Nodes)[number];
const nodeNum: Record<L2Node, number> = { node1: 11, node2: 12, node3: 13 };
export const l2Prefix = 'l2-';

export interface LabCheck { readonly name: string; readonly ok: boolean; readonly detail: string }
export interface LabReport { readonly ok: boolean; readonly checks: LabCheck[]; readonly figures: Record<string, number>; readonly dir: string }

export function requireTools(): void {
  for (const t of ['arping', 'ndisc6', 'ping', 'ip', 'nft']) {
    try { sh('sh', '-c', `command -v ${t}`); } catch { throw new Error(`the layer-2 lab needs ${t} (apt-get install arping ndisc6 iputils-ping iproute2 nftables)`); }
  }
}

export function deleteL2Namespaces(): void {
  const list = sh('ip', 'netns', 'list').split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(l2Prefix));
  for (const ns of list) {
    for (const pid of sh('ip', 'netns', 'pids', ns).split('\n').filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
    try { sh('ip', 'netns', 'del', ns); } catch { /* gone */ }
  }
}

/** A ping every 10 ms from the client; the outage is the longest run of lost replies. */
export class PingLoop {
  private readonly p: ChildProcess;
  private out = '';
  private readonly done: Promise<void>;
  /** `ns`: the client's network namespace (another lab's, e.g. the MetalLB comparison's). */
  constructor(ip: string, seconds: number, ns = 'l2-client') {
    const v6 = ip.includes(':');
    this.p = spawn('ip', ['netns', 'exec', ns, 'ping', ...(v6 ? ['-6'] : []), '-n', '-i', '0.01', '-W', '1', '-w', String(seconds), ip], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.p.stdout!.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.done = new Promise((r) => this.p.on('exit', () => r()));
  }
  stop(): void { this.p.kill('SIGINT'); }
  /** Longest gap between answered pings (ms), and how many were answered. -1: never answered after the gap. */
  async outage(): Promise<{ outageMs: number; answered: number; lastSeq: number }> {
    await this.done;
    const seqs = [...this.out.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    const sent = Number(/(\d+) packets transmitted/.exec(this.out)?.[1] ?? '0');
    let gap = 0;
    for (let i = 1; i < seqs.length; i++) gap = Math.max(gap, seqs[i]! - seqs[i - 1]! - 1);
    const tail = sent - (seqs.at(-1) ?? 0);
    if (seqs.length === 0 || tail > 20) return { outageMs: -1, answered: seqs.length, lastSeq: seqs.at(-1) ?? 0 };
    return { outageMs: gap * 10, answered: seqs.length, lastSeq: seqs.at(-1) ?? 0 };
  }
}

/**
 * A new TCP connection + GET every 10 ms from the client, each on its own (they overlap), as many
 * clients opening connections would. An attempt "gets through" when it completes within 500 ms;
 * one whose SYN went to the dead owner waits for the kernel's SYN retransmission (1 s) or fails.
 * The outage is measured like the ping's: the longest gap between the starts of two attempts
 * that got through, less one interval (10 ms resolution), i.e. how long a new connection could
 * not get through quickly. `attempts` lists the attempts inside that gap as "start+duration
 * outcome" (ms from the last one that got through), which explains it.
 */
export class HttpLoop {
  private readonly p: ChildProcess;
  private out = '';
  private readonly done: Promise<void>;
  constructor(url: string, seconds: number) {
    const script = `const http=require('node:http');const t0=Date.now();const end=t0+${seconds * 1000};const runs=[];let pending=0;
function attempt(){const t=Date.now();const a={t,d:-1,how:''};runs.push(a);pending++;
const fin=(how)=>{if(a.how)return;a.how=how;a.d=Date.now()-t;pending--;};
const r=http.get(${JSON.stringify(url)},{agent:false,timeout:1500},(s)=>{s.resume();s.on('end',()=>fin('ok'));});
r.on('timeout',()=>r.destroy(Object.assign(new Error('timeout'),{code:'timeout'})));r.on('error',(e)=>fin(e.code||e.message));}
const iv=setInterval(()=>{if(Date.now()>end){clearInterval(iv);const w=setInterval(()=>{if(pending>0&&Date.now()<end+2000)return;clearInterval(w);report();},20);return;}attempt();},10);
function report(){const good=runs.filter((a)=>a.how==='ok'&&a.d<=500);let gap=0,worst=[];for(let i=1;i<good.length;i++){const g=good[i].t-good[i-1].t-10;if(g>gap){gap=g;const from=good[i-1].t;worst=runs.filter((a)=>a.t>from&&a.t<=good[i].t).map((a)=>(a.t-from)+'+'+a.d+' '+(a.how||'pending'));}}
console.log(JSON.stringify({gap:good.length?Math.max(0,gap):-1,ok:good.length,attempts:worst.slice(0,12)}));}`;
    this.p = spawn('ip', ['netns', 'exec', 'l2-client', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.p.stdout!.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.done = new Promise((r) => this.p.on('exit', () => r()));
  }
  /** The longest gap (ms), attempts that got through, and the attempts in that gap as "start+duration outcome". */
  async outage(): Promise<{ gapMs: number; ok: number; attempts: string[] }> {
    await this.done;
    try { const j = JSON.parse(this.out) as { gap: number; ok: number; attempts: string[] }; return { gapMs: j.gap, ok: j.ok, attempts: j.attempts }; } catch { return { gapMs: -1, ok: 0, attempts: [] }; }
  }
}

export class L2Lab {
  readonly root = mkdtempSync(path.join(tmpdir(), 'l2-lab-'));
  readonly cfg = path.join(this.root, 'config');
  readonly secret = path.join(this.root, 'ml-secret');
  readonly checks: LabCheck[] = [];
  readonly figures: Record<string, number> = {};
  readonly procs = new Map<string, ChildProcess>();
  /** Extra speaker flags (the bench tries other gossip periods). */
  speakerArgs: string[] = [];
  /** Run dist/cli/main.js (built beforehand) instead of the sources through tsx. */
  compiled = false;
  /** Extra files for the configuration folder, written before anything starts (the bench's 1,000 Services). */
  extraFiles: Record<string, string> = {};

  constructor(readonly say: (line: string) => void = () => undefined) {}

  check(name: string, ok: boolean, detail: string): boolean {
    this.checks.push({ name, ok, detail });
    this.say(`${ok ? '  ok ' : '  FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
    return ok;
  }

  build(): void {
    deleteL2Namespaces();
    for (const ns of ['sw', 'client', 'probe', ...l2Nodes]) addNs(`l2-${ns}`);
    for (const br of ['br0', 'br1']) {
      inNs('l2-sw', 'ip', 'link', 'add', br, 'type', 'bridge');
      // No multicast snooping: the bridge floods solicited-node multicast like a plain switch.
      inNs('l2-sw', 'ip', 'link', 'set', br, 'type', 'bridge', 'mcast_snooping', '0');
      inNs('l2-sw', 'ip', 'link', 'set', br, 'up');
    }
    const attach = (swName: string, br: string, ns: string, ifname: string, addrs: string[]): void => {
      link({ ns: 'l2-sw', name: swName }, { ns, name: ifname });
      inNs('l2-sw', 'ip', 'link', 'set', swName, 'master', br);
      for (const a of addrs) inNs(ns, 'ip', 'addr', 'add', a, 'dev', ifname, ...(a.includes(':') ? ['nodad'] : []));
    };
    attach('client', 'br0', 'l2-client', 'eth0', ['192.168.50.100/24', 'fd50::100/64']);
    attach('probe', 'br1', 'l2-probe', 'eth0', ['192.168.60.100/24']);
    for (const n of l2Nodes) {
      const ns = `l2-${n}`;
      attach(`${n}a`, 'br0', ns, 'eth0', [`192.168.50.${nodeNum[n]}/24`, `fd50::${nodeNum[n]}/64`]);
      attach(`${n}b`, 'br1', ns, 'eth1', [`192.168.60.${nodeNum[n]}/24`]);
      // kube-proxy's strictARP: the kernel answers ARP only for addresses on the interface asked.
      // A node's IPv6 addresses survive its link going down and up (as a configured host's would).
      inNs(ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore && echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce && echo 1 > /proc/sys/net/ipv6/conf/all/keep_addr_on_down');
      for (const p of ['192.168.50.192/27', '192.168.60.192/27']) inNs(ns, 'ip', 'route', 'add', 'local', p, 'dev', 'lo');
      inNs(ns, 'ip', '-6', 'route', 'add', 'local', 'fd50::200/120', 'dev', 'lo');
    }
  }

  spawn(key: string, ns: string | undefined, argv: string[]): ChildProcess {
    const fd = openSync(path.join(this.root, `${key}.log`), 'a');
    const p = spawnInNs(ns, argv, fd, { IRONLB_LOG_LEVEL: 'info' }, repo);
    this.procs.set(key, p);
    return p;
  }

  ironlb(key: string, ns: string | undefined, args: string[]): ChildProcess {
    // The compiled daemon (`npm run build`), as users run it, when the bench asks for it.
    if (this.compiled) return this.spawn(key, ns, [process.execPath, path.join(repo, 'dist', 'cli', 'main.js'), ...args]);
    return this.spawn(key, ns, [process.execPath, '--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), ...args]);
  }

  startSpeaker(n: L2Node): void {
    this.ironlb(`speaker-${n}`, `l2-${n}`, ['speaker', '--config', this.cfg, '--node', n, '--metrics', '127.0.0.1:18710', '--ml-secret-key-path', this.secret, ...this.speakerArgs]);
  }

  startHttp(n: L2Node): void {
    this.spawn(`http-${n}`, `l2-${n}`, [process.execPath, '-e', `require('node:http').createServer((q, s) => s.end('${n}\\n')).listen(80, '::')`]);
  }

  /** Drops (or stops dropping) the gossip port in a namespace, both directions. */
  block(ns: string, on: boolean): void {
    if (on) {
      inNs(ns, 'nft', 'add', 'table', 'inet', 'l2lab');
      for (const hook of ['input', 'output']) {
        inNs(ns, 'nft', 'add', 'chain', 'inet', 'l2lab', hook, `{ type filter hook ${hook} priority 0 ; }`);
        inNs(ns, 'nft', 'add', 'rule', 'inet', 'l2lab', hook, 'udp', 'dport', '7946', 'drop');
        inNs(ns, 'nft', 'add', 'rule', 'inet', 'l2lab', hook, 'udp', 'sport', '7946', 'drop');
      }
    } else {
      inNs(ns, 'nft', 'delete', 'table', 'inet', 'l2lab');
    }
  }

  kill(key: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    const p = this.procs.get(key);
    if (p?.pid !== undefined && p.exitCode === null) try { process.kill(p.pid, signal); } catch { /* gone */ }
    this.procs.delete(key);
  }

  async exited(key: string, p: ChildProcess | undefined, ms = 10_000): Promise<boolean> {
    if (!p || p.exitCode !== null) return true;
    return new Promise((r) => { const t = setTimeout(() => r(false), ms); p.once('exit', () => { clearTimeout(t); r(true); }); });
  }

  async start(): Promise<void> {
    requireTools();
    cpSync(fixtures, this.cfg, { recursive: true });
    for (const [name, text] of Object.entries(this.extraFiles)) writeFileSync(path.join(this.cfg, name), text);
    writeFileSync(this.secret, 'lab-memberlist-secret\n');
    this.build();
    for (const n of l2Nodes) this.startHttp(n);
    this.ironlb('controller', undefined, ['controller', '--config', this.cfg]);
    for (const n of l2Nodes) this.startSpeaker(n);
  }

  ips(): Record<string, string> {
    try {
      const dir = path.join(this.cfg, stateDirName);
      const journal = existsSync(path.join(dir, controllerJournalFile)) ? readFileSync(path.join(dir, controllerJournalFile), 'utf8') : '';
      const s = parseControllerStatus(readFileSync(path.join(dir, controllerStatusFile), 'utf8'), journal);
      return Object.fromEntries(Object.entries(s.services).map(([k, v]) => [k.replace(/^default\//, ''), v.ips[0] ?? '']));
    } catch {
      return {};
    }
  }

  speakerLayer2(n: L2Node): Record<string, { node: string; ips: string[]; interfaces: string[] }> {
    try {
      const read = (f: string): string => (existsSync(path.join(this.cfg, stateDirName, f)) ? readFileSync(path.join(this.cfg, stateDirName, f), 'utf8') : '');
      const journal = read(speakerJournalFile(n)); // before the base: see readControllerStatus
      const s = (parseSpeakerStatus(read(speakerStatusFile(n)), journal) ?? {}) as { layer2?: Record<string, { node: string; ips: string[]; interfaces: string[] }> };
      return s.layer2 ?? {};
    } catch {
      return {};
    }
  }

  /** The owner every running speaker reports for a Service, or undefined while they disagree. */
  owner(svc: string, among: readonly L2Node[] = l2Nodes, views = among.map((n) => this.speakerLayer2(n))): string | undefined {
    const seen = new Set(views.map((v) => v[`default/${svc}`]?.node));
    return seen.size === 1 ? [...seen][0] : undefined;
  }

  mac(n: L2Node, ifname: string): string {
    return inNs(`l2-${n}`, 'cat', `/sys/class/net/${ifname}/address`).trim().toLowerCase();
  }

  /** MACs of every ARP reply (3 probes). */
  arping(ns: string, ip: string, count = 3): string[] {
    let out: string;
    try { out = inNs(ns, 'arping', '-c', String(count), '-W', '0.2', '-i', 'eth0', ip); } catch (e) { out = String((e as { stdout?: string }).stdout ?? ''); }
    return [...out.matchAll(/bytes from ([0-9a-f:]{17})/gi)].map((m) => m[1]!.toLowerCase());
  }

  /** MACs of every Neighbor Advertisement to one solicitation (ndisc6 -m waits for all). */
  ndisc(ip: string): string[] {
    let out: string;
    try { out = inNs('l2-client', 'ndisc6', '-m', '-n', '-r', '1', '-w', '1000', ip, 'eth0'); } catch (e) { out = String((e as { stdout?: string }).stdout ?? ''); }
    return [...out.matchAll(/Target link-layer address: ([0-9A-F:]{17})/gi)].map((m) => m[1]!.toLowerCase());
  }

  ping(ip: string): boolean {
    try { inNs('l2-client', 'ping', ...(ip.includes(':') ? ['-6'] : []), '-n', '-c', '2', '-i', '0.2', '-W', '1', ip); return true; } catch { return false; }
  }

  http(ip: string): string {
    const url = ip.includes(':') ? `http://[${ip}]/` : `http://${ip}/`;
    const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))`;
    try { return inNs('l2-client', process.execPath, '-e', script).trim(); } catch { return ''; }
  }

  metrics(n: L2Node): string {
    const script = `fetch('http://127.0.0.1:18710/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))`;
    try { return inNs(`l2-${n}`, process.execPath, '-e', script); } catch { return ''; }
  }

  async allOwned(services: readonly string[], among: readonly L2Node[] = l2Nodes, ms = 20_000): Promise<Record<string, string> | undefined> {
    return waitFor('owners agreed', ms, () => {
      const o: Record<string, string> = {};
      const views = among.map((n) => this.speakerLayer2(n)); // each status file read once per poll
      for (const s of services) { const w = this.owner(s, among, views); if (!w || !among.includes(w as L2Node)) return undefined; o[s] = w; }
      return o;
    }, 50).catch(() => undefined);
  }

  /** A speaker's log lines (JSON) from `since` (ms since the epoch) on. */
  logSince(n: L2Node, since: number): Record<string, unknown>[] {
    let text: string;
    try { text = readFileSync(path.join(this.root, `speaker-${n}.log`), 'utf8'); } catch { return []; }
    const out: Record<string, unknown>[] = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try { const o = JSON.parse(line) as Record<string, unknown>; if (typeof o.time === 'number' && o.time >= since) out.push(o); } catch { /* not JSON */ }
    }
    return out;
  }

  /**
   * Where a silent failover's time went, from the survivors' logs: kill → the successor's
   * takeover decision (`detectMs`; the kill is when `ip link set down` was started, which on a
   * loaded machine can take a while to act), the silence since the owner's last heartbeat it had
   * read when it decided (`silenceMs`) against the silence it allowed (`allowedMs`: the base, or
   * twice the owner's recent longest gap), and kill → its first gratuitous round for `ip`
   * (`announceMs`). Undefined parts were not logged.
   */
  takeoverTimes(victim: L2Node, killedAt: number, ip: string): { by?: string; detectMs?: number; silenceMs?: number; allowedMs?: number; announceMs?: number } {
    const out: { by?: string; detectMs?: number; silenceMs?: number; allowedMs?: number; announceMs?: number } = {};
    for (const n of l2Nodes.filter((x) => x !== victim)) {
      for (const l of this.logSince(n, killedAt)) {
        const t = (l.time as number) - killedAt;
        if (out.detectMs === undefined && l.node === victim && String(l.msg).startsWith('layer 2: no heartbeat from the owner')) {
          Object.assign(out, { by: n, detectMs: t, ...(typeof l.allowedMs === 'number' ? { allowedMs: l.allowedMs } : {}), ...(typeof l.silenceMs === 'number' ? { silenceMs: l.silenceMs } : {}) });
        }
        if (String(l.msg).startsWith('layer 2: answering') && l.ip === ip && (out.announceMs === undefined || t < out.announceMs)) out.announceMs = t;
      }
    }
    return out;
  }

  stop(keep: boolean): void {
    for (const k of [...this.procs.keys()]) this.kill(k, k.startsWith('speaker') || k === 'controller' ? 'SIGTERM' : 'SIGKILL');
    deleteL2Namespaces();
    if (!keep) rmSync(this.root, { recursive: true, force: true });
  }
}

export const l2Services = ['web4', 'api4', 'db4', 'web6', 'api6', 'side'] as const;

/**
 * One failover: the owner of `svc` dies (silently: link down, then SIGKILL; loudly: SIGTERM) while
 * the client pings it every 10 ms (and, with http, opens a connection and fetches it every 10 ms); then the node comes back.
 */
export async function failover(lab: L2Lab, svc: string, mode: 'silent' | 'loud', o: { http?: boolean; seconds?: number; probe?: boolean } = {}): Promise<{ victim: L2Node; killedAt: number; outageMs: number; httpGapMs: number; httpAttempts: string[]; newOwner?: string; otherMoved: string[]; answers?: { macs: string[]; want: string } }> {
  // A speaker restarted by the previous round may take a while to start on a loaded machine.
  const before = (await lab.allOwned(l2Services, undefined, 60_000)) ?? {};
  const victim = before[svc] as L2Node | undefined;
  if (victim === undefined) throw new Error(`failover: the speakers do not agree on the owner of ${svc} (logs in ${lab.root})`);
  const ip = lab.ips()[svc]!;
  const seconds = o.seconds ?? 4;
  const ping = new PingLoop(ip, seconds);
  const http = o.http ? new HttpLoop(ip.includes(':') ? `http://[${ip}]/` : `http://${ip}/`, seconds) : undefined;
  await new Promise((r) => setTimeout(r, 800));
  const killedAt = Date.now();
  if (mode === 'silent') {
    inNs(`l2-${victim}`, 'ip', 'link', 'set', 'eth0', 'down');
    lab.kill(`speaker-${victim}`, 'SIGKILL');
  } else {
    const p = lab.procs.get(`speaker-${victim}`);
    lab.kill(`speaker-${victim}`, 'SIGTERM');
    await lab.exited(`speaker-${victim}`, p);
  }
  const r = await ping.outage();
  const h = http ? await http.outage() : { gapMs: 0, attempts: [] };
  const rest = l2Nodes.filter((n) => n !== victim);
  const after = (await lab.allOwned(l2Services, rest, 10_000)) ?? {};
  // Services the victim did not own must not have moved.
  const otherMoved = Object.keys(before).filter((s) => before[s] !== victim && after[s] !== before[s]);
  // Who answers now that the owner is gone: the successor alone, with its own MAC.
  const answers = o.probe && after[svc] ? { macs: ip.includes(':') ? lab.ndisc(ip) : lab.arping('l2-client', ip, 2), want: lab.mac(after[svc] as L2Node, 'eth0') } : undefined;
  // The node comes back.
  if (mode === 'silent') inNs(`l2-${victim}`, 'ip', 'link', 'set', 'eth0', 'up');
  rmSync(path.join(lab.cfg, '.ironlb-state', `speaker-${victim}.yaml`), { force: true });
  lab.startSpeaker(victim);
  return { victim, killedAt, outageMs: r.outageMs, httpGapMs: h.gapMs, httpAttempts: h.attempts, ...(after[svc] ? { newOwner: after[svc] } : {}), otherMoved, ...(answers ? { answers } : {}) };
}

export async function runL2Lab(o: { say?: (line: string) => void; keep?: boolean } = {}): Promise<LabReport> {
  const lab = new L2Lab(o.say);
  let ok = false;
  try {
    const t0 = Date.now();
    await lab.start();
    lab.say(`topology up in ${Date.now() - t0} ms; logs in ${lab.root}`);
    // Generous: four Node processes start at once, and a shared CI machine may give each a fraction of a core.
    const ips = await waitFor('every Service has an IP', 90_000, () => { const m = lab.ips(); return l2Services.every((s) => m[s]) ? m : undefined; }).catch(() => lab.ips());
    lab.figures.startToIpsMs = Date.now() - t0;
    lab.check('every Service got an IP', l2Services.every((s) => ips[s]), l2Services.map((s) => `${s}=${ips[s] ?? '-'}`).join(' '));
    const owners = await lab.allOwned(l2Services, undefined, 60_000);
    lab.figures.startToOwnersAgreedMs = Date.now() - t0;
    lab.check('all three speakers agree on every owner', owners !== undefined, owners ? l2Services.map((s) => `${s}@${owners[s]}`).join(' ') : 'no agreement in 60 s');
    if (!owners || !l2Services.every((s) => ips[s])) return { ok: false, checks: lab.checks, figures: lab.figures, dir: lab.root };
    const agreedAt = Date.now();
    // Folder mode shows the same facts a ServiceL2Status holds: node, Service, interfaces.
    const cli = (...args: string[]): string => { try { return sh(process.execPath, '--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), ...args); } catch (e) { return String((e as { stdout?: string }).stdout ?? ''); } };
    await new Promise((r) => setTimeout(r, 300));
    const statusOut = cli('status', '--config', lab.cfg);
    const statusLine = statusOut.split('\n').find((l) => l.includes('default/web4')) ?? '';
    lab.check('ironlb status: web4 answered by its owner on eth0', statusLine.includes(`${owners.web4} (layer 2 on eth0)`), statusLine.trim());
    const explainOut = cli('explain', '--config', lab.cfg, 'default/web6');
    const explainLine = explainOut.split('\n').find((l) => l.includes('layer 2:')) ?? '';
    lab.check('ironlb explain: web6 names its owner and interface', explainLine.includes(`node ${owners.web6} answers ARP/NDP for ${ips.web6} on eth0`), explainLine.trim());
    await new Promise((r) => setTimeout(r, 300));

    // Exactly one answer, from the owner, with its MAC; ping and HTTP reach the owner. IPv4 first:
    // ndisc6 -m also counts the owner's unsolicited advertisements, so IPv6 waits until the
    // takeover's gratuitous rounds (5 s) are over.
    for (const s of ['web4', 'api4', 'db4', 'web6', 'api6']) {
      const ip = ips[s]!;
      if (ip.includes(':')) await new Promise((r) => setTimeout(r, Math.max(0, agreedAt + 5000 - Date.now())));
      const want = lab.mac(owners[s] as L2Node, 'eth0');
      const got = ip.includes(':') ? lab.ndisc(ip) : lab.arping('l2-client', ip);
      const tool = ip.includes(':') ? 'ndisc6' : 'arping';
      lab.check(`${tool} ${ip} (${s}): one answer per probe, from ${owners[s]}`, got.length === (ip.includes(':') ? 1 : 3) && got.every((m) => m === want), `replies ${got.join(' ') || 'none'}; owner eth0 ${want}`);
      const pinged = lab.ping(ip);
      const who = lab.http(ip);
      lab.check(`client → ping and http://${ip}/`, pinged && who === owners[s], `ping ${pinged ? 'ok' : 'failed'}; HTTP answered by ${who || 'nobody'}`);
    }

    // Interface selection: LAN A's addresses are not answered on LAN B and vice versa.
    const sideMac = lab.mac(owners.side as L2Node, 'eth1');
    const sideB = lab.arping('l2-probe', ips.side!);
    lab.check(`arping ${ips.side} from LAN B: answered on eth1 only`, sideB.length === 3 && sideB.every((m) => m === sideMac), `replies ${sideB.join(' ') || 'none'}; owner eth1 ${sideMac}`);
    const sideA = lab.arping('l2-client', ips.side!, 2);
    const web4B = lab.arping('l2-probe', ips.web4!, 2);
    lab.check('LAN B\'s address not answered on LAN A, LAN A\'s not on LAN B', sideA.length === 0 && web4B.length === 0, `side on A: ${sideA.length} replies; web4 on B: ${web4B.length} replies`);

    // MetalLB's layer-2 counters on the owner.
    const m = lab.metrics(owners.web4 as L2Node);
    const has = (name: string): boolean => new RegExp(`^${name}\\{ip="${ips.web4!.replace(/\./g, '\\.')}"\\} [1-9]`, 'm').test(m);
    const names = ['metallb_layer2_requests_received', 'metallb_layer2_responses_sent', 'metallb_layer2_gratuitous_sent'];
    lab.check(`${owners.web4} /metrics: MetalLB's layer-2 counters for ${ips.web4}`, names.every(has), names.map((n) => `${n.replace('metallb_layer2_', '')}=${has(n) ? '>0' : 'missing'}`).join(' '));

    // Failover, silent: link down, speaker killed. Then the node comes back.
    for (const [svc, mode] of [['web4', 'silent'], ['web6', 'silent'], ['web4', 'loud'], ['web6', 'loud']] as const) {
      const r = await failover(lab, svc, mode, { http: svc === 'web4', probe: true });
      lab.figures[`${mode}Failover${svc === 'web4' ? 'V4' : 'V6'}OutageMs`] = r.outageMs;
      if (svc === 'web4') lab.figures[`${mode}FailoverHttpGapMs`] = r.httpGapMs;
      lab.check(`${svc}: owner ${r.victim} dies ${mode === 'silent' ? 'silently (link down, speaker killed)' : 'loudly (SIGTERM)'} → ${r.newOwner ?? 'nobody'} answers, client outage < 1 s`,
        r.outageMs >= 0 && r.outageMs < 1000 && r.newOwner !== undefined && r.newOwner !== r.victim,
        `ping outage ${r.outageMs} ms${svc === 'web4' ? `, HTTP gap ${r.httpGapMs} ms` : ''}`);
      const a = r.answers;
      // arping: one reply per probe; ndisc6 -m also counts the new owner's unsolicited advertisements (same MAC).
      lab.check(`${svc}: after the takeover only ${r.newOwner ?? '?'} answers ${svc.endsWith('6') ? 'NDP' : 'ARP'}, with its MAC`,
        a !== undefined && (svc.endsWith('6') ? a.macs.length >= 1 : a.macs.length === 2) && a.macs.every((x) => x === a.want),
        a ? `replies ${a.macs.join(' ') || 'none'}; ${r.newOwner} eth0 ${a.want}` : 'no new owner');
      lab.check(`${svc}: Services ${r.victim} did not own stayed where they were`, r.otherMoved.length === 0, r.otherMoved.length ? `moved: ${r.otherMoved.join(' ')}` : '');
      const back = await lab.allOwned(l2Services);
      lab.check(`${r.victim} back → owners as before (the ranking gives it its Services again, nothing else moves)`, back !== undefined && l2Services.every((s) => back[s] === owners[s]),
        back ? l2Services.filter((s) => back[s] !== owners[s]).map((s) => `${s}: ${owners[s]} → ${back[s]}`).join(' ') || 'same owners' : 'no agreement');
      await new Promise((r2) => setTimeout(r2, 1500));
    }
    // Partition: the owner of web4 can no longer gossip (UDP 7946 dropped) but the LAN still
    // reaches it. Each side elects its own owner: two nodes answer rather than none. When the
    // partition heals they agree again, one answers.
    const cut = (await lab.allOwned(l2Services))?.web4 as L2Node | undefined;
    if (cut) {
      const ns = `l2-${cut}`;
      lab.block(ns, true);
      const others = l2Nodes.filter((n) => n !== cut);
      const split = await waitFor('both sides claim web4', 10_000, () => {
        const mine = lab.speakerLayer2(cut)['default/web4'];
        const theirs = others.map((n) => lab.speakerLayer2(n)['default/web4']?.node);
        return mine?.node === cut && theirs.every((o) => o !== undefined && o !== cut && o === theirs[0]) ? theirs[0] : undefined;
      }, 50).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 600)); // past the interim owner's first gratuitous round
      const macs = new Set(lab.arping('l2-client', ips.web4!, 2));
      lab.check(`partition: ${cut} cut off from the gossip → ${split ?? '?'} also answers for web4 (two rather than none)`, split !== undefined && macs.size === 2,
        `${macs.size} distinct MACs answer arping: ${[...macs].join(' ')}`);
      const healedAt = Date.now();
      lab.block(ns, false);
      const agreed = await waitFor('one owner again', 10_000, () => {
        const o = lab.owner('web4');
        return o === cut && others.every((n) => (lab.speakerLayer2(n)['default/web4']?.interfaces.length ?? 0) === 0) ? o : undefined;
      }, 20).then(() => Date.now() - healedAt, () => -1);
      lab.figures.partitionHealToOneOwnerMs = agreed;
      const after = new Set(lab.arping('l2-client', ips.web4!, 2));
      lab.check('partition heals → one owner again, one MAC answers', agreed >= 0 && agreed < 5000 && after.size === 1,
        `${agreed >= 0 ? `${agreed} ms after the heal (status files, 200 ms write spacing)` : 'no agreement in 10 s'}; ${after.size} MAC(s) answer`);
    }
    lab.figures.totalMs = Date.now() - t0;
    ok = lab.checks.every((c) => c.ok);
    return { ok, checks: lab.checks, figures: lab.figures, dir: lab.root };
  } finally {
    lab.stop(o.keep === true && !ok);
  }
}
