// Compile-time proof that what the schemas accept is what config/ expects (resources.ts): if a
// schema drifts from the contract, `tsc` fails here.
import type * as R from './resources.ts';
import type * as M from './schemas.ts';
import type * as C from './core-schemas.ts';

type Assert<T extends true> = T;
type Assignable<A, B> = [A] extends [B] ? true : false;

export type SchemaContract = [
  Assert<Assignable<M.IPAddressPoolValue, R.IPAddressPool>>,
  Assert<Assignable<M.BGPPeerV1beta2Value, R.BGPPeer>>,
  Assert<Assignable<M.BGPAdvertisementValue, R.BGPAdvertisement>>,
  Assert<Assignable<M.L2AdvertisementValue, R.L2Advertisement>>,
  Assert<Assignable<M.BFDProfileValue, R.BFDProfile>>,
  Assert<Assignable<M.CommunityValue, R.CommunityResource>>,
  Assert<Assignable<C.ServiceValue, R.Service>>,
  Assert<Assignable<C.NodeValue, R.Node>>,
  Assert<Assignable<C.NamespaceValue, R.Namespace>>,
  Assert<Assignable<C.EndpointSliceValue, R.EndpointSlice>>,
  Assert<Assignable<C.SecretValue, R.Secret>>,
];
