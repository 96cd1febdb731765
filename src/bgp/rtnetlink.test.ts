import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, parseIp } from '../net/ip.ts';
import { formatPrefix, parsePrefix } from '../net/prefix.ts';
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, RTM_DELROUTE, RTM_NEWROUTE, encodeRoute, parseReplies } from './rtnetlink.ts';

const route = (prefix: string, hops: string[]) => ({ prefix: parsePrefix(prefix)!.prefix, table: 1000, protocol: 248, metric: 20, nextHops: hops.map((h) => parseIp(h)!) });

test('rtnetlink: a route request reads back as the route (table past 255 in RTA_TABLE, ECMP in RTA_MULTIPATH), flags per operation', () => {
  const r = route('2001:db8:5::/48', ['2001:db8::1', '2001:db8::2']);
  const b = encodeRoute('add', r, 7);
  assert.equal(b.readUInt32LE(0), b.length);
  assert.equal(b.readUInt16LE(4), RTM_NEWROUTE);
  assert.equal(b.readUInt16LE(6) & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE), NLM_F_CREATE | NLM_F_EXCL);
  const [back] = parseReplies(b);
  assert.equal(back?.kind, 'route');
  if (back?.kind !== 'route') return;
  assert.deepEqual([formatPrefix(back.route.prefix), back.route.table, back.route.protocol, back.route.metric, back.route.nextHops.map(formatIp)],
    ['2001:db8:5::/48', 1000, 248, 20, ['2001:db8::1', '2001:db8::2']]);
  assert.equal(encodeRoute('replace', r, 8).readUInt16LE(6) & NLM_F_REPLACE, NLM_F_REPLACE);
  const del = encodeRoute('delete', route('10.1.0.0/16', ['10.0.0.1']), 9);
  assert.equal(del.readUInt16LE(4), RTM_DELROUTE);
  assert.equal(del.readUInt16LE(6) & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE), 0);
  assert.ok(!del.includes(Buffer.from([10, 0, 0, 1])), 'a delete names no next hop: the whole route goes');
});

test('rtnetlink: an error ACK carries errno and the kernel\'s text (NETLINK_EXT_ACK), a capped one too', () => {
  const request = encodeRoute('add', route('10.1.0.0/16', ['10.0.0.1']), 42);
  const text = Buffer.from('Nexthop has invalid gateway\0');
  const tlv = Buffer.alloc(4 + ((text.length + 3) & ~3));
  tlv.writeUInt16LE(4 + text.length, 0);
  tlv.writeUInt16LE(1, 2);
  text.copy(tlv, 4);
  for (const capped of [false, true]) {
    const orig = capped ? request.subarray(0, 16) : request;
    const body = Buffer.concat([Buffer.alloc(4), orig, tlv]);
    body.writeInt32LE(-22, 0);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(16 + body.length, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(0x200 | (capped ? 0x100 : 0), 6);
    h.writeUInt32LE(42, 8);
    assert.deepEqual(parseReplies(Buffer.concat([h, body])), [{ kind: 'ack', seq: 42, errno: 22, message: 'Nexthop has invalid gateway' }]);
  }
});
