// The webhooks as the real kube-apiserver calls them: the controller makes its own CA and serving
// certificate, keeps them in the Secret metallb-webhook-cert and injects the caBundle into the
// ValidatingWebhookConfiguration and BGPPeer's conversion stanza; `kubectl apply` of a bad pool is
// refused with ironlb's message; a BGPPeer written as v1beta1 is stored and read back as v1beta2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDaemon, type RunningDaemon } from '../../src/daemon/run.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { clusterSuiteOptions, freePort, type ControlPlane } from './index.ts';
import { ironlbNamespace as ns, metallbWebhookConfiguration, startIronlbControlPlane } from './ironlb-setup.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects

describe('webhooks called by the real apiserver', clusterSuiteOptions(), () => {
  let cp: ControlPlane;
  let d: RunningDaemon;
  let port: number;
  before(async () => {
    cp = await startIronlbControlPlane('k8s-webhooks');
    port = await freePort();
    const conv = await cp.request('PATCH', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io', {
      spec: { conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: `https://127.0.0.1:${port}/convert` } } } },
    }, 'application/merge-patch+json');
    assert.equal(conv.status, 200, JSON.stringify(conv.body));
    const cfg = await cp.request('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', metallbWebhookConfiguration(port));
    assert.equal(cfg.status, 201, JSON.stringify(cfg.body));
    d = await runDaemon({ controller: true, speaker: false }, {
      folder: '', namespace: ns, logger: silentLogger(),
      cluster: { kubeconfig: cp.kubeconfigPath, leaderElection: false, webhookPort: port, webhookHost: '127.0.0.1', webhookExtraHosts: ['127.0.0.1'] },
    });
  });
  after(async () => {
    await d?.stop();
    await cp?.stop();
  });

  test('certificates in the Secret, caBundle injected into the webhook configuration and the CRD', async () => {
    const secret = (await cp.request('GET', `/api/v1/namespaces/${ns}/secrets/metallb-webhook-cert`)).body as Json;
    assert.equal(secret.type, 'kubernetes.io/tls');
    const ca = secret.data['ca.crt'] as string;
    const cfg = (await cp.request('GET', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/metallb-webhook-configuration')).body as Json;
    for (const w of cfg.webhooks as Json[]) assert.equal(w.clientConfig.caBundle, ca, w.name);
    const crd = (await cp.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io')).body as Json;
    assert.equal(crd.spec.conversion.webhook.clientConfig.caBundle, ca);
  });

  test('kubectl apply of a bad pool is refused with ironlb\'s message; a good one passes', async () => {
    const good = await cp.kubectl(['apply', '-f', '-'], { input: `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: a, namespace: ${ns} }\nspec: { addresses: ["192.0.2.0/24"] }\n` });
    assert.equal(good.code, 0, good.stderr);
    // The webhook reads the cluster through the controller's informers: let it see pool a.
    await sleep(500);
    const bad = await cp.kubectl(['apply', '-f', '-'], { input: `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: b, namespace: ${ns} }\nspec: { addresses: ["192.0.2.128/25"] }\n` });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /admission webhook "ipaddresspoolvalidationwebhook\.metallb\.io" denied the request/);
    assert.match(bad.stderr, /IPAddressPool\/metallb-system\/b: spec\.addresses\[0\]: .*overlap/);
    const wrongNs = await cp.kubectl(['apply', '-f', '-'], { input: 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: c, namespace: default }\nspec: { addresses: ["198.51.100.0/24"] }\n' });
    assert.notEqual(wrongNs.code, 0);
    assert.match(wrongNs.stderr, /MetalLB namespace "metallb-system"/);
    assert.ok(d.cluster!.webhooks!.served.admission >= 3);
  });

  test('a BGPPeer written as v1beta1 is stored as v1beta2 and read back as either', async () => {
    const r = await cp.kubectl(['apply', '-f', '-'], { input: `apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata: { name: old, namespace: ${ns} }\nspec: { myASN: 64512, peerASN: 64513, peerAddress: 10.0.0.1, holdTime: 90s }\n` });
    assert.equal(r.code, 0, r.stderr);
    const v2 = (await cp.request('GET', `/apis/metallb.io/v1beta2/namespaces/${ns}/bgppeers/old`)).body as Json;
    assert.equal(v2.apiVersion, 'metallb.io/v1beta2');
    // MetalLB's conversion: timers explicit (an absent keepalive becomes 0s); the CRD's defaults fill the rest.
    assert.deepEqual({ ...v2.spec, peerPort: undefined, disableMP: undefined, dualStackAddressFamily: undefined }, {
      myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.1', holdTime: '90s', keepaliveTime: '0s', peerPort: undefined, disableMP: undefined, dualStackAddressFamily: undefined,
    });
    const v1 = (await cp.request('GET', `/apis/metallb.io/v1beta1/namespaces/${ns}/bgppeers/old`)).body as Json;
    assert.equal(v1.apiVersion, 'metallb.io/v1beta1');
    assert.equal(v1.spec.holdTime, '90s');
    assert.ok(d.cluster!.webhooks!.served.conversion > 0, 'the apiserver called /convert');
  });

  test('certificates rotated before expiry (lifetimes of seconds): the apiserver keeps calling the webhook throughout', async () => {
    // A fresh start with short lifetimes: the CA lives 40 s and gets its successor 30 s before
    // expiry; the serving certificate is renewed 20 s before it or its CA expires.
    await d.stop();
    const del = await cp.request('DELETE', `/api/v1/namespaces/${ns}/secrets/metallb-webhook-cert`);
    assert.equal(del.status, 200);
    d = await runDaemon({ controller: true, speaker: false }, {
      folder: '', namespace: ns, logger: silentLogger(),
      cluster: {
        kubeconfig: cp.kubeconfigPath, leaderElection: false, webhookPort: port, webhookHost: '127.0.0.1', webhookExtraHosts: ['127.0.0.1'],
        webhookCertLifetimes: { caMs: 40_000, caRenewBeforeMs: 30_000, servingMs: 40_000, servingRenewBeforeMs: 20_000 }, webhookCertCheckMs: 500,
      },
    });
    const bad = { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'rot', namespace: ns }, spec: { addresses: ['192.0.2.0/26'] } };
    const admit = async () => (await cp.request('POST', `/apis/metallb.io/v1beta1/namespaces/${ns}/ipaddresspools`, bad)).body?.message as string;
    const denied = /ipaddresspoolvalidationwebhook\.metallb\.io" denied the request: .*overlaps "192\.0\.2\.0\/26" in IPAddressPool metallb-system\/rot/;
    // The new CA reaches the apiserver's webhook client shortly after it is injected.
    const end = Date.now() + 20_000;
    while (!denied.test(await admit())) {
      assert.ok(Date.now() < end, `the webhook never answered with the new certificates: ${await admit()}`);
      await sleep(200);
    }
    const served = () => new Promise<X509Certificate>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => { resolve(s.getPeerX509Certificate()!); s.end(); });
      s.on('error', reject);
    });
    const issuers = new Set<string>();
    let bundleMax = 0;
    const failures: string[] = [];
    const start = Date.now();
    while (Date.now() - start < 25_000) {
      const m = await admit();
      if (!denied.test(m)) failures.push(m);
      const secret = (await cp.request('GET', `/api/v1/namespaces/${ns}/secrets/metallb-webhook-cert`)).body as Json;
      const cas = (Buffer.from(secret.data['ca.crt'] as string, 'base64').toString().match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
      bundleMax = Math.max(bundleMax, cas.length);
      const cert = await served();
      issuers.add(cas.find((ca) => cert.verify(ca.publicKey))?.fingerprint256 ?? 'unknown');
      await sleep(250);
    }
    assert.deepEqual(failures, [], 'every admission during the rotations was answered by ironlb');
    assert.ok(bundleMax >= 2, 'a successor CA was published beside the old one');
    assert.ok(issuers.size >= 2 && !issuers.has('unknown'), `served from ${issuers.size} CAs, each in the bundle`);
  });
});
