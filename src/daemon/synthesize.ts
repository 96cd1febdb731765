// A folder on a single host usually holds no Node and no EndpointSlice objects. The speaker then
// stands in for what a cluster would say: this node exists (with its hostname label), and in
// standalone mode a Service without any EndpointSlice is served by this host itself.
import type { EndpointSlice, Node, Service } from '../api/resources.ts';
import { deepFreeze } from '../config/resolve.ts';

export function withThisNode(nodes: readonly Node[], nodeName: string): readonly Node[] {
  if (nodes.some((n) => n.metadata.name === nodeName)) return nodes;
  const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } }, spec: {} };
  return [...nodes, node];
}

export function withLocalEndpoints(services: readonly Service[], slices: readonly EndpointSlice[], nodeName: string): readonly EndpointSlice[] {
  const covered = new Set<string>();
  for (const s of slices) {
    const svc = s.metadata.labels?.['kubernetes.io/service-name'];
    if (svc !== undefined) covered.add(`${s.metadata.namespace ?? 'default'}/${svc}`);
  }
  const extra: EndpointSlice[] = [];
  for (const svc of services) {
    if (svc.spec.type !== 'LoadBalancer' || covered.has(`${svc.metadata.namespace ?? 'default'}/${svc.metadata.name ?? ''}`)) continue;
    extra.push(localSlice(svc, nodeName));
  }
  return extra.length === 0 ? slices : [...slices, ...extra];
}

/** The endpoints of every stand-in slice on a node: one frozen list, not one per Service. */
const localEndpoints = new Map<string, EndpointSlice['endpoints']>();

/** The EndpointSlice standing in for a Service that has none: served by this host. */
export function localSlice(svc: Service, nodeName: string): EndpointSlice {
  const name = svc.metadata.name ?? '';
  let endpoints = localEndpoints.get(nodeName);
  if (!endpoints) localEndpoints.set(nodeName, (endpoints = deepFreeze([{ addresses: ['127.0.0.1'], nodeName, conditions: { ready: true, serving: true, terminating: false } }])));
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: `${name}-ironlb-local`, namespace: svc.metadata.namespace ?? 'default', labels: { 'kubernetes.io/service-name': name } },
    endpoints,
  };
}

/** The slices a planner gives every Service that has none (PlanInput.standInSlices): one list per node, frozen. */
const standIns = new Map<string, readonly EndpointSlice[]>();
export function standInSlices(nodeName: string): readonly EndpointSlice[] {
  let out = standIns.get(nodeName);
  if (!out) standIns.set(nodeName, (out = deepFreeze([localSlice({ apiVersion: 'v1', kind: 'Service', metadata: { name: '' }, spec: {} }, nodeName)])));
  return out;
}
