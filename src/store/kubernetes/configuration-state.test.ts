// ConfigurationState against a recording client: the speaker's refused FRRConfigurations make it
// Invalid with a condition of their own and one Warning Event on each object, in its namespace,
// when the problem is new; the MetalLB configuration's part is unchanged by them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../api/diagnostics.ts';
import type { ConfigurationStateStatus } from '../../api/status-kinds.ts';
import { ConfigurationStateWriter, frrConditionType } from './configuration-state.ts';
import { KubeApiError, type KubeClient } from './kube-client.ts';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects

function recorder() {
  const calls: { method: string; path: string; body?: Body }[] = [];
  const client = {
    request: (method: string, path: string, o: { body?: Body } = {}) => {
      calls.push({ method, path, ...(o.body ? { body: o.body } : {}) });
      if (method === 'GET') return Promise.reject(new KubeApiError(404, 'NotFound', 'not found', method, path));
      return Promise.resolve({});
    },
  } as unknown as KubeClient;
  const patches = () => calls.filter((c) => c.method === 'PATCH').map((c) => c.body!.status as ConfigurationStateStatus);
  const events = () => calls.filter((c) => c.path.endsWith('/events')).map((c) => ({ path: c.path, body: c.body! }));
  return { calls, client, patches, events };
}

const conflict = {
  configuration: 'frr-k8s-system/extra',
  message: 'FRRConfiguration frr-k8s-system/extra: spec.bgp.routers[0].neighbors[0]: neighbour 10.0.0.1 has ASN 64999 here and 64513 in BGPPeer metallb-system/tor; not applied on this node',
};

test('a refused FRRConfiguration: Invalid, its own condition, one Event on the object in its namespace; cleared: Valid', async () => {
  const { calls, client, patches, events } = recorder();
  let t = 0;
  const w = new ConfigurationStateWriter({ client, namespace: 'metallb-system', component: 'speaker', node: 'n1', now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, t++)) });
  await w.report([]);
  await w.reportFrrConfigurations([]);
  assert.deepEqual(patches().map((p) => [p.result, p.conditions.map((c) => `${c.type}=${c.status}`)]), [
    ['Valid', ['configReconcilerValid=True']],
    ['Valid', ['configReconcilerValid=True', `${frrConditionType}=True`]],
  ]);
  assert.equal(events().length, 0);
  calls.length = 0;

  await w.reportFrrConfigurations([conflict]);
  const [p] = patches();
  assert.equal(p!.result, 'Invalid');
  assert.equal(p!.errorSummary, conflict.message);
  const config = p!.conditions.find((c) => c.type === 'configReconcilerValid')!;
  const frr = p!.conditions.find((c) => c.type === frrConditionType)!;
  assert.deepEqual([config.status, config.lastTransitionTime], ['True', '2026-01-01T00:00:00Z'], 'the MetalLB configuration\'s condition did not move');
  assert.deepEqual([frr.status, frr.reason, frr.message], ['False', 'ConfigurationError', conflict.message]);
  const [e] = events();
  assert.match(e!.path, /\/namespaces\/frr-k8s-system\/events$/);
  assert.deepEqual(e!.body.involvedObject, { apiVersion: 'frrk8s.metallb.io/v1beta1', kind: 'FRRConfiguration', namespace: 'frr-k8s-system', name: 'extra' });
  assert.equal(e!.body.metadata.namespace, 'frr-k8s-system');
  assert.equal(e!.body.type, 'Warning');
  assert.equal(e!.body.message, `node n1: ${conflict.message}`);
  calls.length = 0;

  // The same problem again (every status write reports it): nothing written, no second Event.
  await w.reportFrrConfigurations([conflict]);
  assert.equal(calls.length, 0);

  // A MetalLB configuration error beside it: both in the summary; no second Event for the FRRConfiguration.
  const bad: Diagnostic = { severity: 'error', object: { kind: 'IPAddressPool', namespace: 'metallb-system', name: 'p' }, path: 'spec.addresses[0]', message: 'not a range' };
  await w.report([bad]);
  assert.equal(patches()[0]!.errorSummary, `error: IPAddressPool/metallb-system/p: spec.addresses[0]: not a range; ${conflict.message}`);
  assert.deepEqual(events().map((x) => x.body.involvedObject.kind), ['IPAddressPool']);
  await w.report([]);
  calls.length = 0;

  await w.reportFrrConfigurations([]);
  assert.equal(patches()[0]!.result, 'Valid');
  assert.equal(patches()[0]!.errorSummary, '');
  assert.equal(events().length, 0);
});

test('the controller (and a speaker with frr-k8s as its backend) has no FRRConfiguration condition', async () => {
  const { client, patches } = recorder();
  const w = new ConfigurationStateWriter({ client, namespace: 'metallb-system', component: 'controller' });
  await w.report([]);
  assert.deepEqual(patches()[0]!.conditions.map((c) => c.type), ['poolReconcilerValid']);
});
