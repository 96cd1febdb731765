// Worlds for `--bgp-backend frr-k8s`: MetalLB's configuration (namespace `NS`), one Node and
// Services with their IPs and endpoints. frrk8s-emit.test.ts (cluster) runs MetalLB's speaker with
// METALLB_BGP_TYPE=frr-k8s and ironlb's speaker with --bgp-backend frr-k8s on each and compares the
// FRRConfiguration both write; src/speaker/frrk8s-emit-golden.test.ts checks ironlb's against
// the spec MetalLB wrote, kept in golden/frrk8s/<name>.json.
import { loadText } from '../../src/api/load.ts';
import type { LoadedObject } from '../../src/api/loaded.ts';
import { bfdProfile, bgpAdv, community, peer, peerTo, pool } from './metallb-yaml.ts';

export interface FrrScenarioService {
  readonly name: string;
  readonly ips: readonly string[];
  /** externalTrafficPolicy Local (default Cluster). */
  readonly local?: boolean;
  /** Nodes with a ready endpoint (default: the scenario's node); [] for none. */
  readonly endpointsOn?: readonly string[];
}

export interface FrrScenario {
  readonly name: string;
  readonly what: string;
  readonly node: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  /** metallb.io objects (and Secrets) in namespace NS. */
  readonly config: string;
  readonly services: readonly FrrScenarioService[];
}

export const frrScenarios: readonly FrrScenario[] = [
  {
    name: 'communities-localpref',
    what: 'one iBGP peer; localPref, a community alias, standard and large communities, a second advertisement aggregating to /31; prefixes sorted as text; a Local Service without local endpoint left out',
    node: { name: 'frr-a' },
    config: pool('p', ['192.0.2.0/24'])
      + community('aliases', [['no-export', '65535:65281']])
      + bgpAdv('lp', '  ipAddressPools: [p]\n  localPref: 150\n  communities: [no-export, "64500:7", "large:64500:1:2"]\n')
      + bgpAdv('plain', '  ipAddressPools: [p]\n  aggregationLength: 31\n  communities: ["64500:8"]\n')
      + peer('tor', '{myASN: 64500, peerASN: 64500, peerAddress: 10.0.0.1}'),
    services: [
      { name: 'web', ips: ['192.0.2.10'] },
      { name: 'db', ips: ['192.0.2.2'] },
      { name: 'api', ips: ['192.0.2.100'] },
      { name: 'local-elsewhere', ips: ['192.0.2.20'], local: true, endpointsOn: ['frr-other'] },
    ],
  },
  {
    name: 'session-settings',
    what: 'eBGP peers: hold time alone (keepalive a third), both timers, connectTime, ebgpMultiHop, graceful restart, BFD profiles (written fields only), an inline password, a port, a source address',
    node: { name: 'frr-b' },
    config: pool('p', ['198.51.100.0/28'])
      + bgpAdv('all', '{ipAddressPools: [p]}')
      + bfdProfile('fast', '{receiveInterval: 100, transmitInterval: 150, detectMultiplier: 4}')
      + bfdProfile('defaults')
      + bfdProfile('multihop', '{minimumTtl: 10, passiveMode: true, echoInterval: 60}')
      + peer('r1', '{myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.1, holdTime: 90s, connectTime: 10s, bfdProfile: fast, enableGracefulRestart: true, password: s3cret}')
      + peer('r2', '{myASN: 64500, peerASN: 64502, peerAddress: 10.0.1.1, sourceAddress: 10.0.1.2, peerPort: 1179, holdTime: 30s, keepaliveTime: 5s, ebgpMultiHop: true, bfdProfile: multihop}'),
    services: [{ name: 'web', ips: ['198.51.100.1'] }, { name: 'web2', ips: ['198.51.100.9'] }],
  },
  {
    name: 'dual-stack',
    what: 'an IPv4, an IPv6 and a dualStackAddressFamily peer; aggregation lengths; an advertisement for one peer only',
    node: { name: 'frr-c' },
    config: pool('p', ['192.0.2.0/24', '2001:db8:1::/64'])
      + bgpAdv('aggregated', '{ipAddressPools: [p], aggregationLength: 28, aggregationLengthV6: 120}')
      + bgpAdv('to-v4-only', '{ipAddressPools: [p], peers: [v4], communities: ["64500:4"]}')
      + peer('v4', '{myASN: 64500, peerASN: 64510, peerAddress: 10.0.0.4}')
      + peer('v6', '{myASN: 64500, peerASN: 64510, peerAddress: "fd00::6"}')
      + peer('both', '{myASN: 64500, peerASN: 64511, peerAddress: 10.0.0.5, dualStackAddressFamily: true}'),
    services: [
      { name: 'dual', ips: ['192.0.2.33', '2001:db8:1::33'] },
      { name: 'v6', ips: ['2001:db8:1::1'] },
    ],
  },
  {
    name: 'vrf-routerid',
    what: 'a router ID; peers in the default VRF and in VRF red (two routers); dynamicASN; an unnumbered peer',
    node: { name: 'frr-d' },
    config: pool('p', ['203.0.113.0/24'])
      + bgpAdv('all', '{ipAddressPools: [p]}')
      + peer('default-vrf', '{myASN: 64500, dynamicASN: external, peerAddress: 10.0.0.1, routerID: 10.10.10.10}')
      + peer('red', '{myASN: 64600, peerASN: 64601, peerAddress: 10.0.0.1, vrf: red, routerID: 10.10.10.10}')
      + peer('unnumbered', '{myASN: 64500, peerASN: 7, interface: eth1, routerID: 10.10.10.10}'),
    services: [{ name: 'web', ips: ['203.0.113.5'] }],
  },
  {
    name: 'secret-selectors',
    what: 'a passwordSecret (passed as a reference); a peer and an advertisement whose nodeSelectors leave the node out',
    node: { name: 'frr-e', labels: { rack: 'r1' } },
    config: pool('p', ['192.0.2.0/24'])
      + 'apiVersion: v1\nkind: Secret\nmetadata: {name: bgp-auth, namespace: NS}\ntype: kubernetes.io/basic-auth\nstringData: {password: from-secret}\n---\n'
      + bgpAdv('rack1', '  ipAddressPools: [p]\n  nodeSelectors: [{matchLabels: {rack: r1}}]\n')
      + bgpAdv('rack2', '  ipAddressPools: [p]\n  aggregationLength: 24\n  nodeSelectors: [{matchLabels: {rack: r2}}]\n')
      + peer('secured', '{myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.1, passwordSecret: {name: bgp-auth}}')
      + peerTo('other-rack', 64500, 64501, '10.0.0.2', '  nodeSelectors: [{matchLabels: {rack: r2}}]\n'),
    services: [{ name: 'web', ips: ['192.0.2.7'] }],
  },
  {
    name: 'bfd-only',
    what: 'no BGPPeer, one BFD profile: an object with no router, the profile only',
    node: { name: 'frr-f' },
    config: pool('p', ['192.0.2.0/24']) + bfdProfile('only', '{receiveInterval: 200}'),
    services: [{ name: 'web', ips: ['192.0.2.8'] }],
  },
];

