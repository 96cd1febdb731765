import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { statusText } from '../../cli/status.ts';
import { readControllerStatus, stateDir, writeControllerStatus, writeSpeakerStatus } from './status-file.ts';
import { readSpeakerStatuses } from './speaker-status-journal.ts';

describe('status files', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'ilbl-status-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('a missing status is an empty one', async () => {
    assert.deepEqual((await readControllerStatus(dir)).services, {});
    assert.deepEqual(await readSpeakerStatuses(dir), []);
  });

  it('round-trips, atomically (no temp file left behind)', async () => {
    const s = { services: { 'default/web': { ips: ['10.0.0.5'], pool: 'p' } }, pools: { p: { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 9, availableIPv6: 0 } }, events: [] };
    const text = await writeControllerStatus(dir, s);
    assert.match(text, /^# Written by ironlb/);
    assert.deepEqual(await readControllerStatus(dir), s);
    assert.deepEqual(await readdir(stateDir(dir)), ['status.yaml']);
  });

  it('reads a hand-written YAML status too, and ignores malformed entries', async () => {
    await writeControllerStatus(dir, { services: {}, pools: {}, events: [] });
    await writeFile(path.join(stateDir(dir), 'status.yaml'), 'services:\n  default/a:\n    ips: [10.0.0.9]\n  default/b: nonsense\n');
    assert.deepEqual((await readControllerStatus(dir)).services, { 'default/a': { ips: ['10.0.0.9'] } });
  });

  it('keeps one file per speaker, and status renders services with what each speaker announces', async () => {
    await writeControllerStatus(dir, { services: { 'default/web': { ips: ['10.0.0.5'], pool: 'p' }, 'default/db': { ips: ['10.0.0.6'], pool: 'p' } }, pools: {}, events: [{ time: 't', type: 'Warning', object: 'default/x', reason: 'AllocationFailed', message: 'no pool' }] });
    await writeSpeakerStatus(dir, { node: 'n1', peers: { r1: { address: '10.0.0.1', state: 'Established', prefixes: ['10.0.0.5/32'] } }, notAnnounced: [] });
    await writeSpeakerStatus(dir, { node: 'n2', peers: { r1: { address: '10.0.0.1', state: 'Active', prefixes: ['10.0.0.5/32'], bfd: 'Down' } }, notAnnounced: [{ service: 'default/db', reason: 'noLocalEndpoints: none here' }] });
    assert.deepEqual((await readSpeakerStatuses(dir)).map((s) => s.node), ['n1', 'n2']);
    const text = await statusText(dir);
    assert.match(text, /default\/web\s+10\.0\.0\.5\s+pool p\s+announced: n1→r1; waiting: n2→r1 \[session Active\]/);
    assert.match(text, /default\/db\s+10\.0\.0\.6\s+pool p\s+not announced/);
    assert.match(text, /r1 10\.0\.0\.1 Active BFD Down: 1 prefixes waiting for the session/);
    assert.match(text, /not announced: default\/db: noLocalEndpoints/);
    assert.match(text, /AllocationFailed: no pool/);
  });
});
