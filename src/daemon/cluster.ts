// The roles inside a Kubernetes cluster: the Kubernetes store instead of a folder, and for the
// controller a Lease (one replica writes, the others stay warm: same informers, same allocator
// state, so a takeover moves no IP) and the admission/conversion webhooks (served by every
// replica, the standby too).
import type { Logger } from 'pino';
import { hostname } from 'node:os';
import type { ResolveOptions } from '../config/resolve.ts';
import type { ConfigResolver } from '../store/files/folder-store.ts';
import { defaultResolver } from '../store/files/loader.ts';
import { KubeClient, loadKubeConfig } from '../store/kubernetes/kube-client.ts';
import { KubernetesStore } from '../store/kubernetes/kube-store.ts';
import { LeaderElector } from '../store/kubernetes/lease.ts';
import { metallbConfig } from '../store/kubernetes/resources.ts';
import { type CertLifetimes, WebhookCertManager } from '../webhooks/certs.ts';
import { ensureMemberlistSecret } from './memberlist-secret.ts';
import { serveWebhooks, type WebhookServer } from '../webhooks/server.ts';

export interface ClusterOptions {
  /** A kubeconfig file; default: in-cluster credentials, else $KUBECONFIG. */
  readonly kubeconfig?: string;
  /** MetalLB's --lb-class: handle only Services of this LoadBalancerClass (default: those without one). */
  readonly loadBalancerClass?: string;
  /** Controller: take part in leader election (default true). */
  readonly leaderElection?: boolean;
  /** Lease timing (tests shorten them). */
  readonly leaseDurationMs?: number;
  readonly renewMs?: number;
  /** This replica's name in the Lease (default: $POD_NAME, else the hostname + pid). */
  readonly identity?: string;
  /** Webhooks: serve admission and conversion on this port (controller; 0 = off, the default). */
  readonly webhookPort?: number;
  readonly webhookHost?: string;
  /** Extra names/IPs in the serving certificate (tests call the webhook on 127.0.0.1). */
  readonly webhookExtraHosts?: readonly string[];
  /** Webhook certificate lifetimes and how often they are checked (tests shorten them to seconds). */
  readonly webhookCertLifetimes?: Partial<CertLifetimes>;
  readonly webhookCertCheckMs?: number;
  readonly debounceMs?: number;
  /** Speaker: the namespace of frr-k8s's FRRConfigurations (MetalLB's --frrk8s-namespace; default the MetalLB one). */
  readonly frrk8sNamespace?: string;
  /** Controller: API writes in flight at most (default 32). */
  readonly writeConcurrency?: number;
  /** Controller: create the speakers' memberlist Secret (key `secretkey`) under this name when missing (MetalLB's --ml-secret-name). */
  readonly memberlistSecretName?: string;
}

export interface ClusterParts {
  readonly client: KubeClient;
  readonly store: KubernetesStore;
  readonly elector?: LeaderElector;
  /** After the store's first snapshot: leader election and webhooks begin. */
  afterStart(): Promise<void>;
  webhooks?: WebhookServer;
  stop(): Promise<void>;
}

export const defaultNamespace = 'metallb-system';

/** `resolveAs`: how the configuration is judged, by the store and the webhooks (the BGP backend). */
export function clusterStore(
  role: 'controller' | 'speaker', c: ClusterOptions, namespace: string | undefined, node: string | undefined, logger: Logger, resolveAs: ResolveOptions = {},
): ClusterParts {
  const client = new KubeClient(loadKubeConfig(c.kubeconfig), `ironlb-${role}`);
  const resolver: ConfigResolver = resolveAs.bgpBackend === undefined ? defaultResolver : (objects, opts) => defaultResolver(objects, { ...opts, ...resolveAs });
  const store = new KubernetesStore({
    client, role, namespace: namespace ?? defaultNamespace, resolver, logger: logger.child({ component: 'store' }),
    ...(node !== undefined ? { node } : {}),
    ...(c.loadBalancerClass !== undefined ? { loadBalancerClass: c.loadBalancerClass } : {}),
    ...(c.debounceMs !== undefined ? { debounceMs: c.debounceMs } : {}),
    ...(c.frrk8sNamespace ? { frrk8sNamespace: c.frrk8sNamespace } : {}),
    ...(c.writeConcurrency !== undefined ? { writeConcurrency: c.writeConcurrency } : {}),
  });
  let elector: LeaderElector | undefined;
  if (role === 'controller' && c.leaderElection !== false && store.controllerWriter) {
    const writer = store.controllerWriter;
    writer.active = false;
    elector = new LeaderElector({
      client, namespace: namespace ?? defaultNamespace, name: 'ironlb-controller',
      identity: c.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
      ...(c.leaseDurationMs !== undefined ? { leaseDurationMs: c.leaseDurationMs } : {}),
      ...(c.renewMs !== undefined ? { renewMs: c.renewMs } : {}),
      logger: logger.child({ component: 'lease' }),
      onStartedLeading: () => void writer.resume(),
      onStoppedLeading: () => { writer.active = false; },
    });
  }
  const ns = namespace ?? defaultNamespace;
  let certs: WebhookCertManager | undefined;
  const parts: ClusterParts = {
    client, store, ...(elector ? { elector } : {}),
    afterStart: async () => {
      elector?.start();
      if (role === 'controller' && c.memberlistSecretName) await ensureMemberlistSecret(client, ns, c.memberlistSecretName, logger);
      if (role !== 'controller' || !c.webhookPort) return;
      certs = new WebhookCertManager({
        client, namespace: ns, logger: logger.child({ component: 'webhook-tls' }),
        ...(c.webhookExtraHosts ? { extraHosts: c.webhookExtraHosts } : {}), ...(c.webhookCertLifetimes ? { lifetimes: c.webhookCertLifetimes } : {}),
      });
      const tls = await certs.ensure();
      parts.webhooks = await serveWebhooks({
        tls, port: c.webhookPort, ...(c.webhookHost ? { host: c.webhookHost } : {}), namespace: ns, logger: logger.child({ component: 'webhooks' }), resolveAs,
        current: () => metallbConfig.flatMap((r) => store.cached(r.kind)),
      });
      certs.watch(c.webhookCertCheckMs ?? 10 * 60_000, (t) => parts.webhooks?.setTls(t));
    },
    stop: async () => {
      certs?.stop();
      await parts.webhooks?.close();
      await elector?.stop();
      client.close();
    },
  };
  return parts;
}
