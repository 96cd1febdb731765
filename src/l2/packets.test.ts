import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIp, parseIp } from '../net/ip.ts';
import { type NetInterface, selectInterfaces, usableInterfaces } from './interfaces.ts';
import {
  ALL_NODES, ARP_REPLY, ARP_REQUEST, arpReply, buildArp, formatMac, gratuitousArp, icmpv6ChecksumOk, ipv6MulticastMac, NA_OVERRIDE, NA_SOLICITED,
  neighborAdvertisement, parseArp, parseMac, parseNeighborSolicitation, solicitedNodeGroup,
} from './packets.ts';

const ip = (t: string) => parseIp(t)!;
const ours = parseMac('02:00:00:00:00:aa');
const asker = parseMac('02:00:00:00:00:01');

test('ARP: a request parses; the reply swaps the roles and carries our MAC', () => {
  const req = buildArp(ARP_REQUEST, asker, ip('192.0.2.1'), Buffer.alloc(6), ip('192.0.2.100'));
  const p = parseArp(req)!;
  assert.equal(p.op, ARP_REQUEST);
  assert.equal(formatIp(p.targetIp), '192.0.2.100');
  const r = parseArp(arpReply(p, ours, ip('192.0.2.100')))!;
  assert.equal(r.op, ARP_REPLY);
  assert.equal(formatMac(r.senderMac), '02:00:00:00:00:aa');
  assert.equal(formatIp(r.senderIp), '192.0.2.100');
  assert.equal(formatMac(r.targetMac), '02:00:00:00:00:01');
  assert.equal(formatIp(r.targetIp), '192.0.2.1');
  assert.equal(parseArp(req.subarray(0, 20)), undefined, 'short');
  const notIpv4 = Buffer.from(req);
  notIpv4.writeUInt16BE(0x86dd, 2);
  assert.equal(parseArp(notIpv4), undefined, 'protocol type not IPv4');
});

test('gratuitous ARP: sender and target IP are the VIP; request to zero MAC, reply to broadcast', () => {
  const q = parseArp(gratuitousArp(ARP_REQUEST, ours, ip('192.0.2.100')))!;
  const r = parseArp(gratuitousArp(ARP_REPLY, ours, ip('192.0.2.100')))!;
  for (const g of [q, r]) {
    assert.equal(formatIp(g.senderIp), '192.0.2.100');
    assert.equal(formatIp(g.targetIp), '192.0.2.100');
    assert.equal(formatMac(g.senderMac), '02:00:00:00:00:aa');
  }
  assert.equal(formatMac(q.targetMac), '00:00:00:00:00:00');
  assert.equal(formatMac(r.targetMac), 'ff:ff:ff:ff:ff:ff');
});

function ns(target: string, slla?: Buffer): Buffer {
  const b = Buffer.alloc(slla ? 32 : 24);
  b[0] = 135;
  const t = ip(target);
  for (let i = 0; i < 16; i++) b[8 + i] = Number((t.value >> BigInt((15 - i) * 8)) & 0xffn);
  if (slla) { b[24] = 1; b[25] = 1; slla.copy(b, 26); }
  return b;
}

test('NS: target and source link-layer option; a zero-length option invalidates it', () => {
  const p = parseNeighborSolicitation(ns('2001:db8::100', asker))!;
  assert.equal(formatIp(p.target), '2001:db8::100');
  assert.equal(formatMac(p.sourceMac!), '02:00:00:00:00:01');
  assert.equal(parseNeighborSolicitation(ns('2001:db8::100'))!.sourceMac, undefined, 'DAD probes carry none');
  const bad = ns('2001:db8::100', asker);
  bad[25] = 0;
  assert.equal(parseNeighborSolicitation(bad), undefined);
  const na = Buffer.from(ns('2001:db8::100'));
  na[0] = 136;
  assert.equal(parseNeighborSolicitation(na), undefined, 'not a solicitation');
});

test('solicited-node group and its multicast MAC', () => {
  assert.equal(formatIp(solicitedNodeGroup(ip('2001:db8::12:3456'))), 'ff02::1:ff12:3456');
  assert.equal(formatMac(ipv6MulticastMac(ALL_NODES)), '33:33:00:00:00:01');
});

test('NA: IPv6 header from the VIP with hop limit 255, S and O flags, target option, valid checksum', () => {
  const dst = Buffer.from('20010db8000000000000000000000001', 'hex');
  const p = neighborAdvertisement(ip('2001:db8::100'), ours, dst, NA_SOLICITED | NA_OVERRIDE);
  assert.equal(p.length, 72);
  assert.equal(p[0]! >> 4, 6);
  assert.equal(p[6], 58);
  assert.equal(p[7], 255);
  assert.equal(p.subarray(8, 24).toString('hex'), '20010db8000000000000000000000100');
  assert.equal(p[40], 136);
  assert.equal(p[44], 0x60);
  assert.equal(p.subarray(48, 64).toString('hex'), '20010db8000000000000000000000100');
  assert.deepEqual([p[64], p[65]], [2, 1]);
  assert.equal(formatMac(p.subarray(66, 72)), '02:00:00:00:00:aa');
  assert.ok(icmpv6ChecksumOk(p));
  const corrupted = Buffer.from(p);
  corrupted[70]! ^= 0xff;
  assert.ok(!icmpv6ChecksumOk(corrupted));
  assert.ok(icmpv6ChecksumOk(neighborAdvertisement(ip('fd50::201'), ours, ALL_NODES, NA_OVERRIDE)));
});

const iface = (name: string, o: Partial<NetInterface> = {}): NetInterface => ({
  name, index: 1, mac: ours, up: true, link: true, broadcast: true, noArp: false, loopback: false, enslaved: false, ipv6LinkLocal: true, ...o,
});

test('usable interfaces: MetalLB\'s set (up, not enslaved, not NOARP), and never one without link', () => {
  const all = [
    iface('eth0'), iface('down', { up: false }), iface('nolink', { link: false }), iface('bond-member', { enslaved: true }),
    iface('tun0', { noArp: true, broadcast: false }), iface('lo', { loopback: true, broadcast: false }), iface('v4only', { ipv6LinkLocal: false }),
    iface('ptp', { broadcast: false }),
  ];
  const u = usableInterfaces(all);
  assert.deepEqual(u.arp.map((i) => i.name), ['eth0', 'v4only']);
  assert.deepEqual(u.ndp.map((i) => i.name), ['eth0', 'ptp']);
  assert.deepEqual(selectInterfaces(u.arp, ['v4only', 'nolink']).map((i) => i.name), ['v4only']);
  assert.deepEqual(selectInterfaces(u.arp, 'all').map((i) => i.name), ['eth0', 'v4only']);
});
