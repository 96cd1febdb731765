// `ironlb status --config DIR`: the Services with their IPs, and what each speaker announces,
// from the status files the controller and the speakers write (and the folder's Services, so that
// those still waiting for an IP are listed too). Without --config, the same from a cluster's
// status objects (store/kubernetes/cluster-status.ts).
//
// A Service counts as announced to a peer only when its speaker says so (the plan's per-Service
// entries: an aggregate such as a /24 counts, as `explain` says) and that session is Established;
// a route waiting on a session that is down is shown as waiting, never as announced.
import type { Command } from '@commander-js/extra-typings';
import { parseIp } from '../net/ip.ts';
import { parsePrefix, prefixContains } from '../net/prefix.ts';
import type { ControllerStatus, SpeakerStatus } from '../store/store.ts';
import { readControllerStatus } from '../store/files/status-file.ts';
import { readSpeakerStatuses } from '../store/files/speaker-status-journal.ts';
import { defaultNamespace } from '../config/namespace.ts';
import { clusterFlagHelp } from '../daemon/cli-options.ts';
import { loadPaths } from './load-paths.ts';

/** The prefixes of one peer that hold `ip` (the /32 itself or an aggregate). */
function prefixesHolding(prefixes: readonly string[], ip: string): string[] {
  const addr = parseIp(ip);
  if (!addr) return [];
  return prefixes.filter((p) => {
    const parsed = parsePrefix(p)?.prefix;
    return parsed !== undefined && prefixContains(parsed, addr);
  });
}

interface Reach { announced: string[]; waiting: string[] }

/** Where one Service's IPs go: per speaker and peer, announced (session up) or waiting (session down). */
function reachOf(service: string, ips: readonly string[], speakers: readonly SpeakerStatus[]): Reach {
  const out: Reach = { announced: [], waiting: [] };
  for (const s of speakers) {
    // The speaker's own word, when it gives it: the peers this Service is announced to.
    const said = s.announced?.find((a) => a.service === service);
    for (const [peer, p] of Object.entries(s.peers)) {
      if (s.announced !== undefined && !said?.peers.includes(peer)) continue;
      // From a cluster the session's prefix list is not known (only its count): the speaker's word is all there is.
      const listKnown = p.prefixesSent === undefined || p.prefixes.length > 0;
      const via = listKnown ? [...new Set(ips.flatMap((ip) => prefixesHolding(p.prefixes, ip)))] : [];
      if (listKnown ? via.length === 0 : !said) continue;
      const aggregate = via.filter((x) => !/\/(32|128)$/.test(x));
      const text = `${s.node}→${peer}${aggregate.length > 0 ? ` (via ${aggregate.join(', ')})` : ''}`;
      if (p.state === 'Established') out.announced.push(text);
      else out.waiting.push(`${text} [session ${p.state}]`);
    }
    for (const e of Object.values(s.layer2 ?? {})) {
      if (e.node !== s.node || !ips.some((ip) => e.ips.includes(ip))) continue;
      out.announced.push(`${s.node} (layer 2${e.interfaces.length > 0 ? ` on ${e.interfaces.join(',')}` : ''})`);
    }
  }
  out.announced = [...new Set(out.announced)];
  return out;
}

/** The folder's LoadBalancer Services (namespace/name), for those the controller gave no IP. */
function loadBalancerServices(folder: string): string[] {
  try {
    return loadPaths([folder]).objects
      .filter((o) => o.object.kind === 'Service' && (o.object.spec as { type?: string }).type === 'LoadBalancer')
      .map((o) => `${o.object.metadata.namespace ?? 'default'}/${o.object.metadata.name ?? ''}`);
  } catch {
    return [];
  }
}

export async function statusText(folder: string): Promise<string> {
  return statusTextOf(await readControllerStatus(folder), await readSpeakerStatuses(folder), loadBalancerServices(folder));
}

