// MetalLB's speaker outside a pod, the first step of the speaker half of issue #13: with the flags
// of metallb.ts it starts against the real apiserver for a Node and its own Pod object (both made by
// hand: no kubelet here) and reports its configuration in ConfigurationState speaker-<node>. No
// BGP peer and no L2Advertisement are configured, so it announces nothing and opens no session.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterSuiteOptions, coreTools, createNamespace, createNode, startControlPlane, toolVersions, type ControlPlane } from '../cluster/index.ts';
import { installMetallbCrds, startMetallbSpeaker } from './metallb.ts';

describe(`MetalLB's speaker v${toolVersions.metallb} outside a pod`, { ...clusterSuiteOptions([...coreTools, 'metallb-speaker']), timeout: 300_000 }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane({ name: 'diff-speaker' });
    await installMetallbCrds(cp);
  });
  after(async () => { await cp?.stop(); });

  test('starts for a Node and its Pod, and reports a valid configuration in ConfigurationState', async () => {
    const ns = await createNamespace(cp, 'metallb-speaker');
    await createNode(cp, 'diff-node-a', { addresses: [{ type: 'InternalIP', address: '192.0.2.101' }] });
    const pod = await cp.request('POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: 'speaker-a', labels: { app: 'metallb', component: 'speaker' } },
      spec: { nodeName: 'diff-node-a', containers: [{ name: 'speaker', image: 'quay.io/metallb/speaker:v0.15.3' }] },
    });
    assert.equal(pod.status, 201, JSON.stringify(pod.body));
    const pool = await cp.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: ${ns}}\nspec: {addresses: [192.0.2.0/29]}\n`,
    });
    assert.equal(pool.code, 0, pool.stderr);
    const speaker = await startMetallbSpeaker(cp, ns, 'diff-node-a', 'speaker-a');
    try {
      let state: { status?: { result?: string } } | undefined;
      // MetalLB first writes the object with result Unknown, then its verdict: wait for the verdict.
      for (let i = 0; i < 100 && (state?.status?.result === undefined || state.status.result === 'Unknown'); i++) {
        const r = await cp.request('GET', `/apis/metallb.io/v1beta1/namespaces/${ns}/configurationstates/speaker-diff-node-a`);
        if (r.status === 200) state = r.body as typeof state;
        await sleep(200);
      }
      assert.equal(state?.status?.result, 'Valid', JSON.stringify(state));
    } finally {
      await speaker.stop();
    }
  });
});
