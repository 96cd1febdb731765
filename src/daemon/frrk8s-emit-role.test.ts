import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { LoadedObject } from '../api/loaded.ts';
import type { EndpointSlice, Node, Service } from '../api/resources.ts';
import { resolveConfig } from '../config/resolve.ts';
import { silentLogger } from '../observe/log.ts';
import type { EmittedFrrConfiguration } from '../speaker/frrk8s-emit.ts';
import { planAnnouncements } from '../speaker/plan.ts';
import { emptyControllerStatus, type Snapshot, type SpeakerStatus, type Store } from '../store/store.ts';
import { frrScenarios, scenarioObjects } from '../../test/differential/frrk8s-scenarios.ts';
import { until } from '../../test/fakes/until.ts';
import { FrrK8sEmitRole } from './frrk8s-emit-role.ts';
import { runDaemon } from './run.ts';

let generation = 0;
function snapshot(objects: readonly LoadedObject[]): Snapshot {
  const r = resolveConfig(objects);
  assert.ok(r.config);
  const all = objects.map((l) => l.object);
  return {
    generation: ++generation, config: r.config, objects,
    services: all.filter((x): x is Service => x.kind === 'Service'),
    endpointSlices: all.filter((x): x is EndpointSlice => x.kind === 'EndpointSlice'),
    nodes: all.filter((x): x is Node => x.kind === 'Node'), namespaces: [], diagnostics: [], status: emptyControllerStatus,
  };
}

class FakeSink {
  readonly where = 'fake';
  writes: (EmittedFrrConfiguration | undefined)[] = [];
  failNext = 0;
  write(obj: EmittedFrrConfiguration | undefined): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('apiserver unavailable'));
    }
    this.writes.push(obj);
    return Promise.resolve();
  }
}

const statuses: SpeakerStatus[] = [];
const store = { writeSpeakerStatus: (s: SpeakerStatus) => { statuses.push(s); return Promise.resolve(); } } as unknown as Store;
const scenario = frrScenarios.find((s) => s.name === 'communities-localpref')!;

function role(sink: FakeSink): FrrK8sEmitRole {
  return new FrrK8sEmitRole({ store, nodeName: scenario.node.name, plan: planAnnouncements, sink, namespace: 'metallb-system', secrets: 'reference', logger: silentLogger(), retryMs: 10 });
}

test('written once per change: the same snapshot again writes nothing; a failed write is retried', async () => {
  const sink = new FakeSink();
  const r = role(sink);
  sink.failNext = 1;
  const objects = scenarioObjects(scenario);
  r.onSnapshot(snapshot(objects));
  await until(() => sink.writes.length === 1, 'the first write');
  assert.equal(sink.writes[0]!.metadata.name, 'metallb-frr-a');
  r.onSnapshot(snapshot(objects));
  r.onSnapshot(snapshot(objects));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(sink.writes.length, 1, 'no change, no write');
  // The BGPPeer goes: nothing for frr-k8s on this node any more, the object is removed.
  r.onSnapshot(snapshot(objects.filter((lo) => (lo.object as { kind: string }).kind !== 'BGPPeer')));
  await until(() => sink.writes.length === 2, 'the removal');
  assert.equal(sink.writes[1], undefined);
  // Its status says what is announced; sessions are frr-k8s's.
  await until(() => statuses.length > 0, 'a status');
  assert.deepEqual(statuses[0]!.peers, {});
  await r.stop();
});

test('every resyncMs the object is written again (an edited or deleted one is repaired)', async () => {
  const sink = new FakeSink();
  const r = new FrrK8sEmitRole({ store, nodeName: scenario.node.name, plan: planAnnouncements, sink, namespace: 'metallb-system', secrets: 'reference', logger: silentLogger(), resyncMs: 20 });
  r.onSnapshot(snapshot(scenarioObjects(scenario)));
  await until(() => sink.writes.length >= 3, 'two rewrites');
  assert.deepEqual(sink.writes[2], sink.writes[0]);
  await r.stop();
});

test('a configuration frr-k8s cannot take (two router IDs) writes nothing: the last object stays', async () => {
  const sink = new FakeSink();
  const r = role(sink);
  const objects = scenarioObjects(scenario);
  r.onSnapshot(snapshot(objects));
  await until(() => sink.writes.length === 1, 'the first write');
  const extra = scenarioObjects({ ...scenario, config: `${scenario.config}---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: other, namespace: NS}
spec: {myASN: 64500, peerASN: 64500, peerAddress: 10.0.0.2, routerID: 10.9.9.9}
` });
  r.onSnapshot(snapshot(extra));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(sink.writes.length, 1);
  await r.stop();
});

test('a folder with --bgp-backend frr-k8s takes a BFD profile with echo mode (frr-k8s\'s FRR runs it) and writes it for frr-k8s', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ilb-frr-echo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.yaml'), `apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: echo, namespace: metallb-system}
spec: {echoMode: true, echoInterval: 60}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.1, bfdProfile: echo}
`);
  const out = join(dir, 'out');
  const d = await runDaemon({ controller: false, speaker: true }, { folder: dir, nodeName: 'n1', logger: silentLogger(), bgpBackend: { kind: 'frr-k8s', output: out } });
  try {
    const file = join(out, 'metallb-n1.yaml');
    await until(() => existsSync(file), 'the FRRConfiguration file');
    const spec = (parse(readFileSync(file, 'utf8')) as EmittedFrrConfiguration).spec;
    assert.deepEqual(spec.bgp.bfdProfiles, [{ name: 'echo', echoInterval: 60, echoMode: true, passiveMode: false }]);
  } finally {
    await d.stop();
  }
});
