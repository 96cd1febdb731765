// /metrics (Prometheus text), /healthz and /status (JSON from the running role) over HTTP.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

export interface ObserveServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function serveObserve(metrics: Metrics, listen: { host: string; port: number }, status: () => unknown = () => ({})): Promise<ObserveServer> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => { res.writeHead(200, { 'content-type': metrics.registry.contentType }); res.end(text); },
        (e: unknown) => { res.writeHead(500); res.end(String(e)); },
      );
    } else if (url === '/healthz' || url === '/readyz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    } else if (url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status(), null, 2));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => { server.removeListener('error', reject); resolve(); });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
