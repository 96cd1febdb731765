// `--bgp-backend frr-k8s` in a cluster: the speaker's FRRConfiguration written to the apiserver
// under its own field manager, as MetalLB's speaker does (controllerutil.CreateOrUpdate: read,
// then create, or replace the spec). The role calls it only when the object it wants changed, and
// an update that changes nothing is a no-op at the apiserver (no new resourceVersion).
import type { EmittedFrrConfiguration } from '../../speaker/frrk8s-emit.ts';
import { frrConfigurationName } from '../../speaker/frrk8s-emit.ts';
import { KubeApiError, type Json, type KubeClient, resourcePath } from './kube-client.ts';

export const frrConfigurationResource = { group: 'frrk8s.metallb.io', version: 'v1beta1', plural: 'frrconfigurations' } as const;
export const speakerFieldManager = 'ironlb-speaker';

const notFound = (e: unknown): boolean => e instanceof KubeApiError && e.code === 404;
const conflict = (e: unknown): boolean => e instanceof KubeApiError && e.code === 409;

export class KubeFrrConfigurationWriter {
  readonly where: string;
  constructor(private readonly client: KubeClient, private readonly namespace: string) {
    this.where = `namespace ${namespace}`;
  }

  async write(obj: EmittedFrrConfiguration | undefined, node: string): Promise<void> {
    const query = { fieldManager: speakerFieldManager };
    const name = obj?.metadata.name ?? frrConfigurationName(node);
    const path = resourcePath(frrConfigurationResource, this.namespace, name);
    if (!obj) {
      await this.client.request('DELETE', path).catch((e: unknown) => { if (!notFound(e)) throw e; });
      return;
    }
    // Two tries: a 409 means someone (frr-k8s never writes it; a person might) changed it meanwhile.
    for (let attempt = 0; ; attempt++) {
      try {
        const current = await this.client.request<Json>('GET', path).catch((e: unknown) => { if (notFound(e)) return undefined; throw e; });
        if (!current) {
          await this.client.request('POST', resourcePath(frrConfigurationResource, this.namespace), { body: obj, query });
          return;
        }
        const metadata = { ...(current.metadata as Json) };
        await this.client.request('PUT', path, { body: { ...current, metadata, spec: obj.spec }, query });
        return;
      } catch (e) {
        if (attempt === 0 && conflict(e)) continue;
        throw e;
      }
    }
  }
}
