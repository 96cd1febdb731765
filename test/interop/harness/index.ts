// The interop harness: real FRR, BIRD, GoBGP and ExaBGP on loopback, each queried in its own RIB.
export * from './common.ts';
export { FrrDaemon } from './frr.ts';
export { BirdDaemon, birdProtocolName, parseBirdRoutes } from './bird.ts';
export { GobgpDaemon } from './gobgp.ts';
export { ExabgpDaemon } from './exabgp.ts';
