// Two `ironlb controller` processes with a coordination.k8s.io Lease against the real apiserver:
// one writes, the other stands by with warm informers; kill -9 of the leader and the standby takes
// over once the lease runs out (the Lease says 10 s: with the 2 s retry that bounds the takeover
// at ~12 s, the 15 s; the time is printed, not asserted, since a loaded machine stretches
// it), allocates the next Service, and no IP moves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { apply, ironlbNamespace as ns, startIronlbControlPlane, until } from './ironlb-setup.ts';
import { clusterSuiteOptions, createNamespace, type ControlPlane } from './index.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects

describe('two controllers with a Lease', clusterSuiteOptions(), () => {
  let cp: ControlPlane;
  const procs: ChildProcess[] = [];
  before(async () => {
    cp = await startIronlbControlPlane('lease');
    await apply(cp, `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: p, namespace: ${ns} }\nspec: { addresses: ["192.0.2.0/28"] }\n`);
  });
  after(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null && p.pid !== undefined) p.kill('SIGKILL');
    await cp?.stop();
  });

  const start = (name: string): ChildProcess => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'controller', '--kubeconfig', cp.kubeconfigPath, '-n', ns, '--webhook-port', '0'], {
      env: { ...process.env, POD_NAME: name, IRONLB_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'],
    });
    procs.push(p);
    return p;
  };
  const holder = async (): Promise<string | undefined> => {
    const r = await cp.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/ironlb-controller`);
    return r.status === 200 ? (r.body as Json).spec?.holderIdentity as string | undefined : undefined;
  };
  const ipOf = async (namespace: string, name: string): Promise<string | undefined> => {
    const r = await cp.request('GET', `/api/v1/namespaces/${namespace}/services/${name}`);
    return ((r.body as Json).status?.loadBalancer?.ingress?.[0]?.ip as string | undefined) ?? undefined;
  };
  const service = async (namespace: string, name: string) => {
    const r = await cp.kubectl(['apply', '-f', '-'], { input: `apiVersion: v1\nkind: Service\nmetadata: { name: ${name}, namespace: ${namespace} }\nspec: { type: LoadBalancer, ports: [{ port: 80 }] }\n` });
    assert.equal(r.code, 0, r.stderr);
  };

  test('kill -9 of the leader: the standby takes over when the 10 s lease runs out and no IP moves', async () => {
    const apps = await createNamespace(cp, 'apps');
    const a = start('ctl-a');
    await until('ctl-a leads', async () => ((await holder()) === 'ctl-a' ? true : undefined), 60_000);
    start('ctl-b');
    await service(apps, 's1');
    await service(apps, 's2');
    const before = [await until('s1 IP', () => ipOf(apps, 's1'), 30_000), await until('s2 IP', () => ipOf(apps, 's2'), 30_000)];
    await sleep(3000); // ctl-b is up and following
    assert.equal(await holder(), 'ctl-a');
    const lease = (await cp.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/ironlb-controller`)).body as Json;
    assert.equal(lease.spec?.leaseDurationSeconds, 10, 'the lease that bounds the takeover');
    const killed = Date.now();
    process.kill(a.pid!, 'SIGKILL');
    await service(apps, 's3');
    const ip3 = await until('s3 IP from the new leader', () => ipOf(apps, 's3'), 60_000);
    const takeover = Date.now() - killed;
    assert.equal(await holder(), 'ctl-b');
    assert.deepEqual([await ipOf(apps, 's1'), await ipOf(apps, 's2')], before);
    assert.ok(!before.includes(ip3));
    process.stderr.write(`# takeover after kill -9: ${takeover} ms\n`);
  });
});
