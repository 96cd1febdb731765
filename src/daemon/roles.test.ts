import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import type { PeerConfig, PeerStatus, Route } from '../bgp/speaker.ts';
import type { Service } from '../api/resources.ts';
import { type Config, emptyConfig, type Peer, bfdDefaults } from '../config/types.ts';
import { formatIp, parseIp } from '../net/ip.ts';
import { formatPrefix, parsePrefix, type Prefix } from '../net/prefix.ts';
import { createLogger, silentLogger } from '../observe/log.ts';
import { planAnnouncements } from '../speaker/plan.ts';
import { ad, config as fixtureConfig, pool as fixturePool, service, slice } from '../../test/fixtures/speaker/builders.ts';
import type { AnnouncementPlan } from '../speaker/plan-types.ts';
import type { ControllerStatus, Snapshot, SpeakerStatus, SpeakerStatusWrite, Store } from '../store/store.ts';
import { emptyControllerStatus, wholeSpeakerStatus } from '../store/store.ts';
import { ControllerRole } from './controller.ts';
import type { AllocationResult, BfdEngine, BfdSessionSpec, BgpEngine, PlanInput } from './engines.ts';
import { crc32, peerConfigFor } from './peer-config.ts';
import { SpeakerRole } from './speaker.ts';
import { IncrementalPlan } from '../speaker/plan-incremental.ts';

class FakeStore implements Store {
  controller: ControllerStatus[] = [];
  speaker: SpeakerStatus[] = [];
  start(): Promise<Snapshot> { throw new Error('unused'); }
  current(): Snapshot | undefined { return undefined; }
  writeControllerStatus(s: ControllerStatus): Promise<void> { this.controller.push(s); return Promise.resolve(); }
  writeSpeakerStatus(s: SpeakerStatusWrite): Promise<void> { this.speaker.push(wholeSpeakerStatus(s)); return Promise.resolve(); }
  readSpeakerStatuses(): Promise<SpeakerStatus[]> { return Promise.resolve(this.speaker); }
  close(): Promise<void> { return Promise.resolve(); }
}

class FakeBgp extends EventEmitter implements BgpEngine {
  calls: string[] = [];
  routes = new Map<string, readonly Route[]>();
  closedGraceful: boolean | undefined;
  start(): Promise<void> { return Promise.resolve(); }
  addPeer(c: PeerConfig): void { this.calls.push(`add ${c.id}`); }
  updatePeer(c: PeerConfig): void { this.calls.push(`update ${c.id}`); }
  removePeer(id: string): Promise<void> { this.calls.push(`remove ${id}`); return Promise.resolve(); }
  resetPeer(id: string, r: { subcode: number; holdDown?: boolean }): void { this.calls.push(`reset ${id} 6/${r.subcode}${r.holdDown ? ' hold' : ''}`); }
  refreshPeer(id: string): boolean { this.calls.push(`refresh ${id}`); return false; }
  releasePeer(id: string): void { this.calls.push(`release ${id}`); }
  setRoutes(id: string, r: readonly Route[]): void { this.calls.push(`routes ${id} ${r.length}`); this.routes.set(id, r); }
  updateRoutes(id: string, a: readonly Route[], w: readonly Prefix[]): void {
    this.calls.push(`update routes ${id} +${a.length} -${w.length}`);
    const m = new Map((this.routes.get(id) ?? []).map((r) => [formatPrefix(r.prefix), r]));
    for (const p of w) m.delete(formatPrefix(p));
    for (const r of a) m.set(formatPrefix(r.prefix), r);
    this.routes.set(id, [...m.values()]);
  }
  status: PeerStatus | undefined;
  peerState(): PeerStatus | undefined { return this.status; }
  close(opts?: { graceful?: boolean }): Promise<void> { this.closedGraceful = opts?.graceful ?? false; return Promise.resolve(); }
}

class FakeBfd extends EventEmitter implements BfdEngine {
  sessions = new Map<string, BfdSessionSpec>();
  isDamped = false;
  damped(): boolean { return this.isDamped; }
  addSession(s: BfdSessionSpec): void { this.sessions.set(s.id, s); }
  removeSession(id: string): void { this.sessions.delete(id); }
  updateProfile(): void {}
  close(): Promise<void> { return Promise.resolve(); }
}

const peer = (name: string, address: string, extra: Partial<Peer> = {}): Peer => ({
  name, namespace: 'metallb-system', myAsn: 64500, peerAsn: 64501, address: parseIp(address)!, port: 179, nodeSelectors: [],
  gracefulRestart: { enabled: false, restartTimeMs: 120_000 }, ebgpMultiHop: false, vrf: '', disableMP: false, dualStackAddressFamily: false, ...extra,
});
const route = (p: string, localPref?: number): Route => ({ prefix: parsePrefix(p)!.prefix, attributes: { communities: [], ...(localPref !== undefined ? { localPref } : {}) } });

function snapshot(config: Config, generation = 1): Snapshot {
  return { generation, config, objects: [], services: [], endpointSlices: [], nodes: [], namespaces: [], diagnostics: [], status: emptyControllerStatus };
}

