// The validating-webhook cases of the differential suite (issue #13): the same objects, applied one
// after the other with `kubectl apply` (or deleted) in MetalLB's namespace, once through MetalLB's
// webhook and once through ironlb's, both called by the real apiserver. Each case records whether
// the apiserver stored the object or the reason it was refused; `NS` is the namespace.
import { bfdProfile, bgpAdv as adv, community, l2Adv, peer, peerTo, pool } from './metallb-yaml.ts';

export interface WebhookCase {
  name: string;
  /** YAML applied; `NS` is the namespace. */
  apply?: string;
  /** `kubectl delete <kind>/<name>`. */
  delete?: string;
  /** A BGPPeer read back at this version (through the conversion webhook): its spec is recorded. */
  read?: { version: 'v1beta1' | 'v1beta2'; name: string };
}

export const webhookCases: WebhookCase[] = [
  { name: 'pool', apply: pool('a', ['192.0.2.0/24']) },
  { name: 'pool overlapping another', apply: pool('overlap', ['192.0.2.128/25']) },
  { name: 'pool with a bad address', apply: pool('bad', ['banana']) },
  { name: 'pool with a reversed range', apply: pool('reversed', ['198.51.100.10-198.51.100.5']) },
  { name: 'pool edited to a second CIDR', apply: pool('a', ['192.0.2.0/24', '198.51.100.0/24']) },
  { name: 'pool edited onto itself overlapping', apply: pool('a', ['192.0.2.0/24', '192.0.2.0/25']) },
  { name: 'IPv6 pool', apply: pool('v6', ['2001:db8::/64']) },
  { name: 'peer', apply: peerTo('p1', 64500, 64501, '192.168.1.1') },
  { name: 'second peer at the same address', apply: peerTo('p1-again', 64500, 64501, '192.168.1.1') },
  { name: 'peer with hold time 1s', apply: peerTo('hold', 64500, 64501, '192.168.1.2', '  holdTime: 1s\n') },
  { name: 'peer with keepalive above hold time', apply: peerTo('keepalive', 64500, 64501, '192.168.1.3', '  holdTime: 90s\n  keepaliveTime: 120s\n') },
  { name: 'peer with an unknown BFD profile', apply: peerTo('bfd', 64500, 64501, '192.168.1.4', '  bfdProfile: nope\n') },
  { name: 'peer with password and passwordSecret', apply: peerTo('pw', 64500, 64501, '192.168.1.5', '  password: x\n  passwordSecret: {name: s, namespace: NS}\n') },
  { name: 'community with a bad value', apply: community('bad', [['x', 'banana']]) },
  { name: 'community', apply: community('c', [['vpn-only', '1234:1']]) },
  { name: 'advertisement', apply: adv('ok', '  ipAddressPools: [a]\n  communities: [vpn-only, "64500:1"]\n') },
  { name: 'advertisement with an unknown community alias', apply: adv('alias', '  ipAddressPools: [a]\n  communities: [nope]\n') },
  { name: 'advertisement aggregating shorter than the pool', apply: adv('agg', '  ipAddressPools: [a]\n  aggregationLength: 16\n') },
  { name: 'advertisement with an unknown pool', apply: adv('unknown-pool', '  ipAddressPools: [nope]\n') },
  { name: 'advertisement naming an unknown peer', apply: adv('unknown-peer', '  ipAddressPools: [a]\n  peers: [nope]\n') },
  { name: 'L2 advertisement', apply: l2Adv('l2', '  ipAddressPools: [a]\n') },
  { name: 'BFD profile', apply: bfdProfile('fast', '  receiveInterval: 300\n') },
  { name: 'peer using the BFD profile', apply: peerTo('with-bfd', 64500, 64501, '192.168.1.6', '  bfdProfile: fast\n') },
  { name: 'BFD profile in use deleted', delete: 'bfdprofiles.metallb.io/fast' },
  { name: 'pool in use deleted', delete: 'ipaddresspools.metallb.io/a' },
  // BGPPeer v1beta1 ↔ v1beta2 (stored as v1beta2) through each one's conversion webhook.
  { name: 'v1beta1 peer', apply: peer('old', '  myASN: 64500\n  peerASN: 64501\n  peerAddress: 192.168.1.7\n  holdTime: 90s\n  ebgpMultiHop: true\n  routerID: 10.0.0.1\n  password: pw\n' +
    '  nodeSelectors:\n  - matchLabels: {rack: a}\n    matchExpressions: [{key: zone, operator: In, values: [z1, z2]}]\n').replace('v1beta2', 'v1beta1') },
  { name: 'v1beta1 peer read as v1beta2', read: { version: 'v1beta2', name: 'old' } },
  { name: 'v1beta1 peer read as v1beta1', read: { version: 'v1beta1', name: 'old' } },
  { name: 'v1beta2 peer read as v1beta1', read: { version: 'v1beta1', name: 'p1' } },
  // (MetalLB's native mode refuses most v1beta2-only fields: keepaliveTime, connectTime, dynamicASN, vrf...)
  { name: 'v1beta2 peer with v1beta2 fields', apply: peer('new', '  myASN: 64500\n  peerASN: 64501\n  peerAddress: 192.168.1.8\n  holdTime: 30s\n  passwordSecret: {name: s-new, namespace: NS}\n' +
    '  nodeSelectors:\n  - matchExpressions: [{key: rack, operator: NotIn, values: [b]}]\n') },
  { name: 'v1beta2 peer with v1beta2 fields read as v1beta1', read: { version: 'v1beta1', name: 'new' } },
  { name: 'pool outside the namespace', apply: pool('elsewhere', ['203.0.113.0/24']).replace('namespace: NS', 'namespace: default') },
];
