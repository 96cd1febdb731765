// Runs ironlb's BgpSpeaker (native transport) inside a network namespace:
// `ip netns exec NS node --import tsx agent.ts`. Node cannot enter a namespace itself, so the
// IPv6-session interop test drives the speaker through this process with JSON lines (../agent-lines.ts).
//   in:  {"op":"addPeer"|"updatePeer","peer":PeerSpec} | {"op":"setRoutes","id","routes":[RouteSpec]}
//        {"op":"state","id"} | {"op":"removePeer","id"} | {"op":"close"}        (each may carry "req")
//   out: {"ev":"ready","pid"} | {"ev":"state"|"established"|"notification"|"error",...}
//        {"req":N,"ok":true,"data":...} | {"req":N,"ok":false,"error":"..."}
import { BgpSpeaker } from '../../../src/bgp/speaker.ts';
import { loadNative } from '../../../src/native/addon.ts';
import { nativeTransport } from '../../../src/native/transport.ts';
import { type PeerSpec, type RouteSpec, peerConfig, route } from './agent-client.ts';
import { emit as out, serveCommands } from '../agent-lines.ts';

loadNative(); // fail at start, not at the first connect, when the addon is not built
const speaker = new BgpSpeaker({ transport: nativeTransport });
for (const ev of ['state', 'established', 'notification'] as const) speaker.on(ev, (e: object) => out({ ev, ...e }));
speaker.on('error', (e: { peerId: string; error: Error }) => out({ ev: 'error', peerId: e.peerId, message: e.error.message }));

interface Cmd { op: string; req?: number; id?: string; peer?: PeerSpec; routes?: RouteSpec[] }

serveCommands<Cmd>(async (c) => {
  if (c.op === 'addPeer') speaker.addPeer(peerConfig(c.peer!));
  else if (c.op === 'updatePeer') speaker.updatePeer(peerConfig(c.peer!));
  else if (c.op === 'setRoutes') speaker.setRoutes(c.id!, (c.routes ?? []).map(route));
  else if (c.op === 'state') return speaker.peerState(c.id!) ?? null;
  else if (c.op === 'removePeer') await speaker.removePeer(c.id!);
  else throw new Error(`unknown op ${c.op}`);
  return null;
}, () => speaker.close()); // stdin closed (the test went away) or `close`: withdraw, Cease, exit
out({ ev: 'ready', pid: process.pid });
