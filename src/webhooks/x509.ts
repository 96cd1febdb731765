// Just enough X.509 to run webhooks with self-managed TLS (node:crypto signs and parses
// certificates but does not build them): a CA and serving certificates with ECDSA P-256 keys,
// encoded as DER by hand (RFC 5280 §4.1). Only what the API server's Go TLS client checks is
// written: version 3, a positive serial, validity, basicConstraints, keyUsage, extKeyUsage and
// subjectAltName (Go ignores the common name for host checks).
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);

function oid(text: string): Buffer {
  const parts = text.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

function serial(): Buffer {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f | 0x01; // positive, and no leading zero byte to strip
  return tlv(0x02, b);
}

function altNames(hosts: readonly string[]): Buffer {
  return seq(...hosts.map((h) => {
    const family = isIP(h);
    if (family === 4) return tlv(0x87, Buffer.from(h.split('.').map(Number)));
    if (family === 6) return tlv(0x87, ipv6Bytes(h));
    return tlv(0x82, Buffer.from(h, 'ascii'));
  }));
}

function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertOptions {
  readonly commonName: string;
  readonly validDays: number;
  readonly now?: Date;
  /** Serving certificates: DNS names and IP addresses. */
  readonly hosts?: readonly string[];
  /** Sign with this CA; without it the certificate is a self-signed CA. */
  readonly issuer?: KeyPairPem;
}

const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;

/** A new key and certificate: a CA (no issuer) or a serving certificate signed by `issuer`. */
export function createCertificate(o: CertOptions): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = o.now ?? new Date();
  const notBefore = new Date(now.getTime() - 5 * 60_000); // a little clock skew between nodes
  const notAfter = new Date(now.getTime() + o.validDays * 86_400_000);
  const isCa = o.issuer === undefined;
  const issuerCert = o.issuer ? new X509Certificate(o.issuer.certPem) : undefined;
  const issuerName = issuerCert ? issuerCert.subject.replace(/^CN=/, '') : o.commonName;
  const signer: KeyObject = o.issuer ? createPrivateKey(o.issuer.keyPem) : privateKey;
  const extensions = isCa
    ? [
      extension('2.5.29.19', true, seq(bool(true))),
      extension('2.5.29.15', true, bits(Buffer.from([0x86]), 1)), // digitalSignature, keyCertSign, cRLSign
    ]
    : [
      extension('2.5.29.19', true, seq()),
      extension('2.5.29.15', true, bits(Buffer.from([0x80]), 7)), // digitalSignature
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // serverAuth
      extension('2.5.29.17', false, altNames(o.hosts ?? [])),
    ];
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    serial(),
    ecdsaWithSha256,
    name(issuerName),
    seq(time(notBefore), time(notAfter)),
    name(o.commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, signer);
  const der = seq(tbs, ecdsaWithSha256, bits(signature));
  return { certPem: pem('CERTIFICATE', der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
