// The interop harness: real FRR, BIRD, GoBGP, ExaBGP and OpenBGPD on loopback, each queried in its own RIB.
export * from './common.ts';
export { FrrDaemon } from './frr.ts';
export { BirdDaemon, birdProtocolName, parseBirdRoutes } from './bird.ts';
export { GobgpDaemon } from './gobgp.ts';
export { ExabgpDaemon } from './exabgp.ts';
export { OpenbgpdDaemon } from './openbgpd.ts';