describe('peerConfigFor', () => {
  it('applies MetalLB defaults: hold 90 s, keepalive 30 s, router ID from the node', () => {
    const m = peerConfigFor(peer('r1', '10.0.0.1'), [4], { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.9' }] } });
    assert.ok('config' in m);
    assert.equal(m.config.holdTimeSeconds, 90);
    assert.equal(m.config.keepaliveSeconds, 30);
    assert.deepEqual(m.config.routerId, parseIp('10.0.0.9'));
    assert.deepEqual(m.config.families, ['ipv4']);
  });
  it('maps hold time, multi-hop, password and graceful restart', () => {
    const m = peerConfigFor(peer('r1', '10.0.0.1', { holdTimeMs: 9000, ebgpMultiHop: true, password: { source: 'inline', value: 's3' }, gracefulRestart: { enabled: true, restartTimeMs: 60_000 }, routerId: parseIp('1.1.1.1')! }), [4], undefined);
    assert.ok('config' in m);
    assert.equal(m.config.holdTimeSeconds, 9);
    assert.equal(m.config.keepaliveSeconds, 3);
    assert.equal(m.config.ebgpMultiHop, true);
    assert.equal(m.config.password, 's3');
    assert.deepEqual(m.config.gracefulRestart, { restartTimeSeconds: 60 });
  });
  it('skips a peer with no router ID to use, saying why', () => {
    const m = peerConfigFor(peer('r1', '10.0.0.1'), [4], undefined);
    assert.ok('unsupported' in m && /router ID/.test(m.unsupported));
  });
  it('an IPv6-only node gets MetalLB\'s router ID: the little-endian CRC-32 of its name', () => {
    assert.equal(crc32('123456789'), 0xcbf43926);
    const m = peerConfigFor(peer('r1', '10.0.0.1'), [4], { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: 'fd00::9' }] } });
    assert.ok('config' in m);
    assert.equal(formatIp(m.config.routerId), '236.84.121.235');
  });
  it('dynamicASN: no peer ASN, the kind goes to bgp/', () => {
    for (const kind of ['internal', 'external'] as const) {
      const m = peerConfigFor(peer('r1', '10.0.0.1', { peerAsn: undefined, dynamicAsn: kind }), [4], undefined, parseIp('192.0.2.1'));
      assert.ok('config' in m);
      assert.equal(m.config.peerAsn, undefined);
      assert.equal(m.config.dynamicAsn, kind);
    }
  });
  it('unnumbered peers are unsupported, and the message says no session runs', () => {
    const m = peerConfigFor({ ...peer('r1', '10.0.0.1'), address: undefined, interface: 'eth1' }, [4], undefined, parseIp('192.0.2.1'));
    assert.ok('unsupported' in m && /unnumbered.*not supported.*no session/.test(m.unsupported), JSON.stringify(m));
  });
});

