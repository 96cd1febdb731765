import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { FakeClock } from './clock.ts';
import { BfdManager, type DownEvent, SOURCE_PORT_MAX, SOURCE_PORT_MIN, type StateEvent, type UpEvent } from './manager.ts';
import { Diag, SessionState, encodeControl } from './packet.ts';
import { defaultBfdProfile } from './profile.ts';
import type { BfdSocket, BfdTransport } from './transport.ts';

/** An in-memory network of hosts; each manager sees its own host. Delivery takes 1 ms of fake time. */
class FakeNet {
  readonly sockets = new Map<string, EventEmitter>();
  ttl = 255;
  up = true;
  /** Report IPv4 sources as IPv4-mapped IPv6, as a dual-stack socket does. */
  mapped = false;
  constructor(readonly clock: FakeClock) {}
  transport(host: string): BfdTransport {
    return {
      name: 'fake', receivedTtl: true,
      open: async (o) => {
        const local = o.localAddress ?? host;
        const key = `${local}:${o.localPort ?? 0}`;
        if (this.sockets.has(key)) throw Object.assign(new Error('in use'), { code: 'EADDRINUSE' });
        const ee = new EventEmitter();
        this.sockets.set(key, ee);
        return {
          send: (msg: Buffer, port: number, address: string) => {
            const ttl = this.ttl;
            this.clock.setTimer(1, () => {
              if (this.up) this.sockets.get(`${address}:${port}`)?.emit('message', msg, { address: this.mapped ? `::ffff:${local}` : local, port: o.localPort, ttl });
            });
          },
          address: () => ({ address: local, port: o.localPort ?? 0 }),
          close: () => { this.sockets.delete(key); },
          on: (ev: string, l: (...a: unknown[]) => void) => ee.on(ev, l),
        } as unknown as BfdSocket;
      },
    };
  }
}

function lab(damping: false | object = false) {
  const clock = new FakeClock();
  const net = new FakeNet(clock);
  let seed = 1;
  const random = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  const a = new BfdManager({ transport: net.transport('10.0.0.1'), clock, random, damping });
  const b = new BfdManager({ transport: net.transport('10.0.0.2'), clock, random, damping });
  const events = (m: BfdManager) => {
    const log: { state: StateEvent[]; up: UpEvent[]; down: DownEvent[]; discard: string[]; damped: unknown[] } = { state: [], up: [], down: [], discard: [], damped: [] };
    m.on('state', (e: StateEvent) => log.state.push(e));
    m.on('up', (e: UpEvent) => log.up.push(e));
    m.on('down', (e: DownEvent) => log.down.push(e));
    m.on('discard', (r: string) => log.discard.push(r));
    m.on('damped', (e) => log.damped.push(e));
    return log;
  };
  return { clock, net, a, b, ea: events(a), eb: events(b) };
}

const settle = async (clock: FakeClock, ms: number) => { for (let t = 0; t < ms; t += 10) { clock.advance(10); await Promise.resolve(); } };

test('two managers bring a single-hop session Up and report state, discriminators and negotiated timers', async () => {
  const { clock, a, b, ea, eb } = lab();
  await a.addSession({ id: 'x', peerAddress: '10.0.0.2', localAddress: '10.0.0.1', multihop: false, profile: defaultBfdProfile('a', { transmitIntervalMs: 100, receiveIntervalMs: 200 }) });
  await b.addSession({ id: 'y', peerAddress: '10.0.0.1', localAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile('b', { transmitIntervalMs: 250, receiveIntervalMs: 150 }) });
  await settle(clock, 4000);
  const sa = a.sessionState('x')!; const sb = b.sessionState('y')!;
  assert.equal(sa.state, 'Up');
  assert.equal(sb.state, 'Up');
  assert.equal(sa.remoteDiscriminator, sb.localDiscriminator);
  assert.equal(sb.remoteDiscriminator, sa.localDiscriminator);
  assert.equal(sa.negotiatedTxMs, 150);
  assert.equal(sb.negotiatedTxMs, 250);
  assert.equal(sa.detectionTimeMs, 750);
  assert.equal(sb.detectionTimeMs, 450);
  assert.ok(sa.sourcePort >= SOURCE_PORT_MIN && sa.sourcePort <= SOURCE_PORT_MAX);
  assert.equal(sa.ttlChecked, true);
  assert.deepEqual(ea.state.map((e) => e.to), ['Init', 'Up']);
  assert.equal(ea.up.length, 1);
  assert.equal(eb.up.length, 1);
  await a.close(); await b.close();
});

