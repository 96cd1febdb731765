// Runs a BfdManager inside a network namespace (`ip netns exec NS node --import tsx agent.ts`),
// driven by JSON lines on stdin and reporting JSON lines on stdout (../agent-lines.ts). Node cannot
// enter a namespace itself, so the interop tests and the benchmark talk to ironlb's BFD through it.
//   in:  {"op":"add","spec":{...}} | {"op":"remove","id"} | {"op":"update","id","profile"}
//        {"op":"state","id"} | {"op":"cpu"} | {"op":"close"}     (each may carry "req")
//   out: {"ev":"ready","transport":{...}} | {"ev":"state"|"up"|"down"|"damped",...,"wall":ms}
//        {"req":N,"ok":true,"data":...} | {"req":N,"ok":false,"error":"..."}
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { BfdManager, type BfdManagerOptions } from '../../../src/bfd/manager.ts';
import { emit as out, serveCommands } from '../agent-lines.ts';

const transport = (process.env['ILB_BFD_TRANSPORT'] ?? 'native') as 'native' | 'dgram';
const opts: BfdManagerOptions = { transport, damping: process.env['ILB_BFD_DAMPING'] === '1' ? {} : false };
const m = new BfdManager(opts);
// Event-loop delay tells a starved process (late timers) apart from a protocol fault.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const wall = (): number => performance.timeOrigin + performance.now();

for (const ev of ['state', 'up', 'down', 'damped'] as const) m.on(ev, (e: object) => out({ ev, ...e, wall: wall() }));
m.on('socket-error', (e: Error) => out({ ev: 'socket-error', message: e.message }));

interface Cmd { op: string; req?: number; id?: string; spec?: never; profile?: never }

serveCommands<Cmd>(async (c) => {
  if (c.op === 'add') await m.addSession(c.spec!);
  else if (c.op === 'remove') await m.removeSession(c.id!);
  else if (c.op === 'update') m.updateProfile(c.id!, c.profile!);
  if (c.op === 'state') return c.id ? m.sessionState(c.id) : m.sessionIds().map((id) => m.sessionState(id));
  if (c.op === 'lag') {
    const data = { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 };
    lag.reset();
    return data;
  }
  if (c.op === 'discards') return m.discardCounts();
  if (c.op === 'cpu') return { ...process.cpuUsage(), wall: wall() };
  if (!['add', 'remove', 'update'].includes(c.op)) throw new Error(`unknown op ${c.op}`);
  return null;
}, () => m.close());
out({ ev: 'ready', transport: await m.transportInfo(), pid: process.pid });
