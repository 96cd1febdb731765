// The lab's FRR routers: zebra (so routes reach the kernel FIB), bfdd and bgpd, iBGP with the
// three nodes, ECMP across them (`maximum-paths ibgp`), BFD at 100 ms x 3.
import { FrrInstance } from './frr.ts';

export const labAsn = 64500;
export const nodeAddresses = { node1: '10.0.0.11', node2: '10.0.0.12', node3: '10.0.0.13' } as const;
export type NodeName = keyof typeof nodeAddresses;
export const routerAddresses = { r1: '10.0.0.1', r2: '10.0.0.2' } as const;
export type RouterName = keyof typeof routerAddresses;

export function startRouter(name: RouterName, root: string): FrrInstance {
  const frr = new FrrInstance(name, root, `ilbl-${name}`);
  frr.start('zebra', `hostname ${name}\nlog file @DIR@/zebra.log\n`);
  frr.start('bfdd', `hostname ${name}
log file @DIR@/bfdd.log
log timestamp precision 6
debug bfd peer
bfd
 profile lab
  receive-interval 100
  transmit-interval 100
  detect-multiplier 3
 exit
exit
`);
  const neighbors = Object.values(nodeAddresses).map((a) => ` neighbor ${a} peer-group NODES\n`).join('');
  frr.start('bgpd', `frr defaults traditional
hostname ${name}
log file @DIR@/bgpd.log
log timestamp precision 6
router bgp ${labAsn}
 bgp router-id ${routerAddresses[name]}
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
 neighbor NODES peer-group
 neighbor NODES remote-as ${labAsn}
 neighbor NODES timers 3 9
 neighbor NODES timers connect 1
 neighbor NODES bfd profile lab
${neighbors} address-family ipv4 unicast
  maximum-paths ibgp 8
 exit-address-family
exit
`);
  return frr;
}
