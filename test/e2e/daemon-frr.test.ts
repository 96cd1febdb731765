// The standalone daemon against a real FRR bgpd on loopback: files in a folder → routes in FRR's
// RIB; an edit → only the difference; an invalid edit → nothing changes; a restart → same IPs.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runDaemon, type RunningDaemon } from '../../src/daemon/run.ts';
import { createLogger, silentLogger } from '../../src/observe/log.ts';
import { readControllerStatus } from '../../src/store/files/status-file.ts';
import { FrrInstance, frrInstalled, loopbackBgpdConfig, waitFor } from './frr.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures', 'loopback');
// A loopback /24 of our own per run, so that two runs on one machine (two engineers' npm test) never meet.
const net = `127.61.${process.pid % 250}`;
const router = `${net}.1`;
const speaker = `${net}.2`;

describe('standalone daemon → FRR on loopback', () => {
  let root: string;
  let folder: string;
  let frr: FrrInstance;
  let daemon: RunningDaemon | undefined;

  const start = async (): Promise<RunningDaemon> =>
    runDaemon({ controller: true, speaker: true, assumeLocalEndpoints: true }, { folder, nodeName: 'ilbl-n1', logger: process.env.ILBL_DEBUG ? createLogger({}) : silentLogger(), bfdPorts: { listen: 18610, peer: 18611 } });
  const rib = async (): Promise<string[]> => [...(await frr.routes()).keys()].sort();

  before(() => {
    assert.ok(frrInstalled(), 'FRR (bgpd, vtysh) must be installed: apt-get install frr');
    root = mkdtempSync(path.join(tmpdir(), 'ilbl-daemon-frr-'));
    folder = path.join(root, 'config');
    cpSync(fixtures, folder, { recursive: true });
    const metallb = path.join(folder, 'metallb.yaml');
    writeFileSync(metallb, readFileSync(metallb, 'utf8').replaceAll('127.0.0.61', router).replaceAll('127.0.0.62', speaker));
    frr = new FrrInstance('frr', root);
    // An explicit neighbor, not only the listen range: after a reset, FRR 8.4 sometimes keeps the
    // re-created dynamic neighbor out of every `show` command while the session runs.
    frr.start('bgpd', loopbackBgpdConfig({
      asn: 64512, routerId: router, listenRange: `${net}.0/24`,
      extra: ` bgp graceful-restart\n neighbor ${speaker} remote-as 64513\n neighbor ${speaker} passive\n neighbor ${speaker} timers 3 9\n`,
    }), ['-Z', '-l', router, '-p', '16061']);
  });
  after(async () => {
    await daemon?.stop();
    frr?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('announces every Service of the folder with the advertisement\'s community', async () => {
    daemon = await start();
    const prefixes = await waitFor('two routes in FRR', 20_000, async () => { const r = await rib(); return r.length === 2 ? r : undefined; });
    assert.deepEqual(prefixes, ['10.201.0.0/32', '10.201.0.50/32']);
    const [p] = await frr.route('10.201.0.50/32');
    assert.deepEqual(p?.nexthops, [speaker]);
    assert.deepEqual(p?.communities, ['64513:100']);
    assert.equal(p?.asPath, '64513');
  });

  it('an edit sends only the difference (new Service in, new community on all)', async () => {
    writeFileSync(path.join(folder, 'more.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: { name: extra, namespace: default }\nspec: { type: LoadBalancer, ports: [{ port: 8080 }] }\n');
    const prefixes = await waitFor('the third route', 5000, async () => { const r = await rib(); return r.length === 3 ? r : undefined; });
    assert.ok(prefixes.includes('10.201.0.1/32'), `got ${prefixes.join(' ')}`);
    const metallb = path.join(folder, 'metallb.yaml');
    writeFileSync(metallb, readFileSync(metallb, 'utf8').replace('"64513:100"', '"64513:200"'));
    await waitFor('community 64513:200', 5000, async () => ((await frr.route('10.201.0.1/32'))[0]?.communities[0] === '64513:200' ? true : undefined));
    const t0 = Date.now();
    writeFileSync(path.join(folder, 'more.yaml'), '');
    await waitFor('the third route withdrawn', 5000, async () => ((await rib()).length === 2 ? true : undefined));
    assert.ok(Date.now() - t0 < 2000, 'withdrawn within 2 s of the edit');
  });

  it('an invalid edit is rejected and leaves the routes alone', async () => {
    const before = await rib();
    const metallb = path.join(folder, 'metallb.yaml');
    const good = readFileSync(metallb, 'utf8');
    writeFileSync(metallb, good.replace('10.201.0.0/24', '10.201.0.0/33'));
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await rib(), before);
    assert.equal(await daemon!.metrics.configStale.get().then((m) => m.values[0]?.value), 1);
    writeFileSync(metallb, good.replace('"64513:100"', '"64513:200"'));
    await waitFor('config accepted again', 3000, async () => ((await daemon!.metrics.configStale.get()).values[0]?.value === 0 ? true : undefined));
  });

  it('a restart keeps every Service on its IP, and SIGTERM-style stop withdraws', async () => {
    const ips = (await readControllerStatus(folder)).services;
    await daemon!.stop();
    daemon = undefined;
    await waitFor('routes withdrawn on stop', 5000, async () => ((await rib()).length === 0 ? true : undefined));
    daemon = await start();
    await waitFor('routes back', 20_000, async () => ((await rib()).length === 2 ? true : undefined));
    assert.deepEqual((await readControllerStatus(folder)).services, ips);
  });

  it('with graceful restart configured, stopping leaves the routes at the router (stale) and a restart refreshes them', async () => {
    const metallb = path.join(folder, 'metallb.yaml');
    writeFileSync(metallb, readFileSync(metallb, 'utf8').replace('  connectTime: 1s\n', '  connectTime: 1s\n  enableGracefulRestart: true\n'));
    // the session restarts with the capability; wait until FRR has negotiated it
    await waitFor('graceful restart negotiated', 20_000, async () => {
      // every neighbor: a dynamic neighbor re-created after a reset is not always found by address
      const n = await frr.json<Record<string, { bgpState?: string; gracefulRestartInfo?: { remoteGrMode?: string } }>>('show bgp neighbors json');
      return Object.values(n).some((p) => p.bgpState === 'Established' && p.gracefulRestartInfo?.remoteGrMode === 'Restart') ? true : undefined;
    }, 200);
    await waitFor('routes back', 10_000, async () => ((await rib()).length === 2 ? true : undefined));
    await daemon!.stop();
    daemon = undefined;
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await rib(), ['10.201.0.0/32', '10.201.0.50/32'], 'the router keeps the routes while we restart');
    daemon = await start();
    await waitFor('session back, routes current', 20_000, async () => {
      const peers = await frr.neighbors();
      return Object.values(peers).some((p) => p.state === 'Established') && (await rib()).length === 2 ? true : undefined;
    }, 200);
  });
});
