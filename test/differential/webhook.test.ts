// The differential suite's webhook half (issue #13): the objects of webhook-cases.ts applied one
// after the other through the real apiserver, once with MetalLB's validating webhook (its
// controller in `--webhook-mode=onlywebhook`, v0.15.x) and once with ironlb's, each on its own
// control plane with MetalLB's CRDs. The apiserver calls the webhook at a URL on 127.0.0.1 (no
// Service routing here). What each case gives (stored, or the reason it was refused) is recorded;
// MetalLB's record is golden/webhook.json (UPDATE_GOLDEN=1 rewrites it), and every case answered
// differently must be listed in differences.ts (webhookDifferences) with its kind (other words,
// or only one refuses) and its reason. BGPPeer's conversion stanza points at the same webhook
// server: BGPPeers written as v1beta1 and v1beta2 are read back at the other version (their spec).
//
// MetalLB outside its pod: its webhook server listens on :9443 (fixed) and, with
// --disable-cert-rotation, reads tls.crt/tls.key from controller-runtime's default folder under
// $TMPDIR; the test makes a certificate for 127.0.0.1 with openssl and writes the caBundle itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDaemon, type RunningDaemon } from '../../src/daemon/run.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { clusterSuiteOptions, coreTools, freePort, startControlPlane, toolVersions, type ControlPlane } from '../cluster/index.ts';
import { installCrds, metallbWebhookConfiguration } from '../cluster/ironlb-setup.ts';
import { metallbConfig } from '../../src/store/kubernetes/resources.ts';
import { webhookDifferenceKind, webhookDifferences } from './differences.ts';
import { haveMetallb } from './implementations.ts';
import { installMetallbCrds, startMetallbController } from './metallb.ts';
import type { Controller } from './observe.ts';
import { type WebhookCase, webhookCases } from './webhook-cases.ts';

/** Per case: "stored" or "refused: <reason>" (the webhook's text; the namespace written NS). */
type WebhookRecord = Record<string, string>;
interface Golden { metallb: string; cases: WebhookRecord }
const goldenPath = new URL('./golden/webhook.json', import.meta.url);
const ns = 'metallb-system';

/** The objects a case stores or deletes: [kind, name]. */
function objectsOf(c: WebhookCase): [string, string][] {
  if (c.delete) {
    const [res = '', name = ''] = c.delete.split('/');
    const kind = metallbConfig.find((r) => `${r.plural}.${r.group}` === res || r.plural === res)?.kind ?? res;
    return [[kind, name]];
  }
  return parseAllDocuments(c.apply ?? '').map((d) => d.toJSON() as { kind?: string; metadata?: { name?: string } } | null)
    .filter((o) => o?.kind && o.metadata?.name).map((o) => [o!.kind!, o!.metadata!.name!]);
}

/**
 * Applies every case in order and records what the apiserver answered. After each case
 * `seen` waits until the webhook can see it (ironlb's reads its controller's informer caches;
 * MetalLB's lists through the apiserver, so it needs no wait).
 */
async function runCases(cp: ControlPlane, seen?: (c: WebhookCase) => Promise<void>): Promise<WebhookRecord> {
  const out: WebhookRecord = {};
  for (const c of webhookCases) {
    if (c.read) {
      const g = await cp.request('GET', `/apis/metallb.io/${c.read.version}/namespaces/${ns}/bgppeers/${c.read.name}`);
      out[c.name] = g.status === 200 ? `${String(g.body.apiVersion)} spec ${JSON.stringify(sorted(g.body.spec))}` : `failed: ${g.status} ${JSON.stringify(g.body).replaceAll(ns, 'NS')}`;
      continue;
    }
    const r = c.apply
      ? await cp.kubectl(['apply', '-f', '-'], { input: c.apply.replaceAll('namespace: NS', `namespace: ${ns}`) })
      : await cp.kubectl(['delete', '-n', ns, c.delete!]);
    const denied = /denied the request: (.*)$/s.exec(r.stderr.trim());
    out[c.name] = r.code === 0 ? 'stored' : denied ? `refused: ${denied[1]!.replaceAll(ns, 'NS')}` : `failed: ${r.stderr.trim().replaceAll(ns, 'NS')}`;
    // A refused multi-object apply may have stored the others: waited for too.
    await seen?.(c);
  }
  return out;
}

/** Keys sorted at every level (the webhooks may order fields differently; the record compares values). */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sorted(x)]));
}

/** BGPPeer's conversion stanza, pointed at the webhook (MetalLB's release CRDs have none: its kustomize adds it). */
async function convertBgpPeers(cp: ControlPlane, port: number, caBundle?: string): Promise<void> {
  const r = await cp.request('PATCH', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io', {
    spec: { conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: `https://127.0.0.1:${port}/convert`, ...(caBundle ? { caBundle } : {}) } } } },
  }, 'application/merge-patch+json');
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

const portFree = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

