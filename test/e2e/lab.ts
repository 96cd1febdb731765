// The one-command lab (`npm run lab`, also test/e2e/lab.test.ts): two FRR routers, three nodes
// each running `ironlb speaker`, one controller, one client, all in network namespaces; checks
// what the routers learn and what the client reaches, through a node failure, a bad edit and a
// router failure. Topology:
//
//   client ──172.31.1.0/30── r1 ─┐                   ┌─ node1 10.0.0.11  (speaker, http :80)
//          ──172.31.2.0/30── r2 ─┴── br0 10.0.0.0/24 ─┼─ node2 10.0.0.12
//                                (ilbl-sw)            └─ node3 10.0.0.13
//
// The client reaches the service prefixes by ECMP over both routers; nodes answer via r2 (their
// route back to the client), so r1 is the router the lab fails.
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ensureFrr, type FrrInstance, waitFor } from './frr.ts';
import { labAsn, type NodeName, nodeAddresses, type RouterName, startRouter } from './lab-routers.ts';
import { addNs, deleteOurNamespaces, inNs, link, spawnInNs } from './netns.ts';
import { controllerJournalFile, controllerStatusFile, parseControllerStatus, speakerStatusFile, stateDirName } from '../../src/store/files/status-file.ts';
import { parseSpeakerStatus, speakerJournalFile } from '../../src/store/files/speaker-status-journal.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
const fixtures = path.join(import.meta.dirname, 'fixtures', 'lab');
const nodes = Object.keys(nodeAddresses) as NodeName[];
const routers: RouterName[] = ['r1', 'r2'];
const servicePools = ['198.51.100.0/24', '203.0.113.0/24'];

export interface LabCheck { readonly name: string; readonly ok: boolean; readonly detail: string }
export interface LabReport { readonly ok: boolean; readonly checks: LabCheck[]; readonly figures: Record<string, number>; readonly dir: string }

