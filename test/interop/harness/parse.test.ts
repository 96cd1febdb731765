// The harness's parsers, on output captured from BIRD 2.0.12 and vtysh (FRR 8.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBirdRoutes } from './bird.ts';
import { parseJsonStream } from './common.ts';

const birdOutput = `BIRD 2.0.12 ready.
Table master4:
198.51.100.1/32      unreachable [n_127_0_43_11 20:11:02.123 from 127.0.43.11] * (100/-) [AS4200000001i]
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 4200000001 4200000001 4200000001
\tBGP.next_hop: 127.0.43.11
\tBGP.med: 10
\tBGP.local_pref: 100
\tBGP.community: (65000,2) (65000,1)
\tBGP.large_community: (4200000001, 1, 2)
                     unreachable [n_127_0_43_12 20:11:02.125 from 127.0.43.12] (100/-) [i]
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 
\tBGP.next_hop: 127.0.43.12
\tBGP.local_pref: 300
`;

test('BIRD: route lines, continuation paths and every attribute', () => {
  assert.deepEqual(parseBirdRoutes(birdOutput), [
    { prefix: '198.51.100.1/32', nextHop: '127.0.43.11', asPath: [4200000001, 4200000001, 4200000001], med: 10, localPref: 100,
      communities: ['65000:1', '65000:2'], largeCommunities: ['4200000001:1:2'], from: '127.0.43.11' },
    { prefix: '198.51.100.1/32', nextHop: '127.0.43.12', asPath: [], localPref: 300, communities: [], largeCommunities: [], from: '127.0.43.12' },
  ]);
  assert.deepEqual(parseBirdRoutes('BIRD 2.0.12 ready.\nTable master6:\n'), []);
});

test('vtysh: concatenated JSON documents are split, braces inside strings ignored', () => {
  assert.deepEqual(parseJsonStream('{"a":1}\n{"b":"}{"}\n[1,{"c":[2]}]\n'), [{ a: 1 }, { b: '}{' }, [1, { c: [2] }]]);
  assert.deepEqual(parseJsonStream(''), []);
});