test('removeSession sends AdminDown: the peer goes Down at once with diag 3 and says "down"', async () => {
  const { clock, a, b, eb } = lab();
  await a.addSession({ id: 'x', peerAddress: '10.0.0.2', localAddress: '10.0.0.1', multihop: false, profile: defaultBfdProfile() });
  await b.addSession({ id: 'y', peerAddress: '10.0.0.1', localAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile() });
  await settle(clock, 4000);
  const ea = { down: 0, state: [] as string[] };
  a.on('down', () => ea.down++);
  a.on('state', (e: StateEvent) => ea.state.push(e.to));
  await a.removeSession('x');
  await settle(clock, 20);
  assert.equal(ea.down, 0, 'removal is not a failure: no "down" on the removing side');
  assert.deepEqual(ea.state, ['AdminDown']);
  assert.equal(b.sessionState('y')!.state, 'Down');
  assert.equal(b.sessionState('y')!.diag, 'NeighborSignaledSessionDown');
  assert.equal(eb.down.length, 1);
  assert.equal(eb.down[0]!.diag, 'NeighborSignaledSessionDown');
  assert.equal(a.sessionState('x'), undefined);
  await a.close(); await b.close();
});

test('close({ adminDown: false }) falls silent: the peer detects a timeout (diag 1), not AdminDown', async () => {
  const { clock, a, b, eb } = lab();
  await a.addSession({ id: 'x', peerAddress: '10.0.0.2', localAddress: '10.0.0.1', multihop: false, profile: defaultBfdProfile() });
  await b.addSession({ id: 'y', peerAddress: '10.0.0.1', localAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile() });
  await settle(clock, 4000);
  await a.close({ adminDown: false });
  await settle(clock, 100);
  assert.equal(b.sessionState('y')!.state, 'Up');
  await settle(clock, 1000);
  assert.equal(eb.down[0]?.diag, 'ControlDetectionTimeExpired');
  await b.close();
});

test('link cut: Down within the detection time, diag 1, then back Up when healed', async () => {
  const { clock, net, a, b, ea } = lab();
  await a.addSession({ id: 'x', peerAddress: '10.0.0.2', localAddress: '10.0.0.1', multihop: false, profile: defaultBfdProfile() });
  await b.addSession({ id: 'y', peerAddress: '10.0.0.1', localAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile() });
  await settle(clock, 4000);
  const t0 = clock.now();
  net.up = false;
  await settle(clock, 1000);
  assert.equal(ea.down.length, 1);
  assert.equal(ea.down[0]!.diag, 'ControlDetectionTimeExpired');
  assert.ok(ea.down[0]!.at - t0 <= 900 + 10, `down after ${ea.down[0]!.at - t0}`);
  net.up = true;
  await settle(clock, 4000);
  assert.equal(a.sessionState('x')!.state, 'Up');
  assert.equal(ea.up.length, 2);
  await a.close(); await b.close();
});

test('IPv4-mapped source addresses (dual-stack socket) demultiplex like IPv4', async () => {
  const { clock, net, a, b } = lab();
  net.mapped = true;
  await a.addSession({ id: 'x', peerAddress: '10.0.0.2', localAddress: '10.0.0.1', multihop: false, profile: defaultBfdProfile() });
  await b.addSession({ id: 'y', peerAddress: '10.0.0.1', localAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile() });
  await settle(clock, 3000);
  assert.equal(a.sessionState('x')!.state, 'Up');
  assert.deepEqual(a.discardCounts(), {});
  await a.close(); await b.close();
});

