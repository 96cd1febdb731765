// The layer-2 scenarios of the differential suite (issue #13): MetalLB's speakers and ironlb's, each
// in turn, on the three nodes of bgp-world.ts with no liveness gossip (MetalLB without memberlist
// counts every Node as eligible, ironlb without --ml-secret-key-path too); the client asks who
// answers ARP (IPv4) and NDP (IPv6) for each Service IP. Addresses are on the nodes' segment
// (eth0), but for `interfaces`, which also asks on the second segment (eth1, bgp-world.ts).
import type { BgpService } from './bgp-scenarios.ts';
import { l2Adv as l2adv, pool } from './metallb-yaml.ts';

export interface L2Scenario {
  name: string;
  config: string;
  services: BgpService[];
  /** Steps as in the BGP scenarios: YAML applied, an object or a Service deleted. */
  steps: { name: string; apply?: string; deleteObject?: string; deleteService?: string }[];
  /** Also ask from the client on the second segment (the nodes' eth1): keys "<service> <ip> @lan2". */
  lan2?: boolean;
}

const inPool = (name: string, pool: string, v6 = false) => ({
  name, annotations: { 'metallb.io/address-pool': pool },
  ...(v6 ? { ipFamilies: ['IPv6' as const], ipFamilyPolicy: 'SingleStack' as const } : {}),
});

export const l2Scenarios: L2Scenario[] = [
  {
    // Eight Cluster Services: the owner of each IP is MetalLB's election over every node; two Local
    // Services choose among the nodes with a ready endpoint; a Local one with none is not answered.
    name: 'election',
    config: pool('lan', ['192.168.1.200-192.168.1.215']) + l2adv('all', '  ipAddressPools: [lan]\n'),
    services: [
      ...Array.from({ length: 8 }, (_, i) => ({ name: `c${i}` })),
      { name: 'local-23', etp: 'Local', endpoints: ['node-2', 'node-3'] },
      { name: 'local-1', etp: 'Local', endpoints: ['node-1'] },
      { name: 'local-none', etp: 'Local', endpoints: [], notReady: ['node-2'] },
    ],
    steps: [{ name: 'delete c0', deleteService: 'c0' }],
  },
  {
    // An L2Advertisement limited by nodeSelectors (node-1 and node-3), then widened; IPv6 (NDP).
    name: 'node-selectors-ipv6',
    config: pool('lan', ['192.168.1.220-192.168.1.227', '2001:db8:1::200/125'])
      + l2adv('some', '  ipAddressPools: [lan]\n  nodeSelectors:\n  - matchLabels: {kubernetes.io/hostname: node-1}\n  - matchLabels: {rack: backend}\n'),
    services: [
      ...Array.from({ length: 4 }, (_, i) => ({ name: `v4-${i}` })),
      ...Array.from({ length: 4 }, (_, i) => ({ name: `v6-${i}`, ipFamilies: ['IPv6' as const], ipFamilyPolicy: 'SingleStack' as const })),
    ],
    steps: [{ name: 'every node', apply: l2adv('some', '  ipAddressPools: [lan]\n') }],
  },
  {
    // An L2Advertisement naming an interface no node has: the elected owner says so on the Service
    // (Warning announceFailed, per IP, beside nodeAssigned) and nobody answers; then the
    // advertisement without interfaces: every usable interface, the same owners answer.
    name: 'missing-interface',
    config: pool('lan', ['192.168.1.230-192.168.1.233']) + l2adv('nic', '  ipAddressPools: [lan]\n  interfaces: [nope0]\n'),
    services: [{ name: 'm0' }, { name: 'm1' }],
    steps: [{ name: 'any interface', apply: l2adv('nic', '  ipAddressPools: [lan]\n') }],
  },
  {
    // Nodes with two interfaces on two segments, asked on both: an advertisement naming eth0, one
    // naming eth1 (its addresses from the second segment's subnet), one naming none (every
    // interface: the owner answers on both segments, MetalLB's "answers on every interface that
    // hears the request"); then the eth1 advertisement edited to name eth0.
    name: 'interfaces',
    lan2: true,
    config: pool('first', ['192.168.1.240-192.168.1.241']) + l2adv('first', '  ipAddressPools: [first]\n  interfaces: [eth0]\n')
      + pool('second', ['192.168.50.200-192.168.50.201', '2001:db8:50::200/127']) + l2adv('second', '  ipAddressPools: [second]\n  interfaces: [eth1]\n')
      + pool('every', ['192.168.1.244-192.168.1.245', '2001:db8:1::244/127']) + l2adv('every', '  ipAddressPools: [every]\n'),
    services: [
      inPool('first-0', 'first'), inPool('second-0', 'second'), inPool('second-v6', 'second', true),
      inPool('every-0', 'every'), inPool('every-v6', 'every', true),
    ],
    steps: [{ name: 'second names eth0', apply: l2adv('second', '  ipAddressPools: [second]\n  interfaces: [eth0]\n') }],
  },
];
