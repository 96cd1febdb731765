// The BGP half of the differential suite (issue #13): three "nodes" and three FRR routers in
// network namespaces (all named md-*), one real apiserver in the host namespace. A speaker, MetalLB's
// or ironlb's, runs inside each node's namespace and talks to the apiserver as a pod would; what the
// routers hold (every path of every prefix with its attributes) is what the two are compared on.
//
//   md-r1 192.168.1.1 172.30.0.3 2001:db8:1::1 ─┐
//   md-r2 192.168.1.2            2001:db8:1::2 ─┤ md-sw (bridge)
//   md-r3 192.168.1.3            2001:db8:1::3 ─┤
//   md-n1 192.168.1.10 172.30.0.2 2001:db8:1::10 (node-1) ─┤
//   md-n2 192.168.1.11 172.30.0.4 2001:db8:1::11 (node-2) ─┤
//   md-n3 192.168.1.12 172.30.0.5 2001:db8:1::12 (node-3) ─┤
//   md-c  192.168.1.100           2001:db8:1::100 (client: who answers ARP/NDP) ─┘
//
// A second LAN segment (bridge br1 in md-sw), for layer 2's interface selection: each node's eth1
// and a client of its own.
//   md-n1 eth1 192.168.50.10 2001:db8:50::10, md-n2 .11 ::11, md-n3 .12 ::12 ─┐
//   md-c2 eth0 192.168.50.100 2001:db8:50::100 (client on the second segment) ─┘ br1
//
// The apiserver listens on 127.0.0.1 in the host namespace; a node reaches it through a relay:
// a listener on 127.0.0.1:<apiserver port> inside the node's namespace forwards each connection to
// a Unix socket (namespaces share the file system) that this process forwards to the apiserver. The
// kubeconfig is then the same inside and out, and no address is added to the host's network.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrrInstance } from '../e2e/frr.ts';
import { addNs, inNs, sh } from '../e2e/netns.ts';

export const mdPrefix = 'md-';
const ndpAsk = fileURLToPath(new URL('./ndp-ask.py', import.meta.url));
export const nodeNames = ['node-1', 'node-2', 'node-3'] as const;
export type NodeName = typeof nodeNames[number];
export const routerNames = ['r1', 'r2', 'r3'] as const;
export type RouterName = typeof routerNames[number];

const nodeNsSuffix: Record<NodeName, string> = { 'node-1': 'n1', 'node-2': 'n2', 'node-3': 'n3' };
export const nodeAddrs: Record<NodeName, { v4: string; alt: string; v6: string }> = {
  'node-1': { v4: '192.168.1.10', alt: '172.30.0.2', v6: '2001:db8:1::10' },
  'node-2': { v4: '192.168.1.11', alt: '172.30.0.4', v6: '2001:db8:1::11' },
  'node-3': { v4: '192.168.1.12', alt: '172.30.0.5', v6: '2001:db8:1::12' },
};
export const clientAddrs = { v4: '192.168.1.100', v6: '2001:db8:1::100' };
/** The second segment: each node's eth1, and its client. */
export const lan2Addrs: Record<NodeName, { v4: string; v6: string }> = {
  'node-1': { v4: '192.168.50.10', v6: '2001:db8:50::10' },
  'node-2': { v4: '192.168.50.11', v6: '2001:db8:50::11' },
  'node-3': { v4: '192.168.50.12', v6: '2001:db8:50::12' },
};
export const lan2ClientAddrs = { v4: '192.168.50.100', v6: '2001:db8:50::100' };
/** The segments a client can ask on: the nodes' eth0 one, and eth1's. */
export type Lan = 'lan' | 'lan2';
export const routerAddrs: Record<RouterName, string[]> = {
  r1: ['192.168.1.1/24', '172.30.0.3/24', '2001:db8:1::1/64'],
  r2: ['192.168.1.2/24', '2001:db8:1::2/64'],
  r3: ['192.168.1.3/24', '2001:db8:1::3/64'],
};
export const nodeLabels: Record<NodeName, Record<string, string>> = {
  'node-1': { rack: 'frontend' },
  'node-2': { rack: 'frontend', 'network-speed': 'slow' },
  'node-3': { rack: 'backend' },
};


