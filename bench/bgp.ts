// `npm run bench -- bgp [--routes N] [--receiver frr|bird] [--only ironlb,replay,bird,frr,gobgp,exabgp]`
//
// How long one receiver (FRR bgpd by default, or BIRD; the same for every sender) takes to hold
// N IPv4 /32 and N IPv6 /128 routes sent by ironlb, then by BIRD, FRR, GoBGP and ExaBGP, each
// loaded the fastest way it has (BIRD: static protocols; FRR: network statements; GoBGP: MRT
// injected before the neighbor exists; ExaBGP: an API process packing NLRI per line). The
// receiver is restarted for each sender, so none pays for the previous one's withdrawals.
//
// "replay" is the receiver's own limit: ironlb's UPDATE bytes for the same routes, encoded before
// connecting, written after the OPEN exchange as fast as the socket takes them. No sender can be
// faster with this encoding; ironlb's time over replay's is what ironlb itself costs.
//
// "transfer" runs from the moment the receiver saw the session Established (FRR's log, BIRD's
// protocol timestamp, both sub-millisecond) to the poll that finds the last route; "total" from
// the sender's launch. ironlb runs in a child process so its CPU time and peak RSS are its own.
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection, type Socket } from 'node:net';
import { AdjRibOut } from '../src/bgp/adj-rib-out.ts';
import { BufferWriter } from '../src/bgp/buffer-writer.ts';
import { buildOpen, negotiate, type FsmConfig } from '../src/bgp/fsm.ts';
import { MAX_EXTENDED_MESSAGE, MAX_MESSAGE, MessageFramer, MessageType } from '../src/bgp/framing.ts';
import { KEEPALIVE } from '../src/bgp/keepalive.ts';
import { decodeOpen, encodeOpen } from '../src/bgp/open.ts';
import { UpdatePacker } from '../src/bgp/update-packer.ts';
import { encodeEndOfRib } from '../src/bgp/update.ts';
import { BgpSpeaker } from '../src/bgp/speaker.ts';
import type { Route } from '../src/bgp/speaker.ts';
import { plainTransport } from '../src/bgp/transport.ts';
import { nativeAvailable } from '../src/native/addon.ts';
import { nativeTransport } from '../src/native/transport.ts';
import type { Prefix } from '../src/net/prefix.ts';
import { FrrDaemon } from '../test/interop/harness/frr.ts';
import { BirdDaemon, birdProtocolName } from '../test/interop/harness/bird.ts';
import { killPid, makeDir, readPid, removeDir, requireBinary, run, sleep, spawnDaemon, waitFor } from '../test/interop/harness/common.ts';

const RX = { address: '127.0.46.1', port: 18201, asn: 65100 };
const V4_BASE = 0x64400000n; // 100.64.0.0
const V6_BASE = 0x20010db8000100000000000000000000n; // 2001:db8:1::
const senders = ['ironlb', 'replay', 'bird', 'frr', 'gobgp', 'exabgp'] as const;
type SenderName = (typeof senders)[number];

interface Sender {
  address: string;
  asn: number;
  nextHopV6: string;
  /** Starts sending; resolves once launched. */
  start(n: number, dir: string): Promise<void>;
  /** Stops; returns ironlb's resource figures when it is the sender. */
  stop(): Promise<Usage | undefined>;
}

interface Usage { cpuMs: number; cpuRoutesMs: number; maxRssMb: number }

