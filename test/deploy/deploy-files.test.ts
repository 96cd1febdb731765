// deploy/ holds what the sources generate (run `npm run gen:deploy` after changing a schema or the
// dashboard); the chart's CRDs are structural and BGPPeer's gets the conversion webhook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { deployFiles } from '../../scripts/gen-deploy.ts';

test('generated deploy files are current', () => {
  const files = deployFiles();
  for (const f of files) assert.equal(readFileSync(f.path, 'utf8'), f.text, `${f.path} is stale: run npm run gen:deploy`);
  for (const dir of ['deploy/status-crds', 'deploy/helm/ironlb/files/crds']) {
    assert.deepEqual(readdirSync(dir).sort(), files.filter((f) => f.path.startsWith(dir)).map((f) => f.path.slice(dir.length + 1)).sort(), `${dir} has extra files`);
  }
  assert.equal(readFileSync('deploy/helm/ironlb/files/grafana/ironlb.json', 'utf8'), readFileSync('deploy/grafana/ironlb.json', 'utf8'));
});

test('the Grafana dashboard only queries metrics ironlb exports', () => {
  const d = JSON.parse(readFileSync('deploy/grafana/ironlb.json', 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const metrics = readFileSync('src/observe/metrics.ts', 'utf8');
  for (const p of d.panels) {
    for (const t of p.targets) {
      for (const m of t.expr.match(/\b(metallb|ironlb)_[a-z0-9_]+/g) ?? []) {
        assert.ok(metrics.includes(`'${m.replace(/_bucket$/, '')}'`), `${m} is not a metric ironlb exports`);
      }
    }
  }
});
