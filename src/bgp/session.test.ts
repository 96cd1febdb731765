// A Session over a fake socket with a manual clock: timers, keepalives, hold expiry, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { AdjRibOut } from './adj-rib-out.ts';
import { buildOpen, type FsmConfig } from './fsm.ts';
import { MessageFramer } from './framing.ts';
import { KEEPALIVE } from './keepalive.ts';
import { encodeOpen } from './open.ts';
import { Session, type SessionOwner } from './session.ts';
import type { Clock } from './peer-config.ts';
import type { NotificationMessage } from './notification.ts';

class ManualClock implements Clock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private id = 0;
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown { const id = ++this.id; this.timers.set(id, { at: this.t + ms, fn }); return id; }
  clearTimeout(h: unknown): void { this.timers.delete(h as number); }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

class FakeSocket extends EventEmitter {
  destroyed = false;
  writable = true;
  localAddress = '192.0.2.1';
  localPort = 40000;
  readonly framer = new MessageFramer();
  types: number[] = [];
  notifications: string[] = [];
  setNoDelay(): this { return this; }
  write(b: Buffer): boolean {
    this.framer.push(Buffer.from(b));
    for (let m = this.framer.next(); m; m = this.framer.next()) {
      this.types.push(m.type);
      if (m.type === 3) this.notifications.push(`${m.body[0]}/${m.body[1]}`);
    }
    return true;
  }
  end(): this { this.writable = false; return this; }
  destroy(): this { this.destroyed = true; this.writable = false; return this; }
}

const cfg: FsmConfig = { myAsn: 65001, peerAsn: 65002, routerId: 0x0a000001, holdTimeSeconds: 9, families: [4, 6], restarting: false, extendedMessage: true, addPathSend: false };
const peerOpen = (hold = 9) => encodeOpen(buildOpen({ ...cfg, myAsn: 65002, peerAsn: 65001, routerId: 0x0a000002, holdTimeSeconds: hold }));

function setup(hold = 9) {
  const clock = new ManualClock();
  const sock = new FakeSocket();
  const events: string[] = [];
  const rib = new AdjRibOut();
  const owner: SessionOwner = {
    rib,
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined },
    onOpenReceived: () => true,
    onEstablished: () => { rib.sessionUp(); events.push('established'); },
    onStateChange: (_s, from, to) => events.push(`${from}>${to}`),
    onNotification: (_s, d, n: NotificationMessage) => events.push(`${d}:${n.code}/${n.subcode}`),
    onDown: (_s, reason) => events.push(`down:${reason}`),
  };
  const s = new Session({ socket: sock as unknown as Socket, direction: 'outgoing', fsm: { ...cfg, holdTimeSeconds: hold }, ebgp: true, clock, owner });
  s.start();
  return { clock, sock, events, s };
}

test('established session sends keepalives every hold/3 and expires the hold timer', () => {
  const { clock, sock, events, s } = setup();
  s.feed(Buffer.concat([peerOpen(), KEEPALIVE]));
  assert.equal(s.state, 'Established');
  assert.deepEqual(sock.types, [1, 4]);
  clock.advance(3000);
  assert.deepEqual(sock.types, [1, 4, 4]);
  clock.advance(5000);
  s.feed(KEEPALIVE); // the peer's keepalive restarts our hold timer
  clock.advance(8000);
  assert.equal(s.state, 'Established');
  clock.advance(1001);
  assert.equal(s.state, 'Idle');
  assert.deepEqual(sock.notifications, ['4/0']);
  assert.ok(events.includes('sent:4/0'));
  assert.ok(sock.destroyed || !sock.writable);
});