describe('SpeakerRole', () => {
  const profile = { name: 'fast', ...bfdDefaults };
  const config: Config = { ...emptyConfig, peers: [peer('r1', '10.0.0.1', { bfdProfile: 'fast' }), peer('r2', '10.0.0.2')], bfdProfiles: [profile] };
  function setup(plans: ((i: PlanInput) => AnnouncementPlan)[]) {
    const bgp = new FakeBgp();
    const bfd = new FakeBfd();
    const store = new FakeStore();
    let n = 0;
    const role = new SpeakerRole({ store, nodeName: 'n1', plan: (i) => plans[Math.min(n++, plans.length - 1)]!(i), bgp, bfd, logger: silentLogger(), hostIpv4: parseIp('192.0.2.1')!, statusEveryMs: 1 });
    return { bgp, bfd, store, role };
  }
  const planOf = (routes: Record<string, Route[]>) => (i: PlanInput): AnnouncementPlan => ({
    node: { name: i.nodeName, found: true, networkUnavailable: false, excludedFromLoadBalancers: false },
    peers: i.config.peers.filter((p) => p.name in routes).map((p) => ({ peer: p, families: [4], routes: routes[p.name]! })),
    peersNotOnThisNode: [], services: [],
  });

  it('adds peers and BFD sessions, hands over routes, and diffs on the next snapshot', () => {
    const { bgp, bfd, role } = setup([planOf({ r1: [route('10.9.0.1/32')], r2: [route('10.9.0.1/32')] }), planOf({ r1: [route('10.9.0.1/32'), route('10.9.0.2/32')] })]);
    role.onSnapshot(snapshot(config));
    assert.deepEqual(bgp.calls, ['add r1', 'routes r1 1', 'add r2', 'routes r2 1']);
    assert.deepEqual([...bfd.sessions.keys()], ['r1']);
    assert.equal(bfd.sessions.get('r1')?.peerAddress, '10.0.0.1');
    bgp.calls = [];
    role.onSnapshot(snapshot(config, 2));
    assert.deepEqual(bgp.calls, ['routes r1 2', 'remove r2']);
  });

  it('leaves a peer alone when its routes did not change', () => {
    const { bgp, role } = setup([planOf({ r2: [route('10.9.0.1/32', 100)] })]);
    role.onSnapshot(snapshot(config));
    bgp.calls = [];
    role.onSnapshot(snapshot(config, 2));
    assert.deepEqual(bgp.calls, []);
  });

  it('resets the BGP session with Cease / BFD Down on every BFD Down, reported Up or not', () => {
    const { bgp, bfd, role } = setup([planOf({ r1: [route('10.9.0.1/32')] })]);
    role.onSnapshot(snapshot(config));
    bgp.calls = [];
    // The adapter emits Down only for an Up→Down of the session itself: here the Up was held back
    // by the damper (never reported), and BGP must be reset all the same.
    bfd.emit('state', { id: 'r1', state: 'Down', diagnostic: 'ControlDetectionTimeExpired' });
    assert.deepEqual(bgp.calls, ['reset r1 6/10']);
    bfd.emit('state', { id: 'r1', state: 'Up' });
    bfd.emit('state', { id: 'r1', state: 'Down', diagnostic: 'ControlDetectionTimeExpired' });
    assert.deepEqual(bgp.calls, ['reset r1 6/10', 'reset r1 6/10'], 'no remove/add: configuration and routes stay in bgp/');
    bfd.emit('state', { id: 'r2', state: 'Down' });
    assert.equal(bgp.calls.length, 2, 'a peer without BFD is left alone');
  });

  it('a Down that leaves BFD damped holds BGP down until BFD is reported Up', async () => {
    const { bgp, bfd, role } = setup([planOf({ r1: [route('10.9.0.1/32')] })]);
    role.onSnapshot(snapshot(config));
    bgp.calls = [];
    bfd.isDamped = true;
    bfd.emit('state', { id: 'r1', state: 'Down', damped: true });
    bfd.emit('state', { id: 'r1', state: 'Down', damped: true }); // another flap while held: one hold
    assert.deepEqual(bgp.calls, ['reset r1 6/10 hold', 'reset r1 6/10 hold']);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(bgp.calls.filter((c) => c.startsWith('release')), [], 'still damped: held');
    bfd.emit('state', { id: 'r1', state: 'Up' });
    assert.deepEqual(bgp.calls.at(-1), 'release r1');
    await role.stop();
  });

  it('a hold ends when the damping decays without an Up (the path stayed dark)', async () => {
    const bgp = new FakeBgp();
    const bfd = new FakeBfd();
    const role = new SpeakerRole({ store: new FakeStore(), nodeName: 'n1', plan: planOf({ r1: [route('10.9.0.1/32')] }), bgp, bfd, logger: silentLogger(), hostIpv4: parseIp('192.0.2.1')!, statusEveryMs: 1, dampingCheckMs: 5 });
    role.onSnapshot(snapshot(config));
    bfd.isDamped = true;
    bfd.emit('state', { id: 'r1', state: 'Down', damped: true });
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(!bgp.calls.includes('release r1'));
    bfd.isDamped = false;
    const end = Date.now() + 2000;
    while (!bgp.calls.includes('release r1') && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.equal(bgp.calls.filter((c) => c === 'release r1').length, 1);
    await role.stop();
  });

  it('stops by withdrawing (no graceful restart) and writes an empty speaker status', async () => {
    const { bgp, store, role } = setup([planOf({ r1: [route('10.9.0.1/32')] })]);
    role.onSnapshot(snapshot(config));
    await role.stop();
    assert.equal(bgp.closedGraceful, false);
    assert.deepEqual(store.speaker.at(-1)?.peers, {});
  });

  it('stops gracefully when graceful restart is configured', async () => {
    const gr: Config = { ...config, peers: [peer('r1', '10.0.0.1', { gracefulRestart: { enabled: true, restartTimeMs: 120_000 } })] };
    const { bgp, role } = setup([planOf({ r1: [route('10.9.0.1/32')] })]);
    role.onSnapshot(snapshot(gr));
    await role.stop();
    assert.equal(bgp.closedGraceful, true);
  });

  it('reports sessions and prefixes in its status', async () => {
    const { bgp, store, role } = setup([planOf({ r1: [route('10.9.0.1/32')] })]);
    role.onSnapshot(snapshot(config));
    bgp.emit('state', { peerId: 'r1', from: 'OpenConfirm', to: 'Established', reason: 'test' });
    await new Promise((r) => setTimeout(r, 20));
    const s = store.speaker.at(-1);
    assert.equal(s?.peers.r1?.state, 'Established');
    assert.deepEqual(s?.peers.r1?.prefixes, ['10.9.0.1/32']);
    await role.stop();
  });
});

describe('SpeakerRole: a peer refusing our UPDATE', () => {
  it('is logged at warn and shown in status with the Services and BGPAdvertisements behind the prefixes', async () => {
    const prefix = parsePrefix('10.9.0.1/32')!.prefix;
    const plan = (i: PlanInput): AnnouncementPlan => ({
      node: { name: i.nodeName, found: true, networkUnavailable: false, excludedFromLoadBalancers: false },
      peers: i.config.peers.map((p) => ({ peer: p, families: [4], routes: [{ prefix, attributes: { communities: [], asPrepend: { count: 2, asn: 65099 } } }] })),
      peersNotOnThisNode: [],
      services: [{ namespace: 'default', name: 'web', ips: ['10.9.0.1'], entries: [{ kind: 'announced', ip: '10.9.0.1', prefix, peers: ['r1'], advertisements: ['prepend'], message: '' }] }],
    });
    const lines: string[] = [];
    const bgp = new FakeBgp();
    const store = new FakeStore();
    const role = new SpeakerRole({ store, nodeName: 'n1', plan, bgp, logger: createLogger({}, { format: 'json', write: (l) => { lines.push(l); } }), hostIpv4: parseIp('192.0.2.1')!, statusEveryMs: 1 });
    role.onSnapshot(snapshot({ ...emptyConfig, peers: [peer('r1', '10.0.0.1')] }));
    const refused = { notification: 'UPDATE Message Error / Malformed AS_PATH', certain: false, sets: [{ attributes: 'as-path 64500 65099 65099', prefixes: ['10.9.0.1/32'], prefixCount: 1 }] };
    bgp.status = { state: 'Idle', sent: { open: 1, update: 1, notification: 0, keepalive: 1, routeRefresh: 0 }, received: { open: 1, update: 0, notification: 1, keepalive: 1, routeRefresh: 0 }, desiredRoutes: 1, advertisedRoutes: 0, flaps: 2, retryInMs: 4000, refusedUpdate: refused };
    bgp.emit('refused', { peerId: 'r1', refused, flaps: 2, retryInMs: 4000 });
    const warn = lines.map((l) => JSON.parse(l) as { level: number; msg: string; peer?: string }).find((l) => l.level === 40);
    assert.ok(warn, 'a warning');
    assert.equal(warn.peer, 'r1');
    assert.match(warn.msg, /10\.9\.0\.1\/32 \[as-path 64500 65099 65099\].*Services default\/web, BGPAdvertisements prepend; next attempt in 4 s/);
    await new Promise((r) => setTimeout(r, 20));
    assert.match(store.speaker.at(-1)?.peers.r1?.lastError ?? '', /Malformed AS_PATH \(Services default\/web\); 2 flaps, next attempt in 4 s/);
    await role.stop();
  });
});

describe('SpeakerRole: connection churn', () => {
  it('logs the same failing transition once a minute, but every Established and every loss of it', async () => {
    const lines: string[] = [];
    const bgp = new FakeBgp();
    const role = new SpeakerRole({ store: new FakeStore(), nodeName: 'n1', plan: (i) => ({ node: { name: i.nodeName, found: true, networkUnavailable: false, excludedFromLoadBalancers: false }, peers: [], peersNotOnThisNode: [], services: [] }), bgp, logger: createLogger({}, { format: 'json', write: (l) => { lines.push(l); } }), statusEveryMs: 1 });
    for (let i = 0; i < 10; i++) {
      bgp.emit('state', { peerId: 'r1', from: 'Active', to: 'OpenSent', reason: 'TcpConnectionConfirmed' });
      bgp.emit('state', { peerId: 'r1', from: 'OpenSent', to: 'Active', reason: 'connection lost: closed by peer' });
    }
    bgp.emit('state', { peerId: 'r1', from: 'OpenConfirm', to: 'Established', reason: 'session established' });
    bgp.emit('state', { peerId: 'r1', from: 'Established', to: 'Idle', reason: 'NOTIFICATION received' });
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg).filter((m) => m.startsWith('BGP session'));
    assert.deepEqual(msgs, ['BGP session OpenSent', 'BGP session Active', 'BGP session Established', 'BGP session Idle']);
    await role.stop();
  });
});