test('GTSM: single-hop packets with TTL < 255 are discarded; multihop accepts TTL ≥ minimumTtl', async () => {
  const { clock, net, a, b, ea } = lab();
  net.ttl = 254;
  await a.addSession({ id: 's', peerAddress: '10.0.0.2', localAddress: '10.0.0.1', multihop: false, profile: defaultBfdProfile() });
  await b.addSession({ id: 's', peerAddress: '10.0.0.1', localAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile() });
  await a.addSession({ id: 'm', peerAddress: '10.0.0.2', localAddress: '10.0.0.1', multihop: true, profile: defaultBfdProfile('m', { minimumTtl: 254 }) });
  await b.addSession({ id: 'm', peerAddress: '10.0.0.1', localAddress: '10.0.0.2', multihop: true, profile: defaultBfdProfile('m', { minimumTtl: 254 }) });
  await settle(clock, 4000);
  assert.equal(a.sessionState('s')!.state, 'Down');
  assert.ok(ea.discard.includes('ttl'));
  assert.equal(a.sessionState('m')!.state, 'Up');
  net.ttl = 253;
  await settle(clock, 2000);
  assert.equal(a.sessionState('m')!.state, 'Down');
  assert.equal(a.sessionState('m')!.diag, 'ControlDetectionTimeExpired');
  await a.close(); await b.close();
});

test('demultiplexing: unknown discriminator and unknown peer are discarded', async () => {
  const { clock, net, a, ea } = lab();
  await a.addSession({ id: 'x', peerAddress: '10.0.0.2', localAddress: '10.0.0.1', multihop: false, profile: defaultBfdProfile() });
  const rogue = await net.transport('10.0.0.9').open({ family: 4, localPort: 50000 });
  const f = { diag: Diag.None, poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3, desiredMinTxUs: 1e6, requiredMinRxUs: 1e6, requiredMinEchoRxUs: 0 };
  rogue.send(encodeControl({ ...f, state: SessionState.Down, myDiscriminator: 5, yourDiscriminator: 0 }), 3784, '10.0.0.1');
  rogue.send(encodeControl({ ...f, state: SessionState.Up, myDiscriminator: 5, yourDiscriminator: 12345 }), 3784, '10.0.0.1');
  rogue.send(encodeControl({ ...f, state: SessionState.Up, myDiscriminator: 5, yourDiscriminator: a.sessionState('x')!.localDiscriminator }), 3784, '10.0.0.1');
  rogue.send(Buffer.from([1, 2, 3]), 3784, '10.0.0.1');
  await settle(clock, 20);
  assert.deepEqual(ea.discard.sort(), ['no-session', 'short', 'unknown-discriminator', 'wrong-peer']);
  assert.equal(a.discardCounts()['short'], 1);
  await a.close();
});

test('timer change by poll/final while Up reaches the peer', async () => {
  const { clock, a, b } = lab();
  await a.addSession({ id: 'x', peerAddress: '10.0.0.2', localAddress: '10.0.0.1', multihop: true, profile: defaultBfdProfile() });
  await b.addSession({ id: 'y', peerAddress: '10.0.0.1', localAddress: '10.0.0.2', multihop: true, profile: defaultBfdProfile() });
  await settle(clock, 4000);
  a.updateProfile('x', defaultBfdProfile('fast', { transmitIntervalMs: 100, receiveIntervalMs: 100, detectMultiplier: 4 }));
  await settle(clock, 1000);
  assert.equal(a.sessionState('x')!.negotiatedTxMs, 300); // b still wants 300 between packets
  assert.equal(b.sessionState('y')!.negotiatedTxMs, 300);
  assert.equal(b.sessionState('y')!.detectionTimeMs, 4 * 300);
  b.updateProfile('y', defaultBfdProfile('fast', { transmitIntervalMs: 100, receiveIntervalMs: 100 }));
  await settle(clock, 1000);
  assert.equal(a.sessionState('x')!.negotiatedTxMs, 100);
  assert.equal(b.sessionState('y')!.negotiatedTxMs, 100);
  assert.equal(b.sessionState('y')!.detectionTimeMs, 400);
  assert.equal(a.sessionState('x')!.state, 'Up');
  await a.close(); await b.close();
});

