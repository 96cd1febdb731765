// The speaker role's FRRConfiguration support (issue #14), kept out of speaker.ts: per full
// reconcile, the snapshot's FRRConfigurations are checked and merged with the plan's sessions
// (speaker/frrk8s-merge.ts; errors logged at warn when they change, and put in the speaker's
// status: ConfigurationState and Events in a cluster, `ironlb status` on a folder), and each
// session's receive policy goes to the route importer (bgp/route-import.ts). Only sessions with a
// toReceive keep an Adj-RIB-In (a peer sending a full table to a node that wants none of it costs
// nothing, as before); so a toReceive added to a running session asks the peer for its routes
// again with ROUTE-REFRESH (RFC 2918), or, when the peer did not advertise it, resets the session
// once (Cease 6/6, "other configuration change"). The rtnetlink socket is opened only once there
// is a route to install.
import type { Logger } from 'pino';
import { KernelRoutes } from '../bgp/kernel-routes.ts';
import { type ImportStatus, RouteImporter } from '../bgp/route-import.ts';
import type { PeerConfig } from '../bgp/speaker.ts';
import { receiveAllows, resolveFrrConfigurations } from '../config/frrk8s-configurations.ts';
import type { FrrConfiguration, ReceivePolicy } from '../config/frrk8s-types.ts';
import { sessionIsEbgp } from '../config/peers.ts';
import type { BfdProfile, Peer } from '../config/types.ts';
import type { Labels } from '../net/selector.ts';
import { mergeFrrConfigurations } from '../speaker/frrk8s-merge.ts';
import type { PeerPlan } from '../speaker/plan-types.ts';
import type { FrrConfigurationProblem, Snapshot } from '../store/store.ts';
import type { BgpEngine } from './engines.ts';
import { CeaseSubcode } from '../bgp/errors.ts';
import { formatDiagnostic } from '../api/diagnostics.ts';

export interface FrrK8sHookOptions {
  readonly bgp: BgpEngine;
  readonly logger: Logger;
  /** Kernel routing table for received routes; default main (254). */
  readonly table?: number;
  /** Received or installed routes changed (status). */
  readonly onStatusChange?: () => void;
}

export class FrrK8sHook {
  private lastGood = new Map<string, FrrConfiguration>();
  private lastProblems = '';
  private problems: readonly FrrConfigurationProblem[] = [];
  private readonly withPolicy = new Set<string>();
  private readonly importer: RouteImporter;

  constructor(private readonly o: FrrK8sHookOptions) {
    const changed = () => o.onStatusChange?.();
    this.importer = new RouteImporter(o.bgp, new KernelRoutes({ ...(o.table !== undefined ? { table: o.table } : {}), logger: o.logger, onWritten: changed }), changed);
  }

  /** ironlb's sessions for this node merged with the FRRConfigurations selecting it. */
  merge(s: Snapshot, peers: readonly PeerPlan[], nodeLabels: Labels): { peers: readonly PeerPlan[]; receive: ReadonlyMap<string, ReceivePolicy>; bfdProfiles: readonly BfdProfile[] } {
    if (!s.objects.some((o) => o.object.kind === 'FRRConfiguration') && this.lastGood.size === 0) {
      this.lastProblems = '';
      this.problems = [];
      return { peers, receive: new Map(), bfdProfiles: [] };
    }
    const resolved = resolveFrrConfigurations(s.objects);
    const valid = new Set(resolved.configurations.map((c) => c.id));
    const invalid = s.objects.filter((o) => o.object.kind === 'FRRConfiguration')
      .map((o) => `${o.object.metadata.namespace ?? ''}/${o.object.metadata.name ?? ''}`).filter((id) => !valid.has(id));
    const r = mergeFrrConfigurations({
      peers, bfdProfiles: s.config.bfdProfiles, configurations: resolved.configurations, nodeLabels, lastGood: this.lastGood, invalid,
    });
    this.lastGood = new Map(r.lastGood);
    const problems: FrrConfigurationProblem[] = [
      ...resolved.diagnostics.filter((d) => d.severity === 'error')
        .map((d) => ({ configuration: `${d.object?.namespace ?? ''}/${d.object?.name ?? ''}`, message: formatDiagnostic(d) })),
      ...r.errors,
    ];
    const text = problems.map((p) => p.message).join('\n');
    if (text !== this.lastProblems) {
      this.lastProblems = text;
      this.problems = problems;
      for (const p of problems) this.o.logger.warn({ problem: p.message }, 'FRRConfiguration not applied');
    }
    return r;
  }

  /** The FRRConfigurations the last merge refused on this node, and why (for status). */
  refused(): readonly FrrConfigurationProblem[] {
    return this.problems;
  }

  /** The session's receive policy (none: it learns nothing). */
  importPeer(config: PeerConfig, peer: Peer, policy: ReceivePolicy | undefined): void {
    if (!policy) {
      if (this.withPolicy.delete(config.id)) this.importer.removePeer(config.id);
      return;
    }
    let refresh = false;
    if (!this.withPolicy.has(config.id)) {
      this.withPolicy.add(config.id);
      if (this.o.bgp.peerState(config.id)?.state === 'Established') {
        // The routes the peer sent so far were not kept: ask for them again (after setPeer below
        // has made the Adj-RIB-In, so the answer lands in it).
        refresh = true;
      }
    }
    this.importer.setPeer(config.id, {
      peerAddress: config.peerAddress, ebgp: sessionIsEbgp(peer),
      accept: (p) => receiveAllows(policy, p),
      staleTimeMs: peer.gracefulRestart.restartTimeMs,
    });
    const negotiated = refresh ? this.o.bgp.peerState(config.id)?.negotiated : undefined;
    if (negotiated) this.importer.sessionUp(config.id, negotiated); // its router ID and GR, for the decision and session loss
    if (refresh && !this.o.bgp.refreshPeer(config.id)) {
      this.o.logger.info({ peer: config.id }, 'receiving routes now (FRRConfiguration toReceive); the peer does not support ROUTE-REFRESH: resetting the session once for it to send them again');
      this.o.bgp.resetPeer(config.id, { subcode: CeaseSubcode.OtherConfigurationChange, message: 'receive policy added' });
    }
  }

  dropPeer(id: string): void {
    this.withPolicy.delete(id);
    this.importer.removePeer(id);
  }

  /** Only for sessions with a receive policy (the others learn nothing by design). */
  status(id: string): ImportStatus | undefined {
    return this.withPolicy.has(id) ? this.importer.status(id) : undefined;
  }

  /** Removes every received route installed. */
  async close(): Promise<void> {
    await this.importer.close();
  }
}
