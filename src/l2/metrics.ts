// MetalLB's layer-2 counters (internal/layer2/stats.go), same names and label (`ip`), no `_total`
// suffix, so its dashboards work unchanged. Registered on the daemon's registry.
import { Counter, type Registry } from 'prom-client';

export class L2Metrics {
  readonly requestsReceived: Counter<'ip'>;
  readonly responsesSent: Counter<'ip'>;
  readonly gratuitousSent: Counter<'ip'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requestsReceived = new Counter({ name: 'metallb_layer2_requests_received', help: 'Number of layer2 requests received for owned IPs', labelNames: ['ip'], registers });
    this.responsesSent = new Counter({ name: 'metallb_layer2_responses_sent', help: 'Number of layer2 responses sent for owned IPs', labelNames: ['ip'], registers });
    this.gratuitousSent = new Counter({ name: 'metallb_layer2_gratuitous_sent', help: 'Number of gratuitous layer2 packets sent for owned IPs', labelNames: ['ip'], registers });
  }
}
