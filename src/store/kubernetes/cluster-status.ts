// `ironlb status` against a cluster: the same ControllerStatus and SpeakerStatus the folder's
// status files hold, read back from what the roles write there — each Service's
// status.loadBalancer.ingress and pool annotation, IPAddressPool.status, the controller's Warning
// Events, and the speakers' BGPSessionState, ServiceBGPStatus and ServiceL2Status objects.
//
// What a cluster does not hold: a session's prefix list (BGPSessionState keeps the count), so a
// Service counts as announced on a session when its node's ServiceBGPStatus names the peer; the
// FRRConfigurations a speaker refused come from its ConfigurationState; and
// the speakers' "not announced, because" list (MetalLB has no object for it either).
import type { Service } from '../../api/resources.ts';
import type { ControllerStatus, PoolUsage, SpeakerStatus, StatusEvent } from '../store.ts';
import { serviceKey } from '../store.ts';
import { allocatedFromPoolAnnotation } from './assemble.ts';
import { managedService } from './controller-writer.ts';
import type { Json, KubeClient } from './kube-client.ts';
import { KubeApiError, resourcePath } from './kube-client.ts';
import { events as eventsResource, ipAddressPools, services as servicesResource } from './resources.ts';
import { readSpeakerStatuses } from './speaker-writer.ts';
import { statusLabels, statusResources } from '../../api/status-kinds.ts';
import { frrConditionType } from './configuration-state.ts';

export interface ClusterStatus {
  readonly controller: ControllerStatus;
  readonly speakers: SpeakerStatus[];
  /** Every LoadBalancer Service this controller class handles (namespace/name), with an IP or not. */
  readonly loadBalancers: string[];
}

const controllerComponent = 'metallb-controller';

function eventOf(e: Json): StatusEvent | undefined {
  const o = e.involvedObject as { kind?: string; namespace?: string; name?: string } | undefined;
  const source = (e.source as { component?: string } | undefined)?.component ?? e.reportingComponent;
  if (o?.kind !== 'Service' || source !== controllerComponent) return undefined;
  const time = (e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? (e.metadata as { creationTimestamp?: string }).creationTimestamp ?? '') as string;
  return { time, type: e.type === 'Warning' ? 'Warning' : 'Normal', object: `${o.namespace}/${o.name}`, reason: typeof e.reason === 'string' ? e.reason : '', message: typeof e.message === 'string' ? e.message : '' };
}

/** Reads the cluster's status objects into the shapes the status files have. */
export async function readClusterStatus(client: KubeClient, namespace: string, loadBalancerClass?: string): Promise<ClusterStatus> {
  const [svcList, poolList, eventList, speakers, l2List, stateList] = await Promise.all([
    client.request<{ items?: Json[] }>('GET', resourcePath(servicesResource)),
    client.request<{ items?: Json[] }>('GET', resourcePath(ipAddressPools, namespace)),
    client.request<{ items?: Json[] }>('GET', resourcePath(eventsResource), { query: { fieldSelector: 'type=Warning' } }),
    readSpeakerStatuses(client, namespace),
    client.request<{ items?: Json[] }>('GET', resourcePath(statusResources.ServiceL2Status, namespace)),
    // Extra information: a cluster without the kind still gets its status.
    client.request<{ items?: Json[] }>('GET', resourcePath(statusResources.ConfigurationState, namespace)).catch((e: unknown) => {
      if (e instanceof KubeApiError && e.code === 404) return { items: [] };
      throw e;
    }),
  ]);
  const services: Record<string, { ips: string[]; pool?: string }> = {};
  const loadBalancers: string[] = [];
  for (const raw of svcList.items ?? []) {
    const svc = raw as unknown as Service;
    if (svc.spec?.type !== 'LoadBalancer' || !managedService(svc, loadBalancerClass)) continue;
    const key = serviceKey(svc);
    loadBalancers.push(key);
    const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => ip !== undefined);
    if (ips.length === 0) continue;
    const pool = svc.metadata.annotations?.[allocatedFromPoolAnnotation];
    services[key] = pool !== undefined ? { ips, pool } : { ips };
  }
  const pools: Record<string, PoolUsage> = {};
  for (const p of poolList.items ?? []) {
    const st = p.status as Partial<PoolUsage> | undefined;
    if (!st) continue;
    pools[(p.metadata as { name: string }).name] = {
      assignedIPv4: st.assignedIPv4 ?? 0, assignedIPv6: st.assignedIPv6 ?? 0, availableIPv4: st.availableIPv4 ?? 0, availableIPv6: st.availableIPv6 ?? 0,
    };
  }
  const events = (eventList.items ?? []).map(eventOf).filter((e): e is StatusEvent => e !== undefined).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  // Layer 2: ServiceL2Status names the node and its interfaces; the IPs are the Service's.
  const byNode = new Map(speakers.map((s) => [s.node, s]));
  for (const item of l2List.items ?? []) {
    const st = item.status as { node?: string; serviceName?: string; serviceNamespace?: string; interfaces?: { name: string }[] } | undefined;
    if (!st?.node) continue;
    const service = `${st.serviceNamespace}/${st.serviceName}`;
    let s = byNode.get(st.node);
    if (!s) byNode.set(st.node, (s = { node: st.node, peers: {}, notAnnounced: [], announced: [] }));
    const layer2 = { ...(s.layer2 ?? {}), [service]: { node: st.node, ips: services[service]?.ips ?? [], interfaces: (st.interfaces ?? []).map((i) => i.name) } };
    byNode.set(st.node, { ...s, layer2 });
  }
  // The FRRConfigurations each speaker refused: its ConfigurationState's condition, a line each.
  for (const item of stateList.items ?? []) {
    const node = (item.metadata as { labels?: Record<string, string> } | undefined)?.labels?.[statusLabels.nodeName];
    const conditions = ((item.status as { conditions?: { type: string; status: string; message?: string }[] } | undefined)?.conditions ?? []);
    const frr = conditions.find((c) => c.type === frrConditionType && c.status === 'False');
    if (node === undefined || !frr?.message) continue;
    const frrConfigurationProblems = frr.message.split('\n').map((message) => ({ configuration: /FRRConfiguration[ /](\S+?\/[^\s:]+)/.exec(message)?.[1] ?? '', message }));
    byNode.set(node, { ...(byNode.get(node) ?? { node, peers: {}, notAnnounced: [], announced: [] }), frrConfigurationProblems });
  }
  return {
    controller: { services, pools, events },
    speakers: [...byNode.values()].sort((a, b) => (a.node < b.node ? -1 : 1)),
    loadBalancers: loadBalancers.sort(),
  };
}
