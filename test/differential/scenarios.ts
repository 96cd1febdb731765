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
  /** spec.loadBalancerClass. */
  loadBalancerClass?: string;
  /** The controller should leave this Service alone: wait 3 s (no IP, no Event to wait for). */
  ignored?: true;
  /** spec.externalTrafficPolicy (default Cluster). */
  etp?: 'Local' | 'Cluster';
  /** spec.selector (default app: <name>): the backends, which ETP Local Services sharing an IP must have in common. */
  selector?: Record<string, string>;
  /** A step stops the controller and starts a new one (the name is only the step's). */
  restart?: true;
}

/** A Kubernetes label selector, as pools' serviceAllocation takes them. */
export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface PoolSpec {
  name: string;
  addresses: string[];
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  /** `namespaces` may name `NS`, the scenario's namespace (random per run). */
  serviceAllocation?: { priority?: number; namespaces?: string[]; namespaceSelectors?: Selector[]; serviceSelectors?: Selector[] };
}

export interface Scenario {
  name: string;
  /** Labels on the scenario's namespace (for namespaceSelectors). */
  namespaceLabels?: Record<string, string>;
  /** The controller's --lb-class (default none: only Services without a loadBalancerClass). */
  lbClass?: string;
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
  {
    // Seed 000's pools and Service: a range with avoidBuggyIPs, a pool only by annotation, the
    // labelled critical-service asking for 192.168.1.240 by spec.loadBalancerIP.
    name: 'seed-000',
    pools: [
      { name: 'production-pool', addresses: ['192.168.1.240-192.168.1.250'], autoAssign: true, avoidBuggyIPs: true },
      { name: 'development-pool', addresses: ['192.168.2.240-192.168.2.250'], autoAssign: false },
    ],
    steps: [
      { name: 'critical-service', labels: { 'metallb-advertise': 'true' }, loadBalancerIP: '192.168.1.240' },
      { name: 'web' }, { name: 'api' },
      { name: 'dev', annotations: { 'metallb.io/address-pool': 'development-pool' } },
      { name: 'dev-by-ip', annotations: { 'metallb.io/loadBalancerIPs': '192.168.2.245' } },
    ],
  },
  {
    // Seed 001's pool, a CIDR written with host bits (198.51.100.10/24: the whole /24), and a
    // second pool for one namespace only (serviceAllocation.namespaces, MetalLB's docs example).
    name: 'seed-001',
    pools: [
      { name: 'first-pool', addresses: ['198.51.100.10/24'] },
      { name: 'ns-only', addresses: ['203.0.113.8/30'], serviceAllocation: { priority: 10, namespaces: ['NS'] } },
      { name: 'other-ns', addresses: ['203.0.113.16/30'], serviceAllocation: { priority: 5, namespaces: ['elsewhere'] } },
    ],
    steps: [{ name: 'first' }, { name: 'second' }, { name: 'third' }, { name: 'overflow' }, { name: 'overflow-2' }],
  },
  {
    // Requested addresses beyond the basics: both families at once, the same requested address
    // for two Services with one key and different ports, an address in an autoAssign: false pool,
    // the .0 of an avoidBuggyIPs pool.
    name: 'requested-more',
    pools: [
      { name: 'dual', addresses: ['192.0.2.0/29', '2001:db8::/125'] },
      { name: 'manual', addresses: ['198.51.100.0/29'], autoAssign: false },
      { name: 'buggy', addresses: ['203.0.113.0/24'], avoidBuggyIPs: true, autoAssign: false },
    ],
    steps: [
      { name: 'both-families', ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.3,2001:db8::5' } },
      { name: 'shared-a', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.6', 'metallb.io/allow-shared-ip': 'web' }, ports: [80] },
      { name: 'shared-b', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.6', 'metallb.io/allow-shared-ip': 'web' }, ports: [443] },
      { name: 'from-manual', annotations: { 'metallb.io/loadBalancerIPs': '198.51.100.4' } },
      { name: 'buggy-zero', annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.0' } },
      { name: 'v6-only-ip-for-v4', annotations: { 'metallb.io/loadBalancerIPs': '2001:db8::6' } },
    ],
  },
  {
    // Configuration changes under Services: a Service waits for a pool that is added later; a
    // pool switched to autoAssign: false keeps what it gave; a pool grown serves the next.
    name: 'config-change',
    pools: [{ name: 'small', addresses: ['192.0.2.0/31'] }],
    steps: [
      { name: 'one' }, { name: 'two' }, { name: 'waiting' },
      { name: 'added', pool: { name: 'added', addresses: ['198.51.100.0/30'] } },
      { name: 'small', pool: { name: 'small', addresses: ['192.0.2.0/31'], autoAssign: false } },
      { name: 'after-switch' },
      { name: 'added', pool: { name: 'added', addresses: ['198.51.100.0/29'] } },
      { name: 'after-grow' }, { name: 'after-grow-2' }, { name: 'after-grow-3' },
    ],
  },
  {
    // Deletions: one of two Services sharing an address goes (the other keeps it, a third with
    // the key takes the freed port); a deleted Service's address goes to the next new one.
    name: 'deletion',
    pools: [{ name: 'main', addresses: ['192.0.2.0/30'] }],
    steps: [
      { name: 'http', annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [80] },
      { name: 'https', annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [443] },
      { name: 'plain' },
      { name: 'http', delete: true },
      { name: 'http-2', annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [80] },
      { name: 'plain', delete: true },
      { name: 'next' },
    ],
  },
  {
    // Pools chosen by namespaceSelectors and by serviceSelectors with matchExpressions: team-a
    // serves this namespace (labelled team=a), team-b never does, db only Services labelled
    // tier=db (by priority before team-a); then what a Service gets asking for team-b's pool or
    // one of its addresses, and a Service no pool with room selects.
    name: 'selectors',
    namespaceLabels: { team: 'a' },
    pools: [
      { name: 'team-a', addresses: ['192.0.2.0/31'], serviceAllocation: { priority: 2, namespaceSelectors: [{ matchLabels: { team: 'a' } }] } },
      { name: 'team-b', addresses: ['192.0.2.8/31'], serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'b' } }] } },
      { name: 'db', addresses: ['192.0.2.16/31'], serviceAllocation: { priority: 1, serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }] } },
    ],
    steps: [
      { name: 'db1', labels: { tier: 'db' } },
      { name: 's1' }, { name: 's2' }, { name: 's3' },
      { name: 'db2', labels: { tier: 'db', other: 'x' } },
      { name: 'web', labels: { tier: 'web' } },
      { name: 'pinned-b', annotations: { 'metallb.io/address-pool': 'team-b' } },
      { name: 'requested-b', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.9' } },
    ],
  },
  {
    // ETP Local Services share an address only with the same sharing key and the same selector
    // (their backends: MetalLB's backend key); a Cluster one with the key never joins them.
    name: 'etp-local-sharing',
    pools: [{ name: 'shared', addresses: ['192.0.2.0/29'] }],
    steps: [
      { name: 'local-http', etp: 'Local', selector: { app: 'web' }, annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [80] },
      { name: 'local-https', etp: 'Local', selector: { app: 'web' }, annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [443] },
      { name: 'local-other', etp: 'Local', selector: { app: 'api' }, annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [8080] },
      { name: 'cluster-k', selector: { app: 'web' }, annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [9090] },
      { name: 'cluster-k2', selector: { app: 'db' }, annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [9091] },
      { name: 'local-other-2', etp: 'Local', selector: { app: 'api' }, annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [8443] },
      { name: 'requested-mismatch', etp: 'Local', selector: { app: 'api' }, annotations: { 'metallb.io/allow-shared-ip': 'k', 'metallb.io/loadBalancerIPs': '192.0.2.0' }, ports: [7070] },
    ],
  },
  {
    // A controller restarted with addresses assigned (auto, requested, shared, pinned to a pool, one
    // freed just before): every IP stays; the next Services get the lowest free ones.
    name: 'controller-restart',
    pools: [{ name: 'main', addresses: ['192.0.2.0/29'] }, { name: 'reserved', addresses: ['192.0.2.16/30'], autoAssign: false }],
    steps: [
      { name: 'a' }, { name: 'b' },
      { name: 'req', annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.5' } },
      { name: 'shared-1', annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [80] },
      { name: 'shared-2', annotations: { 'metallb.io/allow-shared-ip': 'k' }, ports: [443] },
      { name: 'pinned', annotations: { 'metallb.io/address-pool': 'reserved' } },
      { name: 'dual', ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] },
      { name: 'a', delete: true },
      { name: 'restart', restart: true },
      { name: 'c' }, { name: 'd' },
    ],
  },
  {
    // Without --lb-class only Services without a loadBalancerClass are served.
    name: 'lb-class-none',
    pools: [{ name: 'main', addresses: ['192.0.2.0/30'] }],
    steps: [
      { name: 'classed', loadBalancerClass: 'example.com/other', ignored: true },
      { name: 'plain' },
    ],
  },
  {
    // With --lb-class only Services of that class are served: the others keep no IP and no Event.
    name: 'lb-class',
    lbClass: 'example.com/ironlb',
    pools: [{ name: 'main', addresses: ['192.0.2.0/30'] }],
    steps: [
      { name: 'plain', ignored: true },
      { name: 'other', loadBalancerClass: 'example.com/other', ignored: true },
      { name: 'mine', loadBalancerClass: 'example.com/ironlb' },
    ],
  },
];
