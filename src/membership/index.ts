// Speaker liveness without the Kubernetes API: SWIM gossip over authenticated UDP.
export { decode, deriveKey, encode } from './codec.ts';
export type { Message, Update } from './codec.ts';
export { Swim } from './swim.ts';
export type { Member, MemberState, SwimOptions, Transport } from './swim.ts';
export { defaultMemberPort, joinHostPort, openUdpTransport, splitHostPort } from './udp.ts';
