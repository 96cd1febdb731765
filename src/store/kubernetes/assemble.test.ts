// Objects as the API holds them → snapshots: one bad object is one error naming it; a refused
// configuration keeps the last good one with the current Services; Secrets count only when a
// BGPPeer references them; the status is read back from the Services and pools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultResolver } from '../files/loader.ts';
import { type ObjectsByKind, SnapshotAssembler } from './assemble.ts';

const ns = 'metallb-system';
let rv = 1;
const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), resourceVersion: String(rv++), uid: `uid-${name}` });
const pool = (name: string, addresses: string[]) => ({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: meta(name, ns), spec: { addresses } });
const service = (name: string, ip?: string, pool?: string) => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: { ...meta(name, 'default'), ...(pool ? { annotations: { 'metallb.io/ip-allocated-from-pool': pool } } : {}) },
  spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP' }] },
  status: ip ? { loadBalancer: { ingress: [{ ip }] } } : {},
});
const objects = (o: Partial<ObjectsByKind>): ObjectsByKind => ({ config: [], secrets: [], namespaces: [], services: [], endpointSlices: [], nodes: [], ...o });

test('a valid configuration gives a snapshot; the status is read back from Services and pools', () => {
  const a = new SnapshotAssembler(defaultResolver, ns);
  const p = { ...pool('a', ['10.0.0.0/24']), status: { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 255, availableIPv6: 0 } };
  const r = a.assemble(objects({ config: [p], services: [service('web', '10.0.0.1', 'a'), service('new')] }));
  assert.equal(r.kind, 'snapshot');
  if (r.kind !== 'snapshot') return;
  assert.equal(r.snapshot.config.pools.length, 1);
  assert.deepEqual(r.snapshot.status.services, { 'default/web': { ips: ['10.0.0.1'], pool: 'a' } });
  assert.deepEqual(r.snapshot.status.pools.a, { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 255, availableIPv6: 0 });
  assert.equal(r.snapshot.services.length, 2);
});

test('one bad object: one error naming it; the last good configuration stays, with the current Services', () => {
  const a = new SnapshotAssembler(defaultResolver, ns);
  const good = pool('a', ['10.0.0.0/24']);
  const first = a.assemble(objects({ config: [good] }));
  assert.equal(first.kind, 'snapshot');
  const bad = pool('b', ['not-an-address']);
  const r = a.assemble(objects({ config: [good, bad], services: [service('web')] }));
  assert.equal(r.kind, 'rejected');
  if (r.kind !== 'rejected') return;
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 1);
  assert.deepEqual(errors[0]!.object, { kind: 'IPAddressPool', namespace: ns, name: 'b' });
  assert.equal(errors[0]!.path, 'spec.addresses[0]');
  assert.ok(r.snapshot, 'the last good configuration still serves the Services');
  assert.equal(r.snapshot.config.pools.length, 1);
  assert.equal(r.snapshot.services.length, 1);
  // Fixed: accepted again.
  assert.equal(a.assemble(objects({ config: [good] })).kind, 'snapshot');
});

test('no valid configuration ever: rejected without a snapshot', () => {
  const a = new SnapshotAssembler(defaultResolver, ns);
  const r = a.assemble(objects({ config: [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.0.0/25'])] }));
  assert.equal(r.kind, 'rejected');
  assert.equal(r.kind === 'rejected' ? r.snapshot : 'x', undefined);
});

test('Secrets reach the configuration only when a BGPPeer references them', () => {
  const a = new SnapshotAssembler(defaultResolver, ns);
  const peer = { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: meta('p', ns), spec: { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', passwordSecret: { name: 'pw' } } };
  const secret = (name: string) => ({ metadata: meta(name, ns), type: 'kubernetes.io/basic-auth', data: { password: Buffer.from('s3cret').toString('base64') } });
  const r = a.assemble(objects({ config: [pool('a', ['10.0.0.0/24']), peer], secrets: [secret('pw'), secret('other')] }));
  assert.equal(r.kind, 'snapshot');
  if (r.kind !== 'snapshot') return;
  assert.equal(r.snapshot.config.peers[0]!.password?.value, 's3cret');
  assert.deepEqual(r.snapshot.objects.filter((o) => o.object.kind === 'Secret').map((o) => o.object.metadata.name), ['pw']);
  // Without the Secret the peer is invalid (transient in a cluster: ConfigurationState says so).
  assert.equal(a.assemble(objects({ config: [pool('a', ['10.0.0.0/24']), peer], secrets: [secret('other')] })).kind, 'rejected');
});

test('a v1beta1 BGPPeer as the API may hand it over is read as v1beta2', () => {
  const a = new SnapshotAssembler(defaultResolver, ns);
  const peer = { apiVersion: 'metallb.io/v1beta1', kind: 'BGPPeer', metadata: meta('p', ns), spec: { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', holdTime: '9s' } };
  const r = a.assemble(objects({ config: [pool('a', ['10.0.0.0/24']), peer] }));
  assert.equal(r.kind, 'snapshot');
});

test('a pool status write (new resourceVersion, same generation) keeps the resolved Config; a spec or label change does not', () => {
  const a = new SnapshotAssembler(defaultResolver, ns);
  const p = { ...pool('a', ['10.0.0.0/24']), metadata: { ...meta('a', ns), generation: 1 } };
  const config = (o: Record<string, unknown>) => { const r = a.assemble(objects({ config: [o] })); assert.equal(r.kind, 'snapshot'); return r.kind === 'snapshot' ? r.snapshot.config : undefined; };
  const first = config(p);
  // The controller wrote the pool's usage: the apiserver bumps resourceVersion, not generation.
  const statusWritten = { ...p, metadata: { ...p.metadata, resourceVersion: String(rv++) }, status: { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 255, availableIPv6: 0 } };
  assert.equal(config(statusWritten), first, 'same Config object: consumers keep their incremental state');
  const labelled = { ...statusWritten, metadata: { ...statusWritten.metadata, resourceVersion: String(rv++), labels: { tier: 'front' } } };
  assert.notEqual(config(labelled), first, 'labels select pools: a new resolution');
  const edited = { ...labelled, metadata: { ...labelled.metadata, resourceVersion: String(rv++), generation: 2 }, spec: { addresses: ['10.0.1.0/24'] } };
  const after = config(edited);
  assert.notEqual(after, first);
  assert.equal(after?.pools[0]?.ranges.length, 1);
});
