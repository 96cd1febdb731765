// The validating-webhook cases of the differential suite (issue #13): the same objects, applied one
// after the other with `kubectl apply` (or deleted) in MetalLB's namespace, once through MetalLB's
// webhook and once through ironlb's, both called by the real apiserver. Each case records whether
// the apiserver stored the object or the reason it was refused; `NS` is the namespace.
export interface WebhookCase {
  name: string;
  /** YAML applied; `NS` is the namespace. */
  apply?: string;
  /** `kubectl delete <kind>/<name>`. */
  delete?: string;
}

const pool = (name: string, addresses: string[], extra = '') =>
  `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: ${name}, namespace: NS}\nspec:\n  addresses: [${addresses.map((a) => JSON.stringify(a)).join(', ')}]\n${extra}`;
const peer = (name: string, spec: string) => `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: ${name}, namespace: NS}\nspec:\n${spec}`;
const adv = (name: string, spec: string) => `apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: ${name}, namespace: NS}\nspec:\n${spec}`;
const community = (name: string, entries: string) => `apiVersion: metallb.io/v1beta1\nkind: Community\nmetadata: {name: ${name}, namespace: NS}\nspec:\n  communities:\n${entries}`;

export const webhookCases: WebhookCase[] = [
  { name: 'pool', apply: pool('a', ['192.0.2.0/24']) },
  { name: 'pool overlapping another', apply: pool('overlap', ['192.0.2.128/25']) },
  { name: 'pool with a bad address', apply: pool('bad', ['banana']) },
  { name: 'pool with a reversed range', apply: pool('reversed', ['198.51.100.10-198.51.100.5']) },
  { name: 'pool edited to a second CIDR', apply: pool('a', ['192.0.2.0/24', '198.51.100.0/24']) },
  { name: 'pool edited onto itself overlapping', apply: pool('a', ['192.0.2.0/24', '192.0.2.0/25']) },
  { name: 'IPv6 pool', apply: pool('v6', ['2001:db8::/64']) },
  { name: 'peer', apply: peer('p1', '  myASN: 64500\n  peerASN: 64501\n  peerAddress: 192.168.1.1\n') },
  { name: 'second peer at the same address', apply: peer('p1-again', '  myASN: 64500\n  peerASN: 64501\n  peerAddress: 192.168.1.1\n') },
  { name: 'peer with hold time 1s', apply: peer('hold', '  myASN: 64500\n  peerASN: 64501\n  peerAddress: 192.168.1.2\n  holdTime: 1s\n') },
  { name: 'peer with keepalive above hold time', apply: peer('keepalive', '  myASN: 64500\n  peerASN: 64501\n  peerAddress: 192.168.1.3\n  holdTime: 90s\n  keepaliveTime: 120s\n') },
  { name: 'peer with an unknown BFD profile', apply: peer('bfd', '  myASN: 64500\n  peerASN: 64501\n  peerAddress: 192.168.1.4\n  bfdProfile: nope\n') },
  { name: 'peer with password and passwordSecret', apply: peer('pw', '  myASN: 64500\n  peerASN: 64501\n  peerAddress: 192.168.1.5\n  password: x\n  passwordSecret: {name: s, namespace: NS}\n') },
  { name: 'community with a bad value', apply: community('bad', '  - {name: x, value: "banana"}\n') },
  { name: 'community', apply: community('c', '  - {name: vpn-only, value: "1234:1"}\n') },
  { name: 'advertisement', apply: adv('ok', '  ipAddressPools: [a]\n  communities: [vpn-only, "64500:1"]\n') },
  { name: 'advertisement with an unknown community alias', apply: adv('alias', '  ipAddressPools: [a]\n  communities: [nope]\n') },
  { name: 'advertisement aggregating shorter than the pool', apply: adv('agg', '  ipAddressPools: [a]\n  aggregationLength: 16\n') },
  { name: 'advertisement with an unknown pool', apply: adv('unknown-pool', '  ipAddressPools: [nope]\n') },
  { name: 'L2 advertisement', apply: 'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2, namespace: NS}\nspec:\n  ipAddressPools: [a]\n' },
  { name: 'BFD profile', apply: 'apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: fast, namespace: NS}\nspec:\n  receiveInterval: 300\n' },
  { name: 'peer using the BFD profile', apply: peer('with-bfd', '  myASN: 64500\n  peerASN: 64501\n  peerAddress: 192.168.1.6\n  bfdProfile: fast\n') },
  { name: 'BFD profile in use deleted', delete: 'bfdprofiles.metallb.io/fast' },
  { name: 'pool in use deleted', delete: 'ipaddresspools.metallb.io/a' },
  { name: 'pool outside the namespace', apply: pool('elsewhere', ['203.0.113.0/24']).replace('namespace: NS', 'namespace: default') },
];
