import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, deriveKey, encode } from './codec.ts';
import { encodeDirect, epochAt } from './direct.ts';
import { Swim, type Transport } from './swim.ts';
import { openUdpTransport } from './udp.ts';

// An in-memory LAN: datagrams are delivered asynchronously; `cut(a, b)` drops both directions.
class Net {
  readonly handlers = new Map<string, (msg: Buffer, from: string) => void>();
  readonly cuts = new Set<string>();
  readonly down = new Set<string>();
  transport(address: string): Transport {
    return {
      send: (msg, to) => {
        if (this.down.has(address) || this.down.has(to) || this.cuts.has(`${address}|${to}`)) return;
        setImmediate(() => this.handlers.get(to)?.(msg, address));
      },
      onMessage: (cb) => { this.handlers.set(address, cb); },
      close: () => { this.handlers.delete(address); },
    };
  }
  cut(a: string[], b: string[]): void {
    for (const x of a) for (const y of b) { this.cuts.add(`${x}|${y}`); this.cuts.add(`${y}|${x}`); }
  }
  heal(): void { this.cuts.clear(); }
}

const key = deriveKey('s3cret');
const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
const addr = (n: string): string => `${n}:7946`;
const seeds = names.map((n) => ({ name: n, address: addr(n) }));

function cluster(net: Net, k = key, list = names, suspicionMs = 60): Swim[] {
  return list.map((n) => {
    const s = new Swim({ name: n, address: addr(n), key: k, transport: net.transport(addr(n)), periodMs: 20, suspicionMs, deadProbeMs: 100 });
    s.setSeeds(seeds.filter((x) => list.includes(x.name)));
    s.start();
    return s;
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const liveOf = (s: Swim): string => [...s.live()].sort().join(',');

async function until(what: string, ms: number, ok: () => boolean): Promise<number> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) assert.fail(`${what} not within ${ms} ms`);
    await sleep(5);
  }
  return Date.now() - t0;
}

test('codec: a message round-trips; a wrong key, a flipped bit or garbage is refused', () => {
  const m = { k: 'ping' as const, from: 'n1', inc: 7, seq: 3, updates: [['n2', 'n2:1', 1, 4] as [string, string, 1, number]] };
  const b = encode(key, m);
  assert.deepEqual(decode(key, b), m);
  assert.equal(decode(deriveKey('other'), b), undefined);
  const flipped = Buffer.from(b);
  flipped[flipped.length - 3]! ^= 1;
  assert.equal(decode(key, flipped), undefined);
  assert.equal(decode(key, Buffer.from('hello world, this is not a message at all')), undefined);
});

test('a silent death is noticed by every member, and a partition heals without a rejoin', async () => {
  const net = new Net();
  const sw = cluster(net);
  try {
    await sleep(150);
    for (const s of sw) assert.equal(liveOf(s), names.join(','), `${s.name} sees everyone alive`);
    // n5 goes silent (cable out): no leave message.
    net.down.add(addr('n5'));
    await until('n5 dead everywhere', 2000, () => sw.slice(0, 4).every((s) => !s.live().has('n5')));
    // n5 itself still counts itself alive (it cannot know), and sees nobody else.
    await until('n5 alone', 2000, () => liveOf(sw[4]!) === 'n5');
    // The cable is back: n5 refutes its death (higher incarnation) and everyone converges.
    net.down.clear();
    await until('all alive again', 3000, () => sw.every((s) => liveOf(s) === names.join(',')));
    // A partition: each side sees only itself; after healing, everyone again.
    net.cut(['n1', 'n2'].map(addr), ['n3', 'n4', 'n5'].map(addr));
    await until('two sides', 3000, () => liveOf(sw[0]!) === 'n1,n2' && liveOf(sw[4]!) === 'n3,n4,n5');
    net.heal();
    await until('healed', 3000, () => sw.every((s) => liveOf(s) === names.join(',')));
  } finally {
    for (const s of sw) s.stop();
  }
});

test('a member that leaves is dead at once; a restarted member is alive again', async () => {
  const net = new Net();
  // Suspicion takes a minute here, so only the leave message can make n3 dead within the wait.
  const sw = cluster(net, key, ['n1', 'n2', 'n3'], 60_000);
  try {
    await sleep(100);
    sw[2]!.leave();
    await until('n3 gone on its leave message', 5000, () => !sw[0]!.live().has('n3') && !sw[1]!.live().has('n3'));
    const again = new Swim({ name: 'n3', address: addr('n3'), key, transport: net.transport(addr('n3')), periodMs: 20, suspicionMs: 60 });
    again.setSeeds(seeds.slice(0, 3));
    again.start();
    sw[2] = again;
    await until('n3 back', 2000, () => sw.every((s) => liveOf(s) === 'n1,n2,n3'));
  } finally {
    for (const s of sw) s.stop();
  }
});

