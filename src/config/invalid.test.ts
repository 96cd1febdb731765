// Semantically invalid configurations, one rule each: every case asserts the exact errors (object,
// field path, message), and that no Config comes out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedObject } from '../api/loaded.ts';
import type { BGPAdvertisementSpec, BGPPeerSpec } from '../api/resources.ts';
import { bfd, bgpAd, community, l2Ad, peer, pool, secret } from '../../test/fixtures/config/objects.ts';
import { type ResolveOptions, resolveConfig } from './resolve.ts';

interface Case {
  name: string;
  objects: LoadedObject[];
  options?: ResolveOptions;
  /** [Kind/name, field path, message] of every error, in report order. */
  errors: [string, string, string][];
}

const base = (): LoadedObject[] => [pool('p1', { addresses: ['10.0.0.0/24'] }), peer('r1')];
const withAd = (spec: BGPAdvertisementSpec, ...more: LoadedObject[]): LoadedObject[] => [...base(), bgpAd('ad', spec), ...more];
const secretPeer = (s: LoadedObject, ref: BGPPeerSpec['passwordSecret'] = { name: 'bgp-auth' }): LoadedObject[] => [pool('p1', { addresses: ['10.0.0.0/24'] }), peer('r1', { passwordSecret: ref }), s];
const basicAuth = 'kubernetes.io/basic-auth';

