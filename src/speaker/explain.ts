// Readable lines about one Service from an AnnouncementPlan (the core of `ironlb explain`).
import { formatPrefix } from '../net/prefix.ts';
import type { AnnouncementPlan, ServiceEntry } from './plan-types.ts';

function entryLine(e: ServiceEntry): string {
  if (e.kind === 'announced') return `  ${e.ip}: ${e.message}`;
  const where = [
    e.ip,
    e.prefix !== undefined && e.ip !== undefined && formatPrefix(e.prefix) !== `${e.ip}/${e.prefix.family === 4 ? 32 : 128}`
      ? `as ${formatPrefix(e.prefix)}` : undefined,
    e.peer !== undefined ? `to peer "${e.peer}"` : undefined,
  ].filter((x) => x !== undefined).join(' ');
  return `  ${where === '' ? '' : `${where}: `}not announced [${e.reason}]: ${e.message}`;
}

/** What node `plan.node.name` does with Service namespace/name, one sentence a line. */
export function explainService(plan: AnnouncementPlan, namespace: string, name: string): string[] {
  const svc = plan.services.find((s) => s.namespace === namespace && s.name === name);
  const node = plan.node.name;
  if (!svc) return [`Service ${namespace}/${name}: not known to node "${node}".`];
  const head = [
    `Service ${namespace}/${name} on node "${node}"`,
    svc.ips.length > 0 ? `IPs ${svc.ips.join(', ')}` : undefined,
    svc.pool !== undefined ? `pool "${svc.pool}"` : undefined,
  ].filter((x) => x !== undefined).join(', ');
  const announced = svc.entries.filter((e) => e.kind === 'announced').length;
  const summary = announced > 0
    ? `announced from this node (${announced} prefix${announced > 1 ? 'es' : ''}).`
    : 'not announced from this node.';
  return [`${head}: ${summary}`, ...svc.entries.map(entryLine)];
}
