// The daemons' heap settings: which flags apply (IRONLB_V8_FLAGS, node's own command line wins),
// and that set first thing in the CLI's process they take effect (a child process allocating).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { defaultHeapFlags, heapFlags, isDaemonCommand } from './heap-tuning.ts';

test('the defaults, IRONLB_V8_FLAGS instead (empty: none), and a flag on node\'s command line wins', () => {
  assert.deepEqual(heapFlags({}, []), defaultHeapFlags.split(' '));
  assert.deepEqual(heapFlags({ IRONLB_V8_FLAGS: '' }, []), []);
  assert.deepEqual(heapFlags({ IRONLB_V8_FLAGS: ' --heap-growing-percent=50  --trace-gc ' }, []), ['--heap-growing-percent=50', '--trace-gc']);
  assert.deepEqual(heapFlags({}, ['--heap_growing_percent=80', '--max-old-space-size=300']), ['--semi-space-growth-factor=1']);
  assert.deepEqual(heapFlags({}, ['--semi-space-growth-factor', '2']), ['--heap-growing-percent=30']);
});

test('a daemon command is the first word that is not an option', () => {
  assert.equal(isDaemonCommand(['standalone', '--config', 'x']), true);
  assert.equal(isDaemonCommand(['--verbose', 'speaker']), true);
  assert.equal(isDaemonCommand(['controller']), true);
  assert.equal(isDaemonCommand(['validate', 'standalone']), false);
  assert.equal(isDaemonCommand([]), false);
});

test('set by cli/tune-heap.ts before the daemon\'s modules load, the young generation stays small while it allocates, after the parser worker started too', () => {
  // Without the settings, loading the modules alone doubles the semi-spaces to 8 MiB, and
  // allocating takes them to 16 MiB (32 MiB of new space).
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8');
    await import(${JSON.stringify(new URL('../cli/tune-heap.ts', import.meta.url).href)});
    await import(${JSON.stringify(new URL('./run.ts', import.meta.url).href)});
    // A worker starting sets V8's semi-space-growth-factor back to 2: the loader sets it again.
    const { WorkerLoader } = await import(${JSON.stringify(new URL('../store/files/worker-loader.ts', import.meta.url).href)});
    const loader = new WorkerLoader();
    await loader.load('svc.yaml', 'apiVersion: v1\\nkind: Service\\nmetadata: { name: a }\\nspec: { type: LoadBalancer }\\n');
    const keep = [];
    for (let i = 0; i < 2e6; i++) { const o = { a: i, b: [i], c: 'x' + i }; if (i % 4 === 0) keep.push(o); }
    console.log(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
    await loader.close();`;
  const newSpace = (command: string): number => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, 'ironlb', command], { encoding: 'utf8', env: { ...process.env, IRONLB_V8_FLAGS: undefined } });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout.trim());
  };
  const daemon = newSpace('standalone');
  const other = newSpace('validate');
  assert.ok(daemon <= 4 * 2 ** 20, `standalone: ${daemon} bytes of new space`);
  assert.ok(other >= 16 * 2 ** 20, `validate (not tuned): ${other} bytes: the semi-spaces grew (else this test shows nothing)`);
});
