// The webhook HTTPS server: MetalLB's admission paths (`/validate-metallb-io-v1beta1-<kind>`,
// `/validate-metallb-io-v1beta2-bgppeer`), the BGPPeer conversion path (`/convert`) and
// `/healthz`. Certificates come from the WebhookCertManager and are swapped in place on rotation.
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type AdmissionRequest, admit } from './admission.ts';
import { type ConversionRequest, convertReview } from './conversion.ts';
import type { WebhookTls } from './certs.ts';
import type { ResolveOptions } from '../config/resolve.ts';

type Json = Record<string, unknown>;

export interface WebhookServerOptions {
  readonly tls: WebhookTls;
  readonly port: number;
  readonly host?: string;
  readonly namespace: string;
  /** How the configuration is judged (the BGP backend: frr-k8s takes BFD echo mode). */
  readonly resolveAs?: ResolveOptions;
  /** Every metallb.io configuration object in the cluster now. */
  readonly current: () => readonly Json[];
  readonly logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

export const admissionPaths: Readonly<Record<string, string>> = {
  IPAddressPool: '/validate-metallb-io-v1beta1-ipaddresspool',
  BGPAdvertisement: '/validate-metallb-io-v1beta1-bgpadvertisement',
  L2Advertisement: '/validate-metallb-io-v1beta1-l2advertisement',
  Community: '/validate-metallb-io-v1beta1-community',
  BFDProfile: '/validate-metallb-io-v1beta1-bfdprofile',
  BGPPeer: '/validate-metallb-io-v1beta2-bgppeer',
};
const kindByPath = new Map(Object.entries(admissionPaths).map(([k, p]) => [p, k]));

export interface WebhookServer {
  readonly port: number;
  /** Admission and conversion requests served (tests check the API server did call). */
  readonly served: { admission: number; conversion: number };
  setTls(tls: WebhookTls): void;
  close(): Promise<void>;
}

function readBody(req: import('node:http').IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    req.on('error', reject);
  });
}

export async function serveWebhooks(o: WebhookServerOptions): Promise<WebhookServer> {
  const served = { admission: 0, conversion: 0 };
  const server = https.createServer({ key: o.tls.serving.keyPem, cert: o.tls.serving.certPem, minVersion: 'TLSv1.2' }, (req, res) => {
    const url = (req.url ?? '').split('?')[0]!;
    const reply = (code: number, body: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && (url === '/healthz' || url === '/readyz')) return reply(200, { ok: true });
    if (req.method !== 'POST') return reply(405, { error: 'POST only' });
    readBody(req).then((review) => {
      if (url === '/convert') {
        served.conversion++;
        const r = review.request as ConversionRequest;
        return reply(200, { apiVersion: review.apiVersion ?? 'apiextensions.k8s.io/v1', kind: 'ConversionReview', response: convertReview(r) });
      }
      const kind = kindByPath.get(url);
      if (!kind) return reply(404, { error: `no webhook at ${url}` });
      served.admission++;
      const r = review.request as AdmissionRequest;
      let verdict;
      try {
        verdict = admit(r, o.current(), o.namespace, o.resolveAs);
      } catch (e) {
        verdict = { allowed: false, message: `internal error while validating: ${(e as Error).message}` };
      }
      if (!verdict.allowed) o.logger?.info({ kind: r.kind.kind, name: r.name, operation: r.operation, message: verdict.message }, 'admission refused');
      return reply(200, {
        apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
        response: {
          uid: r.uid, allowed: verdict.allowed,
          ...(verdict.allowed ? {} : { status: { code: 422, reason: 'Invalid', message: verdict.message } }),
          ...(verdict.warnings?.length ? { warnings: verdict.warnings } : {}),
        },
      });
    }).catch((e: unknown) => reply(400, { error: (e as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  o.logger?.info({ port }, 'serving webhooks');
  return {
    port, served,
    setTls: (tls) => server.setSecureContext({ key: tls.serving.keyPem, cert: tls.serving.certPem }),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
