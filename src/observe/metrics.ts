// Prometheus metrics with MetalLB's names where one fits, so existing dashboards and alerts keep
// working. One Registry per instance: tests and the standalone role can run several side by side.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * How often (ms) the process metrics sample the event loop's delay (nodejs_eventloop_lag_*).
 * prom-client's default, 10 ms, wakes an idle daemon 100 times a second: 0.8 % of a core doing
 * nothing else (an idle node process with only that monitor: 25 CPU ticks in 30 s, 2 at 100 ms),
 * the whole of ironlb's idle CPU at 1,000 Services. At 100 ms the lag figures are the same kind
 * (a stall of the loop still shows in max / p99), sampled ten times less often.
 */
export const eventLoopSampleMs = 100;

export class Metrics {
  readonly registry = new Registry();
  /** 1 while the BGP session to a peer is Established. */
  readonly bgpSessionUp = new Gauge({ name: 'metallb_bgp_session_up', help: 'BGP session state (1 is up, 0 is down)', labelNames: ['peer'], registers: [this.registry] });
  readonly bgpAnnouncedPrefixes = new Gauge({ name: 'metallb_bgp_announced_prefixes_total', help: 'Number of prefixes currently being advertised on the BGP session', labelNames: ['peer'], registers: [this.registry] });
  readonly bgpUpdatesSent = new Counter({ name: 'metallb_bgp_updates_total', help: 'Number of BGP UPDATE messages sent', labelNames: ['peer'], registers: [this.registry] });
  readonly bfdSessionUp = new Gauge({ name: 'metallb_bfd_session_up', help: 'BFD session state (1 is up, 0 is down)', labelNames: ['peer'], registers: [this.registry] });
  readonly bfdSessionDownEvents = new Counter({ name: 'metallb_bfd_session_down_events', help: 'Number of times the BFD session went down', labelNames: ['peer'], registers: [this.registry] });
  readonly addressesInUse = new Gauge({ name: 'metallb_allocator_addresses_in_use_total', help: 'Number of IP addresses in use, per pool', labelNames: ['pool'], registers: [this.registry] });
  readonly addressesTotal = new Gauge({ name: 'metallb_allocator_addresses_total', help: 'Number of usable IP addresses, per pool', labelNames: ['pool'], registers: [this.registry] });
  readonly configLoaded = new Gauge({ name: 'metallb_k8s_client_config_loaded_bool', help: '1 if the last configuration change was accepted, 0 if it was rejected', registers: [this.registry] });
  readonly configStale = new Gauge({ name: 'metallb_k8s_client_config_stale_bool', help: '1 while running on a configuration older than the newest one written (it was rejected)', registers: [this.registry] });
  readonly reconcileSeconds = new Histogram({ name: 'ironlb_reconcile_duration_seconds', help: 'Time to apply one snapshot', labelNames: ['role'], buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: [this.registry] });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: eventLoopSampleMs });
  }
}
