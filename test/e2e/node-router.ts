// The set-up the frr-k8s end-to-end tests share: a node namespace and a router namespace joined by
// one veth (eth0 on both; the node is .2 and the router .1 of a /24), and FRR bgpd in the router's,
// without zebra (-Z: what it learns stays in BGP), peering with the node. Named `<prefix>-node` and
// `<prefix>-rtr`, files in a temp folder `<prefix>-*`; an interrupted run's leftovers are removed
// first, and `remove()` keeps everything for a look when <PREFIX>_KEEP=1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FrrInstance } from './frr.ts';
import { addNs, deleteNamespaces, link } from './netns.ts';

export interface NodeAndRouter {
  /** The temp folder (FRR instances go in subfolders of it). */
  readonly root: string;
  readonly nodeNs: string;
  readonly rtrNs: string;
  readonly nodeIp: string;
  readonly routerIp: string;
  readonly router: FrrInstance;
  /** Stops the router, deletes both namespaces (ending what runs inside) and the folder. */
  remove(): void;
}

export interface NodeAndRouterOptions {
  prefix: string;
  /** The first three octets of the link's /24, e.g. '10.214.0'. */
  subnet: string;
  asn: number;
  nodeAsn: number;
  /** Lines inside `router bgp` after the neighbour's, e.g. an `address-family` block. */
  extra?: string;
}

export function startNodeAndRouter(o: NodeAndRouterOptions): NodeAndRouter {
  const nodeNs = `${o.prefix}-node`;
  const rtrNs = `${o.prefix}-rtr`;
  const nodeIp = `${o.subnet}.2`;
  const routerIp = `${o.subnet}.1`;
  deleteNamespaces([nodeNs, rtrNs]);
  const root = mkdtempSync(path.join(tmpdir(), `${o.prefix}-`));
  const keep = `${o.prefix.toUpperCase()}_KEEP`;
  let router: FrrInstance | undefined;
  const remove = (): void => {
    router?.stop();
    if (process.env[keep] === '1') { console.log(`kept ${root}, ${nodeNs} and ${rtrNs} (${keep}=1)`); return; }
    deleteNamespaces([nodeNs, rtrNs]);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    addNs(nodeNs);
    addNs(rtrNs);
    link({ ns: nodeNs, name: 'eth0', addr: `${nodeIp}/24` }, { ns: rtrNs, name: 'eth0', addr: `${routerIp}/24` });
    router = new FrrInstance('rtr', root, rtrNs);
    router.start('bgpd', `frr defaults traditional
hostname ${rtrNs}
log file @DIR@/bgpd.log
router bgp ${o.asn}
 bgp router-id ${routerIp}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor ${nodeIp} remote-as ${o.nodeAsn}
 neighbor ${nodeIp} timers 3 9
${o.extra ?? ''}exit
`, ['-Z']);
    return { root, nodeNs, rtrNs, nodeIp, routerIp, router, remove };
  } catch (e) {
    remove();
    throw e;
  }
}
