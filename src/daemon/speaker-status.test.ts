// The speaker's status after single edits: written as the changes alone (a journal line in the
// folder), read back equal to the whole status, and costing the same bytes at 1,000 Services as
// at 10,000: an edit's status write is proportional to what changed, not to the world.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { EventEmitter } from 'node:events';
import type { Service } from '../api/resources.ts';
import type { PeerConfig, PeerStatus, Route } from '../bgp/speaker.ts';
import type { Peer } from '../config/types.ts';
import { parseIp } from '../net/ip.ts';
import type { Prefix } from '../net/prefix.ts';
import { silentLogger } from '../observe/log.ts';
import { planAnnouncements } from '../speaker/plan.ts';
import { IncrementalPlan } from '../speaker/plan-incremental.ts';
import { ad, config as fixtureConfig, pool as fixturePool, service } from '../../test/fixtures/speaker/builders.ts';
import { readSpeakerStatuses, SpeakerStatusJournal } from '../store/files/speaker-status-journal.ts';
import { type ControllerStatus, emptyControllerStatus, serviceKey, type Snapshot, type SpeakerStatus, type SpeakerStatusWrite, type Store } from '../store/store.ts';
import type { BgpEngine } from './engines.ts';
import { SpeakerRole } from './speaker.ts';

class QuietBgp extends EventEmitter implements BgpEngine {
  start(): Promise<void> { return Promise.resolve(); }
  addPeer(_c: PeerConfig): void {}
  updatePeer(_c: PeerConfig): void {}
  removePeer(): Promise<void> { return Promise.resolve(); }
  resetPeer(): void {}
  refreshPeer(): boolean { return false; }
  releasePeer(): void {}
  setRoutes(_id: string, _r: readonly Route[]): void {}
  updateRoutes(_id: string, _a: readonly Route[], _w: readonly Prefix[]): void {}
  peerState(): PeerStatus | undefined { return undefined; }
  close(): Promise<void> { return Promise.resolve(); }
}

/** A store whose speaker status goes to a real journal in a folder; each write resolves `next`. */
class JournalStore implements Store {
  journal: SpeakerStatusJournal;
  kinds: ('whole' | 'changes')[] = [];
  private waiters: (() => void)[] = [];
  constructor(dir: string) { this.journal = new SpeakerStatusJournal(dir, 'n1'); }
  start(): Promise<Snapshot> { throw new Error('unused'); }
  current(): Snapshot | undefined { return undefined; }
  writeControllerStatus(_s: ControllerStatus): Promise<void> { return Promise.resolve(); }
  async writeSpeakerStatus(w: SpeakerStatusWrite): Promise<void> {
    this.kinds.push('changes' in w ? 'changes' : 'whole');
    await this.journal.write(w);
    for (const f of this.waiters.splice(0)) f();
  }
  readSpeakerStatuses(): Promise<SpeakerStatus[]> { return Promise.resolve([]); }
  close(): Promise<void> { return Promise.resolve(); }
  next(): Promise<void> { return new Promise((r) => this.waiters.push(r)); }
}

const peer = (name: string, address: string): Peer => ({
  name, namespace: 'metallb-system', myAsn: 64500, peerAsn: 64501, address: parseIp(address)!, port: 179, nodeSelectors: [],
  gracefulRestart: { enabled: false, restartTimeMs: 120_000 }, ebgpMultiHop: false, vrf: '', disableMP: false, dualStackAddressFamily: false,
});

/** A status with its lists in a canonical order (a journal applies changes in its own order). */
function canonical(s: SpeakerStatus): unknown {
  const peers = Object.fromEntries(Object.entries(s.peers).sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, p]) => [id, { ...p, prefixes: [...p.prefixes].sort() }]));
  const byService = (a: { service: string }, b: { service: string }): number => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0);
  return {
    node: s.node, peers, notAnnounced: [...s.notAnnounced].sort((a, b) => byService(a, b) || (a.reason < b.reason ? -1 : 1)), announced: [...(s.announced ?? [])].sort(byService),
    announcedToNoPeer: [...(s.announcedToNoPeer ?? [])].sort(), frrConfigurationProblems: s.frrConfigurationProblems,
  };
}

