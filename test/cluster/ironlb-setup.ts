// Shared setup of the ironlb cluster tests: the CRDs the Helm chart installs (metallb.io and the
// status kinds), Established before a test goes on.
import assert from 'node:assert/strict';
import type { ControlPlane } from './index.ts';

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
