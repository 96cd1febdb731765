// The ARP and NDP responder: answers for the Service IPs this node owns, only on the interfaces
// each IP is allowed on, only while an interface has link. Everything goes through AF_PACKET
// sockets (native/netsock.cc RawSocket): ARP frames (ethertype 0x0806), and IPv6 frames filtered
// in the kernel down to Neighbor Solicitations, which also catches solicitations unicast to the
// Service IP (neighbour unreachability probes) that a raw ICMPv6 socket never sees because the
// kernel does not own the address. A raw ICMPv6 socket per interface only joins the
// solicited-node groups, so that NICs with multicast filters pass those solicitations.
//
// On taking an IP over, and when an interface gets its link back, it sends gratuitous ARP
// (request and reply) and unsolicited Neighbor Advertisements to all-nodes with MetalLB's cadence:
// at once, then every 1.1 s while less than 5 s have passed (5 rounds); a round is skipped for an
// IP the node no longer owns.
import type { Logger } from 'pino';
import { loadNative, type NativeRawInfo, type NativeRawSocket, type NetsockAddon } from '../native/addon.ts';
import { formatIp, type IpAddress } from '../net/ip.ts';
import { type NetInterface, scanInterfaces, usableInterfaces } from './interfaces.ts';
import type { L2Metrics } from './metrics.ts';
import {
  ALL_NODES, ARP_REPLY, ARP_REQUEST, arpReply, BROADCAST_MAC, ETH_P_ARP, ETH_P_IPV6, formatMac, gratuitousArp, ipv6MulticastMac,
  NA_OVERRIDE, NA_SOLICITED, neighborAdvertisement, parseArp, parseNeighborSolicitation, solicitedNodeGroup,
} from './packets.ts';

/** One Service IP this node answers for, and where: the named interfaces, or MetalLB's default set. */
export interface L2Announcement {
  readonly ip: IpAddress;
  readonly interfaces: readonly string[] | 'all';
}

export interface ResponderOptions {
  readonly logger: Logger;
  readonly metrics?: L2Metrics;
  /** How often interfaces are re-read (link state, new interfaces); default 200 ms. */
  readonly scanMs?: number;
  /** Gratuitous rounds: delays from the takeover (MetalLB: 0, 1.1, 2.2, 3.3, 4.4 s). */
  readonly gratuitousScheduleMs?: readonly number[];
  /** Wait after a link comes back before announcing on it (default 1.5 s), so membership has heard the others (dead members are probed every 1 s) and dropped stale claims. */
  readonly linkUpHoldMs?: number;
  /** For tests: the interfaces, instead of /sys/class/net. */
  readonly scan?: () => NetInterface[];
  readonly native?: Pick<NetsockAddon, 'RawSocket'>;
}

export const metallbGratuitousScheduleMs: readonly number[] = [0, 1100, 2200, 3300, 4400];

const PACKET_OUTGOING = 4;
const PACKET_HOST = 0;
const PACKET_BROADCAST = 1;
const PACKET_MULTICAST = 2;

interface Port {
  iface: NetInterface;
  arp?: NativeRawSocket;
  ipv6?: NativeRawSocket;
  /** Holds the solicited-node group memberships (never read). */
  groups?: NativeRawSocket;
  joined: Set<string>;
}

const ipKey = (ip: IpAddress): string => formatIp(ip);

