// Seed messages for the fuzzer: real encodings of every message kind, attribute and capability
// ironlb knows, plus any captures saved as test/fixtures/bgp/*.bin (raw BGP byte streams).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIp } from '../../src/net/ip.ts';
import { parsePrefix } from '../../src/net/prefix.ts';
import { encodeOpen } from '../../src/bgp/open.ts';
import { buildOpen } from '../../src/bgp/fsm.ts';
import { encodeUpdate, encodeEndOfRib } from '../../src/bgp/update.ts';
import { encodeNotification, shutdownCommunication } from '../../src/bgp/notification.ts';
import { encodeRouteRefresh } from '../../src/bgp/route-refresh.ts';
import { KEEPALIVE } from '../../src/bgp/keepalive.ts';
import type { PathAttributes } from '../../src/bgp/attributes.ts';

const ip = (s: string) => parseIp(s)!;
const pfx = (s: string) => ({ prefix: parsePrefix(s)!.prefix });

export const LOCAL_ASN = 65001;
export const PEER_ASN = 65002;

/** An OPEN the fuzzed session accepts (peer AS 65002), with every capability. */
export function peerOpen(opts: { ext?: boolean; fourOctet?: boolean } = {}): Buffer {
  const o = buildOpen({ myAsn: PEER_ASN, peerAsn: LOCAL_ASN, routerId: 0x0a000002, holdTimeSeconds: 90, families: [4, 6], gracefulRestart: { restartTimeSeconds: 120 }, restarting: true, extendedMessage: opts.ext ?? true, addPathSend: true });
  if (opts.fourOctet !== false) return encodeOpen(o);
  const { fourOctetAsn: _drop, ...caps } = o.capabilities;
  return encodeOpen({ ...o, capabilities: caps });
}

function fullAttributes(): PathAttributes {
  return {
    origin: 0, asPath: [{ type: 2, asns: [65002, 4200000000, 1] }, { type: 1, asns: [7, 8] }], nextHop: ip('192.0.2.1'), med: 10, localPref: 100,
    atomicAggregate: true, aggregator: { asn: 65002, address: ip('192.0.2.9') }, communities: [0xfde80001, 0xffffff01],
    originatorId: 0x01020304, clusterList: [1, 2], extendedCommunities: [Buffer.from([0, 2, 0xfd, 0xe8, 0, 0, 0, 1])],
    as4Path: [{ type: 2, asns: [4200000000] }], as4Aggregator: { asn: 4200000000, address: ip('192.0.2.9') },
    largeCommunities: [{ global: 1, local1: 2, local2: 3 }], other: [{ flags: 0xc0, type: 99, value: Buffer.from([1, 2, 3]) }],
  };
}

export function seedMessages(): Buffer[] {
  const out: Buffer[] = [peerOpen(), peerOpen({ ext: false, fourOctet: false }), KEEPALIVE];
  out.push(encodeUpdate({ withdrawn: [], attributes: fullAttributes(), nlri: [pfx('203.0.113.0/24'), pfx('10.0.0.0/8'), pfx('0.0.0.0/0'), pfx('198.51.100.7/32')] }, true));
  out.push(encodeUpdate({ withdrawn: [], attributes: { origin: 2, asPath: [{ type: 2, asns: [65002, 23456] }], nextHop: ip('192.0.2.1'), as4Path: [{ type: 2, asns: [4200000000] }], other: [] }, nlri: [pfx('203.0.113.0/25')] }, false));
  out.push(encodeUpdate({ withdrawn: [pfx('203.0.113.0/24'), pfx('10.1.0.0/16')], attributes: { other: [] }, nlri: [] }, true));
  out.push(encodeUpdate({ withdrawn: [], attributes: { origin: 0, asPath: [], med: 1, other: [], mpReach: { afi: 2, safi: 1, nextHops: [ip('2001:db8::1'), ip('fe80::1')], nlri: [pfx('2001:db8:1::/48'), pfx('2001:db8::5/128')] } }, nlri: [] }, true));
  out.push(encodeUpdate({ withdrawn: [], attributes: { other: [], mpUnreach: { afi: 2, safi: 1, withdrawn: [pfx('2001:db8:1::/48')] } }, nlri: [] }, true));
  out.push(encodeUpdate({ withdrawn: [], attributes: { origin: 0, asPath: [], other: [], mpReach: { afi: 1, safi: 1, nextHops: [ip('192.0.2.1')], nlri: [{ prefix: parsePrefix('10.9.0.0/16')!.prefix, pathId: 7 }] } }, nlri: [] }, true));
  out.push(encodeEndOfRib(4), encodeEndOfRib(6));
  out.push(encodeNotification({ code: 6, subcode: 2, data: shutdownCommunication('maintenance') }), encodeNotification({ code: 3, subcode: 11, data: Buffer.alloc(0) }));
  out.push(encodeRouteRefresh({ afi: 1, subtype: 0, safi: 1 }), encodeRouteRefresh({ afi: 2, subtype: 1, safi: 1 }));
  return [...out, ...captures()];
}

/** Saved byte streams (e.g. tcpdump payloads of FRR/BIRD sessions), cut into messages. */
function captures(): Buffer[] {
  const dir = new URL('../fixtures/bgp/', import.meta.url).pathname;
  let names: string[];
  try { names = readdirSync(dir).filter((n) => n.endsWith('.bin')); } catch { return []; }
  const out: Buffer[] = [];
  for (const n of names) {
    const b = readFileSync(join(dir, n));
    for (let p = 0; p + 19 <= b.length;) {
      const len = b.readUInt16BE(p + 16);
      if (len < 19 || p + len > b.length) break;
      out.push(b.subarray(p, p + len));
      p += len;
    }
  }
  return out;
}
