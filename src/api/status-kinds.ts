// The status kinds ironlb writes in a cluster: MetalLB's own (ServiceBGPStatus, ServiceL2Status,
// ConfigurationState in metallb.io/v1beta1, with MetalLB's fields, labels and printer columns, so
// a MetalLB user's `kubectl get` and scripts keep working) and one of ironlb's: BGPSessionState in
// ironlb.io/v1alpha1, the live state of every BGP session on every node (MetalLB has this only
// through frr-k8s, as frrk8s.metallb.io BGPSessionState; ironlb keeps its fields and adds uptime,
// prefixes sent and the last error). None of these is configuration: the loader skips them.
import { stringify } from 'yaml';

type Json = Record<string, unknown>;

export const ironlbGroup = 'ironlb.io';

/** Labels MetalLB puts on its per-Service status objects; ironlb keeps them (and selects by them). */
export const statusLabels = {
  node: 'metallb.io/node',
  serviceName: 'metallb.io/service-name',
  serviceNamespace: 'metallb.io/service-namespace',
  peer: 'ironlb.io/peer',
  componentType: 'metallb.io/component-type',
  nodeName: 'metallb.io/node-name',
} as const;

export interface ServiceBGPStatus {
  apiVersion: 'metallb.io/v1beta1';
  kind: 'ServiceBGPStatus';
  metadata: { name?: string; generateName?: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
  spec?: Record<string, never>;
  status?: { node?: string; serviceName?: string; serviceNamespace?: string; peers?: string[] };
}

export interface BGPSessionStateStatus {
  node: string;
  /** The BGPPeer's name. */
  peer: string;
  /** Peer address (and port when not 179). */
  address: string;
  vrf: string;
  /** RFC 4271 state: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  bgpStatus: string;
  /** Up, Down, Init, AdminDown, or N/A without BFD (frr-k8s' values). */
  bfdStatus: string;
  /** When the session last reached Established (RFC 3339), while it is. */
  establishedSince?: string;
  prefixesSent: number;
  /** Sessions with an FRRConfiguration toReceive (issue #14): routes the peer sent, those the filter let in, those in the kernel. */
  prefixesReceived?: number;
  prefixesAccepted?: number;
  routesInstalled?: number;
  lastError?: string;
}

export interface BGPSessionState {
  apiVersion: 'ironlb.io/v1alpha1';
  kind: 'BGPSessionState';
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
  spec?: Record<string, never>;
  status?: BGPSessionStateStatus;
}

export type ConfigurationResult = 'Valid' | 'Invalid' | 'Unknown';

export interface ConfigurationStateStatus {
  result: ConfigurationResult;
  errorSummary: string;
  conditions: { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string; lastTransitionTime: string }[];
}

const immutable = [{ rule: 'self == oldSelf', message: 'Value is immutable' }];
const str = (description: string, extra: Json = {}): Json => ({ type: 'string', description, ...extra });
const meta: Json = {
  apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
  kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
  metadata: { type: 'object' },
};

/** What the two per-Service kinds share: their columns after the node's, and their status fields. */
const serviceColumns = [
  { name: 'Service Name', jsonPath: '.status.serviceName', type: 'string' },
  { name: 'Service Namespace', jsonPath: '.status.serviceNamespace', type: 'string' },
];
const serviceStatusFields: Json = {
  node: str('The node announcing the Service.', { 'x-kubernetes-validations': immutable }),
  serviceName: str('The Service this status is about.', { 'x-kubernetes-validations': immutable }),
  serviceNamespace: str('The namespace of the Service.', { 'x-kubernetes-validations': immutable }),
};

interface StatusCrd {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly description: string;
  readonly columns: { name: string; jsonPath: string; type: string }[];
  readonly spec: Json;
  readonly status: Json;
}

const statusCrds: readonly StatusCrd[] = [
  {
    group: 'metallb.io', version: 'v1beta1', kind: 'ServiceBGPStatus', plural: 'servicebgpstatuses',
    description: 'ServiceBGPStatus: the BGP peers a Service is configured to be announced to, per announcing node.',
    columns: [
      { name: 'Node', jsonPath: '.status.node', type: 'string' },
      ...serviceColumns,
    ],
    spec: { type: 'object' },
    status: {
      type: 'object',
      properties: {
        ...serviceStatusFields,
        peers: { type: 'array', items: { type: 'string' }, description: 'The BGPPeers the Service is announced to from this node.' },
      },
    },
  },
  {
    group: 'metallb.io', version: 'v1beta1', kind: 'ServiceL2Status', plural: 'servicel2statuses',
    description: 'ServiceL2Status: the node answering ARP/NDP for a Service, and on which interfaces.',
    columns: [
      { name: 'Allocated Node', jsonPath: '.status.node', type: 'string' },
      ...serviceColumns,
    ],
    spec: { type: 'object' },
    status: {
      type: 'object',
      properties: {
        ...serviceStatusFields,
        interfaces: {
          type: 'array', description: 'The interfaces the Service is announced on (when an interface selector applies).',
          items: { type: 'object', required: ['name'], properties: { name: str('Interface name.') } },
        },
      },
    },
  },
  {
    group: 'metallb.io', version: 'v1beta1', kind: 'ConfigurationState', plural: 'configurationstates',
    description: 'ConfigurationState: whether a component (the controller, each speaker) accepted the configuration, and why not.',
    columns: [
      { name: 'Result', jsonPath: '.status.result', type: 'string' },
      { name: 'ErrorSummary', jsonPath: '.status.errorSummary', type: 'string' },
      { name: 'Age', jsonPath: '.metadata.creationTimestamp', type: 'date' },
    ],
    spec: { type: 'object' },
    status: {
      type: 'object',
      properties: {
        result: str('Valid, Invalid or Unknown.', { enum: ['Valid', 'Invalid', 'Unknown'] }),
        errorSummary: str('The errors of the last configuration that was refused, joined.'),
        conditions: {
          type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'],
          items: {
            type: 'object', required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
            properties: {
              type: str('configReconcilerValid or poolReconcilerValid.'),
              status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
              reason: str('Reconciled, ConfigurationError, InfraError or UnknownError.'),
              message: str('Details.'),
              lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
            },
          },
        },
      },
    },
  },
  {
    group: ironlbGroup, version: 'v1alpha1', kind: 'BGPSessionState', plural: 'bgpsessionstates',
    description: 'BGPSessionState (ironlb): the live state of one BGP session of one node. Written by that node\'s speaker.',
    columns: [
      { name: 'Node', jsonPath: '.status.node', type: 'string' },
      { name: 'Peer', jsonPath: '.status.peer', type: 'string' },
      { name: 'VRF', jsonPath: '.status.vrf', type: 'string' },
      { name: 'BGP', jsonPath: '.status.bgpStatus', type: 'string' },
      { name: 'BFD', jsonPath: '.status.bfdStatus', type: 'string' },
      { name: 'Prefixes', jsonPath: '.status.prefixesSent', type: 'integer' },
      { name: 'Installed', jsonPath: '.status.routesInstalled', type: 'integer' },
      { name: 'Since', jsonPath: '.status.establishedSince', type: 'date' },
    ],
    spec: { type: 'object' },
    status: {
      type: 'object',
      properties: {
        node: str('The node the session runs on.'),
        peer: str('The BGPPeer.'),
        address: str('The peer address.'),
        vrf: str('The VRF, empty for the default one.'),
        bgpStatus: str('Idle, Connect, Active, OpenSent, OpenConfirm or Established.'),
        bfdStatus: str('Up, Down, Init, AdminDown, or N/A without BFD.'),
        establishedSince: str('When the session reached Established, while it is.', { format: 'date-time' }),
        prefixesSent: { type: 'integer', description: 'Prefixes announced on the session.' },
        prefixesReceived: { type: 'integer', description: 'Routes the peer sent (only on sessions with an FRRConfiguration toReceive).' },
        prefixesAccepted: { type: 'integer', description: 'Of those, the ones the toReceive filter lets in.' },
        routesInstalled: { type: 'integer', description: 'Prefixes whose route through this peer is in the node\'s kernel routing table.' },
        lastError: str('Why the session last went down.'),
      },
    },
  },
];

export interface GeneratedStatusCrd {
  readonly fileName: string;
  readonly crd: Json;
  readonly yaml: string;
}

/** The CRDs of the status kinds, as `ironlb crds` writes them to deploy/status-crds. */
export function generateStatusCrds(): GeneratedStatusCrd[] {
  return statusCrds.map((c) => {
    const crd: Json = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${c.plural}.${c.group}` },
      spec: {
        group: c.group,
        names: { kind: c.kind, listKind: `${c.kind}List`, plural: c.plural, singular: c.kind.toLowerCase() },
        scope: 'Namespaced',
        versions: [{
          additionalPrinterColumns: c.columns,
          name: c.version,
          schema: { openAPIV3Schema: { type: 'object', description: c.description, properties: { ...meta, spec: c.spec, status: c.status } } },
          served: true,
          storage: true,
          subresources: { status: {} },
        }],
      },
    };
    const yaml = '# Generated by `ironlb crds` from src/api/status-kinds.ts; do not edit.\n---\n' + stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false });
    return { fileName: `${c.group}_${c.plural}.yaml`, crd, yaml };
  });
}

/** The resource path pieces of a status kind. */
export const statusResources = {
  ServiceBGPStatus: { group: 'metallb.io', version: 'v1beta1', plural: 'servicebgpstatuses' },
  ServiceL2Status: { group: 'metallb.io', version: 'v1beta1', plural: 'servicel2statuses' },
  ConfigurationState: { group: 'metallb.io', version: 'v1beta1', plural: 'configurationstates' },
  BGPSessionState: { group: ironlbGroup, version: 'v1alpha1', plural: 'bgpsessionstates' },
} as const;
