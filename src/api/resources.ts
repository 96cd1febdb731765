// The shapes of the objects ironlb reads, as a user writes them (JSON/YAML field names).
// These interfaces are the contract between api/ (parsing, schemas) and config/ (resolution):
// api/ schemas must produce values assignable to them.
import type { LabelSelector } from '../net/selector.ts';
import type { FRRConfigurationValue } from './frrk8s-schema.ts';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface TypedObject<K extends string, S> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

// ---- metallb.io ----

export interface ServiceAllocationSpec {
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
}

export interface IPAddressPoolSpec {
  addresses: string[];
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  serviceAllocation?: ServiceAllocationSpec;
}

export interface IPAddressPoolStatus {
  assignedIPv4: number;
  assignedIPv6: number;
  availableIPv4: number;
  availableIPv6: number;
}

export type IPAddressPool = TypedObject<'IPAddressPool', IPAddressPoolSpec> & { status?: IPAddressPoolStatus };

export interface SecretReference {
  name?: string;
  namespace?: string;
}

/** BGPPeer as stored (v1beta2). v1beta1 objects are converted to this shape by api/. */
export interface BGPPeerSpec {
  myASN: number;
  peerASN?: number;
  dynamicASN?: 'internal' | 'external';
  localASN?: number;
  peerAddress?: string;
  interface?: string;
  sourceAddress?: string;
  peerPort?: number;
  holdTime?: string;
  keepaliveTime?: string;
  connectTime?: string;
  routerID?: string;
  nodeSelectors?: LabelSelector[];
  password?: string;
  passwordSecret?: SecretReference;
  bfdProfile?: string;
  enableGracefulRestart?: boolean;
  ebgpMultiHop?: boolean;
  vrf?: string;
  disableMP?: boolean;
  dualStackAddressFamily?: boolean;
  /** ironlb extension: graceful restart with the restart time to advertise. */
  gracefulRestart?: { enabled?: boolean; restartTime?: string };
}

export type BGPPeer = TypedObject<'BGPPeer', BGPPeerSpec>;

export interface BGPAdvertisementSpec {
  aggregationLength?: number;
  aggregationLengthV6?: number;
  localPref?: number;
  communities?: string[];
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  nodeSelectors?: LabelSelector[];
  peers?: string[];
  serviceSelectors?: LabelSelector[];
  /** ironlb extension: AS-path prepend. `asn` defaults to the session's own ASN. */
  asPrepend?: { count: number; asn?: number };
  /** ironlb extension: MULTI_EXIT_DISC. */
  med?: number;
}

export type BGPAdvertisement = TypedObject<'BGPAdvertisement', BGPAdvertisementSpec>;

export interface PreferredNodeSelector {
  weight: number;
  preference: LabelSelector;
}

export interface L2AdvertisementSpec {
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  nodeSelectors?: LabelSelector[];
  interfaces?: string[];
  serviceSelectors?: LabelSelector[];
  preferredNodeSelectors?: PreferredNodeSelector[];
}

export type L2Advertisement = TypedObject<'L2Advertisement', L2AdvertisementSpec>;

export interface BFDProfileSpec {
  receiveInterval?: number;
  transmitInterval?: number;
  detectMultiplier?: number;
  echoInterval?: number;
  echoMode?: boolean;
  passiveMode?: boolean;
  minimumTtl?: number;
}

export type BFDProfile = TypedObject<'BFDProfile', BFDProfileSpec>;

export interface CommunitySpec {
  communities?: { name: string; value: string }[];
}

export type CommunityResource = TypedObject<'Community', CommunitySpec>;

// ---- core/v1 and discovery.k8s.io/v1 (only the fields ironlb reads) ----

export interface ServicePort {
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface ServiceSpec {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  ports?: ServicePort[];
  selector?: Record<string, string>;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: ('IPv4' | 'IPv6')[];
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  loadBalancerIP?: string;
  loadBalancerClass?: string;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: string;
}

export interface ServiceStatus {
  loadBalancer?: { ingress?: LoadBalancerIngress[] };
}

export type Service = TypedObject<'Service', ServiceSpec> & { status?: ServiceStatus };

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface NodeAddress {
  type: string;
  address: string;
}

export type Node = TypedObject<'Node', { podCIDR?: string; unschedulable?: boolean }> & {
  status?: { conditions?: NodeCondition[]; addresses?: NodeAddress[] };
};

export type Namespace = Omit<TypedObject<'Namespace', Record<string, never>>, 'spec'> & { spec?: Record<string, unknown> };

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  nodeName?: string;
  hostname?: string;
}

export interface EndpointSlice {
  apiVersion: string;
  kind: 'EndpointSlice';
  metadata: ObjectMeta;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: Endpoint[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

export interface Secret {
  apiVersion: string;
  kind: 'Secret';
  metadata: ObjectMeta;
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** The legacy ConfigMap (MetalLB <= 0.12): the `config` key holds this YAML. */
export interface LegacyConfig {
  peers?: Record<string, unknown>[];
  'bgp-communities'?: Record<string, string>;
  'address-pools'?: Record<string, unknown>[];
  'bfd-profiles'?: Record<string, unknown>[];
}

export type MetalLBResource = IPAddressPool | BGPPeer | BGPAdvertisement | L2Advertisement | BFDProfile | CommunityResource;
export type CoreResource = Service | Node | Namespace | EndpointSlice | Secret | FRRConfiguration;

/** frr-k8s's FRRConfiguration (frrk8s.metallb.io/v1beta1), as its CRD defines it. */
export type FRRConfiguration = FRRConfigurationValue;

/** Service label/annotation keys MetalLB defines (current prefix, then the legacy one). */
export const annotationPrefixes = ['metallb.io/', 'metallb.universe.tf/'] as const;
export const excludeFromLbLabel = 'node.kubernetes.io/exclude-from-external-load-balancers';