/** GET from inside a namespace with Node itself (curl is not on every fresh machine); 2 s limit. */
function httpGet(ns: string, url: string): string {
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))`;
  return inNs(ns, process.execPath, '-e', script);
}

interface Expect { ip: string; nexthops: string[]; localPref: number; communities: string[]; large: string[] }

class Lab {
  readonly root = mkdtempSync(path.join(tmpdir(), 'ilbl-lab-'));
  readonly cfg = path.join(this.root, 'config');
  readonly checks: LabCheck[] = [];
  readonly figures: Record<string, number> = {};
  readonly frr = new Map<RouterName, FrrInstance>();
  readonly procs = new Map<string, ChildProcess>();

  constructor(readonly say: (line: string) => void) {}

  check(name: string, ok: boolean, detail: string): boolean {
    this.checks.push({ name, ok, detail });
    this.say(`${ok ? '  ok ' : '  FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
    return ok;
  }

  build(): void {
    for (const ns of ['sw', ...routers, ...nodes, 'client']) addNs(`ilbl-${ns}`);
    inNs('ilbl-sw', 'ip', 'link', 'add', 'br0', 'type', 'bridge');
    inNs('ilbl-sw', 'ip', 'link', 'set', 'br0', 'up');
    const lan: [string, string][] = [['r1', '10.0.0.1'], ['r2', '10.0.0.2'], ...nodes.map((n) => [n, nodeAddresses[n]] as [string, string])];
    for (const [name, addr] of lan) {
      link({ ns: 'ilbl-sw', name }, { ns: `ilbl-${name}`, name: 'eth0', addr: `${addr}/24` });
      inNs('ilbl-sw', 'ip', 'link', 'set', name, 'master', 'br0');
    }
    link({ ns: 'ilbl-client', name: 'up1', addr: '172.31.1.2/30' }, { ns: 'ilbl-r1', name: 'toclient', addr: '172.31.1.1/30' });
    link({ ns: 'ilbl-client', name: 'up2', addr: '172.31.2.2/30' }, { ns: 'ilbl-r2', name: 'toclient', addr: '172.31.2.1/30' });
    for (const p of servicePools) inNs('ilbl-client', 'ip', 'route', 'add', p, 'nexthop', 'via', '172.31.1.1', 'nexthop', 'via', '172.31.2.1');
    // A reply may come back through the other router than the request went out through.
    inNs('ilbl-r1', 'ip', 'route', 'add', '172.31.2.0/30', 'via', '172.31.1.2');
    inNs('ilbl-r2', 'ip', 'route', 'add', '172.31.1.0/30', 'via', '172.31.2.2');
    for (const n of nodes) {
      inNs(`ilbl-${n}`, 'ip', 'route', 'add', '172.31.0.0/16', 'via', '10.0.0.2');
      // The node accepts traffic for every service address (as kube-proxy's IPVS/ipset would).
      for (const p of servicePools) inNs(`ilbl-${n}`, 'ip', 'route', 'add', 'local', p, 'dev', 'lo');
    }
  }

  spawn(key: string, ns: string | undefined, argv: string[], env: NodeJS.ProcessEnv = {}): void {
    const fd = openSync(path.join(this.root, `${key}.log`), 'a');
    const p = spawnInNs(ns, argv, fd, env, repo);
    this.procs.set(key, p);
  }

  ironlb(key: string, ns: string | undefined, args: string[]): void {
    this.spawn(key, ns, [process.execPath, '--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), ...args], { IRONLB_LOG_LEVEL: 'info' });
  }

  startSpeaker(n: NodeName): void {
    this.ironlb(`speaker-${n}`, `ilbl-${n}`, ['speaker', '--config', this.cfg, '--node', n, '--metrics', '127.0.0.1:18700']);
  }

  kill(key: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    const p = this.procs.get(key);
    if (p?.pid !== undefined && p.exitCode === null) try { process.kill(p.pid, signal); } catch { /* gone */ }
    this.procs.delete(key);
  }

  async start(): Promise<void> {
    cpSync(fixtures, this.cfg, { recursive: true });
    this.build();
    for (const r of routers) this.frr.set(r, startRouter(r, this.root));
    for (const n of nodes) {
      this.spawn(`http-${n}`, `ilbl-${n}`, [process.execPath, '-e', `require('node:http').createServer((q, s) => s.end('${n}\\n')).listen(80, '0.0.0.0')`]);
    }
    this.ironlb('controller', undefined, ['controller', '--config', this.cfg]);
    for (const n of nodes) this.startSpeaker(n);
  }

  status(): { services: Readonly<Record<string, { readonly ips: readonly string[]; readonly pool?: string }>> } {
    // The base and its journal, as the daemon reads them (status.yaml alone lags until the fold).
    const dir = path.join(this.cfg, stateDirName);
    const read = (f: string): string => (existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), 'utf8') : '');
    const journal = read(controllerJournalFile); // before the base: see readControllerStatus
    const base = read(controllerStatusFile);
    return base === '' ? { services: {} } : (parseControllerStatus(base, journal));
  }

  speakerPeer(n: NodeName, peer: string): { state?: string; bfd?: string } | undefined {
    try {
      const read = (f: string): string => (existsSync(path.join(this.cfg, stateDirName, f)) ? readFileSync(path.join(this.cfg, stateDirName, f), 'utf8') : '');
      const journal = read(speakerJournalFile(n)); // before the base: see readControllerStatus
      const s = (parseSpeakerStatus(read(speakerStatusFile(n)), journal) ?? {}) as { peers?: Record<string, { state?: string; bfd?: string }> };
      return s.peers?.[peer];
    } catch {
      return undefined;
    }
  }

  speakerPeerState(n: NodeName, peer: string): string | undefined {
    return this.speakerPeer(n, peer)?.state;
  }

  expectations(): Expect[] {
    const s = this.status().services;
    const ip = (k: string): string => s[k]?.ips[0] ?? '?';
    const all = nodes.map((n) => nodeAddresses[n]).sort();
    return [
      { ip: ip('default/web'), nexthops: all, localPref: 150, communities: ['64500:100'], large: [] },
      { ip: ip('default/api'), nexthops: all, localPref: 250, communities: ['64500:200'], large: ['64500:1:2'] },
      { ip: ip('default/cache'), nexthops: [nodeAddresses.node2], localPref: 150, communities: ['64500:100'], large: [] },
    ];
  }

  async nexthopsAt(r: RouterName, ip: string): Promise<string[]> {
    const paths = await this.frr.get(r)!.route(`${ip}/32`);
    return paths.flatMap((p) => p.nexthops).sort();
  }

  async ribMatches(expect: Expect[], routersToCheck: RouterName[] = routers): Promise<boolean> {
    for (const r of routersToCheck) for (const e of expect) if ((await this.nexthopsAt(r, e.ip)).join() !== e.nexthops.join()) return false;
    return true;
  }

  curl(ip: string): string {
    try {
      return httpGet('ilbl-client', `http://${ip}/`).trim();
    } catch {
      return '';
    }
  }

  fibGateways(r: RouterName, ip: string): string[] {
    const j = JSON.parse(inNs(`ilbl-${r}`, 'ip', '-j', 'route', 'show', `${ip}/32`)) as { gateway?: string; nexthops?: { gateway: string }[] }[];
    return j.flatMap((x) => (x.nexthops ? x.nexthops.map((h) => h.gateway) : x.gateway ? [x.gateway] : [])).sort();
  }

  stop(keep: boolean): void {
    for (const k of [...this.procs.keys()]) this.kill(k, k.startsWith('speaker') || k === 'controller' ? 'SIGTERM' : 'SIGKILL');
    for (const f of this.frr.values()) f.kill();
    deleteOurNamespaces();
    if (!keep) rmSync(this.root, { recursive: true, force: true });
  }
}

