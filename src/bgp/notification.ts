// NOTIFICATION (RFC 4271 §4.5) and the Administrative Shutdown communication (RFC 9003).
import { BufferWriter } from './buffer-writer.ts';
import { CeaseSubcode, ErrorCode, describeNotification } from './errors.ts';
import { MessageType } from './framing.ts';

export interface NotificationMessage {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

export function decodeNotification(body: Buffer): NotificationMessage {
  // The framer guarantees at least two bytes.
  return { code: body[0]!, subcode: body[1]!, data: Buffer.from(body.subarray(2)) };
}

export function encodeNotification(n: NotificationMessage): Buffer {
  const w = new BufferWriter(21 + n.data.length);
  const start = w.startMessage(MessageType.Notification);
  w.u8(n.code).u8(n.subcode).bytes(n.data);
  w.endMessage(start);
  return w.toBuffer();
}

/** A shutdown communication (RFC 9003) for Cease/Administrative Shutdown or Reset. */
export function shutdownCommunication(text: string): Buffer {
  let t = Buffer.from(text, 'utf8');
  if (t.length > 255) t = t.subarray(0, 255);
  return Buffer.concat([Buffer.from([t.length]), t]);
}

/** Text for logs, with a shutdown communication decoded when one is present and well-formed. */
export function notificationText(n: NotificationMessage): string {
  const base = describeNotification(n.code, n.subcode);
  if (n.code === ErrorCode.Cease && (n.subcode === CeaseSubcode.AdministrativeShutdown || n.subcode === CeaseSubcode.AdministrativeReset) && n.data.length > 0) {
    const len = n.data[0]!;
    if (len > 0 && len + 1 <= n.data.length) return `${base}: "${n.data.subarray(1, 1 + len).toString('utf8')}"`;
  }
  return base;
}
