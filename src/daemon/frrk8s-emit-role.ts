// The speaker with `--bgp-backend frr-k8s`: plans as the BGP speaker does, but instead of opening
// sessions it writes this node's FRRConfiguration (speaker/frrk8s-emit.ts) for frr-k8s to run, as
// MetalLB's speaker does in its frr-k8s mode. Written only when it changes; one write in flight,
// the newest wanted one next; a failed write is retried. Every resyncMs the last one is written
// again, which costs a read and a no-op update at the apiserver unless someone edited or deleted
// the object (MetalLB watches it for that). On stop the object stays: frr-k8s keeps announcing
// while the speaker restarts (MetalLB leaves it too).
import type { Logger } from 'pino';
import { bgpSummary, layer2OnlyPools } from '../speaker/bgp-summary.ts';
import { emitFrrConfiguration, type EmittedFrrConfiguration, type SecretHandling } from '../speaker/frrk8s-emit.ts';
import type { AnnouncementPlan } from '../speaker/plan-types.ts';
import type { Snapshot, SpeakerStatus, Store } from '../store/store.ts';
import type { Plan } from './engines.ts';
import { withLocalEndpoints, withThisNode } from './synthesize.ts';

/** Where the object goes: the cluster (kube client) or a folder. */
export interface FrrConfigurationSink {
  /** Writes the object, or removes it (undefined). Rejects when it could not. */
  write(obj: EmittedFrrConfiguration | undefined, node: string): Promise<void>;
  /** Where, for logs. */
  readonly where: string;
}

export interface FrrK8sEmitRoleOptions {
  readonly store: Store;
  readonly nodeName: string;
  readonly plan: Plan;
  readonly sink: FrrConfigurationSink;
  /** frr-k8s's namespace. */
  readonly namespace: string;
  readonly secrets: SecretHandling;
  readonly logger: Logger;
  readonly assumeLocalEndpoints?: boolean;
  readonly layer2Status?: () => SpeakerStatus['layer2'];
  /** Delay before retrying a failed write (default 5 s). */
  readonly retryMs?: number;
  /** How often the object is written again to repair outside edits (default 5 min; 0: never). */
  readonly resyncMs?: number;
}

export class FrrK8sEmitRole {
  private lastPlan: AnnouncementPlan | undefined;
  private layer2OnlyPools: ReadonlySet<string> = new Set();
  /** JSON of the object last written ('null': removed); undefined: nothing written yet. */
  private written: string | undefined;
  private wanted: { key: string; obj: EmittedFrrConfiguration | undefined } | undefined;
  private writing = false;
  private retry: NodeJS.Timeout | undefined;
  private lastProblems = '';
  private stopped = false;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusWrite: Promise<void> = Promise.resolve();
  private idle: Promise<void> = Promise.resolve();
  private last: { key: string; obj: EmittedFrrConfiguration | undefined } | undefined;
  private readonly resync: NodeJS.Timeout | undefined;

  constructor(private readonly o: FrrK8sEmitRoleOptions) {
    const every = o.resyncMs ?? 300_000;
    if (every > 0) {
      this.resync = setInterval(() => {
        if (!this.last || this.wanted) return;
        this.written = undefined;
        this.wanted = this.last;
        this.flush();
      }, every);
      this.resync.unref();
    }
  }

  onSnapshot(s: Snapshot): void {
    if (this.stopped) return;
    const nodes = withThisNode(s.nodes, this.o.nodeName);
    const endpointSlices = this.o.assumeLocalEndpoints ? withLocalEndpoints(s.services, s.endpointSlices, this.o.nodeName) : s.endpointSlices;
    let plan: AnnouncementPlan;
    try {
      plan = this.o.plan({ config: s.config, services: s.services, endpointSlices, nodes, nodeName: this.o.nodeName });
    } catch (e) {
      this.o.logger.error({ err: e, generation: s.generation }, 'planning failed; FRRConfiguration left as it was');
      return;
    }
    this.lastPlan = plan;
    this.layer2OnlyPools = layer2OnlyPools(s.config);
    const r = emitFrrConfiguration({ config: s.config, peers: plan.peers, nodeName: this.o.nodeName, namespace: this.o.namespace, secrets: this.o.secrets, objects: s.objects });
    const problems = JSON.stringify([r.errors, r.warnings]);
    if (problems !== this.lastProblems) {
      this.lastProblems = problems;
      for (const w of r.warnings) this.o.logger.warn({ generation: s.generation }, w);
      for (const e of r.errors) this.o.logger.error({ generation: s.generation }, `${e}; the FRRConfiguration written last stays in force`);
    }
    this.scheduleStatus();
    if (r.errors.length > 0) return;
    const key = JSON.stringify(r.configuration ?? null);
    this.last = { key, obj: r.configuration };
    if (key === this.written && this.wanted === undefined) return;
    this.wanted = this.last;
    this.flush();
  }

  private flush(): void {
    if (this.writing || this.stopped || !this.wanted) return;
    const next = this.wanted;
    this.wanted = undefined;
    if (next.key === this.written) return;
    this.writing = true;
    this.idle = this.o.sink.write(next.obj, this.o.nodeName).then(
      () => {
        this.written = next.key;
        const r = next.obj?.spec.bgp.routers ?? [];
        this.o.logger.info({
          where: this.o.sink.where, name: next.obj?.metadata.name,
          routers: r.length, neighbors: r.reduce((n, x) => n + (x.neighbors?.length ?? 0), 0), prefixes: r.reduce((n, x) => n + (x.prefixes?.length ?? 0), 0),
        }, next.obj ? 'FRRConfiguration written' : 'FRRConfiguration removed (no BGP session and no BFD profile on this node)');
      },
      (e: unknown) => {
        this.o.logger.warn({ err: e, where: this.o.sink.where }, 'writing the FRRConfiguration failed; retrying');
        this.wanted ??= next;
        this.retry = setTimeout(() => { this.retry = undefined; this.flush(); }, this.o.retryMs ?? 5000);
        this.retry.unref();
      },
    ).finally(() => {
      this.writing = false;
      if (!this.retry) this.flush();
    });
  }

  status(): SpeakerStatus {
    const { notAnnounced, announced, announcedToNoPeer } = bgpSummary(this.lastPlan?.services ?? [], this.layer2OnlyPools);
    const layer2 = this.o.layer2Status?.();
    // Sessions are frr-k8s's (its own BGPSessionState objects): none of ours to report.
    return { node: this.o.nodeName, peers: {}, notAnnounced, announced, ...(announcedToNoPeer.length > 0 ? { announcedToNoPeer } : {}), ...(layer2 && Object.keys(layer2).length > 0 ? { layer2 } : {}), updated: new Date().toISOString() };
  }

  statusChanged(): void {
    this.scheduleStatus();
  }

  private scheduleStatus(): void {
    if (this.statusTimer || this.stopped) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.statusWrite = this.statusWrite.then(() => this.o.store.writeSpeakerStatus(this.status())).catch((e: unknown) => this.o.logger.warn({ err: e }, 'writing speaker status failed'));
    }, 200);
    this.statusTimer.unref();
  }

  /** Waits for the write in flight; the object stays for frr-k8s. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resync);
    clearTimeout(this.retry);
    clearTimeout(this.statusTimer);
    await this.idle.catch(() => undefined);
    await this.statusWrite;
  }
}