test('damping: Down is reported at once, Up is held back after repeated flaps', async () => {
  const { clock, net, a, b, ea } = lab({ halfLifeMs: 30_000, suppressThreshold: 2500, reuseThreshold: 800 });
  await a.addSession({ id: 'x', peerAddress: '10.0.0.2', localAddress: '10.0.0.1', multihop: false, profile: defaultBfdProfile() });
  await b.addSession({ id: 'y', peerAddress: '10.0.0.1', localAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile() });
  await settle(clock, 4000);
  for (let i = 0; i < 3; i++) {
    net.up = false; await settle(clock, 1000);
    net.up = true; await settle(clock, 4000);
  }
  assert.equal(ea.down.length, 3, 'every Down is reported');
  assert.equal(a.sessionState('x')!.state, 'Up');
  assert.equal(a.sessionState('x')!.damped, true);
  assert.equal(a.sessionState('x')!.reportedUp, false);
  assert.equal(ea.up.length, 3); // the first Up and two undamped recoveries; the third waits
  assert.equal(ea.damped.length, 1);
  await settle(clock, 30_000);
  assert.equal(ea.up.length, 3, 'still damped');
  await settle(clock, 30_000);
  assert.equal(ea.up.length, 4);
  assert.ok(ea.up[3]!.delayedMs > 0);
  await a.close(); await b.close();
});

test('refuses echo mode, demand mode, bad profiles, duplicates', async () => {
  const { a } = lab();
  await assert.rejects(a.addSession({ id: 'e', peerAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile('e', { echoMode: true }) }), /echo mode is not supported/);
  await assert.rejects(a.addSession({ id: 'd', peerAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile(), demandMode: true }), /demand mode is not supported/);
  await assert.rejects(a.addSession({ id: 'r', peerAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile('r', { receiveIntervalMs: 5 }) }), /receiveIntervalMs: 5 is out of range/);
  await assert.rejects(a.addSession({ id: 'v', peerAddress: 'nope', multihop: false, profile: defaultBfdProfile() }), /not an IP address/);
  await a.addSession({ id: 'x', peerAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile() });
  await assert.rejects(a.addSession({ id: 'x', peerAddress: '10.0.0.3', multihop: false, profile: defaultBfdProfile() }), /already exists/);
  await assert.rejects(a.addSession({ id: 'z', peerAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile() }), /already exists/);
  assert.throws(() => a.updateProfile('x', defaultBfdProfile('e', { echoMode: true })), /echo/);
  await a.close();
});

test('a failing send is a socket-error event, never a thrown "error"', async () => {
  const clock = new FakeClock();
  const transport: BfdTransport = {
    name: 'failing', receivedTtl: true,
    open: async (o) => {
      const ee = new EventEmitter();
      return {
        send: () => { throw Object.assign(new Error('send ENETUNREACH'), { code: 'ENETUNREACH' }); },
        address: () => ({ address: '10.0.0.1', port: o.localPort ?? 0 }),
        close: () => undefined,
        on: (ev: string, l: (...a: unknown[]) => void) => ee.on(ev, l),
      } as unknown as BfdSocket;
    },
  };
  const m = new BfdManager({ transport, clock, random: () => 0.5, damping: false });
  const seen: Error[] = [];
  m.on('socket-error', (e: Error) => seen.push(e));
  await m.addSession({ id: 'x', peerAddress: '10.0.0.2', multihop: false, profile: defaultBfdProfile() });
  clock.advance(2500);
  assert.ok(seen.length >= 2);
  assert.equal(m.socketErrorCount(), seen.length);
  await m.close();
});
