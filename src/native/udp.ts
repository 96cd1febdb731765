// UDP sockets that send with a chosen TTL / hop limit and report the TTL of every datagram they
// receive (BFD's GTSM check, RFC 5881 §5). Node's dgram never exposes recvmsg() ancillary data,
// so the socket is owned by the addon and polled on Node's loop.
import { EventEmitter } from 'node:events';
import { type NativeUdpSocket, loadNative } from './addon.ts';

export interface TtlRemoteInfo { address: string; port: number; family: 4 | 6; ttl: number }

/** Events: 'message' (msg: Buffer, rinfo: TtlRemoteInfo), 'error' (err), 'close'. */
export interface TtlUdpSocket extends EventEmitter {
  send(msg: Buffer, port: number, address: string): void;
  address(): { address: string; port: number };
  close(): void;
}

export interface TtlUdpSocketOptions {
  family: 4 | 6;
  localAddress?: string;
  /** 0 or absent: the kernel picks a port. */
  localPort?: number;
  /** TTL (IPv4) or hop limit (IPv6) of sent datagrams; kernel default (64) when absent. */
  ttl?: number;
  /** SO_BINDTODEVICE: an interface or a VRF device. */
  bindToDevice?: string;
  /** SO_REUSEADDR; default false. */
  reuseAddress?: boolean;
}

class NativeTtlUdpSocket extends EventEmitter implements TtlUdpSocket {
  #closed = false;

  constructor(private readonly handle: NativeUdpSocket) {
    super();
    handle.start((err, msg, address, port, family, ttl) => {
      if (err) { this.emit('error', err); return; }
      const rinfo: TtlRemoteInfo = { address: address!, port: port!, family: family!, ttl: ttl! };
      this.emit('message', msg!, rinfo);
    });
  }

  /** Fire and forget, like dgram: a failure (e.g. ENETUNREACH) is emitted as 'error'. */
  send(msg: Buffer, port: number, address: string): void {
    if (this.#closed) throw new Error('send on a closed TtlUdpSocket');
    try {
      this.handle.send(msg, port, address);
    } catch (e) {
      process.nextTick(() => this.emit('error', e));
    }
  }

  address(): { address: string; port: number } {
    const a = this.handle.address();
    return { address: a.address, port: a.port };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.handle.close();
    process.nextTick(() => this.emit('close'));
  }

  /** Let the process exit while the socket is open (like dgram's unref). */
  unref(): this { this.handle.unref(); return this; }
  ref(): this { this.handle.ref(); return this; }
}

/** Opens, configures and binds the socket; rejects with the system error (EADDRINUSE …). */
export async function openTtlUdpSocket(o: TtlUdpSocketOptions): Promise<TtlUdpSocket> {
  const native = loadNative();
  const handle = new native.UdpSocket({
    family: o.family,
    localAddress: o.localAddress ?? (o.family === 4 ? '0.0.0.0' : '::'),
    localPort: o.localPort ?? 0,
    ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
    ...(o.bindToDevice !== undefined ? { bindToDevice: o.bindToDevice } : {}),
    reuseAddress: o.reuseAddress ?? false,
  });
  return new NativeTtlUdpSocket(handle);
}
