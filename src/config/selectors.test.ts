import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type LabelSelector, compileSelector } from '../net/selector.ts';
import { selectorListsIntersect, selectorsIntersect } from './selectors.ts';

const s = (sel: LabelSelector) => compileSelector(sel);
const host = (h: string) => s({ matchLabels: { 'kubernetes.io/hostname': h } });

test('two selectors meet unless one key makes them contradict', () => {
  const cases: [LabelSelector, LabelSelector, boolean][] = [
    [{ matchLabels: { a: 'x' } }, { matchLabels: { a: 'y' } }, false],
    [{ matchLabels: { a: 'x' } }, { matchLabels: { b: 'y' } }, true],
    [{ matchLabels: { a: 'x' } }, { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] }, false],
    [{ matchLabels: { a: 'x' } }, { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['y'] }] }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['x', 'y'] }] }, { matchExpressions: [{ key: 'a', operator: 'In', values: ['y', 'z'] }] }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['x', 'y'] }] }, { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x', 'y'] }] }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, false],
    [{ matchLabels: { a: 'x' } }, { matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] }, { matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, true],
    [{}, { matchLabels: { a: 'x' } }, true],
  ];
  for (const [a, b, meet] of cases) {
    assert.equal(selectorsIntersect(s(a), s(b)), meet, `${JSON.stringify(a)} / ${JSON.stringify(b)}`);
    assert.equal(selectorsIntersect(s(b), s(a)), meet, 'symmetric');
  }
});

test('selector lists: empty means every node; otherwise any pair that meets', () => {
  assert.equal(selectorListsIntersect([], [host('node-1')]), true);
  assert.equal(selectorListsIntersect([host('node-1')], [host('node-2')]), false);
  assert.equal(selectorListsIntersect([host('node-1'), host('node-3')], [host('node-2'), host('node-3')]), true);
});
