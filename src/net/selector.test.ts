import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileSelector, selectorMatches, SelectorError, anySelectorMatches } from './selector.ts';

describe('label selectors', () => {
  it('matches labels and expressions', () => {
    const s = compileSelector({ matchLabels: { zone: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }, { key: 'old', operator: 'DoesNotExist' }] });
    assert.equal(s.text, 'old,tier in (api,web),zone=a'.replace('old,', '!old,'));
    assert.ok(selectorMatches(s, { zone: 'a', tier: 'api' }));
    assert.ok(!selectorMatches(s, { zone: 'a', tier: 'api', old: '' }));
    assert.ok(!selectorMatches(s, { zone: 'b', tier: 'api' }));
  });
  it('empty selector and empty list match everything', () => {
    assert.ok(selectorMatches(compileSelector({}), undefined));
    assert.ok(anySelectorMatches([], { a: 'b' }));
  });
  it('rejects bad operators and value lists', () => {
    assert.throws(() => compileSelector({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }), SelectorError);
    assert.throws(() => compileSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), /must be non-empty/);
    assert.throws(() => compileSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }), /must be empty/);
  });
});
