// The folder store under a hostile file system: unreadable files (EMFILE, EACCES, EIO) never count
// as deleted, a file rewritten in place never drops its objects half-way, a damaged status is
// never an empty one, and the temp files a killed writer left behind are cleaned up.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FolderStore, type StoreFs } from './folder-store.ts';
import { productionStoreOptions } from './loader.ts';
import { readControllerStatus, stateDir } from './status-file.ts';
import type { Snapshot, StoreListener } from '../store.ts';
import { until } from '../../../test/fakes/until.ts';

const pool = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: blue, namespace: metallb-system }
spec: { addresses: [10.9.0.0/16] }
`;
const service = (name: string): string => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  type: LoadBalancer
  ports: [{ port: 80 }]
`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: injected`), { code });

function recorder(): StoreListener & { snapshots: Snapshot[] } {
  const snapshots: Snapshot[] = [];
  return { snapshots, snapshot: (s) => { snapshots.push(s); } };
}
const names = (s: Snapshot | undefined): string[] => (s?.services ?? []).map((x) => x.metadata.name ?? '').sort();

describe('FolderStore hardening', () => {
  let dir: string;
  let store: FolderStore | undefined;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'ilbl-harden-')); });
  afterEach(async () => { await store?.close(); store = undefined; await rm(dir, { recursive: true, force: true }); });

  it('reads a large folder a bounded number of files at a time, and a transient EMFILE is retried, never a deletion', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool);
    for (let i = 0; i < 300; i++) await writeFile(path.join(dir, `svc-${i}.yaml`), service(`s${i}`));
    let open = 0;
    let maxOpen = 0;
    let failures = 0;
    const fs: StoreFs = {
      stat: (f) => stat(f),
      async readFile(f) {
        open++;
        maxOpen = Math.max(maxOpen, open);
        try {
          // Like a process at its descriptor limit: every third read fails the first time round.
          if (/svc-\d*[05]\.yaml$/.test(f) && failures < 100) { failures++; throw errno('EMFILE'); }
          await sleep(1);
          return await readFile(f, 'utf8');
        } finally { open--; }
      },
    };
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0, readConcurrency: 16, fs }));
    const first = await store.start(recorder());
    assert.equal(first.services.length, 300, 'every Service is in the first snapshot');
    assert.ok(failures > 0, 'reads did fail');
    assert.ok(maxOpen <= 16, `at most 16 reads at once, saw ${maxOpen}`);
  });

  it('waits for a file that stays unreadable for a while before the first snapshot', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool);
    await writeFile(path.join(dir, 'svc.yaml'), service('web'));
    let refuse = true;
    setTimeout(() => { refuse = false; }, 300);
    const fs: StoreFs = { stat: (f) => stat(f), readFile: (f) => (refuse && f.endsWith('svc.yaml') ? Promise.reject(errno('EACCES')) : readFile(f, 'utf8')) };
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0, fs }));
    const first = await store.start(recorder());
    assert.deepEqual(names(first), ['web']);
  });

  it('a known file that becomes unreadable keeps its objects (reported), and is read again when it can be', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool);
    await writeFile(path.join(dir, 'a.yaml'), service('a'));
    await writeFile(path.join(dir, 'b.yaml'), service('b'));
    let broken = false;
    const fs: StoreFs = { stat: (f) => stat(f), readFile: (f) => (broken && f.endsWith('a.yaml') ? Promise.reject(errno('EIO')) : readFile(f, 'utf8')) };
    const rec = recorder();
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0, fs }));
    await store.start(rec);
    broken = true;
    await writeFile(path.join(dir, 'a.yaml'), service('a2'));
    await writeFile(path.join(dir, 'b.yaml'), service('b2'));
    await until(() => names(store!.current()).includes('b2'), 'b2 seen');
    assert.deepEqual(names(store.current()), ['a', 'b2'], 'a stays as last read');
    assert.equal(store.unreadableFiles().get(path.join(dir, 'a.yaml')), 'EIO');
    assert.ok(rec.snapshots.every((s) => names(s).some((n) => n.startsWith('a'))), 'no snapshot ever lacked a');
    broken = false;
    await until(() => names(store!.current()).includes('a2'), 'a2 read after the retry');
    assert.equal(store.unreadableFiles().size, 0);
  });

  it('a file truncated and then written (an editor saving in place) never drops its Service', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool);
    await writeFile(path.join(dir, 'svc.yaml'), service('web') + '---\n' + service('api'));
    const rec = recorder();
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0, settleMs: 3000 }));
    await store.start(rec);
    await writeFile(path.join(dir, 'svc.yaml'), '');
    await sleep(100);
    await store.refresh();
    await writeFile(path.join(dir, 'svc.yaml'), service('web').slice(0, 40)); // partial
    await sleep(100);
    await store.refresh();
    await writeFile(path.join(dir, 'svc.yaml'), service('web')); // only the first document so far
    await sleep(100);
    await store.refresh();
    await writeFile(path.join(dir, 'svc.yaml'), service('web') + '---\n' + service('api') + '  externalTrafficPolicy: Local\n');
    await until(() => store!.current()?.services.some((s) => s.spec.externalTrafficPolicy === 'Local') === true, 'the final file is read');
    for (const s of rec.snapshots) assert.deepEqual(names(s), ['api', 'web'], `generation ${s.generation} held both Services`);
  });

  it('a file that stays empty does empty it, after the settle time', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool);
    await writeFile(path.join(dir, 'svc.yaml'), service('web'));
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0, settleMs: 200 }));
    await store.start(recorder());
    await writeFile(path.join(dir, 'svc.yaml'), '');
    await until(() => store!.current()?.services.length === 0, 'the Service is gone');
  });

  it('a damaged status file is reported as damaged, never as an empty one; a missing one is empty', async () => {
    assert.equal((await readControllerStatus(dir)).damaged, undefined);
    await mkdir(stateDir(dir), { recursive: true });
    await writeFile(path.join(stateDir(dir), 'status.yaml'), '# Written by ironlb\n{"services": {"default/a": {"ips": ["10.9.0.1"]}, "pools"');
    const st = await readControllerStatus(dir);
    assert.match(st.damaged ?? '', /does not parse/);
    await writeFile(path.join(dir, 'pool.yaml'), pool);
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    const first = await store.start(recorder());
    assert.match(first.status.damaged ?? '', /status\.yaml/);
  });

  it('removes the temp files a killed writer left, not those of a live one', async () => {
    await mkdir(stateDir(dir), { recursive: true });
    await writeFile(path.join(stateDir(dir), 'status.yaml.tmp-999999999-3'), 'half');
    await writeFile(path.join(stateDir(dir), `speaker-n1.yaml.tmp-${process.ppid}-1`), 'being written');
    await writeFile(path.join(dir, 'pool.yaml'), pool);
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    await store.start(recorder());
    assert.deepEqual((await readdir(stateDir(dir))).filter((n) => n.includes('.tmp-') && !n.includes(`.tmp-${process.pid}-`)), [`speaker-n1.yaml.tmp-${process.ppid}-1`]);
  });

  it('a restart with a rejected configuration on disk starts from the last accepted one and reports the rejected file', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool);
    await writeFile(path.join(dir, 'svc.yaml'), service('web'));
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    await store.start(recorder());
    await store.close();
    await writeFile(path.join(dir, 'pool.yaml'), pool.replace('10.9.0.0/16', 'not-an-address'));
    await writeFile(path.join(dir, 'svc2.yaml'), service('api'));
    const rejections: string[] = [];
    store = new FolderStore(dir, productionStoreOptions({ rescanMs: 0 }));
    const first = await store.start({ snapshot: () => undefined, rejected: (r) => { rejections.push(...r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.position?.file ?? ''}: ${d.message}`)); } });
    assert.deepEqual(first.config.pools.map((p) => p.name), ['blue'], 'the last good pool is in force');
    assert.deepEqual(names(first), ['api', 'web'], 'Services are read as they are');
    assert.ok(rejections.some((r) => r.includes('pool.yaml')), `the rejected file is reported: ${rejections.join('; ')}`);
    // Still rejected as long as it is broken; fixed, it is taken.
    await writeFile(path.join(dir, 'pool.yaml'), pool.replace('10.9.0.0/16', '10.8.0.0/16'));
    await until(() => store!.current()?.config.pools[0]?.cidrs.length === 1 && store!.current()?.config !== first.config, 'the fixed pool in force');
  });
  it('a read that fails (the parser thread died, say) is tried again: the change is taken without another event', async () => {
    await writeFile(path.join(dir, 'pool.yaml'), pool);
    await writeFile(path.join(dir, 'a.yaml'), service('a'));
    const options = productionStoreOptions({ rescanMs: 0, debounceMs: 1 });
    let failOnce = true;
    const loader: typeof options.loader = (file, text) => {
      if (file.endsWith('b.yaml') && failOnce) { failOnce = false; throw new Error('the parser worker exited (1)'); }
      return options.loader(file, text);
    };
    const rec = recorder();
    store = new FolderStore(dir, { ...options, loader });
    await store.start(rec);
    await writeFile(path.join(dir, 'b.yaml'), service('b'));
    await until(() => names(store!.current()).includes('b'), 'b taken after the failed read', 6000);
    assert.equal(failOnce, false, 'the first read of b failed');
    assert.deepEqual(names(store.current()), ['a', 'b']);
  });
});
