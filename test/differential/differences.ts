// What ironlb's controller does differently from MetalLB's in the scenarios of scenarios.ts, each
// with its reason. controller.test.ts asserts that this list is exactly what it sees, so a fixed
// difference or a new one fails the test until this list (and the README) says so.
export interface Difference {
  /** The line differences() prints. */
  line: string;
  why: string;
}

const sharingWhy = 'ironlb keeps MetalLB\'s AllocationFailed text and appends why the address cannot be shared ' +
  '(MetalLB says "can\'t change sharing key" even when neither Service has a key); a grep for MetalLB\'s text still matches';

/** MetalLB's sharing refusal, and ironlb's: the same text with the reason after it. */
function sharingRefusal(scenario: string, svc: string, holders: string, reason: string): Difference[] {
  const metallb = `Warning AllocationFailed: Failed to allocate IP for "NS/${svc}": can't change sharing key for "NS/${svc}", address also in use by ${holders}`;
  return [
    { line: `${scenario}/${svc} event only from metallb: ${metallb}`, why: sharingWhy },
    { line: `${scenario}/${svc} event only from ironlb: ${metallb}: ${reason}`, why: sharingWhy },
  ];
}

const keyRule = 'Services share an address only with the same non-empty allow-shared-ip key';

export const controllerDifferences: Difference[] = [
  ...sharingRefusal('dual-stack', 'v6-requested', 'NS/prefer',
    '"2001:db8::3" is in use and neither Service has an allow-shared-ip key (both need the same one to share it)'),
  ...sharingRefusal('etp-local-sharing', 'requested-mismatch', 'NS/local-http,NS/local-https',
    '"192.0.2.0" is held under the same allow-shared-ip key by Services with externalTrafficPolicy Local and another pod selector ("app=web" vs "app=api"); sharing Services must send traffic to the same pods'),
  ...sharingRefusal('requested', 'taken', 'NS/by-annotation',
    '"192.0.2.5" is in use and neither Service has an allow-shared-ip key (both need the same one to share it)'),
  ...sharingRefusal('sharing', 'key-clash', 'NS/http,NS/https',
    `"192.0.2.0" is held with allow-shared-ip "k" and this Service has allow-shared-ip "other"; ${keyRule}`),
  ...sharingRefusal('sharing', 'no-key', 'NS/http,NS/https',
    `"192.0.2.0" is held with allow-shared-ip "k" and this Service has no allow-shared-ip key; ${keyRule}`),
];

/**
 * Why a line of bgpDifferences() differs: MetalLB refused the configuration (no route, no speaker
 * Event), or sent LOCAL_PREF 0. Where MetalLB accepts it, the speakers' Events are the same.
 */
export type BgpDifferenceKind = 'refused' | 'local-pref-0';

/**
 * What the FRR routers see differently with ironlb's speakers than with MetalLB's (native BGP) in the
 * scenarios of bgp-scenarios.ts, per scenario and kind, with how many lines of bgpDifferences() each
 * accounts for. test/e2e/differential-bgp.test.ts classifies every line it sees (bgpDifferenceKind)
 * and asserts these counts exactly: a new difference, a fixed one or a changed count fails it.
 */
export interface BgpDifference { scenario: string; kind: BgpDifferenceKind; lines: number; why: string }

/** `metallb absent|[]`: MetalLB announced nothing there; LOCAL_PREF 0 where ironlb sent 100, all else equal. */
export function bgpDifferenceKind(line: string): BgpDifferenceKind | undefined {
  const m = /: metallb (.*) ironlb (.*)$/.exec(line);
  if (!m) return undefined;
  if (m[1] === 'absent' || m[1] === '[]') return 'refused';
  if (m[1] === m[2]!.replaceAll(' lp 100 ', ' lp 0 ')) return 'local-pref-0';
  return undefined;
}

const localPrefWhy = 'an iBGP advertisement without localPref: MetalLB\'s native speaker sends LOCAL_PREF 0 (the Go zero value), ' +
  'which ranks the route below every path with the usual default; ironlb sends 100, the default of RFC 4271 implementations and ' +
  'what MetalLB in FRR mode (FRR) sends for the same configuration';
