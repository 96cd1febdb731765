// A BGP peer in a few lines of script, for behaviour real daemons show only when misconfigured:
// a 2-octet-only speaker (no 4-octet capability, RFC 6793 "OLD"), a strict peer that refuses
// UPDATEs with a NOTIFICATION. Built from bgp/'s own codec; it listens, answers the OPEN, and
// records every connection and UPDATE.
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { buildOpen } from '../../src/bgp/fsm.ts';
import { MessageFramer, MessageType } from '../../src/bgp/framing.ts';
import { KEEPALIVE } from '../../src/bgp/keepalive.ts';
import { decodeMessage } from '../../src/bgp/messages.ts';
import { type NotificationMessage, encodeNotification } from '../../src/bgp/notification.ts';
import { type OpenMessage, encodeOpen } from '../../src/bgp/open.ts';
import type { DecodedUpdate } from '../../src/bgp/update.ts';

export interface ScriptedPeerOptions {
  /** Its own AS (2-octet when `fourOctetAsn` is false). */
  readonly asn: number;
  /** Advertise the 4-octet ASN capability (false: an OLD speaker). */
  readonly fourOctetAsn: boolean;
  readonly routerId: number;
  /** Answer an UPDATE with this NOTIFICATION (then close), or accept it (undefined). */
  readonly onUpdate?: (u: DecodedUpdate) => NotificationMessage | undefined;
  /** Leave the route-refresh capability (RFC 2918) out of its OPEN. */
  readonly noRouteRefresh?: boolean;
}

export class ScriptedBgpPeer {
  /** Date.now() of every accepted connection. */
  readonly connections: number[] = [];
  readonly opens: OpenMessage[] = [];
  readonly updates: DecodedUpdate[] = [];
  /** AFIs of every ROUTE-REFRESH received. */
  readonly refreshes: number[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(readonly o: ScriptedPeerOptions) {}

  /** Listens (port 0: any free port) and resolves with the port. */
  async listen(host: string, port = 0): Promise<number> {
    const server = createServer((s) => this.onConnection(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve); });
    return (server.address() as AddressInfo).port;
  }

  private onConnection(s: Socket): void {
    this.connections.push(Date.now());
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    const framer = new MessageFramer();
    framer.maxLength = 65535;
    let four = false;
    const open = buildOpen({ myAsn: this.o.asn, routerId: this.o.routerId, holdTimeSeconds: 30, families: [4, 6], restarting: false, extendedMessage: false, addPathSend: false });
    const { fourOctetAsn: _four, ...twoOctetCaps } = open.capabilities;
    const base: OpenMessage = this.o.fourOctetAsn ? open : { ...open, capabilities: twoOctetCaps };
    const mine: OpenMessage = this.o.noRouteRefresh ? { ...base, capabilities: { ...base.capabilities, routeRefresh: false, enhancedRouteRefresh: false } } : base;
    s.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      for (let m = framer.next(); m; m = framer.next()) {
        if (m.type === MessageType.Keepalive) continue;
        const msg = decodeMessage(m, { fourOctetAsn: four, ebgp: true });
        if (msg.type === 'open') {
          this.opens.push(msg.open);
          four = this.o.fourOctetAsn && msg.open.capabilities.fourOctetAsn !== undefined;
          s.write(encodeOpen(mine));
          s.write(KEEPALIVE);
        } else if (msg.type === 'route-refresh') {
          this.refreshes.push(msg.routeRefresh.afi);
        } else if (msg.type === 'update') {
          this.updates.push(msg.update);
          const refuse = this.o.onUpdate?.(msg.update);
          if (refuse) { s.end(encodeNotification(refuse)); return; }
        }
      }
    });
  }

  /** Writes raw bytes (e.g. an encoded UPDATE) on every open connection. */
  send(bytes: Buffer): void { for (const s of this.sockets) s.write(bytes); }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
