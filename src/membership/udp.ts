// The membership transport: one UDP socket, dual-stack when the kernel has IPv6 (IPv4 peers are
// reached as ::ffff:a.b.c.d), IPv4 only otherwise. Addresses are "host:port" / "[v6]:port".
import { createSocket, type Socket } from 'node:dgram';
import type { Transport } from './swim.ts';

export const defaultMemberPort = 7946;
/** The key of MetalLB's memberlist Secret, mounted as a folder: `<--ml-secret-key-path>/secretkey`. */
export const memberlistSecretKey = 'secretkey';

export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`membership: "${address}" is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const unmap = (host: string): string => (host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host);

async function bind(type: 'udp4' | 'udp6', host: string, port: number): Promise<Socket> {
  const s = createSocket({ type, ...(type === 'udp6' ? { ipv6Only: false } : {}) });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, host, () => { s.off('error', reject); resolve(); });
  });
  return s;
}

/** Binds host:port (default every address); "" host = dual-stack ::, falling back to 0.0.0.0. */
export async function openUdpTransport(host: string, port: number): Promise<Transport & { port: number }> {
  let s: Socket;
  let v6: boolean;
  if (host !== '') {
    v6 = host.includes(':');
    s = await bind(v6 ? 'udp6' : 'udp4', host, port);
  } else {
    try {
      s = await bind('udp6', '::', port);
      v6 = true;
    } catch {
      s = await bind('udp4', '0.0.0.0', port);
      v6 = false;
    }
  }
  s.unref();
  s.on('error', () => { /* a failed send surfaces as a failed probe */ });
  return {
    port: s.address().port,
    send(msg, address) {
      const { host: h, port: p } = splitHostPort(address);
      s.send(msg, p, v6 && !h.includes(':') ? `::ffff:${h}` : h);
    },
    onMessage(cb) {
      s.on('message', (msg, rinfo) => cb(msg, joinHostPort(unmap(rinfo.address), rinfo.port)));
    },
    close() {
      try { s.close(); } catch { /* closed */ }
    },
  };
}