describe('ControllerRole', () => {
  it('writes assignments once, and not again when nothing changed', async () => {
    const store = new FakeStore();
    const result = { services: { 'default/web': { ips: ['10.9.0.1'], pool: 'blue' } }, pools: {}, events: [{ type: 'Normal' as const, object: 'default/web', reason: 'IPAllocated', message: 'Assigned IP ["10.9.0.1"]' }] };
    const role = new ControllerRole({ store, allocate: () => result, logger: silentLogger(), now: () => new Date(0) });
    await role.onSnapshot(snapshot(emptyConfig));
    assert.equal(store.controller.length, 1);
    assert.deepEqual(store.controller[0]?.services['default/web']?.ips, ['10.9.0.1']);
    assert.equal(store.controller[0]?.events.length, 1);
    await role.onSnapshot({ ...snapshot(emptyConfig, 2), status: store.controller[0] ?? emptyControllerStatus });
    assert.equal(store.controller.length, 1, 'a repeated event and the same assignments write nothing');
  });

  it('a burst of events loses none: all reach the store (coalesced per object and reason), beyond the 200 the status keeps', async () => {
    const store = new FakeStore();
    const fast = store.writeControllerStatus.bind(store);
    store.writeControllerStatus = async (st) => { await new Promise((r) => setTimeout(r, 20)); return fast(st); };
    type Ev = { type: 'Normal' | 'Warning'; object: string; reason: string; message: string };
    let events: Ev[] = [];
    let services: Record<string, { ips: string[] }> = {};
    const role = new ControllerRole({ store, allocate: () => ({ services, pools: {}, events }), logger: silentLogger() });
    // 1000 Services allocated at once, then (while that write is under way) 300 of them fail and
    // two more runs change their messages: only the newest per object and reason is worth posting.
    services = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`apps/s${i}`, { ips: [`10.9.${i >> 8}.${i & 255}`] }]));
    events = Object.keys(services).map((object) => ({ type: 'Normal', object, reason: 'IPAllocated', message: `Assigned IP ["${services[object]!.ips[0]}"]` }));
    void role.onSnapshot(snapshot(emptyConfig, 1));
    for (const round of [1, 2, 3]) {
      events = Array.from({ length: 300 }, (_, i) => ({ type: 'Warning', object: `apps/s${i}`, reason: 'AllocationFailed', message: `round ${round}` }));
      void role.onSnapshot(snapshot(emptyConfig, 1 + round));
    }
    await role.flush();
    const posted = store.controller.flatMap((st) => st.newEvents ?? []);
    assert.equal(posted.filter((e) => e.reason === 'IPAllocated').length, 1000);
    const failed = posted.filter((e) => e.reason === 'AllocationFailed');
    assert.equal(new Set(failed.map((e) => e.object)).size, 300);
    const lastOf = new Map(failed.map((e) => [e.object, e.message]));
    assert.ok([...lastOf.values()].every((m) => m === 'round 3'), 'each object\'s newest message is posted last');
    assert.ok(failed.length < 900, `rounds queued behind one write are coalesced (${failed.length} posted)`);
    assert.ok(store.controller.every((st) => st.events.length <= 200), 'the status itself keeps only the latest 200');
    // The same events again (the allocator repeats itself): nothing new, even for the 800 the status no longer lists.
    const writes = store.controller.length;
    await role.onSnapshot(snapshot(emptyConfig, 5));
    assert.equal(store.controller.length, writes);
  });

  it('the snapshot handed to an in-process speaker does not keep the allocation result (its events) alive', async () => {
    // The speaker and layer 2 keep the last snapshot until the next one: at 50,000 Services the
    // start's result (50,000 events, the changed Map) was ~9 MiB kept for nothing.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let kept: Snapshot | undefined;
    let ref: WeakRef<object> | undefined;
    const svc: Snapshot['services'][number] = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'apps' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } };
    const role = new ControllerRole({
      store: new FakeStore(), logger: silentLogger(), onAllocated: (s) => { kept = s; },
      allocate: () => {
        const r = { services: { 'apps/web': { ips: ['10.9.0.1'], pool: 'blue' } }, pools: {}, events: [{ type: 'Normal' as const, object: 'apps/web', reason: 'IPAllocated', message: 'Assigned IP ["10.9.0.1"]' }] };
        ref = new WeakRef(r);
        return r;
      },
    });
    await role.onSnapshot({ ...snapshot(emptyConfig), services: [svc] });
    await role.flush();
    await new Promise((r) => setImmediate(r)); // a WeakRef's target lives until the end of the job that made it
    gc();
    assert.ok(kept, 'the speaker got a snapshot');
    assert.equal(kept.services[0]?.status?.loadBalancer?.ingress?.[0]?.ip, '10.9.0.1');
    assert.equal(ref?.deref(), undefined, 'the allocation result was collected while the snapshot is kept');
  });

  it('a Service deleted and re-created gets its events again', async () => {
    const store = new FakeStore();
    const svc = (name: string): Snapshot['services'][number] => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'apps' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
    let present = true;
    const allocate = (): AllocationResult => present
      ? { services: { 'apps/web': { ips: ['10.9.0.1'] } }, pools: {}, events: [{ type: 'Normal' as const, object: 'apps/web', reason: 'IPAllocated', message: 'Assigned IP ["10.9.0.1"]' }] }
      : { services: {}, pools: {}, events: [] };
    const role = new ControllerRole({ store, allocate, logger: silentLogger() });
    await role.onSnapshot({ ...snapshot(emptyConfig, 1), services: [svc('web')] });
    present = false;
    await role.onSnapshot({ ...snapshot(emptyConfig, 2), services: [] });
    present = true;
    await role.onSnapshot({ ...snapshot(emptyConfig, 3), services: [svc('web')] });
    assert.equal(store.controller.flatMap((st) => st.newEvents ?? []).filter((e) => e.reason === 'IPAllocated').length, 2);
  });

  it('flush() waits for the newest status to be written (stop before exit: a restart reads it back)', async () => {
    const store = new FakeStore();
    const slow = store.writeControllerStatus.bind(store);
    store.writeControllerStatus = async (st) => { await new Promise((r) => setTimeout(r, 30)); return slow(st); };
    let n = 0;
    const allocate = (): { services: Record<string, { ips: string[] }>; pools: Record<string, never>; events: never[] } => ({ services: { 'default/web': { ips: [`10.9.0.${++n}`] } }, pools: {}, events: [] });
    const role = new ControllerRole({ store, allocate, logger: silentLogger() });
    void role.onSnapshot(snapshot(emptyConfig, 1));
    void role.onSnapshot(snapshot(emptyConfig, 2));
    void role.onSnapshot(snapshot(emptyConfig, 3));
    await role.flush();
    assert.deepEqual(store.controller[store.controller.length - 1]?.services['default/web']?.ips, ['10.9.0.3']);
  });

  it('refuses to allocate from a damaged status until the operator accepts the loss or every Service carries its IP', async () => {
    const lb = (name: string, ip?: string): Snapshot['services'][number] => ({
      apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
      ...(ip ? { status: { loadBalancer: { ingress: [{ ip }] } } } : {}),
    });
    const damaged = { ...emptyControllerStatus, damaged: 'status.yaml does not parse' };
    const calls: number[] = [];
    const allocate = (): { services: Record<string, never>; pools: Record<string, never>; events: never[] } => { calls.push(1); return { services: {}, pools: {}, events: [] }; };
    const store = new FakeStore();
    const role = new ControllerRole({ store, allocate, logger: silentLogger() });
    await role.onSnapshot({ ...snapshot(emptyConfig), services: [lb('web'), lb('api', '10.9.0.2')], status: damaged });
    assert.equal(calls.length, 0, 'nothing allocated');
    assert.equal(store.controller.length, 0, 'nothing written');
    await role.onSnapshot({ ...snapshot(emptyConfig, 2), services: [lb('web', '10.9.0.1'), lb('api', '10.9.0.2')], status: damaged });
    assert.equal(calls.length, 1, 'rebuilt from the IPs the Services carry');
    const accepting = new ControllerRole({ store: new FakeStore(), allocate, logger: silentLogger(), acceptLostState: true });
    await accepting.onSnapshot({ ...snapshot(emptyConfig), services: [lb('web')], status: damaged });
    assert.equal(calls.length, 2, 'the operator accepted the loss');
  });
});

