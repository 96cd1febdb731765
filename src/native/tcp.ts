// TCP sockets with MD5 keys, TTL, GTSM and VRF binding, made by the addon and handed to Node.
import * as net from 'node:net';
import { type NativeTcpConnectOptions, type NativeTcpListenOptions, loadNative } from './addon.ts';

export type { NativeTcpConnectOptions, NativeTcpListenOptions } from './addon.ts';

/** 4 or 6 for an address literal (a zone suffix allowed); throws otherwise. */
export function addressFamily(address: string): 4 | 6 {
  const f = net.isIP(address.split('%')[0] ?? '');
  if (f === 4 || f === 6) return f;
  throw new TypeError(`not an IP address: "${address}"`);
}

/** Resolves with the fd of a connected socket; nothing on it is read or written yet. */
export function tcpConnectFd(o: NativeTcpConnectOptions): Promise<number> {
  const native = loadNative();
  return new Promise<number>((resolve, reject) => {
    native.tcpConnect(o, (err, fd) => (err || fd === undefined ? reject(err ?? new Error('tcpConnect: no fd')) : resolve(fd)));
  });
}

/** Connects and wraps the fd in a net.Socket that now owns it. */
export async function tcpConnect(o: NativeTcpConnectOptions): Promise<net.Socket> {
  const fd = await tcpConnectFd(o);
  return adoptSocket(fd);
}

/** A listening fd (bound, non-blocking), ready for net.Server.listen({fd}). */
export function tcpListenFd(o: NativeTcpListenOptions): number {
  return loadNative().tcpListen(o);
}

/** Wraps a connected fd; on failure the fd is closed, so it never leaks. */
export function adoptSocket(fd: number): net.Socket {
  try {
    const s = new net.Socket({ fd, readable: true, writable: true });
    s.setNoDelay(true);
    return s;
  } catch (e) {
    loadNative().closeFd(fd);
    throw e;
  }
}

export function setMd5Key(fd: number, family: 4 | 6, peerAddress: string, password: string | undefined): void {
  loadNative().setMd5Key(fd, family, peerAddress, password);
}
