// BGPPeer v1beta1 → v1beta2, the way MetalLB's conversion webhook does it
// (api/v1beta1/bgppeer_conversion.go, reference metallb.md §1.2): the shared fields are copied;
// v1beta1's timers are non-pointer durations, so an absent holdTime/keepaliveTime becomes an
// explicit `0s` ("timers 0 0"), not "use the backend's defaults".
import type { BGPPeerV1beta1Value, BGPPeerV1beta2Value } from './schemas.ts';

export function convertBGPPeerV1beta1(old: BGPPeerV1beta1Value): { peer: BGPPeerV1beta2Value; notes: string[] } {
  const s = old.spec;
  const notes: string[] = [];
  const spec: BGPPeerV1beta2Value['spec'] = {
    myASN: s.myASN,
    peerASN: s.peerASN,
    peerAddress: s.peerAddress,
    holdTime: s.holdTime ?? '0s',
    keepaliveTime: s.keepaliveTime ?? '0s',
  };
  if (s.holdTime === undefined) notes.push('holdTime is unset, so it becomes 0s');
  if (s.keepaliveTime === undefined) notes.push('keepaliveTime is unset, so it becomes 0s');
  if (s.sourceAddress !== undefined) spec.sourceAddress = s.sourceAddress;
  // v1beta1 allowed port 0, meaning "the default"; v1beta2 requires 1..16384 and defaults to 179.
  if (s.peerPort !== undefined && s.peerPort !== 0) spec.peerPort = s.peerPort;
  if (s.routerID !== undefined) spec.routerID = s.routerID;
  if (s.nodeSelectors !== undefined) spec.nodeSelectors = structuredClone(s.nodeSelectors);
  if (s.password !== undefined) spec.password = s.password;
  if (s.bfdProfile !== undefined) spec.bfdProfile = s.bfdProfile;
  if (s.ebgpMultiHop !== undefined) spec.ebgpMultiHop = s.ebgpMultiHop;
  return {
    peer: { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: structuredClone(old.metadata), spec },
    notes,
  };
}
