import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectFiles, loadPaths } from './load-paths.ts';

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

test('folders are read recursively: *.yaml, *.yml, *.json in sorted order; other files are ignored', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ilb-api-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'b-sub'));
  mkdirSync(join(dir, '.hidden'));
  writeFileSync(join(dir, 'c.yaml'), ns('c'));
  writeFileSync(join(dir, 'a.yml'), ns('a'));
  writeFileSync(join(dir, 'b-sub', 'x.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }));
  writeFileSync(join(dir, 'notes.txt'), 'not yaml: [');
  writeFileSync(join(dir, '.hidden', 'h.yaml'), ns('h'));
  assert.deepEqual(collectFiles([dir]).files, [join(dir, 'a.yml'), join(dir, 'b-sub', 'x.json'), join(dir, 'c.yaml')]);
  const r = loadPaths([dir]);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.objects.map((o) => o.object.metadata.name), ['a', 'x', 'c']);
  assert.equal(r.objects[1]?.source?.file, join(dir, 'b-sub', 'x.json'));
});

test('a missing path and an empty folder are reported', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ilb-api-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = loadPaths([join(dir, 'nope.yaml'), dir]);
  assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.message]), [
    ['error', `cannot read ${join(dir, 'nope.yaml')}: ENOENT`],
    ['warning', 'folder holds no *.yaml, *.yml or *.json file'],
  ]);
});
