// What no controller creates here (no kube-controller-manager, scheduler or kubelet): namespaces
// per test, Nodes with a Ready condition, EndpointSlices, and ServiceAccount credentials.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoreV1Api, DiscoveryV1Api, KubeConfig, PatchStrategy, setHeaderOptions,
  type DiscoveryV1EndpointPort, type V1NodeAddress,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { ControlPlane } from './control-plane.ts';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Creates a namespace named prefix-<random> and returns its name. Namespaces never finish deleting here (no controller), so each test gets a fresh one. */
export async function createNamespace(cp: ControlPlane, prefix: string): Promise<string> {
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 50)}-${randomBytes(3).toString('hex')}`;
  await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export interface NodeOptions {
  labels?: Record<string, string>;
  addresses?: V1NodeAddress[];
  /** The Ready condition (default true). */
  ready?: boolean;
}

/** Creates a Node, then sets its addresses and Ready condition through /status as a kubelet would. */
export async function createNode(cp: ControlPlane, name: string, opts: NodeOptions = {}): Promise<void> {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } } } });
  await setNodeReady(cp, name, opts.ready ?? true, opts.addresses);
}

/** Sets a Node's Ready condition (and optionally its addresses) through /status. */
export async function setNodeReady(cp: ControlPlane, name: string, ready: boolean, addresses?: V1NodeAddress[]): Promise<void> {
  const now = new Date();
  const status: Record<string, unknown> = {
    conditions: [{
      type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'KubeletNotReady',
      message: 'set by the ironlb tests', lastHeartbeatTime: now, lastTransitionTime: now,
    }],
  };
  if (addresses) status.addresses = addresses;
  await cp.kubeConfig.makeApiClient(CoreV1Api).patchNodeStatus({ name, body: { status } }, merge);
}

export interface SliceEndpoint {
  addresses: string[];
  nodeName?: string;
  /** conditions.ready (and serving); default true. */
  ready?: boolean;
}

export interface SliceOptions {
  /** Default <service>-<random>. */
  name?: string;
  /** Default from the first address: IPv6 when it has a colon. */
  addressType?: 'IPv4' | 'IPv6';
  ports?: DiscoveryV1EndpointPort[];
}

/** Creates an EndpointSlice for a Service as the endpointslice controller would (label kubernetes.io/service-name). */
export async function createEndpointSlice(
  cp: ControlPlane, namespace: string, service: string, endpoints: SliceEndpoint[], opts: SliceOptions = {},
): Promise<string> {
  const name = opts.name ?? `${service}-${randomBytes(3).toString('hex')}`;
  const first = endpoints[0]?.addresses[0] ?? '';
  await cp.kubeConfig.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
    namespace,
    body: {
      metadata: {
        name,
        labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'ironlb-tests' },
      },
      addressType: opts.addressType ?? (first.includes(':') ? 'IPv6' : 'IPv4'),
      ports: opts.ports ?? [],
      endpoints: endpoints.map((e) => ({
        addresses: e.addresses,
        nodeName: e.nodeName,
        conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false },
      })),
    },
  });
  return name;
}

/**
 * A kubeconfig that acts as a ServiceAccount (created when missing), with a token from the
 * TokenRequest API, so that RBAC is checked as it would be for a pod running as that account.
 */
export async function serviceAccountKubeconfig(
  cp: ControlPlane, namespace: string, serviceAccount: string,
): Promise<{ path: string; kubeConfig: KubeConfig; token: string }> {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: serviceAccount } } });
  } catch (e) {
    if ((e as { code?: number }).code !== 409) throw e;
  }
  const tr = await core.createNamespacedServiceAccountToken({
    name: serviceAccount, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  const cluster = cp.kubeConfig.getCurrentCluster()!;
  const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const path = join(cp.dir, `kubeconfig-${namespace}-${serviceAccount}`);
  writeFileSync(path, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': user,
    clusters: [{ name: cluster.name, cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: cluster.name, user, namespace } }],
  }), { mode: 0o600 });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  return { path, kubeConfig, token };
}
