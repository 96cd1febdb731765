import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { frrConfigurationsFor, frrConfigurationsText } from '../../cli/frr-config.ts';
import { frrScenarios, scenarioObjects } from '../../../test/differential/frrk8s-scenarios.ts';
import { defaultFrrOutput, FileFrrConfigurationWriter } from './frr-configuration-file.ts';

const scenario = frrScenarios[0]!;
const emitted = () => frrConfigurationsFor(scenarioObjects(scenario), { nodes: [scenario.node.name] }).results![0]!;

test('folder mode: metallb-<node>.yaml in .ironlb-state/frr-k8s (never read back as configuration), written whole, removed when empty', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'ironlb-frr-out-'));
  try {
    const dir = defaultFrrOutput(folder);
    assert.equal(dir, join(folder, '.ironlb-state', 'frr-k8s'));
    const w = new FileFrrConfigurationWriter(dir);
    const obj = emitted().configuration!;
    await w.write(obj, scenario.node.name);
    assert.deepEqual(readdirSync(dir), [`metallb-${scenario.node.name}.yaml`]);
    assert.deepEqual(parse(readFileSync(join(dir, `metallb-${scenario.node.name}.yaml`), 'utf8')), obj);
    await w.write(undefined, scenario.node.name);
    assert.equal(existsSync(join(dir, `metallb-${scenario.node.name}.yaml`)), false);
    await w.write(undefined, scenario.node.name); // already gone: fine
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('ironlb frr-config: one YAML document per node, a node with nothing for frr-k8s says so', () => {
  const r = emitted();
  const text = frrConfigurationsText([r, { node: 'idle', errors: [], warnings: [] }, { node: 'bad', errors: ['two router IDs'], warnings: [] }]);
  const docs = text.split(/^---\n/m).filter(Boolean);
  assert.equal(docs.length, 3);
  assert.deepEqual(parse(docs[0]!), r.configuration);
  assert.match(docs[1]!, /^# node idle: no FRRConfiguration \(no BGP session and no BFD profile on this node\)\n$/);
  assert.match(docs[2]!, /^# node bad: error: two router IDs\n$/);
});