test('a hold timer due while our loop stalled reads the waiting input first: a KEEPALIVE that came meanwhile keeps the session', () => {
  // Node runs due timers before it polls the sockets: after a long synchronous pass, the hold
  // timer fires before the peer's KEEPALIVEs that queued meanwhile are read (systemClock.afterIo).
  const { clock, sock, s } = setup();
  const afterIo: (() => void)[] = [];
  (clock as Clock).afterIo = (fn) => { afterIo.push(fn); };
  s.feed(Buffer.concat([peerOpen(), KEEPALIVE]));
  clock.advance(9000); // the deadline passes during the stall
  s.feed(KEEPALIVE); // the poll phase: the KEEPALIVE that waited in the socket
  for (const fn of afterIo.splice(0)) fn();
  assert.equal(s.state, 'Established');
  assert.deepEqual(sock.notifications, []);
  // Real silence still ends it: nothing came in the next hold time.
  clock.advance(9000);
  for (const fn of afterIo.splice(0)) fn();
  assert.equal(s.state, 'Idle');
  assert.deepEqual(sock.notifications, ['4/0']);
});

test('hold time 0 negotiated: no keepalives, no expiry', () => {
  const { clock, sock, s } = setup(0);
  s.feed(Buffer.concat([peerOpen(0), KEEPALIVE]));
  assert.equal(s.state, 'Established');
  clock.advance(3_600_000);
  assert.equal(s.state, 'Established');
  assert.deepEqual(sock.types, [1, 4]);
});

test('OpenSent hold timer (240 s) expires when the peer never sends OPEN', () => {
  const { clock, sock, s } = setup();
  clock.advance(239_000);
  assert.equal(s.state, 'OpenSent');
  clock.advance(1000);
  assert.equal(s.state, 'Idle');
  assert.deepEqual(sock.notifications, ['4/0']);
});

test('malformed input gets the right NOTIFICATION', () => {
  const cases: [Buffer, string][] = [
    [Buffer.from('ff'.repeat(15) + '00001304', 'hex'), '1/1'],
    [Buffer.from('ff'.repeat(16) + '001309', 'hex'), '1/3'],
    [Buffer.concat([peerOpen(), KEEPALIVE, Buffer.from('ff'.repeat(16) + '001702' + '0010' + '0000', 'hex')]), '3/1'],
    [Buffer.concat([peerOpen(), KEEPALIVE, peerOpen()]), '5/3'],
    [Buffer.concat([peerOpen(), Buffer.from('ff'.repeat(16) + '001702' + '00000000', 'hex')]), '5/2'],
  ];
  for (const [input, want] of cases) {
    const { sock, s } = setup();
    s.feed(input);
    assert.equal(s.state, 'Idle', want);
    assert.deepEqual(sock.notifications, [want]);
  }
});

test('UPDATE with a treat-as-withdraw problem keeps the session up', () => {
  const { sock, s } = setup();
  // ORIGIN with value 7 announcing 10.0.0.0/8.
  s.feed(Buffer.concat([peerOpen(), KEEPALIVE, Buffer.from('ff'.repeat(16) + '001d02' + '0000' + '0004' + '40010107' + '080a', 'hex')]));
  assert.equal(s.state, 'Established');
  assert.deepEqual(sock.notifications, []);
});

test('NOTIFICATION from the peer ends the session without answering', () => {
  const { sock, s, events } = setup();
  s.feed(Buffer.concat([peerOpen(), KEEPALIVE, Buffer.from('ff'.repeat(16) + '001503' + '0602', 'hex')]));
  assert.equal(s.state, 'Idle');
  assert.deepEqual(sock.notifications, []);
  assert.ok(events.includes('received:6/2'));
});

