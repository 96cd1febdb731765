// Webhook certificate rotation over a CA's whole life, on an injected clock against an in-memory
// API: the serving certificate is renewed before it expires; the CA's successor goes into the
// caBundle (webhook configuration and CRD conversion stanza) long before anything it signs is
// served; an expired CA leaves the bundle; two replicas converge on one Secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { KubeApiError, type KubeClient } from '../store/kubernetes/kube-client.ts';
import { defaultLifetimes, WebhookCertManager, type WebhookTls } from './certs.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects
const day = 86_400_000;

/** Just the objects certs.ts reads and writes, with resourceVersions and 409 on a stale write. */
function fakeApi() {
  const objects = new Map<string, Json>();
  let rv = 0;
  objects.set('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/metallb-webhook-configuration', {
    metadata: { name: 'metallb-webhook-configuration', resourceVersion: String(++rv) },
    webhooks: [{ name: 'a', clientConfig: { caBundle: '' } }, { name: 'b', clientConfig: { caBundle: '' } }],
  });
  objects.set('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io', {
    metadata: { name: 'bgppeers.metallb.io', resourceVersion: String(++rv) }, spec: { conversion: { strategy: 'Webhook', webhook: { clientConfig: {} } } },
  });
  const writes: string[] = [];
  const client = {
    request: (method: string, path: string, o?: { body?: Json }) => {
      const clone = <T>(x: T): T => structuredClone(x);
      if (method === 'GET') {
        const obj = objects.get(path);
        return obj ? Promise.resolve(clone(obj)) : Promise.reject(new KubeApiError(404, 'NotFound', 'not found', method, path));
      }
      writes.push(`${method} ${path}`);
      const body = clone(o?.body ?? {});
      if (method === 'POST') {
        const key = `${path}/${body.metadata.name as string}`;
        if (objects.has(key)) return Promise.reject(new KubeApiError(409, 'AlreadyExists', 'exists', method, path));
        objects.set(key, { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } });
        return Promise.resolve(body);
      }
      const have = objects.get(path);
      if (!have) return Promise.reject(new KubeApiError(404, 'NotFound', 'not found', method, path));
      if (method === 'PUT') {
        if (body.metadata?.resourceVersion !== have.metadata.resourceVersion) return Promise.reject(new KubeApiError(409, 'Conflict', 'stale', method, path));
        objects.set(path, { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } });
      } else { // merge patch of the CRD's caBundle
        have.spec.conversion.webhook.clientConfig.caBundle = body.spec.conversion.webhook.clientConfig.caBundle;
        have.metadata.resourceVersion = String(++rv);
      }
      return Promise.resolve(body);
    },
  } as unknown as KubeClient;
  return { client, objects, writes };
}

