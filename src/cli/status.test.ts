// `ironlb status` agrees with `explain` (issue #9 item 6): an aggregate announces the Services it
// covers, Services without an IP are listed, a route on a session that is down is not "announced".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { writeControllerStatus, writeSpeakerStatus } from '../store/files/status-file.ts';
import type { KubeClient } from '../store/kubernetes/kube-client.ts';
import { readClusterStatus } from '../store/kubernetes/cluster-status.ts';
import { statusText, statusTextOf } from './status.ts';

async function folder(t: { after: (f: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ilb-status-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
const line = (text: string, key: string): string => text.split('\n').find((l) => l.includes(key)) ?? '';

test('a Service announced through its aggregate (/24) is shown as announced, via the aggregate', async (t) => {
  const dir = await folder(t);
  await writeControllerStatus(dir, { services: { 'default/dev': { ips: ['192.168.2.240'], pool: 'development-pool' } }, pools: {}, events: [] });
  await writeSpeakerStatus(dir, {
    node: 'n1', peers: { 'router-1': { address: '192.168.1.1', state: 'Established', prefixes: ['192.168.2.0/24'] } }, notAnnounced: [],
    announced: [{ service: 'default/dev', peers: ['router-1'] }],
  });
  assert.match(line(await statusText(dir), 'default/dev'), /pool development-pool {2}announced: n1→router-1 \(via 192\.168\.2\.0\/24\)$/);
});

test('an aggregate another Service keeps up does not make this one announced when its speaker says it is not', async (t) => {
  const dir = await folder(t);
  await writeControllerStatus(dir, { services: { 'default/a': { ips: ['192.168.2.240'], pool: 'p' }, 'default/b': { ips: ['192.168.2.241'], pool: 'p' } }, pools: {}, events: [] });
  await writeSpeakerStatus(dir, {
    node: 'n1', peers: { r1: { address: '10.0.0.1', state: 'Established', prefixes: ['192.168.2.0/24'] } },
    notAnnounced: [{ service: 'default/b', reason: 'noEndpoints: the Service has no ready or serving endpoint' }],
    announced: [{ service: 'default/a', peers: ['r1'] }],
  });
  const text = await statusText(dir);
  assert.match(line(text, 'default/a'), /announced: n1→r1 \(via 192\.168\.2\.0\/24\)/);
  assert.match(line(text, 'default/b'), /not announced \(n1: noEndpoints\)$/);
});

test('a route waiting on a session that is down is not under "announced"', async (t) => {
  const dir = await folder(t);
  await writeControllerStatus(dir, { services: { 'default/web': { ips: ['10.0.0.5'], pool: 'p' } }, pools: {}, events: [] });
  await writeSpeakerStatus(dir, {
    node: 'n1', peers: { r1: { address: '10.0.0.1', state: 'Connect', prefixes: ['10.0.0.5/32'] } }, notAnnounced: [],
    announced: [{ service: 'default/web', peers: ['r1'] }],
  });
  const text = await statusText(dir);
  assert.match(line(text, 'default/web'), /not announced; waiting: n1→r1 \[session Connect\]$/);
  assert.match(line(text, 'r1 10.0.0.1'), /Connect: 1 prefixes waiting for the session/);
});

test('the FRRConfigurations a speaker refused are listed under it', async (t) => {
  const dir = await folder(t);
  await writeControllerStatus(dir, { services: {}, pools: {}, events: [] });
  const message = 'FRRConfiguration frr-k8s-system/extra: spec.bgp.routers[0].asn: 64999 differs from 64512, the ASN BGPPeer metallb-system/tor gives the router of the default VRF (one router per VRF, one ASN); not applied on this node';
  await writeSpeakerStatus(dir, { node: 'n1', peers: {}, notAnnounced: [], frrConfigurationProblems: [{ configuration: 'frr-k8s-system/extra', message }] });
  await writeSpeakerStatus(dir, { node: 'n2', peers: {}, notAnnounced: [], frrConfigurationProblems: [] });
  const lines = (await statusText(dir)).split('\n');
  assert.equal(lines[lines.indexOf('  n1') + 1], `    refused: ${message}`);
  assert.equal(lines.filter((l) => l.includes('refused:')).length, 1);
});

test('Services without an IP are listed, with the controller\'s reason', async (t) => {
  const dir = await folder(t);
  await writeFile(path.join(dir, 'svc.yaml'), [
    'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\n',
    'apiVersion: v1\nkind: Service\nmetadata: {name: pending, namespace: default}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\n',
    'apiVersion: v1\nkind: Service\nmetadata: {name: internal, namespace: default}\nspec: {type: ClusterIP, ports: [{port: 80}]}\n',
  ].join('---\n'));
  await writeControllerStatus(dir, {
    services: { 'default/web': { ips: ['10.0.0.5'], pool: 'p' } }, pools: {},
    events: [{ time: 't', type: 'Warning', object: 'default/pending', reason: 'AllocationFailed', message: 'Failed to allocate IP for "default/pending": no available IPs' }],
  });
  const text = await statusText(dir);
  assert.match(text, /^Services \(2\)/);
  assert.match(line(text, 'default/pending'), /\(no IP\)\s+AllocationFailed: Failed to allocate IP for "default\/pending": no available IPs$/);
  assert.equal(line(text, 'default/internal'), '');
});

test('from a cluster\'s status objects: the same Services, pools and warnings as from the folder', async (t) => {
  const dir = await folder(t);
  await writeFile(path.join(dir, 'svc.yaml'), [
    'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\n',
    'apiVersion: v1\nkind: Service\nmetadata: {name: pending, namespace: default}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\n',
  ].join('---\n'));
  const warning = { time: '2026-01-01T00:00:00Z', type: 'Warning' as const, object: 'default/pending', reason: 'AllocationFailed', message: 'Failed to allocate IP for "default/pending": no available IPs' };
  const usage = { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 0, availableIPv6: 0 };
  await writeControllerStatus(dir, { services: { 'default/web': { ips: ['10.0.0.5'], pool: 'p' } }, pools: { p: usage }, events: [warning] });
  const refused = { configuration: 'frr-k8s-system/extra', message: 'FRRConfiguration frr-k8s-system/extra: spec.bgp.routers[0].asn: 64999 differs from 64512, the ASN BGPPeer metallb-system/r1 gives the router of the default VRF (one router per VRF, one ASN); not applied on this node' };
  await writeSpeakerStatus(dir, {
    node: 'n1', peers: { r1: { address: '10.0.0.1', state: 'Established', prefixes: ['10.0.0.5/32'] } }, notAnnounced: [],
    announced: [{ service: 'default/web', peers: ['r1'] }], frrConfigurationProblems: [refused],
  });
  const lists: Record<string, unknown[]> = {
    '/api/v1/services': [
      { metadata: { name: 'web', namespace: 'default', annotations: { 'metallb.io/ip-allocated-from-pool': 'p' } }, spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: '10.0.0.5' }] } } },
      { metadata: { name: 'pending', namespace: 'default' }, spec: { type: 'LoadBalancer' }, status: {} },
      { metadata: { name: 'theirs', namespace: 'default' }, spec: { type: 'LoadBalancer', loadBalancerClass: 'example.com/other' }, status: {} },
      { metadata: { name: 'internal', namespace: 'default' }, spec: { type: 'ClusterIP' } },
    ],
    '/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools': [{ metadata: { name: 'p' }, status: usage }],
    '/api/v1/events': [
      { involvedObject: { kind: 'Service', namespace: 'default', name: 'pending' }, source: { component: 'metallb-controller' }, type: 'Warning', reason: warning.reason, message: warning.message, lastTimestamp: warning.time },
      { involvedObject: { kind: 'Pod', namespace: 'default', name: 'x' }, source: { component: 'kubelet' }, type: 'Warning', reason: 'BackOff', message: 'not ours', lastTimestamp: warning.time },
    ],
    '/apis/ironlb.io/v1alpha1/namespaces/metallb-system/bgpsessionstates': [
      { status: { node: 'n1', peer: 'r1', address: '10.0.0.1', vrf: '', bgpStatus: 'Established', bfdStatus: 'N/A', prefixesSent: 1 } },
    ],
    '/apis/metallb.io/v1beta1/namespaces/metallb-system/servicebgpstatuses': [{ status: { node: 'n1', serviceName: 'web', serviceNamespace: 'default', peers: ['r1'] } }],
    '/apis/metallb.io/v1beta1/namespaces/metallb-system/servicel2statuses': [],
    '/apis/metallb.io/v1beta1/namespaces/metallb-system/configurationstates': [
      { metadata: { name: 'controller', labels: { 'metallb.io/component-type': 'controller' } }, status: { result: 'Valid', conditions: [{ type: 'poolReconcilerValid', status: 'True' }] } },
      {
        metadata: { name: 'speaker-n1', labels: { 'metallb.io/component-type': 'speaker', 'metallb.io/node-name': 'n1' } },
        status: { result: 'Invalid', conditions: [{ type: 'configReconcilerValid', status: 'True' }, { type: 'frrConfigurationsValid', status: 'False', message: refused.message }] },
      },
    ],
  };
  const client = {
    request: (method: string, p: string) => {
      const items = lists[p];
      return items ? Promise.resolve({ items }) : Promise.reject(new Error(`unexpected ${method} ${p}`));
    },
  } as unknown as KubeClient;
  const fromFolder = await statusText(dir);
  const c = await readClusterStatus(client, 'metallb-system');
  const fromCluster = statusTextOf(c.controller, c.speakers, c.loadBalancers);
  const section = (text: string, from: string, to: string) => text.slice(text.indexOf(from), text.indexOf(to)).replace(/, status of \S+/, '');
  assert.equal(section(fromCluster, 'Services', 'Speakers'), section(fromFolder, 'Services', 'Speakers'));
  assert.equal(fromCluster.slice(fromCluster.indexOf('Recent warnings')), fromFolder.slice(fromFolder.indexOf('Recent warnings')));
  assert.match(line(fromCluster, 'default/web'), /announced: n1→r1$/);
  assert.match(line(fromCluster, 'r1 10.0.0.1'), /Established: 1 prefixes announced$/);
  // The FRRConfigurations a speaker refused: from its ConfigurationState, as the status file has them.
  assert.deepEqual(c.speakers.find((x) => x.node === 'n1')?.frrConfigurationProblems, [refused]);
  assert.equal(line(fromCluster, 'refused:'), line(fromFolder, 'refused:'));
});
