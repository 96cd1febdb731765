// The core Kubernetes objects standalone mode reads from files. Only the fields ironlb reads are
// described (and checked); every other field Kubernetes defines is allowed and ignored.
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { Int, ObjectMetaSchema, StringEnum, StringMap } from './schema-kit.ts';

const open = { additionalProperties: Type.Unknown() } as const;

function CoreObject<const K extends string, P extends Parameters<typeof Type.Object>[0]>(kind: K, apiVersion: string, fields: P) {
  return Type.Object(
    { apiVersion: Type.Literal(apiVersion), kind: Type.Literal(kind), metadata: ObjectMetaSchema, ...fields },
    open,
  );
}

export const ServiceSchema = CoreObject('Service', 'v1', {
  spec: Type.Object(
    {
      type: Type.Optional(StringEnum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'])),
      ports: Type.Optional(
        Type.Array(
          Type.Object(
            {
              name: Type.Optional(Type.String()),
              protocol: Type.Optional(StringEnum(['TCP', 'UDP', 'SCTP'])),
              port: Int(1, 65535),
              targetPort: Type.Optional(Type.Union([Int(1, 65535), Type.String()])),
              nodePort: Type.Optional(Int(0, 65535)),
            },
            open,
          ),
        ),
      ),
      selector: Type.Optional(StringMap()),
      clusterIP: Type.Optional(Type.String()),
      clusterIPs: Type.Optional(Type.Array(Type.String())),
      ipFamilies: Type.Optional(Type.Array(StringEnum(['IPv4', 'IPv6']), { maxItems: 2 })),
      ipFamilyPolicy: Type.Optional(StringEnum(['SingleStack', 'PreferDualStack', 'RequireDualStack'])),
      loadBalancerIP: Type.Optional(Type.String()),
      loadBalancerClass: Type.Optional(Type.String()),
      externalTrafficPolicy: Type.Optional(StringEnum(['Cluster', 'Local'])),
      internalTrafficPolicy: Type.Optional(StringEnum(['Cluster', 'Local'])),
    },
    open,
  ),
  status: Type.Optional(
    Type.Object(
      {
        loadBalancer: Type.Optional(
          Type.Object(
            {
              ingress: Type.Optional(
                Type.Array(
                  Type.Object(
                    { ip: Type.Optional(Type.String()), hostname: Type.Optional(Type.String()), ipMode: Type.Optional(Type.String()) },
                    open,
                  ),
                ),
              ),
            },
            open,
          ),
        ),
      },
      open,
    ),
  ),
});

export const NodeSchema = CoreObject('Node', 'v1', {
  spec: Type.Object({ podCIDR: Type.Optional(Type.String()), unschedulable: Type.Optional(Type.Boolean()) }, open),
  status: Type.Optional(
    Type.Object(
      {
        conditions: Type.Optional(
          Type.Array(
            Type.Object(
              {
                type: Type.String(),
                status: StringEnum(['True', 'False', 'Unknown']),
                reason: Type.Optional(Type.String()),
                message: Type.Optional(Type.String()),
              },
              open,
            ),
          ),
        ),
        addresses: Type.Optional(Type.Array(Type.Object({ type: Type.String(), address: Type.String() }, open))),
      },
      open,
    ),
  ),
});

export const NamespaceSchema = CoreObject('Namespace', 'v1', {
  spec: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const EndpointSliceSchema = CoreObject('EndpointSlice', 'discovery.k8s.io/v1', {
  addressType: StringEnum(['IPv4', 'IPv6', 'FQDN']),
  endpoints: Type.Optional(
    Type.Array(
      Type.Object(
        {
          addresses: Type.Array(Type.String(), { minItems: 1 }),
          conditions: Type.Optional(
            Type.Object(
              { ready: Type.Optional(Type.Boolean()), serving: Type.Optional(Type.Boolean()), terminating: Type.Optional(Type.Boolean()) },
              open,
            ),
          ),
          nodeName: Type.Optional(Type.String()),
          hostname: Type.Optional(Type.String()),
        },
        open,
      ),
    ),
  ),
  ports: Type.Optional(
    Type.Array(
      Type.Object(
        { name: Type.Optional(Type.String()), port: Type.Optional(Int(1, 65535)), protocol: Type.Optional(Type.String()) },
        open,
      ),
    ),
  ),
});

export const SecretSchema = CoreObject('Secret', 'v1', {
  type: Type.Optional(Type.String()),
  data: Type.Optional(StringMap()),
  stringData: Type.Optional(StringMap()),
});

/** A ConfigMap: only the legacy MetalLB one (`data.config`) means anything to ironlb. */
export const ConfigMapSchema = CoreObject('ConfigMap', 'v1', {
  data: Type.Optional(StringMap()),
});

export type ServiceValue = Static<typeof ServiceSchema>;
export type NodeValue = Static<typeof NodeSchema>;
export type NamespaceValue = Static<typeof NamespaceSchema>;
export type EndpointSliceValue = Static<typeof EndpointSliceSchema>;
export type SecretValue = Static<typeof SecretSchema>;
