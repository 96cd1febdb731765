// The Kubernetes API as a Store: reflectors (list + watch) for what the role reads, bursts of
// changes debounced into one snapshot, the same Snapshot stream the folder store feeds. A refused
// configuration keeps the last good one in force, for Services too: new Services still get IPs
// under it, and ConfigurationState plus an Event say why the new one was refused (MetalLB's
// behaviour). Status goes back through the writers (controller: Service status, annotation,
// Events, pool status; speaker: ServiceBGPStatus, BGPSessionState, and in its ConfigurationState
// the FRRConfigurations it refused), written only on change.
import type { ConfigResolver, StoreLogger } from '../files/folder-store.ts';
import { ConfigRejectedError } from '../files/folder-store.ts';
import { formatDiagnostic } from '../../api/diagnostics.ts';
import type { EndpointSlice, Service } from '../../api/resources.ts';
import { type ControllerStatus, copyFields, type FrrConfigurationProblem, type Snapshot, type SnapshotDelta, type SpeakerStatus, type SpeakerStatusWrite, type Store, type StoreListener } from '../store.ts';
import { type ObjectsByKind, SnapshotAssembler, specVersion } from './assemble.ts';
import { ConfigurationStateWriter } from './configuration-state.ts';
import { ControllerStatusWriter } from './controller-writer.ts';
import type { Json, KubeClient } from './kube-client.ts';
import { resourcePath } from './kube-client.ts';
import { objectKey, Reflector } from './reflector.ts';
import * as res from './resources.ts';
import { EventRecorder } from './event-recorder.ts';
import { readSpeakerStatuses, SpeakerStatusWriter } from './speaker-writer.ts';

export interface KubernetesStoreOptions {
  readonly client: KubeClient;
  readonly role: res.Role;
  /** The MetalLB namespace (config objects, status objects, Secrets, the Lease). */
  readonly namespace: string;
  readonly resolver: ConfigResolver;
  /** The speaker's node. */
  readonly node?: string;
  /** Where the speaker reads FRRConfigurations and their Secrets (default: `namespace`). */
  readonly frrk8sNamespace?: string;
  readonly loadBalancerClass?: string;
  readonly logger?: StoreLogger & { debug?(obj: object, msg?: string): void };
  /**
   * The least time between two snapshot builds (default 0). Builds are paced by their own cost:
   * after one that took c ms the next starts no sooner than c ms after it ended, so a burst of
   * watch events is coalesced into builds that take at most about half the time, and a lone
   * change waits for no timer.
   */
  readonly debounceMs?: number;
  /** The longest pause between builds however long the last one took (default 500 ms). */
  readonly maxDelayMs?: number;
  readonly watchTimeoutSeconds?: number;
  /** Controller: API writes in flight at most (default 32). */
  readonly writeConcurrency?: number;
  /** The clock a build's cost is measured with (default performance.now; tests pin it). */
  readonly costClock?: () => number;
}

/** The key of the Service an EndpointSlice belongs to (its kubernetes.io/service-name label, same namespace). */
/** What the plans read of a Node, as text: labels, spec, addresses and each condition's status (not its times). */
export function nodeVersion(o: Json): string {
  const m = o.metadata as { labels?: Record<string, string> } | undefined;
  const st = o.status as { addresses?: unknown; conditions?: { type?: string; status?: string }[] } | undefined;
  return JSON.stringify([m?.labels ?? {}, o.spec ?? {}, st?.addresses ?? [], (st?.conditions ?? []).map((c) => [c.type, c.status])]);
}

function sliceService(o: Json): string | undefined {
  const m = o.metadata as { namespace?: string; labels?: Record<string, string> } | undefined;
  const name = m?.labels?.['kubernetes.io/service-name'];
  return name === undefined ? undefined : `${m?.namespace ?? 'default'}/${name}`;
}

/** Kinds whose changes reach snapshots only through the resolved Config (its identity says whether they changed it). */
const configKinds = new Set([...res.metallbConfig.map((r) => r.kind), 'Namespace']);
const metallbKinds = new Set(res.metallbConfig.map((r) => r.kind));

