import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, type OptionValues } from '@commander-js/extra-typings';
import { addSpeakerFlags } from '../daemon/cli-options.ts';
import { defaultHeartbeatMs } from '../membership/heartbeat.ts';
import { registerSpeaker } from './speaker.ts';
import { registerStandalone } from './standalone.ts';

test('speaker and standalone share one definition of the speaker flags', () => {
  const flags = (cmd: Command<[], OptionValues>): string[] => cmd.options.map((o) => o.long ?? '').sort();
  const shared = flags(addSpeakerFlags(new Command()));
  assert.deepEqual(shared, ['--bfd-port', '--bgp-backend', '--bgp-listen', '--frrk8s-output', '--l2-heartbeat-interval', '--l2-heartbeat-misses',
    '--metrics', '--ml-bindaddr', '--ml-bindport', '--ml-probe-interval', '--ml-secret-key-path']);
  const program = new Command();
  registerSpeaker(program);
  registerStandalone(program);
  for (const name of ['speaker', 'standalone']) {
    const cmd = program.commands.find((c) => c.name() === name)!;
    const own = cmd.options.map((o) => o.long ?? '');
    for (const f of shared) assert.ok(own.includes(f), `${name} --help lists ${f}`);
    assert.equal(new Set(own).size, own.length, `${name}: no flag defined twice`);
    assert.ok(cmd.helpInformation().includes(`default ${defaultHeartbeatMs}; 0 = off`), `${name} --help gives the heartbeat default`);
  }
});
