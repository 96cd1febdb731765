// The objects the Kubernetes benchmarks create through the API, 32 requests in flight:
// LoadBalancer Services s0…s(n-1) in namespace bench, and an EndpointSlice for each (one ready
// endpoint on a node) when a speaker must announce them.
import type { KubeClient } from '../../src/store/kubernetes/kube-client.ts';

async function createMany(client: KubeClient, n: number, path: string, body: (i: number) => object, inFlight: number): Promise<void> {
  let next = 0;
  const create = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      await client.request('POST', path, { body: body(i) });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, create));
}

export function createLoadBalancerServices(client: KubeClient, n: number, inFlight = 32, from = 0): Promise<void> {
  return createMany(client, n, '/api/v1/namespaces/bench/services', (i) => ({
    apiVersion: 'v1', kind: 'Service', metadata: { name: `s${from + i}` },
    spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: 'TCP' }] },
  }), inFlight);
}

export function createEndpointSlices(client: KubeClient, n: number, node: string, inFlight = 32): Promise<void> {
  return createMany(client, n, '/apis/discovery.k8s.io/v1/namespaces/bench/endpointslices', (i) => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `s${i}-ep`, labels: { 'kubernetes.io/service-name': `s${i}`, 'endpointslice.kubernetes.io/managed-by': 'ironlb-bench' } },
    addressType: 'IPv4', ports: [{ port: 80, protocol: 'TCP' }],
    endpoints: [{ addresses: [`10.244.${(i >> 8) & 255}.${i & 255}`], nodeName: node, conditions: { ready: true, serving: true, terminating: false } }],
  }), inFlight);
}
