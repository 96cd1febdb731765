// MetalLB's controller flag --ml-secret-name: the controller creates the Secret holding the
// speakers' memberlist key (key `secretkey`) when it does not exist, so a chart needs no
// pre-made secret; the speakers mount it as a folder (--ml-secret-key-path, cli-options.ts).
// An existing Secret (MetalLB's, the user's, another replica's) is never replaced.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { KubeApiError, type KubeClient, resourcePath } from '../store/kubernetes/kube-client.ts';
import { memberlistSecretKey } from '../membership/udp.ts';

const secrets = { group: '', version: 'v1', plural: 'secrets' };

/** Creates the memberlist Secret `name` in `namespace` unless it exists. True when this call created it. */
export async function ensureMemberlistSecret(client: Pick<KubeClient, 'request'>, namespace: string, name: string, logger?: Logger): Promise<boolean> {
  // Text (base64 of 96 random bytes), so that it reads the same as a file of any tool.
  const key = randomBytes(96).toString('base64');
  const body = {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/component': 'speaker' } },
    data: { [memberlistSecretKey]: Buffer.from(key).toString('base64') },
  };
  try {
    await client.request('POST', resourcePath(secrets, namespace), { body });
  } catch (e) {
    if (e instanceof KubeApiError && e.code === 409) return false; // it exists: keep it
    throw e;
  }
  logger?.info({ secret: name }, 'layer 2: memberlist secret created');
  return true;
}
