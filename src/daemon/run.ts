// Starting and stopping the roles as processes: a folder store, the engines, the observe HTTP
// server, and SIGTERM/SIGINT handling (the speaker withdraws its routes, or with graceful restart
// leaves them to the peers, before the process exits).
import { networkInterfaces } from 'node:os';
import { formatDiagnostic } from '../api/diagnostics.ts';
import { type IpAddress, parseIp } from '../net/ip.ts';
import { nodeAddressWarnings } from '../config/dangerous-values.ts';
import { configWarningLog } from '../observe/config-warnings.ts';
import { createLogger, type Logger } from '../observe/log.ts';
import { serveObserve, type ObserveServer } from '../observe/http.ts';
import { Metrics } from '../observe/metrics.ts';
import { ConfigRejectedError, FolderStore } from '../store/files/folder-store.ts';
import { productionStoreOptions } from '../store/files/loader.ts';
import type { Snapshot, Store, StoreListener } from '../store/store.ts';
import type { ClusterOptions, ClusterParts } from './cluster.ts';
import { defaultNamespace } from '../config/namespace.ts';
import type { ResolveOptions } from '../config/resolve.ts';
import { FrrK8sEmitRole } from './frrk8s-emit-role.ts';
import { FileFrrConfigurationWriter, defaultFrrOutput } from '../store/files/frr-configuration-file.ts';
import { ControllerRole } from './controller.ts';
import type { BfdEngine, BgpEngine } from './engines.ts';
import { L2Role, type MembershipOptions } from './l2-role.ts';
import { SpeakerRole } from './speaker.ts';
import { WorkerLoader } from '../store/files/worker-loader.ts';
import { IncrementalPlan } from '../speaker/plan-incremental.ts';
import { makeAllocate, makeBfd, makeBgp, planFor } from './wiring.ts';

export interface RunOptions {
  /** The folder of YAML (folder mode); ignored in a cluster. */
  readonly folder: string;
  /** Run against the Kubernetes API instead of a folder. */
  readonly cluster?: ClusterOptions;
  readonly namespace?: string;
  /** Speaker and standalone: this node's name. */
  readonly nodeName?: string;
  /** host:port for /metrics, /healthz, /status; undefined = none. */
  readonly observe?: { host: string; port: number };
  /** BGP listener (peers may connect to us); default: none, we connect out. */
  readonly bgpListen?: { host: string; port: number };
  /** BFD ports (tests on loopback move them off 3784). */
  readonly bfdPorts?: { listen: number; peer: number };
  readonly logger?: Logger;
  /** Safety re-scan of the whole folder (ms); 0 = watch only. Default 30000. */
  readonly rescanMs?: number;
  /** Allocate afresh when the stored status is damaged (otherwise allocation waits for a repair). */
  readonly acceptLostState?: boolean;
  /** Layer-2 liveness gossip among the speakers; undefined = none (every Node counts as live). */
  readonly membership?: MembershipOptions;
  /** Speaker: announce from nodes labelled exclude-from-external-load-balancers too. */
  readonly ignoreExcludeLb?: boolean;
  /** Install SIGTERM/SIGINT handlers that stop and exit. */
  readonly handleSignals?: boolean;
  /**
   * Speaker: `frr-k8s` writes this node's FRRConfiguration for frr-k8s and opens no BGP session
   * (MetalLB's METALLB_BGP_TYPE=frr-k8s); default native.
   */
  readonly bgpBackend?: BgpBackend;
}

export type BgpBackend =
  | { readonly kind: 'native' }
  /** namespace: frr-k8s's (default ironlb's); output: folder mode's output folder. */
  | { readonly kind: 'frr-k8s'; readonly namespace?: string; readonly output?: string };

export interface RunningDaemon {
  readonly controller?: ControllerRole;
  readonly speaker?: SpeakerRole;
  readonly frrk8sEmitter?: FrrK8sEmitRole;
  readonly l2?: L2Role;
  readonly store: Store;
  readonly cluster?: ClusterParts;
  readonly metrics: Metrics;
  readonly observe?: ObserveServer;
  stop(): Promise<void>;
}

function hostIpv4(): IpAddress | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return parseIp(a.address);
  }
  return undefined;
}