const refusedWhy = (what: string) => `MetalLB's native speaker refuses the whole configuration (ConfigurationState Invalid, no session at all, ` +
  `and no nodeAssigned Event: one line per Service in "speaker events"): ${what}`;

export const bgpDifferences: BgpDifference[] = [
  { scenario: 'etp-and-peers', kind: 'local-pref-0', lines: 3, why: localPrefWhy },
  { scenario: 'seed-001', kind: 'local-pref-0', lines: 4, why: localPrefWhy },
  {
    scenario: 'seed-000', kind: 'refused', lines: 35,
    why: refusedWhy('"invalid aggregation length 24: prefix 29 in this pool is more specific than the aggregation length" for the ' +
      'range 192.168.2.240-192.168.2.250; ironlb announces 192.168.2.0/24 and warns that the aggregate covers addresses outside the pool'),
  },
  { scenario: 'keepalive-time', kind: 'refused', lines: 3, why: refusedWhy('"peer has keepalive-time set on native bgp mode"; ironlb uses it, as MetalLB in FRR mode does') },
  { scenario: 'large-community', kind: 'refused', lines: 3, why: refusedWhy('"native BGP mode only supports legacy communities"; ironlb sends large communities (RFC 8092), as MetalLB in FRR mode does') },
  { scenario: 'ipv6-dual-stack', kind: 'refused', lines: 13, why: refusedWhy('"pool has ipv6 CIDR, native bgp mode does not support ipv6"; ironlb announces IPv6 over IPv6 sessions (MP-BGP), as MetalLB in FRR mode does') },
];

/**
 * Why a line of l2Differences() (l2-observe.ts) differs. Who answers ARP/NDP, on which segment, and
 * the speakers' Events on each Service are the same with both (MetalLB's NDP answers, sent from the
 * node's link-local address, were once missed: the lab's client was ndisc6, which drops those;
 * ndp-ask.py takes them as a host's kernel does). The ServiceL2Status objects differ in one field:
 * - `status-interfaces`: an advertisement naming no interface; MetalLB's object has `interfaces`
 *   empty, ironlb's names the interfaces that answer (here eth0 and eth1).
 */
export type L2DifferenceKind = 'status-interfaces';

/** `status <svc>: metallb ["<node> []"] ironlb ["<node> [<interfaces>]"]`: the same owner, MetalLB's list empty. */
export function l2DifferenceKind(line: string): L2DifferenceKind | undefined {
  return /^\S+ @.* status \S+: metallb \["(\S+) \[\]"\] ironlb \["\1 \[[^\]]+\]"\]$/.test(line) ? 'status-interfaces' : undefined;
}

/** Per scenario and kind, how many lines of l2Differences(); differential-l2.test.ts asserts these counts exactly. */
export interface L2Difference { scenario: string; kind: L2DifferenceKind; lines: number; why: string }

const statusInterfacesWhy = 'ServiceL2Status.status.interfaces: MetalLB leaves it empty when the L2Advertisement names no interface ' +
  '(its IPAdvertisement is "all interfaces"); ironlb lists the interfaces that answer (the field\'s documented meaning, "the interfaces that ' +
  'receive the directed traffic"; `ironlb explain` and `ironlb status` read it back). Where an advertisement names interfaces both list ' +
  'those, and neither writes an object for an owner with none of them (ironlb did until 2026-12-03)';

/** One line per Service owner per step where the advertisement names no interface (the nodes have two). */
export const l2Differences: L2Difference[] = [
  { scenario: 'election', kind: 'status-interfaces', lines: 19, why: statusInterfacesWhy },
  { scenario: 'node-selectors-ipv6', kind: 'status-interfaces', lines: 16, why: statusInterfacesWhy },
  { scenario: 'missing-interface', kind: 'status-interfaces', lines: 2, why: statusInterfacesWhy },
  { scenario: 'interfaces', kind: 'status-interfaces', lines: 4, why: statusInterfacesWhy },
];

