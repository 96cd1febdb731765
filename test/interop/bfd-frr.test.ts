// ironlb's BFD against FRR's bfdd (with zebra), in two network namespaces joined by a veth:
//   ilbf-i (ironlb agent)  eth0 10.251.0.1,.6,.7/24, lo 10.251.1.1  ——  ilbf-f (FRR)  eth0 10.251.0.2,.4,.5/24, lo 10.251.1.2
// (FRR 8.4 keeps one single-hop session per peer address and interface, so each passive case has its own pair.)
// Single-hop and multihop Up with different timers on each side (negotiation checked on both ends),
// GTSM, passive mode on either side, poll/final timer changes while Up, and a link cut.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { type Agent, type Frr, Lab, ip, requireFrr, sleep, waitFor } from './bfd-harness/lab.ts';
import { defaultBfdProfile } from '../../src/bfd/profile.ts';
import { Diag, SessionState, encodeControl } from '../../src/bfd/packet.ts';

const I = 'ilbf-i';
const F = 'ilbf-f';
let lab: Lab;
let frr: Frr;
let agent: Agent;

const frrConf = `bfd
 peer 10.251.0.1 local-address 10.251.0.2 interface eth0
  receive-interval 150
  transmit-interval 200
  detect-multiplier 4
 exit
 peer 10.251.1.1 multihop local-address 10.251.1.2
  receive-interval 300
  transmit-interval 300
  detect-multiplier 3
 exit
 peer 10.251.0.7 local-address 10.251.0.5 interface eth0
  passive-mode
 exit
 peer fd00:251::1 local-address fd00:251::2 interface eth0
  transmit-interval 200
 exit
exit
`;

before(async () => {
  requireFrr();
  lab = new Lab('frr');
  lab.netns(I); lab.netns(F);
  lab.link(I, 'eth0', '10.251.0.1/24', F, 'eth0', '10.251.0.2/24');
  for (const a of ['10.251.0.4/24', '10.251.0.5/24']) ip('-n', F, 'addr', 'add', a, 'dev', 'eth0');
  for (const a of ['10.251.0.6/24', '10.251.0.7/24']) ip('-n', I, 'addr', 'add', a, 'dev', 'eth0');
  ip('-n', I, 'addr', 'add', 'fd00:251::1/64', 'dev', 'eth0', 'nodad');
  ip('-n', F, 'addr', 'add', 'fd00:251::2/64', 'dev', 'eth0', 'nodad');
  ip('-n', I, 'addr', 'add', '10.251.1.1/32', 'dev', 'lo');
  ip('-n', F, 'addr', 'add', '10.251.1.2/32', 'dev', 'lo');
  ip('-n', I, 'route', 'add', '10.251.1.2/32', 'via', '10.251.0.2');
  ip('-n', F, 'route', 'add', '10.251.1.1/32', 'via', '10.251.0.1');
  frr = lab.frr(F, 'f', frrConf);
  agent = await lab.agent(I);
});

after(async () => { await lab?.destroy(); });

const wallNow = (): number => performance.timeOrigin + performance.now();

test('the native transport is in use, so received TTLs are checked (GTSM)', () => {
  assert.deepEqual(agent.transport, { name: 'native', receivedTtl: true });
});

test('single-hop Up with different intervals: negotiation seen on both ends', async () => {
  await agent.add({ id: 'sh', peerAddress: '10.251.0.2', localAddress: '10.251.0.1', multihop: false,
    profile: defaultBfdProfile('sh', { transmitIntervalMs: 100, receiveIntervalMs: 300, detectMultiplier: 3 }) });
  const s = await waitFor('ironlb single-hop Up', 6000, async () => { const x = await agent.state('sh'); return x.state === 'Up' && !x.damped && x; });
  const p = await waitFor('FRR single-hop up', 3000, () => { const x = frr.peer('10.251.0.1'); return x?.status === 'up' && x.local === '10.251.0.2' && x; });
  await sleep(500); // let the poll that leaves the slow rate finish
  const st = await agent.state('sh');
  assert.equal(st.remoteDiscriminator, p.id);
  assert.equal(p['remote-id'], s.localDiscriminator);
  // FRR sees what we advertise...
  assert.equal(p['remote-transmit-interval'], 100);
  assert.equal(p['remote-receive-interval'], 300);
  assert.equal(p['remote-detect-multiplier'], 3);
  // ...and we negotiated against what FRR advertises: TX max(100, FRR rx 150), detection 4 × max(300, FRR tx 200).
  assert.equal(st.negotiatedTxMs, 150);
  assert.equal(st.negotiatedRxMs, 300);
  assert.equal(st.detectionTimeMs, 1200);
  assert.equal(st.remoteState, 'Up');
  // The rates on the wire: FRR must send at max(200, our 300) = 300 ms, we at 150 ms (both less 0–25 % jitter).
  const a = await agent.state('sh');
  await sleep(3000);
  const b = await agent.state('sh');
  const rx = b.received - a.received;
  const tx = b.transmitted - a.transmitted;
  assert.ok(rx >= 9 && rx <= 15, `FRR sent ${rx} packets in 3 s (want ≈ 3000/(300×0.875))`);
  assert.ok(tx >= 18 && tx <= 28, `we sent ${tx} packets in 3 s (want ≈ 3000/(150×0.875))`);
});

