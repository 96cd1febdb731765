// The layer-2 scenarios of the differential suite (issue #13): MetalLB's speakers and ironlb's, each
// in turn, on the three nodes of bgp-world.ts with no liveness gossip (MetalLB without memberlist
// counts every Node as eligible, ironlb without --ml-secret-key-path too); the client asks who
// answers ARP (IPv4) and NDP (IPv6) for each Service IP. Addresses are on the nodes' segment.
import type { BgpService } from './bgp-scenarios.ts';
import { l2Adv as l2adv, pool } from './metallb-yaml.ts';

export interface L2Scenario {
  name: string;
  config: string;
  services: BgpService[];
  /** Steps as in the BGP scenarios: YAML applied, an object or a Service deleted. */
  steps: { name: string; apply?: string; deleteObject?: string; deleteService?: string }[];
}

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
];
