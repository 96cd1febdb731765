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
  ...sharingRefusal('requested', 'taken', 'NS/by-annotation',
    '"192.0.2.5" is in use and neither Service has an allow-shared-ip key (both need the same one to share it)'),
  ...sharingRefusal('sharing', 'key-clash', 'NS/http,NS/https',
    `"192.0.2.0" is held with allow-shared-ip "k" and this Service has allow-shared-ip "other"; ${keyRule}`),
  ...sharingRefusal('sharing', 'no-key', 'NS/http,NS/https',
    `"192.0.2.0" is held with allow-shared-ip "k" and this Service has no allow-shared-ip key; ${keyRule}`),
];