/** The scenario as the objects of a folder: configuration in `namespace`, Services in `default`. */
export function scenarioObjects(s: FrrScenario, namespace = 'metallb-system'): LoadedObject[] {
  const docs: string[] = [
    s.config.replaceAll('namespace: NS', `namespace: ${namespace}`),
    `apiVersion: v1\nkind: Node\nmetadata: {name: ${s.node.name}, labels: ${JSON.stringify({ 'kubernetes.io/hostname': s.node.name, ...s.node.labels })}}\n`,
  ];
  for (const svc of s.services) {
    docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: ${svc.name}, namespace: default}\n` +
      `spec: {type: LoadBalancer, externalTrafficPolicy: ${svc.local ? 'Local' : 'Cluster'}, ports: [{port: 80}]}\n` +
      `status: {loadBalancer: {ingress: [${svc.ips.map((ip) => `{ip: "${ip}"}`).join(', ')}]}}\n`);
    const on = svc.endpointsOn ?? [s.node.name];
    if (on.length === 0) continue;
    docs.push(`apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ${svc.name}-1, namespace: default, labels: {kubernetes.io/service-name: ${svc.name}}}\n` +
      `addressType: IPv4\nendpoints: [${on.map((n, i) => `{addresses: [10.244.0.${i + 1}], nodeName: ${n}, conditions: {ready: true}}`).join(', ')}]\n`);
  }
  const loaded = loadText(docs.join('---\n'), `${s.name}.yaml`);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`scenario ${s.name}: ${JSON.stringify(errors)}`);
  return loaded.objects;
}
