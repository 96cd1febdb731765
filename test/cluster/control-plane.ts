// A real Kubernetes control plane for tests: etcd and kube-apiserver on free loopback ports, with
// fresh data in a temporary folder, RBAC on and a static admin token. There is no controller
// manager, scheduler or kubelet: helpers in objects.ts create what those would.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, openSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { toolPath } from './tools.ts';

export interface RunResult { stdout: string; stderr: string; code: number }

export interface ControlPlane {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** https://127.0.0.1:PORT */
  server: string;
  /** A folder with kube-apiserver, etcd, kubectl and helm (symlinks), for PATH. */
  binDir: string;
  /** http://127.0.0.1:PORT, etcd's client URL (its JSON gateway serves /v3/kv/...). */
  etcd: string;
  /** The admin bearer token (user admin, group system:masters). */
  token: string;
  /** PEM bundle the serving certificate chains to. */
  caPath: string;
  dir: string;
  kubectl(args: string[], opts?: { input?: string }): Promise<RunResult>;
  helm(args: string[]): Promise<RunResult>;
  /** Stops and starts kube-apiserver on the same etcd, ports and certificates. */
  restartApiserver(): Promise<void>;
  /**
   * A raw request as admin, e.g. request('POST', '/api/v1/namespaces/x/services?fieldValidation=Strict', obj):
   * the apiserver's own verdict, with no client-side validation in between. body is parsed JSON when it is JSON.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests pick the fields they assert on
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
  /** Compacts etcd's history up to its current revision (older resourceVersions become 410 Gone). */
  compactEtcd(): Promise<void>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Names the temporary folder and the kubeconfig context. */
  name?: string;
  /** Address the apiserver binds and advertises (default 127.0.0.1); it is in the serving cert. */
  bindAddress?: string;
}

const prefix = 'ironlb-cp-';
const running = new Set<{ procs: () => (ChildProcess | undefined)[]; dir: string }>();
const readyTimeoutMs = 120_000;

