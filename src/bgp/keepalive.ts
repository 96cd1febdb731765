// KEEPALIVE (RFC 4271 §4.4): a bare header.
export const KEEPALIVE: Buffer = Buffer.from([...Array<number>(16).fill(0xff), 0, 19, 4]);
