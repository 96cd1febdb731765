// The fuzz loop: random and mutated BGP messages through the framer, every decoder, and a live
// Session's input handler (in OpenSent and in Established). Any exception that is not a BgpError,
// and any internal-error NOTIFICATION from a session, is a finding.
import type { Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { MessageFramer } from '../../src/bgp/framing.ts';
import { decodeMessage } from '../../src/bgp/messages.ts';
import { BgpError } from '../../src/bgp/errors.ts';
import { Session, type SessionOwner } from '../../src/bgp/session.ts';
import { AdjRibOut } from '../../src/bgp/adj-rib-out.ts';
import { KEEPALIVE } from '../../src/bgp/keepalive.ts';
import type { Clock } from '../../src/bgp/peer-config.ts';
import { LOCAL_ASN, PEER_ASN, peerOpen, seedMessages } from './corpus.ts';

export interface FuzzStats { cases: number; bgpErrors: number; decoded: number; sessionsReset: number; findings: string[]; ms: number }

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class FakeSocket extends EventEmitter {
  destroyed = false;
  writable = true;
  localAddress = '127.0.0.1';
  localPort = 179;
  written = 0;
  setNoDelay(): this { return this; }
  write(b: Buffer): boolean { this.written += b.length; return true; }
  end(): this { this.writable = false; return this; }
  destroy(): this { this.destroyed = true; this.writable = false; return this; }
}

const noTimers: Clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined };

export async function runFuzz(opts: { cases: number; seed: number; log?: (s: string) => void }): Promise<FuzzStats> {
  const rnd = prng(opts.seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const corpus = seedMessages();
  const established = Buffer.concat([peerOpen(), KEEPALIVE]);
  const stats: FuzzStats = { cases: 0, bgpErrors: 0, decoded: 0, sessionsReset: 0, findings: [], ms: 0 };
  const finding = (what: string, input: Buffer, e: unknown): void => {
    if (stats.findings.length < 20) stats.findings.push(`${what}: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n  input ${input.toString('hex')}`);
  };
  const pick = (): Buffer => corpus[int(corpus.length)]!;

  const mutate = (src: Buffer): Buffer => {
    let b = Buffer.from(src);
    const rounds = 1 + int(4);
    for (let r = 0; r < rounds; r++) {
      switch (int(10)) {
        case 0: if (b.length) { const j = int(b.length); b[j] = b[j]! ^ (1 << int(8)); } break;
        case 1: if (b.length) b[int(b.length)] = int(256); break;
        case 2: { const at = int(b.length + 1); b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))), b.subarray(at)]); break; }
        case 3: { const at = int(b.length + 1); b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(8))]); break; }
        case 4: b = b.subarray(0, int(b.length + 1)); break;
        case 5: if (b.length >= 19) b.writeUInt16BE(rnd() < 0.5 ? b.length : int(65536), 16); break;
        // Interesting values into an inner length byte/word (attribute, segment, prefix lengths).
        case 6: if (b.length > 19) b[19 + int(b.length - 19)] = [0, 1, 2, 3, 4, 16, 32, 33, 127, 128, 129, 255][int(12)]!; break;
        case 7: { const o = pick(); const at = int(b.length + 1); b = Buffer.concat([b.subarray(0, at), o.subarray(int(o.length))]); break; }
        case 8: if (b.length > 21) { const at = 19 + int(b.length - 20); b.writeUInt16BE(int(b.length), Math.min(at, b.length - 2)); } break;
        default: if (b.length >= 19) b.writeUInt16BE(b.length, 16);
      }
    }
    return b;
  };

  const randomMessage = (): Buffer => {
    const body = Buffer.from(Array.from({ length: int(80) }, () => int(256)));
    const h = Buffer.alloc(19, 0xff);
    h.writeUInt16BE(19 + body.length, 16);
    h[18] = 1 + int(5);
    return Buffer.concat([h, body]);
  };

  const owner = (rib: AdjRibOut): SessionOwner => ({
    rib,
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined },
    onOpenReceived: () => true,
    onEstablished: () => undefined,
    onStateChange: () => undefined,
    onNotification: (_s, direction, n) => {
      if (direction !== 'sent') return;
      stats.sessionsReset++;
      if (n.code === 6 && n.subcode === 8) throw new Error('session answered with an internal error');
    },
    onDown: () => undefined,
  });

  const start = Date.now();
  for (let i = 0; i < opts.cases; i++) {
    const input = rnd() < 0.85 ? mutate(pick()) : randomMessage();
    stats.cases++;
    const mode = i % 4;
    try {
      if (mode === 0 || mode === 1) {
        // Framing in random chunks, then every decoder with a random context.
        const framer = new MessageFramer();
        if (rnd() < 0.3) framer.maxLength = 65535;
        const stream = rnd() < 0.2 ? Buffer.concat([input, pick()]) : input;
        let p = 0;
        try {
          while (p < stream.length) {
            const n = 1 + int(stream.length);
            framer.push(stream.subarray(p, p + n));
            p += n;
            for (let m = framer.next(); m; m = framer.next()) {
              try {
                decodeMessage(m, { fourOctetAsn: rnd() < 0.5, ebgp: rnd() < 0.5, ...(rnd() < 0.2 ? { addPathReceive: [4, 6] as const } : {}) });
                stats.decoded++;
              } catch (e) { if (e instanceof BgpError) stats.bgpErrors++; else throw e; }
            }
          }
        } catch (e) { if (e instanceof BgpError) stats.bgpErrors++; else throw e; }
      } else {
        // A session's input handler, fresh (OpenSent) or Established.
        const sock = new FakeSocket();
        const rib = new AdjRibOut();
        const session = new Session({
          socket: sock as unknown as Socket, direction: 'incoming', ebgp: rnd() < 0.5, clock: noTimers, owner: owner(rib),
          fsm: { myAsn: LOCAL_ASN, peerAsn: PEER_ASN, routerId: 0x0a000001, holdTimeSeconds: 90, families: [4, 6], restarting: false, extendedMessage: true, addPathSend: rnd() < 0.5, gracefulRestart: { restartTimeSeconds: 60 } },
        });
        session.start();
        if (mode === 3) {
          session.feed(established);
          if (session.state !== 'Established') throw new Error(`the seed OPEN did not establish the session (${session.state})`);
        }
        session.feed(input);
        session.abort('case done');
      }
    } catch (e) {
      finding(mode < 2 ? 'decoder' : 'session', input, e);
    }
    // Sessions schedule their output with setImmediate: let those run so nothing piles up.
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    if (opts.log && (i + 1) % 100000 === 0) opts.log(`${i + 1} cases, ${Date.now() - start} ms`);
  }
  stats.ms = Date.now() - start;
  return stats;
}
