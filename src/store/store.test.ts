import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Service } from '../api/resources.ts';
import { withIngress } from './store.ts';

const svc = (extra: object = {}): Service => structuredClone({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'ns' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] }, ...extra,
});

test('withIngress: the Service with its IPs in status, every other field kept, the input untouched', () => {
  for (const input of [svc(), svc({ status: { conditions: [{ type: 'x' }] } }), svc({ extra: { kept: true } })]) {
    const before = structuredClone(input);
    const out = withIngress(input, ['192.0.2.1', '2001:db8::1']);
    assert.deepEqual(out, { ...before, status: { ...before.status, loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { ip: '2001:db8::1' }] } } });
    assert.deepEqual(input, before);
    assert.equal(withIngress(input, ['192.0.2.1', '2001:db8::1']), out, 'the same merge is shared');
    assert.equal(withIngress(out, ['192.0.2.1', '2001:db8::1']), out, 'already so: the same object');
    assert.deepEqual(withIngress(out, []).status?.loadBalancer, {});
  }
});