test('multihop Up on UDP 4784 with minimumTtl from the profile', async () => {
  await agent.add({ id: 'mh', peerAddress: '10.251.1.2', localAddress: '10.251.1.1', multihop: true,
    profile: defaultBfdProfile('mh', { transmitIntervalMs: 250, receiveIntervalMs: 400, detectMultiplier: 5, minimumTtl: 254 }) });
  await waitFor('ironlb multihop Up', 6000, async () => (await agent.state('mh')).state === 'Up');
  const p = await waitFor('FRR multihop up', 3000, () => { const x = frr.peer('10.251.1.1'); return x?.status === 'up' && x; });
  assert.equal(p.multihop, true);
  await sleep(500);
  const st = await agent.state('mh');
  assert.equal(p['remote-transmit-interval'], 250);
  assert.equal(p['remote-receive-interval'], 400);
  assert.equal(p['remote-detect-multiplier'], 5);
  assert.equal(st.negotiatedTxMs, 300); // max(250, FRR rx 300)
  assert.equal(st.detectionTimeMs, 3 * 400); // FRR mult 3 × max(our rx 400, FRR tx 300)
});

test('IPv6 single-hop Up beside the IPv4 sessions (hop limit 255 checked)', async () => {
  await agent.add({ id: 'v6', peerAddress: 'fd00:251::2', localAddress: 'fd00:251::1', multihop: false, profile: defaultBfdProfile('v6', { receiveIntervalMs: 250 }) });
  await waitFor('ironlb IPv6 Up', 6000, async () => (await agent.state('v6')).state === 'Up');
  const p = await waitFor('FRR IPv6 up', 3000, () => { const x = frr.peer('fd00:251::1'); return x?.status === 'up' && x; });
  assert.equal(p['remote-receive-interval'], 250);
  await waitFor('negotiated', 2000, async () => (await agent.state('v6')).negotiatedTxMs === 300);
  assert.equal((await agent.state('sh')).state, 'Up');
  assert.equal((await agent.discards())['ttl'] ?? 0, 0);
});

test('GTSM: a single-hop packet arriving with TTL 64 is discarded', async () => {
  const st = await agent.state('sh');
  const before = (await agent.discards())['ttl'] ?? 0;
  const pkt = encodeControl({ diag: Diag.None, state: SessionState.AdminDown, poll: false, final: false, controlPlaneIndependent: false, demand: false,
    detectMult: 3, myDiscriminator: st.remoteDiscriminator, yourDiscriminator: st.localDiscriminator, desiredMinTxUs: 1e6, requiredMinRxUs: 1e6, requiredMinEchoRxUs: 0 });
  // An AdminDown from the peer's address: accepted it would take the session Down, so Up afterwards proves the discard.
  const js = `const s=require('node:dgram').createSocket('udp4');s.bind({address:'10.251.0.2',port:0},()=>{s.setTTL(64);s.send(Buffer.from('${pkt.toString('hex')}','hex'),3784,'10.251.0.1',()=>s.close())})`;
  ip('netns', 'exec', F, process.execPath, '-e', js);
  await waitFor('ttl discard', 2000, async () => ((await agent.discards())['ttl'] ?? 0) > before);
  assert.equal((await agent.state('sh')).state, 'Up');
});

