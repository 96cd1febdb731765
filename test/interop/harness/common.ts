// Shared plumbing for the interop harness: temp dirs, processes, polling, and the normalized
// route every daemon's RIB is reduced to, so tests compare FRR, BIRD, GoBGP and ExaBGP alike.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A route as the receiving daemon holds it. */
export interface NormalizedRoute {
  prefix: string;
  /** IPv4 next hop, or the IPv6 global next hop. */
  nextHop: string;
  asPath: number[];
  med?: number;
  localPref?: number;
  /** "ASN:VALUE", sorted. */
  communities: string[];
  /** "GA:LD1:LD2", sorted. */
  largeCommunities: string[];
  /** The neighbor the route came from. */
  from: string;
  /** Graceful restart: kept while the sender restarts (RFC 4724). */
  stale?: boolean;
}

/** A neighbor of the daemon: the ironlb speaker under test, as the daemon sees it. */
export interface IronlbNeighbor {
  address: string;
  asn: number;
  md5?: string;
  /** Advertise graceful restart (helper role) to this neighbor. */
  gracefulRestart?: boolean;
}

export interface DaemonOptions {
  /** Unique per test file; used in dir names and protocol names. */
  name: string;
  /** Listen address (127.0.0.0/8) and port (18000-18499). */
  address: string;
  port: number;
  asn: number;
  routerId?: string;
  neighbors: IronlbNeighbor[];
}

export interface PeerDaemon {
  readonly kind: 'frr' | 'bird' | 'gobgp' | 'exabgp' | 'openbgpd';
  readonly options: DaemonOptions;
  start(): Promise<void>;
  /** Kills the daemon and waits until it is gone; its directory stays for a restart. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  isEstablished(neighbor: string): Promise<boolean>;
  /** Every route in the daemon's own RIB, IPv4 and IPv6, from every neighbor. */
  routes(): Promise<NormalizedRoute[]>;
  /** Stops and removes every trace (directory, processes). Safe to call twice. */
  dispose(): Promise<void>;
}

export const inCi = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

/** Throws, naming the package, when a daemon binary is missing (in CI and outside alike). */
export function requireBinary(path: string, pkg: string): string {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: install the Debian package "${pkg}" (apt-get install -y ${pkg}); ${inCi() ? 'CI must have it (.ci/run installs it)' : 'the interop tests need it'}`);
  }
  return path;
}

const liveDirs = new Set<string>();
const livePids = new Set<number>();

/** A world-writable temp dir (daemons drop to their own users), removed by removeDir or at exit. */
export function makeDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ilbn-${name}-`));
  chmodSync(dir, 0o777);
  liveDirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  if (process.env.ILBN_KEEP_DIRS === '1') return; // debugging: leave logs and configs behind
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

export function track(pid: number): void { livePids.add(pid); }
export function untrack(pid: number): void { livePids.delete(pid); }

// Last resort when a test crashes without its after() hook: no daemon or dir outlives the run.
process.on('exit', () => {
  for (const pid of livePids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  if (process.env.ILBN_KEEP_DIRS === '1') return; // debugging: leave logs and configs behind
  for (const dir of liveDirs) { try { rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ } }
});

export function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 10000, maxBuffer: 512 * 1024 * 1024, env: opts.env ?? process.env }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until check() returns a value other than undefined/false; the error names what was awaited. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (true) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await sleep(intervalMs);
  }
}

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** SIGTERM, wait, then SIGKILL; resolves when the pid is gone. */
export async function killPid(pid: number, graceMs = 3000): Promise<void> {
  if (!alive(pid)) { untrack(pid); return; }
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(25);
  if (alive(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    while (alive(pid)) await sleep(10);
  }
  untrack(pid);
}

export function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch { return undefined; }
}

/** Starts a foreground daemon with its output in a log file; the child is tracked for cleanup. */
export function spawnDaemon(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const fd = `${logFile}`;
  const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" >>"$LOGFILE" 2>&1', cmd, ...args], { env: { ...env, LOGFILE: fd }, stdio: 'ignore', detached: true });
  if (child.pid) track(child.pid);
  child.unref();
  return child;
}

export const sortStrings = (xs: Iterable<string>): string[] => [...xs].sort();

/** Compares routes by prefix then neighbor, for stable test output. */
export function sortRoutes(rs: NormalizedRoute[]): NormalizedRoute[] {
  return rs.sort((a, b) => (a.prefix === b.prefix ? (a.from < b.from ? -1 : 1) : a.prefix < b.prefix ? -1 : 1));
}

/** Splits concatenated JSON documents (vtysh prints one per -c) into values. */
export function parseJsonStream(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0; let start = -1; let inString = false; let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false; else if (c === '\\') escaped = true; else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') { if (depth++ === 0) start = i; }
    else if (c === '}' || c === ']') { if (--depth === 0) out.push(JSON.parse(text.slice(start, i + 1))); }
  }
  return out;
}
