// `ironlb convert PATH…`: the CRs equivalent to the input, as multi-document YAML — a legacy
// ConfigMap as MetalLB's converter names them, BGPPeer v1beta1 as v1beta2.
import type { Command } from '@commander-js/extra-typings';
import { stringify } from 'yaml';
import { formatDiagnostic } from '../api/diagnostics.ts';
import { loadPaths } from './load-paths.ts';

/** The multi-document YAML for the converted resources. */
export function formatResources(resources: readonly Record<string, unknown>[], from: readonly string[]): string {
  let out = `# Converted by ironlb from ${from.join(', ')}.\n`;
  for (const r of resources) out += '---\n' + stringify(r, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' });
  return out;
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('print the metallb.io CRs equivalent to the input (legacy ConfigMap, BGPPeer v1beta1)')
    .argument('<paths...>', 'YAML/JSON files or folders')
    .action((paths) => {
      const r = loadPaths(paths);
      for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      if (r.diagnostics.some((d) => d.severity === 'error')) {
        process.exitCode = 1;
        return;
      }
      process.stdout.write(formatResources(r.resources ?? [], paths));
    });
}
