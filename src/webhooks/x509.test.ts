// The hand-built certificates parse (node:crypto and openssl), chain to their CA and name the
// webhook's hosts: what the API server's TLS client checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { createCertificate } from './x509.ts';

test('a CA and a serving certificate signed by it, with DNS and IP names', () => {
  const ca = createCertificate({ commonName: 'ironlb-webhook-ca', validDays: 3650 });
  const leaf = createCertificate({ commonName: 'ironlb-webhook', validDays: 365, issuer: ca, hosts: ['metallb-webhook-service.metallb-system.svc', '127.0.0.1', '::1'] });
  const caCert = new X509Certificate(ca.certPem);
  const cert = new X509Certificate(leaf.certPem);
  assert.ok(caCert.ca);
  assert.ok(!cert.ca);
  assert.ok(caCert.verify(caCert.publicKey));
  assert.ok(cert.verify(caCert.publicKey));
  assert.ok(cert.checkIssued(caCert));
  assert.equal(cert.checkHost('metallb-webhook-service.metallb-system.svc'), 'metallb-webhook-service.metallb-system.svc');
  assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(cert.checkIP('::1'), '::1');
  assert.equal(cert.checkHost('other.example'), undefined);
  assert.ok(new Date(cert.validTo).getTime() - Date.now() > 364 * 86_400_000);
  assert.equal(createPublicKey(createPrivateKey(leaf.keyPem)).export({ format: 'pem', type: 'spki' }), cert.publicKey.export({ format: 'pem', type: 'spki' }));
  // An independent parser: openssl verifies the chain and the purpose.
  const dir = mkdtempSync(join(tmpdir(), 'ironlb-x509-'));
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'leaf.pem'), leaf.certPem);
  const out = execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
  assert.match(out, /leaf\.pem: OK/);
});

test('dates from 2050 on are GeneralizedTime (RFC 5280), still parsed right', () => {
  const ca = createCertificate({ commonName: 'far', validDays: 10, now: new Date('2055-01-01T00:00:00Z') });
  assert.equal(new Date(new X509Certificate(ca.certPem).validTo).toISOString(), '2055-01-11T00:00:00.000Z');
});
