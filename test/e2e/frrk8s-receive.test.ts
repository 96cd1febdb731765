// Issue #14, seed 001's "Configuring with FRR-K8s" end to end: a router (FRR bgpd) announces
// prefixes to a node running ironlb's speaker; with the FRRConfiguration letting the BGPPeer's
// routes in they appear in the node's kernel table (route protocol 248) and traffic to them flows
// through the router (asked for with ROUTE-REFRESH: the session was up before); a prefix filter lets only the allowed ones in; without the
// FRRConfiguration nothing comes in; an edit conflicting with the BGPPeer is refused (the last good
// version stays); the router lost,
// they go; a withdraw at the router removes the route; someone else's route for the same prefix is
// never touched. Namespaces `fk-*`.
import assert from 'node:assert/strict';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { FrrInstance, frrInstalled, waitFor } from './frr.ts';
import { inNs, sh, spawnInNs } from './netns.ts';
import { startNodeAndRouter, type NodeAndRouter } from './node-router.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
const nodeNs = 'fk-node';
const rtrNs = 'fk-rtr';

const peer = `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: peer, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64512, peerAddress: 10.214.0.1}
`;
const withRecv = (allowed: string, asn = 64512) => `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: {name: with-recv, namespace: metallb-system}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 10.214.0.1
        asn: ${asn}
        toReceive:
          allowed: ${allowed}
`;

function ourRoutes(): string[] {
  return inNs(nodeNs, 'ip', '-4', 'route', 'show', 'proto', '248').split('\n').filter(Boolean).map((l) => l.trim()).sort();
}

