// The native socket layer: TCP (MD5, TTL, GTSM, VRF), UDP with received TTL, and the BgpTransport.
export { BUILD_COMMAND, NativeAddonMissingError, loadNative, nativeAvailable } from './addon.ts';
export type { NetsockAddon } from './addon.ts';
export { addressFamily, adoptSocket, setMd5Key, tcpConnect, tcpConnectFd, tcpListenFd } from './tcp.ts';
export { openTtlUdpSocket } from './udp.ts';
export type { TtlRemoteInfo, TtlUdpSocket, TtlUdpSocketOptions } from './udp.ts';
export { nativeTransport } from './transport.ts';