export class KubernetesStore implements Store {
  readonly reflectors = new Map<string, Reflector>();
  readonly assembler: SnapshotAssembler;
  readonly controllerWriter: ControllerStatusWriter | undefined;
  readonly speakerWriter: SpeakerStatusWriter | undefined;
  readonly configurationState: ConfigurationStateWriter;
  private listener: StoreListener | undefined;
  private last: Snapshot | undefined;
  private lastRejectedKey: string | undefined;
  private debounce: NodeJS.Timeout | undefined;
  /** When the last snapshot build ended, and how long it took (the pause before the next one). */
  private lastBuilt = 0;
  private lastBuildMs = 0;
  private started = false;
  private closed = false;

  constructor(private readonly o: KubernetesStoreOptions) {
    this.assembler = new SnapshotAssembler(o.resolver, o.namespace);
    const frrNs = o.frrk8sNamespace ?? o.namespace;
    const watch = (name: string, r: res.ApiResource, ns: string | undefined, optional: boolean) => {
      this.reflectors.set(name, new Reflector({
        client: o.client, path: resourcePath(r, ns), name,
        ...(r.kind === 'Secret' ? { fieldSelector: 'type=kubernetes.io/basic-auth' } : {}),
        ...(optional ? { optional } : {}),
        ...(o.logger ? { logger: o.logger } : {}),
        ...(o.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: o.watchTimeoutSeconds } : {}),
        onChange: (change, obj) => this.changed(r.kind, change, obj),
      }));
    };
    for (const r of res.watchedBy(o.role)) {
      const frr = r === res.frrConfigurations;
      watch(r.kind, r, frr ? frrNs : r.inNamespace ? o.namespace : undefined, frr);
    }
    // FRRConfigurations' password Secrets live beside them (frr-k8s reads only its namespace).
    if (o.role === 'speaker' && frrNs !== o.namespace) watch('FrrK8sSecret', res.secrets, frrNs, true);
    const services = () => this.reflectors.get('Service')!.cache;
    const pools = () => this.reflectors.get('IPAddressPool')!.cache;
    this.controllerWriter = o.role === 'controller'
      ? new ControllerStatusWriter({ client: o.client, namespace: o.namespace, services, pools, ...(o.loadBalancerClass !== undefined ? { loadBalancerClass: o.loadBalancerClass } : {}), ...(o.logger ? { logger: o.logger } : {}), ...(o.writeConcurrency !== undefined ? { concurrency: o.writeConcurrency } : {}) })
      : undefined;
    this.speakerWriter = o.role === 'speaker'
      ? new SpeakerStatusWriter({
        client: o.client, namespace: o.namespace, node: o.node ?? '', ...(o.logger ? { logger: o.logger } : {}),
        vrfOf: (peer) => this.last?.config.peers.find((p) => p.name === peer)?.vrf,
        events: new EventRecorder({ client: o.client, component: 'metallb-speaker', ...(o.node ? { host: o.node } : {}), services, ...(o.logger ? { logger: o.logger } : {}) }),
      })
      : undefined;
    this.configurationState = new ConfigurationStateWriter({
      client: o.client, namespace: o.namespace, component: o.role, ...(o.node ? { node: o.node } : {}), ...(o.logger ? { logger: o.logger } : {}),
    });
  }

  /** Lists everything, builds the first snapshot; rejects when there is no valid configuration at all. */
  async start(listener: StoreListener): Promise<Snapshot> {
    this.listener = listener;
    await Promise.all([...this.reflectors.values()].map((r) => r.start()));
    this.started = true;
    clearTimeout(this.debounce);
    this.debounce = undefined;
    const r = this.assemble();
    if (r.kind === 'rejected') {
      void this.configurationState.report(r.diagnostics.filter((d) => d.severity === 'error'));
      this.lastRejectedKey = r.configKey;
      // No good configuration yet: wait for one rather than exit (a cluster fixes itself by kubectl apply).
      this.o.logger?.error({ errors: r.diagnostics.filter((d) => d.severity === 'error').length }, 'the configuration in the cluster is invalid; waiting for a valid one');
      this.listener.rejected?.({ diagnostics: r.diagnostics });
      const first = await new Promise<Snapshot>((resolve, reject) => {
        const orig = this.listener!;
        this.listener = {
          snapshot: (s) => { this.listener = orig; resolve(s); },
          rejected: (x) => orig.rejected?.(x),
        };
        this.onClose = () => reject(new ConfigRejectedError(r.diagnostics));
      });
      return first;
    }
    this.accept(r.snapshot, false);
    return r.snapshot;
  }

  private onClose: (() => void) | undefined;
  private lastFrrProblems = '';

  /** A configuration object, Secret, Namespace or FRRConfiguration changed since the last build (see assemble's configUnchanged). */
  private configDirty = true;

  private assemble() {
    const r = this.assembler.assemble(this.objects(), { configUnchanged: !this.configDirty });
    this.configDirty = false;
    // A refused FRRConfiguration keeps its last version that loaded; said once per change.
    const problems = this.assembler.frrDiagnostics.map(formatDiagnostic);
    if (problems.join('\n') !== this.lastFrrProblems) {
      this.lastFrrProblems = problems.join('\n');
      for (const p of problems) this.o.logger?.warn({ problem: p }, 'FRRConfiguration refused; its last good version stays in force');
      this.reportFrrConfigurations();
    }
    return r;
  }

  /** The speaker's word on the FRRConfigurations it merges (none yet, or frr-k8s as the backend: undefined). */
  private speakerFrrProblems: readonly FrrConfigurationProblem[] | undefined;

  /** Into ConfigurationState: the FRRConfigurations refused as written (load) and those the merge refused. */
  private reportFrrConfigurations(): void {
    if (this.speakerFrrProblems === undefined) return;
    const refused = this.assembler.frrDiagnostics.map((d) => ({
      configuration: `${d.object?.namespace ?? ''}/${d.object?.name ?? ''}`,
      message: `${formatDiagnostic(d)} (refused as written; its last version that loaded, if any, stays in force)`,
    }));
    void this.configurationState.reportFrrConfigurations([...refused, ...this.speakerFrrProblems]);
  }

  current(): Snapshot | undefined {
    return this.last;
  }

  /**
   * What the assembler reads, each list made when read: the configuration kinds only by a full
   * build (a configuration change, the first one). Services, EndpointSlices and Nodes (the world:
   * every object the cluster holds) only i.e. when a consumer of the snapshot reads that list:
   * an edit's consumers read its delta, so a Services-only build copies none of them.
   */
  private objects(): ObjectsByKind {
    const list = (kind: string) => this.reflectors.get(kind)?.list() ?? [];
    return {
      get config() { return res.metallbConfig.flatMap((r) => list(r.kind)); },
      get secrets() { return [...list('Secret'), ...list('FrrK8sSecret')]; },
      get frrConfigurations() { return list('FRRConfiguration'); },
      get namespaces() { return list('Namespace'); },
      get services() { return list('Service'); },
      get endpointSlices() { return list('EndpointSlice'); },
      get nodes() { return list('Node'); },
    };
  }

  /** EndpointSlices by their Service's key, then by their own key (kept on every watch event). */
  private readonly slicesByService = new Map<string, Map<string, Json>>();
  /** Each EndpointSlice's Service as last indexed (its label may change or vanish on an update). */
  private readonly sliceOwner = new Map<string, string>();

  private indexSlice(change: 'add' | 'update' | 'delete', obj: Json): void {
    const key = objectKey(obj);
    const before = this.sliceOwner.get(key);
    const after = change === 'delete' ? undefined : sliceService(obj);
    if (before !== undefined && before !== after) {
      const m = this.slicesByService.get(before);
      m?.delete(key);
      if (m?.size === 0) this.slicesByService.delete(before);
      this.sliceOwner.delete(key);
      this.pending.slices.add(before); // the Service it left is re-planned too
    }
    if (after === undefined) return;
    let m = this.slicesByService.get(after);
    if (!m) this.slicesByService.set(after, (m = new Map()));
    m.set(key, obj);
    this.sliceOwner.set(key, after);
  }

  /** The EndpointSlices of one Service as the informer holds them (from the index: no scan). */
  slicesOf(service: string): Json[] {
    return [...(this.slicesByService.get(service)?.values() ?? [])];
  }

  /** What changed since the last snapshot handed out: its delta (see SnapshotDelta in store.ts). */
  private pending = { upserted: new Set<string>(), deleted: new Set<string>(), slices: new Set<string>(), other: false };

  /** Per metallb.io object, the version of what the configuration reads of it (assemble's specVersion). */
  private readonly configVersions = new Map<string, string>();

  /**
   * False for a metallb.io object whose update changed none of what the configuration reads (its
   * generation, labels and annotations): the controller's status write on a pool after every
   * allocation, which made each Service's build a full one in every speaker (5% of a speaker's
   * CPU under a churn of Services).
   */
  private configChanged(kind: string, change: 'add' | 'update' | 'delete', obj: Json): boolean {
    if (!metallbKinds.has(kind)) return true;
    const key = `${kind}/${objectKey(obj)}`;
    const version = specVersion(obj);
    const before = this.configVersions.get(key);
    if (change === 'delete') this.configVersions.delete(key); else this.configVersions.set(key, version);
    return change !== 'update' || before !== version || version.startsWith('rv');
  }

  /** Per Node, what the plans read of it (nodeVersion). */
  private readonly nodeVersions = new Map<string, string>();

  /**
   * False for a Node update that changed none of what the plans read (labels, spec,
   * addresses, each condition's status): the kubelet's status reports, which only move heartbeat
   * times and image lists, and which would otherwise rebuild every speaker's snapshot, a pass
   * over every Service, once per report of every Node in the cluster.
   */
  private nodeChanged(change: 'add' | 'update' | 'delete', obj: Json): boolean {
    const key = objectKey(obj);
    if (change === 'delete') { this.nodeVersions.delete(key); return true; }
    const version = nodeVersion(obj);
    const before = this.nodeVersions.get(key);
    this.nodeVersions.set(key, version);
    return change !== 'update' || before !== version;
  }

  private changed(kind: string, change: 'add' | 'update' | 'delete', obj: Json): void {
    if (kind === 'Node' && !this.nodeChanged(change, obj)) return; // the cache holds it; no plan reads what moved
    if (kind !== 'Service' && kind !== 'EndpointSlice' && kind !== 'Node') {
      if (!this.configChanged(kind, change, obj)) return; // no snapshot holds what changed: no build
      this.configDirty = true;
    }
    if (kind === 'Service') {
      const key = objectKey(obj);
      this.controllerWriter?.touched(key);
      if (change === 'delete') {
        this.pending.upserted.delete(key);
        this.pending.deleted.add(key);
      } else {
        this.pending.deleted.delete(key);
        this.pending.upserted.add(key);
      }
    } else if (kind === 'EndpointSlice') {
      // A Service's endpoints: that Service is re-planned with its slices, not the whole world.
      this.indexSlice(change, obj);
      const svc = sliceService(obj);
      if (svc !== undefined) this.pending.slices.add(svc);
    } else if (!configKinds.has(kind)) {
      // The configuration kinds are judged by the resolved Config itself (accept() compares it):
      // a status write on a pool changes no Config and costs no full recomputation.
      this.pending.other = true;
    }
    if (!this.started || this.closed || this.debounce !== undefined) return; // joins the build already due
    // Paced by the last build's cost rather than a quiet period: the controller's three writes
    // for a new Service come back as three updates within a few ms, and a trailing debounce held
    // the speaker's view of the IP until they were over (the gap to MetalLB's convergence).
    const pause = Math.min(this.o.maxDelayMs ?? 500, Math.max(this.o.debounceMs ?? 0, this.lastBuildMs));
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.rebuild();
    }, Math.max(0, this.lastBuilt + pause - Date.now()));
  }

  /** Builds a snapshot from the caches now (tests; the pacing timer does it otherwise). */
  rebuild(): void {
    if (this.closed) return;
    const clock = this.o.costClock ?? performance.now.bind(performance);
    const started = clock();
    try {
      this.build();
    } finally {
      this.lastBuildMs = clock() - started;
      this.lastBuilt = Date.now();
    }
  }

  private build(): void {
    const r = this.assemble();
    if (r.kind === 'rejected') {
      if (r.configKey !== this.lastRejectedKey) {
        this.lastRejectedKey = r.configKey;
        const errors = r.diagnostics.filter((d) => d.severity === 'error');
        this.o.logger?.error({ errors: errors.length, diagnostics: errors.slice(0, 20) }, 'configuration change rejected; the last good configuration stays in force');
        void this.configurationState.report(errors);
        this.listener?.rejected?.({ diagnostics: r.diagnostics });
      }
      if (r.snapshot) this.accept(r.snapshot, true);
      return;
    }
    this.accept(r.snapshot, false);
  }

  private accept(s: Snapshot, stale: boolean): void {
    if (!stale) {
      this.lastRejectedKey = undefined;
      void this.configurationState.report([]);
    }
    const p = this.pending;
    this.pending = { upserted: new Set(), deleted: new Set(), slices: new Set(), other: false };
    const services = this.reflectors.get('Service')!.cache;
    let slices: Map<string, Json[]> | undefined;
    if (p.slices.size > 0) {
      slices = new Map([...p.slices].map((k) => [k, this.slicesOf(k)]));
      for (const k of p.slices) if (!p.deleted.has(k)) p.upserted.add(k);
    }
    // Own status writes come back as updates and are named too: the delta is advisory, and a
    // Service named needlessly only costs its own recomputation.
    const delta: SnapshotDelta | undefined = this.last === undefined ? undefined : {
      from: this.last.generation,
      servicesOnly: !p.other && !stale && this.last.config === s.config,
      upserted: [...p.upserted].map((k) => services.get(k) as unknown as Service | undefined).filter((x): x is Service => x !== undefined),
      deleted: [...p.deleted],
      ...(slices ? { slices: slices as unknown as ReadonlyMap<string, EndpointSlice[]> } : {}),
    };
    // Not a spread: that would read (build) the snapshot's lazy lists.
    this.last = copyFields(s, { ...(stale ? { stale } : {}), ...(delta ? { delta } : {}) });
    this.listener?.snapshot(this.last);
  }

  async writeControllerStatus(s: ControllerStatus, changed?: ReadonlySet<string>): Promise<void> {
    if (!this.controllerWriter) throw new Error('writeControllerStatus: this store serves a speaker');
    await this.controllerWriter.write(s, changed);
  }

  async writeSpeakerStatus(s: SpeakerStatusWrite): Promise<void> {
    if (!this.speakerWriter) throw new Error('writeSpeakerStatus: this store serves the controller');
    const problems = 'changes' in s ? s.changes.frrConfigurationProblems : s.frrConfigurationProblems;
    if (problems !== undefined) {
      this.speakerFrrProblems = problems;
      this.reportFrrConfigurations();
    }
    await this.speakerWriter.write(s);
  }

  readSpeakerStatuses(): Promise<SpeakerStatus[]> {
    return readSpeakerStatuses(this.o.client, this.o.namespace);
  }

  /** Raw objects of a kind as the informers hold them (tests, webhooks' cross-object checks). */
  cached(kind: string): Json[] {
    return this.reflectors.get(kind)?.list() ?? [];
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.debounce);
    for (const r of this.reflectors.values()) r.stop();
    this.controllerWriter?.close();
    this.speakerWriter?.close();
    this.onClose?.();
  }
}