/**
 * How ironlb's webhook answers a case of webhook-cases.ts differently from MetalLB's: both refuse
 * with other words, or only one refuses. webhook.test.ts asserts the list below is exactly what it sees.
 */
export type WebhookDifferenceKind = 'wording' | 'only MetalLB refuses' | 'only ironlb refuses' | 'converted otherwise';

export function webhookDifferenceKind(metallb: string, ironlb: string): WebhookDifferenceKind {
  const refused = (x: string) => x.startsWith('refused: ');
  const read = (x: string) => x.startsWith('metallb.io/');
  if (read(metallb) && read(ironlb)) return 'converted otherwise';
  return refused(metallb) && refused(ironlb) ? 'wording' : refused(metallb) ? 'only MetalLB refuses' : 'only ironlb refuses';
}

export interface WebhookDifference { case: string; kind: WebhookDifferenceKind; why: string }

const wordingWhy = 'both refuse the object; ironlb\'s message names the object (Kind/namespace/name), the field and what is allowed, ' +
  'where MetalLB\'s names the parser step (the README\'s rule for every error users see)';
const wording = (c: string, extra = ''): WebhookDifference => ({ case: c, kind: 'wording', why: wordingWhy + extra });
const conversionWhy = 'the same peer, other text: ironlb\'s BGPPeer conversion writes the fields the object holds with their values as written ' +
  '(holdTime 90s), MetalLB\'s prints Go\'s forms: durations re-printed (1m30s: a manifest applied as v1beta1 does not read back as applied), ' +
  'zero values of unset fields (holdTime/keepaliveTime 0s in the v1beta1 view, passwordSecret: {} in the v1beta2 one). Written back through ' +
  'v1beta1 both give the same v1beta2 object (an unset timer becomes 0s in both, src/api/bgppeer-conversion.ts)'

export const webhookDifferences: WebhookDifference[] = [
  wording('pool overlapping another'),
  wording('pool with a bad address'),
  wording('pool with a reversed range'),
  wording('pool edited onto itself overlapping'),
  wording('pool outside the namespace'),
  wording('peer with hold time 1s', ' (MetalLB prints the Go value: "&Duration{Duration:1s,}")'),
  wording('peer with keepalive above hold time', '; MetalLB (native BGP) refuses any keepaliveTime ("has keepalive-time set on native bgp mode"), ' +
    'ironlb uses keepaliveTime and refuses it only above the hold time (as MetalLB in FRR mode)'),
  wording('community with a bad value'),
  wording('BFD profile in use deleted'),
  {
    case: 'advertisement aggregating shorter than the pool', kind: 'only MetalLB refuses',
    why: 'ironlb accepts an aggregationLength shorter than the pool\'s prefix and warns naming the routes announced (README: accepted with a warning where MetalLB refuses)',
  },
  {
    case: 'advertisement with an unknown pool', kind: 'only ironlb refuses',
    why: 'ironlb refuses references to pools that do not exist (README: more errors up front); MetalLB stores the advertisement, which then advertises nothing',
  },
  {
    case: 'advertisement naming an unknown peer', kind: 'only ironlb refuses',
    why: 'ironlb refuses references to BGPPeers that do not exist, as to pools (README: more errors up front); MetalLB stores the advertisement, ' +
      'which then reaches no peer. Unknown community aliases and BFD profiles are stored by both: the object may come later in the same apply',
  },
  ...['v1beta1 peer read as v1beta2', 'v1beta1 peer read as v1beta1', 'v1beta2 peer read as v1beta1', 'v1beta2 peer with v1beta2 fields read as v1beta1']
    .map((c): WebhookDifference => ({ case: c, kind: 'converted otherwise', why: conversionWhy })),
  {
    case: 'second peer at the same address', kind: 'only ironlb refuses',
    why: 'two BGPPeers with one address whose nodeSelectors can select the same node would open two sessions from that node to one router; ' +
      'ironlb refuses the pair (src/config/README.md), MetalLB stores it',
  },
];
