// The BGPPeer conversion webhook: metallb.io/v1beta1 ↔ v1beta2 as MetalLB converts them. Up is
// api/'s conversion (`ironlb convert` and the loader use the same); down keeps the fields
// v1beta1 has and drops the others (v1beta1 cannot hold them: reading a v1beta2 peer as v1beta1
// is lossy, as in MetalLB). Metadata and status pass through unchanged, as the API server requires.
import { convertBGPPeerV1beta1 } from '../api/bgppeer-conversion.ts';
import type { BGPPeerV1beta1Value } from '../api/schemas.ts';

type Json = Record<string, unknown>;

export interface ConversionRequest {
  readonly uid: string;
  readonly desiredAPIVersion: string;
  readonly objects: readonly Json[];
}

export interface ConversionResponse {
  readonly uid: string;
  readonly result: { status: 'Success' | 'Failure'; message?: string };
  readonly convertedObjects: Json[];
}

const v1beta1Fields = ['myASN', 'peerASN', 'peerAddress', 'sourceAddress', 'peerPort', 'holdTime', 'keepaliveTime', 'routerID', 'nodeSelectors', 'password', 'bfdProfile', 'ebgpMultiHop'];

export function convertBGPPeer(obj: Json, to: string): Json {
  const from = obj.apiVersion;
  if (from === to) return obj;
  const status = obj.status !== undefined ? { status: obj.status } : {};
  if (from === 'metallb.io/v1beta1' && to === 'metallb.io/v1beta2') {
    const { peer } = convertBGPPeerV1beta1(obj as unknown as BGPPeerV1beta1Value);
    return { ...(peer as unknown as Json), metadata: obj.metadata, ...status };
  }
  if (from === 'metallb.io/v1beta2' && to === 'metallb.io/v1beta1') {
    const spec = (obj.spec ?? {}) as Json;
    const down: Json = {};
    for (const f of v1beta1Fields) if (spec[f] !== undefined) down[f] = structuredClone(spec[f]);
    return { apiVersion: to, kind: 'BGPPeer', metadata: obj.metadata, spec: down, ...status };
  }
  throw new Error(`cannot convert BGPPeer from ${String(from)} to ${to}`);
}

export function convertReview(req: ConversionRequest): ConversionResponse {
  try {
    return { uid: req.uid, result: { status: 'Success' }, convertedObjects: req.objects.map((o) => convertBGPPeer(o, req.desiredAPIVersion)) };
  } catch (e) {
    return { uid: req.uid, result: { status: 'Failure', message: (e as Error).message }, convertedObjects: [] };
  }
}
