// ConfigurationState, as MetalLB 0.15.3+ writes it: one object per component (`controller`,
// `speaker-<node>`) saying whether the configuration in the cluster was accepted, and if not the
// errors, while the last good configuration stays in force. Written only when the result or the
// errors change; a refused configuration also gets one Warning Event per offending object.
//
// A speaker running its own BGP sessions adds the FRRConfigurations it refused on its node
// (invalid, or conflicting with what is in force), in the result, the summary and a condition of
// their own (frrConfigurationsValid), and a Warning Event on each such FRRConfiguration when its
// problem is new. frr-k8s says the same in its FRRNodeState (status.lastConversionResult), but its
// NodeStateCleaner deletes every FRRNodeState of a node without an frr-k8s pod, so ironlb leaves
// that object to frr-k8s.
import { type Diagnostic, formatDiagnostic } from '../../api/diagnostics.ts';
import { statusLabels, statusResources, type ConfigurationStateStatus } from '../../api/status-kinds.ts';
import type { FrrConfigurationProblem } from '../store.ts';
import type { Json, KubeClient } from './kube-client.ts';
import { KubeApiError, resourcePath } from './kube-client.ts';
import { events as eventsResource, frrConfigurations } from './resources.ts';

export interface ConfigurationStateOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly component: 'controller' | 'speaker';
  readonly node?: string;
  readonly logger?: { warn(obj: object, msg?: string): void };
  readonly now?: () => Date;
}

const maxSummary = 4000;
const maxEvents = 10;
/** The condition of the FRRConfigurations (ironlb's; MetalLB has none, frr-k8s has FRRNodeState). */
export const frrConditionType = 'frrConfigurationsValid';

type Condition = ConfigurationStateStatus['conditions'][number];
interface EventTarget { readonly apiVersion: string; readonly kind: string; readonly namespace: string; readonly name: string; readonly message: string }