test('backpressure: output stops when the socket is full, changes coalesce, drain resumes', async () => {
  const { sock, s } = setup();
  const owner = s.opts.owner;
  const rib = owner.rib;
  const a = { communities: [] };
  const b = { communities: [], med: 9 };
  const route = (i: number, attributes: { communities: never[]; med?: number }) => ({ prefix: { family: 4 as const, network: BigInt(0x0a000000 + i), length: 32 }, attributes });
  rib.setDesired(Array.from({ length: 100000 }, (_, i) => route(i, a)));
  let full = true;
  let bytes = 0;
  let writes = 0;
  sock.write = (buf: Buffer) => { writes++; bytes += buf.length; return !full; };
  s.feed(Buffer.concat([peerOpen(), KEEPALIVE]));
  assert.equal(s.state, 'Established');
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  // One batch went out (after our KEEPALIVE), then the session waits for 'drain'.
  assert.equal(writes, 2);
  const firstBatch = bytes;
  assert.ok(firstBatch < 300_000, `${firstBatch} bytes before drain`);
  // A burst while stalled: every route changes, then changes back for all but 10; 50k are withdrawn.
  for (let k = 0; k < 5; k++) rib.setDesired(Array.from({ length: 100000 }, (_, i) => route(i, k % 2 ? a : b)));
  rib.setDesired(Array.from({ length: 50000 }, (_, i) => route(i, i < 10 ? b : a)));
  assert.ok(rib.tables[4].dirty.size <= 100000);
  full = false;
  sock.emit('drain');
  for (let i = 0; i < 100 && rib.hasPending(); i++) await new Promise((r) => setImmediate(r));
  assert.equal(rib.hasPending(), false);
  assert.equal(rib.sentCount, 50000);
  // Everything after the first batch: far less than sending the burst one change at a time.
  assert.ok(bytes - firstBatch < 1_000_000, `${bytes - firstBatch} bytes after drain`);
});

test('ROUTE-REFRESH resends the family table; BoRR/EoRR markers and unknown families do not', async () => {
  const { sock, s } = setup();
  const rib = s.opts.owner.rib;
  rib.setDesired([{ prefix: { family: 4, network: 0x0a000001n, length: 32 }, attributes: { communities: [] } }, { prefix: { family: 6, network: 1n, length: 128 }, attributes: { communities: [] } }]);
  s.feed(Buffer.concat([peerOpen(), KEEPALIVE]));
  const settle = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };
  await settle();
  const updates = () => sock.types.filter((t) => t === 2).length;
  assert.equal(updates(), 4); // one announcement per family, two End-of-RIB
  const rr = (afi: number, subtype: number) => Buffer.from('ff'.repeat(16) + '001705' + afi.toString(16).padStart(4, '0') + subtype.toString(16).padStart(2, '0') + '01', 'hex');
  s.feed(rr(1, 0));
  await settle();
  assert.equal(updates(), 5);
  s.feed(Buffer.concat([rr(2, 1), rr(2, 2), rr(25, 0)]));
  await settle();
  assert.equal(updates(), 5);
  assert.equal(s.state, 'Established');
});

test('reset: NOTIFICATION Cease / BFD Down (6/10) on the wire, then the socket is destroyed at once', () => {
  const { sock, s, events } = setup();
  s.feed(Buffer.concat([peerOpen(), KEEPALIVE]));
  assert.equal(s.state, 'Established');
  const written: Buffer[] = [];
  const write = sock.write.bind(sock);
  sock.write = (b: Buffer) => { written.push(Buffer.from(b)); return write(b); };
  s.reset(10);
  assert.equal(s.state, 'Idle');
  // Marker, length 21, type 3, code 6, subcode 10, no data.
  assert.deepEqual(written, [Buffer.from('ff'.repeat(16) + '0015' + '03' + '06' + '0a', 'hex')]);
  assert.equal(sock.destroyed, true, 'no 2 s linger: closed at once');
  assert.ok(events.includes('sent:6/10'));
  assert.ok(events.some((e) => e.startsWith('down:Cease / BFD Down')), events.join());
});

test('stop (not reset) leaves the socket to close after the peer reads the NOTIFICATION', () => {
  const { sock, s, clock } = setup();
  s.feed(Buffer.concat([peerOpen(), KEEPALIVE]));
  s.stop(3);
  assert.deepEqual(sock.notifications, ['6/3']);
  assert.equal(sock.destroyed, false);
  clock.advance(2000);
  assert.equal(sock.destroyed, true);
});
