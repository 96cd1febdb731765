import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ControllerStatus } from '../store.ts';
import { controllerJournalFile, controllerStatusFile, readControllerStatus, stateDir } from './status-file.ts';
import { ControllerStatusWriter } from './status-journal.ts';

const pools = (n: number): ControllerStatus['pools'] => ({ p: { assignedIPv4: n, assignedIPv6: 0, availableIPv4: 100 - n, availableIPv6: 0 } });

describe('controller status journal', () => {
  let dir: string;
  let w: ControllerStatusWriter;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'ilbl-journal-')); });
  afterEach(async () => { w.close(); await rm(dir, { recursive: true, force: true }); });

  it('writes whole first, then one line per change; a reader sees base and journal as one', async () => {
    w = new ControllerStatusWriter(dir, { compactAfterMs: 0 });
    const services: Record<string, { ips: string[]; pool?: string }> = { 'default/a': { ips: ['10.0.0.1'], pool: 'p' }, 'default/b': { ips: ['10.0.0.2'], pool: 'p' } };
    await w.write({ services: { ...services }, pools: pools(2), events: [] });
    const base = await readFile(path.join(stateDir(dir), controllerStatusFile), 'utf8');
    const ev = { time: 't', type: 'Normal' as const, object: 'default/c', reason: 'IPAllocated', message: 'Assigned IP ["10.0.0.3"]' };
    await w.write({ services: { 'default/a': { ips: ['10.0.0.1'], pool: 'p' }, 'default/c': { ips: ['10.0.0.3'], pool: 'p' } }, pools: pools(2), events: [ev] }, new Set(['default/b', 'default/c']));
    assert.equal(await readFile(path.join(stateDir(dir), controllerStatusFile), 'utf8'), base, 'the base is not rewritten for a change');
    const journal = (await readFile(path.join(stateDir(dir), controllerJournalFile), 'utf8')).trim().split('\n');
    assert.equal(journal.length, 2);
    assert.deepEqual(JSON.parse(journal[1]!), { s: { 'default/b': null, 'default/c': { ips: ['10.0.0.3'], pool: 'p' } }, e: [ev] });
    const read = await readControllerStatus(dir);
    assert.deepEqual(read.services, { 'default/a': { ips: ['10.0.0.1'], pool: 'p' }, 'default/c': { ips: ['10.0.0.3'], pool: 'p' } });
    assert.deepEqual(read.events, [ev]);
    assert.deepEqual(read.pools, pools(2));
  });

  it('ignores a torn last line and a journal that belongs to another base', async () => {
    w = new ControllerStatusWriter(dir, { compactAfterMs: 0 });
    await w.write({ services: { 'default/a': { ips: ['10.0.0.1'] } }, pools: {}, events: [] });
    await w.write({ services: { 'default/a': { ips: ['10.0.0.9'] } }, pools: {}, events: [] }, new Set(['default/a']));
    await appendFile(path.join(stateDir(dir), controllerJournalFile), '{"s":{"default/a":{"ips":["10.0.0');
    assert.deepEqual((await readControllerStatus(dir)).services, { 'default/a': { ips: ['10.0.0.9'] } });
    // A base written after the journal (a compaction cut short before the fresh journal): the old lines are not replayed.
    const journal = await readFile(path.join(stateDir(dir), controllerJournalFile), 'utf8');
    const w2 = new ControllerStatusWriter(dir, { compactAfterMs: 0 });
    await w2.write({ services: { 'default/a': { ips: ['10.0.0.5'] } }, pools: {}, events: [] });
    await writeFile(path.join(stateDir(dir), controllerJournalFile), journal);
    assert.deepEqual((await readControllerStatus(dir)).services, { 'default/a': { ips: ['10.0.0.5'] } });
    w2.close();
  });

  it('folds the journal into the base once quiet, and when it outgrows the base', async () => {
    w = new ControllerStatusWriter(dir, { compactAfterMs: 30, minJournalBytes: 0 });
    const s1 = { services: { 'default/a': { ips: ['10.0.0.1'] } }, pools: {}, events: [] };
    await w.write(s1);
    const s2 = { services: { 'default/a': { ips: ['10.0.0.2'] } }, pools: {}, events: [] };
    await w.write(s2, new Set(['default/a']));
    await new Promise((r) => setTimeout(r, 100));
    await w.flush();
    const journal = (await readFile(path.join(stateDir(dir), controllerJournalFile), 'utf8')).trim().split('\n');
    assert.equal(journal.length, 1, 'only the header is left');
    const base = JSON.parse((await readFile(path.join(stateDir(dir), controllerStatusFile), 'utf8')).replace(/^(#[^\n]*\n)+/, '')) as ControllerStatus;
    assert.deepEqual(base.services, s2.services);
    assert.deepEqual(await readControllerStatus(dir), s2);
  });
});
