// The metallb.io kinds as TypeBox schemas: every field, default and limit of MetalLB's CRDs
// (reference metallb.md §1), plus ironlb's extensions. One source for validation (loader) and for
// the CRD manifests (crds.ts). Rules MetalLB writes in CEL live in crd-rules.ts.
import { Type } from 'typebox';
import type { Static } from 'typebox';
import {
  Duration, Int, LabelSelectorSchema, LegacyLabelSelectorSchema, MetalLBObject, StringEnum, int32Max, int32Min, uint32Max,
} from './schema-kit.ts';

const Selectors = (description: string) => Type.Optional(Type.Array(LabelSelectorSchema, { description }));
const Names = (description: string) => Type.Optional(Type.Array(Type.String(), { description }));

// ---- IPAddressPool (v1beta1) ----

export const IPAddressPoolSpecSchema = Type.Object(
  {
    addresses: Type.Array(Type.String(), {
      description: 'CIDRs (192.168.1.0/24, fc00::/64) or ranges (192.168.1.10-192.168.1.20) to allocate from.',
    }),
    autoAssign: Type.Optional(Type.Boolean({ default: true, description: 'Use this pool for automatic allocation.' })),
    avoidBuggyIPs: Type.Optional(Type.Boolean({ default: false, description: 'Skip IPv4 addresses ending in .0 and .255.' })),
    serviceAllocation: Type.Optional(
      Type.Object(
        {
          priority: Type.Optional(Int(int32Min, int32Max, { description: 'Lower is tried first; 0 means no priority.' })),
          namespaces: Names('Namespaces whose services this pool serves.'),
          namespaceSelectors: Selectors('Namespaces (by label) whose services this pool serves.'),
          serviceSelectors: Selectors('Services (by label) this pool serves.'),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export const IPAddressPoolSchema = MetalLBObject('IPAddressPool', 'metallb.io/v1beta1', IPAddressPoolSpecSchema);

// ---- BGPPeer v1beta2 (storage) ----

export const BGPPeerV1beta2SpecSchema = Type.Object(
  {
    myASN: Int(0, uint32Max, { description: 'AS number of the local end of the session.' }),
    peerASN: Type.Optional(Int(0, uint32Max, { description: 'AS number expected from the peer (or dynamicASN).' })),
    dynamicASN: Type.Optional(StringEnum(['internal', 'external'], 'Accept any peer ASN that is internal / external.')),
    localASN: Type.Optional(Int(1, uint32Max, { description: 'ASN to present to the peer instead of myASN.' })),
    peerAddress: Type.Optional(Type.String({ description: 'Address to dial (or interface).' })),
    interface: Type.Optional(Type.String({ description: 'Interface for unnumbered BGP (or peerAddress).' })),
    sourceAddress: Type.Optional(Type.String({ description: 'Local address of the session.' })),
    peerPort: Type.Optional(Int(1, 16384, { default: 179, description: 'Port to dial.' })),
    holdTime: Type.Optional(Duration('Requested BGP hold time (RFC 4271).')),
    keepaliveTime: Type.Optional(Duration('Requested BGP keepalive time (RFC 4271).')),
    connectTime: Type.Optional(Duration('Time between connection attempts: 1s..65535s, whole seconds.')),
    routerID: Type.Optional(Type.String({ description: 'BGP identifier to advertise.' })),
    nodeSelectors: Selectors('Only peer from nodes matching one of these.'),
    password: Type.Optional(Type.String({ description: 'TCP MD5 password (or passwordSecret).' })),
    passwordSecret: Type.Optional(
      Type.Object(
        { name: Type.Optional(Type.String()), namespace: Type.Optional(Type.String()) },
        { additionalProperties: false, description: 'A kubernetes.io/basic-auth Secret with key "password".' },
      ),
    ),
    bfdProfile: Type.Optional(Type.String({ description: 'Name of the BFDProfile for this session.' })),
    enableGracefulRestart: Type.Optional(Type.Boolean({ description: 'Negotiate BGP graceful restart (RFC 4724).' })),
    ebgpMultiHop: Type.Optional(Type.Boolean({ description: 'The eBGP peer is more than one hop away.' })),
    vrf: Type.Optional(Type.String({ description: 'Linux VRF to peer from.' })),
    disableMP: Type.Optional(Type.Boolean({ default: false, description: 'Deprecated, has no effect.' })),
    dualStackAddressFamily: Type.Optional(Type.Boolean({ default: false, description: 'Carry IPv4 and IPv6 on this session.' })),
    // ironlb extension.
    gracefulRestart: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ description: 'Same as enableGracefulRestart.' })),
          restartTime: Type.Optional(Duration('Restart time to advertise: 1s..4095s, whole seconds.')),
        },
        { additionalProperties: false, description: 'ironlb extension: graceful restart with its restart time.' },
      ),
    ),
  },
  { additionalProperties: false },
);
export const BGPPeerV1beta2Schema = MetalLBObject('BGPPeer', 'metallb.io/v1beta2', BGPPeerV1beta2SpecSchema);

// ---- BGPPeer v1beta1 (deprecated; converted to v1beta2 by bgppeer-conversion.ts) ----