describe('SpeakerRole: what the plan drops is logged', () => {
  it('a route dropped because advertisements disagree is logged at warn once, with the reason', async () => {
    const lines: string[] = [];
    const logger = createLogger({}, { format: 'json', level: 'warn', write: (l) => lines.push(l) });
    const cfg = fixtureConfig([fixturePool('p4', ['192.0.2.0/24'])], [peer('r1', '10.0.0.1')], [ad('x', { pools: ['p4'], med: 1 }), ad('y', { pools: ['p4'], med: 2 })]);
    const snap: Snapshot = { ...snapshot(cfg), services: [service('a', { ips: ['192.0.2.10'] })], endpointSlices: [slice('a', [{ node: 'n1' }])] };
    const role = new SpeakerRole({ store: new FakeStore(), nodeName: 'n1', plan: planAnnouncements, bgp: new FakeBgp(), bfd: new FakeBfd(), logger, hostIpv4: parseIp('192.0.2.1')!, statusEveryMs: 1 });
    role.onSnapshot(snap);
    role.onSnapshot({ ...snap, generation: 2 });
    const warns = lines.map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string }).filter((o) => o.reason !== undefined);
    assert.equal(warns.length, 1);
    assert.equal(warns[0]!.level, 40);
    assert.match(warns[0]!.reason!, /"x" \(for default\/a\) and "y" \(for default\/a\) would send 192\.0\.2\.10\/32 to peer "r1" with different values \(med 1 vs 2\)/);
    await role.stop();
  });

  it('planned one edit at a time, a conflict is logged at warn as a whole plan logs it, once while it lasts', async () => {
    const lines: string[] = [];
    const logger = createLogger({}, { format: 'json', level: 'warn', write: (l) => lines.push(l) });
    const cfg = fixtureConfig([fixturePool('p4', ['192.0.2.0/24'])], [peer('r1', '10.0.0.1')], [
      ad('x', { pools: ['p4'], med: 1 }), ad('y', { pools: ['p4'], med: 2, serviceSelectors: [{ tier: 'edge' }] }),
    ]);
    const role = new SpeakerRole({
      store: new FakeStore(), nodeName: 'n1', plan: planAnnouncements, incremental: (i) => new IncrementalPlan(i), bgp: new FakeBgp(), logger,
      hostIpv4: parseIp('192.0.2.1')!, statusEveryMs: 1, assumeLocalEndpoints: true,
    });
    const plain = service('a', { ips: ['192.0.2.10'] });
    role.onSnapshot({ ...snapshot(cfg, 1), services: [plain] });
    const warns = (): { level: number; reason?: string }[] => lines.map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string }).filter((o) => o.reason !== undefined);
    assert.equal(warns().length, 0);
    const edge = { ...plain, metadata: { ...plain.metadata, labels: { tier: 'edge' } } };
    role.onSnapshot({ ...snapshot(cfg, 2), services: [edge], delta: { from: 1, servicesOnly: true, upserted: [edge], deleted: [] } });
    assert.equal(warns().length, 1, lines.join('\n'));
    assert.equal(warns()[0]!.level, 40);
    assert.match(warns()[0]!.reason!, /med 1 vs 2/);
    const edge2 = { ...edge, metadata: { ...edge.metadata, annotations: { note: 'x' } } };
    role.onSnapshot({ ...snapshot(cfg, 3), services: [edge2], delta: { from: 2, servicesOnly: true, upserted: [edge2], deleted: [] } });
    assert.equal(warns().length, 1, 'not again while it lasts');
    role.onSnapshot({ ...snapshot(cfg, 4), services: [], delta: { from: 3, servicesOnly: true, upserted: [], deleted: ['default/a'] } });
    role.onSnapshot({ ...snapshot(cfg, 5), services: [edge], delta: { from: 4, servicesOnly: true, upserted: [edge], deleted: [] } });
    assert.equal(warns().length, 2, 'again once it came back');
    await role.stop();
  });
});

