// The BgpTransport that can do what node:net cannot: TCP MD5 keys (RFC 2385), the TTL / hop
// limit (1 for single-hop eBGP, 255 for multi-hop), GTSM's minimum TTL (RFC 5082) and binding to
// a VRF device. The addon creates and configures each socket; Node then owns the fd.
import * as net from 'node:net';
import type { BgpListener, BgpTransport, ConnectOptions, ListenOptions } from '../bgp/transport.ts';
import { loadNative } from './addon.ts';
import { addressFamily, setMd5Key, tcpConnect, tcpListenFd } from './tcp.ts';

async function connect(o: ConnectOptions): Promise<net.Socket> {
  const family = addressFamily(o.peerAddress);
  return tcpConnect({
    family,
    address: o.peerAddress,
    port: o.peerPort,
    timeoutMs: o.timeoutMs,
    ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
    ...(o.md5Password !== undefined ? { md5: { address: o.peerAddress, password: o.md5Password } } : {}),
    ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
    ...(o.minTtl !== undefined ? { minTtl: o.minTtl } : {}),
    ...(o.vrf !== undefined ? { bindToDevice: o.vrf } : {}),
  });
}

async function listen(o: ListenOptions, onConnection: (s: net.Socket) => void): Promise<BgpListener> {
  // "::" listens dual-stack; the addon then keys IPv4 peers as ::ffff:a.b.c.d, as the kernel sees them.
  const family = addressFamily(o.host);
  const fd = tcpListenFd({
    family,
    address: o.host,
    port: o.port,
    backlog: 64,
    ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
    ...(o.vrf !== undefined ? { bindToDevice: o.vrf } : {}),
  });
  const server = net.createServer({ noDelay: true }, onConnection);
  try {
    for (const k of o.md5Keys ?? []) setMd5Key(fd, family, k.address, k.password);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ fd }, () => { server.removeListener('error', reject); resolve(); });
    });
  } catch (e) {
    if (server.listening) server.close(); else loadNative().closeFd(fd);
    throw e;
  }
  return {
    setMd5Key: (address: string, password: string | undefined) => setMd5Key(fd, family, address, password),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    address: () => {
      const a = server.address() as net.AddressInfo;
      return { address: a.address, port: a.port };
    },
  };
}

/** Connects and listens through the addon; throws NativeAddonMissingError when it is not built. */
export const nativeTransport: BgpTransport = { connect, listen };