/** The report, from the folder's status files or a cluster's status objects alike. */
export function statusTextOf(c: ControllerStatus, speakers: readonly SpeakerStatus[], loadBalancers: readonly string[]): string {
  const lines: string[] = [];
  const withIp = Object.keys(c.services);
  const withoutIp = loadBalancers.filter((k) => !(k in c.services));
  const keys = [...new Set([...withIp, ...withoutIp])].sort();
  lines.push(`Services (${keys.length})${c.updated ? `, status of ${c.updated}` : ''}:`);
  for (const k of keys) {
    const a = c.services[k];
    if (!a) {
      const why = [...c.events].reverse().find((e) => e.object === k && e.type === 'Warning');
      lines.push(`  ${k.padEnd(32)} ${'(no IP)'.padEnd(20)} ${why ? `${why.reason}: ${why.message}` : 'waiting for an IP'}`);
      continue;
    }
    const r = reachOf(k, a.ips, speakers);
    const notes = speakers.flatMap((s) => s.notAnnounced.filter((n) => n.service === k).map((n) => `${s.node}: ${n.reason.split(':')[0]}`));
    const state = r.announced.length > 0 ? `announced: ${r.announced.join(' ')}` : `not announced${notes.length > 0 ? ` (${[...new Set(notes)].slice(0, 3).join('; ')})` : ''}`;
    lines.push(`  ${k.padEnd(32)} ${a.ips.join(', ').padEnd(20)} pool ${a.pool ?? '-'}  ${state}${r.waiting.length > 0 ? `; waiting: ${r.waiting.join(' ')}` : ''}`);
  }
  const pools = Object.entries(c.pools);
  if (pools.length > 0) {
    lines.push('Pools:');
    for (const [name, u] of pools) lines.push(`  ${name.padEnd(20)} IPv4 ${u.assignedIPv4} used / ${u.availableIPv4} free   IPv6 ${u.assignedIPv6} used / ${u.availableIPv6} free`);
  }
  lines.push(`Speakers (${speakers.length}):`);
  for (const s of speakers) {
    lines.push(`  ${s.node}${s.updated ? ` (${s.updated})` : ''}`);
    for (const [peer, p] of Object.entries(s.peers)) {
      const what = p.state === 'Established' ? 'announced' : 'waiting for the session';
      lines.push(`    ${peer} ${p.address} ${p.state}${p.bfd ? ` BFD ${p.bfd}` : ''}: ${p.prefixes.length || (p.prefixesSent ?? 0)} prefixes ${what}${p.prefixes.length > 0 ? ` (${p.prefixes.slice(0, 8).join(', ')}${p.prefixes.length > 8 ? ', …' : ''})` : ''}`);
      if (p.received) lines.push(`      received ${p.received.routes} routes, ${p.received.accepted} accepted, ${p.received.installed} installed in the kernel`);
      if (p.lastError) lines.push(`      last error: ${p.lastError}`);
    }
    for (const p of s.frrConfigurationProblems ?? []) lines.push(`    refused: ${p.message}`);
    for (const n of s.notAnnounced.slice(0, 10)) lines.push(`    not announced: ${n.service}: ${n.reason}`);
  }
  const warnings = c.events.filter((e) => e.type === 'Warning').slice(-5);
  if (warnings.length > 0) {
    lines.push('Recent warnings:');
    for (const e of warnings) lines.push(`  ${e.time} ${e.object} ${e.reason}: ${e.message}`);
  }
  return lines.join('\n') + '\n';
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the Services with their IPs and what each speaker announces (from the status files, or a cluster\'s status objects)')
    .option('-c, --config <dir>', 'the folder the controller and speakers run on; without it: the Kubernetes API')
    .option('--kubeconfig <file>', clusterFlagHelp.kubeconfig)
    .option('-n, --namespace <ns>', 'in a cluster: the MetalLB namespace', defaultNamespace)
    .option('--lb-class <class>', clusterFlagHelp.lbClass)
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (opts) => {
      let controller: ControllerStatus;
      let speakers: SpeakerStatus[];
      let loadBalancers: string[];
      if (opts.config !== undefined) {
        [controller, speakers, loadBalancers] = [await readControllerStatus(opts.config), await readSpeakerStatuses(opts.config), loadBalancerServices(opts.config)];
      } else {
        // Loaded here only: every other command (the daemons too) goes without the Kubernetes client.
        const { KubeClient, loadKubeConfig } = await import('../store/kubernetes/kube-client.ts');
        const { readClusterStatus } = await import('../store/kubernetes/cluster-status.ts');
        const client = new KubeClient(loadKubeConfig(opts.kubeconfig), 'ironlb-status');
        try {
          ({ controller, speakers, loadBalancers } = await readClusterStatus(client, opts.namespace, opts.lbClass));
        } catch (e) {
          process.stderr.write(`ironlb status: ${(e as Error).message}\n`);
          process.exit(1);
        } finally {
          client.close();
        }
      }
      process.stdout.write(opts.output === 'json' ? JSON.stringify({ controller, speakers }, null, 2) + '\n' : statusTextOf(controller, speakers, loadBalancers));
    });
}
