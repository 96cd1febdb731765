// Shared setup of the ironlb cluster tests: the CRDs the Helm chart installs (metallb.io and the
// status kinds), Established before a test goes on; a control plane ready for ironlb; waiting for
// what the apiserver or a daemon does next.
import assert from 'node:assert/strict';
import { admissionPaths } from '../../src/webhooks/server.ts';
import { waitFor } from '../e2e/frr.ts';
import { startControlPlane, type ControlPlane } from './index.ts';

/** The namespace ironlb runs in here: MetalLB's default. */
export const ironlbNamespace = 'metallb-system';

/**
 * MetalLB's ValidatingWebhookConfiguration (its name and webhooks), pointed at 127.0.0.1:port by
 * URL: no Service routing without kube-proxy here.
 */
export function metallbWebhookConfiguration(port: number, caBundle?: string): Record<string, unknown> {
  const kinds: [string, string, string][] = [['IPAddressPool', 'v1beta1', 'ipaddresspools'], ['BGPPeer', 'v1beta2', 'bgppeers'], ['BGPAdvertisement', 'v1beta1', 'bgpadvertisements'],
    ['L2Advertisement', 'v1beta1', 'l2advertisements'], ['Community', 'v1beta1', 'communities'], ['BFDProfile', 'v1beta1', 'bfdprofiles']];
  return {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'metallb-webhook-configuration' },
    webhooks: kinds.map(([kind, version, plural]) => ({
      name: `${kind.toLowerCase()}validationwebhook.metallb.io`, admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail', matchPolicy: 'Equivalent',
      clientConfig: { url: `https://127.0.0.1:${port}${admissionPaths[kind]}`, ...(caBundle ? { caBundle } : {}) },
      rules: [{ apiGroups: ['metallb.io'], apiVersions: [version], operations: kind === 'BFDProfile' ? ['CREATE', 'UPDATE', 'DELETE'] : ['CREATE', 'UPDATE'], resources: [plural] }],
    })),
  };
}

export async function installCrds(cp: ControlPlane): Promise<void> {
  const r = await cp.kubectl(['apply', '--server-side', '--field-manager=ironlb-tests', '-f', 'deploy/helm/ironlb/files/crds/']);
  assert.equal(r.code, 0, r.stderr);
  const w = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  assert.equal(w.code, 0, w.stderr);
}

/** frr-k8s's own FRRConfiguration CRD (vendored, see test/fixtures/frr-k8s/README.md), Established. */
export async function installFrrK8sCrd(cp: ControlPlane): Promise<void> {
  const r = await cp.kubectl(['apply', '--server-side', '--field-manager=ironlb-tests', '-f', 'test/fixtures/frr-k8s/frrk8s.metallb.io_frrconfigurations.yaml']);
  assert.equal(r.code, 0, r.stderr);
  const w = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/frrconfigurations.frrk8s.metallb.io']);
  assert.equal(w.code, 0, w.stderr);
}

/** A control plane with ironlb's CRDs Established and its namespace made (stopped again if that fails). */
export async function startIronlbControlPlane(name: string): Promise<ControlPlane> {
  const cp = await startControlPlane({ name });
  try {
    await installCrds(cp);
    const r = await cp.kubectl(['create', 'namespace', ironlbNamespace]);
    assert.equal(r.code, 0, r.stderr);
    return cp;
  } catch (e) {
    await cp.stop();
    throw e;
  }
}

/** `kubectl apply` of YAML text; fails the test with kubectl's message. */
export async function apply(cp: ControlPlane, yaml: string): Promise<void> {
  const r = await cp.kubectl(['apply', '-f', '-'], { input: yaml });
  assert.equal(r.code, 0, r.stderr);
}

/**
 * Polls `f` every 100 ms until it gives something other than undefined or false, and returns that.
 * A throw counts as not yet (e.g. 429 while a new CRD's storage initializes); the last one is
 * named if time runs out.
 */
export function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  return waitFor(what, ms, f, 100);
}
