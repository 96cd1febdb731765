// The BGP scenarios of the differential suite (issue #13): the same routers, MetalLB objects,
// Services and EndpointSlices, once with MetalLB's speakers on the three nodes and once with
// ironlb's; bgp-world.ts records what each router holds after every step. `NS` in the YAML is the
// scenario's namespace. Addresses and node names are the world's (bgp-world.ts): the seeds'
// peers at 192.168.1.1-3 are routers r1-r3, seed 001's 172.30.0.3 is r1 too.
import type { NodeName, RouterName, RouterSpec } from './bgp-world.ts';
import { bgpAdv as adv, community, pool, peerTo } from './metallb-yaml.ts';

export interface BgpService {
  name: string;
  /** Nodes with a ready endpoint (default every node). */
  endpoints?: NodeName[];
  /** Nodes with an endpoint that is not ready. */
  notReady?: NodeName[];
  etp?: 'Local' | 'Cluster';
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  loadBalancerIP?: string;
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  ipFamilies?: ('IPv4' | 'IPv6')[];
}

export interface BgpStep {
  name: string;
  /** YAML applied (kubectl apply). */
  apply?: string;
  /** kubectl delete <kind>/<name>. */
  deleteObject?: string;
  deleteService?: string;
}

export interface BgpScenario {
  name: string;
  routers: Partial<Record<RouterName, RouterSpec>>;
  /** MetalLB objects, applied before the speakers start. */
  config: string;
  services: BgpService[];
  steps: BgpStep[];
}

/** Seed 000 as MetalLB accepts its fields, with the development advertisement's aggregationLength. */
function seed000(developmentAggregation: number): Omit<BgpScenario, 'name'> {
  return {
    routers: { r1: { asn: 64501, nodeAsn: 64500 }, r2: { asn: 64501, nodeAsn: 64500 }, r3: { asn: 64501, nodeAsn: 64500, password: 'bgp-shared-secret' } },
    config: pool('production-pool', ['192.168.1.240-192.168.1.250'], '  autoAssign: true\n  avoidBuggyIPs: true\n')
      + pool('development-pool', ['192.168.2.240-192.168.2.250'], '  autoAssign: false\n')
      + peerTo('router-1', 64500, 64501, '192.168.1.1', '  holdTime: 90s\n')
      + peerTo('router-2', 64500, 64501, '192.168.1.2', '  holdTime: 90s\n')
      + peerTo('router-3', 64500, 64501, '192.168.1.3', '  holdTime: 90s\n  password: "bgp-shared-secret"\n')
      + adv('production-advertisement', '  ipAddressPools: [production-pool]\n  aggregationLength: 32\n  localPref: 100\n  communities: ["64500:100"]\n')
      + adv('development-advertisement', `  ipAddressPools: [development-pool]\n  aggregationLength: ${developmentAggregation}\n  localPref: 50\n  communities: ["64500:50"]\n  peers: [router-1, router-2]\n`),
    services: [
      { name: 'critical-service', labels: { 'metallb-advertise': 'true' }, loadBalancerIP: '192.168.1.240' },
      { name: 'web' },
      { name: 'dev', annotations: { 'metallb.io/address-pool': 'development-pool' } },
      { name: 'dev-2', annotations: { 'metallb.io/address-pool': 'development-pool' } },
    ],
    steps: [{ name: 'delete dev', deleteService: 'dev' }, { name: 'delete dev-2 (last in the aggregate)', deleteService: 'dev-2' }],
  };
}

