// How sockets are made. node:net cannot set TCP MD5 keys, the IP TTL or bind to a VRF; the
// native addon provides a second BgpTransport with those, and the speaker takes either.
import * as net from 'node:net';

export interface ConnectOptions {
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly localAddress?: string;
  /** TCP MD5 signature (RFC 2385). */
  readonly md5Password?: string;
  /** IP TTL / hop limit of outgoing packets: 1 for single-hop eBGP, 255 for multi-hop. */
  readonly ttl?: number;
  /** GTSM (RFC 5082): drop segments that arrive with a lower TTL. */
  readonly minTtl?: number;
  /** Bind to this VRF device. */
  readonly vrf?: string;
  readonly timeoutMs: number;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly vrf?: string;
  readonly ttl?: number;
  readonly md5Keys?: readonly { readonly address: string; readonly password: string }[];
}

export interface BgpListener {
  /** Sets (or with undefined, removes) the MD5 key for connections from `address`. */
  setMd5Key(address: string, password: string | undefined): void;
  close(): Promise<void>;
  address(): { address: string; port: number };
}

export interface BgpTransport {
  connect(o: ConnectOptions): Promise<net.Socket>;
  listen(o: ListenOptions, onConnection: (s: net.Socket) => void): Promise<BgpListener>;
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
}

function refuseNative(what: { md5Password?: string | undefined; vrf?: string | undefined; md5Keys?: readonly unknown[] | undefined }): void {
  if (what.md5Password !== undefined || (what.md5Keys !== undefined && what.md5Keys.length > 0)) {
    throw new TransportError('TCP MD5 passwords need the native transport (node:net cannot set TCP_MD5SIG)');
  }
  if (what.vrf !== undefined) throw new TransportError(`binding to VRF "${what.vrf}" needs the native transport (node:net cannot set SO_BINDTODEVICE)`);
}

/**
 * node:net only. Rejects md5Password, md5Keys and vrf with a clear error. The `ttl`/`minTtl`
 * options are ignored: node:net offers no IP_TTL socket option, so sessions that need TTL 1
 * (single-hop eBGP) still work over plainTransport but send the kernel's default TTL; use the
 * native transport when the TTL on the wire matters.
 */
export const plainTransport: BgpTransport = {
  async connect(o: ConnectOptions): Promise<net.Socket> {
    refuseNative(o);
    return new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host: o.peerAddress, port: o.peerPort, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
      let settled = false;
      // ETIMEDOUT like the native transport's: no answer is not a missing transport feature. Judged
      // after the poll phase (setImmediate): after a stall of our loop the deadline is due before
      // the connection that completed meanwhile is seen.
      const timer = setTimeout(() => setImmediate(() => {
        if (settled) return;
        settled = true;
        socket.destroy();
        reject(Object.assign(new Error(`connect to ${o.peerAddress}:${o.peerPort} timed out after ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }), o.timeoutMs);
      socket.once('connect', () => { clearTimeout(timer); socket.removeListener('error', onError); if (settled) { socket.destroy(); return; } settled = true; resolve(socket); });
      const onError = (e: Error): void => { clearTimeout(timer); socket.destroy(); if (!settled) { settled = true; reject(e); } };
      socket.once('error', onError);
    });
  },
  async listen(o: ListenOptions, onConnection: (s: net.Socket) => void): Promise<BgpListener> {
    refuseNative(o);
    const server = net.createServer({ noDelay: true }, onConnection);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: o.host, port: o.port }, () => { server.removeListener('error', reject); resolve(); });
    });
    return {
      setMd5Key(_address: string, password: string | undefined): void {
        if (password !== undefined) throw new TransportError('TCP MD5 passwords need the native transport');
      },
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      address: () => { const a = server.address() as net.AddressInfo; return { address: a.address, port: a.port }; },
    };
  },
};
