// bin/ironlb.js (what `npx ironlb` and the image run) never runs a dist/ older than the sources:
// in a copy of the layout with a stand-in CLI, compiled code runs only while every source has a
// compiled file at least as new; an edit, a new file or no dist/ runs the sources through tsx; an
// image (dist/, no src/) runs dist/; without tsx a stale dist/ is refused, naming `npm run build`.
import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..', '..');
const base = mkdtempSync(path.join(tmpdir(), 'ilb-bin-'));
after(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
let root: string;
const write = (rel: string, text: string, mtimeS: number): void => {
  const f = path.join(root, rel);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, text);
  utimesSync(f, mtimeS, mtimeS);
};
const run = (): { out: string; err: string; code: number | null } => {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'ironlb.js'), 'arg'], { encoding: 'utf8' });
  return { out: r.stdout.trim(), err: r.stderr.trim(), code: r.status };
};

describe('bin/ironlb.js: compiled code only when current', () => {
  beforeEach(() => {
    root = path.join(base, String(n++));
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    copyFileSync(path.join(repo, 'bin', 'ironlb.js'), path.join(root, 'bin', 'ironlb.js'));
    writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }');
    symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'));
    // Sources at t=1000, their compiled files at t=2000; the sources' `as const` needs tsx.
    write('src/cli/main.ts', "import { v } from '../lib/v.ts';\nconsole.log(`src ${v} ${process.argv[2]}` as const);\n", 1000);
    write('src/lib/v.ts', "export const v = 'v1' as const;\n", 1000);
    write('src/lib/v.test.ts', '', 1000);
    write('dist/cli/main.js', "import { v } from '../lib/v.js';\nconsole.log(`dist ${v} ${process.argv[2]}`);\n", 2000);
    write('dist/lib/v.js', "export const v = 'v1';\n", 2000);
  });

  test('dist/ as new as every source: compiled code, nothing said', () => {
    assert.deepEqual(run(), { out: 'dist v1 arg', err: '', code: 0 });
  });

  test('a source edited after the build: the sources run, and it says which file is newer', () => {
    write('src/lib/v.ts', "export const v = 'v2' as const;\n", 3000);
    const r = run();
    assert.equal(r.out, 'src v2 arg');
    assert.match(r.err, /dist\/ is older than src\/lib\/v\.ts: running the sources/);
  });

  test('a new source with no compiled file: the sources run', () => {
    write('src/lib/new.ts', 'export {};\n', 500);
    assert.equal(run().out, 'src v1 arg');
  });

  test('a test file newer than dist/ changes nothing (tests are not compiled)', () => {
    write('src/lib/v.test.ts', '// edited\n', 3000);
    assert.deepEqual(run(), { out: 'dist v1 arg', err: '', code: 0 });
  });

  test('no dist/: the sources run, nothing said', () => {
    rmSync(path.join(root, 'dist'), { recursive: true });
    assert.deepEqual(run(), { out: 'src v1 arg', err: '', code: 0 });
  });

  test('an image (dist/, no src/): compiled code', () => {
    rmSync(path.join(root, 'src'), { recursive: true });
    assert.deepEqual(run(), { out: 'dist v1 arg', err: '', code: 0 });
  });

  test('stale dist/ and no tsx: refused, naming npm run build, not run', () => {
    rmSync(path.join(root, 'node_modules'));
    write('src/lib/v.ts', "export const v = 'v2' as const;\n", 3000);
    const r = run();
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /dist\/ is older than src\/lib\/v\.ts.*npm run build/);
  });
});