export class ConfigurationStateWriter {
  private configErrors: readonly Diagnostic[] = [];
  private configKey = '';
  /** Undefined until the speaker reports (never for the controller, nor with --bgp-backend frr-k8s). */
  private frr: readonly FrrConfigurationProblem[] | undefined;
  /** Each condition's status and when it took it. */
  private readonly since = new Map<string, { status: string; time: string }>();
  private last: string | undefined;
  private created = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly o: ConfigurationStateOptions) {}

  get name(): string {
    return this.o.component === 'controller' ? 'controller' : `speaker-${this.o.node ?? ''}`;
  }

  /** Records the outcome of the latest configuration: valid, or refused with these errors. */
  report(errors: readonly Diagnostic[]): Promise<void> {
    const key = errors.map(formatDiagnostic).join('; ');
    const fresh = key !== this.configKey ? errors : [];
    this.configErrors = errors;
    this.configKey = key;
    return this.flush(fresh.filter((d) => d.object?.name).map((d) => {
      const obj = d.object!;
      return {
        apiVersion: obj.kind === 'BGPPeer' ? 'metallb.io/v1beta2' : 'metallb.io/v1beta1', kind: obj.kind,
        namespace: obj.namespace ?? this.o.namespace, name: obj.name!, message: `${formatDiagnostic(d)} (the last valid configuration stays in force)`,
      };
    }));
  }

  /** Records the FRRConfigurations this node's speaker refused now (none: all applied). */
  reportFrrConfigurations(problems: readonly FrrConfigurationProblem[]): Promise<void> {
    const before = new Set((this.frr ?? []).map((p) => p.message));
    this.frr = problems;
    return this.flush(problems.filter((p) => !before.has(p.message)).map((p) => {
      const slash = p.configuration.indexOf('/');
      return {
        apiVersion: `${frrConfigurations.group}/${frrConfigurations.version}`, kind: 'FRRConfiguration',
        namespace: p.configuration.slice(0, slash), name: p.configuration.slice(slash + 1), message: `node ${this.o.node ?? ''}: ${p.message}`,
      };
    }));
  }

  private flush(events: readonly EventTarget[]): Promise<void> {
    const now = (this.o.now?.() ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
    const status = this.status(now);
    const key = JSON.stringify([status.result, status.errorSummary, status.conditions.map((c) => [c.type, c.status, c.message])]);
    if (key === this.last && events.length === 0) return this.writing;
    const write = key !== this.last;
    this.last = key;
    this.writing = this.writing.then(() => this.write(status, write, events, now)).catch((e: unknown) => {
      this.last = undefined; // retried at the next report
      this.o.logger?.warn({ err: (e as Error).message }, 'writing ConfigurationState failed');
    });
    return this.writing;
  }

  private status(now: string): ConfigurationStateStatus {
    const frr = this.frr ?? [];
    const summary = [this.configKey, ...frr.map((p) => p.message)].filter((x) => x !== '').join('; ');
    const conditions: Condition[] = [];
    const condition = (type: string, valid: boolean, message: string) => {
      const status = valid ? 'True' : 'False';
      const had = this.since.get(type);
      const time = had?.status === status ? had.time : now;
      this.since.set(type, { status, time });
      conditions.push({ type, status, reason: valid ? 'Reconciled' : 'ConfigurationError', message, lastTransitionTime: time });
    };
    const valid = this.configErrors.length === 0;
    condition(this.o.component === 'controller' ? 'poolReconcilerValid' : 'configReconcilerValid', valid,
      valid ? '' : `the last valid configuration stays in force: ${cut(this.configKey, 1000)}`);
    if (this.frr !== undefined) condition(frrConditionType, frr.length === 0, cut(frr.map((p) => p.message).join('\n'), maxSummary));
    return {
      result: valid && frr.length === 0 ? 'Valid' : 'Invalid',
      errorSummary: cut(summary, maxSummary),
      conditions,
    };
  }

  private async write(status: ConfigurationStateStatus, write: boolean, events: readonly EventTarget[], now: string): Promise<void> {
    const r = statusResources.ConfigurationState;
    if (write && !this.created) {
      // A restarted component finds its object saying the same: nothing to write.
      try {
        const have = await this.o.client.request<{ status?: Partial<ConfigurationStateStatus> }>('GET', resourcePath(r, this.o.namespace, this.name));
        this.created = true;
        if (have.status?.result === status.result && have.status.errorSummary === status.errorSummary) write = false;
      } catch (e) {
        if (!(e instanceof KubeApiError && e.code === 404)) throw e;
      }
    }
    if (write && !this.created) {
      const body = {
        apiVersion: `${r.group}/${r.version}`, kind: 'ConfigurationState',
        metadata: {
          name: this.name, namespace: this.o.namespace,
          labels: { [statusLabels.componentType]: this.o.component, ...(this.o.node ? { [statusLabels.nodeName]: this.o.node } : {}) },
        },
        spec: {},
      };
      try {
        await this.o.client.request('POST', resourcePath(r, this.o.namespace), { body });
      } catch (e) {
        if (!(e instanceof KubeApiError && e.code === 409)) throw e;
      }
      this.created = true;
    }
    if (write) await this.o.client.request('PATCH', resourcePath(r, this.o.namespace, this.name, 'status'), { body: { status } });
    for (const t of events.slice(0, maxEvents)) {
      // An Event lives in its object's namespace.
      const body: Json = {
        apiVersion: 'v1', kind: 'Event', metadata: { generateName: `${t.name}.`, namespace: t.namespace },
        involvedObject: { apiVersion: t.apiVersion, kind: t.kind, namespace: t.namespace, name: t.name },
        reason: 'InvalidConfiguration', type: 'Warning', message: t.message,
        source: { component: `metallb-${this.o.component}`, ...(this.o.node ? { host: this.o.node } : {}) },
        firstTimestamp: now, lastTimestamp: now, count: 1,
      };
      await this.o.client.request('POST', resourcePath(eventsResource, t.namespace), { body }).catch(() => undefined);
    }
  }
}

function cut(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
