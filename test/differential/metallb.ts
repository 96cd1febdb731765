// MetalLB's own controller and speaker, built from go.universe.tf/metallb by scripts/k8s-tools.sh,
// run as processes against a test control plane. Outside a pod it needs: KUBECONFIG (controller-runtime's
// GetConfigOrDie), --namespace (else it reads the pod's service-account namespace file and exits),
// --webhook-mode=disabled (no webhook server, so no certificate rotation either; the flag
// --disable-cert-rotation is passed too, for when a later test turns the webhook on), and a free
// --port for its metrics listener (7472 by default, on every address). Leader election is off in
// MetalLB itself (a single controller Deployment); no --ml-secret-name: the controller then makes
// no memberlist Secret.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metallbCrdDir, toolPath, type ControlPlane } from '../cluster/index.ts';
import type { Controller } from './observe.ts';

/** MetalLB's own CRDs (the pinned release's config/crd/bases), Established before it returns. */
export async function installMetallbCrds(cp: ControlPlane): Promise<void> {
  for (const args of [
    ['apply', '--server-side', '--field-manager=ironlb-tests', '-f', metallbCrdDir()],
    ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all'],
  ]) {
    const r = await cp.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Starts MetalLB's controller for one namespace; its log goes to the control plane's folder. */
export async function startMetallbController(cp: ControlPlane, namespace: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Controller> {
  const port = await freePort();
  return startMetallb(cp, 'metallb-controller', `metallb-controller-${namespace}`, port, [
    `--namespace=${namespace}`, '--webhook-mode=disabled', '--disable-cert-rotation', `--port=${port}`, '--log-level=info', ...extra,
  ], env);
}

/**
 * Starts MetalLB's speaker for a Node. Outside a pod it also needs --node-name, --pod-name naming a
 * Pod object that exists (it reads its own Pod to own the status objects it writes), and --host for
 * its metrics listener; memberlist stays off without --ml-bindaddr/--ml-labels; METALLB_BGP_TYPE
 * unset is its native BGP speaker.
 */
export async function startMetallbSpeaker(cp: ControlPlane, namespace: string, node: string, pod: string, env: Record<string, string> = {}): Promise<Controller> {
  const port = await freePort();
  return startMetallb(cp, 'metallb-speaker', `metallb-speaker-${node}`, port, [
    `--namespace=${namespace}`, `--node-name=${node}`, `--pod-name=${pod}`, '--host=127.0.0.1', `--port=${port}`, '--log-level=info',
  ], env);
}

/**
 * ironlb's controller as a process (`bin/ironlb.js controller`), as MetalLB's runs: for the
 * benchmarks, where an in-process controller would share the bench's event loop.
 */
export async function startIronlbController(cp: ControlPlane, namespace: string): Promise<Controller> {
  const port = await freePort();
  const cli = fileURLToPath(new URL('../../bin/ironlb.js', import.meta.url));
  // BENCH_CONTROLLER_NODE_ARGS: node options for the controller (`--cpu-prof --cpu-prof-dir=...`, `--trace-gc`), as BENCH_SPEAKER_NODE_ARGS for the speakers.
  const nodeArgs = (process.env.BENCH_CONTROLLER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  return startProcess(cp, process.execPath, 'ironlb controller', `ironlb-controller-${namespace}`, port, [
    ...nodeArgs, cli, 'controller', `--kubeconfig=${cp.kubeconfigPath}`, `--namespace=${namespace}`, '--no-leader-election', '--webhook-port=0', `--metrics=127.0.0.1:${port}`,
  ]);
}

function startMetallb(
  cp: ControlPlane, tool: 'metallb-controller' | 'metallb-speaker', name: string, port: number, args: string[], env: Record<string, string> = {},
): Promise<Controller> {
  return startProcess(cp, toolPath(tool), `MetalLB's ${tool}`, name, port, args, env);
}

async function startProcess(cp: ControlPlane, command: string, what: string, name: string, port: number, args: string[], env: Record<string, string> = {}): Promise<Controller> {
  const logPath = join(cp.dir, `${name}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(command, args, { env: { ...process.env, ...env, KUBECONFIG: cp.kubeconfigPath }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Ready when its metrics listener answers (opened after the manager is set up).
  const end = Date.now() + 30_000;
  for (;;) {
    const early = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 200))]);
    if (early !== 'running') throw new Error(`${what} exited with ${early}: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
    const ok = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > end) { child.kill('SIGKILL'); throw new Error(`${what} did not serve /metrics in 30 s; log ${logPath}`); }
  }
  return {
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      log.end();
    },
  };
}