async function scenario(lab: Lab): Promise<void> {
  const t0 = Date.now();
  await lab.start();
  lab.say(`topology up in ${Date.now() - t0} ms; logs in ${lab.root}`);

  // 1. Every Service gets an IP.
  const st = await waitFor('3 Services with IPs', 30_000, () => { const s = lab.status().services; return Object.keys(s).length === 3 ? s : undefined; }).catch(() => lab.status().services);
  lab.check('every Service got an IP', Object.keys(st).length === 3, Object.entries(st).map(([k, v]) => `${k}=${v.ips.join(',')}`).join(' '));
  const expect = lab.expectations();

  // 2. Both routers learn each /32 from the right nodes, with the advertisement's attributes.
  const converged = await waitFor('routes at both routers', 45_000, () => lab.ribMatches(expect)).then(() => true, () => false);
  lab.figures.convergenceFromStartMs = Date.now() - t0;
  for (const r of routers) {
    for (const e of expect) {
      const paths = await lab.frr.get(r)!.route(`${e.ip}/32`);
      const hops = paths.flatMap((p) => p.nexthops).sort();
      const attrsOk = paths.length > 0 && paths.every((p) => p.localPref === e.localPref && p.communities.join() === e.communities.join() && p.largeCommunities.join() === e.large.join());
      lab.check(`${r} RIB ${e.ip}/32`, converged && hops.join() === e.nexthops.join() && attrsOk,
        `next hops ${hops.join(' ') || 'none'}; local-pref ${paths[0]?.localPref ?? '-'}; communities ${[...(paths[0]?.communities ?? []), ...(paths[0]?.largeCommunities ?? [])].join(' ') || '-'}`);
    }
  }

  // Each speaker serves Prometheus metrics with MetalLB's names.
  let metrics = '';
  try { metrics = httpGet('ilbl-node2', 'http://127.0.0.1:18700/metrics'); } catch { /* reported below */ }
  const up = ['r1', 'r2'].every((p) => metrics.includes(`metallb_bgp_session_up{peer="${p}"} 1`));
  lab.check('node2 /metrics: metallb_bgp_session_up 1 for r1 and r2', up, up ? `${metrics.split('\n').filter((l) => l.startsWith('metallb_')).length} metallb_* samples` : 'not found');

  // 3. The FIB has the ECMP route (zebra installed every next hop).
  const web = expect[0]!;
  const fib = await waitFor('ECMP in the FIB', 5000, () => { const g = lab.fibGateways('r1', web.ip); return g.length === web.nexthops.length ? g : undefined; }).catch(() => lab.fibGateways('r1', web.ip));
  lab.check(`r1 FIB ECMP for ${web.ip}`, fib.join() === web.nexthops.join(), `nexthops ${fib.join(' ')}`);

  // 4. The client reaches every service IP.
  for (const e of expect) {
    const who = lab.curl(e.ip);
    lab.check(`client → http://${e.ip}/`, who !== '' && (e.nexthops.length > 1 || who === 'node2'), who ? `answered by ${who}` : 'no answer');
  }

  // 5. A bad edit is rejected; nothing is withdrawn.
  const pools = path.join(lab.cfg, 'pools.yaml');
  const good = readFileSync(pools, 'utf8');
  writeFileSync(pools, good.replace('203.0.113.0/28', '203.0.113.0/99'));
  const rejectedIn = (key: string): boolean => readFileSync(path.join(lab.root, `${key}.log`), 'utf8').includes('configuration change rejected');
  const rejectedLogged = await waitFor('the rejection logged', 10_000, () => (rejectedIn('controller') && nodes.every((n) => rejectedIn(`speaker-${n}`)) ? true : undefined), 100).then(() => true, () => false);
  await new Promise((r) => setTimeout(r, 500));
  lab.check('bad config edit rejected, routes unchanged', rejectedLogged && (await lab.ribMatches(expect)), rejectedLogged ? 'controller and speakers logged the errors; RIBs unchanged' : 'no rejection logged');
  writeFileSync(pools, good);

  // 6. A node dies silently (its link goes dark first, so no FIN or NOTIFICATION gets out, then its
  // speaker is killed): only BFD at the routers can notice, and must drop its next hop within 1 s.
  const cluster = expect.filter((e) => e.nexthops.length > 1);
  const without = cluster.map((e) => ({ ...e, nexthops: e.nexthops.filter((h) => h !== nodeAddresses.node1) }));
  const killedAt = Date.now();
  inNs('ilbl-node1', 'ip', 'link', 'set', 'eth0', 'down');
  lab.kill('speaker-node1');
  const gone = await waitFor('node1 gone at both routers', 10_000, () => lab.ribMatches(without), 20).then(() => Date.now() - killedAt, () => -1);
  lab.figures.nodeDownToNexthopGoneMs = gone;
  const byBfd = routers.every((r) => /peer:10\.0\.0\.11 .*up -> down reason:control-expired/.test(readFileSync(path.join(lab.root, r, 'bfdd.log'), 'utf8')));
  lab.check('node1 dies → its next hop gone at r1 and r2 within 1 s, by BFD', gone >= 0 && gone <= 1000 && byBfd,
    `${gone >= 0 ? `${gone} ms` : 'still there after 10 s'}; ${byBfd ? "both routers' bfdd: up -> down, control-expired" : 'no BFD control-expired at both routers'}`);
  const restartAt = Date.now();
  inNs('ilbl-node1', 'ip', 'link', 'set', 'eth0', 'up');
  inNs('ilbl-node1', 'ip', 'route', 'replace', '172.31.0.0/16', 'via', '10.0.0.2'); // link down took it away
  rmSync(path.join(lab.cfg, '.ironlb-state', 'speaker-node1.yaml'), { force: true }); // the killed speaker's last word
  lab.startSpeaker('node1');
  const back = await waitFor('node1 back', 30_000, () => lab.ribMatches(expect), 50).then(() => Date.now() - restartAt, () => -1);
  lab.figures.nodeRestartToRestoredMs = back;
  lab.check('node1 back → next hops restored at both routers', back >= 0, back >= 0 ? `${back} ms after the speaker restarted` : 'not restored in 30 s');

  // 7. A router dies (daemons killed, links down): sessions to it go Down; traffic flows via r2.
  const r1 = lab.frr.get('r1')!;
  // Every session up with BFD Up first (node1's were just re-created).
  await waitFor('all BGP sessions Established with BFD Up', 20_000, () => nodes.every((n) => routers.every((r) => {
    const p = lab.speakerPeer(n, r);
    return p?.state === 'Established' && p.bfd === 'Up';
  })), 100).catch(() => undefined);
  const cutAt = Date.now();
  // Links first (a power cut: no FIN reaches the nodes), then the daemons.
  inNs('ilbl-r1', 'ip', 'link', 'set', 'eth0', 'down');
  inNs('ilbl-r1', 'ip', 'link', 'set', 'toclient', 'down');
  r1.kill();
  const down = await waitFor('sessions to r1 down', 15_000, () => nodes.every((n) => lab.speakerPeerState(n, 'r1') !== 'Established'), 20).then(() => Date.now() - cutAt, () => -1);
  lab.figures.routerDownToSessionsDownMs = down;
  const bfdReset = nodes.every((n) => /"peer":"r1","reason":"BFD Down[^"]*","msg":"resetting BGP session"/.test(readFileSync(path.join(lab.root, `speaker-${n}.log`), 'utf8')));
  lab.check('r1 dies → every node\'s session to r1 goes down, reset by the speakers\' BFD', down >= 0 && bfdReset,
    `${down >= 0 ? `${down} ms` : nodes.map((n) => `${n}:${lab.speakerPeerState(n, 'r1')}`).join(' ')}; ${bfdReset ? 'each speaker logged "BFD Down → resetting BGP session"' : 'not every speaker reset by BFD'}`);
  lab.check('r2 still has every route', await lab.ribMatches(expect, ['r2']), '');
  for (const e of expect) {
    const who = lab.curl(e.ip);
    lab.check(`client → http://${e.ip}/ with r1 gone`, who !== '', who ? `answered by ${who} via r2` : 'no answer');
  }
  lab.figures.totalMs = Date.now() - t0;
}