test('passive mode on ironlb: silent until FRR speaks, then Up', async () => {
  await agent.add({ id: 'pi', peerAddress: '10.251.0.4', localAddress: '10.251.0.6', multihop: false, profile: defaultBfdProfile('pi', { passiveMode: true }) });
  await sleep(1500);
  const quiet = await agent.state('pi');
  assert.equal(quiet.transmitted, 0);
  assert.equal(quiet.state, 'Down');
  frr.configure('bfd', 'peer 10.251.0.6 local-address 10.251.0.4 interface eth0');
  await waitFor('passive ironlb Up', 6000, async () => (await agent.state('pi')).state === 'Up');
  await waitFor('FRR up with passive ironlb', 2000, () => frr.peers().find((x) => x.peer === '10.251.0.6')?.status === 'up');
});

test('passive mode on FRR: ironlb speaks first, Up', async () => {
  await agent.add({ id: 'pf', peerAddress: '10.251.0.5', localAddress: '10.251.0.7', multihop: false, profile: defaultBfdProfile('pf') });
  await waitFor('ironlb Up with passive FRR', 6000, async () => (await agent.state('pf')).state === 'Up');
  const p = frr.peer('10.251.0.7');
  assert.equal(p?.['passive-mode'], true);
  assert.equal(p?.status, 'up');
});

test('removeSession tells FRR AdminDown: FRR goes down at once, "neighbor signaled", remote diag "administratively down"', async () => {
  const t0 = Date.now();
  await agent.remove('pf');
  const p = await waitFor('FRR down after AdminDown', 2000, () => { const x = frr.peer('10.251.0.7'); return x?.status === 'down' && x; });
  assert.ok(Date.now() - t0 < 500, 'well before any detection time');
  assert.match(p['remote-diagnostic'], /administratively down/);
  assert.match(p.diagnostic, /neighbor signaled session down/);
});

test('timer change by poll/final while Up, from either side, without a flap', async () => {
  const downs = agent.events.filter((e) => e.ev === 'down').length;
  await agent.update('sh', defaultBfdProfile('sh2', { transmitIntervalMs: 50, receiveIntervalMs: 50, detectMultiplier: 3 }));
  await waitFor('FRR sees our new timers', 3000, () => {
    const p = frr.peer('10.251.0.1');
    return p?.['remote-transmit-interval'] === 50 && p['remote-receive-interval'] === 50;
  });
  await waitFor('our poll finished', 2000, async () => { const s = await agent.state('sh'); return s.negotiatedTxMs === 150 && s.detectionTimeMs === 4 * 200; });
  frr.configure('bfd', 'peer 10.251.0.1 local-address 10.251.0.2 interface eth0', 'transmit-interval 100', 'receive-interval 100');
  const s = await waitFor('FRR\'s new timers negotiated', 3000, async () => { const x = await agent.state('sh'); return x.negotiatedTxMs === 100 && x.detectionTimeMs === 400 && x; });
  assert.equal(s.state, 'Up');
  assert.equal(frr.peer('10.251.0.1')?.status, 'up');
  assert.equal(agent.events.filter((e) => e.ev === 'down').length, downs, 'no flap during the timer changes');
});

test('link cut (veth down in FRR\'s namespace): Down within the detection time, then back Up', async () => {
  const detect = (await agent.state('sh')).detectionTimeMs;
  const down = agent.next((e) => e.ev === 'down' && e['id'] === 'sh', 5000);
  const t0 = wallNow();
  ip('-n', F, 'link', 'set', 'eth0', 'down');
  const e = await down;
  const took = (e['wall'] as number) - t0;
  assert.equal(e['diag'], 'ControlDetectionTimeExpired');
  // How soon is a figure (`npm run bench -- bfd`), not an assertion: the diagnostic above says the
  // detection timer, not the session's end or an admin change, took it Down.
  process.stdout.write(`# Down after ${took.toFixed(0)} ms, detection time ${detect} ms\n`);
  await waitFor('multihop Down too', 3000, async () => (await agent.state('mh')).state === 'Down');
  ip('-n', F, 'link', 'set', 'eth0', 'up');
  await waitFor('single-hop back Up', 8000, async () => (await agent.state('sh')).state === 'Up');
  await waitFor('FRR back up', 3000, () => frr.peer('10.251.0.1')?.status === 'up');
});

test('killing bfdd is detected within the detection time', async () => {
  const detect = (await agent.state('sh')).detectionTimeMs;
  const down = agent.next((e) => e.ev === 'down' && e['id'] === 'sh', 5000);
  const t0 = wallNow();
  process.kill(frr.bfddPid, 'SIGKILL');
  const e = await down;
  assert.ok((e['wall'] as number) - t0 <= detect + 100, `Down after ${((e['wall'] as number) - t0).toFixed(0)} ms, detection ${detect} ms`);
});