describe('FRRConfiguration toReceive: routes from FRR into the node\'s kernel', () => {
  let net: NodeAndRouter;
  let root: string;
  let folder: string;
  let frr: FrrInstance;
  let speaker: ChildProcess | undefined;

  const write = (frrConfig: string | undefined) => {
    writeFileSync(path.join(folder, 'peer.yaml'), peer);
    if (frrConfig === undefined) rmSync(path.join(folder, 'frr.yaml'), { force: true });
    else writeFileSync(path.join(folder, 'frr.yaml'), frrConfig);
  };
  const log = () => readFileSync(path.join(root, 'speaker.log'), 'utf8');

  before(() => {
    assert.ok(frrInstalled(), 'FRR (bgpd, vtysh) must be installed: apt-get install frr');
    net = startNodeAndRouter({ prefix: 'fk', subnet: '10.214.0', asn: 64512, nodeAsn: 64512, extra: ` address-family ipv4 unicast
  network 10.77.1.0/24
  network 10.77.2.0/24
  network 10.78.0.0/16
  neighbor 10.214.0.2 next-hop-self
 exit-address-family
` });
    ({ root, router: frr } = net);
    folder = path.join(root, 'config');
    mkdirSync(folder);
    for (const a of ['10.77.1.1/24', '10.77.2.1/24', '10.78.0.1/16']) inNs(rtrNs, 'ip', 'addr', 'add', a, 'dev', 'lo');
    // A route of someone else's for a prefix the router also sends: it must survive everything.
    inNs(nodeNs, 'ip', 'route', 'add', '10.78.0.0/16', 'via', '10.214.0.1', 'proto', 'static');
    write(undefined);
    const fd = openSync(path.join(root, 'speaker.log'), 'a');
    speaker = spawnInNs(nodeNs, [process.execPath, '--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), 'speaker', '--config', folder, '--node', 'fk-n1'], fd, { IRONLB_LOG_LEVEL: 'info' }, repo);
  });

  after(async () => {
    if (speaker?.exitCode === null) {
      speaker.kill('SIGTERM');
      await new Promise((r) => speaker!.once('exit', r));
    }
    net?.remove();
  });

  it('without an FRRConfiguration the session comes up and nothing is installed', async () => {
    await waitFor('session Established at the router', 30_000, async () => Object.values(await frr.neighbors()).some((p) => p.state === 'Established') ? true : undefined, 200);
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(ourRoutes(), []);
  });

  it('with seed 001\'s FRRConfiguration (allowed: all) the routes are installed and traffic flows through the router', async () => {
    write(withRecv('{mode: all}'));
    const routes = await waitFor('three routes', 20_000, () => { const r = ourRoutes(); return r.length === 3 ? r : undefined; }, 200);
    assert.deepEqual(routes, [
      '10.77.1.0/24 via 10.214.0.1 dev eth0 metric 20',
      '10.77.2.0/24 via 10.214.0.1 dev eth0 metric 20',
      '10.78.0.0/16 via 10.214.0.1 dev eth0 metric 20',
    ]);
    inNs(nodeNs, 'ping', '-c', '1', '-W', '2', '10.77.2.1');
    // The session was up before the FRRConfiguration: ironlb asked for the routes with
    // ROUTE-REFRESH (RFC 2918) instead of resetting the session.
    const n = await frr.json<Record<string, { connectionsEstablished?: number; messageStats?: { routeRefreshRecv?: number } }>>('show bgp neighbors 10.214.0.2 json');
    assert.equal(n['10.214.0.2']?.connectionsEstablished, 1, 'the session was not reset');
    assert.ok((n['10.214.0.2']?.messageStats?.routeRefreshRecv ?? 0) >= 1, 'the router received a ROUTE-REFRESH');
    assert.match(log(), /ROUTE-REFRESH sent/);
    // `ironlb status`: per peer, what was received and what is in the kernel (the speaker's status file).
    const status = await waitFor('status with the received routes', 10_000, () => {
      const out = sh(process.execPath, '--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), 'status', '--config', folder);
      return out.includes('received 3 routes, 3 accepted, 3 installed in the kernel') ? out : undefined;
    }, 500);
    assert.match(status, /peer 10\.214\.0\.1 Established/);
    assert.ok(inNs(nodeNs, 'ip', 'route', 'show', '10.78.0.0/16', 'proto', 'static').includes('10.78.0.0/16'), 'the static route is untouched');
  });

  it('a prefix filter lets only the allowed ones in', async () => {
    write(withRecv('{prefixes: [{prefix: 10.77.0.0/16, le: 24}]}'));
    const r = await waitFor('only the two /24s', 10_000, () => { const r = ourRoutes(); return r.length === 2 ? r : undefined; }, 200);
    assert.deepEqual(r.map((l) => l.split(' ')[0]), ['10.77.1.0/24', '10.77.2.0/24']);
  });

  it('withdrawn at the router: gone from the node; announced again: back', async () => {
    const network = (no: string) => frr.vtysh(`configure terminal\nrouter bgp 64512\naddress-family ipv4 unicast\n${no}network 10.77.2.0/24`, 'bgpd');
    await network('no ');
    await waitFor('10.77.2.0/24 gone', 10_000, () => { const r = ourRoutes(); return r.length === 1 ? r : undefined; }, 200);
    assert.deepEqual(ourRoutes().map((l) => l.split(' ')[0]), ['10.77.1.0/24']);
    await network('');
    await waitFor('10.77.2.0/24 back', 10_000, () => (ourRoutes().length === 2 ? true : undefined), 200);
  });

  it('an edit conflicting with the BGPPeer is refused with a message naming both; its last good version stays', async () => {
    write(withRecv('{mode: all}', 64999));
    await waitFor('the refusal logged', 10_000, () => (log().includes('has ASN 64999 here and 64512 in BGPPeer metallb-system/peer; its last good version stays in force') ? true : undefined), 200);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(ourRoutes().map((l) => l.split(' ')[0]), ['10.77.1.0/24', '10.77.2.0/24'], 'the filtered version still applies, not mode: all');
  });

  it('the router lost: its routes are gone (no graceful restart); stopping the speaker leaves others\' routes alone', async () => {
    write(withRecv('{mode: all}'));
    await waitFor('routes back', 10_000, () => (ourRoutes().length === 3 ? true : undefined), 200);
    frr.kill();
    await waitFor('routes gone with the session', 30_000, () => (ourRoutes().length === 0 ? true : undefined), 200);
    speaker!.kill('SIGTERM');
    await new Promise((r) => speaker!.once('exit', r));
    assert.deepEqual(ourRoutes(), []);
    assert.ok(inNs(nodeNs, 'ip', 'route', 'show', '10.78.0.0/16').includes('proto static'), 'the static route is untouched');
  });
});
