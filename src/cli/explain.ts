// `ironlb explain --config DIR NAMESPACE/NAME`: why a Service is or is not announced, node by node.
// It runs the same pure plan the speakers run, over the folder's objects and the IPs the
// controller wrote, so its answer is the speakers' answer — sessions aside (`ironlb status`
// shows those). FRRConfigurations a node's speaker would refuse (invalid, or in conflict) follow.
import { hostname } from 'node:os';
import type { Command } from '@commander-js/extra-typings';
import type { EndpointSlice, Node, Service } from '../api/resources.ts';
import { formatDiagnostic } from '../api/diagnostics.ts';
import { resolveFrrConfigurations } from '../config/frrk8s-configurations.ts';
import { resolveConfig } from '../config/resolve.ts';
import { withLocalEndpoints, withThisNode } from '../daemon/synthesize.ts';
import { explainService, planAnnouncements } from '../speaker/index.ts';
import { mergeFrrConfigurations } from '../speaker/frrk8s-merge.ts';
import { explainLayer2, planLayer2 } from '../speaker/l2-owner.ts';
import { readControllerStatus } from '../store/files/status-file.ts';
import { readSpeakerStatuses } from '../store/files/speaker-status-journal.ts';
import { loadPaths } from './load-paths.ts';

export interface ExplainOptions {
  /** The nodes to explain for; default: every Node in the folder, else this host. */
  readonly nodes?: readonly string[];
  /** As `ironlb standalone` runs: Services without EndpointSlices are served by the node itself. */
  readonly standalone?: boolean;
}

export async function explainText(folder: string, target: string, o: ExplainOptions = {}): Promise<{ text: string; ok: boolean }> {
  const slash = target.indexOf('/');
  const [namespace, name] = slash < 0 ? ['default', target] : [target.slice(0, slash), target.slice(slash + 1)];
  const loaded = loadPaths([folder]);
  const resolved = resolveConfig(loaded.objects);
  const errors = [...loaded.diagnostics, ...resolved.diagnostics].filter((d) => d.severity === 'error');
  if (!resolved.config || errors.length > 0) {
    return { ok: false, text: ['The configuration is not valid, so the speakers keep the last good one:', ...errors.map(formatDiagnostic)].join('\n') + '\n' };
  }
  const objects = loaded.objects.map((l) => l.object);
  const status = await readControllerStatus(folder);
  const services = objects.filter((x): x is Service => x.kind === 'Service').map((svc) => withAssignedIps(svc, status.services));
  const slices = objects.filter((x): x is EndpointSlice => x.kind === 'EndpointSlice');
  const nodes = objects.filter((x): x is Node => x.kind === 'Node');
  const svc = services.find((s) => (s.metadata.namespace ?? 'default') === namespace && s.metadata.name === name);
  if (!svc) return { ok: false, text: `Service ${namespace}/${name} is not in ${folder}.\n` };

  const lines: string[] = [];
  const assigned = status.services[`${namespace}/${name}`];
  if (svc.spec.type !== 'LoadBalancer') lines.push(`Service ${namespace}/${name} is of type ${svc.spec.type ?? 'ClusterIP'}: ironlb only serves type LoadBalancer.`);
  else if (assigned && assigned.ips.length > 0) lines.push(`Service ${namespace}/${name}: IPs ${assigned.ips.join(', ')} from pool "${assigned.pool ?? '?'}" (controller status${status.updated ? ` of ${status.updated}` : ''}).`);
  else lines.push(`Service ${namespace}/${name}: no IP assigned${status.updated ? '' : ' (no controller status yet: is `ironlb controller` or `standalone` running on this folder?)'}.`);
  for (const e of status.events.filter((ev) => ev.object === `${namespace}/${name}`).slice(-3)) {
    lines.push(`  controller ${e.time} ${e.type} ${e.reason}: ${e.message}`);
  }
  const nodeNames = o.nodes && o.nodes.length > 0 ? o.nodes : nodes.length > 0 ? nodes.map((n) => n.metadata.name ?? '').sort() : [hostname()];
  const frr = loaded.objects.some((x) => x.object.kind === 'FRRConfiguration') ? resolveFrrConfigurations(loaded.objects) : undefined;
  const refused = frr?.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic) ?? [];
  for (const nodeName of nodeNames) {
    const withNode = withThisNode(nodes, nodeName);
    const plan = planAnnouncements({
      config: resolved.config,
      services,
      endpointSlices: o.standalone ? withLocalEndpoints(services, slices, nodeName) : slices,
      nodes: withNode,
      nodeName,
    });
    lines.push(...explainService(plan, namespace, name));
    if (!frr) continue;
    // The merge each speaker makes, here without its history (a refused edit's last good version).
    const merged = mergeFrrConfigurations({
      peers: plan.peers, bfdProfiles: resolved.config.bfdProfiles, configurations: frr.configurations,
      nodeLabels: withNode.find((n) => n.metadata.name === nodeName)?.metadata.labels ?? {},
    });
    refused.push(...merged.errors.map((e) => `node ${nodeName}: ${e.message}`));
  }
  if (refused.length > 0) lines.push('FRRConfigurations refused (the speakers report them in their status too):', ...refused.map((r) => `  ${r}`));
  // Layer 2: one election for the whole cluster, over the speakers alive right now (from their
  // status files; every Node when none has written one).
  const key = `${namespace}/${name}`;
  const speakers = await readSpeakerStatuses(folder);
  const live = speakers.length > 0 ? new Set(speakers.map((s) => s.node)) : undefined;
  const l2Input = {
    config: resolved.config, services, endpointSlices: o.standalone ? withLocalEndpoints(services, slices, nodeNames[0]!) : slices,
    nodes: withThisNode(nodes, nodeNames[0]!), ...(live ? { live } : {}),
  };
  const owner = planLayer2({ ...l2Input, nodeName: '' }).services.find((d) => d.service === key)?.owner ?? '';
  lines.push(...explainLayer2(planLayer2({ ...l2Input, nodeName: owner }), key));
  const answering = speakers.filter((s) => (s.layer2?.[key]?.interfaces.length ?? 0) > 0);
  for (const s of answering) lines.push(`    speaker ${s.node} reports answering on ${s.layer2![key]!.interfaces.join(', ')}`);
  return { ok: true, text: lines.join('\n') + '\n' };
}

/** The Service as the speakers see it: with the IPs the controller assigned in its status. */
function withAssignedIps(svc: Service, assigned: Readonly<Record<string, { ips: readonly string[] }>>): Service {
  const ips = assigned[`${svc.metadata.namespace ?? 'default'}/${svc.metadata.name ?? ''}`]?.ips;
  if (!ips || ips.length === 0 || (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0) return svc;
  return { ...svc, status: { ...svc.status, loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } };
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('say why a Service is or is not announced, node by node, and to which peers')
    .argument('<service>', 'NAMESPACE/NAME (NAME alone means namespace default)')
    .requiredOption('-c, --config <dir>', 'the folder the controller and speakers run on')
    .option('-n, --node <name...>', 'explain for these nodes (default: every Node in the folder, else this host)')
    .option('--standalone', 'as `ironlb standalone` runs: Services without EndpointSlices are served by the node itself')
    .action(async (target, opts) => {
      const r = await explainText(opts.config, target, { ...(opts.node ? { nodes: opts.node } : {}), standalone: opts.standalone === true });
      process.stdout.write(r.text);
      if (!r.ok) process.exitCode = 1;
    });
}