const lockFile = path.join(tmpdir(), 'ilbl-lab.lock');

/** One lab at a time on a machine: a second one waits (it would delete the first's namespaces). */
async function takeLabLock(): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return;
    } catch {
      const holder = Number(readFileSync(lockFile, 'utf8').trim());
      let alive: boolean;
      try { process.kill(holder, 0); alive = holder !== process.pid; } catch { alive = false; }
      if (!alive) { rmSync(lockFile, { force: true }); continue; }
      if (Date.now() > deadline) throw new Error(`another lab (pid ${holder}) has held ${lockFile} for 5 minutes`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function runLab(o: { say?: (line: string) => void; keep?: boolean } = {}): Promise<LabReport> {
  const say = o.say ?? ((l: string) => process.stdout.write(`${l}\n`));
  if (process.getuid?.() !== 0) throw new Error('the lab builds network namespaces: run it as root');
  ensureFrr();
  await takeLabLock();
  deleteOurNamespaces(); // leftovers of an interrupted run
  const lab = new Lab(say);
  let failed: unknown;
  try {
    await scenario(lab);
  } catch (e) {
    failed = e;
    lab.check('lab ran to the end', false, e instanceof Error ? e.message : String(e));
  } finally {
    const keep = o.keep === true || failed !== undefined || lab.checks.some((c) => !c.ok);
    if (keep) writeFileSync(path.join(lab.root, 'report.txt'), lab.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name} — ${c.detail}`).join('\n') + `\n${JSON.stringify(lab.figures)}\n`);
    lab.stop(keep);
    rmSync(lockFile, { force: true });
  }
  return { ok: lab.checks.every((c) => c.ok), checks: lab.checks, figures: lab.figures, dir: lab.root };
}

export { labAsn };