const v4 = (i: number): string => { const v = Number(V4_BASE) + i; return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`; };
const v6 = (i: number): string => `2001:db8:1::${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}`;

// ---- ironlb, in a child process -------------------------------------------------------------

function ironlbSender(): Sender {
  let child: ReturnType<typeof fork> | undefined;
  return {
    address: '127.0.46.11', asn: 65011, nextHopV6: '2001:db8:46::11',
    async start(n) {
      child = fork(fileURLToPath(import.meta.url), ['--ironlb-child', String(n)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      await new Promise<void>((resolve, reject) => { child!.once('message', () => resolve()); child!.once('exit', (c) => reject(new Error(`ironlb child exited ${c}`))); });
    },
    async stop() {
      if (!child) return undefined;
      const c = child;
      child = undefined;
      const usage = new Promise<Usage>((resolve) => c.once('message', (m) => resolve(m as Usage)));
      c.send('stop');
      const u = await usage;
      await new Promise((r) => c.once('exit', r));
      return u;
    },
  };
}

async function ironlbChild(n: number): Promise<void> {
  const cpu0 = process.cpuUsage();
  const routes = benchRoutes(n);
  const ip4 = (s: string) => ({ family: 4 as const, value: BigInt(s.split('.').reduce((a, b) => a * 256 + Number(b), 0)) });
  const speaker = new BgpSpeaker({ transport: nativeAvailable() ? nativeTransport : plainTransport });
  speaker.addPeer({
    id: 'rx', peerAddress: ip4(RX.address), peerPort: RX.port, localAddress: ip4('127.0.46.11'), myAsn: 65011, peerAsn: RX.asn,
    routerId: ip4('127.0.46.11'), holdTimeSeconds: 90, connectRetrySeconds: 1, ebgpMultiHop: false,
    nextHopV6: { family: 6, value: 0x20010db8004600000000000000000011n },
  });
  speaker.setRoutes('rx', routes);
  process.send!('started');
  process.once('message', () => {
    const cpu = process.cpuUsage();
    const ms = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    const usage: Usage = { cpuMs: ms(cpu), cpuRoutesMs: ms(cpu) - ms(cpu0), maxRssMb: process.resourceUsage().maxRSS / 1024 };
    process.send!(usage, () => { void speaker.close().finally(() => process.exit(0)); });
  });
}

// ---- replay: ironlb's UPDATE bytes, pre-encoded, written as fast as the socket takes them ------

function benchRoutes(n: number): Route[] {
  const routes: Route[] = [];
  const attributes = { communities: [] };
  for (let i = 0; i < n; i++) routes.push({ prefix: { family: 4, network: V4_BASE + BigInt(i), length: 32 } satisfies Prefix, attributes });
  for (let i = 0; i < n; i++) routes.push({ prefix: { family: 6, network: V6_BASE + BigInt(i), length: 128 } satisfies Prefix, attributes });
  return routes;
}

/** Every UPDATE and both End-of-RIBs, packed the way a session packs them for this message size. */
function encodeTable(routes: readonly Route[], maxMessage: number, nextHop4: Buffer, nextHop6: Buffer): Buffer {
  const rib = new AdjRibOut();
  rib.setDesired(routes);
  rib.sessionUp();
  const packer = new UpdatePacker({ ebgp: true, myAsn: 65016, fourOctetAsn: true, nextHop4, nextHop6, maxMessage, addPath: { 4: false, 6: false } });
  const w = new BufferWriter(1 << 20);
  for (const f of [4, 6] as const) while (rib.tables[f].dirty.size > 0) packer.pack(rib.tables[f], f, w, 16384);
  w.bytes(encodeEndOfRib(4)).bytes(encodeEndOfRib(6));
  return Buffer.from(w.view());
}

function replaySender(): Sender {
  let socket: Socket | undefined;
  let keepalive: NodeJS.Timeout | undefined;
  const address = '127.0.46.16';
  return {
    address, asn: 65016, nextHopV6: '2001:db8:46::16',
    async start(n) {
      const nh4 = Buffer.from([127, 0, 46, 16]);
      const nh6 = Buffer.from(nextHop6Bytes('2001:db8:46::16'));
      const routes = benchRoutes(n);
      // Both sizes ready before connecting: which one applies is known only from the OPEN.
      const tables = { small: encodeTable(routes, MAX_MESSAGE, nh4, nh6), large: encodeTable(routes, MAX_EXTENDED_MESSAGE, nh4, nh6) };
      const cfg: FsmConfig = { myAsn: 65016, peerAsn: RX.asn, routerId: 0x7f002e10, holdTimeSeconds: 90, families: [4, 6], restarting: false, extendedMessage: true, addPathSend: false };
      const s = createConnection({ host: RX.address, port: RX.port, localAddress: address, noDelay: true });
      socket = s;
      s.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
      s.write(encodeOpen(buildOpen(cfg)));
      const framer = new MessageFramer();
      s.on('data', (chunk: Buffer) => {
        framer.push(chunk);
        for (let m = framer.next(); m; m = framer.next()) {
          if (m.type !== MessageType.Open) continue;
          const neg = negotiate(cfg, decodeOpen(m.body));
          framer.maxLength = MAX_EXTENDED_MESSAGE;
          s.write(KEEPALIVE);
          // The whole table in one write: the kernel and libuv feed it as fast as the receiver reads.
          s.write(neg.extendedMessage ? tables.large : tables.small);
          keepalive = setInterval(() => s.write(KEEPALIVE), Math.max(1, neg.keepaliveTime) * 1000);
        }
      });
    },
    async stop() {
      clearInterval(keepalive);
      socket?.destroy();
      socket = undefined;
      return undefined;
    },
  };
}

// ---- BIRD: static protocols ------------------------------------------------------------------

function birdSender(): Sender {
  let dir = ''; let pid: number | undefined;
  return {
    address: '127.0.46.12', asn: 65012, nextHopV6: '2001:db8:46::12',
    async start(n, d) {
      dir = d;
      const lines: string[] = ['router id 127.0.46.12;', `log "${dir}/bird.log" { warning, error, fatal };`, 'protocol device { scan time 10; }',
        'protocol static s4 {', '  ipv4;'];
      for (let i = 0; i < n; i++) lines.push(`  route ${v4(i)}/32 blackhole;`);
      lines.push('}', 'protocol static s6 {', '  ipv6;');
      for (let i = 0; i < n; i++) lines.push(`  route ${v6(i)}/128 blackhole;`);
      lines.push('}', 'protocol bgp to_rx {', `  local 127.0.46.12 as 65012;`, `  neighbor ${RX.address} port ${RX.port} as ${RX.asn};`,
        '  multihop; strict bind yes; connect delay time 1; hold time 90;',
        '  ipv4 { import none; export all; };', '  ipv6 { import none; export all; next hop address 2001:db8:46::12; };', '}');
      writeFileSync(join(dir, 'bird.conf'), `${lines.join('\n')}\n`);
      await run(requireBinary('/usr/sbin/bird', 'bird2'), ['-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')], { timeoutMs: 60000 });
      pid = await waitFor('bird pid', async () => readPid(join(dir, 'bird.pid')), 10000, 20);
    },
    async stop() { if (pid) await killPid(pid, 10000); pid = undefined; return undefined; },
  };
}

// ---- FRR: network statements in a second bgpd ------------------------------------------------

function frrSender(): Sender {
  let pid: number | undefined;
  return {
    address: '127.0.46.13', asn: 65013, nextHopV6: '2001:db8:46::13',
    async start(n, dir) {
      const lines = ['frr defaults traditional', `log file ${dir}/bgpd.log`, 'route-map NH6 permit 10', ' set ipv6 next-hop global 2001:db8:46::13', 'exit',
        'router bgp 65013', ' bgp router-id 127.0.46.13', ' no bgp ebgp-requires-policy', ' no bgp network import-check', ' no bgp default ipv4-unicast',
        ` neighbor ${RX.address} remote-as ${RX.asn}`, ` neighbor ${RX.address} port ${RX.port}`, ` neighbor ${RX.address} update-source 127.0.46.13`,
        ` neighbor ${RX.address} disable-connected-check`, ` neighbor ${RX.address} timers connect 1`, ' address-family ipv4 unicast', `  neighbor ${RX.address} activate`];
      for (let i = 0; i < n; i++) lines.push(`  network ${v4(i)}/32`);
      lines.push(' exit-address-family', ' address-family ipv6 unicast', `  neighbor ${RX.address} activate`, `  neighbor ${RX.address} route-map NH6 out`);
      for (let i = 0; i < n; i++) lines.push(`  network ${v6(i)}/128`);
      lines.push(' exit-address-family', 'exit');
      writeFileSync(join(dir, 'bgpd.conf'), `${lines.join('\n')}\n`);
      await run(requireBinary('/usr/lib/frr/bgpd', 'frr'), ['-d', '-Z', '-l', '127.0.46.13', '-p', '18213', '-P', '0', '-f', join(dir, 'bgpd.conf'),
        '-i', join(dir, 'bgpd.pid'), '-z', join(dir, 'zserv.api'), '--vty_socket', dir], { timeoutMs: 600000 });
      pid = await waitFor('bgpd pid', async () => readPid(join(dir, 'bgpd.pid')), 600000, 50);
    },
    async stop() { if (pid) await killPid(pid, 10000); pid = undefined; return undefined; },
  };
}

// ---- GoBGP: MRT injected into a gobgpd with no neighbor, then the neighbor added -------------

/** MRT TABLE_DUMP_V2 (RFC 6396): a peer index table, then one RIB record per prefix. */
function mrtFile(n: number, nextHop4: string, nextHop6: string): Buffer {
  const now = Math.floor(Date.now() / 1000);
  const chunks: Buffer[] = [];
  const record = (subtype: number, body: Buffer) => {
    const h = Buffer.alloc(12);
    h.writeUInt32BE(now, 0); h.writeUInt16BE(13, 4); h.writeUInt16BE(subtype, 6); h.writeUInt32BE(body.length, 8);
    chunks.push(h, body);
  };
  // Peer index table: collector id 0, no view name, one peer (AS4, IPv4) with id/address/AS 0.
  record(1, Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  const nh4 = Buffer.from(nextHop4.split('.').map(Number));
  const nh6 = Buffer.from(nextHop6Bytes(nextHop6));
  const attrs4 = Buffer.concat([Buffer.from([0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4]), nh4]);
  // RFC 6396 §4.3.4 abbreviates MP_REACH_NLRI to the next hop in RIB records, but gobgp 3.10
  // parses the full form (AFI, SAFI, next hop, reserved byte, no NLRI), so write that.
  const attrs6 = Buffer.concat([Buffer.from([0x40, 1, 1, 0, 0x40, 2, 0, 0x80, 14, 21, 0, 2, 1, 16]), nh6, Buffer.from([0])]);
  const entry = (attrs: Buffer) => { const e = Buffer.alloc(8); e.writeUInt16BE(0, 0); e.writeUInt32BE(now, 2); e.writeUInt16BE(attrs.length, 6); return Buffer.concat([e, attrs]); };
  const e4 = entry(attrs4); const e6 = entry(attrs6);
  // gobgp 3.10 loses the tail of every inject (it never closes its gRPC stream): pad with repeats.
  const pad = Math.min(n, 5000);
  let seq = 0;
  for (let k = 0; k < n + pad; k++) {
    const i = k < n ? k : k - n;
    const b = Buffer.alloc(4 + 1 + 4 + 2); b.writeUInt32BE(seq++, 0); b.writeUInt8(32, 4); b.writeUInt32BE(Number(V4_BASE) + i, 5); b.writeUInt16BE(1, 9);
    record(2, Buffer.concat([b, e4]));
  }
  for (let k = 0; k < n + pad; k++) {
    const i = k < n ? k : k - n;
    const b = Buffer.alloc(4 + 1 + 16 + 2); b.writeUInt32BE(seq++, 0); b.writeUInt8(128, 4);
    const v = V6_BASE + BigInt(i);
    for (let j = 0; j < 16; j++) b.writeUInt8(Number((v >> BigInt(8 * (15 - j))) & 0xffn), 5 + j);
    b.writeUInt16BE(1, 21);
    record(4, Buffer.concat([b, e6]));
  }
  return Buffer.concat(chunks);
}

function nextHop6Bytes(s: string): number[] {
  const [head = '', tail = ''] = s.split('::');
  const h = head ? head.split(':') : []; const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 255]);
}

function gobgpSender(): Sender {
  let pid: number | undefined;
  const api = ['-p', '18215', '-u', '127.0.0.1'];
  return {
    address: '127.0.46.14', asn: 65014, nextHopV6: '2001:db8:46::14',
    async start(n, dir) {
      const gobgp = requireBinary('/usr/bin/gobgp', 'gobgpd');
      const global = ['[global.config]', '  as = 65014', '  router-id = "127.0.46.14"', '  port = 18214', '  local-address-list = ["127.0.46.14"]'];
      const conf = join(dir, 'gobgpd.toml');
      writeFileSync(conf, `${global.join('\n')}\n`);
      const child = spawnDaemon(requireBinary('/usr/bin/gobgpd', 'gobgpd'), ['-f', conf, '-p', '--pprof-disable', '--api-hosts', '127.0.0.1:18215'], join(dir, 'gobgpd.log'));
      pid = child.pid;
      await waitFor('gobgpd API', async () => (await run(gobgp, [...api, 'global'])).length > 0, 10000, 100);
      writeFileSync(join(dir, 'routes.mrt'), mrtFile(n, '127.0.46.14', '2001:db8:46::14'));
      await run(gobgp, [...api, 'mrt', 'inject', 'global', join(dir, 'routes.mrt')], { timeoutMs: 600000 });
      for (const af of ['ipv4', 'ipv6']) {
        const out = await run(gobgp, [...api, 'global', 'rib', '-a', af, 'summary']);
        const got = Number(/Destination:\s*(\d+)/.exec(out)?.[1] ?? 0);
        if (got !== n) throw new Error(`gobgp holds ${got} ${af} routes after the MRT inject, not ${n}`);
      }
      // Adding the neighbor only now (SIGHUP re-reads it) makes the table transfer one burst.
      writeFileSync(conf, `${[...global, '[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${RX.address}"`, `    peer-as = ${RX.asn}`,
        '  [neighbors.transport.config]', '    local-address = "127.0.46.14"', `    remote-port = ${RX.port}`,
        '  [neighbors.timers.config]', '    connect-retry = 1', '    hold-time = 90',
        '  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', '      afi-safi-name = "ipv4-unicast"',
        '  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', '      afi-safi-name = "ipv6-unicast"'].join('\n')}\n`);
      process.kill(pid!, 'SIGHUP');
    },
    async stop() { if (pid) await killPid(pid, 20000); pid = undefined; return undefined; },
  };
}

// ---- ExaBGP: an API process announcing packed NLRI -------------------------------------------

function exabgpSender(): Sender {
  let pid: number | undefined;
  return {
    address: '127.0.46.15', asn: 65015, nextHopV6: '2001:db8:46::15',
    async start(n, dir) {
      const cmds: string[] = [];
      for (let s = 0; s < n; s += 500) {
        const ids = [...Array(Math.min(500, n - s)).keys()].map((k) => s + k);
        cmds.push(`announce attributes next-hop 127.0.46.15 origin igp nlri ${ids.map((i) => `${v4(i)}/32`).join(' ')}`);
        cmds.push(`announce attributes next-hop 2001:db8:46::15 origin igp nlri ${ids.map((i) => `${v6(i)}/128`).join(' ')}`);
      }
      writeFileSync(join(dir, 'commands.txt'), `${cmds.join('\n')}\n`);
      // The API process must stay alive (ExaBGP respawns it) and write only commands to stdout.
      writeFileSync(join(dir, 'announce.py'), `#!/usr/bin/python3\nimport sys, time\nsys.stdout.write(open(${JSON.stringify(join(dir, 'commands.txt'))}).read())\nsys.stdout.flush()\nwhile True:\n    time.sleep(3600)\n`, { mode: 0o755 });
      writeFileSync(join(dir, 'exabgp.conf'), ['process announce {', `  run ${join(dir, 'announce.py')};`, '  encoder text;', '}',
        `neighbor ${RX.address} {`, '  router-id 127.0.46.15;', '  local-address 127.0.46.15;', '  local-as 65015;', `  peer-as ${RX.asn};`,
        '  hold-time 90;', `  connect ${RX.port};`, '  family { ipv4 unicast; ipv6 unicast; }', '  api { processes [ announce ]; }', '}'].join('\n'));
      const env = { ...process.env, exabgp_daemon_user: 'root', exabgp_daemon_drop: 'false', exabgp_api_cli: 'false', exabgp_log_level: 'WARNING' };
      pid = spawnDaemon(requireBinary('/usr/sbin/exabgp', 'exabgp'), [join(dir, 'exabgp.conf')], join(dir, 'exabgp.log'), env).pid;
    },
    async stop() { if (pid) await killPid(pid, 10000); pid = undefined; return undefined; },
  };
}

