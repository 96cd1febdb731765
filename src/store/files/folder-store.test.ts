import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, rename, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FolderStore, ConfigRejectedError } from './folder-store.ts';
import { productionStoreOptions } from './loader.ts';
import { readControllerStatus, writeControllerStatus } from './status-file.ts';
import type { Rejection, Snapshot, StoreListener } from '../store.ts';

const pool = (name: string, cidr: string): string => `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: ${name}, namespace: metallb-system }
spec:
  addresses: [${cidr}]
`;
const service = (name: string): string => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  type: LoadBalancer
  ports: [{ port: 80 }]
`;

interface Recorder extends StoreListener { snapshots: Snapshot[]; rejections: Rejection[]; next(pred: (s: Snapshot) => boolean): Promise<Snapshot>; nextRejection(): Promise<Rejection> }

function recorder(): Recorder {
  const snapshots: Snapshot[] = [];
  const rejections: Rejection[] = [];
  const waiters: (() => void)[] = [];
  const wake = (): void => { for (const w of waiters.splice(0)) w(); };
  return {
    snapshots, rejections,
    snapshot(s: Snapshot) { snapshots.push(s); wake(); },
    rejected(r: Rejection) { rejections.push(r); wake(); },
    async next(pred: (s: Snapshot) => boolean) {
      const deadline = Date.now() + 3000;
      for (;;) {
        const s = snapshots.find(pred);
        if (s) return s;
        if (Date.now() > deadline) throw new Error('timed out waiting for a snapshot');
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 50); });
      }
    },
    async nextRejection() {
      const n = rejections.length;
      const deadline = Date.now() + 3000;
      while (rejections.length === n) {
        if (Date.now() > deadline) throw new Error('timed out waiting for a rejection');
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 50); });
      }
      return rejections[rejections.length - 1]!;
    },
  };
}

describe('FolderStore', () => {
  let dir: string;
  let store: FolderStore | undefined;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'ilbl-store-')); });
  afterEach(async () => { await store?.close(); store = undefined; await rm(dir, { recursive: true, force: true }); });

  it('reads the folder into a snapshot with the resolved config', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', '10.9.0.0/24'));
    await writeFile(path.join(dir, 'svc.yaml'), service('web'));
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    const first = await store.start(recorder());
    assert.deepEqual(first.config.pools.map((p) => p.name), ['blue']);
    assert.deepEqual(first.services.map((s) => s.metadata.name), ['web']);
  });

  it('picks up a new file at once (watch, not the re-scan)', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', '10.9.0.0/24'));
    const rec = recorder();
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    await store.start(rec);
    const t0 = Date.now();
    await writeFile(path.join(dir, 'svc-a.yaml'), service('a'));
    const s = await rec.next((x) => x.services.length === 1);
    assert.ok(Date.now() - t0 < 1000, 'seen within a second');
    assert.equal(s.services[0]?.metadata.name, 'a');
    assert.ok(s.generation > 1);
  });

  it('rejects an invalid edit with diagnostics and keeps the last good snapshot', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', '10.9.0.0/24'));
    const rec = recorder();
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    const good = await store.start(rec);
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', 'not-an-address'));
    const r = await rec.nextRejection();
    assert.ok(r.diagnostics.some((d) => d.severity === 'error'));
    assert.equal(store.current(), good, 'the last good snapshot stays in force');
    assert.equal(rec.snapshots.length, 1, 'no new snapshot was published');
    // fixing it is accepted again
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', '10.9.1.0/24'));
    const fixed = await rec.next((x) => x.generation > good.generation);
    assert.equal(fixed.config.pools[0]?.cidrs.length, 1);
  });

  it('refuses to start on an invalid folder', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), 'kind: [unclosed');
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    await assert.rejects(store.start(recorder()), ConfigRejectedError);
  });

  it('merges the controller status into Services and survives a restart', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', '10.9.0.0/24'));
    await writeFile(path.join(dir, 'svc.yaml'), service('web'));
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    const rec = recorder();
    await store.start(rec);
    // written by another process (the controller, next to this speaker's store)
    await writeControllerStatus(dir, { services: { 'default/web': { ips: ['10.9.0.7'], pool: 'blue' } }, pools: {}, events: [] });
    const s = await rec.next((x) => x.services[0]?.status?.loadBalancer?.ingress?.[0]?.ip === '10.9.0.7');
    assert.equal(s.status.services['default/web']?.pool, 'blue');
    await store.close();
    // a new process reads the same status back
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    const again = await store.start(recorder());
    assert.equal(again.services[0]?.status?.loadBalancer?.ingress?.[0]?.ip, '10.9.0.7');
    assert.deepEqual((await readControllerStatus(dir)).services['default/web']?.ips, ['10.9.0.7']);
  });

  it('sees a status another process wrote while it was starting (before its watchers were up)', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', '10.9.0.0/24'));
    await writeFile(path.join(dir, 'svc.yaml'), service('web'));
    const base = productionStoreOptions({ rescanMs: 0 });
    let written = false;
    // The controller writes the status between this store's first read and its watch of the state folder.
    store = new FolderStore(dir, { ...base, resolver: async (objects, o) => {
      const r = await base.resolver(objects, o);
      if (!written) { written = true; await writeControllerStatus(dir, { services: { 'default/web': { ips: ['10.9.0.9'] } }, pools: {}, events: [] }); }
      return r;
    } });
    const rec = recorder();
    const first = await store.start(rec);
    assert.equal(first.services[0]?.status?.loadBalancer?.ingress, undefined);
    const s = await rec.next((x) => x.services[0]?.status?.loadBalancer?.ingress?.[0]?.ip === '10.9.0.9');
    assert.equal(s.status.services['default/web']?.ips[0], '10.9.0.9');
  });

  it('a Service defined in two files is an error naming both, at start and when a file adds it later', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', '10.9.0.0/24'));
    await writeFile(path.join(dir, 'a.yaml'), service('web'));
    await writeFile(path.join(dir, 'b.yaml'), `# the same Service again\n${service('web')}`);
    await assert.rejects(new FolderStore(dir, productionStoreOptions({ rescanMs: 0 })).start(recorder()), (e: unknown) => {
      const d = (e as ConfigRejectedError).diagnostics.find((x) => x.severity === 'error');
      assert.equal(d?.position?.file, path.join(dir, 'b.yaml'));
      assert.equal(d?.position?.line, 4);
      assert.match(d.message, new RegExp(`duplicate Service "default/web": already defined at ${path.join(dir, 'a.yaml')}:3`));
      return true;
    });
    await unlink(path.join(dir, 'b.yaml'));
    await writeFile(path.join(dir, 'c.yaml'), service('api'));
    const rec = recorder();
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    await store.start(rec);
    // An edit that only touches Service files takes the incremental path: it must catch it too.
    await writeFile(path.join(dir, 'c.yaml'), `${service('api')}---\n${service('web')}`);
    const r = await rec.nextRejection();
    assert.match(r.diagnostics.find((d) => d.severity === 'error')!.message, /duplicate Service "default\/web": already defined at .*a\.yaml:3/);
    assert.deepEqual(store.current()!.services.map((x) => x.metadata.name).sort(), ['api', 'web'], 'the last good snapshot stays');
    await writeFile(path.join(dir, 'c.yaml'), service('api2'));
    const ok = await rec.next((x) => x.services.some((v) => v.metadata.name === 'api2'));
    assert.deepEqual(ok.services.map((x) => x.metadata.name).sort(), ['api2', 'web']);
  });

  it('does not announce its own status write back to itself, but keeps current() up to date', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', '10.9.0.0/24'));
    await writeFile(path.join(dir, 'svc.yaml'), service('web'));
    const rec = recorder();
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    await store.start(rec);
    await store.writeControllerStatus({ services: { 'default/web': { ips: ['10.9.0.8'] } }, pools: {}, events: [] });
    await new Promise((r) => setTimeout(r, 100));
    await store.refresh();
    assert.equal(rec.snapshots.length, 1, 'no snapshot for our own write');
    assert.equal(store.current()?.services[0]?.status?.loadBalancer?.ingress?.[0]?.ip, '10.9.0.8');
  });

  it('ignores speaker status files and hidden files, sees deletions and renames', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', '10.9.0.0/24'));
    await writeFile(path.join(dir, 'svc.yaml'), service('web'));
    const rec = recorder();
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    const first = await store.start(rec);
    await store.writeSpeakerStatus({ node: 'n1', peers: {}, notAnnounced: [] });
    await writeFile(path.join(dir, '.swap.yaml'), 'garbage: [');
    await new Promise((r) => setTimeout(r, 100));
    await store.refresh();
    assert.equal(store.current(), first, 'nothing a snapshot holds changed');
    assert.equal((await store.readSpeakerStatuses())[0]?.node, 'n1');
    await rename(path.join(dir, 'svc.yaml'), path.join(dir, 'svc2.yaml'));
    await unlink(path.join(dir, 'pool.yaml'));
    await writeFile(path.join(dir, 'pool.yml'), pool('green', '10.8.0.0/24'));
    const s = await rec.next((x) => x.config.pools[0]?.name === 'green');
    assert.equal(s.services.length, 1);
  });

  it('the safety re-scan finds changes the watcher missed', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool('blue', '10.9.0.0/24'));
    const rec = recorder();
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 100, debounceMs: 60_000 }));
    await store.start(rec);
    await writeFile(path.join(dir, 'svc.yaml'), service('late'));
    const s = await rec.next((x) => x.services.length === 1);
    assert.equal(s.services[0]?.metadata.name, 'late');
  });
});