async function run(n: number): Promise<{ editBytes: number[]; wholeWrites: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ilbl-speaker-status-'));
  const awake = setInterval(() => undefined, 1000); // the status timer is unref'd
  try {
    // Two peers; one advertisement to both, and one more to r2 only for the 10.1.0.0/16 half (its
    // Services differ per peer), so that status has per-peer prefixes that differ.
    // Pool c goes to a peer this node has no session with: announced to no peer.
    const cfg = fixtureConfig([fixturePool('a', ['10.0.0.0/16']), fixturePool('b', ['10.1.0.0/16']), fixturePool('c', ['10.2.0.0/16'])], [peer('r1', '10.255.0.1'), peer('r2', '10.255.0.2')],
      [ad('all', { pools: ['a'] }), ad('b-to-r2', { pools: ['b'], peers: ['r2'] }), ad('c-elsewhere', { pools: ['c'], peers: ['r9'] })]);
    const services = new Map<string, Service>();
    for (let i = 0; i < n; i++) { const s = service(`svc-${i}`, { ips: [`10.0.${i >> 8}.${i & 0xff}`] }); services.set(serviceKey(s), s); }
    const store = new JournalStore(dir);
    const role = new SpeakerRole({
      store, nodeName: 'n1', plan: planAnnouncements, incremental: (i) => new IncrementalPlan(i), bgp: new QuietBgp(), logger: silentLogger(),
      hostIpv4: parseIp('192.0.2.254')!, statusEveryMs: 1, assumeLocalEndpoints: true,
    });
    let generation = 1;
    const snap = (delta?: Snapshot['delta']): Snapshot => ({
      generation, config: cfg, objects: [], services: [...services.values()], endpointSlices: [], nodes: [], namespaces: [], diagnostics: [], status: emptyControllerStatus,
      ...(delta ? { delta } : {}),
    });
    let written = store.next();
    role.onSnapshot(snap());
    await written;
    assert.deepEqual(store.kinds, ['whole']);
    const sawToNoPeer: boolean[] = [];
    assert.deepEqual(canonical((await readSpeakerStatuses(dir))[0]!), canonical(role.status()));
    const edits: [Service[], string[]][] = [
      [[service('x', { namespace: 'edit', ips: ['10.1.255.1'] })], []], // added, to r2 only
      [[service('x', { namespace: 'edit', ips: ['10.0.255.200'] })], []], // moved: to both
      [[service('y', { namespace: 'edit', ips: ['10.0.255.200'] })], []], // shares x's IP
      [[], ['edit/x']], // deleted
      [[service('z', { namespace: 'edit', ips: ['10.2.0.5'] })], []], // to no peer
      [[], ['edit/y', 'default/svc-1', 'edit/z']],
    ];
    const editBytes: number[] = [];
    for (const [upserted, deleted] of edits) {
      for (const s of upserted) services.set(serviceKey(s), s);
      for (const k of deleted) services.delete(k);
      const before = store.journal.bytesWritten;
      written = store.next();
      role.onSnapshot(snap({ from: generation++, servicesOnly: true, upserted, deleted }));
      await written;
      editBytes.push(store.journal.bytesWritten - before);
      sawToNoPeer.push((role.status().announcedToNoPeer ?? []).includes('edit/z'));
      assert.deepEqual(canonical((await readSpeakerStatuses(dir))[0]!), canonical(role.status()), `after ${JSON.stringify([upserted.map(serviceKey), deleted])}`);
    }
    assert.deepEqual(store.kinds, ['whole', ...edits.map(() => 'changes')]);
    assert.deepEqual(sawToNoPeer, [false, false, false, false, true, false], 'the edits cover a Service announced to no peer');
    await role.stop();
    return { editBytes, wholeWrites: store.journal.wholeWrites };
  } finally {
    clearInterval(awake);
    await rm(dir, { recursive: true, force: true });
  }
}

describe('speaker status after single edits', () => {
  it('is written as what changed, reads back as the whole status, and costs the same bytes at 1,000 and 10,000 Services', async () => {
    const small = await run(1000);
    const large = await run(10000);
    // `updated` is a fixed-length ISO time; everything else an edit writes is its own Service and prefixes.
    assert.deepEqual(large.editBytes, small.editBytes);
    assert.ok(small.editBytes.every((b) => b < 1000), `an edit's line is small: ${small.editBytes.join(', ')}`);
  });
});