/** One router's BGP setup for a scenario: its ASN, the port it listens on, a password for every session. */
export interface RouterSpec {
  asn: number; port?: number; password?: string; holdTime?: number;
  /** The nodes' ASN (default asn: iBGP). */
  nodeAsn?: number;
  /** Log every received prefix with a microsecond timestamp (bgpd.log), for the benchmarks. */
  logUpdates?: boolean;
}

/** What one router holds: established neighbors and, per prefix, each path as one line of attributes. */
export interface RouterSeen { sessions: string[]; routes: Record<string, string[]> }
export type WorldSeen = Record<string, RouterSeen>;

function cleanup(prefix: string): void {
  const ours = sh('ip', 'netns', 'list').split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix));
  for (const ns of ours) {
    for (const pid of sh('ip', 'netns', 'pids', ns).split('\n').filter(Boolean)) try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    try { sh('ip', 'netns', 'del', ns); } catch { /* gone */ }
  }
}

export class BgpWorld {
  readonly root: string;
  private relayServer?: Server;
  private readonly relays: ChildProcess[] = [];
  readonly routers = new Map<RouterName, FrrInstance>();
  private generation = 0;

  /** Namespaces are named `<prefix>sw`, `<prefix>r1`…, `<prefix>n1`… (the test md-, the benchmark mb-). */
  constructor(readonly prefix = mdPrefix) {
    this.root = mkdtempSync(path.join(tmpdir(), `${prefix}bgp-`));
  }

  nodeNs(n: NodeName): string { return `${this.prefix}${nodeNsSuffix[n]}`; }
  get switchNs(): string { return `${this.prefix}sw`; }
  get clientNs(): string { return `${this.prefix}c`; }
  /** The client on the second segment (the nodes' eth1). */
  get lan2ClientNs(): string { return `${this.prefix}c2`; }

  /** Waits (≤ 60 s) until something listens on TCP `port` in every node's namespace: the speakers' metrics, served once they run. */
  speakersListening(port: number): Promise<void> {
    return this.listening(port, 'speaker');
  }

  private async listening(port: number, what: string): Promise<void> {
    const end = Date.now() + 60_000;
    for (const n of nodeNames) {
      while (!inNs(this.nodeNs(n), 'ss', '-Hltn', `sport = :${port}`).trim()) {
        if (Date.now() > end) throw new Error(`no ${what} listens on :${port} in ${this.nodeNs(n)} after 60 s`);
        await sleep(200);
      }
    }
  }

  private macs?: Map<string, string>;

  /**
   * Which nodes answer ARP (IPv4) or NDP (IPv6) for `ip` on a segment, asked from its client
   * (several may be asked at once): a node by its eth0's MAC is `node-N`, by its eth1's `node-N eth1`.
   */
  async whoAnswers(ip: string, lan: Lan = 'lan'): Promise<string[]> {
    if (!this.macs) {
      this.macs = new Map();
      const macOf = (n: NodeName, dev: string) => (JSON.parse(inNs(this.nodeNs(n), 'ip', '-j', 'link', 'show', dev)) as { address: string }[])[0]!.address;
      for (const n of nodeNames) {
        this.macs.set(macOf(n, 'eth0'), n);
        this.macs.set(macOf(n, 'eth1'), `${n} eth1`);
      }
    }
    // IPv6: ndp-ask.py, not ndisc6, which drops MetalLB's answers (sent from the node's link-local
    // address; see the script). A host's kernel takes them: MetalLB's NDP works, ndisc6 was wrong.
    const argv = ip.includes(':')
      ? ['python3', ndpAsk, ip, 'eth0', '700']
      : ['arping', '-c', '2', '-W', '0.2', '-w', '1', '-i', 'eth0', ip];
    // Both exit non-zero when nobody answers: what they printed is the answer.
    const client = lan === 'lan' ? this.clientNs : this.lan2ClientNs;
    const out = await new Promise<string>((resolve, reject) => execFile('ip', ['netns', 'exec', client, ...argv], { encoding: 'utf8' }, (_e, stdout, stderr) => {
      // A missing tool must fail loudly, never read as "nobody answers".
      if (stderr.includes('exec of') || stderr.includes('Traceback')) reject(new Error(`${argv[0]} in ${client}: ${stderr}`));
      else resolve(stdout);
    }));
    const seen = new Set<string>();
    for (const m of out.toLowerCase().matchAll(/(?:[0-9a-f]{2}:){5}[0-9a-f]{2}/g)) seen.add(this.macs.get(m[0]) ?? `unknown ${m[0]}`);
    return [...seen].sort();
  }

