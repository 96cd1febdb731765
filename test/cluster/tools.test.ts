// Tool lookup needs no control plane: a missing tool names the build command; under CI=true a
// cluster suite is never skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterSuiteOptions, metallbCrdDir, missingTools, toolPath, toolVersions } from './tools.ts';

function withEnv(env: Record<string, string | undefined>, fn: () => void): void {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try { fn(); } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('a missing tool: toolPath throws naming the path and scripts/k8s-tools.sh; suites skip, except under CI=true', () => {
  const empty = mkdtempSync(join(tmpdir(), 'ironlb-k8s-empty-'));
  try {
    withEnv({ IRONLB_K8S_CACHE: empty, CI: undefined }, () => {
      assert.throws(() => toolPath('kube-apiserver'),
        (e: Error) => e.message.includes(join(empty, `kubernetes-v${toolVersions.kubernetes}`, 'kube-apiserver')) && e.message.includes('scripts/k8s-tools.sh'));
      assert.equal(missingTools(), 'missing kube-apiserver, etcd, kubectl, helm: run scripts/k8s-tools.sh');
      assert.match(clusterSuiteOptions().skip ?? '', /run scripts\/k8s-tools\.sh/);
      // MetalLB's binaries (test/differential) are named by role in their own versioned folder.
      assert.throws(() => toolPath('metallb-controller'),
        (e: Error) => e.message.includes(join(empty, `metallb-v${toolVersions.metallb}`, 'controller')));
      assert.throws(() => metallbCrdDir(), (e: Error) => e.message.includes(join(empty, `metallb-v${toolVersions.metallb}`, 'crds')));
      assert.equal(missingTools(['etcd', 'metallb-speaker']), 'missing etcd, metallb-speaker: run scripts/k8s-tools.sh');
    });
    withEnv({ IRONLB_K8S_CACHE: empty, CI: 'true' }, () => assert.equal(clusterSuiteOptions().skip, undefined));
  } finally {
    rmSync(empty, { recursive: true });
  }
});

test('the pinned versions: Kubernetes 1.35, etcd 3.6, helm 3, MetalLB 0.15', () => {
  assert.match(toolVersions.metallb, /^0\.15\.\d+$/);
  assert.match(toolVersions.kubernetes, /^1\.35\.\d+$/);
  assert.match(toolVersions.etcd, /^3\.6\.\d+$/);
  assert.match(toolVersions.helm, /^3\.\d+\.\d+$/);
});
