import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../api/diagnostics.ts';
import { configWarningLog } from './config-warnings.ts';

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