describe('SpeakerRole: status of layer-2 Services', () => {
  it('a Service of a pool only an L2Advertisement names is not listed as not announced by BGP', async () => {
    const base = fixtureConfig([fixturePool('p4', ['192.0.2.0/24']), fixturePool('lan', ['192.0.3.0/24'])], [peer('r1', '10.0.0.1')], [ad('all', { pools: ['p4'] })]);
    const cfg: Config = { ...base, l2Advertisements: [{ name: 'l2', pools: ['lan'], nodeSelectors: [], serviceSelectors: [], interfaces: [], preferredNodeSelectors: [] }] };
    const snap: Snapshot = {
      ...snapshot(cfg), services: [service('bgp', { ips: ['192.0.2.10'] }), service('l2', { ips: ['192.0.3.10'] }), service('nothing', { ips: ['192.0.2.11'] })],
      endpointSlices: [slice('bgp', [{ node: 'n1' }]), slice('l2', [{ node: 'n1' }])],
    };
    const role = new SpeakerRole({ store: new FakeStore(), nodeName: 'n1', plan: planAnnouncements, bgp: new FakeBgp(), bfd: new FakeBfd(), logger: silentLogger(), hostIpv4: parseIp('192.0.2.1')!, statusEveryMs: 1 });
    role.onSnapshot(snap);
    const st = role.status();
    assert.deepEqual(st.announced?.map((a) => a.service), ['default/bgp']);
    assert.deepEqual(st.notAnnounced.map((n) => n.service), ['default/nothing'], 'a BGP Service without endpoints is still reported');
    await role.stop();
  });
});

