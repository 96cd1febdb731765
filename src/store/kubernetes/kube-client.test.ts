// The JSON client against a local TLS server: requests share pooled keep-alive connections (a
// handshake per request cost the apiserver more CPU than the write itself), and a 429 carries the
// server's Retry-After.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { createCertificate } from '../../webhooks/x509.ts';
import { KubeApiError, KubeClient } from './kube-client.ts';

describe('KubeClient', () => {
  test('reuses connections across requests and reads Retry-After from a 429', async () => {
    const ca = createCertificate({ commonName: 'test-ca', validDays: 1 });
    const serving = createCertificate({ commonName: 'apiserver', validDays: 1, hosts: ['127.0.0.1'], issuer: ca });
    let connections = 0;
    let requests = 0;
    const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      requests++;
      assert.equal(req.headers.authorization, 'Bearer t0ken');
      if (req.url?.startsWith('/api/v1/namespaces/x/services/busy')) {
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '3' });
        res.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests', message: 'slow down', code: 429 }));
        return;
      }
      req.resume();
      req.on('end', () => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"kind":"Service"}'); });
    });
    server.on('secureConnection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: Buffer.from(ca.certPem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'u', token: 't0ken' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
    const client = new KubeClient(kc);
    try {
      for (let i = 0; i < 20; i++) await client.request('PATCH', `/api/v1/namespaces/x/services/s${i}/status`, { body: { status: {} } });
      await Promise.all(Array.from({ length: 8 }, (_, i) => client.request('GET', `/api/v1/namespaces/x/services/p${i}`)));
      assert.equal(requests, 28);
      assert.ok(connections <= 8, `${connections} TLS connections for 28 requests`);
      const err = await client.request('PATCH', '/api/v1/namespaces/x/services/busy/status', { body: {} }).catch((e: unknown) => e);
      assert.ok(err instanceof KubeApiError);
      assert.equal(err.code, 429);
      assert.equal(err.retryAfterSeconds, 3);
      assert.equal(client.counts.PATCH, 21);
    } finally {
      client.close();
      await new Promise((r) => server.close(r));
    }
  });

  test('credentials are worked out once, not per request; a 401 makes the next request read them again', async () => {
    const ca = createCertificate({ commonName: 'test-ca', validDays: 1 });
    const serving = createCertificate({ commonName: 'apiserver', validDays: 1, hosts: ['127.0.0.1'], issuer: ca });
    let valid = 'Bearer t0ken';
    const seen: string[] = [];
    const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      seen.push(req.headers.authorization ?? '');
      const ok = req.headers.authorization === valid;
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(ok ? '{"kind":"Service"}' : '{"kind":"Status","reason":"Unauthorized","code":401}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: Buffer.from(ca.certPem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'u', token: 't0ken' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
    let applied = 0;
    const apply = kc.applyToHTTPSOptions.bind(kc);
    kc.applyToHTTPSOptions = async (o) => { applied++; await apply(o); };
    const client = new KubeClient(kc);
    try {
      for (let i = 0; i < 5; i++) await client.request('GET', `/api/v1/namespaces/x/services/s${i}`);
      assert.equal(applied, 1);
      // The token rotates: the cached one is refused once, then the new one is read and used.
      (kc.getCurrentUser() as { token?: string }).token = 'fresh';
      valid = 'Bearer fresh';
      const err = await client.request('GET', '/api/v1/namespaces/x/services/s5').catch((e: unknown) => e);
      assert.ok(err instanceof KubeApiError && err.code === 401);
      await client.request('GET', '/api/v1/namespaces/x/services/s6');
      assert.equal(applied, 2);
      assert.deepEqual(seen.slice(-2), ['Bearer t0ken', 'Bearer fresh']);
    } finally {
      client.close();
      await new Promise((r) => server.close(r));
    }
  });
});
