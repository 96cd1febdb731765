import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from './load.ts';
import { formatDiagnostic } from './diagnostics.ts';

const brief = (r: ReturnType<typeof loadText>) => r.diagnostics.map((d) => `${d.position?.line}:${d.position?.column} ${d.severity} ${d.path}: ${d.message}`);

test('multi-document YAML: every document is loaded, empty documents are skipped, positions are per document', () => {
  const text = [
    '---',
    'apiVersion: metallb.io/v1beta1',
    'kind: IPAddressPool',
    'metadata: {name: a, namespace: metallb-system}',
    'spec: {addresses: [10.0.0.0/24]}',
    '---',
    '---',
    'apiVersion: metallb.io/v1beta1',
    'kind: L2Advertisement',
    'metadata:',
    '  name: l2',
    '',
  ].join('\n');
  const r = loadText(text, 'm.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.objects.map((o) => [o.object.kind, o.object.metadata.name, o.source?.document]), [['IPAddressPool', 'a', 0], ['L2Advertisement', 'l2', 2]]);
  // Defaults as the CRD applies them, and an omitted spec is an empty one.
  assert.deepEqual((r.objects[0]?.object as { spec: unknown }).spec, { addresses: ['10.0.0.0/24'], autoAssign: true, avoidBuggyIPs: false });
  assert.deepEqual((r.objects[1]?.object as { spec: unknown }).spec, {});
  assert.deepEqual(r.objects[1]?.positionOf(['metadata', 'name']), { file: 'm.yaml', line: 11, column: 3 });
  // A field that is not there points at its nearest parent.
  assert.deepEqual(r.objects[1]?.positionOf(['spec', 'interfaces', 0]), { file: 'm.yaml', line: 8, column: 1 });
});

test('BGPPeer and BGPAdvertisement defaults', () => {
  const r = loadText('apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: p}\nspec: {myASN: 1, peerASN: 2, peerAddress: 10.0.0.1}\n---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a}\n', 'd.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual((r.objects[0]?.object as { spec: unknown }).spec, { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1', peerPort: 179, disableMP: false, dualStackAddressFamily: false });
  assert.deepEqual((r.objects[1]?.object as { spec: unknown }).spec, { aggregationLength: 32, aggregationLengthV6: 128 });
});

test('YAML syntax errors are diagnostics with positions; the other documents still load', () => {
  const r = loadText('apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\nkey: [unclosed\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: also-ok}\n', 's.yaml');
  assert.equal(r.objects.length, 2);
  assert.equal(r.diagnostics.length, 1);
  const d = r.diagnostics[0];
  assert.equal(d?.severity, 'error');
  assert.equal(d?.position?.file, 's.yaml');
  assert.equal(d?.position?.line, 6);
  assert.match(d?.message ?? '', /^YAML syntax error: /);
});

test('tabs and bad indentation are reported, not thrown', () => {
  const r = loadText('apiVersion: v1\nkind: Namespace\nmetadata:\n\tname: x\n', 't.yaml');
  assert.equal(r.objects.length, 0);
  assert.ok(r.diagnostics.length >= 1);
  assert.deepEqual([r.diagnostics[0]?.position?.line, r.diagnostics[0]?.severity], [4, 'error']);
});

test('duplicate keys are errors naming the key, at the second occurrence', () => {
  const r = loadText('apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: a\nspec:\n  addresses: [10.0.0.0/24]\n  addresses: [10.0.1.0/24]\n', 'dup.yaml');
  assert.deepEqual(brief(r), ['7:3 error : duplicate key "addresses" (each key may appear once in a mapping)']);
  assert.equal(r.objects.length, 0);
});

test('a List is unwrapped and its items keep their positions', () => {
  const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata: {name: node1}\n- apiVersion: metallb.io/v1beta1\n  kind: BFDProfile\n  metadata: {name: b}\n  spec:\n    detectMultiplier: 1\n';
  const r = loadText(text, 'list.yaml');
  assert.deepEqual(r.objects.map((o) => o.object.metadata.name), ['node1']);
  assert.deepEqual(brief(r), ['11:5 error spec.detectMultiplier: must be an integer from 2 to 255, got 1']);
  assert.deepEqual(r.objects[0]?.positionOf(['metadata', 'name']), { file: 'list.yaml', line: 6, column: 14 });
});

test('unknown kinds and unserved apiVersions name what is supported; other groups\' kinds are skipped with a note', () => {
  const r = loadText('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\napiVersion: metallb.io/v1alpha1\nkind: IPAddressPool\nmetadata: {name: p}\n---\nfoo: bar\n---\n[1, 2]\n---\napiVersion: metallb.io/v1beta1\nkind: IPAdressPool\nmetadata: {name: typo}\n', 'k.yaml');
  const supported = 'IPAddressPool, BGPPeer, BGPAdvertisement, L2Advertisement, BFDProfile, Community (metallb.io); Service, Node, Namespace, Secret, ConfigMap (v1); EndpointSlice (discovery.k8s.io); FRRConfiguration (frrk8s.metallb.io); List';
  assert.deepEqual(brief(r), [
    `2:1 warning kind: ignored: Deployment (apps/v1) is not configuration ironlb reads (it reads ${supported})`,
    '5:1 error apiVersion: apiVersion "metallb.io/v1alpha1" is not served for IPAddressPool (use metallb.io/v1beta1)',
    '9:1 error : apiVersion and kind are missing or not a string (every document needs apiVersion and kind)',
    '11:1 error : a document must be a mapping with apiVersion and kind, got a list',
    `14:1 error kind: unsupported kind "IPAdressPool" (metallb.io/v1beta1); supported: ${supported}`,
  ]);
  assert.deepEqual(r.diagnostics[0]?.object, { kind: 'Deployment', name: 'd' });
});

