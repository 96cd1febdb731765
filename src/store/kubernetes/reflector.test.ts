// What the reflector's cache keeps of an object: everything but the field owners and kubectl's
// last-applied copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slim } from './reflector.ts';

test('slim drops managedFields and the last-applied annotation, keeps the rest, leaves a lean object as it is', () => {
  const svc = {
    kind: 'Service',
    metadata: {
      name: 'web', namespace: 'a', resourceVersion: '7', managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":true}', 'metallb.io/loadBalancerIPs': '192.0.2.1' },
    },
    spec: { type: 'LoadBalancer' },
  };
  const s = slim(svc);
  assert.deepEqual(s, { kind: 'Service', metadata: { name: 'web', namespace: 'a', resourceVersion: '7', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.1' } }, spec: { type: 'LoadBalancer' } });
  assert.ok(svc.metadata.managedFields, 'the object given is not changed');
  const lean = { metadata: { name: 'x', annotations: { a: 'b' } } };
  assert.equal(slim(lean), lean);
});
