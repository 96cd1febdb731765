// Whatever a file holds, loading reports and never throws; what it loads is what the schemas allow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadText } from './load.ts';

test('arbitrary text never throws and every diagnostic has a position', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
    const r = loadText(text, 'f.yaml');
    for (const d of r.diagnostics) assert.ok(d.position, JSON.stringify(d));
  }), { numRuns: 300, seed: 42 });
});

const kinds = ['IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'L2Advertisement', 'BFDProfile', 'Community', 'Service', 'Node', 'ConfigMap'];
const versions = ['metallb.io/v1beta1', 'metallb.io/v1beta2', 'v1', 'discovery.k8s.io/v1'];

test('arbitrary objects of known kinds never throw; loaded ones carry their kind and name', () => {
  fc.assert(fc.property(
    fc.constantFrom(...kinds), fc.constantFrom(...versions), fc.option(fc.jsonValue({ maxDepth: 3 })), fc.option(fc.jsonValue({ maxDepth: 3 })),
    (kind, apiVersion, spec, data) => {
      const doc = { apiVersion, kind, metadata: { name: 'x', namespace: 'metallb-system' }, ...(spec !== null ? { spec } : {}), ...(data !== null ? { data } : {}) };
      const r = loadText(stringify(doc), 'f.yaml');
      for (const o of r.objects) assert.equal(o.object.metadata.name, kind === 'ConfigMap' ? o.object.metadata.name : 'x');
      for (const d of r.diagnostics) assert.ok(d.position);
    },
  ), { numRuns: 300, seed: 7 });
});