export const bgpScenarios: BgpScenario[] = [
  {
    // Seed 000: three eBGP routers (64500 → 64501), one with a password; production pool to every
    // peer (/32, local-pref and a community), development pool aggregated to /24 to router-1 and
    // router-2 only; the labelled critical-service with its loadBalancerIP. Left out: the seed's
    // route-filtering advertisement (BGPAdvertisement has no serviceSelectors: MetalLB's CRD
    // refuses the field), its asPrepend and gracefulRestart fields (not in the API either), sourceAddress 192.168.1.10 (one node's address: the other
    // two could not bind it), and keepaliveTime: 30s (MetalLB's native speaker refuses the whole
    // configuration with it: scenario keepalive-time). MetalLB refuses this one too: the
    // development pool is a range (192.168.2.240/29, .248/31, .250/32) and aggregationLength 24 is
    // shorter than its /29 ("invalid aggregation length"); ironlb announces the /24 with a warning.
    name: 'seed-000',
    ...seed000(24),
  },
  {
    // Seed 000 with the development advertisement's aggregationLength 29, which MetalLB accepts
    // for the range (its largest CIDR is .240/29): dev and dev-2 (.240, .241) are one 192.168.2.240/29.
    name: 'seed-000-aggregation-29',
    ...seed000(29),
  },
  {
    // Seed 000's per-node peers (node-N peers only with router-N) and its ECMP advertisement.
    name: 'seed-000-node-peers',
    routers: { r1: { asn: 64501, nodeAsn: 64500 }, r2: { asn: 64501, nodeAsn: 64500 }, r3: { asn: 64501, nodeAsn: 64500 } },
    config: pool('production-pool', ['192.168.1.240-192.168.1.250'], '  avoidBuggyIPs: true\n')
      + [1, 2, 3].map((i) => peerTo(`node-${i}-router`, 64500, 64501, `192.168.1.${i}`, `  nodeSelectors:\n  - matchLabels: {kubernetes.io/hostname: node-${i}}\n`)).join('')
      + adv('ecmp-advertisement', '  ipAddressPools: [production-pool]\n  aggregationLength: 32\n  localPref: 100\n'),
    services: [{ name: 'web' }, { name: 'local', etp: 'Local', endpoints: ['node-2', 'node-3'] }],
    steps: [],
  },
  {
    // Seed 001 (iBGP 64512): the peer on port 180 for nodes matching its two nodeSelectors terms;
    // the pool advertised twice, /32 with local-pref 100 and a community alias, /24 plain; an
    // advertisement limited to nodes by selector for a second pool; a community alias.
    name: 'seed-001',
    routers: { r1: { asn: 64512, port: 180 } },
    config: pool('first-pool', ['198.51.100.10/24'])
      + pool('second-pool', ['203.0.113.0/28'])
      + peerTo('example', 64512, 64512, '172.30.0.3', '  peerPort: 180\n  nodeSelectors:\n  - matchLabels: {rack: frontend}\n    matchExpressions:\n    - {key: network-speed, operator: NotIn, values: [slow]}\n  - matchExpressions:\n    - {key: kubernetes.io/hostname, operator: In, values: [node-2, node-3]}\n')
      + community('communities', [['vpn-only', '1234:1'], ['NO_ADVERTISE', '65535:65282']])
      + adv('local', '  ipAddressPools: [first-pool]\n  aggregationLength: 32\n  localPref: 100\n  communities: [vpn-only]\n')
      + adv('external', '  ipAddressPools: [first-pool]\n  aggregationLength: 24\n')
      + adv('example', '  ipAddressPools: [second-pool]\n  nodeSelectors:\n  - matchLabels: {kubernetes.io/hostname: node-1}\n  - matchLabels: {kubernetes.io/hostname: node-2}\n'),
    // Both pools auto-assign without priority: MetalLB picks one from a Go map (random), so each
    // Service names its pool.
    services: [{ name: 'first', annotations: { 'metallb.io/address-pool': 'first-pool' } }, { name: 'second', annotations: { 'metallb.io/address-pool': 'second-pool' } }],
    steps: [
      // A configuration change: the community of the /32 advertisement and its local-pref.
      { name: 'edit local', apply: adv('local', '  ipAddressPools: [first-pool]\n  aggregationLength: 32\n  localPref: 300\n  communities: [NO_ADVERTISE, "64512:7"]\n') },
    ],
  },
  {
    // externalTrafficPolicy and endpoints over iBGP to two routers: Cluster with endpoints on one
    // node (every node announces), Local (only nodes with a ready endpoint), Local without a ready
    // endpoint, Cluster with only not-ready endpoints; per-peer advertisements with MED-free
    // attributes (local-pref, communities); then a Service deletion and an
    // advertisement removed.
    name: 'etp-and-peers',
    routers: { r1: { asn: 64500 }, r2: { asn: 64500 } },
    config: pool('main', ['10.200.0.0/28'])
      + peerTo('to-r1', 64500, 64500, '192.168.1.1')
      + peerTo('to-r2', 64500, 64500, '192.168.1.2', '  nodeSelectors:\n  - matchExpressions:\n    - {key: rack, operator: In, values: [frontend]}\n')
      + adv('to-r1', '  ipAddressPools: [main]\n  peers: [to-r1]\n  localPref: 200\n  communities: ["64500:1", "64500:11"]\n')
      + adv('to-r2', '  ipAddressPools: [main]\n  peers: [to-r2]\n  communities: ["64500:2"]\n'),
    services: [
      { name: 'cluster', etp: 'Cluster', endpoints: ['node-3'] },
      { name: 'local', etp: 'Local', endpoints: ['node-2'] },
      { name: 'local-none', etp: 'Local', endpoints: [], notReady: ['node-1'] },
      { name: 'cluster-not-ready', etp: 'Cluster', endpoints: [], notReady: ['node-1', 'node-2'] },
    ],
    steps: [
      { name: 'delete cluster', deleteService: 'cluster' },
      { name: 'delete advertisement to-r2', deleteObject: 'bgpadvertisement/to-r2' },
    ],
  },
  {
    // IPv6 and dual stack: an IPv4 and an IPv6 session to r1 from every node; IPv4-only, IPv6-only
    // and dual-stack Services; the IPv6 pool aggregated to /124 for node-3 only. MetalLB's native
    // speaker refuses the whole configuration ("pool has ipv6 CIDR ..., native bgp mode does not
    // support ipv6"); ironlb announces both families.
    name: 'ipv6-dual-stack',
    routers: { r1: { asn: 64500 } },
    config: pool('both', ['10.201.0.0/29', '2001:db8:5::/124'])
      + peerTo('r1-v4', 64500, 64500, '192.168.1.1')
      + peerTo('r1-v6', 64500, 64500, '2001:db8:1::1')
      + adv('all', '  ipAddressPools: [both]\n  communities: ["64500:6"]\n')
      + adv('aggregated', '  ipAddressPools: [both]\n  aggregationLengthV6: 124\n  localPref: 120\n  nodeSelectors:\n  - matchLabels: {kubernetes.io/hostname: node-3}\n'),
    services: [
      { name: 'v4' },
      { name: 'v6', ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' },
      { name: 'dual', ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' },
    ],
    steps: [{ name: 'delete dual', deleteService: 'dual' }],
  },
  {
    // A large community: MetalLB's native speaker refuses the whole configuration ("native BGP mode
    // only supports legacy communities"), ironlb announces it.
    name: 'large-community',
    routers: { r1: { asn: 64500 } },
    config: pool('main', ['10.203.0.0/30'])
      + peerTo('r1', 64500, 64500, '192.168.1.1')
      + adv('large', '  ipAddressPools: [main]\n  communities: ["64500:1", "large:64500:1:2"]\n'),
    services: [{ name: 'a', endpoints: ['node-1'], etp: 'Local' }],
    steps: [],
  },
  {
    // keepaliveTime (seed 000 sets it): MetalLB's native speaker refuses the whole configuration
    // ("peer ... has keepalive-time set on native bgp mode"); ironlb uses it, as MetalLB's FRR mode does.
    name: 'keepalive-time',
    routers: { r1: { asn: 64500 } },
    config: pool('main', ['10.204.0.0/30'])
      + peerTo('r1', 64500, 64500, '192.168.1.1', '  holdTime: 90s\n  keepaliveTime: 30s\n')
      + adv('all', '  ipAddressPools: [main]\n'),
    services: [{ name: 'a', endpoints: ['node-2'], etp: 'Local' }],
    steps: [],
  },
  {
    // A peer edited and a peer added while Services are announced: the routes must end the same.
    name: 'peer-change',
    routers: { r1: { asn: 64500 }, r2: { asn: 64501, nodeAsn: 64500 } },
    config: pool('main', ['10.202.0.0/29'])
      + peerTo('r1', 64500, 64500, '192.168.1.1')
      + adv('all', '  ipAddressPools: [main]\n  localPref: 110\n  communities: ["64500:9"]\n'),
    services: [{ name: 'a' }, { name: 'b', etp: 'Local', endpoints: ['node-1'] }],
    steps: [
      { name: 'add eBGP peer r2', apply: peerTo('r2', 64500, 64501, '192.168.1.2') },
      { name: 'r1 limited to node-2', apply: peerTo('r1', 64500, 64500, '192.168.1.1', '  nodeSelectors:\n  - matchLabels: {kubernetes.io/hostname: node-2}\n') },
    ],
  },
];
