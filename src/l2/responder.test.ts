import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { NativeRawInfo, NativeRawOptions, NativeRawSocket } from '../native/addon.ts';
import { parseIp } from '../net/ip.ts';
import type { NetInterface } from './interfaces.ts';
import { L2Metrics } from './metrics.ts';
import { ARP_REPLY, ARP_REQUEST, buildArp, ETH_P_ARP, formatMac, parseArp, parseMac } from './packets.ts';
import { Responder } from './responder.ts';

interface Sent { ifname: string; kind: string; payload: Buffer; ethertype: number; mac: string }

type SocketRecord = { o: NativeRawOptions; cb?: (err: NodeJS.ErrnoException | null, msg?: Buffer, info?: NativeRawInfo) => void; groups: Set<string>; closed: boolean };

// Raw sockets recorded in memory: tests inject frames and read what was sent.
class FakeNative {
  readonly sent: Sent[] = [];
  readonly sockets: SocketRecord[] = [];
  readonly RawSocket: new (o: NativeRawOptions) => NativeRawSocket;
  constructor(names: Map<number, string>) {
    const sent = this.sent;
    const sockets = this.sockets;
    this.RawSocket = class implements NativeRawSocket {
      private readonly rec: SocketRecord;
      constructor(o: NativeRawOptions) {
        this.rec = { o, groups: new Set(), closed: false };
        sockets.push(this.rec);
      }
      start(cb: NonNullable<SocketRecord['cb']>): void { this.rec.cb = cb; }
      sendPacket(payload: Buffer, ifindex: number, ethertype: number, mac: Buffer): void {
        sent.push({ ifname: names.get(ifindex) ?? '?', kind: this.rec.o.kind, payload: Buffer.from(payload), ethertype, mac: formatMac(mac) });
      }
      joinGroup(g: string): void { this.rec.groups.add(g); }
      leaveGroup(g: string): void { this.rec.groups.delete(g); }
      close(): void { this.rec.closed = true; }
      unref(): void { /* nothing to keep alive */ }
    };
  }
  arpSocket(ifindex: number): SocketRecord | undefined {
    return this.sockets.find((s) => !s.closed && s.o.kind === 'packet' && s.o.ifindex === ifindex && s.o.protocol === ETH_P_ARP);
  }
}

const iface = (name: string, index: number, o: Partial<NetInterface> = {}): NetInterface => ({
  name, index, mac: parseMac(`02:00:00:00:00:0${index}`), up: true, link: true, broadcast: true, noArp: false, loopback: false, enslaved: false, ipv6LinkLocal: true, ...o,
});

const asker = parseMac('02:aa:00:00:00:01');
const request = (target: string): Buffer => buildArp(ARP_REQUEST, asker, parseIp('192.0.2.1')!, Buffer.alloc(6), parseIp(target)!);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function setup(ifaces: NetInterface[]) {
  let current = ifaces;
  const fake = new FakeNative(new Map(ifaces.map((i) => [i.index, i.name])));
  const metrics = new L2Metrics(new Registry());
  const r = new Responder({ logger: pino({ level: 'silent' }), metrics, native: fake, scan: () => current, scanMs: 10, gratuitousScheduleMs: [0, 30, 60], linkUpHoldMs: 10 });
  return { r, fake, metrics, setIfaces: (l: NetInterface[]) => { current = l; } };
}

test('answers ARP only for owned IPs, only on the allowed interface, never its own frames', async () => {
  const { r, fake, metrics } = setup([iface('eth0', 1), iface('eth1', 2)]);
  try {
    r.setAnnouncements([{ ip: parseIp('192.0.2.100')!, interfaces: ['eth0'] }]);
    fake.sent.length = 0;
    const deliver = (idx: number, target: string, pkttype = 1) => fake.arpSocket(idx)!.cb!(null, request(target), { ifindex: idx, pkttype, address: asker });
    deliver(1, '192.0.2.100');
    deliver(2, '192.0.2.100'); // eth1 is not selected
    deliver(1, '192.0.2.101'); // not ours
    deliver(1, '192.0.2.100', 4); // our own outgoing frame
    deliver(1, '192.0.2.100', 3); // unicast to another host
    const replies = fake.sent.filter((s) => parseArp(s.payload)?.op === ARP_REPLY && s.mac === formatMac(asker));
    assert.equal(replies.length, 1);
    assert.equal(replies[0]!.ifname, 'eth0');
    assert.equal(formatMac(parseArp(replies[0]!.payload)!.senderMac), '02:00:00:00:00:01');
    assert.equal((await metrics.responsesSent.get()).values.find((v) => v.labels.ip === '192.0.2.100')?.value, 1);
    assert.deepEqual(r.interfacesFor('192.0.2.100'), ['eth0']);
  } finally {
    r.close();
  }
});

