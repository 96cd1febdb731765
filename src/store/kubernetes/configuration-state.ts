// ConfigurationState, as MetalLB 0.15.3+ writes it: one object per component (`controller`,
// `speaker-<node>`) saying whether the configuration in the cluster was accepted, and if not the
// errors, while the last good configuration stays in force. Written only when the result or the
// errors change; a refused configuration also gets one Warning Event per offending object.
import { type Diagnostic, formatDiagnostic } from '../../api/diagnostics.ts';
import { statusLabels, statusResources, type ConfigurationStateStatus } from '../../api/status-kinds.ts';
import type { KubeClient } from './kube-client.ts';
import { KubeApiError, resourcePath } from './kube-client.ts';
import { events as eventsResource } from './resources.ts';

export interface ConfigurationStateOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly component: 'controller' | 'speaker';
  readonly node?: string;
  readonly logger?: { warn(obj: object, msg?: string): void };
  readonly now?: () => Date;
}

const maxSummary = 4000;

export class ConfigurationStateWriter {
  private last: string | undefined;
  private created = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly o: ConfigurationStateOptions) {}

  get name(): string {
    return this.o.component === 'controller' ? 'controller' : `speaker-${this.o.node ?? ''}`;
  }

  /** Records the outcome of the latest configuration: valid, or refused with these errors. */
  report(errors: readonly Diagnostic[]): Promise<void> {
    const summary = errors.map(formatDiagnostic).join('; ');
    const key = summary;
    if (key === this.last) return this.writing;
    this.last = key;
    const now = (this.o.now?.() ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
    const valid = errors.length === 0;
    const status: ConfigurationStateStatus = {
      result: valid ? 'Valid' : 'Invalid',
      errorSummary: summary.length > maxSummary ? `${summary.slice(0, maxSummary)}…` : summary,
      conditions: [{
        type: this.o.component === 'controller' ? 'poolReconcilerValid' : 'configReconcilerValid',
        status: valid ? 'True' : 'False', reason: valid ? 'Reconciled' : 'ConfigurationError',
        message: valid ? '' : `the last valid configuration stays in force: ${status0(summary)}`, lastTransitionTime: now,
      }],
    };
    this.writing = this.writing.then(() => this.write(status, valid ? [] : errors, now)).catch((e: unknown) => {
      this.last = undefined; // retried at the next report
      this.o.logger?.warn({ err: (e as Error).message }, 'writing ConfigurationState failed');
    });
    return this.writing;
  }

  private async write(status: ConfigurationStateStatus, errors: readonly Diagnostic[], now: string): Promise<void> {
    const r = statusResources.ConfigurationState;
    if (!this.created) {
      // A restarted component finds its object saying the same: nothing to write.
      try {
        const have = await this.o.client.request<{ status?: Partial<ConfigurationStateStatus> }>('GET', resourcePath(r, this.o.namespace, this.name));
        this.created = true;
        if (have.status?.result === status.result && have.status.errorSummary === status.errorSummary) return;
      } catch (e) {
        if (!(e instanceof KubeApiError && e.code === 404)) throw e;
      }
    }
    if (!this.created) {
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
    await this.o.client.request('PATCH', resourcePath(r, this.o.namespace, this.name, 'status'), { body: { status } });
    for (const d of errors.filter((x) => x.object?.name).slice(0, 10)) {
      const obj = d.object!;
      const [group, version] = obj.kind === 'BGPPeer' ? ['metallb.io', 'v1beta2'] : ['metallb.io', 'v1beta1'];
      await this.o.client.request('POST', resourcePath(eventsResource, this.o.namespace), {
        body: {
          apiVersion: 'v1', kind: 'Event', metadata: { generateName: `${obj.name}.`, namespace: this.o.namespace },
          involvedObject: { apiVersion: `${group}/${version}`, kind: obj.kind, namespace: obj.namespace ?? this.o.namespace, name: obj.name },
          reason: 'InvalidConfiguration', type: 'Warning', message: `${formatDiagnostic(d)} (the last valid configuration stays in force)`,
          source: { component: `metallb-${this.o.component}` }, firstTimestamp: now, lastTimestamp: now, count: 1,
        },
      }).catch(() => undefined);
    }
  }
}

function status0(s: string): string {
  return s.length > 1000 ? `${s.slice(0, 1000)}…` : s;
}