describe('SpeakerRole: incremental planning', () => {
  it('a snapshot whose delta follows the last one hands bgp/ only the changed routes, and ends where a whole plan would', async () => {
    const cfg = fixtureConfig([fixturePool('p4', ['192.0.2.0/24'])], [peer('r1', '10.0.0.1'), peer('r2', '10.0.0.2')], [ad('all', { pools: ['p4'] }), ad('agg', { pools: ['p4'], aggregationLength: 30, peers: ['r2'] })]);
    const a = service('a', { ips: ['192.0.2.1'] });
    const b = service('b', { ips: ['192.0.2.2'] });
    const c = service('c', { ips: ['192.0.2.9'] });
    const bgp = new FakeBgp();
    const role = new SpeakerRole({
      store: new FakeStore(), nodeName: 'n1', plan: planAnnouncements, incremental: (i) => new IncrementalPlan(i), bgp, logger: silentLogger(),
      hostIpv4: parseIp('192.0.2.254')!, statusEveryMs: 1, assumeLocalEndpoints: true,
    });
    role.onSnapshot({ ...snapshot(cfg, 1), services: [a, b] });
    const b2 = service('b', { ips: ['192.0.2.3'] });
    role.onSnapshot({ ...snapshot(cfg, 2), services: [b2, c], delta: { from: 1, servicesOnly: true, upserted: [b2, c], deleted: ['default/a'] } });
    assert.ok(bgp.calls.some((x) => x.startsWith('update routes')), bgp.calls.join('; '));
    const whole = planAnnouncements({ config: cfg, services: [b2, c], endpointSlices: [slice('b', [{ node: 'n1' }]), slice('c', [{ node: 'n1' }])], nodes: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } }, spec: {} }], nodeName: 'n1' });
    for (const pp of whole.peers) {
      const id = [...bgp.routes.keys()].find((k) => k.includes(pp.peer.name)) ?? pp.peer.name;
      assert.deepEqual((bgp.routes.get(id) ?? []).map((r) => formatPrefix(r.prefix)).sort(), pp.routes.map((r) => formatPrefix(r.prefix)).sort(), `routes to ${pp.peer.name}`);
    }
    // A delta that does not follow the last snapshot seen is not trusted: planned whole.
    const before = bgp.calls.length;
    role.onSnapshot({ ...snapshot(cfg, 5), services: [c], delta: { from: 4, servicesOnly: true, upserted: [], deleted: ['default/b'] } });
    assert.ok(bgp.calls.slice(before).some((x) => x.startsWith('routes ')), 'whole routes handed over');
    await role.stop();
  });

  it('EndpointSlice changes named in the delta re-plan only their Service: an ETP Local Service is announced when its endpoint comes to this node, withdrawn when it leaves', async () => {
    const cfg = fixtureConfig([fixturePool('p4', ['192.0.2.0/24'])], [peer('r1', '10.0.0.1')], [ad('all', { pools: ['p4'] })]);
    const local = service('web', { ips: ['192.0.2.7'], etp: 'Local' });
    const other = service('other', { ips: ['192.0.2.8'] });
    const bgp = new FakeBgp();
    const role = new SpeakerRole({
      store: new FakeStore(), nodeName: 'n1', plan: planAnnouncements, incremental: (i) => new IncrementalPlan(i), bgp, logger: silentLogger(),
      hostIpv4: parseIp('192.0.2.254')!, statusEveryMs: 1,
    });
    const prefixes = () => [...bgp.routes.values()].flat().map((r) => formatPrefix(r.prefix)).sort();
    const elsewhere = slice('web', [{ node: 'n2' }]);
    role.onSnapshot({ ...snapshot(cfg, 1), services: [local, other], endpointSlices: [elsewhere, slice('other', [{ node: 'n1' }])] });
    assert.deepEqual(prefixes(), ['192.0.2.8/32']);
    const here = slice('web', [{ node: 'n1' }]);
    const before = bgp.calls.length;
    role.onSnapshot({ ...snapshot(cfg, 2), services: [local, other], endpointSlices: [here, slice('other', [{ node: 'n1' }])], delta: { from: 1, servicesOnly: true, upserted: [local], deleted: [], slices: new Map([['default/web', [here]]]) } });
    assert.deepEqual(prefixes(), ['192.0.2.7/32', '192.0.2.8/32']);
    assert.ok(bgp.calls.slice(before).every((x) => !x.startsWith('routes ')), `no whole table handed over: ${bgp.calls.slice(before).join('; ')}`);
    role.onSnapshot({ ...snapshot(cfg, 3), services: [local, other], endpointSlices: [slice('other', [{ node: 'n1' }])], delta: { from: 2, servicesOnly: true, upserted: [local], deleted: [], slices: new Map([['default/web', []]]) } });
    assert.deepEqual(prefixes(), ['192.0.2.8/32']);
    await role.stop();
  });
});

