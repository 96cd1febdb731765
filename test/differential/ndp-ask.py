#!/usr/bin/env python3
# Who answers NDP for an IPv6 address on a link: sends one Neighbor Solicitation to the address's
# solicited-node group and prints the Target Link-Layer Address of every Neighbor Advertisement
# for it that arrives within the wait, one per line, as a host's kernel would accept them (hop
# limit 255, any source address). The differential suite's client uses it instead of ndisc6,
# which drops an advertisement sent from a link-local address for a global target (its check that
# the answer came through the right interface compares the source's scope id with the target's,
# 0 for a global address): MetalLB's responder answers from the node's link-local address.
#   ndp-ask.py ADDRESS INTERFACE [WAIT_MS]
import select
import socket
import struct
import sys
import time

ICMP6_FILTER = 1
NS, NA = 135, 136
OPT_SOURCE_LL, OPT_TARGET_LL = 1, 2


def main() -> None:
    ip, ifname = sys.argv[1], sys.argv[2]
    wait = (int(sys.argv[3]) if len(sys.argv) > 3 else 700) / 1000
    target = socket.inet_pton(socket.AF_INET6, ip)
    index = socket.if_nametoindex(ifname)
    with open(f'/sys/class/net/{ifname}/address') as f:
        mac = bytes.fromhex(f.read().strip().replace(':', ''))
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    # Only Neighbor Advertisements reach the socket (a set bit blocks that type).
    blocked = [0xFFFFFFFF] * 8
    blocked[NA >> 5] &= ~(1 << (NA & 31))
    s.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack('8I', *blocked))
    group = socket.inet_ntop(socket.AF_INET6, bytes.fromhex('ff0200000000000000000001ff') + target[13:])
    # The kernel fills in the checksum of a raw ICMPv6 socket's messages.
    s.sendto(struct.pack('!BBHI', NS, 0, 0, 0) + target + bytes([OPT_SOURCE_LL, 1]) + mac, (group, 0, 0, index))
    seen: list[str] = []
    end = time.monotonic() + wait
    while (left := end - time.monotonic()) > 0:
        if not select.select([s], [], [], left)[0]:
            break
        data, ancillary, _flags, _addr = s.recvmsg(2048, socket.CMSG_SPACE(4))
        hops = [struct.unpack('i', d[:4])[0] for level, kind, d in ancillary if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT]
        if len(data) < 24 or data[0] != NA or data[1] != 0 or data[8:24] != target or hops != [255]:
            continue
        options = data[24:]
        while len(options) >= 8 and options[1] > 0:
            size = options[1] * 8
            if options[0] == OPT_TARGET_LL and size >= 8:
                found = ':'.join(f'{b:02x}' for b in options[2:8])
                if found not in seen:
                    seen.append(found)
            options = options[size:]
    print('\n'.join(seen))


main()
