// `ironlb frr-config --config DIR [--node NAME...]`: the FRRConfiguration each node's speaker would
// write with `--bgp-backend frr-k8s`, as YAML, so a person can see (or `kubectl apply`) what
// frr-k8s will be told. Same plan as the speakers: the folder's objects and the IPs the controller
// wrote.
import type { Command } from '@commander-js/extra-typings';
import { stringify } from 'yaml';
import { formatDiagnostic } from '../api/diagnostics.ts';
import type { LoadedObject } from '../api/loaded.ts';
import type { EndpointSlice, Node, Service } from '../api/resources.ts';
import { resolveConfig } from '../config/resolve.ts';
import { withThisNode } from '../daemon/synthesize.ts';
import { emitFrrConfiguration, type FrrEmitResult, type SecretHandling } from '../speaker/frrk8s-emit.ts';
import { planAnnouncements } from '../speaker/plan.ts';
import { readControllerStatus } from '../store/files/status-file.ts';
import { loadPaths } from './load-paths.ts';

export interface FrrConfigOptions {
  /** Default: every Node among the objects. */
  readonly nodes?: readonly string[];
  /** frr-k8s's namespace (default: ironlb's, metallb-system). */
  readonly namespace?: string;
  readonly secrets?: SecretHandling;
  /** Service IPs the controller assigned, by namespace/name, for Services without status. */
  readonly assigned?: Readonly<Record<string, { readonly ips: readonly string[] }>>;
}

export interface NodeFrrConfiguration extends FrrEmitResult {
  readonly node: string;
}

/** Per node, what `--bgp-backend frr-k8s` writes for these objects; undefined with the configuration's errors when it is invalid. */
export function frrConfigurationsFor(objects: readonly LoadedObject[], o: FrrConfigOptions = {}): { results?: NodeFrrConfiguration[]; errors: string[] } {
  const resolved = resolveConfig(objects, { bgpBackend: 'frr-k8s' });
  const errors = resolved.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  if (!resolved.config || errors.length > 0) return { errors };
  const all = objects.map((l) => l.object);
  const services = all.filter((x): x is Service => x.kind === 'Service').map((svc) => withAssigned(svc, o.assigned ?? {}));
  const slices = all.filter((x): x is EndpointSlice => x.kind === 'EndpointSlice');
  const nodes = all.filter((x): x is Node => x.kind === 'Node');
  const names = o.nodes && o.nodes.length > 0 ? o.nodes : nodes.map((n) => n.metadata.name ?? '').sort();
  const results = names.map((nodeName): NodeFrrConfiguration => {
    const plan = planAnnouncements({ config: resolved.config!, services, endpointSlices: slices, nodes: withThisNode(nodes, nodeName), nodeName });
    const r = emitFrrConfiguration({
      config: resolved.config!, peers: plan.peers, nodeName, namespace: o.namespace ?? 'metallb-system', secrets: o.secrets ?? 'reference', objects,
    });
    return { node: nodeName, ...r };
  });
  return { results, errors: [] };
}

function withAssigned(svc: Service, assigned: Readonly<Record<string, { readonly ips: readonly string[] }>>): Service {
  const ips = assigned[`${svc.metadata.namespace ?? 'default'}/${svc.metadata.name ?? ''}`]?.ips;
  if (!ips || ips.length === 0 || (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0) return svc;
  return { ...svc, status: { ...svc.status, loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } };
}

/** The YAML documents, each node's problems as comments above its object. */
export function frrConfigurationsText(results: readonly NodeFrrConfiguration[]): string {
  return results.map((r) => {
    const notes = [
      ...r.errors.map((e) => `# node ${r.node}: error: ${e}`),
      ...r.warnings.map((w) => `# node ${r.node}: warning: ${w}`),
      ...(r.configuration || r.errors.length > 0 ? [] : [`# node ${r.node}: no FRRConfiguration (no BGP session and no BFD profile on this node)`]),
    ];
    return `---\n${notes.map((n) => `${n}\n`).join('')}${r.configuration ? stringify(r.configuration, { lineWidth: 0 }) : ''}`;
  }).join('');
}

export function registerFrrConfig(program: Command): void {
  program
    .command('frr-config')
    .description('print the FRRConfiguration each node\'s speaker writes with --bgp-backend frr-k8s')
    .requiredOption('-c, --config <dir>', 'the folder the controller and speakers run on')
    .option('--node <name...>', 'these nodes (default: every Node in the folder)')
    .option('--frrk8s-namespace <ns>', 'frr-k8s\'s namespace (default metallb-system)')
    .option('--inline-passwords', 'write Secret passwords in clear, as the speaker does when frr-k8s runs in another namespace')
    .action(async (opts) => {
      const loaded = loadPaths([opts.config]);
      const loadErrors = loaded.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      const status = await readControllerStatus(opts.config);
      const r = frrConfigurationsFor(loaded.objects, {
        ...(opts.node ? { nodes: opts.node } : {}), ...(opts.frrk8sNamespace ? { namespace: opts.frrk8sNamespace } : {}),
        secrets: opts.inlinePasswords ? 'inline' : 'reference', assigned: status.services,
      });
      const errors = [...loadErrors, ...r.errors];
      if (errors.length > 0 || !r.results) {
        process.stderr.write(`${errors.join('\n')}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(frrConfigurationsText(r.results));
      if (r.results.some((x) => x.errors.length > 0)) process.exitCode = 1;
    });
}
