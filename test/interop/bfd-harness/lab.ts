// Network namespaces, FRR (zebra + bfdd) instances and ironlb BFD agents for the BFD interop tests
// and the benchmark. Everything created is prefixed "ilbf-" and removed by Lab.destroy().
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BfdSessionInfo, BfdSessionSpec } from '../../../src/bfd/manager.ts';
import type { BfdProfile } from '../../../src/config/types.ts';
import { AgentChannel, type AgentMessage } from '../agent-lines.ts';

const FRR = '/usr/lib/frr';
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

export const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
export const ip = (...args: string[]): string => sh('ip', args);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Missing FRR is a failure under CI=true; outside CI too (never a silent pass). */
export function requireFrr(): void {
  for (const b of [`${FRR}/bfdd`, `${FRR}/zebra`, '/usr/bin/vtysh']) {
    if (!existsSync(b)) throw new Error(`BFD interop needs ${b} (apt-get install frr)${process.env['CI'] === 'true' ? ' — CI=true: failing' : ''}`);
  }
  if (process.getuid?.() !== 0) throw new Error('BFD interop needs root (network namespaces)');
}

export async function waitFor<T>(what: string, ms: number, f: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try { const v = await f(); if (v !== undefined && v !== false) return v; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await sleep(50);
  }
}

export class Lab {
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly pidFiles: string[] = [];
  private readonly agents: Agent[] = [];

  constructor(readonly tag: string) {
    this.dir = mkdtempSync(`/tmp/ilbf-${tag}-`);
    chmodSync(this.dir, 0o777);
  }

  netns(name: string): string {
    try { ip('netns', 'del', name); } catch { /* not there */ }
    ip('netns', 'add', name);
    this.namespaces.push(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** A veth pair made directly inside the two namespaces (no name ever appears in the host). */
  link(nsA: string, ifA: string, addrA: string, nsB: string, ifB: string, addrB: string): void {
    ip('link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB);
    ip('-n', nsA, 'addr', 'add', addrA, 'dev', ifA);
    ip('-n', nsB, 'addr', 'add', addrB, 'dev', ifB);
    ip('-n', nsA, 'link', 'set', ifA, 'up');
    ip('-n', nsB, 'link', 'set', ifB, 'up');
  }

  /** A bridge br0 in namespace sw. */
  bridge(sw: string): void {
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
  }

  /** Connects ns (interface ifname, address addr) to br0 in sw through bridge port `port`. */
  bridgePort(sw: string, port: string, ns: string, ifname: string, addr: string): void {
    ip('link', 'add', port, 'netns', sw, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns);
    ip('-n', sw, 'link', 'set', port, 'master', 'br0');
    ip('-n', sw, 'link', 'set', port, 'up');
    ip('-n', ns, 'addr', 'add', addr, 'dev', ifname);
    ip('-n', ns, 'link', 'set', ifname, 'up');
  }

  /** Starts zebra and bfdd in ns with bfdd.conf = config; returns the instance. */
  frr(ns: string, name: string, bfddConf: string): Frr {
    const d = join(this.dir, name);
    sh('mkdir', ['-p', d]);
    chmodSync(d, 0o777);
    writeFileSync(join(d, 'zebra.conf'), `hostname ${name}\nlog file ${d}/zebra.log\n`, { mode: 0o644 });
    writeFileSync(join(d, 'bfdd.conf'), `hostname ${name}\nlog file ${d}/bfdd.log\nlog timestamp precision 6\ndebug bfd peer\n${process.env['ILBF_DEBUG'] ? 'debug bfd network\n' : ''}!\n${bfddConf}`, { mode: 0o644 });
    const env = { ...process.env, TZ: 'UTC' };
    const common = ['-z', `${d}/zserv.api`, '--vty_socket', d, '-P', '0'];
    execFileSync('ip', ['netns', 'exec', ns, `${FRR}/zebra`, '-d', '-f', `${d}/zebra.conf`, '-i', `${d}/zebra.pid`, ...common], { env, stdio: 'ignore' });
    this.pidFiles.push(`${d}/zebra.pid`);
    execFileSync('ip', ['netns', 'exec', ns, `${FRR}/bfdd`, '-d', '-f', `${d}/bfdd.conf`, '-i', `${d}/bfdd.pid`, '--bfdctl', `${d}/bfdd.sock`, ...common], { env, stdio: 'ignore' });
    this.pidFiles.push(`${d}/bfdd.pid`);
    return new Frr(d);
  }

  async agent(ns: string, env: Record<string, string> = {}): Promise<Agent> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(here, 'agent.ts')], {
      cwd: root, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
    });
    const a = new Agent(child);
    this.agents.push(a);
    await a.ready;
    return a;
  }

