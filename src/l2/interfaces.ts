// The node's network interfaces as layer 2 sees them: read from /sys/class/net and
// /proc/net/if_inet6 (both per network namespace), so no netlink code is needed. The choice of
// interfaces (`usableInterfaces`) is pure and unit-tested.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parseMac } from './packets.ts';

export interface NetInterface {
  readonly name: string;
  readonly index: number;
  readonly mac: Buffer;
  /** IFF_UP: administratively up. */
  readonly up: boolean;
  /** The carrier is present (a cable, a veth peer that is up): frames can flow. */
  readonly link: boolean;
  readonly broadcast: boolean;
  readonly noArp: boolean;
  readonly loopback: boolean;
  /** A member of a bridge or bond (it has a master): its master answers instead. */
  readonly enslaved: boolean;
  readonly ipv6LinkLocal: boolean;
}

const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined; // e.g. carrier of a down interface reads as EINVAL
  }
}

function linkLocalInterfaces(): Set<string> {
  const out = new Set<string>();
  for (const line of (read('/proc/net/if_inet6') ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    // address ifindex prefixlen scope flags name; scope 0x20 = link
    if (f.length >= 6 && f[3] === '20') out.add(f[5]!);
  }
  return out;
}

/** Every interface of this network namespace. */
export function scanInterfaces(root = '/sys/class/net'): NetInterface[] {
  const ll = linkLocalInterfaces();
  const out: NetInterface[] = [];
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const dir = `${root}/${name}`;
    const index = Number(read(`${dir}/ifindex`));
    const flags = parseInt(read(`${dir}/flags`) ?? '0', 16);
    const mac = read(`${dir}/address`) ?? '';
    if (!Number.isInteger(index) || index <= 0) continue;
    out.push({
      name, index,
      mac: /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) ? parseMac(mac) : Buffer.alloc(6),
      up: (flags & IFF_UP) !== 0,
      link: read(`${dir}/carrier`) === '1',
      broadcast: (flags & IFF_BROADCAST) !== 0,
      noArp: (flags & IFF_NOARP) !== 0,
      loopback: (flags & IFF_LOOPBACK) !== 0,
      enslaved: existsSync(`${dir}/master`),
      ipv6LinkLocal: ll.has(name),
    });
  }
  return out;
}

export interface UsableInterfaces {
  /** Interfaces that answer ARP (IPv4). */
  readonly arp: readonly NetInterface[];
  /** Interfaces that answer NDP (IPv6). */
  readonly ndp: readonly NetInterface[];
}

/**
 * MetalLB's candidate set (internal/layer2 announcer): up, not enslaved, not NOARP; ARP where the
 * interface can broadcast, NDP where it has an IPv6 link-local address. ironlb adds one rule:
 * an interface without link (no carrier) never answers, so a node whose cable is out cannot
 * claim an address on its way back before membership has caught up.
 */
export function usableInterfaces(all: readonly NetInterface[]): UsableInterfaces {
  const ok = all.filter((i) => i.up && i.link && !i.enslaved && !i.noArp && !i.loopback);
  return { arp: ok.filter((i) => i.broadcast), ndp: ok.filter((i) => i.ipv6LinkLocal) };
}

/** Restricts to the interfaces an L2Advertisement names; `all` (no names given) keeps the set. */
export function selectInterfaces(set: readonly NetInterface[], names: readonly string[] | 'all'): NetInterface[] {
  return names === 'all' ? [...set] : set.filter((i) => names.includes(i.name));
}
