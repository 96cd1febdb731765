// The Service mistakes MetalLB's controller refuses: errors on that Service in `validate`, an event
// on that Service in the daemon, never a blocked configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../api/load.ts';
import { formatDiagnostic } from '../api/diagnostics.ts';
import { resolveConfig } from '../config/resolve.ts';
import { reconcileAll } from './ipam.ts';
import { requestedRouteConflicts, serviceDiagnostics } from './service-checks.ts';

const pools = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: prod, namespace: metallb-system}
spec: {addresses: [192.168.1.240-192.168.1.250, "fd00::/120"]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: dev, namespace: metallb-system}
spec: {addresses: [192.168.2.0/24]}
`;
const svc = (name: string, annotations: Record<string, string>, lbIp?: string): string => `---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
  annotations: ${JSON.stringify(annotations)}
spec: {type: LoadBalancer, clusterIPs: [10.96.0.1], ports: [{port: 80}]${lbIp ? `, loadBalancerIP: ${lbIp}` : ''}}
`;
const text = pools +
  svc('both', { 'metallb.io/loadBalancerIPs': '192.168.1.241' }, '192.168.1.242') +
  svc('unparsable', { 'metallb.io/loadBalancerIPs': '192.168.1.300' }) +
  svc('two-v4', { 'metallb.io/loadBalancerIPs': '192.168.1.241,192.168.1.242' }) +
  svc('unknown-pool', { 'metallb.io/address-pool': 'staging' }) +
  svc('outside-pool', { 'metallb.io/address-pool': 'dev', 'metallb.io/loadBalancerIPs': '192.168.1.243' }) +
  svc('no-pool', {}, '10.9.9.9') +
  svc('fine', { 'metallb.io/address-pool': 'prod', 'metallb.io/loadBalancerIPs': '192.168.1.244' });

test('validate: each mistake MetalLB refuses is an error on that Service, at the field', () => {
  const loaded = loadText(text, 'svc.yaml');
  const r = resolveConfig(loaded.objects);
  assert.ok(r.config);
  const lines = serviceDiagnostics(loaded.objects, r.config).map(formatDiagnostic);
  assert.deepEqual(lines.map((l) => l.replace(/^svc\.yaml:(\d+):\d+: error: Service\/default\/([a-z0-9-]+): ([^:]+): .*$/, '$2 $3')), [
    'both metadata.annotations.metallb.io/loadBalancerIPs',
    'unparsable metadata.annotations.metallb.io/loadBalancerIPs',
    'two-v4 metadata.annotations.metallb.io/loadBalancerIPs',
    'unknown-pool metadata.annotations.metallb.io/address-pool',
    'outside-pool metadata.annotations.metallb.io/loadBalancerIPs',
    'no-pool spec.loadBalancerIP',
  ]);
  assert.match(lines[0]!, /both set: MetalLB refuses the Service/);
  assert.match(lines[1]!, /invalid metallb.io\/loadBalancerIPs: "192.168.1.300"/);
  assert.match(lines[2]!, /same address family/);
  assert.match(lines[3]!, /unknown IPAddressPool "staging": known pools are "dev", "prod"/);
  assert.match(lines[4]!, /requested \["192.168.1.243"\] is not in IPAddressPool "dev", which the metallb.io\/address-pool annotation asks for/);
  assert.match(lines[5]!, /requested \["10.9.9.9"\] is in no IPAddressPool/);
});

test('the daemon\'s allocator: those Services get a failure event each, the others their addresses', () => {
  const loaded = loadText(text, 'svc.yaml');
  const config = resolveConfig(loaded.objects).config!;
  const services = loaded.objects.filter((o) => o.object.kind === 'Service').map((o) => o.object as never);
  const r = reconcileAll(config, services);
  const failed = [...new Set(r.events.filter((e) => e.type === 'Warning').map((e) => e.object.name))].sort();
  assert.deepEqual(failed, ['both', 'no-pool', 'outside-pool', 'two-v4', 'unknown-pool', 'unparsable']);
  assert.deepEqual(r.services.get('default/fine')?.ingress.map((i) => i.ip), ['192.168.1.244']);
});

test('validate says before the speaker does: Services sharing a requested IP through ads that disagree for a peer', () => {
  const yaml = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
spec: {addresses: [192.0.2.0/24]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: r1, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.1}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: web, namespace: metallb-system}
spec: {ipAddressPools: [p], med: 10, serviceSelectors: [{matchLabels: {app: web}}]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: db, namespace: metallb-system}
spec: {ipAddressPools: [p], med: 20, serviceSelectors: [{matchLabels: {app: db}}]}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default, labels: {app: web}, annotations: {metallb.io/allow-shared-ip: k, metallb.io/loadBalancerIPs: 192.0.2.9}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: default, labels: {app: db}, annotations: {metallb.io/allow-shared-ip: k, metallb.io/loadBalancerIPs: 192.0.2.9}}
spec: {type: LoadBalancer, ports: [{port: 443}]}
`;
  const loaded = loadText(yaml, 'shared.yaml');
  const r = resolveConfig(loaded.objects);
  assert.ok(r.config, JSON.stringify(r.diagnostics));
  assert.deepEqual(requestedRouteConflicts(loaded.objects, r.config).map(formatDiagnostic), [
    'shared.yaml:28:41: error: Service/default/b: metadata.labels: 192.0.2.9 would not be announced to peer "r1": BGPAdvertisements "db" (matching default/b) and "web" (matching default/a) give it different values (med 20 vs 10); a route carries one value: change the labels, the serviceSelectors or the values',
  ]);
});
