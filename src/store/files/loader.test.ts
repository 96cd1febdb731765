import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiLoader } from './loader.ts';

test('positions are re-derived from the text when asked, in the same burst and in later ones', async () => {
  const text = 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: a\n  namespace: metallb-system\nspec:\n  addresses: [192.0.2.0/24]\n';
  const r = await apiLoader('pools.yaml', text);
  const o = r.objects[0]!;
  const first = o.positionOf(['metadata', 'name']);
  assert.equal(first?.line, 4);
  assert.deepEqual(o.positionOf(['spec', 'addresses', 0]), o.positionOf(['spec', 'addresses', 0]));
  // The parse made for the first burst is dropped after it; a later question parses again.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(o.positionOf(['metadata', 'name']), first);
});
