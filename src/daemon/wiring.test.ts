import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../api/resources.ts';
import type { Config } from '../config/types.ts';
import { apiLoader, defaultResolver } from '../store/files/loader.ts';
import { withIngress } from '../store/store.ts';
import { EventEmitter } from 'node:events';
import type { BfdManager } from '../bfd/manager.ts';
import { silentLogger } from '../observe/log.ts';
import type { BfdStateEvent } from './engines.ts';
import { BfdAdapter, makeAllocate } from './wiring.ts';

async function configOf(yaml: string): Promise<Config> {
  const loaded = await apiLoader('pools.yaml', yaml);
  const r = defaultResolver(loaded.objects, {});
  assert.ok(r.config, JSON.stringify(r.diagnostics));
  return r.config;
}

const svc = (name: string, extra: Partial<Service['spec']> = {}): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }], ...extra },
});

const twoAddresses = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: tiny, namespace: metallb-system }
spec: { addresses: [192.0.2.10-192.0.2.11] }
`;

describe('makeAllocate (the allocator over snapshots)', () => {
  it('gives each new Service its own address, keeps the others, and reports pool usage', async () => {
    const config = await configOf(twoAddresses);
    const allocate = makeAllocate();
    const a = allocate(config, () => [svc('a')]);
    assert.deepEqual(a.services['default/a'], { ips: ['192.0.2.10'], pool: 'tiny' });
    // next snapshot: a carries its IP (as the store merges it), b is new
    const b = allocate(config, () => [withIngress(svc('a'), ['192.0.2.10']), svc('b')]);
    assert.deepEqual(b.services['default/a']?.ips, ['192.0.2.10']);
    assert.deepEqual(b.services['default/b']?.ips, ['192.0.2.11']);
    assert.equal(b.pools.tiny?.assignedIPv4, 2);
    assert.ok(b.events.some((e) => e.object === 'default/b' && e.reason === 'IPAllocated'));
  });

  it('a deleted Service frees its address for a pending one', async () => {
    const config = await configOf(twoAddresses);
    const allocate = makeAllocate();
    allocate(config, () => [svc('a'), svc('b'), svc('c')]);
    const full = allocate(config, () => [withIngress(svc('a'), ['192.0.2.10']), withIngress(svc('b'), ['192.0.2.11']), svc('c')]);
    assert.equal(full.services['default/c'], undefined, 'no address left for c');
    const after = allocate(config, () => [withIngress(svc('b'), ['192.0.2.11']), svc('c')]);
    assert.deepEqual(after.services['default/c']?.ips, ['192.0.2.10']);
    assert.equal(after.services['default/a'], undefined);
  });

  it('a restart (fresh allocator) keeps every Service on the address it carries', async () => {
    const config = await configOf(twoAddresses);
    const r = makeAllocate()(config, () => [svc('new'), withIngress(svc('old'), ['192.0.2.11'])]);
    assert.deepEqual(r.services['default/old']?.ips, ['192.0.2.11']);
    assert.deepEqual(r.services['default/new']?.ips, ['192.0.2.10']);
  });

  it('a Service written without a cluster IP still gets one of its family', async () => {
    const config = await configOf(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: v6, namespace: metallb-system }
spec: { addresses: [2001:db8::/126] }
`);
    const r = makeAllocate()(config, () => [svc('six', { ipFamilies: ['IPv6'] })]);
    assert.deepEqual(r.services['default/six']?.ips, ['2001:db8::']);
  });
});

describe('BfdAdapter (bfd/ events for the speaker role)', () => {
  it('Down for every Up→Down of the session, reported Up or not, with the damper verdict; Up only when reported', async () => {
    const m = new EventEmitter() as EventEmitter & { sessionState(id: string): { damped: boolean } | undefined };
    let damped = false;
    m.sessionState = () => ({ damped });
    const adapter = new BfdAdapter(m as unknown as BfdManager, silentLogger());
    const seen: BfdStateEvent[] = [];
    adapter.on('state', (e: BfdStateEvent) => seen.push(e));
    const flush = () => new Promise((r) => setImmediate(r));
    // Up while damped: no 'up' from the manager, yet the following Down must come through.
    m.emit('state', { id: 'r1', from: 'Init', to: 'Up', diag: 'None' });
    m.emit('state', { id: 'r1', from: 'Up', to: 'Down', diag: 'ControlDetectionTimeExpired' });
    damped = true; // the manager records the flap right after its 'state' event
    await flush();
    assert.deepEqual(seen, [{ id: 'r1', state: 'Down', diagnostic: 'ControlDetectionTimeExpired', damped: true }]);
    // A reported Up, then its Down: the manager's own 'down' is not a second Down.
    damped = false;
    m.emit('up', { id: 'r1', at: 0, delayedMs: 0 });
    m.emit('state', { id: 'r1', from: 'Up', to: 'Down', diag: 'NeighborSignaledDown' });
    m.emit('down', { id: 'r1', diag: 'NeighborSignaledDown', at: 0 });
    // Removal (Up → AdminDown) is not a failure.
    m.emit('state', { id: 'r1', from: 'Up', to: 'AdminDown', diag: 'AdministrativelyDown' });
    await flush();
    assert.deepEqual(seen.slice(1), [{ id: 'r1', state: 'Up' }, { id: 'r1', state: 'Down', diagnostic: 'NeighborSignaledDown', damped: false }]);
  });
});

describe('makeAllocate: requested addresses (issue #9)', () => {
  it('a snapshot adding a Service that takes any address and one that requests the first one: each gets its own', async () => {
    const allocate = makeAllocate();
    const config = await configOf(twoAddresses);
    allocate(config, () => []);
    const r = allocate(config, () => [svc('a-any'), svc('b-asks', { loadBalancerIP: '192.0.2.10' })]);
    assert.deepEqual(r.services['default/a-any']?.ips, ['192.0.2.11']);
    assert.deepEqual(r.services['default/b-asks']?.ips, ['192.0.2.10']);
  });
});
