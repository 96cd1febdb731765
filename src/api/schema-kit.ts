// Small builders shared by the resource schemas, so that every limit is written once and reads
// like the CRD table in MetalLB's documentation.
import { Type } from 'typebox';
import type { TSchema } from 'typebox';
import Format from 'typebox/format';
import { parseGoDuration } from './duration.ts';

/** Our own format name for Go durations; the CRD generator writes it as Kubernetes' `duration`. */
export const goDurationFormat = 'go-duration';
if (!Format.Has(goDurationFormat)) Format.Set(goDurationFormat, (v) => parseGoDuration(v).error === undefined);

export const uint32Max = 4294967295;
/** How every message states the AS number range (RFC 6793: 4 octets; 0 is reserved, RFC 7607). */
export const asnRangeText = `an AS number from 1 to ${uint32Max}`;
export const int32Min = -2147483648;
export const int32Max = 2147483647;

export const Duration = (description?: string) =>
  Type.String({ format: goDurationFormat, ...(description ? { description } : {}) });

export const Int = (minimum: number, maximum: number, extra: { default?: number; description?: string } = {}) =>
  Type.Integer({ minimum, maximum, ...extra });

export const StringEnum = <const T extends string>(values: readonly T[], description?: string) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

export const StringMap = () => Type.Record(Type.String(), Type.String());

/** A Kubernetes object name: an RFC 1123 subdomain, as the API server requires. */
export const objectNamePattern = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export const ObjectMetaSchema = Type.Object(
  {
    name: Type.String({ pattern: objectNamePattern, maxLength: 253 }),
    namespace: Type.Optional(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 })),
    labels: Type.Optional(StringMap()),
    annotations: Type.Optional(StringMap()),
    uid: Type.Optional(Type.String()),
    resourceVersion: Type.Optional(Type.String()),
    generation: Type.Optional(Type.Integer()),
    // `creationTimestamp: null` (kubectl/converter output) is removed by the loader before checking.
    creationTimestamp: Type.Optional(Type.String()),
    deletionTimestamp: Type.Optional(Type.String()),
  },
  // ownerReferences, finalizers, managedFields, …: Kubernetes' own, not ours to police.
  { additionalProperties: Type.Unknown() },
);

/** A label selector whose matchExpressions carry `values` as given (the two versions differ there). */
function labelSelector<V extends TSchema>(values: V) {
  return Type.Object(
    {
      matchLabels: Type.Optional(StringMap()),
      matchExpressions: Type.Optional(
        Type.Array(
          Type.Object(
            { key: Type.String(), operator: StringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values },
            { additionalProperties: false },
          ),
        ),
      ),
    },
    { additionalProperties: false },
  );
}

/** metav1.LabelSelector (v1beta2 and every other kind). */
export const LabelSelectorSchema = labelSelector(Type.Optional(Type.Array(Type.String())));

/** The selector type BGPPeer v1beta1 used: `values` required with at least one item. */
export const LegacyLabelSelectorSchema = labelSelector(Type.Array(Type.String(), { minItems: 1 }));

/** A metallb.io object: unknown fields anywhere under it are errors (a structural CRD prunes them). */
export function MetalLBObject<const K extends string, const V extends string, S extends TSchema>(kind: K, apiVersion: V, spec: S) {
  return Type.Object(
    {
      apiVersion: Type.Literal(apiVersion),
      kind: Type.Literal(kind),
      metadata: ObjectMetaSchema,
      spec,
      // Accepted and dropped by the loader: status is written by controllers, it is not configuration.
      status: Type.Optional(Type.Unsafe<undefined>({ type: 'object' })),
    },
    { additionalProperties: false },
  );
}