describe('SpeakerRole: peers sharing one route table', () => {
  it('peers given the same routes share them until a delta changes them differently; each peer\'s prefixes stay what a whole plan gives', async () => {
    // r1..r3 get every p4 route; p5's advertisement names r2 only: its Services make r2 differ.
    const cfg = fixtureConfig([fixturePool('p4', ['192.0.2.0/24']), fixturePool('p5', ['198.51.100.0/24'])], [peer('r1', '10.0.0.1'), peer('r2', '10.0.0.2'), peer('r3', '10.0.0.3')],
      [ad('all', { pools: ['p4'] }), ad('only-r2', { pools: ['p5'], peers: ['r2'] })]);
    const bgp = new FakeBgp();
    const role = new SpeakerRole({
      store: new FakeStore(), nodeName: 'n1', plan: planAnnouncements, incremental: (i) => new IncrementalPlan(i), bgp, logger: silentLogger(),
      hostIpv4: parseIp('192.0.2.254')!, statusEveryMs: 1, assumeLocalEndpoints: true,
    });
    const node = { apiVersion: 'v1' as const, kind: 'Node' as const, metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } }, spec: {} };
    const check = (services: Service[], step: string): void => {
      const whole = planAnnouncements({ config: cfg, services, endpointSlices: services.map((s) => slice(s.metadata.name!, [{ node: 'n1' }])), nodes: [node], nodeName: 'n1' });
      const status = role.status();
      for (const pp of whole.peers) {
        const id = Object.keys(status.peers).find((k) => k.includes(pp.peer.name))!;
        assert.deepEqual([...status.peers[id]!.prefixes].sort(), pp.routes.map((r) => formatPrefix(r.prefix)).sort(), `${step}: prefixes of ${pp.peer.name}`);
        assert.deepEqual((bgp.routes.get(id) ?? []).map((r) => formatPrefix(r.prefix)).sort(), pp.routes.map((r) => formatPrefix(r.prefix)).sort(), `${step}: routes to ${pp.peer.name}`);
      }
    };
    let services = [service('a', { ips: ['192.0.2.1'] }), service('b', { ips: ['192.0.2.2'] })];
    role.onSnapshot({ ...snapshot(cfg, 1), services });
    check(services, 'start');
    const steps: [Service[], string[]][] = [
      [[service('x', { ips: ['198.51.100.1'] })], []], // r2 only: r2 stops sharing
      [[service('c', { ips: ['192.0.2.3'] })], []], // every peer alike
      [[], ['default/a']],
      [[service('y', { ips: ['198.51.100.2'] }), service('d', { ips: ['192.0.2.4'] })], ['default/x']],
      [[], ['default/y']],
    ];
    steps.forEach(([upserted, deleted], i) => {
      const gone = new Set([...deleted, ...upserted.map((s) => `default/${s.metadata.name!}`)]);
      services = [...services.filter((s) => !gone.has(`default/${s.metadata.name!}`)), ...upserted];
      role.onSnapshot({ ...snapshot(cfg, i + 2), services, delta: { from: i + 1, servicesOnly: true, upserted, deleted } });
      check(services, `step ${i + 1}`);
    });
    // A whole plan again (no delta): peers with the same routes share again, and stay right.
    role.onSnapshot({ ...snapshot(cfg, 20), services });
    check(services, 'whole');
    const more = [service('e', { ips: ['192.0.2.5'] })];
    services = [...services, ...more];
    role.onSnapshot({ ...snapshot(cfg, 21), services, delta: { from: 20, servicesOnly: true, upserted: more, deleted: [] } });
    check(services, 'after whole');
    await role.stop();
  });
});
