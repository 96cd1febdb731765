// The API resources ironlb reads and writes, and which role reads which: least privilege starts
// here (deploy/ RBAC grants exactly these).
export interface ApiResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  /** Lives in the MetalLB namespace (listed there, not cluster-wide). */
  readonly inNamespace: boolean;
}

const r = (group: string, version: string, plural: string, kind: string, inNamespace: boolean): ApiResource => ({ group, version, plural, kind, inNamespace });

export const services = r('', 'v1', 'services', 'Service', false);
export const endpointSlices = r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', false);
export const nodes = r('', 'v1', 'nodes', 'Node', false);
export const namespaces = r('', 'v1', 'namespaces', 'Namespace', false);
export const secrets = r('', 'v1', 'secrets', 'Secret', true);
export const events = r('', 'v1', 'events', 'Event', false);
export const leases = r('coordination.k8s.io', 'v1', 'leases', 'Lease', true);

/** The metallb.io configuration kinds, at the version ironlb reads (BGPPeer: the storage version). */
export const metallbConfig: readonly ApiResource[] = [
  r('metallb.io', 'v1beta1', 'ipaddresspools', 'IPAddressPool', true),
  r('metallb.io', 'v1beta2', 'bgppeers', 'BGPPeer', true),
  r('metallb.io', 'v1beta1', 'bgpadvertisements', 'BGPAdvertisement', true),
  r('metallb.io', 'v1beta1', 'l2advertisements', 'L2Advertisement', true),
  r('metallb.io', 'v1beta1', 'bfdprofiles', 'BFDProfile', true),
  r('metallb.io', 'v1beta1', 'communities', 'Community', true),
];
export const ipAddressPools = metallbConfig[0]!;

/**
 * frr-k8s's FRRConfiguration (issue #14), merged by the speaker. Read where frr-k8s reads it: its
 * own namespace only (--frrk8s-namespace, as MetalLB's flag; default the MetalLB namespace, where
 * MetalLB's chart deploys frr-k8s). The CRD is frr-k8s's: a cluster without it has none.
 */
export const frrConfigurations = r('frrk8s.metallb.io', 'v1beta1', 'frrconfigurations', 'FRRConfiguration', true);

export type Role = 'controller' | 'speaker';

/**
 * What each role watches. The controller needs no Nodes or EndpointSlices (it only allocates);
 * the speaker needs both. Secrets: only basic-auth ones in the MetalLB namespace (BGP passwords),
 * and only those a BGPPeer references reach the configuration.
 */
export function watchedBy(role: Role): readonly ApiResource[] {
  return role === 'controller'
    ? [...metallbConfig, services, namespaces, secrets]
    : [...metallbConfig, services, endpointSlices, nodes, namespaces, secrets, frrConfigurations];
}
