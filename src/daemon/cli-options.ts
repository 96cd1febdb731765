// Options the long-running commands (controller, speaker, standalone) share.
import type { Command, OptionValues } from '@commander-js/extra-typings';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { defaultHeartbeatMisses, defaultHeartbeatMs } from '../membership/heartbeat.ts';
import { defaultMemberPort, memberlistSecretKey } from '../membership/udp.ts';
import type { RunOptions } from './run.ts';

export function hostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d+)$/.exec(text);
  if (!m) throw new Error(`${what}: expected [HOST:]PORT, got "${text}"`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

export interface CommonFlags {
  /** A folder of YAML; without it the role runs against the Kubernetes API. */
  config?: string;
  kubeconfig?: string;
  lbClass?: string;
  webhookPort?: string;
  webhookCertHosts?: string;
  leaderElection?: boolean;
  ignoreExcludeLb?: boolean;
  namespace?: string;
  frrk8sNamespace?: string;
  node?: string;
  metrics?: string;
  bgpListen?: string;
  bfdPort?: string;
  acceptLostState?: boolean;
  mlSecretKeyPath?: string;
  mlBindaddr?: string;
  mlBindport?: string;
  mlProbeInterval?: string;
  bgpBackend?: string;
  frrk8sOutput?: string;
  l2HeartbeatInterval?: string;
  l2HeartbeatMisses?: string;
  mlSecretName?: string;
}

/** `--bgp-backend` (else MetalLB's $METALLB_BGP_TYPE): native, or frr-k8s (write FRRConfiguration, speak no BGP). */
function bgpBackend(f: CommonFlags): RunOptions['bgpBackend'] {
  const kind = bgpBackendKind(f.bgpBackend ?? process.env.METALLB_BGP_TYPE ?? 'native');
  if (kind === 'native') return undefined;
  const namespace = f.frrk8sNamespace ?? process.env.FRRK8S_NAMESPACE;
  return { kind, ...(namespace ? { namespace } : {}), ...(f.frrk8sOutput !== undefined ? { output: f.frrk8sOutput } : {}) };
}

/** The value of `--bgp-backend`, checked. */
export function bgpBackendKind(kind: string): 'native' | 'frr-k8s' {
  if (kind === 'native' || kind === 'frr-k8s') return kind;
  throw new Error(`--bgp-backend: "${kind}" is not supported: want native (ironlb's own BGP speaker) or frr-k8s (write FRRConfiguration for frr-k8s)${kind === 'frr' ? '; MetalLB\'s frr mode (FRR in the speaker pod) has no ironlb counterpart' : ''}`);
}

/**
 * The memberlist secret at `--ml-secret-key-path`: MetalLB's layout, a folder (the mounted
 * Secret) holding `secretkey`, or a file holding the secret itself. Surrounding whitespace is not
 * part of it.
 */
export function readMemberlistSecret(at: string): string {
  let file = at;
  let secret: string;
  try {
    if (statSync(at).isDirectory()) file = path.join(at, memberlistSecretKey);
    secret = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new Error(`--ml-secret-key-path: cannot read ${file}${file === at ? '' : ' (MetalLB\'s layout: the folder holds the Secret\'s key secretkey)'}: ${(e as Error).message}`, { cause: e });
  }
  if (secret === '') throw new Error(`--ml-secret-key-path: ${file} is empty; the memberlist secret must not be empty`);
  return secret;
}

/** MetalLB's memberlist flags: the secret turns layer-2 gossip on (also $METALLB_ML_SECRET_KEY_PATH). */
function membership(f: CommonFlags): RunOptions['membership'] {
  const at = f.mlSecretKeyPath ?? process.env.METALLB_ML_SECRET_KEY_PATH;
  if (at === undefined || at === '') return undefined;
  const secret = readMemberlistSecret(at);
  // MetalLB's speaker takes these from its environment too (its manifests set them).
  const bindPort = f.mlBindport ?? (process.env.METALLB_ML_BIND_PORT || undefined);
  const bindHost = f.mlBindaddr ?? (process.env.METALLB_ML_BIND_ADDR || undefined);
  const port = Number(bindPort ?? defaultMemberPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--ml-bindport: "${bindPort}" is not a port (1..65535)`);
  const period = f.mlProbeInterval !== undefined ? Number(f.mlProbeInterval) : undefined;
  if (period !== undefined && (!Number.isInteger(period) || period < 5 || period > 10_000)) throw new Error(`--ml-probe-interval: "${f.mlProbeInterval}" is not a number of milliseconds in 5..10000`);
  const beat = f.l2HeartbeatInterval !== undefined ? Number(f.l2HeartbeatInterval) : undefined;
  if (beat !== undefined && (!Number.isInteger(beat) || beat < 0 || beat > 10_000)) throw new Error(`--l2-heartbeat-interval: "${f.l2HeartbeatInterval}" is not a number of milliseconds in 0..10000 (0 = off)`);
  const misses = f.l2HeartbeatMisses !== undefined ? Number(f.l2HeartbeatMisses) : undefined;
  if (misses !== undefined && (!Number.isInteger(misses) || misses < 1 || misses > 100)) throw new Error(`--l2-heartbeat-misses: "${f.l2HeartbeatMisses}" is not a whole number in 1..100`);
  return {
    secret, port, ...(bindHost !== undefined ? { bindHost } : {}), ...(period !== undefined ? { periodMs: period } : {}),
    ...(beat !== undefined ? { heartbeatMs: beat } : {}), ...(misses !== undefined ? { heartbeatMisses: misses } : {}),
  };
}

export function runOptions(f: CommonFlags, needsNode: boolean): RunOptions {
  const nodeName = f.node ?? process.env.IRONLB_NODE_NAME ?? process.env.NODE_NAME ?? (needsNode ? hostname() : undefined);
  const ml = membership(f);
  const backend = bgpBackend(f);
  const bfd = f.bfdPort !== undefined ? f.bfdPort.split(':').map(Number) : undefined;
  const cluster = f.config === undefined
    ? {
      ...(f.kubeconfig !== undefined ? { kubeconfig: f.kubeconfig } : {}),
      ...(f.lbClass !== undefined ? { loadBalancerClass: f.lbClass } : {}),
      ...(f.webhookPort !== undefined ? { webhookPort: Number(f.webhookPort) } : {}),
      ...(f.webhookCertHosts !== undefined ? { webhookExtraHosts: f.webhookCertHosts.split(',').map((h) => h.trim()).filter(Boolean) } : {}),
      ...(f.leaderElection === false ? { leaderElection: false } : {}),
      ...(f.mlSecretName ? { memberlistSecretName: f.mlSecretName } : {}),
      ...((f.frrk8sNamespace ?? process.env.FRRK8S_NAMESPACE) ? { frrk8sNamespace: f.frrk8sNamespace ?? process.env.FRRK8S_NAMESPACE } : {}),
    }
    : undefined;
  return {
    folder: f.config ?? '',
    ...(cluster ? { cluster } : {}),
    ...(f.ignoreExcludeLb ? { ignoreExcludeLb: true } : {}),
    handleSignals: true,
    ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
    ...(nodeName !== undefined ? { nodeName } : {}),
    ...(f.metrics !== undefined ? { observe: hostPort(f.metrics, '--metrics') } : {}),
    ...(f.bgpListen !== undefined ? { bgpListen: hostPort(f.bgpListen, '--bgp-listen') } : {}),
    ...(f.acceptLostState ? { acceptLostState: true } : {}),
    ...(ml ? { membership: ml } : {}),
    ...(backend ? { bgpBackend: backend } : {}),
    ...(bfd ? { bfdPorts: { listen: bfd[0]!, peer: bfd[1] ?? bfd[0]! } } : {}),
  };
}

export async function startOrExit(start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (e) {
    process.stderr.write(`ironlb: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

/** Help of the `--bgp-backend` flags `speaker` and `standalone` share. */
export const backendFlagHelp = {
  bgpBackend: 'native (default: ironlb speaks BGP and BFD) or frr-k8s (write this node\'s FRRConfiguration for frr-k8s, as MetalLB\'s METALLB_BGP_TYPE=frr-k8s; no BGP of our own); default $METALLB_BGP_TYPE',
  frrk8sNamespace: 'frr-k8s: the namespace frr-k8s runs in (default: ironlb\'s; elsewhere, Secret passwords are written in clear), default $FRRK8S_NAMESPACE',
  frrk8sOutput: 'frr-k8s with --config: the folder the FRRConfiguration YAML goes to (default DIR/.ironlb-state/frr-k8s)',
} as const;

/** Help of the cluster-mode flags `controller` and `speaker` share. */
export const clusterFlagHelp = {
  kubeconfig: 'kubeconfig file (default: in-cluster credentials, else $KUBECONFIG); used when --config is not given',
  lbClass: 'handle only Services of this spec.loadBalancerClass (default: only Services without one)',
} as const;

/**
 * The flags `speaker` and `standalone` share (what a speaker does: metrics, BGP, BFD, layer-2
 * gossip and heartbeats, the BGP backend), added to `cmd` in this order.
 */
export function addSpeakerFlags<Args extends unknown[], Opts extends OptionValues, G extends OptionValues>(cmd: Command<Args, Opts, G>) {
  return cmd
    .option('--metrics <[host:]port>', 'serve /metrics, /healthz, /status')
    .option('--bgp-listen <[host:]port>', 'also accept BGP connections from configured peers')
    .option('--bfd-port <listen[:peer]>', 'BFD single-hop UDP ports (default 3784)')
    .option('--ml-secret-key-path <path>', `layer 2: the memberlist secret (MetalLB's: a folder holding ${memberlistSecretKey}, the mounted Secret; or a file); turns on liveness gossip among speakers; default $METALLB_ML_SECRET_KEY_PATH`)
    .option('--ml-bindaddr <address>', 'layer 2: address the gossip socket binds (default $METALLB_ML_BIND_ADDR, else every address)')
    .option('--ml-bindport <port>', `layer 2: gossip UDP port (default $METALLB_ML_BIND_PORT, else ${defaultMemberPort})`)
    .option('--ml-probe-interval <ms>', 'layer 2: gossip protocol period (default 100; a silent death is noticed in about 2.5 periods + 3 for suspicion)')
    .option('--bgp-backend <native|frr-k8s>', backendFlagHelp.bgpBackend)
    .option('--frrk8s-output <dir>', backendFlagHelp.frrk8sOutput)
    .option('--l2-heartbeat-interval <ms>', `layer 2: an owner sends heartbeats to its successors this often (default ${defaultHeartbeatMs}; 0 = off: gossip only)`)
    .option('--l2-heartbeat-misses <n>', `layer 2: missed heartbeats after which the successor takes the IPs over (default ${defaultHeartbeatMisses})`);
}
