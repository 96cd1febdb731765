// Where the real Kubernetes test tools live. scripts/k8s-tools.sh builds them from their published
// Go modules into a cache outside the repo, one folder per tool and pinned version.
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type ToolName = 'kube-apiserver' | 'etcd' | 'kubectl' | 'helm' | 'metallb-controller' | 'metallb-speaker';

interface Versions { kubernetes: string; etcd: string; helm: string; metallb: string; frrk8s: string }

/** The control plane's tools: what every cluster suite needs. */
export const coreTools: readonly ToolName[] = ['kube-apiserver', 'etcd', 'kubectl', 'helm'];

export const toolVersions: Versions = JSON.parse(
  readFileSync(new URL('./tools/versions.json', import.meta.url), 'utf8'),
) as Versions;

export const buildCommand = 'scripts/k8s-tools.sh';

function cacheRoot(): string {
  return process.env.IRONLB_K8S_CACHE ?? join(homedir(), '.cache', 'ironlb-k8s');
}

function toolDir(name: ToolName): string {
  switch (name) {
    case 'kube-apiserver':
    case 'kubectl':
      return join(cacheRoot(), `kubernetes-v${toolVersions.kubernetes}`);
    case 'etcd':
      return join(cacheRoot(), `etcd-v${toolVersions.etcd}`);
    case 'helm':
      return join(cacheRoot(), `helm-v${toolVersions.helm}`);
    case 'metallb-controller':
    case 'metallb-speaker':
      return metallbDir();
  }
}

function metallbDir(): string {
  return join(cacheRoot(), `metallb-v${toolVersions.metallb}`);
}

/** MetalLB's own CRDs (config/crd/bases of the pinned release), copied beside its binaries by the build. */
export function metallbCrdDir(): string {
  const dir = join(metallbDir(), 'crds');
  try {
    accessSync(join(dir, 'metallb.io_ipaddresspools.yaml'), constants.R_OK);
  } catch {
    throw new Error(`MetalLB's CRDs are not in ${dir}; build the Kubernetes test tools with \`${buildCommand}\``);
  }
  return dir;
}

/** The path of a built tool; throws, naming the build command, when it is missing. */
export function toolPath(name: ToolName): string {
  const path = join(toolDir(name), name.replace(/^metallb-/, ''));
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${name} is not built (expected an executable at ${path}); build the Kubernetes test tools with ` +
      `\`${buildCommand}\` (cold: ~25 min on 2 cores, then cached)`);
  }
  return path;
}

/** Why the cluster tests cannot run here, or undefined when every tool is present. */
export function missingTools(tools: readonly ToolName[] = coreTools): string | undefined {
  const missing = tools.filter((t) => {
    try { toolPath(t); return false; } catch { return true; }
  });
  return missing.length === 0 ? undefined : `missing ${missing.join(', ')}: run ${buildCommand}`;
}

/**
 * node:test options for a suite that needs the real control plane: skipped with the reason when the
 * tools are not built, except under CI=true, where the suite runs and fails loudly.
 */
export function clusterSuiteOptions(tools: readonly ToolName[] = coreTools): { skip?: string; timeout: number } {
  const why = process.env.CI === 'true' ? undefined : missingTools(tools);
  return why === undefined ? { timeout: 300_000 } : { skip: why, timeout: 300_000 };
}
