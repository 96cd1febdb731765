import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../api/diagnostics.ts';
import { configWarningLog, newLinesLog } from './config-warnings.ts';

const warning = (message: string): Diagnostic => ({ severity: 'warning', position: { file: 'pools.yaml', line: 3, column: 5 }, object: { kind: 'IPAddressPool', name: 'p' }, path: 'spec.addresses[0]', message });

test("validate's warnings reach the log once each, when the configuration carrying them comes into force", () => {
  const logged: string[] = [];
  const log = configWarningLog({ warn: (o: { diagnostic: string }, msg: string) => { logged.push(`${msg}: ${o.diagnostic}`); } } as never);
  log([warning('a'), { ...warning('x'), severity: 'error' }]);
  assert.deepEqual(logged, ['configuration warning: pools.yaml:3:5: warning: IPAddressPool/p: spec.addresses[0]: a']);
  log([warning('a')]); // a Service changed: nothing new
  assert.equal(logged.length, 1);
  log([warning('a'), warning('b')]);
  assert.equal(logged.length, 2);
  assert.match(logged[1]!, /: b$/);
  log([]);
  log([warning('a')]); // gone and back: logged again
  assert.equal(logged.length, 3);
});

test('a flood of new lines is cut at 20 and counted', () => {
  const logged: unknown[] = [];
  const log = newLinesLog({ warn: (o: unknown) => { logged.push(o); } } as never, 'route not sent', 'reason');
  log(Array.from({ length: 25 }, (_, i) => `line ${i}`));
  assert.equal(logged.length, 21);
  assert.deepEqual(logged[0], { reason: 'line 0' });
  assert.deepEqual(logged[20], { more: 5 });
});

test('warnings from outside the resolved configuration (a Node address in a pool) are logged with the others, once', () => {
  const logged: string[] = [];
  const log = configWarningLog({ warn: (o: { diagnostic: string }) => { logged.push(o.diagnostic); } } as never);
  log([warning('a')], ['IPAddressPool "p" holds 10.0.0.5, the InternalIP of Node "n1"']);
  log([warning('a')], ['IPAddressPool "p" holds 10.0.0.5, the InternalIP of Node "n1"']);
  assert.equal(logged.length, 2);
  assert.match(logged[1]!, /InternalIP of Node "n1"/);
});