test('gratuitous rounds on takeover (request and reply, broadcast), stopped when the IP is lost', async () => {
  const { r, fake } = setup([iface('eth0', 1)]);
  try {
    r.setAnnouncements([{ ip: parseIp('192.0.2.100')!, interfaces: 'all' }]);
    await sleep(45);
    const garps = () => fake.sent.filter((s) => s.mac === 'ff:ff:ff:ff:ff:ff');
    assert.equal(garps().length, 4, 'two rounds of request + reply so far');
    r.setAnnouncements([]);
    await sleep(40);
    assert.equal(garps().length, 4, 'no round after the IP is lost');
  } finally {
    r.close();
  }
});

test('an interface without link is not used; when its link comes back the owned IPs are announced on it', async () => {
  const { r, fake, setIfaces } = setup([iface('eth0', 1, { link: false })]);
  try {
    r.setAnnouncements([{ ip: parseIp('192.0.2.100')!, interfaces: 'all' }]);
    await sleep(30);
    assert.equal(fake.sent.length, 0);
    assert.equal(fake.arpSocket(1), undefined);
    setIfaces([iface('eth0', 1)]);
    await sleep(60);
    assert.ok(fake.sent.some((s) => s.mac === 'ff:ff:ff:ff:ff:ff' && s.ifname === 'eth0'), 'gratuitous ARP after link-up');
    setIfaces([iface('eth0', 1, { link: false })]);
    await sleep(30);
    assert.equal(fake.arpSocket(1), undefined, 'closed again when the link goes');
  } finally {
    r.close();
  }
});

test('NDP: joins the solicited-node group; answers an NS with hop limit 255, to the asker or (DAD) to all-nodes', () => {
  const { r, fake } = setup([iface('eth0', 1)]);
  try {
    r.setAnnouncements([{ ip: parseIp('2001:db8::100')!, interfaces: 'all' }]);
    const groups = fake.sockets.find((s) => s.o.kind === 'icmp6')!;
    assert.deepEqual([...groups.groups], ['ff02::1:ff00:100']);
    const v6 = fake.sockets.find((s) => s.o.kind === 'packet' && s.o.protocol === 0x86dd)!;
    assert.equal((v6.o as { nsFilter?: boolean }).nsFilter, true);
    const frame = (src: string, hops: number, slla: boolean): Buffer => {
      const icmp = Buffer.alloc(slla ? 32 : 24);
      icmp[0] = 135;
      Buffer.from('20010db8000000000000000000000100', 'hex').copy(icmp, 8);
      if (slla) { icmp[24] = 1; icmp[25] = 1; asker.copy(icmp, 26); }
      const h = Buffer.alloc(40);
      h[0] = 0x60; h.writeUInt16BE(icmp.length, 4); h[6] = 58; h[7] = hops;
      Buffer.from(src, 'hex').copy(h, 8);
      return Buffer.concat([h, icmp]);
    };
    fake.sent.length = 0;
    v6.cb!(null, frame('20010db8000000000000000000000001', 255, true), { ifindex: 1, pkttype: 2, address: asker });
    v6.cb!(null, frame('20010db8000000000000000000000001', 64, true), { ifindex: 1, pkttype: 2, address: asker }); // routed: refused
    v6.cb!(null, frame('00000000000000000000000000000000', 255, false), { ifindex: 1, pkttype: 2, address: asker }); // DAD
    assert.equal(fake.sent.length, 2);
    assert.equal(fake.sent[0]!.mac, '02:aa:00:00:00:01');
    assert.equal(fake.sent[0]!.payload[44], 0x60, 'solicited + override');
    assert.equal(fake.sent[1]!.mac, '33:33:00:00:00:01');
    assert.equal(fake.sent[1]!.payload[44], 0x20, 'DAD answer: override only');
    r.setAnnouncements([]);
    assert.equal(groups.groups.size, 0, 'left the group with the IP');
  } finally {
    r.close();
  }
});