// ---- the measurement ---------------------------------------------------------------------------

/** When the receiver logged the session Up (FRR logs local time with µs). */
function establishedAt(log: string, neighbor: string): number {
  const line = log.split('\n').filter((l) => l.includes('%ADJCHANGE') && l.includes(`neighbor ${neighbor}`) && / Up\b/.test(l)).pop();
  const m = line && /^(\d+)\/(\d+)\/(\d+) (\d+):(\d+):(\d+)\.(\d+)/.exec(line);
  if (!m) throw new Error(`no ADJCHANGE Up for ${neighbor} in the receiver's log`);
  const [, y, mo, d, h, mi, sec] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, sec).getTime() + Math.round(Number(`0.${m[7]}`) * 1000);
}

interface Result { sender: SenderName; totalMs: number; transferMs: number; usage?: Usage }

/** The one receiver every sender sends to. */
interface Receiver {
  readonly label: string;
  start(): Promise<void>;
  holdsAll(n: number): Promise<boolean>;
  /** Wall-clock ms when the receiver saw the session Established. */
  establishedAt(): Promise<number>;
  dispose(): Promise<void>;
}

function frrReceiver(s: Sender): Receiver {
  const rx = new FrrDaemon({ name: 'bench-rx', address: RX.address, port: RX.port, asn: RX.asn, neighbors: [{ address: s.address, asn: s.asn }] });
  return {
    label: 'FRR bgpd',
    start: () => rx.start(),
    async holdsAll(n) {
      const j = JSON.parse(await rx.vtysh(['show bgp summary json'])) as Record<string, { peers?: Record<string, { pfxRcd?: number }> }>;
      return (j.ipv4Unicast?.peers?.[s.address]?.pfxRcd ?? 0) >= n && (j.ipv6Unicast?.peers?.[s.address]?.pfxRcd ?? 0) >= n;
    },
    establishedAt: async () => establishedAt(readFileSync(join(rx.dir, 'bgpd.log'), 'utf8'), s.address),
    dispose: () => rx.dispose(),
  };
}

