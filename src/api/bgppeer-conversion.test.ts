import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from './load.ts';

const v1 = (spec: string) => `apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata:\n  name: old\n  namespace: metallb-system\nspec:\n  myASN: 64500\n  peerASN: 64501\n  peerAddress: 10.0.0.1\n${spec}`;

test('v1beta1 without timers becomes v1beta2 with explicit 0s timers, defaults applied, and a deprecation warning', () => {
  const r = loadText(v1(''), 'p.yaml');
  assert.equal(r.objects.length, 1);
  assert.deepEqual(r.objects[0]?.object, {
    apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'old', namespace: 'metallb-system' },
    spec: { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', holdTime: '0s', keepaliveTime: '0s', peerPort: 179, disableMP: false, dualStackAddressFamily: false },
  });
  // What `ironlb convert` prints: converted, without the defaults.
  assert.deepEqual(r.resources, [{
    apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'old', namespace: 'metallb-system' },
    spec: { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', holdTime: '0s', keepaliveTime: '0s' },
  }]);
  assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.path, d.message, d.position?.line, d.position?.column]), [[
    'warning', 'apiVersion',
    'BGPPeer metallb.io/v1beta1 is deprecated; read as metallb.io/v1beta2 (holdTime is unset, so it becomes 0s; keepaliveTime is unset, so it becomes 0s): write apiVersion metallb.io/v1beta2',
    1, 1,
  ]]);
});

test('v1beta1 fields are carried over; port 0 means the default port', () => {
  const r = loadText(v1('  holdTime: 90s\n  peerPort: 0\n  sourceAddress: 10.0.0.2\n  routerID: 1.1.1.1\n  password: s3cret\n  bfdProfile: fast\n  ebgpMultiHop: true\n  nodeSelectors:\n  - matchExpressions:\n    - {key: rack, operator: In, values: [a]}\n'), 'p.yaml');
  const spec = (r.objects[0]?.object as { spec: Record<string, unknown> }).spec;
  assert.deepEqual(spec, {
    myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', holdTime: '90s', keepaliveTime: '0s', sourceAddress: '10.0.0.2', routerID: '1.1.1.1',
    nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['a'] }] }], password: 's3cret', bfdProfile: 'fast', ebgpMultiHop: true,
    peerPort: 179, disableMP: false, dualStackAddressFamily: false,
  });
  assert.match(r.diagnostics[0]?.message ?? '', /\(keepaliveTime is unset, so it becomes 0s\)/);
  // Positions still point into the v1beta1 text.
  assert.deepEqual(r.objects[0]?.positionOf(['spec', 'bfdProfile']), { file: 'p.yaml', line: 15, column: 3 });
});

test('disableMP: true is accepted with a warning that it has no effect', () => {
  const r = loadText('apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: p\nspec:\n  myASN: 1\n  peerASN: 2\n  peerAddress: 10.0.0.1\n  disableMP: true\n', 'p.yaml');
  assert.equal(r.objects.length, 1);
  assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.path, d.position?.line]), [['warning', 'spec.disableMP', 9]]);
  assert.match(r.diagnostics[0]?.message ?? '', /^has no effect/);
});