/** Every case answered differently: its name and kind, and the two answers. */
function webhookLines(metallb: WebhookRecord, ironlb: WebhookRecord): { key: string; line: string }[] {
  const out: { key: string; line: string }[] = [];
  for (const c of new Set([...Object.keys(metallb), ...Object.keys(ironlb)])) {
    const m = metallb[c] ?? 'absent'; const i = ironlb[c] ?? 'absent';
    if (m !== i) out.push({ key: `${c}: ${webhookDifferenceKind(m, i)}`, line: `${c}: metallb ${m} | ironlb ${i}` });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

// MetalLB names one of the pool's CIDRs in its aggregation refusal, picked in Go's random map
// order (pool "a" has two by then): the record keeps the refusal, not which CIDR it named.
function stableAnswers(cases: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(cases).map(([k, v]) => [k, v.replace(/(than the aggregation length for addresses )\S+$/, '$1<a CIDR of the pool>')]));
}

const suite = (tools: Parameters<typeof clusterSuiteOptions>[0]) => ({ ...clusterSuiteOptions(tools), timeout: 600_000 });

describe(`MetalLB's webhook v${toolVersions.metallb}: the golden record`, suite([...coreTools, 'metallb-controller']), () => {
  let cp: ControlPlane;
  let controller: Controller | undefined;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'md-webhook-'));
    assert.ok(await portFree(9443), "port 9443 (MetalLB's webhook port, fixed) is in use on 127.0.0.1");
    cp = await startControlPlane({ name: 'diff-webhook-metallb' });
    await installMetallbCrds(cp);
    await cp.kubectl(['create', 'namespace', ns]);
    const certs = join(dir, 'k8s-webhook-server', 'serving-certs');
    mkdirSync(certs, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(certs, 'tls.key'), '-out', join(certs, 'tls.crt')], { stdio: 'pipe' });
    const caBundle = readFileSync(join(certs, 'tls.crt')).toString('base64');
    const cfg = await cp.request('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', metallbWebhookConfiguration(9443, caBundle));
    assert.equal(cfg.status, 201, JSON.stringify(cfg.body));
    await convertBgpPeers(cp, 9443, caBundle);
    controller = await startMetallbController(cp, ns, ['--webhook-mode=onlywebhook'], { TMPDIR: dir });
    for (let i = 0; i < 100 && (await portFree(9443)); i++) await sleep(100);
  });
  after(async () => {
    await controller?.stop();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every case: stored or refused, and why', async () => {
    const seen = stableAnswers(await runCases(cp));
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(goldenPath, `${JSON.stringify({ metallb: `v${toolVersions.metallb}`, cases: seen }, null, 2)}\n`);
      return;
    }
    const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as Golden;
    assert.equal(golden.metallb, `v${toolVersions.metallb}`, 'the golden record is of another MetalLB release: rewrite it with UPDATE_GOLDEN=1');
    assert.deepEqual(seen, golden.cases);
  });
});

describe("ironlb's webhook beside MetalLB's golden record", suite(coreTools), () => {
  let cp: ControlPlane;
  let d: RunningDaemon | undefined;
  before(async () => {
    cp = await startControlPlane({ name: 'diff-webhook-ironlb' });
    // MetalLB's CRDs when it is built (the objects are then checked by the same schemas), else ironlb's.
    if (haveMetallb()) await installMetallbCrds(cp); else await installCrds(cp);
    await cp.kubectl(['create', 'namespace', ns]);
    const port = await freePort();
    const cfg = await cp.request('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', metallbWebhookConfiguration(port));
    assert.equal(cfg.status, 201, JSON.stringify(cfg.body));
    await convertBgpPeers(cp, port);
    d = await runDaemon({ controller: true, speaker: false }, {
      folder: '', namespace: ns, logger: silentLogger(),
      cluster: { kubeconfig: cp.kubeconfigPath, leaderElection: false, webhookPort: port, webhookHost: '127.0.0.1', webhookExtraHosts: ['127.0.0.1'] },
    });
    // ironlb injects its CA into the configuration and the CRD: wait for it before the first case.
    for (let i = 0; i < 100; i++) {
      const w = (await cp.request('GET', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/metallb-webhook-configuration')).body as { webhooks: { clientConfig: { caBundle?: string } }[] };
      const crd = (await cp.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io')).body as { spec: { conversion?: { webhook?: { clientConfig?: { caBundle?: string } } } } };
      if (w.webhooks.every((h) => h.clientConfig.caBundle) && crd.spec.conversion?.webhook?.clientConfig?.caBundle) break;
      await sleep(100);
    }
  });
  after(async () => {
    await d?.stop();
    await cp?.stop();
  });

  test('the differences are exactly the listed ones', async () => {
    const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as Golden;
    // ironlb's webhook judges against its store's informer caches: the next case waits until they
    // hold this one's objects as the apiserver has them (or no longer hold a deleted one).
    const store = d!.store as unknown as { cached(kind: string): { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }[] };
    const seen = await runCases(cp, async (c) => {
      for (const [kind, name] of objectsOf(c)) {
        const res = metallbConfig.find((x) => x.kind === kind);
        if (!res) continue;
        const g = await cp.request('GET', `/apis/${res.group}/${res.version}/namespaces/${ns}/${res.plural}/${name}`);
        const rv = g.status === 200 ? String((g.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion) : undefined;
        const cached = () => store.cached(kind).find((o) => o.metadata?.name === name && o.metadata.namespace === ns)?.metadata?.resourceVersion;
        for (const t = Date.now(); cached() !== rv && Date.now() - t < 10_000;) await sleep(50);
      }
    });
    if (process.env.DIFF_VERBOSE === '1') console.log(JSON.stringify(seen, null, 2));
    const lines = webhookLines(golden.cases, seen);
    assert.deepEqual(lines.map((l) => l.key), webhookDifferences.map((x) => `${x.case}: ${x.kind}`).sort(),
      `differences seen:\n${lines.map((l) => l.line).join('\n')}`);
  });
});
