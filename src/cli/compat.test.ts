// MetalLB's own samples and rejected cases through `validate` (issue #9 item 12).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostic } from '../api/diagnostics.ts';
import { validatePaths } from './validate.ts';

function folder(t: { after: (f: () => void) => void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ilb-compat-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const pool = 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [10.1.0.0/24]}\n';

test("a peer as MetalLB's converter writes it (passwordSecret: {}) is valid, and a Deployment beside the CRs is skipped with a note", (t) => {
  const dir = folder(t, {
    'peer.yaml': 'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: peer1, namespace: metallb-system}\nspec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.1, passwordSecret: {}}\n',
    'pool.yaml': pool,
    'app.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: nginx, namespace: default}\nspec: {replicas: 1}\n',
  });
  const r = validatePaths([dir]);
  assert.deepEqual(r.errors.map(formatDiagnostic), []);
  assert.equal(r.valid, true);
  assert.ok(r.config?.peers[0] && r.config.peers[0].password === undefined);
  assert.deepEqual(r.warnings.map((d) => `${d.object?.kind} ${d.message.slice(0, 60)}`), ['Deployment ignored: Deployment (apps/v1) is not configuration ironlb re']);
});

test('structural and semantic errors come out in one run, and a typo does not hide the object from the checks of meaning', (t) => {
  const dir = folder(t, {
    'pool.yaml': 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [10.1.0.0/24], autoAsign: false}\n',
    'peer.yaml': 'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: r, namespace: metallb-system}\nspec: {myASN: 64500, peerASN: 64500, peerAddress: 10.0.0.1, ebgpMultiHop: true, holdTme: 9s}\n',
    'ad.yaml': 'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a, namespace: metallb-system}\nspec: {ipAddressPools: [p], peers: [r]}\n',
  });
  const r = validatePaths([dir]);
  assert.deepEqual(r.errors.map((d) => `${d.object?.kind}/${d.object?.name} ${d.path}`), [
    'BGPPeer/r spec.holdTme', 'IPAddressPool/p spec.autoAsign', 'BGPPeer/r spec.ebgpMultiHop',
  ]);
});

test('the AS number range reads the same in every message: v1beta2, legacy ConfigMap, semantic', (t) => {
  const dir = folder(t, {
    'peer.yaml': 'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: r, namespace: metallb-system}\nspec: {myASN: 4294967296, peerASN: 64501, peerAddress: 10.0.0.1}\n---\n' +
      'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: s, namespace: metallb-system}\nspec: {myASN: 0, peerASN: 64501, peerAddress: 10.0.0.2}\n',
    'legacy.yaml': 'peers:\n- my-asn: 0\n  peer-asn: 64501\n  peer-address: 10.0.0.3\n',
  });
  const messages = validatePaths([dir]).errors.map((d) => d.message);
  assert.equal(messages.length, 3, messages.join('\n'));
  for (const m of messages) assert.match(m, /an AS number from 1 to 4294967295/);
});