// Kill what this process started if it exits without stop(): by PID, never by name.
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const r of running) {
      for (const p of r.procs()) if (p?.exitCode === null && p.pid !== undefined) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
      rmSync(r.dir, { recursive: true, force: true });
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      if (process.listenerCount(sig) > 0) return; // someone else (npm run cluster) handles it
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Removes folders (and kills processes) left by control planes whose owning process died. */
function sweepLeftovers(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(readText(join(dir, 'owner.pid')));
    if (owner > 0 ? alive(owner) : ageMs(dir) < 60_000) continue; // no owner.pid yet: being created right now
    for (const f of ['apiserver.pid', 'etcd.pid']) {
      const pid = Number(readText(join(dir, f)));
      // Only a process whose command line names this folder is ours (PIDs are reused).
      if (pid > 0 && readText(`/proc/${pid}/cmdline`).includes(dir)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function readText(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

function ageMs(path: string): number {
  try { return Date.now() - statSync(path).mtimeMs; } catch { return 0; }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** A TCP port free on `host` now (the kernel's pick). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function call(
  url: string, opts: { method?: string; ca?: string; token?: string; body?: string; contentType?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const req = (u.protocol === 'https:' ? request : httpRequest)(u, { method: opts.method ?? 'GET', ca: opts.ca, timeout: 30_000, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
const get = (url: string, opts: { ca?: string; token?: string }) => call(url, opts);

function post(url: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${url}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function logTail(path: string): string {
  return readText(path).split('\n').slice(-25).join('\n');
}

/** Polls until check() is true; fails early (with the log) when the process exits. */
async function waitFor(what: string, proc: ChildProcess, log: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}) before it was ready; ${log}:\n${logTail(log)}`);
    }
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`${what} not ready after ${readyTimeoutMs / 1000}s; ${log}:\n${logTail(log)}`);
}

function launch(bin: string, args: string[], log: string, pidFile: string): ChildProcess {
  // The child writes its log straight to the file: its output never passes through (or blocks) Node.
  const out = openSync(log, 'a');
  const p = spawn(bin, args, { stdio: ['ignore', out, out] });
  closeSync(out);
  writeFileSync(pidFile, String(p.pid));
  return p;
}


async function stopProcess(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    p.on('error', reject);
    p.on('close', (code) => resolve({ stdout, stderr, code: code ?? -1 }));
    p.stdin.end(input ?? '');
  });
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  // Ports are picked free, but another process may take one before etcd or the apiserver binds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (e) {
      if (attempt >= 3 || !String(e).includes('address already in use')) throw e;
    }
  }
}

async function startOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
  // helm is looked up when used: a control plane runs without it.
  const bins = { apiserver: toolPath('kube-apiserver'), etcd: toolPath('etcd'), kubectl: toolPath('kubectl') };
  hookExit();
  sweepLeftovers();
  const name = (opts.name ?? 'test').replace(/[^a-z0-9-]/gi, '-').toLowerCase();
  const host = opts.bindAddress ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), `${prefix}${name}-`));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const slot = { procs: () => [etcd, apiserver], dir };
  running.add(slot);
  let etcd: ChildProcess | undefined;
  let apiserver: ChildProcess | undefined;

  const binDir = join(dir, 'bin');
  mkdirSync(binDir);
  for (const tool of ['kube-apiserver', 'etcd', 'kubectl', 'helm'] as const) {
    try { symlinkSync(toolPath(tool), join(binDir, tool)); } catch { /* helm not built: cp.helm() names the build command */ }
  }
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const saKey = join(pki, 'sa.key');
  writeFileSync(saKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const token = randomBytes(24).toString('hex');
  writeFileSync(join(pki, 'tokens.csv'), `${token},admin,admin,system:masters\n`);
  const caPath = join(pki, 'apiserver.crt');

  try {
    // etcd: free ports picked now; a port taken between pick and bind shows up as an early exit.
    const [ePort, pPort, aPort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1'), await freePort(host)];
    const etcdUrl = `http://127.0.0.1:${ePort}`;
    const etcdLog = join(dir, 'etcd.log');
    etcd = launch(bins.etcd, [
      `--name=${name}`, `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${pPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${pPort}`,
      `--initial-cluster=${name}=http://127.0.0.1:${pPort}`,
      '--unsafe-no-fsync', '--log-level=warn', '--quota-backend-bytes=2147483648',
    ], etcdLog, join(dir, 'etcd.pid'));
    await waitFor('etcd', etcd, etcdLog, async () => (await get(`${etcdUrl}/health`, {})).body.includes('"true"'));

    const server = `https://${host.includes(':') ? `[${host}]` : host}:${aPort}`;
    const apiLog = join(dir, 'apiserver.log');
    const apiArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${host}`, `--secure-port=${aPort}`, `--advertise-address=${host}`,
      // Endpoints validation refuses loopback addresses; nothing here needs the kubernetes Endpoints.
      '--endpoint-reconciler-type=none',
      `--cert-dir=${pki}`, // no --tls-cert-file: the apiserver writes a self-signed apiserver.crt there
      `--token-auth-file=${join(pki, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saKey}`, `--service-account-signing-key-file=${saKey}`,
      // Dual-stack, as ironlb is: Services may ask for IPv6 or both families.
      '--service-cluster-ip-range=10.96.0.0/16,fd00:10:96::/108',
      // No controller creates the default ServiceAccount, so its admission would refuse Pods.
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true', '--profiling=false',
    ];
    const startApiserver = async () => {
      apiserver = launch(bins.apiserver, apiArgs, apiLog, join(dir, 'apiserver.pid'));
      await waitFor('kube-apiserver', apiserver, apiLog, async () => {
        if (!existsSync(caPath)) return false;
        const ca = readFileSync(caPath, 'utf8');
        if ((await get(`${server}/readyz`, { ca, token })).status !== 200) return false;
        // The system namespaces controller creates "default" shortly after readiness.
        return (await get(`${server}/api/v1/namespaces/default`, { ca, token })).status === 200;
      });
    };
    await startApiserver();

    const context = `ironlb-${name}`;
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': context,
      clusters: [{ name: context, cluster: { server, 'certificate-authority-data': readFileSync(caPath).toString('base64') } }],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: context, context: { cluster: context, user: 'admin', namespace: 'default' } }],
    }), { mode: 0o600 });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const helmHome = join(dir, 'helm');
    const toolEnv = {
      KUBECONFIG: kubeconfigPath,
      HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_DATA_HOME: join(helmHome, 'data'),
    };

    let stopped = false;
    return {
      kubeconfigPath, kubeConfig, server, binDir, etcd: etcdUrl, token, caPath, dir,
      kubectl: (args, o) => run(bins.kubectl, ['--kubeconfig', kubeconfigPath, ...args], toolEnv, o?.input),
      helm: (args) => run(toolPath('helm'), ['--kubeconfig', kubeconfigPath, ...args], toolEnv),
      async restartApiserver() {
        await stopProcess(apiserver);
        await startApiserver();
      },
      async request(method, path, body, contentType) {
        const r = await call(`${server}${path}`, {
          method, ca: readFileSync(caPath, 'utf8'), token, contentType,
          ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        });
        let parsed: unknown = r.body;
        try { parsed = JSON.parse(r.body); } catch { /* not JSON */ }
        return { status: r.status, body: parsed };
      },
      async compactEtcd() {
        // etcd's gRPC-gateway: a range read reports the current revision in its header.
        const r = await post(`${etcdUrl}/v3/kv/range`, { key: Buffer.from('/').toString('base64') }) as { header: { revision: string } };
        await post(`${etcdUrl}/v3/kv/compaction`, { revision: r.header.revision, physical: true });
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopProcess(apiserver);
        await stopProcess(etcd);
        running.delete(slot);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stopProcess(apiserver);
    await stopProcess(etcd);
    running.delete(slot);
    if (process.env.IRONLB_CLUSTER_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
