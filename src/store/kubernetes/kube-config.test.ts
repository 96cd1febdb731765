// Kubeconfig files and in-cluster credentials read without client-node: what a request carries
// (CA, token from a file re-read when it rotates, client certificate, basic auth), relative paths,
// $KUBECONFIG merged as kubectl merges it, and what is left to client-node (exec plugins, proxies).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createCertificate } from '../../webhooks/x509.ts';
import { inClusterConfig, kubeConfigFromFile, loadKubeConfig, PlainKubeConfig } from './kube-config.ts';
import { KubeClient } from './kube-client.ts';

const kubeconfig = (cluster: object, user: object, extra: object = {}) => stringify({
  apiVersion: 'v1', kind: 'Config', 'current-context': 'x',
  clusters: [{ name: 'c', cluster }], users: [{ name: 'u', user }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], ...extra,
});

describe('kube-config', () => {
  test('a kubeconfig with a relative token file and CA file: requests verify the server and carry the token, re-read after it rotates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ironlb-kc-'));
    const ca = createCertificate({ commonName: 'test-ca', validDays: 1 });
    const serving = createCertificate({ commonName: 'apiserver', validDays: 1, hosts: ['127.0.0.1'], issuer: ca });
    const seen: string[] = [];
    const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      seen.push(req.headers.authorization ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      mkdirSync(join(dir, 'pki'));
      writeFileSync(join(dir, 'pki', 'ca.crt'), ca.certPem);
      writeFileSync(join(dir, 'token'), 'first\n');
      writeFileSync(join(dir, 'config'), kubeconfig({ server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, 'certificate-authority': 'pki/ca.crt' }, { tokenFile: 'token' }));
      const kc = loadKubeConfig(join(dir, 'config'), {});
      assert.ok(kc instanceof PlainKubeConfig);
      const client = new KubeClient(kc);
      await client.request('GET', '/api/v1/namespaces/default');
      client.close();
      writeFileSync(join(dir, 'token'), 'second\n');
      const again = new KubeClient(kc);
      await again.request('GET', '/api/v1/namespaces/default');
      again.close();
      assert.deepEqual(seen, ['Bearer first', 'Bearer second']);
      // A CA that did not sign the server's certificate: refused.
      const other = createCertificate({ commonName: 'other-ca', validDays: 1 });
      writeFileSync(join(dir, 'pki', 'ca.crt'), other.certPem);
      const refused = new KubeClient(kc);
      await assert.rejects(refused.request('GET', '/api/v1/namespaces/default'));
      refused.close();
    } finally {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('inline data, basic auth, insecure-skip-tls-verify and tls-server-name reach the request options', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ironlb-kc-'));
    try {
      writeFileSync(join(dir, 'config'), kubeconfig(
        { server: 'https://10.0.0.1:6443', 'certificate-authority-data': Buffer.from('CA').toString('base64'), 'insecure-skip-tls-verify': true, 'tls-server-name': 'kubernetes' },
        { 'client-certificate-data': Buffer.from('CERT').toString('base64'), 'client-key-data': Buffer.from('KEY').toString('base64'), username: 'admin', password: 'pw' },
      ));
      const o: https.RequestOptions = {};
      await kubeConfigFromFile(join(dir, 'config')).applyToHTTPSOptions(o);
      assert.deepEqual([String(o.ca), String(o.cert), String(o.key as Buffer), o.rejectUnauthorized, o.servername, o.auth], ['CA', 'CERT', 'KEY', false, 'kubernetes', 'admin:pw']);
      assert.equal((o.headers as Record<string, string>).Authorization, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('several files in $KUBECONFIG merge: the first current-context and the first of each name win; paths are relative to their own file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ironlb-kc-'));
    try {
      mkdirSync(join(dir, 'a'));
      mkdirSync(join(dir, 'b'));
      writeFileSync(join(dir, 'a', 'config'), stringify({ clusters: [{ name: 'c', cluster: { server: 'https://first:6443' } }] }));
      writeFileSync(join(dir, 'b', 'tok'), 'from-b');
      writeFileSync(join(dir, 'b', 'config'), kubeconfig({ server: 'https://second:6443' }, { tokenFile: 'tok' }));
      const kc = loadKubeConfig(undefined, { KUBECONFIG: `${join(dir, 'a', 'config')}:${join(dir, 'missing')}:${join(dir, 'b', 'config')}`, HOME: dir });
      assert.equal(kc.getCurrentCluster()?.server, 'https://first:6443');
      const o: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(o);
      assert.equal((o.headers as Record<string, string>).Authorization, 'Bearer from-b');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('exec plugins and proxies are left to client-node (the server is known without it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ironlb-kc-'));
    try {
      writeFileSync(join(dir, 'config'), kubeconfig({ server: 'https://10.0.0.1:6443', 'proxy-url': 'http://proxy:3128' }, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } }));
      const kc = kubeConfigFromFile(join(dir, 'config'));
      assert.ok(!(kc instanceof PlainKubeConfig));
      assert.deepEqual(kc.getCurrentCluster(), { server: 'https://10.0.0.1:6443', proxyUrl: 'http://proxy:3128' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('in-cluster: the service host (IPv6 bracketed) and port, the CA and the token from the service account folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ironlb-sa-'));
    try {
      writeFileSync(join(dir, 'ca.crt'), 'CA');
      writeFileSync(join(dir, 'token'), 'sa-token\n');
      const kc = inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
      assert.equal(kc.getCurrentCluster().server, 'https://[fd00::1]:443');
      const o: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(o);
      assert.equal(String(o.ca), 'CA');
      assert.equal((o.headers as Record<string, string>).Authorization, 'Bearer sa-token');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