function birdReceiver(s: Sender): Receiver {
  // Millisecond protocol timestamps give the time the session went up.
  const rx = new BirdDaemon({ name: 'bench-rx', address: RX.address, port: RX.port, asn: RX.asn, neighbors: [{ address: s.address, asn: s.asn }] }, ['timeformat protocol iso long ms;']);
  return {
    label: 'BIRD',
    start: () => rx.start(),
    holdsAll: async (n) => (await rx.count('master4')) >= n && (await rx.count('master6')) >= n,
    async establishedAt() {
      const out = await rx.birdc(['show', 'protocols', birdProtocolName(s.address)]);
      const m = /(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)\.(\d+)\s+Established/.exec(out);
      if (!m) throw new Error(`BIRD: no Established time in ${out}`);
      const [, y, mo, d, h, mi, sec] = m.map(Number) as [number, number, number, number, number, number, number];
      return new Date(y, mo - 1, d, h, mi, sec).getTime() + Math.round(Number(`0.${m[7]}`) * 1000);
    },
    dispose: () => rx.dispose(),
  };
}

async function measure(name: SenderName, make: () => Sender, receiver: (s: Sender) => Receiver, n: number): Promise<Result> {
  const s = make();
  const rx = receiver(s);
  const dir = makeDir(`bench-${name}`);
  try {
    await rx.start();
    const t0 = performance.now();
    await s.start(n, dir);
    await waitFor(`${name}: ${n}+${n} routes at the receiver`, () => rx.holdsAll(n), 900000, 50);
    const doneAt = Date.now();
    const totalMs = performance.now() - t0;
    const transferMs = doneAt - (await rx.establishedAt());
    const usage = await s.stop();
    return { sender: name, totalMs, transferMs, ...(usage ? { usage } : {}) };
  } finally {
    await s.stop().catch(() => undefined);
    await rx.dispose();
    removeDir(dir);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (k: string): string | undefined => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
  const n = Number(opt('--routes') ?? 100000);
  const only = (opt('--only')?.split(',') ?? [...senders]) as SenderName[];
  const receiverName = opt('--receiver') ?? 'frr';
  if (receiverName !== 'frr' && receiverName !== 'bird') throw new Error('--receiver frr|bird');
  const receiver = receiverName === 'bird' ? birdReceiver : frrReceiver;
  const makers: Record<SenderName, () => Sender> = { ironlb: ironlbSender, replay: replaySender, bird: birdSender, frr: frrSender, gobgp: gobgpSender, exabgp: exabgpSender };
  console.log(`bgp bench: ${n} IPv4 /32 + ${n} IPv6 /128 into ${receiver === birdReceiver ? 'BIRD' : 'FRR bgpd'} (receiver ${RX.address}:${RX.port}), addon ${nativeAvailable() ? 'loaded' : 'missing (plain transport)'}`);
  const results: Result[] = [];
  for (const name of only) {
    if (!makers[name]) throw new Error(`unknown sender ${name}`);
    const r = await measure(name, makers[name], receiver, n);
    results.push(r);
    console.log(`  ${name.padEnd(7)} transfer ${(r.transferMs / 1000).toFixed(2)} s, total ${(r.totalMs / 1000).toFixed(2)} s`);
    await sleep(500);
  }
  const me = results.find((r) => r.sender === 'ironlb');
  console.log('\n| sender | transfer (s) | total from launch (s) | ironlb/sender (transfer) | ironlb/sender (total) |');
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    const ratio = (a?: number, b?: number) => (a !== undefined && b ? (a / b).toFixed(2) : '-');
    console.log(`| ${r.sender} | ${(r.transferMs / 1000).toFixed(2)} | ${(r.totalMs / 1000).toFixed(2)} | ${ratio(me?.transferMs, r.transferMs)} | ${ratio(me?.totalMs, r.totalMs)} |`);
  }
  const replay = results.find((r) => r.sender === 'replay');
  if (me && replay) {
    console.log(`\nreceiver's limit (replay of pre-encoded UPDATEs): ironlb takes ${(me.transferMs / replay.transferMs).toFixed(2)}x its transfer time, ${(me.totalMs / replay.totalMs).toFixed(2)}x its total`);
  }
  if (me?.usage) {
    console.log(`\nironlb: CPU ${(me.usage.cpuMs / 1000).toFixed(2)} s in total (${(me.usage.cpuRoutesMs / 1000).toFixed(2)} s from building the routes to the last one received; the rest is start-up), peak RSS ${me.usage.maxRssMb.toFixed(0)} MB`);
  }
}

if (process.argv.includes('--ironlb-child')) await ironlbChild(Number(process.argv[process.argv.indexOf('--ironlb-child') + 1]));
else await main();
