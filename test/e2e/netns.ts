// Network namespaces for the lab, all named with the `ilbl-` prefix so that cleanup can find
// exactly ours and never anyone else's.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export const nsPrefix = 'ilbl-';

export function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function inNs(ns: string, cmd: string, ...args: string[]): string {
  return sh('ip', 'netns', 'exec', ns, cmd, ...args);
}

export function ourNamespaces(): string[] {
  return sh('ip', 'netns', 'list').split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(nsPrefix));
}

export function addNs(ns: string): void {
  sh('ip', 'netns', 'add', ns);
  inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  // Through /proc (the sysctl tool is not on every minimal system); /proc/sys/net is per namespace.
  const settings = ['net/ipv4/conf/all/rp_filter=0', 'net/ipv4/conf/default/rp_filter=0', 'net/ipv4/ip_forward=1', 'net/ipv4/conf/all/ignore_routes_with_linkdown=1'];
  inNs(ns, 'sh', '-c', settings.map((kv) => { const [k, v] = kv.split('='); return `echo ${v} > /proc/sys/${k}`; }).join(' && '));
}

/** A veth pair whose ends are created directly inside their namespaces (nothing in the host's). */
export function link(a: { ns: string; name: string; addr?: string }, b: { ns: string; name: string; addr?: string }): void {
  sh('ip', 'link', 'add', a.name, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.name, 'netns', b.ns);
  for (const e of [a, b]) {
    if (e.addr) inNs(e.ns, 'ip', 'addr', 'add', e.addr, 'dev', e.name);
    inNs(e.ns, 'ip', 'link', 'set', e.name, 'up');
  }
}

export function deleteOurNamespaces(): void {
  deleteNamespaces(ourNamespaces());
}

/** Deletes these namespaces (those that exist), ending the processes inside first. */
export function deleteNamespaces(names: string[]): void {
  for (const ns of names) {
    // Processes still inside keep a namespace alive: end them first (by pid, from `ip netns pids`).
    let pids: string[];
    try { pids = sh('ip', 'netns', 'pids', ns).split('\n').filter(Boolean); } catch { continue; /* not there */ }
    for (const pid of pids) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
    try { sh('ip', 'netns', 'del', ns); } catch { /* already gone */ }
  }
}

/** Starts a long-running process inside a namespace, its output appended to `log`. */
export function spawnInNs(ns: string | undefined, argv: string[], logFd: number, env: NodeJS.ProcessEnv = {}, cwd?: string): ChildProcess {
  const full = ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
  return spawn(full[0]!, full.slice(1), { stdio: ['ignore', logFd, logFd], env: { ...process.env, ...env }, detached: false, ...(cwd ? { cwd } : {}) });
}