export const BGPPeerV1beta1SpecSchema = Type.Object(
  {
    myASN: Int(0, uint32Max),
    peerASN: Int(0, uint32Max),
    peerAddress: Type.String(),
    sourceAddress: Type.Optional(Type.String()),
    peerPort: Type.Optional(Int(0, 16384)),
    holdTime: Type.Optional(Duration()),
    keepaliveTime: Type.Optional(Duration()),
    routerID: Type.Optional(Type.String()),
    nodeSelectors: Type.Optional(Type.Array(LegacyLabelSelectorSchema)),
    password: Type.Optional(Type.String()),
    bfdProfile: Type.Optional(Type.String()),
    ebgpMultiHop: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const BGPPeerV1beta1Schema = MetalLBObject('BGPPeer', 'metallb.io/v1beta1', BGPPeerV1beta1SpecSchema);

// ---- BGPAdvertisement (v1beta1) ----

export const BGPAdvertisementSpecSchema = Type.Object(
  {
    aggregationLength: Type.Optional(Int(1, int32Max, { default: 32, description: 'Prefix length IPv4 service IPs are rolled up to.' })),
    aggregationLengthV6: Type.Optional(Int(int32Min, int32Max, { default: 128, description: 'Prefix length IPv6 service IPs are rolled up to.' })),
    localPref: Type.Optional(Int(0, uint32Max, { description: 'LOCAL_PREF (sent to iBGP peers only).' })),
    communities: Names('Communities: AS:VAL, large:GA:LD1:LD2, or a Community alias name.'),
    ipAddressPools: Names('Pools (by name) whose IPs this advertises.'),
    ipAddressPoolSelectors: Selectors('Pools (by label) whose IPs this advertises.'),
    nodeSelectors: Selectors('Nodes that announce (next hops).'),
    peers: Names('BGPPeer names to announce to (default: all).'),
    serviceSelectors: Selectors('Services (by label) this advertises.'),
    // ironlb extensions.
    asPrepend: Type.Optional(
      Type.Object(
        {
          count: Int(1, 10, { description: 'How many times to prepend.' }),
          asn: Type.Optional(Int(1, uint32Max, { description: 'ASN to prepend (default: the session’s own).' })),
        },
        { additionalProperties: false, description: 'ironlb extension: AS-path prepend.' },
      ),
    ),
    med: Type.Optional(Int(0, uint32Max, { description: 'ironlb extension: MULTI_EXIT_DISC.' })),
  },
  { additionalProperties: false },
);
export const BGPAdvertisementSchema = MetalLBObject('BGPAdvertisement', 'metallb.io/v1beta1', BGPAdvertisementSpecSchema);

// ---- L2Advertisement (v1beta1) ----

export const L2AdvertisementSpecSchema = Type.Object(
  {
    ipAddressPools: Names('Pools (by name) whose IPs this advertises.'),
    ipAddressPoolSelectors: Selectors('Pools (by label) whose IPs this advertises.'),
    nodeSelectors: Selectors('Nodes that may answer for the IPs.'),
    interfaces: Names('Interfaces to answer on (exact names).'),
    serviceSelectors: Selectors('Services (by label) this advertises.'),
    preferredNodeSelectors: Type.Optional(
      Type.Array(
        Type.Object(
          { weight: Int(1, 100), preference: LabelSelectorSchema },
          { additionalProperties: false },
        ),
        { description: 'Weighted soft preference among eligible nodes.' },
      ),
    ),
  },
  { additionalProperties: false },
);
export const L2AdvertisementSchema = MetalLBObject('L2Advertisement', 'metallb.io/v1beta1', L2AdvertisementSpecSchema);

// ---- BFDProfile (v1beta1) ----

export const BFDProfileSpecSchema = Type.Object(
  {
    receiveInterval: Type.Optional(Int(10, 60000, { description: 'Minimum receive interval, ms.' })),
    transmitInterval: Type.Optional(Int(10, 60000, { description: 'Minimum transmit interval, ms.' })),
    detectMultiplier: Type.Optional(Int(2, 255, { description: 'Missed packets before the session is down.' })),
    echoInterval: Type.Optional(Int(10, 60000, { description: 'Echo interval, ms.' })),
    echoMode: Type.Optional(Type.Boolean({ description: 'Echo function (single hop, IPv4 only).' })),
    passiveMode: Type.Optional(Type.Boolean({ description: 'Wait for the peer to start the session.' })),
    minimumTtl: Type.Optional(Int(1, 254, { description: 'Minimum incoming TTL (multi-hop).' })),
  },
  { additionalProperties: false },
);
export const BFDProfileSchema = MetalLBObject('BFDProfile', 'metallb.io/v1beta1', BFDProfileSpecSchema);

// ---- Community (v1beta1) ----

export const CommunitySpecSchema = Type.Object(
  {
    communities: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ description: 'Alias usable in BGPAdvertisement.communities.' }),
            value: Type.String({ description: 'AS:VAL or large:GA:LD1:LD2.' }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export const CommunitySchema = MetalLBObject('Community', 'metallb.io/v1beta1', CommunitySpecSchema);

export type IPAddressPoolValue = Static<typeof IPAddressPoolSchema>;
export type BGPPeerV1beta2Value = Static<typeof BGPPeerV1beta2Schema>;
export type BGPPeerV1beta1Value = Static<typeof BGPPeerV1beta1Schema>;
export type BGPAdvertisementValue = Static<typeof BGPAdvertisementSchema>;
export type L2AdvertisementValue = Static<typeof L2AdvertisementSchema>;
export type BFDProfileValue = Static<typeof BFDProfileSchema>;
export type CommunityValue = Static<typeof CommunitySchema>;