test('frr-k8s state kinds and MetalLB status kinds are skipped with a warning; FRRConfiguration is read', () => {
  const r = loadText('apiVersion: frrk8s.metallb.io/v1beta1\nkind: FRRConfiguration\nmetadata: {name: f}\n---\napiVersion: metallb.io/v1beta1\nkind: ServiceBGPStatus\nmetadata: {name: s}\n---\napiVersion: frrk8s.metallb.io/v1beta1\nkind: FRRNodeState\nmetadata: {name: n}\n', 'w.yaml');
  assert.deepEqual(r.objects.map((o) => o.object.kind), ['FRRConfiguration']);
  assert.deepEqual(r.diagnostics.map((d) => d.severity), ['warning', 'warning']);
});

test('all errors are reported in one run, each with its object and file:line:column', () => {
  const text = 'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: r1\n  namespace: metallb-system\nspec:\n  myASN: 64500\n  peerASN: 70000000000\n  peerPort: 0\n  holdTime: soon\n  typo: 1\n';
  const r = loadText(text, 'all.yaml');
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
    'all.yaml:8:3: error: BGPPeer/metallb-system/r1: spec.peerASN: must be an AS number from 1 to 4294967295, got 70000000000',
    'all.yaml:9:3: error: BGPPeer/metallb-system/r1: spec.peerPort: must be an integer from 1 to 16384, got 0',
    'all.yaml:10:3: error: BGPPeer/metallb-system/r1: spec.holdTime: must be a duration such as 90s, 1m30s, 500ms or 1h, got "soon"',
    'all.yaml:11:3: error: BGPPeer/metallb-system/r1: spec.typo: unknown field "typo" (allowed here: bfdProfile, connectTime, disableMP, dualStackAddressFamily, dynamicASN, ebgpMultiHop, enableGracefulRestart, gracefulRestart, holdTime, interface, keepaliveTime, localASN, myASN, nodeSelectors, password, passwordSecret, peerASN, peerAddress, peerPort, routerID, sourceAddress, vrf)',
  ]);
});

test('JSON files load with positions', () => {
  const r = loadText('{\n  "apiVersion": "metallb.io/v1beta1",\n  "kind": "BFDProfile",\n  "metadata": {"name": "b"},\n  "spec": {"echoInterval": 5}\n}\n', 'b.json');
  assert.deepEqual(brief(r), ['5:12 error spec.echoInterval: must be an integer from 10 to 60000, got 5']);
});

test('status and creationTimestamp: null (converter output) are accepted; status is dropped', () => {
  const r = loadText('apiVersion: metallb.io/v1beta1\nkind: Community\nmetadata:\n  creationTimestamp: null\n  name: communities\nspec:\n  communities:\n  - name: no-export\n    value: 65535:65281\nstatus: {}\n', 'c.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.objects[0]?.object, { apiVersion: 'metallb.io/v1beta1', kind: 'Community', metadata: { name: 'communities' }, spec: { communities: [{ name: 'no-export', value: '65535:65281' }] } });
});

test('core objects keep fields ironlb does not read', () => {
  const r = loadText('apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: default, ownerReferences: []}\nspec:\n  type: LoadBalancer\n  sessionAffinity: None\n  ports: [{port: 80, appProtocol: http}]\n', 's.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.equal((r.objects[0]?.object as { spec: Record<string, unknown> }).spec.sessionAffinity, 'None');
});

test('Service annotations with the legacy metallb.universe.tf/ prefix are accepted with a warning each', () => {
  const r = loadText('apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations:\n    metallb.universe.tf/address-pool: p\n    metallb.io/allow-shared-ip: k\n    metallb.universe.tf/allow-shared-ip: k\nspec: {type: LoadBalancer}\n', 'a.yaml');
  assert.equal(r.objects.length, 1);
  assert.deepEqual(brief(r), [
    '6:5 warning metadata.annotations.metallb.universe.tf/address-pool: deprecated annotation prefix metallb.universe.tf/: write metallb.io/address-pool',
    '8:5 warning metadata.annotations.metallb.universe.tf/allow-shared-ip: deprecated annotation prefix metallb.universe.tf/: write metallb.io/allow-shared-ip (metallb.io/allow-shared-ip is also set)',
  ]);
});

test('every YAML block of seeds 000 and 001 and every example loads without a structural error', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const files = [
    ...readdirSync('test/fixtures/api/valid').map((f) => `test/fixtures/api/valid/${f}`),
    ...readdirSync('examples').filter((f) => f.endsWith('.yaml')).map((f) => `examples/${f}`),
  ];
  assert.ok(files.length >= 27);
  let objects = 0;
  for (const f of files) {
    const r = loadText(readFileSync(f, 'utf8'), f);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic), [], f);
    objects += r.objects.length;
  }
  assert.ok(objects >= 45, `${objects} objects`);
});

test('a legacy ConfigMap whose data is not text is a structural error, not an empty config', () => {
  const r = loadText('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: metallb-system}\ndata:\n  config:\n    peers: []\n', 'cm.yaml');
  assert.deepEqual(brief(r), ['5:3 error data.config: must be a string, got a mapping']);
});