test('a member without the secret cannot join or kill anyone', async () => {
  const net = new Net();
  const sw = cluster(net, key, ['n1', 'n2']);
  const intruder = new Swim({ name: 'evil', address: addr('evil'), key: deriveKey('guess'), transport: net.transport(addr('evil')), periodMs: 20 });
  intruder.setSeeds(seeds.slice(0, 2));
  intruder.start();
  try {
    await sleep(200);
    for (const s of sw) assert.equal(liveOf(s), 'n1,n2');
    // Even a well-formed "n2 is dead" claim under the wrong key changes nothing.
    net.transport(addr('evil')).send(encode(deriveKey('guess'), { k: 'ping', from: 'evil', inc: 1, seq: 1, updates: [['n2', addr('n2'), 2, Number.MAX_SAFE_INTEGER]] }), addr('n1'));
    await sleep(50);
    assert.equal(liveOf(sw[0]!), 'n1,n2');
  } finally {
    intruder.stop();
    for (const s of sw) s.stop();
  }
});

test('over real UDP on loopback: two members see each other, then one leaves', async () => {
  const t1 = await openUdpTransport('127.0.0.1', 0);
  const t2 = await openUdpTransport('127.0.0.1', 0);
  const a1 = `127.0.0.1:${t1.port}`;
  const a2 = `127.0.0.1:${t2.port}`;
  const s1 = new Swim({ name: 'a', address: a1, key, transport: t1, periodMs: 20 });
  const s2 = new Swim({ name: 'b', address: a2, key, transport: t2, periodMs: 20 });
  const seedsUdp = [{ name: 'a', address: a1 }, { name: 'b', address: a2 }];
  s1.setSeeds(seedsUdp);
  s2.setSeeds(seedsUdp);
  s1.start();
  s2.start();
  try {
    await sleep(100);
    assert.equal(liveOf(s1), 'a,b');
    s2.leave();
    await until('b gone', 1000, () => liveOf(s1) === 'a');
  } finally {
    s1.stop();
    s2.stop();
  }
});

test('layer-2 direct messages: delivered as events without gossip; suspectNow on a live member is refuted', async () => {
  const net = new Net();
  const sw = cluster(net, key, ['n1', 'n2', 'n3']);
  try {
    await sleep(100);
    const got: string[] = [];
    sw[1]!.on('direct', (k: string, from: string) => got.push(`${k}:${from}`));
    sw[0]!.sendDirect('beat', 'n2');
    sw[0]!.sendDirect('beat', 'n2');
    sw[0]!.sendDirect('stop', 'n2');
    sw[0]!.sendDirect('beat', 'nobody'); // not a member: nothing sent
    await until('three direct messages', 1000, () => got.length === 3);
    assert.deepEqual(got, ['beat:n1', 'beat:n1', 'stop:n1']);
    // A forged one (wrong key) is dropped like any gossip.
    net.transport(addr('n3')).send(encodeDirect(deriveKey('guess'), { kind: 'beat', from: 'n1', inc: 1, epoch: epochAt(performance.now()) }), addr('n2'));
    await sleep(30);
    assert.equal(got.length, 3);
    // n2's heartbeat detector believes n1 down: n1 hears the suspicion and refutes; n2 learns it.
    const before = sw[1]!.members.get('n1')!.incarnation;
    const alive: number[] = [];
    sw[1]!.on('alive', (name: string, inc: number) => { if (name === 'n1') alive.push(inc); });
    sw[1]!.suspectNow('n1');
    assert.equal(sw[1]!.members.get('n1')!.state, 'suspect');
    await until('n1 refuted', 2000, () => alive.some((i) => i > before));
    assert.equal(sw[1]!.members.get('n1')!.state, 'alive');
  } finally {
    for (const s of sw) s.stop();
  }
});

test('a stall of our own does not make a member suspect: an ack already received is read before the probe times out', async () => {
  const net = new Net();
  const [n1, n2] = cluster(net, key, ['n1', 'n2']) as [Swim, Swim];
  try {
    await until('both live', 5000, () => liveOf(n1) === 'n1,n2' && liveOf(n2) === 'n1,n2');
    await sleep(200);
    const inc = n2.currentIncarnation;
    // n2's acks to n1 are sent, then the whole process stalls 3 periods before n1 reads them (the
    // in-memory LAN delivers in the loop's check phase, as a socket's datagrams wait for its poll).
    const tr = (n2 as unknown as { o: { transport: Transport } }).o.transport;
    const send = tr.send.bind(tr);
    let stalls = 5;
    tr.send = (msg: Buffer, to: string): void => {
      send(msg, to);
      if (stalls > 0 && to === addr('n1') && decode(key, msg)?.k === 'ack') {
        stalls--;
        const until2 = performance.now() + 60;
        while (performance.now() < until2) { /* the event loop is blocked */ }
      }
    };
    await until('five stalls', 5000, () => stalls === 0);
    await sleep(300);
    assert.equal(n2.currentIncarnation, inc, 'n1 never suspected n2 (n2 never had to refute)');
    assert.equal(liveOf(n1), 'n1,n2');
  } finally {
    n1.stop();
    n2.stop();
  }
});