export async function runDaemon(roles: { controller: boolean; speaker: boolean; assumeLocalEndpoints?: boolean }, o: RunOptions): Promise<RunningDaemon> {
  const role = roles.controller && roles.speaker ? 'standalone' : roles.controller ? 'controller' : 'speaker';
  const logger = o.logger ?? createLogger({ role, ...(o.nodeName ? { node: o.nodeName } : {}) });
  const metrics = new Metrics({ processMetrics: o.logger === undefined });
  // Loaded only in cluster mode: the Kubernetes client is ~1,700 modules (~40 MiB of heap, seconds of start-up CPU) a folder never needs.
  // With frr-k8s running BGP and BFD, the configuration may ask for what only FRR does (BFD echo
  // mode); the controller is told by $METALLB_BGP_TYPE, as MetalLB's is.
  const resolveAs: ResolveOptions = o.bgpBackend?.kind === 'frr-k8s' ? { bgpBackend: 'frr-k8s' } : {};
  const cluster = o.cluster && role !== 'standalone' ? (await import('./cluster.ts')).clusterStore(role, o.cluster, o.namespace, o.nodeName, logger, resolveAs) : undefined;
  const lbClass = o.cluster?.loadBalancerClass !== undefined ? { loadBalancerClass: o.cluster.loadBalancerClass } : {};
  const planOptions = { ...lbClass, ...(o.ignoreExcludeLb ? { ignoreExcludeLb: true } : {}) };
  // Files are parsed and validated on a worker thread: a huge or hostile file never stalls the sessions;
  // positions are read from the file again when a problem is reported (no text kept per file).
  const parser = cluster?.store ? undefined : new WorkerLoader({ positions: 'file' });
  const store: Store = cluster?.store
    ?? new FolderStore(o.folder, productionStoreOptions({ ...(o.namespace !== undefined ? { namespace: o.namespace } : {}), ...(o.rescanMs !== undefined ? { rescanMs: o.rescanMs } : {}), logger, ...(parser ? { loader: parser.load, resolver: (objects, opts) => parser.resolve(objects, { ...opts, ...resolveAs }) } : {}) }));
  let controller: ControllerRole | undefined;
  let speaker: SpeakerRole | undefined;
  let emitter: FrrK8sEmitRole | undefined;
  let l2: L2Role | undefined;
  const toSpeaker = (s: Snapshot): void => { speaker?.onSnapshot(s); emitter?.onSnapshot(s); l2?.onSnapshot(s); };
  let bgp: BgpEngine | undefined;
  let bfd: BfdEngine | undefined;
  if (roles.controller) {
    controller = new ControllerRole({
      store, allocate: makeAllocate(lbClass), logger: logger.child({ component: 'controller' }), metrics,
      ...(o.acceptLostState ? { acceptLostState: true } : {}),
      // In one process the speaker follows the allocator directly, not through the status file.
      ...(roles.speaker ? { onAllocated: toSpeaker } : {}),
    });
  }
  if (roles.speaker) {
    if (!o.nodeName) throw new Error('the speaker needs a node name');
    const ip = hostIpv4();
    l2 = new L2Role({
      nodeName: o.nodeName, logger: logger.child({ component: 'layer2' }), metrics, onStatus: () => { speaker?.statusChanged(); emitter?.statusChanged(); },
      ...(o.membership ? { membership: o.membership } : {}), ...(roles.assumeLocalEndpoints ? { assumeLocalEndpoints: true } : {}), options: planOptions,
    });
    const l2Status = l2;
    if (o.bgpBackend?.kind === 'frr-k8s') {
      const ns = o.bgpBackend.namespace ?? o.namespace ?? defaultNamespace;
      const sink = cluster ? new (await import('../store/kubernetes/frr-configuration-writer.ts')).KubeFrrConfigurationWriter(cluster.client, ns) : new FileFrrConfigurationWriter(o.bgpBackend.output ?? defaultFrrOutput(o.folder));
      emitter = new FrrK8sEmitRole({
        store, nodeName: o.nodeName, plan: planFor(planOptions), sink, namespace: ns,
        // MetalLB's SecretConvert: frr-k8s elsewhere cannot read our Secrets, so the password goes in clear.
        secrets: ns === (o.namespace ?? defaultNamespace) ? 'reference' : 'inline',
        logger: logger.child({ component: 'frr-k8s' }), layer2Status: () => l2Status.status(),
        ...(roles.assumeLocalEndpoints ? { assumeLocalEndpoints: true } : {}),
      });
      logger.info({ where: sink.where }, 'BGP backend frr-k8s: writing this node\'s FRRConfiguration, no BGP session of our own');
    } else {
      bgp = await makeBgp(logger, o.bgpListen);
      bfd = makeBfd(logger, o.bfdPorts ? { singleHopPort: o.bfdPorts.listen, peerSingleHopPort: o.bfdPorts.peer, multihopPort: o.bfdPorts.listen + 1000, peerMultihopPort: o.bfdPorts.peer + 1000 } : {});
      speaker = new SpeakerRole({
        store, nodeName: o.nodeName, plan: planFor(planOptions), incremental: (input) => new IncrementalPlan({ ...input, options: { ...input.options, ...planOptions } }),
        bgp, bfd, logger: logger.child({ component: 'speaker' }), metrics, layer2Status: () => l2Status.status(),
        ...(roles.assumeLocalEndpoints ? { assumeLocalEndpoints: true } : {}), ...(ip ? { hostIpv4: ip } : {}),
      });
      await bgp.start();
    }
  }
  const logConfigWarnings = configWarningLog(logger);
  const listener: StoreListener = {
    snapshot(s: Snapshot) {
      // A Services-only snapshot has the Config and Nodes of the last one (a Node change is not
      // Services-only): nothing new to warn about, and reading `nodes` would list every Node.
      if (s.delta?.servicesOnly !== true) logConfigWarnings(s.diagnostics, nodeAddressWarnings(s.nodes, s.config));
      metrics.configLoaded.set(1);
      metrics.configStale.set(s.stale ? 1 : 0);
      // Not for an edit of Services alone: reading `services` builds the list of every Service (a
      // lazy list, see withLazyLists), which at 50,000 was the largest cost of an edit left.
      if (s.delta?.servicesOnly !== true) logger.info({ generation: s.generation, pools: s.config.pools.length, peers: s.config.peers.length, services: s.services.length }, 'configuration in force');
      if (controller) void controller.onSnapshot(s);
      else toSpeaker(s);
    },
    rejected(r) {
      metrics.configLoaded.set(0);
      metrics.configStale.set(1);
      for (const d of r.diagnostics.filter((x) => x.severity === 'error').slice(0, 20)) logger.error({ diagnostic: formatDiagnostic(d) }, 'invalid configuration');
    },
  };
  try {
    await store.start(listener);
  } catch (e) {
    if (e instanceof ConfigRejectedError) {
      for (const d of e.diagnostics) if (d.severity === 'error') process.stderr.write(`${formatDiagnostic(d)}\n`);
    }
    await bgp?.close();
    await bfd?.close();
    await cluster?.stop();
    await parser?.close();
    throw e;
  }
  await cluster?.afterStart();
  const observe = o.observe ? await serveObserve(metrics, o.observe, () => ({ role, node: o.nodeName, generation: store.current()?.generation, speaker: speaker?.status() ?? emitter?.status() })) : undefined;
  if (observe) logger.info({ port: observe.port }, 'serving /metrics /healthz /status');
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await cluster?.elector?.stop();
      // The assignments made so far must reach the status before exit: a restart reads them back.
      await controller?.flush();
      await store.close();
      await parser?.close();
      await l2?.stop();
      await speaker?.stop();
      await emitter?.stop();
      await cluster?.stop();
      await observe?.close();
      logger.info({}, 'stopped');
    })();
    return stopping;
  };
  if (o.handleSignals) {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        logger.info({ signal: sig }, 'shutting down');
        const force = setTimeout(() => process.exit(1), 10_000);
        force.unref();
        void stop().then(() => process.exit(0));
      });
    }
  }
  return { ...(controller ? { controller } : {}), ...(speaker ? { speaker } : {}), ...(emitter ? { frrk8sEmitter: emitter } : {}), ...(l2 ? { l2 } : {}), store, ...(cluster ? { cluster } : {}), metrics, ...(observe ? { observe } : {}), stop };
}
