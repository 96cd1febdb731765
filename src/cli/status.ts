// `ironlb status --config DIR`: the Services with their IPs, and what each speaker announces,
// from the status files the controller and the speakers write.
import type { Command } from '@commander-js/extra-typings';
import { readControllerStatus, readSpeakerStatuses } from '../store/files/status-file.ts';

export async function statusText(folder: string): Promise<string> {
  const c = await readControllerStatus(folder);
  const speakers = await readSpeakerStatuses(folder);
  const lines: string[] = [];
  const keys = Object.keys(c.services).sort();
  lines.push(`Services (${keys.length})${c.updated ? `, status of ${c.updated}` : ''}:`);
  const announcedBy = new Map<string, string[]>();
  for (const s of speakers) {
    for (const [peer, p] of Object.entries(s.peers)) {
      for (const prefix of p.prefixes) {
        const ip = prefix.replace(/\/(32|128)$/, '');
        const list = announcedBy.get(ip) ?? [];
        list.push(`${s.node}→${peer}${p.state === 'Established' ? '' : ` (${p.state})`}`);
        announcedBy.set(ip, list);
      }
    }
  }
  // Layer 2: the owner's own entry names the interfaces it answers on.
  for (const s of speakers) {
    for (const e of Object.values(s.layer2 ?? {})) {
      if (e.node !== s.node) continue;
      for (const ip of e.ips) if (!announcedBy.get(ip)?.some((x) => x.startsWith(`${s.node} (layer 2`))) announcedBy.set(ip, [...(announcedBy.get(ip) ?? []), `${s.node} (layer 2${e.interfaces.length > 0 ? ` on ${e.interfaces.join(',')}` : ''})`]);
    }
  }
  for (const k of keys) {
    const a = c.services[k]!;
    const by = a.ips.flatMap((ip) => announcedBy.get(ip) ?? []);
    lines.push(`  ${k.padEnd(32)} ${a.ips.join(', ').padEnd(20)} pool ${a.pool ?? '-'}  ${by.length > 0 ? `announced: ${by.join(' ')}` : 'not announced'}`);
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
      lines.push(`    ${peer} ${p.address} ${p.state}${p.bfd ? ` BFD ${p.bfd}` : ''}: ${p.prefixes.length} prefixes${p.prefixes.length > 0 ? ` (${p.prefixes.slice(0, 8).join(', ')}${p.prefixes.length > 8 ? ', …' : ''})` : ''}`);
      if (p.lastError) lines.push(`      last error: ${p.lastError}`);
    }
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
    .description('show the Services with their IPs and what each speaker announces (from the status files)')
    .requiredOption('-c, --config <dir>', 'the folder the controller and speakers run on')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (opts) => {
      if (opts.output === 'json') {
        const out = { controller: await readControllerStatus(opts.config), speakers: await readSpeakerStatuses(opts.config) };
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      } else {
        process.stdout.write(await statusText(opts.config));
      }
    });
}