  /** Builds the namespaces and the relays to the apiserver at `server` (https://127.0.0.1:PORT). */
  async build(server: string): Promise<void> {
    cleanup(this.prefix);
    const sw = this.switchNs;
    addNs(sw);
    for (const br of ['br0', 'br1']) {
      inNs(sw, 'ip', 'link', 'add', br, 'type', 'bridge');
      inNs(sw, 'ip', 'link', 'set', br, 'up');
    }
    /** A veth from the namespace's `dev` to `port` on the bridge `br` (the namespace made first unless it exists). */
    const attach = (ns: string, port: string, addrs: string[], dev = 'eth0', br = 'br0') => {
      if (dev === 'eth0') {
        addNs(ns);
        inNs(ns, 'sh', '-c', 'echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad');
      }
      sh('ip', 'link', 'add', port, 'netns', sw, 'type', 'veth', 'peer', 'name', dev, 'netns', ns);
      for (const a of addrs) inNs(ns, 'ip', 'addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : []));
      inNs(ns, 'ip', 'link', 'set', dev, 'up');
      inNs(sw, 'ip', 'link', 'set', port, 'master', br);
      inNs(sw, 'ip', 'link', 'set', port, 'up');
    };
    for (const r of routerNames) attach(`${this.prefix}${r}`, r, routerAddrs[r]);
    for (const n of nodeNames) {
      const a = nodeAddrs[n];
      attach(this.nodeNs(n), n, [`${a.v4}/24`, `${a.alt}/24`, `${a.v6}/64`]);
      attach(this.nodeNs(n), `${n}b`, [`${lan2Addrs[n].v4}/24`, `${lan2Addrs[n].v6}/64`], 'eth1', 'br1');
    }
    // A client on each segment, for the layer-2 comparison (who answers ARP/NDP).
    attach(this.clientNs, 'client', [`${clientAddrs.v4}/24`, `${clientAddrs.v6}/64`]);
    attach(this.lan2ClientNs, 'client2', [`${lan2ClientAddrs.v4}/24`, `${lan2ClientAddrs.v6}/64`], 'eth0', 'br1');
    const port = Number(new URL(server).port);
    const sock = path.join(this.root, 'api.sock');
    this.relayServer = createServer((c) => {
      const up = connect(port, '127.0.0.1');
      c.pipe(up).pipe(c);
      const end = () => { c.destroy(); up.destroy(); };
      c.on('error', end); up.on('error', end); c.on('close', end); up.on('close', end);
    });
    await new Promise<void>((resolve) => this.relayServer!.listen(sock, resolve));
    const script = `const net = require('node:net');
net.createServer((c) => { const up = net.connect(${JSON.stringify(sock)}); c.pipe(up).pipe(c);
  const end = () => { c.destroy(); up.destroy(); }; c.on('error', end); up.on('error', end); c.on('close', end); up.on('close', end);
}).listen(${port}, '127.0.0.1');`;
    for (const n of nodeNames) {
      this.relays.push(spawn('ip', ['netns', 'exec', this.nodeNs(n), process.execPath, '-e', script], { stdio: 'ignore' }));
    }
    // A speaker started before its relay listens cannot reach the apiserver: wait for the relays
    // (a node process takes seconds to start under load; this waited 500 ms until 2026-12-03).
    await this.listening(port, 'relay');
  }

  /** (Re)starts every router with a fresh bgpd for `specs` (routers not named are stopped). */
  startRouters(specs: Partial<Record<RouterName, RouterSpec>>): void {
    this.stopRouters();
    this.generation++;
    for (const [name, spec] of Object.entries(specs) as [RouterName, RouterSpec][]) {
      const frr = new FrrInstance(`${name}-${this.generation}`, this.root, `${this.prefix}${name}`);
      const id = routerAddrs[name][0]!.split('/')[0]!;
      const neighbors = nodeNames.flatMap((n) => [nodeAddrs[n].v4, nodeAddrs[n].alt, nodeAddrs[n].v6]);
      const lines = neighbors.map((a) => [
        ` neighbor ${a} remote-as ${spec.nodeAsn ?? spec.asn}`, ` neighbor ${a} passive`,
        ...(spec.password ? [` neighbor ${a} password ${spec.password}`] : []),
        ...(spec.holdTime ? [` neighbor ${a} timers ${Math.max(1, Math.floor(spec.holdTime / 3))} ${spec.holdTime}`] : []),
      ].join('\n')).join('\n');
      const activate = (af: string) => ` address-family ${af} unicast\n${neighbors.map((a) => `  neighbor ${a} activate\n`).join('')}  maximum-paths 8\n  maximum-paths ibgp 8\n exit-address-family\n`;
      frr.start('bgpd', `frr defaults traditional
hostname ${this.prefix}${name}
log file @DIR@/bgpd.log
${spec.logUpdates ? 'log timestamp precision 6\ndebug bgp updates in\n' : ''}router bgp ${spec.asn}
 bgp router-id ${id}
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp allow-martian-nexthop
${lines}
${activate('ipv4')}${activate('ipv6')}exit
`, ['-p', String(spec.port ?? 179), '-Z']);
      this.routers.set(name, frr);
    }
  }

  /** Waits (≤ 10 s) until every running router's bgpd listens on its port (a speaker connecting earlier is refused and backs off). */
  async routersListening(specs: Partial<Record<RouterName, RouterSpec>>): Promise<void> {
    const end = Date.now() + 10_000;
    for (const [name, spec] of Object.entries(specs) as [RouterName, RouterSpec][]) {
      while (!inNs(`${this.prefix}${name}`, 'ss', '-Hltn', `sport = :${spec.port ?? 179}`).trim()) {
        if (Date.now() > end) throw new Error(`bgpd of ${name} does not listen on :${spec.port ?? 179} after 10 s`);
        await sleep(100);
      }
    }
  }

  stopRouters(): void {
    for (const f of this.routers.values()) f.kill();
    this.routers.clear();
  }

  /** Starts a long-running process in a node's namespace, its output in root/<key>.log. */
  spawnInNode(node: NodeName, key: string, argv: string[], env: NodeJS.ProcessEnv): ChildProcess {
    const fd = openSync(path.join(this.root, `${key}.log`), 'a');
    return spawn('ip', ['netns', 'exec', this.nodeNs(node), ...argv], { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  }

  /** What every router holds now. */
  async seen(): Promise<WorldSeen> {
    // Every router and prefix asked at once: under load one vtysh call takes a few hundred ms.
    const routers = [...this.routers.entries()].sort();
    const seen = await Promise.all(routers.map(([, frr]) => routerSeen(frr)));
    return Object.fromEntries(routers.map(([name], i) => [name, seen[i]!]));
  }

  async stop(): Promise<void> {
    this.stopRouters();
    for (const r of this.relays) if (r.pid !== undefined && r.exitCode === null) try { process.kill(r.pid, 'SIGKILL'); } catch { /* gone */ }
    await new Promise((resolve) => this.relayServer ? this.relayServer.close(resolve) : resolve(undefined));
    cleanup(this.prefix);
    if (process.env.KEEP !== '1') rmSync(this.root, { recursive: true, force: true });
  }
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- vtysh JSON

/**
 * Every path of every prefix in the router's IPv4 and IPv6 unicast tables, one line each with
 * the attributes the speakers set: the neighbor it came from, next hops (link-local ones written
 * `ll`: their addresses are random per run), origin, AS path, MED, LOCAL_PREF, communities, large
 * communities.
 */
async function routerSeen(frr: FrrInstance): Promise<RouterSeen> {
  const sessions: string[] = [];
  const [neighbors, ...tables] = await Promise.all(['show bgp neighbors json', 'show bgp ipv4 unicast json', 'show bgp ipv6 unicast json'].map((c) => frr.json<Json>(c)));
  for (const [addr, n] of Object.entries(neighbors!)) if ((n as Json).bgpState === 'Established') sessions.push(addr);
  const prefixes = ['ipv4', 'ipv6'].flatMap((afi, i) => Object.keys(tables[i]!.routes ?? {}).sort().map((prefix) => [afi, prefix] as const));
  const details = await Promise.all(prefixes.map(([afi, prefix]) => frr.json<Json>(`show bgp ${afi} unicast ${prefix} json`)));
  const routes: Record<string, string[]> = {};
  prefixes.forEach(([, prefix], i) => {
    routes[prefix] = ((details[i]!.paths ?? []) as Json[]).map((p) => [
      `from ${p.peer?.peerId ?? '?'}`,
      `nh ${((p.nexthops ?? []) as Json[]).map((h) => (h.scope === 'link-local' ? 'll' : h.ip)).join(',')}`,
      `origin ${p.origin ?? '-'}`,
      `aspath "${p.aspath?.string ?? ''}"`,
      `med ${p.med ?? '-'}`,
      `lp ${p.locPrf ?? p.localpref ?? '-'}`,
      `comm ${p.community?.string ?? '-'}`,
      `large ${p.largeCommunity?.string ?? '-'}`,
    ].join(' ')).sort();
  });
  return { sessions: sessions.sort(), routes };
}

/** JSON with object keys sorted: two records compare equal whatever order they were built or read in. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : x));
}

export interface SettleOptions {
  /** Without an expectation: at least this long, then `quietMs` without a change, at most `maxMs`. */
  minMs: number; quietMs: number; maxMs: number;
  /** What the routers should end up holding (the last record of this implementation), if known. */
  expect?: unknown;
  /** What they held before the step: reaching `expect` only proves a reaction when it differs from this. */
  before?: unknown;
  /** How long the expected state must hold unchanged before it is taken (default 2 s). */
  confirmMs?: number;
  /** Names the step in DIFF_TIMING=1's lines. */
  label?: string;
}

/**
 * Polls what `read` returns until it is final. When the expected state differs from the one before
 * the step, reaching it and holding it for `confirmMs` is final (a condition, no fixed wait); else
 * (no expectation, or the step should change nothing) "unchanged for `quietMs` after `minMs`". A
 * state that never becomes the expected one is taken after 5 s of quiet once it moved from the one
 * before (else at `maxMs`: a reaction that has not begun may be late), and the test shows the diff.
 */
export async function settleOn<T>(read: () => Promise<T>, o: SettleOptions, pollMs = 250): Promise<T> {
  const want = o.expect !== undefined && canonical(o.expect) !== canonical(o.before) ? canonical(o.expect) : undefined;
  const confirm = o.confirmMs ?? 2000;
  const start = Date.now();
  const before = o.before === undefined ? undefined : canonical(o.before);
  let last = '';
  let since = Date.now();
  let reacted = false;
  for (;;) {
    const seen = await read();
    const now = canonical(seen);
    if (now !== last) { last = now; since = Date.now(); }
    if (now !== before) reacted = true;
    const t = Date.now();
    const done = (how: string) => { if (process.env.DIFF_TIMING === '1') console.log(`# ${o.label ?? ''} settled (${how}) after ${t - start} ms, last change at ${since - start} ms`); return seen; };
    if (want !== undefined && now === want && t - since >= confirm) return done('expected');
    // A change is expected and has not come (yet): give a slow reaction 5 s of quiet at least, and
    // while nothing at all has moved from the state before the step (a reaction delayed by load,
    // not a different one), until maxMs.
    const quiet = want !== undefined ? Math.max(o.quietMs, 5000) : o.quietMs;
    const waiting = want !== undefined && before !== undefined && !reacted;
    if ((t - start >= o.minMs && t - since >= quiet && !waiting) || t - start >= o.maxMs) return done(want !== undefined ? 'NOT the expected state: quiet' : 'quiet');
    await sleep(pollMs);
  }
}

/** What the routers hold once it is final (settleOn). */
export function settle(world: BgpWorld, o: SettleOptions): Promise<WorldSeen> {
  return settleOn(() => world.seen(), o);
}
