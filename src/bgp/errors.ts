// NOTIFICATION codes (RFC 4271 §4.5, RFC 4486, RFC 5492, RFC 6608, RFC 7313, RFC 8538) and the
// error type every decoder throws: a BgpError always says which NOTIFICATION answers it.

export const ErrorCode = {
  MessageHeader: 1,
  Open: 2,
  Update: 3,
  HoldTimerExpired: 4,
  Fsm: 5,
  Cease: 6,
  RouteRefresh: 7,
} as const;

export const HeaderSubcode = { ConnectionNotSynchronized: 1, BadMessageLength: 2, BadMessageType: 3 } as const;

export const OpenSubcode = {
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

export const UpdateSubcode = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOriginAttribute: 6,
  InvalidNextHopAttribute: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

export const FsmSubcode = { UnexpectedInOpenSent: 1, UnexpectedInOpenConfirm: 2, UnexpectedInEstablished: 3 } as const;

export const CeaseSubcode = {
  MaximumPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9,
  /** RFC 9384: BFD said the path to the peer is down. */
  BfdDown: 10,
} as const;

export const RouteRefreshSubcode = { InvalidMessageLength: 1 } as const;

const codeNames: Record<number, string> = {
  1: 'Message Header Error', 2: 'OPEN Message Error', 3: 'UPDATE Message Error', 4: 'Hold Timer Expired',
  5: 'Finite State Machine Error', 6: 'Cease', 7: 'ROUTE-REFRESH Message Error',
};

const subcodeNames: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: { 1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier', 4: 'Unsupported Optional Parameter', 6: 'Unacceptable Hold Time', 7: 'Unsupported Capability' },
  3: {
    1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute', 4: 'Attribute Flags Error',
    5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute', 8: 'Invalid NEXT_HOP Attribute', 9: 'Optional Attribute Error',
    10: 'Invalid Network Field', 11: 'Malformed AS_PATH',
  },
  5: { 1: 'Receive Unexpected Message in OpenSent State', 2: 'Receive Unexpected Message in OpenConfirm State', 3: 'Receive Unexpected Message in Established State' },
  6: {
    1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured', 4: 'Administrative Reset',
    5: 'Connection Rejected', 6: 'Other Configuration Change', 7: 'Connection Collision Resolution', 8: 'Out of Resources', 9: 'Hard Reset', 10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** "Cease / Administrative Shutdown" — for logs and status. */
export function describeNotification(code: number, subcode: number): string {
  const c = codeNames[code] ?? `code ${code}`;
  const s = subcodeNames[code]?.[subcode];
  return subcode === 0 && !s ? c : `${c} / ${s ?? `subcode ${subcode}`}`;
}

/** A protocol error: the NOTIFICATION that answers it is code/subcode/data. */
export class BgpError extends Error {
  override readonly name = 'BgpError';
  constructor(readonly code: number, readonly subcode: number, readonly data: Buffer = Buffer.alloc(0), detail?: string) {
    super(detail ? `${describeNotification(code, subcode)}: ${detail}` : describeNotification(code, subcode));
  }
}

/**
 * RFC 7606 outcomes, mildest first. ironlb imports no routes, so treat-as-withdraw and
 * attribute-discard only get logged; session-reset sends the NOTIFICATION.
 */
export type UpdateErrorAction = 'attribute-discard' | 'treat-as-withdraw' | 'session-reset';

export interface UpdateProblem {
  readonly action: UpdateErrorAction;
  /** The NOTIFICATION RFC 4271 would have sent; used when the action is session-reset. */
  readonly code: number;
  readonly subcode: number;
  readonly data?: Buffer;
  readonly detail: string;
}

const severity: Record<UpdateErrorAction, number> = { 'attribute-discard': 1, 'treat-as-withdraw': 2, 'session-reset': 3 };

/** The one decision for a whole UPDATE: the most severe of its problems. */
export function worstProblem(problems: readonly UpdateProblem[]): UpdateProblem | undefined {
  let worst: UpdateProblem | undefined;
  for (const p of problems) if (!worst || severity[p.action] > severity[worst.action]) worst = p;
  return worst;
}
