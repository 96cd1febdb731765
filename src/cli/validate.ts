// `ironlb validate PATH…`: load (structure, defaults, conversion) then resolve (every semantic
// check), print every diagnostic and a summary. Exit 0 when there is no error.
import type { Command } from '@commander-js/extra-typings';
import { formatDiagnostic } from '../api/diagnostics.ts';
import type { Diagnostic } from '../api/diagnostics.ts';
import type { LoadedObject } from '../api/loaded.ts';
import { nodeAddressDiagnostics } from '../config/dangerous-values.ts';
import { resolveConfig } from '../config/resolve.ts';
import { resolveFrrConfigurations } from '../config/frrk8s-configurations.ts';
import { requestedRouteConflicts, serviceDiagnostics } from '../controller/service-checks.ts';
import type { Config } from '../config/types.ts';
import { loadPaths } from './load-paths.ts';

export interface ValidationResult {
  readonly valid: boolean;
  readonly objects: LoadedObject[];
  readonly config?: Config;
  readonly errors: Diagnostic[];
  readonly warnings: Diagnostic[];
}

/** Load + resolve: what `ironlb validate` checks, for other code. */
export function validatePaths(paths: readonly string[], options: { namespace?: string } = {}): ValidationResult {
  const loaded = loadPaths(paths);
  let resolved: { config?: Config; partial?: Config; diagnostics: Diagnostic[] };
  try {
    resolved = resolveConfig(loaded.objects, options.namespace !== undefined ? { namespace: options.namespace } : {});
  } catch (err) {
    // A bug in resolution must still end in a report, not a stack trace.
    resolved = { diagnostics: [{ severity: 'error', path: '', message: `internal error while resolving the configuration: ${(err as Error).message}` }] };
  }
  // Services are not configuration, but their requests can be wrong in ways MetalLB refuses.
  const all = [...loaded.diagnostics, ...resolved.diagnostics, ...serviceDiagnostics(loaded.objects, resolved.config ?? resolved.partial),
    ...requestedRouteConflicts(loaded.objects, resolved.config),
    ...nodeAddressDiagnostics(loaded.objects, resolved.config ?? resolved.partial),
    // frr-k8s's FRRConfiguration, each object on its own (issue #14).
    ...resolveFrrConfigurations(loaded.objects).diagnostics];
  const errors = all.filter((d) => d.severity === 'error');
  const warnings = all.filter((d) => d.severity === 'warning');
  return {
    valid: errors.length === 0,
    objects: loaded.objects,
    ...(errors.length === 0 && resolved.config ? { config: resolved.config } : {}),
    errors,
    warnings,
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check MetalLB configuration files or folders (structure and semantics); exit 1 on any error')
    .argument('<paths...>', 'YAML/JSON files or folders (read recursively)')
    .option('-o, --output <format>', 'text or json', 'text')
    .option('-n, --namespace <ns>', 'the MetalLB namespace (default: the one the resources use)')
    .action((paths, opts) => {
      const r = validatePaths(paths, opts.namespace !== undefined ? { namespace: opts.namespace } : {});
      if (opts.output === 'json') {
        const shape = (d: Diagnostic) => ({ ...d, text: formatDiagnostic(d) });
        process.stdout.write(JSON.stringify({ valid: r.valid, errors: r.errors.map(shape), warnings: r.warnings.map(shape) }, null, 2) + '\n');
      } else {
        for (const d of [...r.errors, ...r.warnings].sort(byPosition)) process.stdout.write(formatDiagnostic(d) + '\n');
        process.stdout.write(
          `${r.valid ? 'valid' : 'invalid'}: ${plural(r.objects.length, 'object')}, ${plural(r.errors.length, 'error')}, ${plural(r.warnings.length, 'warning')}\n`,
        );
      }
      process.exitCode = r.valid ? 0 : 1;
    });
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  const pa = a.position;
  const pb = b.position;
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  return pa.file < pb.file ? -1 : pa.file > pb.file ? 1 : pa.line - pb.line || pa.column - pb.column;
}