  async destroy(): Promise<void> {
    for (const a of this.agents) await a.close().catch(() => undefined);
    for (const f of this.pidFiles) {
      try { process.kill(Number(readFileSync(f, 'utf8').trim()), 'SIGKILL'); } catch { /* gone */ }
    }
    for (const ns of this.namespaces) { try { ip('netns', 'del', ns); } catch { /* gone */ } }
    if (process.env['ILBF_KEEP'] !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Fields of FRR's `show bfd peers json` that the tests read. */
export interface FrrPeer {
  peer: string; multihop?: boolean; status: string; diagnostic: string; 'remote-diagnostic': string;
  id: number; 'remote-id': number; 'passive-mode'?: boolean;
  'receive-interval': number; 'transmit-interval': number; 'detect-multiplier': number;
  'remote-receive-interval': number; 'remote-transmit-interval': number; 'remote-detect-multiplier': number;
  [k: string]: unknown;
}

export class Frr {
  constructor(readonly dir: string) {}
  get bfddPid(): number { return Number(readFileSync(`${this.dir}/bfdd.pid`, 'utf8').trim()); }
  vtysh(...cmds: string[]): string {
    return sh('vtysh', ['--vty_socket', this.dir, ...cmds.flatMap((c) => ['-c', c])]);
  }
  configure(...lines: string[]): void { this.vtysh('configure terminal', ...lines); }
  peers(): FrrPeer[] { return JSON.parse(this.vtysh('show bfd peers json')) as FrrPeer[]; }
  peer(addr: string): FrrPeer | undefined { return this.peers().find((p) => p.peer === addr); }
  log(): string { try { return readFileSync(`${this.dir}/bfdd.log`, 'utf8'); } catch { return ''; } }
  /** Wall-clock times (ms since the epoch, µs precision) of bfdd's "up -> down" log lines for a peer. */
  downTimes(peer: string): number[] {
    const out: number[] = [];
    for (const line of this.log().split('\n')) {
      if (!line.includes('up -> down') || !line.includes(`peer:${peer} `)) continue;
      const m = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6})/.exec(line);
      if (m) out.push(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + +m[7]! / 1000);
    }
    return out;
  }
  /** CPU seconds (user + system) bfdd has used so far. */
  cpuSeconds(): number {
    const f = readFileSync(`/proc/${this.bfddPid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  }
}

type Msg = AgentMessage;

export class Agent {
  readonly events: Msg[] = [];
  readonly ready: Promise<Msg>;
  private readonly channel: AgentChannel;
  private readonly watchers: ((m: Msg) => void)[] = [];
  transport: { name: string; receivedTtl: boolean } | undefined;

  constructor(readonly child: ChildProcess) {
    let ready!: (m: Msg) => void;
    this.ready = new Promise((r) => { ready = r; });
    this.channel = new AgentChannel(child, (m) => {
      if (m.ev === 'ready') { this.transport = m['transport'] as never; ready(m); return; }
      this.events.push(m);
      for (const w of this.watchers) w(m);
    });
  }

  private call(o: object): Promise<unknown> {
    return this.channel.call(o);
  }

  add(spec: BfdSessionSpec): Promise<unknown> { return this.call({ op: 'add', spec }); }
  remove(id: string): Promise<unknown> { return this.call({ op: 'remove', id }); }
  update(id: string, profile: BfdProfile): Promise<unknown> { return this.call({ op: 'update', id, profile }); }
  async state(id: string): Promise<BfdSessionInfo> { return (await this.call({ op: 'state', id })) as BfdSessionInfo; }
  async states(): Promise<BfdSessionInfo[]> { return (await this.call({ op: 'state' })) as BfdSessionInfo[]; }
  /** Event-loop delay (ms) since the last call. */
  async lag(): Promise<{ p50: number; p99: number; max: number }> { return (await this.call({ op: 'lag' })) as never; }
  async discards(): Promise<Record<string, number>> { return (await this.call({ op: 'discards' })) as never; }
  async cpu(): Promise<{ user: number; system: number; wall: number }> { return (await this.call({ op: 'cpu' })) as never; }

  /** Resolves with the next event matching pred (events already seen are not considered). */
  next(pred: (m: Msg) => boolean, ms: number): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.watchers.splice(this.watchers.indexOf(w), 1); reject(new Error(`no matching BFD agent event within ${ms} ms`)); }, ms);
      const w = (m: Msg): void => {
        if (!pred(m)) return;
        clearTimeout(t);
        this.watchers.splice(this.watchers.indexOf(w), 1);
        resolve(m);
      };
      this.watchers.push(w);
    });
  }

  close(): Promise<void> {
    return this.channel.close(2000);
  }
}
