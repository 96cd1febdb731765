// The datagram edge. BFD needs two socket abilities: send with TTL 255, and (for GTSM, RFC 5881 §5)
// read the TTL of each received packet. Node's dgram can do the first only; the native addon
// (src/native/udp.ts, openTtlUdpSocket) does both and is the default; dgram is an explicit fallback
// for hosts without the addon, and reports that it cannot check TTLs. The manager sees only this interface.
import { createSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { openTtlUdpSocket } from '../native/udp.ts';

export interface BfdRemoteInfo {
  readonly address: string;
  readonly port: number;
  /** Received TTL / hop limit; undefined when the transport cannot read it. */
  readonly ttl?: number;
}

export interface BfdSocket {
  send(msg: Buffer, port: number, address: string): void;
  address(): { address: string; port: number };
  close(): void;
  on(event: 'message', listener: (msg: Buffer, rinfo: BfdRemoteInfo) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface BfdSocketOptions {
  readonly family: 4 | 6;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly ttl?: number;
  readonly reuseAddress?: boolean;
}

export interface BfdTransport {
  readonly name: string;
  /** Whether received packets carry their TTL, i.e. whether GTSM is enforced. */
  readonly receivedTtl: boolean;
  open(o: BfdSocketOptions): Promise<BfdSocket>;
}

/** The fallback: node:dgram sends TTL 255 but cannot read the received TTL (GTSM not enforced). */
export const dgramTransport: BfdTransport = {
  name: 'dgram',
  receivedTtl: false,
  open(o) {
    return new Promise((resolve, reject) => {
      const s = createSocket({ type: o.family === 6 ? 'udp6' : 'udp4', reuseAddr: o.reuseAddress ?? false, ipv6Only: o.family === 6 });
      const ee = new EventEmitter();
      s.once('error', reject);
      s.bind({ address: o.localAddress ?? (o.family === 6 ? '::' : '0.0.0.0'), port: o.localPort ?? 0, exclusive: true }, () => {
        s.off('error', reject);
        try {
          if (o.ttl !== undefined) s.setTTL(o.ttl);
        } catch (e) { s.close(); reject(e instanceof Error ? e : new Error(String(e))); return; }
        s.on('error', (e) => ee.emit('error', e));
        s.on('message', (msg, r) => ee.emit('message', msg, { address: r.address, port: r.port }));
        resolve({
          send: (msg, port, address) => s.send(msg, port, address, (err) => { if (err) ee.emit('error', err); }),
          address: () => s.address(),
          close: () => { try { s.close(); } catch { /* already closed */ } },
          on: (ev: string, l: (...a: any[]) => void) => ee.on(ev, l), // eslint-disable-line @typescript-eslint/no-explicit-any
        });
      });
    });
  },
};

/** The addon transport: TTL 255 sent and every received TTL reported, so GTSM is enforced. */
export const nativeTransport: BfdTransport = {
  name: 'native',
  receivedTtl: true,
  open: (o) => openTtlUdpSocket(o),
};

/** 'native' is the default; 'dgram' is only ever used when asked for by name. */
export function selectTransport(kind: 'native' | 'dgram'): BfdTransport {
  return kind === 'dgram' ? dgramTransport : nativeTransport;
}
