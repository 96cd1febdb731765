// Runs a BfdManager inside a network namespace (`ip netns exec NS node --import tsx agent.ts`),
// driven by JSON lines on stdin and reporting JSON lines on stdout. Node cannot enter a namespace
// itself, so the interop tests and the benchmark talk to ironlb's BFD through this process.
//   in:  {"op":"add","spec":{...}} | {"op":"remove","id"} | {"op":"update","id","profile"}
//        {"op":"state","id"} | {"op":"cpu"} | {"op":"close"}     (each may carry "req")
//   out: {"ev":"ready","transport":{...}} | {"ev":"state"|"up"|"down"|"damped",...,"wall":ms}
//        {"req":N,"ok":true,"data":...} | {"req":N,"ok":false,"error":"..."}
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { BfdManager, type BfdManagerOptions } from '../../../src/bfd/manager.ts';

const transport = (process.env['ILB_BFD_TRANSPORT'] ?? 'native') as 'native' | 'dgram';
const opts: BfdManagerOptions = { transport, damping: process.env['ILB_BFD_DAMPING'] === '1' ? {} : false };
const m = new BfdManager(opts);
// Event-loop delay tells a starved process (late timers) apart from a protocol fault.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const wall = (): number => performance.timeOrigin + performance.now();
const out = (o: object): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };

for (const ev of ['state', 'up', 'down', 'damped'] as const) m.on(ev, (e: object) => out({ ev, ...e, wall: wall() }));
m.on('socket-error', (e: Error) => out({ ev: 'socket-error', message: e.message }));

interface Cmd { op: string; req?: number; id?: string; spec?: never; profile?: never }

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  void (async () => {
    const c = JSON.parse(line) as Cmd;
    try {
      let data: unknown = null;
      if (c.op === 'add') await m.addSession(c.spec!);
      else if (c.op === 'remove') await m.removeSession(c.id!);
      else if (c.op === 'update') m.updateProfile(c.id!, c.profile!);
      else if (c.op === 'state') data = c.id ? m.sessionState(c.id) : m.sessionIds().map((id) => m.sessionState(id));
      else if (c.op === 'lag') { data = { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 }; lag.reset(); }
      else if (c.op === 'discards') data = m.discardCounts();
      else if (c.op === 'cpu') data = { ...process.cpuUsage(), wall: wall() };
      else if (c.op === 'close') { await m.close(); out({ req: c.req, ok: true, data: null }); process.exit(0); }
      else throw new Error(`unknown op ${c.op}`);
      out({ req: c.req, ok: true, data });
    } catch (e) {
      out({ req: c.req, ok: false, error: (e as Error).message });
    }
  })();
});
rl.on('close', () => { void m.close().then(() => process.exit(0)); });
out({ ev: 'ready', transport: await m.transportInfo(), pid: process.pid });
