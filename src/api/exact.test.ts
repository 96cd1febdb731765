import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exact } from './exact.ts';

test('exact: the same elements in a new array; every empty one is the same frozen array', () => {
  const grown: (number | undefined)[] = [];
  grown.push(1, undefined, 3);
  const e = exact(grown);
  assert.deepEqual(e, [1, undefined, 3]);
  assert.notEqual(e, grown);
  grown.push(4);
  assert.equal(e.length, 3, 'a copy: later pushes to the original do not show');
  assert.equal(exact([]), exact([].filter(Boolean)));
  assert.ok(Object.isFrozen(exact([])));
});