export class Responder {
  private readonly native: Pick<NetsockAddon, 'RawSocket'>;
  private readonly owned = new Map<string, L2Announcement>();
  private readonly ports = new Map<string, Port>();
  private readonly bursts = new Map<string, NodeJS.Timeout[]>();
  private readonly holds = new Set<NodeJS.Timeout>();
  /** Interfaces whose sockets could not be opened: reported once, retried on every scan. */
  private readonly failed = new Set<string>();
  private readonly scanTimer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly o: ResponderOptions) {
    this.native = o.native ?? loadNative();
    this.rescan();
    this.scanTimer = setInterval(() => this.rescan(), o.scanMs ?? 200);
    this.scanTimer.unref();
  }

  /** The IPs to answer for from now on: new ones are announced at once, dropped ones go quiet. */
  setAnnouncements(list: readonly L2Announcement[]): void {
    if (this.closed) return;
    const next = new Map(list.map((a) => [ipKey(a.ip), a]));
    const started: string[] = [];
    for (const [k, a] of next) {
      const before = this.owned.get(k);
      if (!before || JSON.stringify(before.interfaces) !== JSON.stringify(a.interfaces)) started.push(k);
    }
    const stopped = [...this.owned.keys()].filter((k) => !next.has(k));
    this.owned.clear();
    for (const [k, a] of next) this.owned.set(k, a);
    for (const k of stopped) {
      this.cancelBurst(k);
      this.o.logger.info({ ip: k }, 'layer 2: no longer answering');
    }
    for (const p of this.ports.values()) this.syncGroups(p);
    for (const k of started) {
      this.o.logger.info({ ip: k, interfaces: this.interfacesFor(k) }, 'layer 2: answering, sending gratuitous announcements');
      this.startBurst(k);
    }
  }

  /** One gratuitous round for every owned IP (a member came back: undo any stale cache it caused). */
  reannounce(): void {
    for (const k of this.owned.keys()) this.gratuitous(k);
  }

  /** Interfaces an owned IP is answered on right now (for status and explain). */
  interfacesFor(ip: IpAddress | string): string[] {
    const a = this.owned.get(typeof ip === 'string' ? ip : ipKey(ip));
    if (!a) return [];
    return this.portsFor(a).map((p) => p.iface.name).sort();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.scanTimer);
    for (const k of [...this.bursts.keys()]) this.cancelBurst(k);
    for (const h of this.holds) clearTimeout(h);
    for (const p of this.ports.values()) this.closePort(p);
    this.ports.clear();
  }

  private portsFor(a: L2Announcement): Port[] {
    const out: Port[] = [];
    for (const p of this.ports.values()) {
      const usable = a.ip.family === 4 ? p.arp : p.ipv6;
      if (usable && (a.interfaces === 'all' || a.interfaces.includes(p.iface.name))) out.push(p);
    }
    return out;
  }

  private allowedOn(k: string, p: Port): L2Announcement | undefined {
    const a = this.owned.get(k);
    return a && (a.interfaces === 'all' || a.interfaces.includes(p.iface.name)) ? a : undefined;
  }

  private rescan(): void {
    if (this.closed) return;
    let all: NetInterface[];
    try {
      all = (this.o.scan ?? scanInterfaces)();
    } catch (e) {
      this.o.logger.warn({ err: e }, 'layer 2: reading the interfaces failed');
      return;
    }
    const usable = usableInterfaces(all);
    const arpNames = new Set(usable.arp.map((i) => i.name));
    const ndpNames = new Set(usable.ndp.map((i) => i.name));
    const cameUp: string[] = [];
    for (const iface of all) {
      const wantArp = arpNames.has(iface.name);
      const wantNdp = ndpNames.has(iface.name);
      let p = this.ports.get(iface.name);
      if (p && (p.iface.index !== iface.index || !p.iface.mac.equals(iface.mac))) {
        this.closePort(p);
        this.ports.delete(iface.name);
        p = undefined;
      }
      if (!wantArp && !wantNdp) {
        if (p) {
          this.o.logger.info({ interface: iface.name }, 'layer 2: interface not usable (down, no link, enslaved or NOARP); not answering on it');
          this.closePort(p);
          this.ports.delete(iface.name);
        }
        continue;
      }
      const fresh = !p;
      p ??= { iface, joined: new Set() };
      p.iface = iface;
      try {
        if (wantArp && !p.arp) p.arp = this.openArp(p);
        if (!wantArp && p.arp) { p.arp.close(); delete p.arp; }
        if (wantNdp && !p.ipv6) this.openNdp(p);
        if (!wantNdp && p.ipv6) this.closeNdp(p);
      } catch (e) {
        if (!this.failed.has(iface.name)) this.o.logger.error({ err: e, interface: iface.name }, 'layer 2: opening raw sockets failed (CAP_NET_RAW is needed); retrying quietly');
        this.failed.add(iface.name);
        this.closePort(p);
        continue;
      }
      this.failed.delete(iface.name);
      if (fresh) {
        this.ports.set(iface.name, p);
        cameUp.push(iface.name);
      }
      this.syncGroups(p);
    }
    for (const name of [...this.ports.keys()]) {
      if (!all.some((i) => i.name === name)) {
        this.closePort(this.ports.get(name)!);
        this.ports.delete(name);
      }
    }
    if (cameUp.length > 0 && this.owned.size > 0) {
      this.o.logger.info({ interfaces: cameUp }, 'layer 2: interface usable; announcing owned IPs on it shortly');
      const h = setTimeout(() => {
        this.holds.delete(h);
        for (const k of this.owned.keys()) if (!this.bursts.has(k)) this.startBurst(k);
      }, this.o.linkUpHoldMs ?? 1500);
      h.unref();
      this.holds.add(h);
    }
  }

  private openArp(p: Port): NativeRawSocket {
    const s = new this.native.RawSocket({ kind: 'packet', ifindex: p.iface.index, protocol: ETH_P_ARP });
    s.start((err, msg, info) => {
      if (err) { this.o.logger.warn({ err, interface: p.iface.name }, 'layer 2: ARP receive failed'); return; }
      this.onArp(p, msg!, info!);
    });
    s.unref();
    return s;
  }

  private openNdp(p: Port): void {
    const ipv6 = new this.native.RawSocket({ kind: 'packet', ifindex: p.iface.index, protocol: ETH_P_IPV6, nsFilter: true });
    let groups: NativeRawSocket;
    try {
      groups = new this.native.RawSocket({ kind: 'icmp6', ifname: p.iface.name, icmpTypes: [] });
    } catch (e) {
      ipv6.close();
      throw e;
    }
    ipv6.start((err, msg, info) => {
      if (err) { this.o.logger.warn({ err, interface: p.iface.name }, 'layer 2: NDP receive failed'); return; }
      this.onNeighborSolicitation(p, msg!, info!);
    });
    ipv6.unref();
    p.ipv6 = ipv6;
    p.groups = groups;
    p.joined = new Set();
  }

  private closeNdp(p: Port): void {
    p.ipv6?.close();
    p.groups?.close(); // closing leaves every group
    delete p.ipv6;
    delete p.groups;
    p.joined = new Set();
  }

  private closePort(p: Port): void {
    p.arp?.close();
    delete p.arp;
    this.closeNdp(p);
  }

  /** Joins the solicited-node group of every owned IPv6 address allowed here; leaves the rest. */
  private syncGroups(p: Port): void {
    if (!p.groups) return;
    const want = new Set<string>();
    for (const [k, a] of this.owned) if (a.ip.family === 6 && this.allowedOn(k, p)) want.add(formatIp(solicitedNodeGroup(a.ip)));
    for (const g of want) {
      if (p.joined.has(g)) continue;
      try {
        p.groups.joinGroup(g, p.iface.index);
        p.joined.add(g);
      } catch (e) {
        this.o.logger.warn({ err: e, interface: p.iface.name, group: g }, 'layer 2: joining the solicited-node group failed');
      }
    }
    for (const g of [...p.joined]) {
      if (want.has(g)) continue;
      try { p.groups.leaveGroup(g, p.iface.index); } catch { /* already left */ }
      p.joined.delete(g);
    }
  }

  private onArp(p: Port, msg: Buffer, info: NativeRawInfo): void {
    // Our own transmissions come back on a packet socket; only requests broadcast or sent to us count.
    if (info.pkttype === PACKET_OUTGOING || info.ifindex !== p.iface.index) return;
    if (info.pkttype !== PACKET_HOST && info.pkttype !== PACKET_BROADCAST) return;
    const req = parseArp(msg);
    if (!req || req.op !== ARP_REQUEST || !p.arp) return;
    const k = ipKey(req.targetIp);
    const a = this.allowedOn(k, p);
    if (!a) return;
    this.o.metrics?.requestsReceived.inc({ ip: k });
    try {
      p.arp.sendPacket(arpReply(req, p.iface.mac, a.ip), p.iface.index, ETH_P_ARP, req.senderMac);
      this.o.metrics?.responsesSent.inc({ ip: k });
    } catch (e) {
      this.o.logger.warn({ err: e, interface: p.iface.name, ip: k }, 'layer 2: sending an ARP reply failed');
    }
  }

  private onNeighborSolicitation(p: Port, packet: Buffer, info: NativeRawInfo): void {
    if (info.pkttype === PACKET_OUTGOING || info.ifindex !== p.iface.index || !p.ipv6) return;
    if (info.pkttype !== PACKET_HOST && info.pkttype !== PACKET_MULTICAST) return;
    // RFC 4861 §7.1.1: hop limit 255 proves the solicitation comes from this link.
    if (packet.length < 64 || packet[7] !== 255) return;
    const ns = parseNeighborSolicitation(packet.subarray(40, 40 + packet.readUInt16BE(4)));
    if (!ns) return;
    const k = ipKey(ns.target);
    const a = this.allowedOn(k, p);
    if (!a) return;
    this.o.metrics?.requestsReceived.inc({ ip: k });
    const source = packet.subarray(8, 24);
    const dad = source.every((x) => x === 0);
    // A DAD probe (source ::) is answered to all-nodes, unsolicited (RFC 4861 §7.2.4); otherwise to
    // the asker, at the MAC it gave (or the frame came from).
    const dst = dad ? ALL_NODES : Buffer.from(source);
    const mac = dad ? ipv6MulticastMac(ALL_NODES) : (ns.sourceMac ?? (Buffer.isBuffer(info.address) ? info.address.subarray(0, 6) : undefined));
    if (!mac) return;
    try {
      p.ipv6.sendPacket(neighborAdvertisement(a.ip, p.iface.mac, dst, dad ? NA_OVERRIDE : NA_SOLICITED | NA_OVERRIDE), p.iface.index, ETH_P_IPV6, mac);
      this.o.metrics?.responsesSent.inc({ ip: k });
    } catch (e) {
      this.o.logger.warn({ err: e, interface: p.iface.name, ip: k }, 'layer 2: sending a Neighbor Advertisement failed');
    }
  }

  private startBurst(k: string): void {
    this.cancelBurst(k);
    const schedule = this.o.gratuitousScheduleMs ?? metallbGratuitousScheduleMs;
    // The first round goes out now, not from a timer: on a takeover every loop turn is outage.
    const timers = schedule.filter((ms) => ms > 0).map((ms) => {
      const t = setTimeout(() => this.gratuitous(k), ms);
      t.unref();
      return t;
    });
    const last = setTimeout(() => this.bursts.delete(k), Math.max(0, ...schedule) + 1);
    last.unref();
    this.bursts.set(k, [...timers, last]);
    if (schedule.includes(0)) this.gratuitous(k);
  }

  private cancelBurst(k: string): void {
    for (const t of this.bursts.get(k) ?? []) clearTimeout(t);
    this.bursts.delete(k);
  }

  private gratuitous(k: string): void {
    const a = this.owned.get(k);
    if (!a || this.closed) return;
    for (const p of this.portsFor(a)) {
      try {
        if (a.ip.family === 4) {
          for (const op of [ARP_REQUEST, ARP_REPLY] as const) p.arp!.sendPacket(gratuitousArp(op, p.iface.mac, a.ip), p.iface.index, ETH_P_ARP, BROADCAST_MAC);
        } else {
          p.ipv6!.sendPacket(neighborAdvertisement(a.ip, p.iface.mac, ALL_NODES, NA_OVERRIDE), p.iface.index, ETH_P_IPV6, ipv6MulticastMac(ALL_NODES));
        }
        this.o.metrics?.gratuitousSent.inc({ ip: k });
      } catch (e) {
        this.o.logger.warn({ err: e, interface: p.iface.name, ip: k, mac: formatMac(p.iface.mac) }, 'layer 2: sending a gratuitous announcement failed');
      }
    }
  }
}
