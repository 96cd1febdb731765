// One entry point from a framed message to a typed one: dispatch on the type code to one small
// decoder each (pg-protocol's parser shape).
import type { DecodeContext } from './attributes.ts';
import { BgpError, ErrorCode, HeaderSubcode } from './errors.ts';
import { MessageType, type RawMessage } from './framing.ts';
import { type NotificationMessage, decodeNotification } from './notification.ts';
import { type OpenMessage, decodeOpen } from './open.ts';
import { type RouteRefreshMessage, decodeRouteRefresh } from './route-refresh.ts';
import { type DecodedUpdate, decodeUpdate } from './update.ts';

export type BgpMessage =
  | { readonly type: 'open'; readonly open: OpenMessage }
  | { readonly type: 'update'; readonly update: DecodedUpdate }
  | { readonly type: 'notification'; readonly notification: NotificationMessage }
  | { readonly type: 'keepalive' }
  | { readonly type: 'route-refresh'; readonly routeRefresh: RouteRefreshMessage };

export function decodeMessage(m: RawMessage, ctx: DecodeContext): BgpMessage {
  switch (m.type) {
    case MessageType.Open: return { type: 'open', open: decodeOpen(m.body) };
    case MessageType.Update: return { type: 'update', update: decodeUpdate(m.body, ctx) };
    case MessageType.Notification: return { type: 'notification', notification: decodeNotification(m.body) };
    case MessageType.Keepalive: return { type: 'keepalive' };
    case MessageType.RouteRefresh: return { type: 'route-refresh', routeRefresh: decodeRouteRefresh(m.body) };
    default: throw new BgpError(ErrorCode.MessageHeader, HeaderSubcode.BadMessageType, Buffer.from([m.type]));
  }
}
