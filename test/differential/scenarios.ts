// The controller scenarios of the differential suite (issue #13): the same IPAddressPools and
// Services, applied in the same order, once to MetalLB's controller and once to ironlb's. Only
// cases where MetalLB is deterministic are here: with several auto-assign pools and no priority
// MetalLB walks a Go map, so which pool serves a Service is random there and not compared.
export interface ServiceStep {
  name: string;
  /** A step deletes this Service instead of creating it. */
  delete?: true;
  /** A step changes an existing Service (kubectl apply of the new object). */
  edit?: true;
  /** A step replaces (with addresses) or deletes (without) this scenario's pool of this name. */
  pool?: PoolSpec | { name: string; delete: true };
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  ipFamilies?: ('IPv4' | 'IPv6')[];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  /** spec.loadBalancerIP (deprecated by Kubernetes, still honoured by MetalLB). */
  loadBalancerIP?: string;
  ports?: number[];
}

export interface PoolSpec {
  name: string;
  addresses: string[];
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  serviceAllocation?: { priority?: number; serviceSelectors?: { matchLabels: Record<string, string> }[] };
}

export interface Scenario {
  name: string;
  pools: PoolSpec[];
  steps: ServiceStep[];
}

export const scenarios: Scenario[] = [
  {
    // Addresses are handed out from the start of the range; avoidBuggyIPs skips .0 and .255.
    name: 'fill-pool',
    pools: [{ name: 'edge', addresses: ['192.0.2.0/30'] }, { name: 'buggy', addresses: ['192.0.2.254-192.0.3.1'], avoidBuggyIPs: true, autoAssign: false }],
    steps: [
      { name: 'a' }, { name: 'b' }, { name: 'c' },
      { name: 'skip-buggy', annotations: { 'metallb.io/address-pool': 'buggy' } },
      { name: 'skip-buggy-2', annotations: { 'metallb.io/address-pool': 'buggy' } },
    ],
  },
  {
    // Pools pinned to Services by selector are tried first, by priority (1 before 2); a pool without
    // serviceAllocation only when every pinned pool is full.
    name: 'pool-priority',
    pools: [
      { name: 'low', addresses: ['198.51.100.0/31'], serviceAllocation: { priority: 2, serviceSelectors: [{ matchLabels: { tier: 'web' } }] } },
      { name: 'high', addresses: ['198.51.100.8/31'], serviceAllocation: { priority: 1, serviceSelectors: [{ matchLabels: { tier: 'web' } }] } },
      { name: 'plain', addresses: ['203.0.113.0/31'] },
    ],
    steps: [
      { name: 'w1', labels: { tier: 'web' } }, { name: 'w2', labels: { tier: 'web' } },
      { name: 'w3', labels: { tier: 'web' } }, { name: 'w4', labels: { tier: 'web' } },
      { name: 'w5', labels: { tier: 'web' } },
      { name: 'other' },
    ],
  },
  {
    // Requested addresses and pools, and every way a request is refused.
    name: 'requested',
    pools: [{ name: 'main', addresses: ['192.0.2.0/29'] }, { name: 'reserved', addresses: ['192.0.2.16/29'], autoAssign: false }],
    steps: [
      { name: 'by-annotation', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.5' } },
      { name: 'by-spec', loadBalancerIP: '192.0.2.18' },
      { name: 'by-pool', annotations: { 'metallb.io/address-pool': 'reserved' } },
      { name: 'deprecated', annotations: { 'metallb.universe.tf/loadBalancerIPs': '192.0.2.6' } },
      { name: 'plain' },
      { name: 'outside', annotations: { 'metallb.io/loadBalancerIPs': '10.9.9.9' } },
      { name: 'taken', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.5' } },
      { name: 'both-ways', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.3' }, loadBalancerIP: '192.0.2.3' },
      { name: 'unknown-pool', annotations: { 'metallb.io/address-pool': 'nope' } },
      { name: 'not-an-ip', annotations: { 'metallb.io/loadBalancerIPs': 'banana' } },
      { name: 'ip-not-in-pool', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.2', 'metallb.io/address-pool': 'reserved' } },
    ],
  },
  {
    // One IP for several Services with the same sharing key and different ports.
    name: 'sharing',
    pools: [{ name: 'shared', addresses: ['192.0.2.0/29'] }],
    steps: [
      { name: 'http', annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [80] },
      { name: 'https', annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [443] },
      { name: 'http-again', annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [80] },
      { name: 'port-clash', annotations: { 'metallb.io/allow-shared-ip': 'k', 'metallb.io/loadBalancerIPs': '192.0.2.0' }, ports: [443] },
      { name: 'key-clash', annotations: { 'metallb.io/allow-shared-ip': 'other', 'metallb.io/loadBalancerIPs': '192.0.2.0' }, ports: [8080] },
      { name: 'no-key', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.0' }, ports: [9090] },
    ],
  },
  {
    // A full pool: the third Service waits, and takes the address a deleted Service frees.
    name: 'exhausted',
    pools: [{ name: 'tiny', addresses: ['192.0.2.0/31'] }],
    steps: [{ name: 'one' }, { name: 'two' }, { name: 'three' }, { name: 'one', delete: true }],
  },
  {
    // A Service edited: a new requested address moves it; a bad request on a Service that has an
    // address is LoadBalancerFailed (on a new Service it is AllocationFailed).
    name: 'edit',
    pools: [{ name: 'main', addresses: ['192.0.2.0/29'] }],
    steps: [
      { name: 'moved' },
      { name: 'moved', edit: true, annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.4' } },
      { name: 'spoiled' },
      { name: 'spoiled', edit: true, annotations: { 'metallb.io/loadBalancerIPs': 'banana' } },
    ],
  },
  {
    // The pool under an assigned Service changes, then goes away.
    name: 'pool-change',
    pools: [{ name: 'moving', addresses: ['192.0.2.0/30'] }, { name: 'gone', addresses: ['198.51.100.0/30'], autoAssign: false }],
    steps: [
      { name: 'auto' },
      { name: 'pinned', annotations: { 'metallb.io/address-pool': 'gone' } },
      { name: 'moving', pool: { name: 'moving', addresses: ['192.0.2.8/30'] } },
      { name: 'gone', pool: { name: 'gone', delete: true } },
    ],
  },
  {
    // IPv6 and dual stack from one pool with both families (the apiserver's Service range is dual-stack).
    name: 'dual-stack',
    pools: [{ name: 'both', addresses: ['192.0.2.0/30', '2001:db8::/126'] }, { name: 'v4only', addresses: ['198.51.100.0/30'], autoAssign: false }],
    steps: [
      { name: 'v6', ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' },
      { name: 'dual', ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' },
      { name: 'dual-v6-first', ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' },
      { name: 'prefer', ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] },
      { name: 'dual-from-v4-pool', ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack', annotations: { 'metallb.io/address-pool': 'v4only' } },
      { name: 'prefer-from-v4-pool', ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack', annotations: { 'metallb.io/address-pool': 'v4only' } },
      { name: 'v6-requested', ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack', annotations: { 'metallb.io/loadBalancerIPs': '2001:db8::3' } },
    ],
  },
];
