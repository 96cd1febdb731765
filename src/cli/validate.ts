// `ironlb validate PATH…`: load (structure, defaults, conversion) then resolve (every semantic
// check), print every diagnostic and a summary. Exit 0 when there is no error.
import type { Command } from '@commander-js/extra-typings';
import { formatDiagnostic } from '../api/diagnostics.ts';
import type { Diagnostic, Severity } from '../api/diagnostics.ts';
import type { LoadedObject } from '../api/loaded.ts';
import { nodeAddressDiagnostics } from '../config/dangerous-values.ts';
import { resolveConfig } from '../config/resolve.ts';
import { resolveFrrConfigurations } from '../config/frrk8s-configurations.ts';
import { requestedRouteConflicts, serviceDiagnostics } from '../controller/service-checks.ts';
import type { Config } from '../config/types.ts';
import { bgpBackendKind } from '../daemon/cli-options.ts';
import { frrModeProblems, type FrrModeProblem } from '../speaker/frrk8s-emit.ts';
import { loadPaths } from './load-paths.ts';

export interface ValidationResult {
  readonly valid: boolean;
  readonly objects: LoadedObject[];
  readonly config?: Config;
  readonly errors: Diagnostic[];
  readonly warnings: Diagnostic[];
}

export interface ValidateOptions {
  readonly namespace?: string;
  /** frr-k8s: also what a speaker with `--bgp-backend frr-k8s` refuses or cannot carry out. */
  readonly bgpBackend?: 'native' | 'frr-k8s';
}

/** Load + resolve: what `ironlb validate` checks, for other code. */
export function validatePaths(paths: readonly string[], options: ValidateOptions = {}): ValidationResult {
  const loaded = loadPaths(paths);
  let resolved: { config?: Config; partial?: Config; diagnostics: Diagnostic[] };
  try {
    resolved = resolveConfig(loaded.objects, {
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}), ...(options.bgpBackend !== undefined ? { bgpBackend: options.bgpBackend } : {}),
    });
  } catch (err) {
    // A bug in resolution must still end in a report, not a stack trace.
    resolved = { diagnostics: [{ severity: 'error', path: '', message: `internal error while resolving the configuration: ${(err as Error).message}` }] };
  }
  // Services are not configuration, but their requests can be wrong in ways MetalLB refuses.
  const all = [...loaded.diagnostics, ...resolved.diagnostics, ...serviceDiagnostics(loaded.objects, resolved.config ?? resolved.partial),
    ...requestedRouteConflicts(loaded.objects, resolved.config),
    ...nodeAddressDiagnostics(loaded.objects, resolved.config ?? resolved.partial),
    // frr-k8s's FRRConfiguration, each object on its own (issue #14).
    ...resolveFrrConfigurations(loaded.objects).diagnostics,
    ...(options.bgpBackend === 'frr-k8s' && resolved.config ? frrModeDiagnostics(loaded.objects, resolved.config) : [])];
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

/**
 * With --bgp-backend frr-k8s the speaker writes an FRRConfiguration instead of speaking BGP: the
 * limits of that (one router per VRF, no localASN, no MED...) at the object they concern.
 */
function frrModeDiagnostics(objects: readonly LoadedObject[], config: Config): Diagnostic[] {
  const { errors, warnings } = frrModeProblems(config);
  const at = (severity: Severity, p: FrrModeProblem): Diagnostic => {
    const lo = objects.find((o) => o.object.kind === p.kind && o.object.metadata.name === p.name);
    const position = lo?.positionOf([]);
    const prefix = `${p.kind} "${p.name}": `;
    const message = p.message.startsWith(prefix) ? p.message.slice(prefix.length) : p.message;
    return {
      severity, path: '', message: message.includes('--bgp-backend frr-k8s') ? message : `--bgp-backend frr-k8s: ${message}`,
      object: { kind: p.kind, name: p.name, ...(lo?.object.metadata.namespace ? { namespace: lo.object.metadata.namespace } : {}) },
      ...(position ? { position } : {}),
    };
  };
  return [...errors.map((p) => at('error', p)), ...warnings.map((p) => at('warning', p))];
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
    .option('--bgp-backend <native|frr-k8s>', 'check as the speaker in this mode would: frr-k8s adds what an FRRConfiguration cannot say (default native)')
    .action((paths, opts) => {
      let bgpBackend: 'native' | 'frr-k8s';
      try {
        bgpBackend = bgpBackendKind(opts.bgpBackend ?? 'native');
      } catch (e) {
        process.stderr.write(`ironlb validate: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const r = validatePaths(paths, { ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}), bgpBackend });
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
