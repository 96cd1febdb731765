// The launcher against the real binaries: version stamping, the admin kubeconfig in client-node,
// kubectl and helm, the helpers that stand in for missing controllers, RBAC as a ServiceAccount,
// an apiserver restart on the same etcd, and a stop that leaves nothing behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { get } from 'node:https';
import { join } from 'node:path';
import { CoreV1Api, DiscoveryV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import {
  clusterSuiteOptions, createEndpointSlice, createNamespace, createNode, serviceAccountKubeconfig, startControlPlane,
  toolVersions, type ControlPlane,
} from './index.ts';

const statusOf = (e: unknown) => (e as { code?: number }).code;
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
/** client-node's model classes as plain JSON, for deepEqual. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('control plane', clusterSuiteOptions(), () => {
  let cp: ControlPlane;
  before(async () => { cp = await startControlPlane({ name: 'launcher' }); });
  after(async () => { await cp?.stop(); });

  test('kube-apiserver and kubectl report the pinned, stamped version', async () => {
    const r = await cp.kubectl(['version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string; minor: string } };
    assert.equal(v.serverVersion.gitVersion, `v${toolVersions.kubernetes}`);
    assert.equal(v.clientVersion.gitVersion, `v${toolVersions.kubernetes}`);
    assert.equal(v.serverVersion.minor, toolVersions.kubernetes.split('.')[1]);
  });

  test('client-node uses the admin kubeconfig over TLS (the apiserver\'s own self-signed certificate)', async () => {
    const names = (await cp.kubeConfig.makeApiClient(CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name);
    for (const ns of ['default', 'kube-system', 'kube-public']) assert.ok(names.includes(ns), `${ns} in ${names.join(',')}`);
    assert.match(cp.server, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test('anonymous requests are refused: RBAC is on', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get(`${cp.server}/api/v1/namespaces`, { ca: readFileSync(cp.caPath) }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
    });
    assert.equal(status, 403); // system:anonymous has no binding
    const who = await cp.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}']);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^admin .*system:masters/);
    const can = await cp.kubectl(['auth', 'can-i', 'list', 'services', '--as=system:serviceaccount:default:nobody']);
    assert.equal(can.stdout.trim(), 'no');
  });

  test('helm installs and uninstalls a chart with the same kubeconfig', async () => {
    const chart = join(cp.dir, 'chart');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: probe\nversion: 0.1.0\nkubeVersion: ">=1.30.0-0"\n');
    writeFileSync(join(chart, 'templates', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  v: {{ .Capabilities.KubeVersion.Version | quote }}\n');
    const ns = await createNamespace(cp, 'helm');
    const v = await cp.helm(['version', '--short']);
    assert.match(v.stdout, new RegExp(`^v${toolVersions.helm.replace(/\./g, '\\.')}`), v.stdout + v.stderr);
    const inst = await cp.helm(['install', 'probe', chart, '--namespace', ns]);
    assert.equal(inst.code, 0, inst.stderr);
    const cm = await cp.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'probe-cm', namespace: ns });
    assert.equal(cm.data?.v, `v${toolVersions.kubernetes}`); // helm saw the real server version (kubeVersion check passed)
    const un = await cp.helm(['uninstall', 'probe', '--namespace', ns]);
    assert.equal(un.code, 0, un.stderr);
    await assert.rejects(cp.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'probe-cm', namespace: ns }), (e) => statusOf(e) === 404);
  });

  test('createNode: labels, addresses and a Ready condition written through /status', async () => {
    await createNode(cp, 'node-a', { labels: { rack: 'r1' }, addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] });
    await createNode(cp, 'node-b', { ready: false });
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const a = await core.readNode({ name: 'node-a' });
    assert.equal(a.metadata?.labels?.rack, 'r1');
    assert.equal(a.metadata?.labels?.['kubernetes.io/hostname'], 'node-a');
    assert.deepEqual(plain(a.status?.addresses), [{ type: 'InternalIP', address: '192.0.2.11' }]);
    assert.equal(a.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const b = await core.readNode({ name: 'node-b' });
    assert.equal(b.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    const selected = await core.listNode({ labelSelector: 'rack=r1' });
    assert.deepEqual(selected.items.map((n) => n.metadata?.name), ['node-a']);
  });

  test('createEndpointSlice: found by the kubernetes.io/service-name label, address type from the addresses', async () => {
    const ns = await createNamespace(cp, 'slices');
    await createEndpointSlice(cp, ns, 'web', [{ addresses: ['10.1.0.5'], nodeName: 'node-a' }, { addresses: ['10.1.0.6'], ready: false }]);
    await createEndpointSlice(cp, ns, 'web', [{ addresses: ['fd00::5'], nodeName: 'node-a' }]);
    await createEndpointSlice(cp, ns, 'other', [{ addresses: ['10.1.0.9'] }]);
    const slices = await cp.kubeConfig.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: ns, labelSelector: 'kubernetes.io/service-name=web' });
    assert.deepEqual(slices.items.map((s) => s.addressType).sort(), ['IPv4', 'IPv6']);
    const v4 = slices.items.find((s) => s.addressType === 'IPv4');
    assert.deepEqual(plain(v4?.endpoints.map((e) => [e.addresses[0], e.nodeName, e.conditions?.ready])), [['10.1.0.5', 'node-a', true], ['10.1.0.6', null, false]]);
  });

  test('a ServiceAccount token from the TokenRequest API: refused (403) without RBAC, allowed after a RoleBinding', async () => {
    const ns = await createNamespace(cp, 'rbac');
    const sa = await serviceAccountKubeconfig(cp, ns, 'ironlb-controller');
    const asSa = sa.kubeConfig.makeApiClient(CoreV1Api);
    await assert.rejects(asSa.listNamespacedService({ namespace: ns }), (e) => statusOf(e) === 403);
    const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: 'svc-read' }, rules: [{ apiGroups: [''], resources: ['services'], verbs: ['list'] }] } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'svc-read' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'svc-read' },
        subjects: [{ kind: 'ServiceAccount', name: 'ironlb-controller', namespace: ns }],
      },
    });
    // The RBAC authorizer's informers see the binding within moments.
    let items: unknown[] | undefined;
    for (let i = 0; i < 50 && !items; i++) {
      items = await asSa.listNamespacedService({ namespace: ns }).then((l) => l.items, () => undefined);
      if (!items) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(items, []);
    await assert.rejects(asSa.listNamespacedSecret({ namespace: ns }), (e) => statusOf(e) === 403);
    const who = await cp.kubectl(['--kubeconfig', sa.path, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(who.stdout, `system:serviceaccount:${ns}:ironlb-controller`, who.stderr);
  });

  test('restartApiserver: same etcd, ports and certificate; objects survive and the kubeconfig still works', async () => {
    const ns = await createNamespace(cp, 'restart');
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'keep' }, data: { a: '1' } } });
    const pid = readFileSync(join(cp.dir, 'apiserver.pid'), 'utf8');
    await cp.restartApiserver();
    assert.notEqual(readFileSync(join(cp.dir, 'apiserver.pid'), 'utf8'), pid);
    assert.equal((await core.readNamespacedConfigMap({ namespace: ns, name: 'keep' })).data?.a, '1');
  });

  test('bindAddress: the apiserver binds and advertises another address, and its certificate covers it', async () => {
    // What tests with network namespaces need: an address their speakers can route to (any 127/8 address is local here).
    const other = await startControlPlane({ name: 'bind', bindAddress: '127.0.0.2' });
    try {
      assert.match(other.server, /^https:\/\/127\.0\.0\.2:\d+$/);
      const ns = await other.kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: 'default' });
      assert.equal(ns.metadata?.name, 'default');
      const r = await other.kubectl(['get', '--raw', '/readyz']);
      assert.equal(r.stdout, 'ok', r.stderr);
    } finally {
      await other.stop();
    }
  });

  test('a control plane whose owner was killed (SIGKILL) is swept away by the next start', async () => {
    const script = join(cp.dir, 'orphan.mts');
    writeFileSync(script, `import { startControlPlane } from ${JSON.stringify(new URL('./index.ts', import.meta.url).pathname)};\n` +
      'const cp = await startControlPlane({ name: "orphan" });\nconsole.log(cp.dir);\nsetInterval(() => {}, 1000);\n');
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const dir = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(d.trim()));
      child.once('exit', (code) => reject(new Error(`orphan maker exited ${code}`)));
    });
    const pids = ['etcd.pid', 'apiserver.pid'].map((f) => Number(readFileSync(join(dir, f), 'utf8')));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    for (const pid of pids) assert.doesNotThrow(() => process.kill(pid, 0), 'the orphans outlive their owner');
    const next = await startControlPlane({ name: 'sweeper' });
    await next.stop();
    for (const pid of pids) {
      for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(alive(pid), false, `orphan ${pid} still runs`);
    }
    assert.equal(existsSync(dir), false);
  });

  test('stop: both processes gone, the folder removed', async () => {
    const pids = ['etcd.pid', 'apiserver.pid'].map((f) => Number(readFileSync(join(cp.dir, f), 'utf8')));
    const dir = cp.dir;
    await cp.stop();
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} still runs`);
    assert.equal(existsSync(dir), false);
  });
});
