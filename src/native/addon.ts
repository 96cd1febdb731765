// Loads the N-API addon (native/netsock.cc) and types it. The addon is built by `npm install`
// (scripts/build-addon.mjs); when it is missing, callers get one clear error naming the fix.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export type ErrnoCallback<T> = (err: NodeJS.ErrnoException | null, value?: T) => void;

export interface NativeTcpConnectOptions {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  /** The key is bound to the peer's address (the kernel ignores the port). */
  readonly md5?: { readonly address: string; readonly password: string };
  readonly ttl?: number;
  readonly minTtl?: number;
  readonly bindToDevice?: string;
  readonly timeoutMs?: number;
}

export interface NativeTcpListenOptions {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  readonly backlog?: number;
  readonly ttl?: number;
  readonly minTtl?: number;
  readonly bindToDevice?: string;
}

export interface NativeUdpOptions {
  readonly family: 4 | 6;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly ttl?: number;
  readonly bindToDevice?: string;
  readonly reuseAddress?: boolean;
}

/** Called per datagram: (null, msg, address, port, family, ttl) or (err) on a receive error. */
export type NativeUdpCallback = (err: NodeJS.ErrnoException | null, msg?: Buffer, address?: string, port?: number, family?: 4 | 6, ttl?: number) => void;

export interface NativeUdpSocket {
  readonly fd: number;
  start(cb: NativeUdpCallback): void;
  send(msg: Buffer, port: number, address: string): void;
  address(): { address: string; port: number; family: 4 | 6 };
  close(): void;
  ref(): void;
  unref(): void;
}

export type NativeRawOptions =
  | { readonly kind: 'packet'; readonly ifindex: number; readonly protocol: number; readonly nsFilter?: boolean }
  | { readonly kind: 'icmp6'; readonly ifname: string; readonly icmpTypes: readonly number[] };

/** packet sockets: source MAC and pkttype; icmp6 sockets: source address and hop limit. */
export interface NativeRawInfo { readonly ifindex: number; readonly pkttype?: number; readonly address: Buffer | string; readonly hopLimit?: number }

export interface NativeRawSocket {
  start(cb: (err: NodeJS.ErrnoException | null, msg?: Buffer, info?: NativeRawInfo) => void): void;
  sendPacket(payload: Buffer, ifindex: number, ethertype: number, mac: Buffer): void;
  joinGroup(group: string, ifindex: number): void;
  leaveGroup(group: string, ifindex: number): void;
  close(): void;
  unref(): void;
}

export interface NativeConstants {
  readonly AF_INET: number; readonly AF_INET6: number;
  readonly SOL_SOCKET: number; readonly SO_REUSEADDR: number; readonly SO_RCVBUF: number; readonly SO_SNDBUF: number; readonly SO_DOMAIN: number;
  readonly IPPROTO_IP: number; readonly IPPROTO_IPV6: number; readonly IPPROTO_TCP: number;
  readonly IP_TTL: number; readonly IP_MINTTL: number; readonly IP_RECVTTL: number; readonly IP_TOS: number;
  readonly IPV6_UNICAST_HOPS: number; readonly IPV6_MINHOPCOUNT: number; readonly IPV6_RECVHOPLIMIT: number; readonly IPV6_V6ONLY: number;
  readonly TCP_NODELAY: number; readonly TCP_MD5SIG: number; readonly TCP_MAXSEG: number;
}

/** The addon's exports, exactly as native/netsock.cc defines them. */
export interface NetsockAddon {
  /** A non-blocking socket is created, configured and connected; cb gets the connected fd. */
  tcpConnect(o: NativeTcpConnectOptions, cb: ErrnoCallback<number>): void;
  /** A bound, listening, non-blocking fd. */
  tcpListen(o: NativeTcpListenOptions): number;
  /** Sets (password) or removes (undefined) the TCP MD5 key for a peer; works on listeners (accepted sockets inherit it). */
  setMd5Key(fd: number, family: 4 | 6, peerAddress: string, password: string | undefined): void;
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  getsockoptInt(fd: number, level: number, name: number): number;
  /** Closes an fd that was never handed to Node. */
  closeFd(fd: number): void;
  UdpSocket: new (o: NativeUdpOptions) => NativeUdpSocket;
  /** AF_PACKET frames on one interface, or raw ICMPv6 of chosen types on one interface. */
  RawSocket: new (o: NativeRawOptions) => NativeRawSocket;
  /** A NETLINK_ROUTE socket (fd), made inside the network namespace at `netnsPath` when given. */
  netlinkOpen(netnsPath?: string): number;
  /** One datagram (one or more netlink messages) to the kernel. */
  netlinkSend(fd: number, msg: Buffer): void;
  /** One queued datagram, or null when none is queued (never waits). */
  netlinkRecv(fd: number): Buffer | null;
  constants: NativeConstants;
}

export const BUILD_COMMAND = 'node scripts/build-addon.mjs';
// IRONLB_NATIVE_ADDON: another build of the addon (one being developed, beside the shared one).
const addonPath = process.env.IRONLB_NATIVE_ADDON || fileURLToPath(new URL('../../build/Release/netsock.node', import.meta.url));

export class NativeAddonMissingError extends Error {
  override readonly name = 'NativeAddonMissingError';
}

let addon: NetsockAddon | undefined;
let loadError: Error | undefined;

function tryLoad(): NetsockAddon | undefined {
  if (addon || loadError) return addon;
  try {
    addon = createRequire(import.meta.url)(addonPath) as NetsockAddon;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    loadError = new NativeAddonMissingError(
      `the native addon ${addonPath} could not be loaded (${why}); build it with \`${BUILD_COMMAND}\` ` +
      '(npm install runs it; it needs python3, make and g++). TCP MD5, TTL and BFD sockets need it.');
  }
  return addon;
}

/** True when the addon is built and loads. */
export function nativeAvailable(): boolean {
  return tryLoad() !== undefined;
}

/** The addon, or a NativeAddonMissingError naming the build command. */
export function loadNative(): NetsockAddon {
  const a = tryLoad();
  if (!a) throw loadError!;
  return a;
}