const pems = (bundle: string): X509Certificate[] => (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
const issuerOf = (tls: WebhookTls): X509Certificate | undefined => {
  const cert = new X509Certificate(tls.serving.certPem);
  return pems(tls.caBundle).find((ca) => cert.verify(ca.publicKey));
};

test('a CA\'s whole life: serving renewed before expiry, the next CA published long before it signs, the old one dropped when expired', async () => {
  const api = fakeApi();
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  let now = t0;
  const m = new WebhookCertManager({ client: api.client, namespace: 'metallb-system', now: () => new Date(now) });
  const injected = () => {
    const cfg = api.objects.get('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/metallb-webhook-configuration')!;
    const crd = api.objects.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io')!;
    const bundles = [...(cfg.webhooks as Json[]).map((w) => w.clientConfig.caBundle as string), crd.spec.conversion.webhook.clientConfig.caBundle as string];
    assert.equal(new Set(bundles).size, 1, 'one caBundle everywhere');
    return Buffer.from(bundles[0]!, 'base64').toString();
  };

  const first = await m.ensure();
  const ca1 = issuerOf(first)!;
  assert.ok(ca1, 'the serving certificate chains to the bundle');
  assert.equal(pems(first.caBundle).length, 1);
  assert.equal(injected(), first.caBundle);
  assert.ok(new X509Certificate(first.serving.certPem).checkHost('metallb-webhook-service.metallb-system.svc'));

  // Nothing due: no write at all.
  now = t0 + 100 * day;
  const writes = api.writes.length;
  assert.equal((await m.ensure()).serving.certPem, first.serving.certPem);
  assert.equal(api.writes.length, writes);

  // 30 days before the serving certificate expires: a new one, from the same CA.
  now = t0 + defaultLifetimes.servingMs - 29 * day;
  const second = await m.ensure();
  assert.notEqual(second.serving.certPem, first.serving.certPem);
  assert.equal(issuerOf(second)?.fingerprint256, ca1.fingerprint256);
  assert.ok(Date.parse(new X509Certificate(second.serving.certPem).validTo) > now + 300 * day);

  // Checked every 10 days (the controller checks every 10 minutes) up to 20 days before the CA
  // expires: whatever is served is signed by a CA that was already in the published bundle at the
  // check before; the successor appears 90 days before expiry and signs from 30 days before.
  let published = injected();
  let successorSeen: number | undefined;
  let tls = second;
  for (now = t0 + defaultLifetimes.servingMs - 20 * day; now <= t0 + defaultLifetimes.caMs - 20 * day; now += 10 * day) {
    tls = await m.ensure();
    const issuer = issuerOf(tls)!;
    assert.ok(pems(published).some((c) => c.fingerprint256 === issuer.fingerprint256), `day ${(now - t0) / day}: served from a CA not yet published`);
    if (successorSeen === undefined && pems(tls.caBundle).length === 2) successorSeen = now;
    published = injected();
    assert.equal(published, tls.caBundle);
  }
  assert.ok(successorSeen !== undefined && successorSeen >= t0 + defaultLifetimes.caMs - 90 * day && successorSeen < t0 + defaultLifetimes.caMs - 80 * day, 'the successor CA is published about 90 days before expiry');
  const ca2 = pems(tls.caBundle).find((c) => c.fingerprint256 !== ca1.fingerprint256)!;
  assert.equal(issuerOf(tls)?.fingerprint256, ca2.fingerprint256, 'signed by the new CA by 30 days before the old one expires');
  assert.equal(pems(tls.caBundle).length, 2, 'the old CA stays while it is valid (other replicas may serve its certificate)');

  // The old CA expired: out of the bundle.
  now = t0 + defaultLifetimes.caMs + 1 * day;
  const fifth = await m.ensure();
  assert.deepEqual(pems(fifth.caBundle).map((c) => c.fingerprint256), [ca2.fingerprint256]);
  assert.equal(injected(), fifth.caBundle);
  assert.equal(issuerOf(fifth)?.fingerprint256, ca2.fingerprint256);
  assert.equal(fifth.serving.certPem, tls.serving.certPem, 'dropping the old CA needs no new serving certificate');
});

test('two replicas at once: one Secret, both serve certificates the bundle trusts', async () => {
  const api = fakeApi();
  const now = () => new Date('2026-01-01T00:00:00Z');
  const a = new WebhookCertManager({ client: api.client, namespace: 'metallb-system', now });
  const b = new WebhookCertManager({ client: api.client, namespace: 'metallb-system', now });
  const [ta, tb] = await Promise.all([a.ensure(), b.ensure()]);
  assert.equal(ta.caBundle, tb.caBundle);
  assert.ok(issuerOf(ta) && issuerOf(tb));
  assert.equal(api.writes.filter((w) => w.startsWith('POST')).length >= 1, true);
});

test('short lifetimes (as the cluster test injects): rotation follows them', async () => {
  const api = fakeApi();
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  let now = t0;
  const lifetimes = { caMs: 60_000, caRenewBeforeMs: 45_000, servingMs: 60_000, servingRenewBeforeMs: 30_000 };
  const m = new WebhookCertManager({ client: api.client, namespace: 'metallb-system', now: () => new Date(now), lifetimes });
  const first = await m.ensure();
  now = t0 + 16_000;
  const second = await m.ensure();
  assert.equal(pems(second.caBundle).length, 2);
  assert.equal(second.serving.certPem, first.serving.certPem);
  now = t0 + 31_000;
  const third = await m.ensure();
  assert.notEqual(third.serving.certPem, first.serving.certPem);
  assert.notEqual(issuerOf(third)?.fingerprint256, issuerOf(first)?.fingerprint256);
});