const cases: Case[] = [
  // ---- IPAddressPool ----
  { name: 'pool: a single address is neither CIDR nor range', objects: [pool('p1', { addresses: ['10.1.0.1'] })],
    errors: [
      ['IPAddressPool/p1', 'spec.addresses[0]', '"10.1.0.1" is a single address, not a CIDR or range: write "10.1.0.1/32" or "10.1.0.1-10.1.0.1"'],
    ] },
  { name: 'pool: CIDR length past 32', objects: [pool('p1', { addresses: ['10.1.0.0/33'] })],
    errors: [
      ['IPAddressPool/p1', 'spec.addresses[0]', 'invalid CIDR "10.1.0.0/33": want address/length, length 0..32 for IPv4 or 0..128 for IPv6; or a range ("192.168.10.1-192.168.10.50")'],
    ] },
  { name: 'pool: range start after end', objects: [pool('p1', { addresses: ['10.1.0.9-10.1.0.1'] })],
    errors: [
      ['IPAddressPool/p1', 'spec.addresses[0]', 'invalid IP range "10.1.0.9-10.1.0.1": start is after end; want a CIDR ("192.168.10.0/24", "fc00::/64") or a range ("192.168.10.1-192.168.10.50")'],
    ] },
  { name: 'pool: range across families', objects: [pool('p1', { addresses: ['10.1.0.1-fc00::1'] })],
    errors: [
      ['IPAddressPool/p1', 'spec.addresses[0]', 'invalid IP range "10.1.0.1-fc00::1": both ends must be of the same family; want a CIDR ("192.168.10.0/24", "fc00::/64") or a range ("192.168.10.1-192.168.10.50")'],
    ] },
  { name: 'pool: not an address', objects: [pool('p1', { addresses: ['banana'] })],
    errors: [
      ['IPAddressPool/p1', 'spec.addresses[0]', 'invalid address "banana": want a CIDR ("192.168.10.0/24", "fc00::/64") or a range ("192.168.10.1-192.168.10.50")'],
    ] },
  { name: 'pool: empty address', objects: [pool('p1', { addresses: [''] })],
    errors: [
      ['IPAddressPool/p1', 'spec.addresses[0]', 'empty address: want a CIDR ("192.168.10.0/24", "fc00::/64") or a range ("192.168.10.1-192.168.10.50")'],
    ] },
  { name: 'pool: no addresses', objects: [pool('p1', { addresses: [] })],
    errors: [
      ['IPAddressPool/p1', 'spec.addresses', 'the pool has no addresses: want at least one, each a CIDR ("192.168.10.0/24", "fc00::/64") or a range ("192.168.10.1-192.168.10.50")'],
    ] },
  { name: 'pool: CIDR overlaps a range in another pool', objects: [pool('a', { addresses: ['10.0.0.0/24'] }), pool('b', { addresses: ['10.0.0.250-10.0.1.5'] })],
    errors: [
      ['IPAddressPool/b', 'spec.addresses[0]', '"10.0.0.250-10.0.1.5" overlaps "10.0.0.0/24" in IPAddressPool metallb-system/a (spec.addresses[0]): both hold 10.0.0.250-10.0.0.255; an address may belong to one pool entry only'],
    ] },
  { name: 'pool: overlap inside one pool', objects: [pool('a', { addresses: ['10.0.0.0/24', '10.0.0.128/25'] })],
    errors: [
      ['IPAddressPool/a', 'spec.addresses[1]', '"10.0.0.128/25" overlaps "10.0.0.0/24", spec.addresses[0] of the same pool: both hold 10.0.0.128-10.0.0.255; an address may belong to one pool entry only'],
    ] },
  { name: 'pool: IPv6 overlap across pools', objects: [pool('a', { addresses: ['fc00::/64'] }), pool('b', { addresses: ['fc00::10-fc00::20'] })],
    errors: [
      ['IPAddressPool/b', 'spec.addresses[0]', '"fc00::10-fc00::20" overlaps "fc00::/64" in IPAddressPool metallb-system/a (spec.addresses[0]): both hold fc00::10-fc00::20; an address may belong to one pool entry only'],
    ] },
  { name: 'pool: duplicate names', objects: [pool('a', { addresses: ['10.0.0.0/24'] }), pool('a', { addresses: ['10.0.1.0/24'] })],
    errors: [
      ['IPAddressPool/a', 'metadata.name', 'duplicate definition of pool "a": already defined; pool names must be unique'],
    ] },
  { name: 'pool: duplicate namespaces in serviceAllocation', objects: [pool('a', { addresses: ['10.0.0.0/24'], serviceAllocation: { namespaces: ['web', 'web'] } })],
    errors: [
      ['IPAddressPool/a', 'spec.serviceAllocation.namespaces[1]', 'duplicate namespace "web": each namespace may appear once'],
    ] },
  { name: 'pool: duplicate namespaceSelectors', objects: [pool('a', { addresses: ['10.0.0.0/24'], serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'a' } }, { matchLabels: { team: 'a' } }] } })],
    errors: [
      ['IPAddressPool/a', 'spec.serviceAllocation.namespaceSelectors[1]', 'duplicate selector "team=a": same as namespaceSelectors[0]; each selector may appear once'],
    ] },
  { name: 'pool: duplicate serviceSelectors (same selector written two ways)', objects: [pool('a', { addresses: ['10.0.0.0/24'], serviceAllocation: { serviceSelectors: [{ matchLabels: { app: 'web' } }, { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }] } })],
    errors: [
      ['IPAddressPool/a', 'spec.serviceAllocation.serviceSelectors[1]', 'duplicate selector "app=web": same as serviceSelectors[0]; each selector may appear once'],
    ] },
  { name: 'pool: negative priority', objects: [pool('a', { addresses: ['10.0.0.0/24'], serviceAllocation: { priority: -1 } })],
    errors: [
      ['IPAddressPool/a', 'spec.serviceAllocation.priority', 'priority -1 is not allowed: want a whole number >= 0 (0 = no priority, 1 = highest)'],
    ] },
  { name: 'pool: namespace that is not a DNS label', objects: [pool('a', { addresses: ['10.0.0.0/24'], serviceAllocation: { namespaces: ['Team_A'] } })],
    errors: [
      ['IPAddressPool/a', 'spec.serviceAllocation.namespaces[0]', '"Team_A" is not a namespace name: want a DNS-1123 label (lower-case letters, digits and \'-\', at most 63)'],
    ] },
  { name: 'pool: selector with an unknown operator', objects: [pool('a', { addresses: ['10.0.0.0/24'], serviceAllocation: { namespaceSelectors: [{ matchExpressions: [{ key: 'team', operator: 'Equals', values: ['a'] }] }] } })],
    errors: [
      ['IPAddressPool/a', 'spec.serviceAllocation.namespaceSelectors[0]', 'invalid label selector: matchExpressions[0].operator: "Equals" is not a valid operator (allowed: In, NotIn, Exists, DoesNotExist)'],
    ] },
  // ---- BGPPeer ----
  { name: 'peer: myASN 0', objects: [peer('r1', { myASN: 0 })],
    errors: [
      ['BGPPeer/r1', 'spec.myASN', 'missing local ASN: myASN must be an AS number from 1 to 4294967295'],
    ] },
  { name: 'peer: neither peerASN nor dynamicASN', objects: [peer('r1', { peerASN: undefined })],
    errors: [
      ['BGPPeer/r1', 'spec.peerASN', 'missing peer ASN: set exactly one of peerASN (an AS number from 1 to 4294967295) or dynamicASN (internal or external)'],
    ] },
  { name: 'peer: both peerASN and dynamicASN', objects: [peer('r1', { dynamicASN: 'external' })],
    errors: [
      ['BGPPeer/r1', 'spec.dynamicASN', 'both peerASN and dynamicASN are set: set exactly one of them'],
    ] },
  { name: 'peer: ebgpMultiHop on iBGP', objects: [peer('r1', { peerASN: 64500, ebgpMultiHop: true })],
    errors: [
      ['BGPPeer/r1', 'spec.ebgpMultiHop', 'ebgpMultiHop is for eBGP peers only, and this peer is iBGP (peerASN = myASN = 64500)'],
    ] },
  { name: 'peer: ebgpMultiHop with dynamicASN internal', objects: [peer('r1', { peerASN: undefined, dynamicASN: 'internal', ebgpMultiHop: true })],
    errors: [
      ['BGPPeer/r1', 'spec.ebgpMultiHop', 'ebgpMultiHop is for eBGP peers only, and this peer is iBGP (dynamicASN internal)'],
    ] },
  { name: 'peer: neither address nor interface', objects: [peer('r1', { peerAddress: undefined })],
    errors: [
      ['BGPPeer/r1', 'spec.peerAddress', 'the peer has neither peerAddress nor interface: set exactly one of them'],
    ] },
  { name: 'peer: both address and interface', objects: [peer('r1', { interface: 'eth1' })],
    errors: [
      ['BGPPeer/r1', 'spec.interface', 'the peer has both peerAddress and interface: set exactly one of them'],
    ] },
  { name: 'peer: address does not parse', objects: [peer('r1', { peerAddress: '192.0.2.300' })],
    errors: [
      ['BGPPeer/r1', 'spec.peerAddress', 'invalid peer address "192.0.2.300": want an IPv4 or IPv6 address'],
    ] },
  { name: 'peer: sourceAddress does not parse', objects: [peer('r1', { sourceAddress: 'eth0' })],
    errors: [
      ['BGPPeer/r1', 'spec.sourceAddress', 'invalid source address "eth0": want an IPv4 or IPv6 address'],
    ] },
  { name: 'peer: sourceAddress of the other family', objects: [peer('r1', { sourceAddress: 'fd00::1' })],
    errors: [
      ['BGPPeer/r1', 'spec.sourceAddress', 'sourceAddress fd00::1 is IPv6 but peerAddress 192.0.2.1 is IPv4: a session\'s ends must be of one family'],
    ] },
  { name: 'peer: IPv6 router ID', objects: [peer('r1', { routerID: 'fd00::1' })],
    errors: [
      ['BGPPeer/r1', 'spec.routerID', 'router ID "fd00::1" is not allowed: the BGP identifier is a non-zero IPv4 address (RFC 6286)'],
    ] },
  { name: 'peer: router ID 0.0.0.0', objects: [peer('r1', { routerID: '0.0.0.0' })],
    errors: [
      ['BGPPeer/r1', 'spec.routerID', 'router ID "0.0.0.0" is not allowed: the BGP identifier is a non-zero IPv4 address (RFC 6286)'],
    ] },
  { name: 'peer: hold time 2s', objects: [peer('r1', { holdTime: '2s' })],
    errors: [
      ['BGPPeer/r1', 'spec.holdTime', 'holdTime 2s is not allowed: the hold time must be 0 (no keepalives) or at least 3s'],
    ] },
  { name: 'peer: keepalive longer than hold', objects: [peer('r1', { holdTime: '30s', keepaliveTime: '40s' })],
    errors: [
      ['BGPPeer/r1', 'spec.keepaliveTime', 'keepaliveTime 40s is longer than holdTime 30s: the keepalive time must be at most the hold time'],
    ] },
  { name: 'peer: keepalive alone derives a hold time under 3s', objects: [peer('r1', { keepaliveTime: '900ms' })],
    errors: [
      ['BGPPeer/r1', 'spec.keepaliveTime', 'holdTime 2700ms (3 × keepaliveTime 900ms) is not allowed: the hold time must be 0 (no keepalives) or at least 3s'],
    ] },
  { name: 'peer: hold time past 16 bits of seconds', objects: [peer('r1', { holdTime: '70000s' })],
    errors: [
      ['BGPPeer/r1', 'spec.holdTime', 'holdTime 70000s is not allowed: the hold time is sent in 16 bits of seconds, at most 65535s'],
    ] },
  { name: 'peer: duration without unit', objects: [peer('r1', { holdTime: '90' })],
    errors: [
      ['BGPPeer/r1', 'spec.holdTime', '"90" is not a duration such as "90s", "1m30s" or "500ms" (units h, m, s, ms, us, ns)'],
    ] },
  { name: 'peer: connectTime not whole seconds', objects: [peer('r1', { connectTime: '1500ms' })],
    errors: [
      ['BGPPeer/r1', 'spec.connectTime', 'connectTime 1500ms is not allowed: want whole seconds from 1s to 65535s'],
    ] },
  { name: 'peer: connectTime past 65535s', objects: [peer('r1', { connectTime: '20h' })],
    errors: [
      ['BGPPeer/r1', 'spec.connectTime', 'connectTime 20h is not allowed: want whole seconds from 1s to 65535s'],
    ] },
  { name: 'peer: password and passwordSecret', objects: [peer('r1', { password: 'x', passwordSecret: { name: 'bgp-auth' } }), secret('bgp-auth', { type: basicAuth, stringData: { password: 'y' } })],
    errors: [
      ['BGPPeer/r1', 'spec.passwordSecret', 'password and passwordSecret are mutually exclusive: set at most one of them'],
    ] },
  { name: 'peer: passwordSecret not found', objects: secretPeer(secret('other', { type: basicAuth, stringData: { password: 'y' } })),
    errors: [
      ['BGPPeer/r1', 'spec.passwordSecret.name', 'Secret metallb-system/bgp-auth not found: the peer needs a Secret of type kubernetes.io/basic-auth with the key "password"'],
    ] },
  { name: 'peer: passwordSecret of the wrong type', objects: secretPeer(secret('bgp-auth', { type: 'Opaque', stringData: { password: 'y' } })),
    errors: [
      ['BGPPeer/r1', 'spec.passwordSecret.name', 'Secret metallb-system/bgp-auth has type "Opaque": want type kubernetes.io/basic-auth'],
    ] },
  { name: 'peer: passwordSecret without the password key', objects: secretPeer(secret('bgp-auth', { type: basicAuth, data: { username: 'YQ==' } })),
    errors: [
      ['BGPPeer/r1', 'spec.passwordSecret.name', 'Secret metallb-system/bgp-auth has no key "password" in data or stringData'],
    ] },
  { name: 'peer: passwordSecret data not base64', objects: secretPeer(secret('bgp-auth', { type: basicAuth, data: { password: 'not base64!' } })),
    errors: [
      ['Secret/bgp-auth', 'data.password', 'not valid base64: Secret data values are base64-encoded (use stringData for plain text)'],
    ] },
  { name: 'peer: passwordSecret in another namespace', objects: secretPeer(secret('bgp-auth', { type: basicAuth, stringData: { password: 'y' } }, 'kube-system'), { name: 'bgp-auth', namespace: 'kube-system' }),
    errors: [
      ['BGPPeer/r1', 'spec.passwordSecret.namespace', 'the Secret must be in the MetalLB namespace "metallb-system", not "kube-system"'],
    ] },
  { name: 'peer: password longer than a TCP MD5 key', objects: [peer('r1', { password: 'x'.repeat(81) })],
    errors: [
      ['BGPPeer/r1', 'spec.password', 'the password is 81 bytes: a TCP MD5 key is at most 80 bytes'],
    ] },
  { name: 'peer: unknown BFD profile', objects: [peer('r1', { bfdProfile: 'fast' }), bfd('slow')],
    errors: [
      ['BGPPeer/r1', 'spec.bfdProfile', 'BFD profile "fast" not found: known profiles are "slow"'],
    ] },
  { name: 'peer: duplicate names', objects: [peer('r1'), peer('r1', { peerAddress: '192.0.2.2' })],
    errors: [
      ['BGPPeer/r1', 'metadata.name', 'duplicate definition of BGP peer "r1": already defined; peer names must be unique'],
    ] },
  { name: 'peer: same router from nodes that can overlap', objects: [peer('a', { nodeSelectors: [{ matchLabels: { rack: 'r1' } }] }), peer('b', { nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['r2'] }] }] })],
    errors: [
      ['BGPPeer/b', 'spec.peerAddress', 'conflicts with BGPPeer metallb-system/a: both peer with 192.0.2.1 and their node selectors can select the same node ({rack=r1} vs {rack notin (r2)}), which would open two sessions from that node to one router; give them node selectors that cannot select the same node, or keep one of them'],
    ] },
  { name: 'peer: same interface and VRF on every node', objects: [peer('a', { peerAddress: undefined, interface: 'eth1', vrf: 'red' }), peer('b', { peerAddress: undefined, interface: 'eth1', vrf: 'red', peerASN: 64502 })],
    errors: [
      ['BGPPeer/b', 'spec.interface', 'conflicts with BGPPeer metallb-system/a: both peer with interface eth1 in VRF red and their node selectors can select the same node (all nodes vs all nodes), which would open two sessions from that node to one router; give them node selectors that cannot select the same node, or keep one of them'],
    ] },
  { name: 'peer: duplicate nodeSelectors', objects: [peer('r1', { nodeSelectors: [{ matchLabels: { rack: 'a' } }, { matchLabels: { rack: 'a' } }] })],
    errors: [
      ['BGPPeer/r1', 'spec.nodeSelectors[1]', 'duplicate selector "rack=a": same as nodeSelectors[0]; each selector may appear once'],
    ] },
  { name: 'peer: duplicate value in a match expression', objects: [peer('r1', { nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['a', 'a'] }] }] })],
    errors: [
      ['BGPPeer/r1', 'spec.nodeSelectors[0].matchExpressions[0].values', 'duplicate value "a": each value may appear once'],
    ] },
  { name: 'peer: interface name too long', objects: [peer('r1', { peerAddress: undefined, interface: 'a-very-long-interface' })],
    errors: [
      ['BGPPeer/r1', 'spec.interface', '"a-very-long-interface" is longer than 15 bytes, the Linux limit for interface names'],
    ] },
  { name: 'peer: gracefulRestart.enabled disagrees with enableGracefulRestart', objects: [peer('r1', { enableGracefulRestart: true, gracefulRestart: { enabled: false } })],
    errors: [
      ['BGPPeer/r1', 'spec.gracefulRestart.enabled', 'gracefulRestart.enabled is false but enableGracefulRestart is true: set one of them, or both to the same value'],
    ] },
  { name: 'peer: restartTime past 4095s', objects: [peer('r1', { gracefulRestart: { enabled: true, restartTime: '2h' } })],
    errors: [
      ['BGPPeer/r1', 'spec.gracefulRestart.restartTime', 'restartTime 2h is not allowed: want whole seconds from 1s to 4095s (RFC 4724\'s 12-bit Restart Time)'],
    ] },
  { name: 'peer: restartTime not whole seconds', objects: [peer('r1', { gracefulRestart: { restartTime: '1500ms' } })],
    errors: [
      ['BGPPeer/r1', 'spec.gracefulRestart.restartTime', 'restartTime 1500ms is not allowed: want whole seconds from 1s to 4095s (RFC 4724\'s 12-bit Restart Time)'],
    ] },
  // ---- BGPAdvertisement ----
  { name: 'bgp ad: aggregationLength past 32', objects: withAd({ aggregationLength: 33 }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.aggregationLength', 'aggregationLength 33 is not allowed: want 1..32'],
    ] },
  { name: 'bgp ad: aggregationLengthV6 past 128', objects: withAd({ aggregationLengthV6: 129 }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.aggregationLengthV6', 'aggregationLengthV6 129 is not allowed: want 1..128'],
    ] },
  { name: 'bgp ad: serviceSelectors with aggregation', objects: withAd({ aggregationLength: 24, serviceSelectors: [{ matchLabels: { app: 'web' } }] }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.aggregationLength', 'aggregationLength 24 cannot be combined with serviceSelectors: with serviceSelectors only the default 32 is allowed'],
    ] },
  { name: 'bgp ad: community out of range', objects: withAd({ communities: ['65536:1'] }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.communities[0]', 'invalid community "65536:1": want AS:VALUE, each 0..65535, or large:GA:LD1:LD2'],
    ] },
  { name: 'bgp ad: malformed large community', objects: withAd({ communities: ['large:1:2'] }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.communities[0]', 'invalid large community "large:1:2": want large:GA:LD1:LD2, each 0..4294967295'],
    ] },
  { name: 'bgp ad: unknown alias', objects: withAd({ communities: ['no-export'] }, community('aliases', [{ name: 'no-advertise', value: '65535:65282' }, { name: 'vpn-only', value: '1234:1' }])),
    errors: [
      ['BGPAdvertisement/ad', 'spec.communities[0]', 'unknown community alias "no-export": known aliases are "no-advertise", "vpn-only"; or write a value AS:VALUE or large:GA:LD1:LD2'],
    ] },
  { name: 'bgp ad: duplicate community', objects: withAd({ communities: ['64500:1', '64500:1'] }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.communities[1]', 'duplicate community "64500:1": same as communities[0]; each community may appear once'],
    ] },
  { name: 'bgp ad: alias and value that are the same community', objects: withAd({ communities: ['65535:65282', 'no-advertise'] }, community('aliases', [{ name: 'no-advertise', value: '65535:65282' }])),
    errors: [
      ['BGPAdvertisement/ad', 'spec.communities[1]', 'duplicate community "no-advertise": communities[0] is the same value 65535:65282'],
    ] },
  { name: 'bgp ad: 64 communities', objects: withAd({ communities: Array.from({ length: 64 }, (_, i) => `64500:${i}`) }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.communities', '64 communities: at most 63 are allowed per advertisement'],
    ] },
  { name: 'bgp ad: unknown pool', objects: withAd({ ipAddressPools: ['p2'] }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.ipAddressPools[0]', 'unknown IPAddressPool "p2": known pools are "p1"'],
    ] },
  { name: 'bgp ad: unknown peer', objects: withAd({ peers: ['r2'] }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.peers[0]', 'unknown BGPPeer "r2": known peers are "r1"'],
    ] },
  { name: 'bgp ad: pool named twice', objects: withAd({ ipAddressPools: ['p1', 'p1'] }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.ipAddressPools[1]', 'duplicate pool "p1": each pool may be named once'],
    ] },
  { name: 'bgp ad: peer named twice', objects: withAd({ peers: ['r1', 'r1'] }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.peers[1]', 'duplicate peer "r1": each peer may be named once'],
    ] },
  { name: 'bgp ad: identical advertisements', objects: [...base(), bgpAd('a', { localPref: 100 }), bgpAd('b', { localPref: 100 })],
    errors: [
      ['BGPAdvertisement/b', 'spec', 'identical to BGPAdvertisement metallb-system/a: duplicate advertisements are not allowed'],
    ] },
  { name: 'bgp ad: asPrepend count 11', objects: withAd({ asPrepend: { count: 11 } }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.asPrepend.count', 'count 11 is not allowed: want 1..10 copies'],
    ] },
  { name: 'bgp ad: asPrepend asn 0', objects: withAd({ asPrepend: { count: 1, asn: 0 } }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.asPrepend.asn', 'asn 0 is not allowed: want an AS number from 1 to 4294967295 (0 is reserved, RFC 7607), or leave it out to prepend the session\'s own ASN'],
    ] },
  { name: 'bgp ad: negative med', objects: withAd({ med: -1 }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.med', 'med -1 is not allowed: want 0..4294967295'],
    ] },
  { name: 'bgp ad: duplicate nodeSelectors', objects: withAd({ nodeSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] }),
    errors: [
      ['BGPAdvertisement/ad', 'spec.nodeSelectors[1]', 'duplicate selector "a=b": same as nodeSelectors[0]; each selector may appear once'],
    ] },
  // ---- L2Advertisement ----
  { name: 'l2 ad: unknown pool', objects: [...base(), l2Ad('l2', { ipAddressPools: ['p9'] })],
    errors: [
      ['L2Advertisement/l2', 'spec.ipAddressPools[0]', 'unknown IPAddressPool "p9": known pools are "p1"'],
    ] },
  { name: 'l2 ad: interface named twice', objects: [...base(), l2Ad('l2', { interfaces: ['eth0', 'eth0'] })],
    errors: [
      ['L2Advertisement/l2', 'spec.interfaces[1]', 'duplicate interface "eth0": each interface may be named once'],
    ] },
  { name: 'l2 ad: interface pattern', objects: [...base(), l2Ad('l2', { interfaces: ['eth 0'] })],
    errors: [
      ['L2Advertisement/l2', 'spec.interfaces[0]', '"eth 0" contains whitespace, \'/\' or \':\', which Linux interface names cannot hold (interfaces are exact names, not patterns)'],
    ] },
  { name: 'l2 ad: preferred node weight 0', objects: [...base(), l2Ad('l2', { preferredNodeSelectors: [{ weight: 0, preference: { matchLabels: { zone: 'a' } } }] })],
    errors: [
      ['L2Advertisement/l2', 'spec.preferredNodeSelectors[0].weight', 'weight 0 is not allowed: want 1..100'],
    ] },
  { name: 'l2 ad: duplicate ipAddressPoolSelectors', objects: [...base(), l2Ad('l2', { ipAddressPoolSelectors: [{ matchLabels: { tier: 'x' } }, { matchLabels: { tier: 'x' } }] })],
    errors: [
      ['L2Advertisement/l2', 'spec.ipAddressPoolSelectors[1]', 'duplicate selector "tier=x": same as ipAddressPoolSelectors[0]; each selector may appear once'],
    ] },
  // ---- BFDProfile ----
  { name: 'bfd: duplicate profile names', objects: [bfd('fast'), bfd('fast', { detectMultiplier: 5 })],
    errors: [
      ['BFDProfile/fast', 'metadata.name', 'duplicate definition of BFD profile "fast": already defined; profile names must be unique'],
    ] },
  { name: 'bfd: detectMultiplier 1', objects: [bfd('fast', { detectMultiplier: 1 })],
    errors: [
      ['BFDProfile/fast', 'spec.detectMultiplier', 'detectMultiplier 1 is not allowed: want a whole number 2..255'],
    ] },
  { name: 'bfd: echo mode with a peer receiving IPv6', objects: [pool('v6', { addresses: ['fc00::/120'] }), peer('r1', { bfdProfile: 'echo' }), bfd('echo', { echoMode: true }), bgpAd('ad')],
    errors: [
      ['BFDProfile/echo', 'spec.echoMode', 'echo mode is not supported by ironlb\'s own BFD (no echo function): set echoMode: false; control packets alone detect failures (lower transmitInterval/receiveInterval for faster detection); or let frr-k8s run BGP and BFD (--bgp-backend frr-k8s), whose FRR does echo'],
      ['BGPPeer/r1', 'spec.bfdProfile', 'BFD profile "echo" has echoMode, which cannot be used by a peer receiving IPv6 advertisements, and BGPAdvertisement "ad" announces IPv6 pool "v6" to this peer; use a profile without echoMode'],
    ] },
  // ---- Community ----
  { name: 'community: alias defined in two objects', objects: [community('a', [{ name: 'vpn', value: '1:1' }]), community('b', [{ name: 'vpn', value: '1:2' }])],
    errors: [
      ['Community/b', 'spec.communities[0].name', 'duplicate definition of community alias "vpn": already defined in Community metallb-system/a spec.communities[0]; alias names must be unique across all Community objects'],
    ] },
  { name: 'community: value does not parse', objects: [community('a', [{ name: 'vpn', value: '1:2:3' }])],
    errors: [
      ['Community/a', 'spec.communities[0].value', 'invalid community "1:2:3": want AS:VALUE, each 0..65535, or large:GA:LD1:LD2'],
    ] },
  // ---- namespaces ----
  { name: 'namespace: a resource outside the given namespace', objects: [pool('p1', { addresses: ['10.0.0.0/24'] }, { namespace: 'default' })], options: { namespace: 'metallb-system' },
    errors: [
      ['IPAddressPool/p1', 'metadata.namespace', 'namespace "default" is not the MetalLB namespace "metallb-system": all metallb.io resources must be in it'],
    ] },
  { name: 'namespace: a resource outside the one most use', objects: [...base(), pool('p2', { addresses: ['10.0.1.0/24'] }, { namespace: 'lb' })],
    errors: [
      ['IPAddressPool/p2', 'metadata.namespace', 'namespace "lb" is not the MetalLB namespace "metallb-system" (the one most resources use): all metallb.io resources must be in it'],
    ] },
];

for (const c of cases) {
  test(c.name, () => {
    const r = resolveConfig(c.objects, c.options);
    const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => [`${d.object?.kind}/${d.object?.name}`, d.path, d.message]);
    assert.deepEqual(errors, c.errors);
    assert.equal(r.config, undefined);
  });
}

test('at least 60 distinct invalid configurations', () => {
  assert.ok(cases.length >= 60, `${cases.length} cases`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

test('every error in one run: a configuration with several faults reports each of them', () => {
  const r = resolveConfig([
    pool('p1', { addresses: ['10.0.0.1'] }),
    peer('r1', { myASN: 0, holdTime: '1s' }),
    bgpAd('ad', { ipAddressPools: ['nope'], communities: ['bad'] }),
  ]);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.path), [
    'spec.addresses[0]', 'spec.myASN', 'spec.holdTime', 'spec.communities[0]', 'spec.ipAddressPools[0]',
  ]);
});
