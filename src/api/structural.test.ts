// Every structurally invalid configuration gives exactly one error: its field path, a message
// saying what is allowed, and the line:column where it was written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from './load.ts';
import { invalidCases } from '../../test/fixtures/api/invalid-cases.ts';

for (const c of invalidCases) {
  test(`invalid: ${c.name}`, () => {
    const r = loadText(c.yaml, 'case.yaml');
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(
      errors.map((d) => ({ path: d.path, message: d.message, at: `${d.position?.line}:${d.position?.column}` })),
      [{ path: c.path, message: c.message, at: c.at }],
    );
    assert.equal(errors[0]?.position?.file, 'case.yaml');
    // An object whose only problem is an unknown field is loaded without it, so that its meaning
    // is checked in the same run; any other invalid object is not loaded.
    assert.equal(r.objects.length, c.message.startsWith('unknown field') ? r.objects.length : 0, 'an invalid object is not loaded');
    for (const o of r.objects) assert.ok(!JSON.stringify(o.object).includes(`"${c.path.split('.').pop()}"`), 'the unknown field is dropped');
  });
}

test('there are at least 25 invalid cases', () => {
  assert.ok(invalidCases.length >= 25);
});
