// The delta a FolderStore attaches to each snapshot: replayed on the previous snapshot's Services
// it gives exactly the new snapshot's Services, unchanged Services stay the same objects, and
// `servicesOnly` is false whenever anything but Services changed.
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FolderStore } from './folder-store.ts';
import { productionStoreOptions } from './loader.ts';
import { type ControllerStatus, serviceKey, type Snapshot } from '../store.ts';
import { readControllerStatus } from './status-file.ts';
import { ControllerStatusWriter } from './status-journal.ts';

const pool = (cidr: string): string => `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: blue, namespace: metallb-system }
spec: { addresses: [${cidr}] }
`;
const service = (name: string, port = 80): string => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { type: LoadBalancer, ports: [{ port: ${port} }] }
`;

describe('FolderStore deltas', () => {
  let dir: string;
  let store: FolderStore | undefined;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'ilbl-delta-')); });
  afterEach(async () => { await store?.close(); store = undefined; await rm(dir, { recursive: true, force: true }); });

  it('every delta replays to the next snapshot, whatever the edit', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool('10.9.0.0/24'));
    for (const n of ['a', 'b', 'c']) await writeFile(path.join(dir, `${n}.yaml`), service(n));
    const snapshots: Snapshot[] = [];
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0, settleMs: 0 }));
    // Lists read on delivery, as a listener does (they are built when read: see withLazyLists).
    await store.start({ snapshot: (s) => { snapshots.push({ ...s, services: [...s.services], objects: [...s.objects] }); } });
    const step = async (edit: () => Promise<unknown>): Promise<void> => { await edit(); await new Promise((r) => setTimeout(r, 30)); await store!.refresh(); };
    await step(() => writeFile(path.join(dir, 'd.yaml'), service('d')));
    await step(() => writeFile(path.join(dir, 'a.yaml'), service('a', 81)));
    await step(() => unlink(path.join(dir, 'b.yaml')));
    await step(() => rename(path.join(dir, 'c.yaml'), path.join(dir, 'c2.yaml')));
    await step(() => writeFile(path.join(dir, 'multi.yaml'), service('e') + '---\n' + service('f')));
    await step(() => writeFile(path.join(dir, 'multi.yaml'), service('e', 90)));
    await step(() => store!.writeControllerStatus({ services: { 'default/a': { ips: ['10.9.0.1'] } }, pools: {}, events: [] }, new Set(['default/a'])));
    await step(() => writeFile(path.join(dir, 'g.yaml'), service('g')));
    await step(() => writeFile(path.join(dir, 'pool.yaml'), pool('10.9.1.0/24')));
    await step(() => writeFile(path.join(dir, 'h.yaml'), service('h')));
    assert.ok(snapshots.length >= 9, `saw ${snapshots.length} snapshots`);
    for (let i = 1; i < snapshots.length; i++) {
      const prev = snapshots[i - 1]!;
      const next = snapshots[i]!;
      const d = next.delta;
      assert.ok(d, `snapshot ${next.generation} has a delta`);
      assert.equal(d.from, prev.generation);
      const replay = new Map(prev.services.map((s) => [serviceKey(s), s]));
      for (const k of d.deleted) assert.ok(replay.delete(k), `deleted ${k} was there`);
      for (const s of d.upserted) replay.set(serviceKey(s), s);
      const want = new Map(next.services.map((s) => [serviceKey(s), s]));
      assert.deepEqual([...replay.keys()].sort(), [...want.keys()].sort(), `keys after generation ${next.generation}`);
      // Unnamed Services are the same objects, but for the status this store's own writer merged.
      for (const [k, s] of want) {
        if (replay.get(k) !== s) assert.deepEqual({ ...replay.get(k), status: undefined }, { ...s, status: undefined }, `${k} after generation ${next.generation}`);
      }
      assert.equal(d.servicesOnly, next.config === prev.config, `servicesOnly at generation ${next.generation}`);
    }
    const last = store.current()!;
    assert.equal(last.services.find((s) => s.metadata.name === 'a')?.status?.loadBalancer?.ingress?.[0]?.ip, '10.9.0.1', 'our own status merged');
    assert.equal(snapshots.filter((s) => s.delta?.servicesOnly === false).length, 1, 'only the pool edit was not Services only');
  });

  // Split mode: the controller is another process; the speaker's store reads its status.
  it("another process's status edits are read from the journal line they append: only the Services named are merged again, at the same cost at 1,000 and 10,000 assignments", async () => {
    const costs: number[] = [];
    for (const n of [1000, 10000]) {
      const d = await mkdtemp(path.join(tmpdir(), 'ilbl-delta-split-'));
      const writer = new ControllerStatusWriter(d, { compactAfterMs: 0 });
      try {
        await writeFile(path.join(d, 'pool.yaml'), pool('10.9.0.0/16'));
        for (const name of ['a', 'b', 'c']) await writeFile(path.join(d, `${name}.yaml`), service(name));
        // Assignments of Services defined elsewhere (not in this folder) make the status large.
        const services: Record<string, { ips: string[]; pool?: string }> = { 'default/a': { ips: ['10.9.0.1'] }, 'default/b': { ips: ['10.9.0.2'] }, 'default/c': { ips: ['10.9.0.3'] } };
        for (let i = 0; i < n; i++) services[`other/s${i}`] = { ips: [`10.8.${i >> 8}.${i & 0xff}`] };
        const status = (): ControllerStatus => ({ services: { ...services }, pools: {}, events: [] });
        await writer.write(status());
        const snapshots: Snapshot[] = [];
        const s = new FolderStore(d, productionStoreOptions({ rescanMs: 0, settleMs: 0 }));
        store = s;
        await s.start({ snapshot: (x) => { snapshots.push({ ...x, services: [...x.services], objects: [...x.objects] }); } });
        assert.equal(s.current()!.services.find((x) => x.metadata.name === 'a')?.status?.loadBalancer?.ingress?.[0]?.ip, '10.9.0.1');
        // The controller moves a, then releases b: one journal line each.
        services['default/a'] = { ips: ['10.9.0.7'] };
        const before = s.statusBytesRead; // (the store's watcher may read the line before refresh() does)
        await writer.write(status(), new Set(['default/a']));
        await s.refresh();
        costs.push(s.statusBytesRead - before);
        let last = snapshots.at(-1)!;
        assert.deepEqual(last.delta?.upserted.map(serviceKey), ['default/a']);
        assert.equal(last.delta?.servicesOnly, true);
        assert.equal(last.services.find((x) => x.metadata.name === 'a')?.status?.loadBalancer?.ingress?.[0]?.ip, '10.9.0.7');
        delete services['default/b'];
        await writer.write(status(), new Set(['default/b']));
        await s.refresh();
        last = snapshots.at(-1)!;
        assert.deepEqual(last.delta?.upserted.map(serviceKey), ['default/b']);
        assert.deepEqual(last.services.find((x) => x.metadata.name === 'b')?.status?.loadBalancer?.ingress ?? [], []);
        // What the store holds is what a reader of the files gets.
        assert.deepEqual(last.status.services, (await readControllerStatus(d)).services);
        // A base rewritten (a compaction) is read whole again, and changes nothing.
        await writer.write(status());
        await s.refresh();
        assert.deepEqual(s.current()!.status.services, (await readControllerStatus(d)).services);
        await s.close();
        store = undefined;
      } finally {
        writer.close();
        await rm(d, { recursive: true, force: true });
      }
    }
    assert.equal(costs[0], costs[1], `bytes read for one edit: ${costs.join(' vs ')}`);
    assert.ok(costs[0]! < 500, `one edit reads its line: ${costs[0]} bytes`);
  });
});
