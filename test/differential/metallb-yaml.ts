// YAML of metallb.io objects for the differential scenarios and webhook cases: one document each,
// in namespace `NS` (the scenario's, replaced when applied), ending with a separator so that a
// configuration is their concatenation.
const versions = {
  IPAddressPool: 'v1beta1', BGPPeer: 'v1beta2', BGPAdvertisement: 'v1beta1', L2Advertisement: 'v1beta1', Community: 'v1beta1', BFDProfile: 'v1beta1',
} as const;

/** `spec`: a YAML flow mapping (`{a: 1}`) or indented block lines (`  a: 1\n`); none: no spec. */
export function metallbObject(kind: keyof typeof versions, name: string, spec?: string): string {
  const body = spec === undefined ? '' : spec.startsWith('{') ? `spec: ${spec}\n` : `spec:\n${spec}`;
  return `apiVersion: metallb.io/${versions[kind]}\nkind: ${kind}\nmetadata: {name: ${name}, namespace: NS}\n${body}---\n`;
}

/** An IPAddressPool; `extra`: more spec lines. */
export const pool = (name: string, addresses: string[], extra = ''): string =>
  metallbObject('IPAddressPool', name, `  addresses: [${addresses.map((a) => JSON.stringify(a)).join(', ')}]\n${extra}`);
export const peer = (name: string, spec: string): string => metallbObject('BGPPeer', name, spec);
/** A BGPPeer from `myASN` to `peerASN` at `address` (the usual three fields), with more spec lines. */
export const peerTo = (name: string, myASN: number, peerASN: number, address: string, extra = ''): string =>
  peer(name, `  myASN: ${myASN}\n  peerASN: ${peerASN}\n  peerAddress: ${JSON.stringify(address)}\n${extra}`);
export const bgpAdv = (name: string, spec: string): string => metallbObject('BGPAdvertisement', name, spec);
export const l2Adv = (name: string, spec: string): string => metallbObject('L2Advertisement', name, spec);
export const bfdProfile = (name: string, spec?: string): string => metallbObject('BFDProfile', name, spec);
/** A Community of aliases: [name, value] pairs. */
export const community = (name: string, aliases: [string, string][]): string =>
  metallbObject('Community', name, `  communities:\n${aliases.map(([n, v]) => `  - {name: ${n}, value: ${JSON.stringify(v)}}\n`).join('')}`);
