// Runs ironlb's BgpSpeaker (native transport) inside a network namespace:
// `ip netns exec NS node --import tsx agent.ts`. Node cannot enter a namespace itself, so the
// IPv6-session interop test drives the speaker through this process with JSON lines.
//   in:  {"op":"addPeer"|"updatePeer","peer":PeerSpec} | {"op":"setRoutes","id","routes":[RouteSpec]}
//        {"op":"state","id"} | {"op":"removePeer","id"} | {"op":"close"}        (each may carry "req")
//   out: {"ev":"ready","pid"} | {"ev":"state"|"established"|"notification"|"error",...}
//        {"req":N,"ok":true,"data":...} | {"req":N,"ok":false,"error":"..."}
import { createInterface } from 'node:readline';
import { BgpSpeaker } from '../../../src/bgp/speaker.ts';
import { loadNative } from '../../../src/native/addon.ts';
import { nativeTransport } from '../../../src/native/transport.ts';
import { type PeerSpec, type RouteSpec, peerConfig, route } from './agent-client.ts';

const out = (o: object): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };

loadNative(); // fail at start, not at the first connect, when the addon is not built
const speaker = new BgpSpeaker({ transport: nativeTransport });
for (const ev of ['state', 'established', 'notification'] as const) speaker.on(ev, (e: object) => out({ ev, ...e }));
speaker.on('error', (e: { peerId: string; error: Error }) => out({ ev: 'error', peerId: e.peerId, message: e.error.message }));

interface Cmd { op: string; req?: number; id?: string; peer?: PeerSpec; routes?: RouteSpec[] }

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  void (async () => {
    const c = JSON.parse(line) as Cmd;
    try {
      let data: unknown = null;
      if (c.op === 'addPeer') speaker.addPeer(peerConfig(c.peer!));
      else if (c.op === 'updatePeer') speaker.updatePeer(peerConfig(c.peer!));
      else if (c.op === 'setRoutes') speaker.setRoutes(c.id!, (c.routes ?? []).map(route));
      else if (c.op === 'state') data = speaker.peerState(c.id!) ?? null;
      else if (c.op === 'removePeer') await speaker.removePeer(c.id!);
      else if (c.op === 'close') { await speaker.close(); out({ req: c.req, ok: true, data: null }); process.exit(0); }
      else throw new Error(`unknown op ${c.op}`);
      out({ req: c.req, ok: true, data });
    } catch (e) {
      out({ req: c.req, ok: false, error: (e as Error).message });
    }
  })();
});
// The test going away (stdin closed) ends the speaker: withdraw, Cease, exit.
rl.on('close', () => { void speaker.close().finally(() => process.exit(0)); });
out({ ev: 'ready', pid: process.pid });
