// frr-k8s's FRRConfiguration (frrk8s.metallb.io/v1beta1) as a TypeBox schema: the same fields,
// limits and defaults as frr-k8s's CRD (api/v1beta1/frrconfiguration_types.go), so an object the
// API server accepts loads here too. Fields ironlb's own speaker cannot honour (raw FRR text, EVPN,
// VRF imports, a forced next hop, the EVPN address family) are part of the schema on purpose:
// config/frrk8s-configurations.ts refuses them by name instead of calling them unknown.
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { Duration, Int, LabelSelectorSchema, ObjectMetaSchema, StringEnum, uint32Max } from './schema-kit.ts';

const closed = { additionalProperties: false } as const;
const Mode = () => Type.Optional(StringEnum(['all', 'filtered'], 'all: every prefix (of the router, or received); filtered: the list only.'));

const PrefixSelectorSchema = Type.Object(
  {
    prefix: Type.Optional(Type.String({ description: 'A CIDR.' })),
    le: Type.Optional(Int(1, 128, { description: 'Also match longer prefixes inside it, up to this length.' })),
    ge: Type.Optional(Int(1, 128, { description: 'Match only prefixes inside it at least this long.' })),
  },
  closed,
);

const NeighborSchema = Type.Object(
  {
    asn: Type.Optional(Int(0, uint32Max, { description: 'The peer\'s AS number (or dynamicASN).' })),
    dynamicASN: Type.Optional(StringEnum(['internal', 'external'])),
    sourceaddress: Type.Optional(Type.String({ description: 'Local address of the session.' })),
    address: Type.Optional(Type.String({ description: 'Address of the peer (or interface).' })),
    interface: Type.Optional(Type.String({ description: 'Interface for unnumbered BGP (or address).' })),
    port: Type.Optional(Int(0, 16384, { description: 'Port to dial (179).' })),
    password: Type.Optional(Type.String()),
    passwordSecret: Type.Optional(Type.Object({ name: Type.Optional(Type.String()), namespace: Type.Optional(Type.String()) }, closed)),
    holdTime: Type.Optional(Duration()),
    keepaliveTime: Type.Optional(Duration()),
    connectTime: Type.Optional(Duration()),
    ebgpMultiHop: Type.Optional(Type.Boolean()),
    bfdProfile: Type.Optional(Type.String({ description: 'A name from spec.bgp.bfdProfiles of the same object.' })),
    enableGracefulRestart: Type.Optional(Type.Boolean()),
    toAdvertise: Type.Optional(
      Type.Object(
        {
          allowed: Type.Optional(Type.Object({ prefixes: Type.Optional(Type.Array(Type.String())), mode: Mode() }, closed)),
          nextHop: Type.Optional(Type.Object({ ipv4: Type.Optional(Type.String()), ipv6: Type.Optional(Type.String()) }, closed)),
          withLocalPref: Type.Optional(Type.Array(Type.Object(
            { prefixes: Type.Optional(Type.Array(Type.String(), { minItems: 1 })), localPref: Type.Optional(Int(0, uint32Max)) },
            closed,
          ))),
          withCommunity: Type.Optional(Type.Array(Type.Object(
            { prefixes: Type.Optional(Type.Array(Type.String(), { minItems: 1 })), community: Type.Optional(Type.String()) },
            closed,
          ))),
        },
        closed,
      ),
    ),
    toReceive: Type.Optional(
      Type.Object(
        { allowed: Type.Optional(Type.Object({ prefixes: Type.Optional(Type.Array(PrefixSelectorSchema)), mode: Mode() }, closed)) },
        closed,
      ),
    ),
    disableMP: Type.Optional(Type.Boolean({ default: false, description: 'Deprecated, has no effect.' })),
    dualStackAddressFamily: Type.Optional(Type.Boolean({ default: false })),
    localASN: Type.Optional(Int(1, uint32Max)),
    addressFamilies: Type.Optional(Type.Array(StringEnum(['unicast', 'evpn']), { maxItems: 2 })),
  },
  closed,
);

const RouterSchema = Type.Object(
  {
    asn: Int(0, uint32Max, { description: 'The local AS number.' }),
    id: Type.Optional(Type.String({ description: 'BGP router ID.' })),
    vrf: Type.Optional(Type.String()),
    neighbors: Type.Optional(Type.Array(NeighborSchema)),
    prefixes: Type.Optional(Type.Array(Type.String(), { description: 'Prefixes this router may advertise.' })),
    imports: Type.Optional(Type.Array(Type.Object({ vrf: Type.Optional(Type.String()) }, closed))),
    // EVPN is a whole sub-API ironlb does not speak; its inner shape is frr-k8s's to check.
    evpn: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object' })),
  },
  closed,
);

const FrrBfdProfileSchema = Type.Object(
  {
    name: Type.String(),
    receiveInterval: Type.Optional(Int(10, 60000)),
    transmitInterval: Type.Optional(Int(10, 60000)),
    detectMultiplier: Type.Optional(Int(2, 255)),
    echoInterval: Type.Optional(Int(10, 60000)),
    echoMode: Type.Optional(Type.Boolean()),
    passiveMode: Type.Optional(Type.Boolean()),
    minimumTtl: Type.Optional(Int(1, 254)),
  },
  closed,
);

export const FRRConfigurationSpecSchema = Type.Object(
  {
    bgp: Type.Optional(Type.Object(
      { routers: Type.Optional(Type.Array(RouterSchema, { maxItems: 50 })), bfdProfiles: Type.Optional(Type.Array(FrrBfdProfileSchema)) },
      closed,
    )),
    raw: Type.Optional(Type.Object({ priority: Type.Optional(Type.Integer()), rawConfig: Type.Optional(Type.String()) }, closed)),
    nodeSelector: Type.Optional(LabelSelectorSchema),
  },
  closed,
);

export const FRRConfigurationSchema = Type.Object(
  {
    apiVersion: Type.Literal('frrk8s.metallb.io/v1beta1'),
    kind: Type.Literal('FRRConfiguration'),
    metadata: ObjectMetaSchema,
    spec: FRRConfigurationSpecSchema,
    // frr-k8s's status is empty; a cluster's object may carry `status: {}`.
    status: Type.Optional(Type.Unsafe<undefined>({ type: 'object' })),
  },
  closed,
);

export type FRRConfigurationValue = Static<typeof FRRConfigurationSchema>;
export type FrrNeighborValue = Static<typeof NeighborSchema>;
export type FrrRouterValue = Static<typeof RouterSchema>;
