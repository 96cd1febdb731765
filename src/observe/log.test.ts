// Logs: JSON for machines, one readable line for a person at a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CappedLog, chooseLogFormat, createLogger, prettyLogLine } from './log.ts';

test('the format follows the terminal unless IRONLB_LOG_FORMAT says otherwise', () => {
  assert.equal(chooseLogFormat({}, true), 'pretty');
  assert.equal(chooseLogFormat({}, false), 'json');
  assert.equal(chooseLogFormat({ IRONLB_LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(chooseLogFormat({ IRONLB_LOG_FORMAT: 'pretty' }, false), 'pretty');
  assert.equal(chooseLogFormat({ IRONLB_LOG_FORMAT: 'yaml' }, false), 'json');
});

test('JSON format: one parsable line per event with the bindings', () => {
  const lines: string[] = [];
  const log = createLogger({ role: 'speaker', node: 'n1' }, { format: 'json', write: (l) => lines.push(l) });
  log.warn({ peer: 'router-3' }, 'session down');
  assert.equal(lines.length, 1);
  const o = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual([o.level, o.role, o.node, o.peer, o.msg], [40, 'speaker', 'n1', 'router-3', 'session down']);
});

test('pretty format: time, level, source, message, then the other fields as key=value', () => {
  const lines: string[] = [];
  const log = createLogger({ role: 'standalone', node: 'n1' }, { format: 'pretty', write: (l) => lines.push(l) });
  log.child({ component: 'speaker' }).warn({ peer: 'router-3', prefixes: 2, reason: 'two values' }, 'route dropped');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} WARN {2}standalone\/n1\/speaker: route dropped {2}peer=router-3 prefixes=2 reason="two values"\n$/);
  assert.doesNotThrow(() => log.info('no fields'));
  assert.match(lines[1]!, /INFO {2}standalone\/n1: no fields\n$/);
});

test('pretty lines: errors show their message, non-JSON passes through', () => {
  const line = prettyLogLine(JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n at x' } }));
  assert.equal(line, '00:00:00.000 ERROR failed  err="boom"\n');
  assert.equal(prettyLogLine('not json'), 'not json\n');
});

test('a pass of per-object lines: the first ones one by one, then one count per message', () => {
  const lines: { fields: object; msg: string }[] = [];
  const sink = { info: (fields: object, msg: string) => lines.push({ fields, msg }), warn: (fields: object, msg: string) => lines.push({ fields, msg }) };
  const log = new CappedLog(sink as never, 3);
  let built = 0;
  for (let i = 0; i < 10; i++) log.info(() => { built++; return { i }; }, i % 2 === 0 ? 'announce' : 'withdraw');
  log.done({ peer: 'p' });
  assert.equal(built, 3, 'fields are built only for the lines written');
  assert.deepEqual(lines.slice(0, 3).map((l) => l.msg), ['announce', 'withdraw', 'announce']);
  assert.deepEqual(lines.slice(3), [
    { fields: { peer: 'p', more: 4 }, msg: 'withdraw: 4 more in this pass, not logged one by one' },
    { fields: { peer: 'p', more: 3 }, msg: 'announce: 3 more in this pass, not logged one by one' },
  ]);
  log.info(() => ({}), 'again');
  assert.equal(lines.length, 6, 'done() starts a new pass');
  const events = new CappedLog(sink as never, 1);
  for (let i = 0; i < 5; i++) events.info(() => ({}), `Assigned IP 10.0.0.${i}`, 'event IPAllocated');
  events.done();
  assert.deepEqual(lines.slice(7).map((l) => l.msg), ['event IPAllocated: 4 more in this pass, not logged one by one'], 'counted by kind when each message names its object');
});
