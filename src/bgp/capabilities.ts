// Capabilities advertisement (RFC 5492): each capability decodes and encodes side by side.
import { BufferReader } from './buffer-reader.ts';
import { BufferWriter } from './buffer-writer.ts';
import { BgpError, ErrorCode } from './errors.ts';

export const CapabilityCode = {
  Multiprotocol: 1, // RFC 4760
  RouteRefresh: 2, // RFC 2918
  ExtendedMessage: 6, // RFC 8654
  GracefulRestart: 64, // RFC 4724
  FourOctetAsn: 65, // RFC 6793
  AddPath: 69, // RFC 7911
  EnhancedRouteRefresh: 70, // RFC 7313
  RouteRefreshCisco: 128,
} as const;

export const Afi = { Ipv4: 1, Ipv6: 2 } as const;
export const Safi = { Unicast: 1 } as const;

export interface AfiSafi { readonly afi: number; readonly safi: number }
/** ADD-PATH send/receive: 1 receive, 2 send, 3 both (RFC 7911 §4). */
export interface AddPathFamily extends AfiSafi { readonly mode: number }
export interface GracefulRestartFamily extends AfiSafi { readonly forwardingState: boolean }

export interface GracefulRestart {
  /** The R bit: the sender has restarted. */
  readonly restarting: boolean;
  /** The N bit (RFC 8538), decoded for completeness. */
  readonly notification: boolean;
  readonly restartTimeSeconds: number;
  readonly families: readonly GracefulRestartFamily[];
}

export interface Capabilities {
  readonly multiprotocol: readonly AfiSafi[];
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  readonly extendedMessage: boolean;
  readonly fourOctetAsn?: number;
  readonly gracefulRestart?: GracefulRestart;
  readonly addPath: readonly AddPathFamily[];
  readonly unknown: readonly { readonly code: number; readonly value: Buffer }[];
}

export const emptyCapabilities: Capabilities = {
  multiprotocol: [], routeRefresh: false, enhancedRouteRefresh: false, extendedMessage: false, addPath: [], unknown: [],
};

const openErr: readonly [number, number] = [ErrorCode.Open, 0];

interface Mutable {
  multiprotocol: AfiSafi[]; routeRefresh: boolean; enhancedRouteRefresh: boolean; extendedMessage: boolean;
  fourOctetAsn?: number; gracefulRestart?: GracefulRestart; addPath: AddPathFamily[]; unknown: { code: number; value: Buffer }[];
}

/** Adds the capabilities in one Capabilities optional parameter (several may be present). */
export function decodeCapabilities(r: BufferReader, into: Mutable): void {
  while (!r.atEnd()) {
    const code = r.u8('capability code');
    const len = r.u8('capability length');
    const v = r.sub(len, 'capability value', openErr);
    switch (code) {
      case CapabilityCode.Multiprotocol: {
        if (len !== 4) throw capErr(code, len);
        const afi = v.u16(); v.u8(); const safi = v.u8();
        into.multiprotocol.push({ afi, safi });
        break;
      }
      case CapabilityCode.RouteRefresh: case CapabilityCode.RouteRefreshCisco: into.routeRefresh = true; break;
      case CapabilityCode.EnhancedRouteRefresh: into.enhancedRouteRefresh = true; break;
      case CapabilityCode.ExtendedMessage: into.extendedMessage = true; break;
      case CapabilityCode.FourOctetAsn:
        if (len !== 4) throw capErr(code, len);
        into.fourOctetAsn = v.u32();
        break;
      case CapabilityCode.GracefulRestart: {
        if (len < 2 || (len - 2) % 4 !== 0) throw capErr(code, len);
        const word = v.u16();
        const families: GracefulRestartFamily[] = [];
        while (!v.atEnd()) { const afi = v.u16(); const safi = v.u8(); const flags = v.u8(); families.push({ afi, safi, forwardingState: (flags & 0x80) !== 0 }); }
        into.gracefulRestart = { restarting: (word & 0x8000) !== 0, notification: (word & 0x4000) !== 0, restartTimeSeconds: word & 0x0fff, families };
        break;
      }
      case CapabilityCode.AddPath:
        if (len % 4 !== 0) throw capErr(code, len);
        while (!v.atEnd()) { const afi = v.u16(); const safi = v.u8(); const mode = v.u8(); into.addPath.push({ afi, safi, mode }); }
        break;
      default:
        into.unknown.push({ code, value: Buffer.from(v.rest()) });
    }
  }
}

function capErr(code: number, len: number): BgpError {
  // RFC 5492 leaves a malformed capability to the capability's RFC; an OPEN error with no
  // subcode is what RFC 4271 §6.2 prescribes for an OPEN that cannot be understood.
  return new BgpError(ErrorCode.Open, 0, undefined, `capability ${code} with length ${len}`);
}

export function newCapabilities(): Mutable {
  return { multiprotocol: [], routeRefresh: false, enhancedRouteRefresh: false, extendedMessage: false, addPath: [], unknown: [] };
}

/** Writes each capability as its own (code, length, value) triple, in code order. */
export function encodeCapabilities(c: Capabilities, w: BufferWriter): void {
  for (const f of c.multiprotocol) w.u8(CapabilityCode.Multiprotocol).u8(4).u16(f.afi).u8(0).u8(f.safi);
  if (c.routeRefresh) w.u8(CapabilityCode.RouteRefresh).u8(0);
  if (c.extendedMessage) w.u8(CapabilityCode.ExtendedMessage).u8(0);
  if (c.gracefulRestart) {
    const g = c.gracefulRestart;
    w.u8(CapabilityCode.GracefulRestart).u8(2 + 4 * g.families.length);
    w.u16((g.restarting ? 0x8000 : 0) | (g.notification ? 0x4000 : 0) | (g.restartTimeSeconds & 0x0fff));
    for (const f of g.families) w.u16(f.afi).u8(f.safi).u8(f.forwardingState ? 0x80 : 0);
  }
  if (c.fourOctetAsn !== undefined) w.u8(CapabilityCode.FourOctetAsn).u8(4).u32(c.fourOctetAsn);
  if (c.addPath.length > 0) {
    w.u8(CapabilityCode.AddPath).u8(4 * c.addPath.length);
    for (const f of c.addPath) w.u16(f.afi).u8(f.safi).u8(f.mode);
  }
  if (c.enhancedRouteRefresh) w.u8(CapabilityCode.EnhancedRouteRefresh).u8(0);
  for (const u of c.unknown) w.u8(u.code).u8(u.value.length).bytes(u.value);
}

export const hasFamily = (list: readonly AfiSafi[], afi: number, safi: number): boolean => list.some((f) => f.afi === afi && f.safi === safi);

