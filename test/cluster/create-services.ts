// The LoadBalancer Services the Kubernetes benchmarks create through the API, 32 requests in flight.
import type { KubeClient } from '../../src/store/kubernetes/kube-client.ts';

export async function createLoadBalancerServices(client: KubeClient, n: number, inFlight = 32): Promise<void> {
  let next = 0;
  const create = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      await client.request('POST', '/api/v1/namespaces/bench/services', {
        body: { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}` }, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: 'TCP' }] } },
      });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, create));
}
