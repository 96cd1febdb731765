// The admission decision and the BGPPeer conversion, without an API server (test/cluster/ has
// them called by a real one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admit, type AdmissionRequest } from './admission.ts';
import { convertBGPPeer, convertReview } from './conversion.ts';

const ns = 'metallb-system';
const pool = (name: string, addresses: string[], namespace = ns) => ({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace }, spec: { addresses } });
const req = (object: Record<string, unknown>, operation: AdmissionRequest['operation'] = 'CREATE'): AdmissionRequest => {
  const [group, version] = String(object.apiVersion).split('/') as [string, string];
  const meta = object.metadata as { name: string; namespace: string };
  return { uid: 'u1', kind: { group, version, kind: String(object.kind) }, operation, name: meta.name, namespace: meta.namespace, object };
};

test('a pool overlapping another is refused with the validator\'s message', () => {
  const v = admit(req(pool('b', ['10.0.0.128/25'])), [pool('a', ['10.0.0.0/24'])], ns);
  assert.equal(v.allowed, false);
  assert.match(v.message!, /IPAddressPool\/metallb-system\/b/);
  assert.match(v.message!, /overlap/);
});

test('a malformed address is refused naming the field', () => {
  const v = admit(req(pool('b', ['10.0.0.300/24'])), [], ns);
  assert.equal(v.allowed, false);
  assert.match(v.message!, /spec\.addresses\[0\]/);
});

test('a valid pool is admitted; an update of the same pool replaces it (no overlap with itself)', () => {
  assert.deepEqual(admit(req(pool('a', ['10.0.0.0/24'])), [], ns), { allowed: true });
  assert.equal(admit(req(pool('a', ['10.0.0.0/23']), 'UPDATE'), [pool('a', ['10.0.0.0/24'])], ns).allowed, true);
});

test('errors already in the cluster do not block an unrelated change', () => {
  const broken = [pool('x', ['10.1.0.0/24']), pool('y', ['10.1.0.0/25'])];
  assert.equal(admit(req(pool('z', ['10.9.0.0/24'])), broken, ns).allowed, true);
});

test('another namespace is refused, as MetalLB does', () => {
  const v = admit(req(pool('a', ['10.0.0.0/24'], 'default')), [], ns);
  assert.equal(v.allowed, false);
  assert.match(v.message!, /MetalLB namespace "metallb-system"/);
});

test('references that may come later are not checked: password Secret, BFD profile', () => {
  const peer = { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'p', namespace: ns }, spec: { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', passwordSecret: { name: 'later' }, bfdProfile: 'later' } };
  assert.equal(admit(req(peer), [], ns).allowed, true);
});

test('deleting a BFDProfile a BGPPeer uses is refused; other deletes pass', () => {
  const peer = { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'p', namespace: ns }, spec: { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', bfdProfile: 'fast' } };
  const del: AdmissionRequest = { uid: 'u', kind: { group: 'metallb.io', version: 'v1beta1', kind: 'BFDProfile' }, operation: 'DELETE', name: 'fast', namespace: ns };
  const v = admit(del, [peer], ns);
  assert.equal(v.allowed, false);
  assert.match(v.message!, /used by BGPPeer p/);
  assert.equal(admit({ ...del, name: 'slow' }, [peer], ns).allowed, true);
});

test('a v1beta1 BGPPeer is admitted with the deprecation warning', () => {
  const peer = { apiVersion: 'metallb.io/v1beta1', kind: 'BGPPeer', metadata: { name: 'p', namespace: ns }, spec: { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', holdTime: '90s' } };
  const v = admit(req(peer), [], ns);
  assert.equal(v.allowed, true);
  assert.ok(v.warnings?.some((w) => /deprecated/.test(w)));
});

test('conversion: v1beta1 up to v1beta2 (timers made explicit) and back, metadata and status kept', () => {
  const old = { apiVersion: 'metallb.io/v1beta1', kind: 'BGPPeer', metadata: { name: 'p', namespace: ns, uid: 'x', resourceVersion: '7' }, spec: { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', peerPort: 0 }, status: { a: 1 } };
  const up = convertBGPPeer(old, 'metallb.io/v1beta2');
  assert.equal(up.apiVersion, 'metallb.io/v1beta2');
  assert.deepEqual(up.metadata, old.metadata);
  assert.deepEqual(up.status, old.status);
  assert.deepEqual(up.spec, { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', holdTime: '0s', keepaliveTime: '0s' });
  const down = convertBGPPeer({ ...up, spec: { ...(up.spec as object), vrf: 'red', enableGracefulRestart: true } }, 'metallb.io/v1beta1');
  assert.equal(down.apiVersion, 'metallb.io/v1beta1');
  assert.deepEqual(down.spec, { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', holdTime: '0s', keepaliveTime: '0s' });
  const r = convertReview({ uid: 'u', desiredAPIVersion: 'metallb.io/v2', objects: [old] });
  assert.equal(r.result.status, 'Failure');
});

test('a BFD profile with echo mode: refused for ironlb\'s own BFD, admitted when frr-k8s runs BFD ($METALLB_BGP_TYPE=frr-k8s)', () => {
  const echo = { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name: 'echo', namespace: ns }, spec: { echoMode: true } };
  const native = admit(req(echo), [], ns);
  assert.equal(native.allowed, false);
  assert.match(native.message!, /spec\.echoMode: echo mode is not supported by ironlb's own BFD .*--bgp-backend frr-k8s/);
  assert.deepEqual(admit(req(echo), [], ns, { bgpBackend: 'frr-k8s' }), { allowed: true });
});
