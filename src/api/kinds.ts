// Which (apiVersion, kind) pairs ironlb reads, with the schema each is checked against and the
// names its CRD uses.
import type { TSchema } from 'typebox';
import {
  BFDProfileSchema, BGPAdvertisementSchema, BGPPeerV1beta1Schema, BGPPeerV1beta2Schema, CommunitySchema,
  IPAddressPoolSchema, L2AdvertisementSchema,
} from './schemas.ts';
import { FRRConfigurationSchema } from './frrk8s-schema.ts';
import { ConfigMapSchema, EndpointSliceSchema, NamespaceSchema, NodeSchema, SecretSchema, ServiceSchema } from './core-schemas.ts';

export interface KindVersion {
  readonly apiVersion: string;
  readonly kind: string;
  readonly schema: TSchema;
  /** metallb.io kinds: unknown fields are errors and a CRD is generated. */
  readonly metallb: boolean;
  readonly deprecated?: string;
}

export const metallbGroup = 'metallb.io';

export const kindVersions: readonly KindVersion[] = [
  { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', schema: IPAddressPoolSchema, metallb: true },
  { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', schema: BGPPeerV1beta2Schema, metallb: true },
  {
    apiVersion: 'metallb.io/v1beta1', kind: 'BGPPeer', schema: BGPPeerV1beta1Schema, metallb: true,
    deprecated: 'v1beta1 is deprecated, please use v1beta2',
  },
  { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', schema: BGPAdvertisementSchema, metallb: true },
  { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', schema: L2AdvertisementSchema, metallb: true },
  { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', schema: BFDProfileSchema, metallb: true },
  { apiVersion: 'metallb.io/v1beta1', kind: 'Community', schema: CommunitySchema, metallb: true },
  { apiVersion: 'v1', kind: 'Service', schema: ServiceSchema, metallb: false },
  { apiVersion: 'v1', kind: 'Node', schema: NodeSchema, metallb: false },
  { apiVersion: 'v1', kind: 'Namespace', schema: NamespaceSchema, metallb: false },
  { apiVersion: 'v1', kind: 'Secret', schema: SecretSchema, metallb: false },
  { apiVersion: 'v1', kind: 'ConfigMap', schema: ConfigMapSchema, metallb: false },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', schema: EndpointSliceSchema, metallb: false },
  // frr-k8s's kind, read as frr-k8s reads it (its CRD, not ours: no CRD is generated for it).
  { apiVersion: 'frrk8s.metallb.io/v1beta1', kind: 'FRRConfiguration', schema: FRRConfigurationSchema, metallb: false },
];

/** Kinds that are recognised but carry no configuration for ironlb: read, warned about, skipped. */
export const ignoredKinds: readonly { readonly group: string; readonly kinds?: readonly string[]; readonly why: string }[] = [
  {
    group: 'frrk8s.metallb.io', kinds: ['BGPSessionState', 'FRRNodeState', 'FRRK8sConfiguration'],
    why: 'is frr-k8s\'s own state or daemon setting, not BGP configuration',
  },
  {
    group: 'metallb.io', kinds: ['ServiceL2Status', 'ServiceBGPStatus', 'ConfigurationState'],
    why: 'is status written by MetalLB/ironlb, not configuration',
  },
];

/** The CRD names of each metallb.io kind. */
export const crdNames: Readonly<Record<string, { plural: string; singular: string; printerColumns?: { name: string; jsonPath: string; type: string }[] }>> = {
  IPAddressPool: {
    plural: 'ipaddresspools', singular: 'ipaddresspool',
    printerColumns: [
      { name: 'Auto Assign', jsonPath: '.spec.autoAssign', type: 'boolean' },
      { name: 'Avoid Buggy IPs', jsonPath: '.spec.avoidBuggyIPs', type: 'boolean' },
      { name: 'Addresses', jsonPath: '.spec.addresses', type: 'string' },
    ],
  },
  BGPPeer: {
    plural: 'bgppeers', singular: 'bgppeer',
    printerColumns: [
      { name: 'Address', jsonPath: '.spec.peerAddress', type: 'string' },
      { name: 'ASN', jsonPath: '.spec.peerASN', type: 'string' },
      { name: 'BFD Profile', jsonPath: '.spec.bfdProfile', type: 'string' },
      { name: 'Multi Hops', jsonPath: '.spec.ebgpMultiHop', type: 'string' },
    ],
  },
  BGPAdvertisement: {
    plural: 'bgpadvertisements', singular: 'bgpadvertisement',
    printerColumns: [
      { name: 'IPAddressPools', jsonPath: '.spec.ipAddressPools', type: 'string' },
      { name: 'IPAddressPool Selectors', jsonPath: '.spec.ipAddressPoolSelectors', type: 'string' },
      { name: 'Peers', jsonPath: '.spec.peers', type: 'string' },
      { name: 'Node Selectors', jsonPath: '.spec.nodeSelectors', type: 'string' },
    ],
  },
  L2Advertisement: {
    plural: 'l2advertisements', singular: 'l2advertisement',
    printerColumns: [
      { name: 'IPAddressPools', jsonPath: '.spec.ipAddressPools', type: 'string' },
      { name: 'IPAddressPool Selectors', jsonPath: '.spec.ipAddressPoolSelectors', type: 'string' },
      { name: 'Interfaces', jsonPath: '.spec.interfaces', type: 'string' },
      { name: 'Node Selectors', jsonPath: '.spec.nodeSelectors', type: 'string' },
    ],
  },
  BFDProfile: {
    plural: 'bfdprofiles', singular: 'bfdprofile',
    printerColumns: [
      { name: 'Passive Mode', jsonPath: '.spec.passiveMode', type: 'boolean' },
      { name: 'Transmit Interval', jsonPath: '.spec.transmitInterval', type: 'integer' },
      { name: 'Receive Interval', jsonPath: '.spec.receiveInterval', type: 'integer' },
      { name: 'Multiplier', jsonPath: '.spec.detectMultiplier', type: 'integer' },
    ],
  },
  Community: { plural: 'communities', singular: 'community' },
};

export function supportedKindsText(): string {
  const byGroup = new Map<string, string[]>();
  for (const k of kindVersions) {
    const g = k.apiVersion.includes('/') ? k.apiVersion.slice(0, k.apiVersion.lastIndexOf('/')) : 'core';
    const list = byGroup.get(g) ?? [];
    if (!list.includes(k.kind)) list.push(k.kind);
    byGroup.set(g, list);
  }
  return [...byGroup].map(([g, ks]) => `${ks.join(', ')} (${g === 'core' ? 'v1' : g})`).join('; ') + '; List';
}
