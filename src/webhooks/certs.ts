// Self-managed webhook TLS: a CA and a serving certificate kept in a Secret (MetalLB's name:
// metallb-webhook-cert), the CA injected as caBundle into the ValidatingWebhookConfiguration and
// the BGPPeer CRD's conversion stanza, and both renewed before they expire. The CA is renewed 90
// days before it expires, but only added to the bundle then: the serving certificate stays signed
// by the old CA until that one is within 30 days of expiry, so by the time a certificate signed by
// the new CA is served, the API server (and every replica) has long had the new CA in its bundle.
// The serving certificate is renewed 30 days before it expires. An old CA stays in the bundle
// until it expires, so replicas still serving an older certificate keep working. Every replica
// runs this: writes carry the resourceVersion read, so of two racing replicas one wins and the
// other adopts its result.
import { X509Certificate } from 'node:crypto';
import type { Json, KubeClient } from '../store/kubernetes/kube-client.ts';
import { KubeApiError, resourcePath } from '../store/kubernetes/kube-client.ts';
import { createCertificate, type KeyPairPem } from './x509.ts';

export interface WebhookTlsOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly secretName?: string;
  readonly serviceName?: string;
  /** Extra names or IPs for the serving certificate (tests reach the webhook on 127.0.0.1). */
  readonly extraHosts?: readonly string[];
  readonly webhookConfigurationName?: string;
  /** CRDs whose conversion webhook gets the caBundle. */
  readonly conversionCrds?: readonly string[];
  readonly now?: () => Date;
  /** Lifetimes and renewal margins (tests shorten them to seconds). */
  readonly lifetimes?: Partial<CertLifetimes>;
  readonly logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

export const webhookDefaults = {
  secretName: 'metallb-webhook-cert',
  serviceName: 'metallb-webhook-service',
  webhookConfigurationName: 'metallb-webhook-configuration',
  conversionCrds: ['bgppeers.metallb.io'],
} as const;

const day = 86_400_000;

export interface CertLifetimes {
  readonly caMs: number;
  /** A CA this close to expiry gets a successor (added to the bundle, used to sign later). */
  readonly caRenewBeforeMs: number;
  readonly servingMs: number;
  /** A serving certificate, or the CA that signed it, this close to expiry: a new one from the newest CA. */
  readonly servingRenewBeforeMs: number;
}

export const defaultLifetimes: CertLifetimes = { caMs: 3650 * day, caRenewBeforeMs: 90 * day, servingMs: 365 * day, servingRenewBeforeMs: 30 * day };
const secrets = { group: '', version: 'v1', plural: 'secrets' };
const webhookConfigs = { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations' };
const crds = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' };

export interface WebhookTls {
  readonly serving: KeyPairPem;
  /** PEM of every CA certificate still valid (the caBundle). */
  readonly caBundle: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');

function expiresWithin(pem: string, ms: number, now: Date): boolean {
  try {
    return new Date(new X509Certificate(pem).validTo).getTime() - now.getTime() < ms;
  } catch {
    return true;
  }
}

function pemBlocks(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g)?.map((b) => b.endsWith('\n') ? b : `${b}\n`) ?? [];
}

export class WebhookCertManager {
  private timer: NodeJS.Timeout | undefined;
  current: WebhookTls | undefined;

  constructor(private readonly o: WebhookTlsOptions) {}

  private get hosts(): string[] {
    const svc = this.o.serviceName ?? webhookDefaults.serviceName;
    const ns = this.o.namespace;
    return [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`, ...(this.o.extraHosts ?? [])];
  }

  /** Reads (or creates, or renews) the certificates and injects the caBundle; returns what to serve. */
  async ensure(): Promise<WebhookTls> {
    const now = this.o.now?.() ?? new Date();
    const life = { ...defaultLifetimes, ...this.o.lifetimes };
    const name = this.o.secretName ?? webhookDefaults.secretName;
    let secret: Json | undefined;
    try {
      secret = await this.o.client.request('GET', resourcePath(secrets, this.o.namespace, name));
    } catch (e) {
      if (!(e instanceof KubeApiError && e.code === 404)) throw e;
    }
    const data = (secret?.data ?? {}) as Record<string, string>;
    let ca: KeyPairPem | undefined = data['ca.crt'] && data['ca.key'] ? { certPem: pemBlocks(unb64(data['ca.crt']))[0] ?? '', keyPem: unb64(data['ca.key']) } : undefined;
    let bundle = pemBlocks(unb64(data['ca.crt'])).filter((p) => !expiresWithin(p, 0, now));
    let serving: KeyPairPem | undefined = data['tls.crt'] && data['tls.key'] ? { certPem: unb64(data['tls.crt']), keyPem: unb64(data['tls.key']) } : undefined;
    let changed = false;
    // A CA made in this very call is not in anyone's bundle yet: whatever is signed now comes from its predecessor.
    let signer: KeyPairPem | undefined = ca;
    if (!ca || expiresWithin(ca.certPem, life.caRenewBeforeMs, now)) {
      if (signer && expiresWithin(signer.certPem, life.servingRenewBeforeMs, now)) signer = undefined;
      ca = createCertificate({ commonName: 'ironlb-webhook-ca', validDays: life.caMs / day, now });
      bundle = [ca.certPem, ...bundle];
      changed = true;
    }
    // The serving certificate may be signed by an older CA of the bundle (see above).
    const issuer = serving ? bundle.find((c) => this.covers(serving!.certPem, c)) : undefined;
    if (!serving || !issuer || expiresWithin(serving.certPem, life.servingRenewBeforeMs, now) || expiresWithin(issuer, life.servingRenewBeforeMs, now)) {
      serving = createCertificate({ commonName: this.hosts[2]!, validDays: life.servingMs / day, now, issuer: signer ?? ca, hosts: this.hosts });
      changed = true;
    }
    if (changed) {
      const body: Json = {
        apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
        metadata: { ...(secret?.metadata ?? {}), name, namespace: this.o.namespace },
        data: { 'ca.crt': b64(bundle.join('')), 'ca.key': b64(ca.keyPem), 'tls.crt': b64(serving.certPem), 'tls.key': b64(serving.keyPem) },
      };
      try {
        if (secret) await this.o.client.request('PUT', resourcePath(secrets, this.o.namespace, name), { body });
        else await this.o.client.request('POST', resourcePath(secrets, this.o.namespace), { body });
        this.o.logger?.info({ secret: name }, 'webhook certificates written');
      } catch (e) {
        // Another replica wrote them first: use its certificates.
        if (e instanceof KubeApiError && e.code === 409) return this.ensure();
        throw e;
      }
    }
    const tls = { serving, caBundle: bundle.join('') };
    await this.inject(tls.caBundle);
    this.current = tls;
    return tls;
  }

  private covers(certPem: string, caPem: string): boolean {
    try {
      const cert = new X509Certificate(certPem);
      return cert.verify(new X509Certificate(caPem).publicKey) && this.hosts.every((h) => (/^[\d.]+$|:/.test(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
    } catch {
      return false;
    }
  }

  /** Puts the caBundle into the webhook configuration and the conversion stanzas where it differs. */
  private async inject(caBundle: string): Promise<void> {
    const bundle = b64(caBundle);
    const cfgName = this.o.webhookConfigurationName ?? webhookDefaults.webhookConfigurationName;
    try {
      const cfg = await this.o.client.request<Json>('GET', resourcePath(webhookConfigs, undefined, cfgName));
      const hooks = (cfg.webhooks ?? []) as { clientConfig?: { caBundle?: string } }[];
      if (hooks.some((h) => h.clientConfig?.caBundle !== bundle)) {
        const webhooks = hooks.map((h) => ({ ...h, clientConfig: { ...h.clientConfig, caBundle: bundle } }));
        await this.o.client.request('PUT', resourcePath(webhookConfigs, undefined, cfgName), { body: { ...cfg, webhooks } });
        this.o.logger?.info({ configuration: cfgName }, 'caBundle injected into the webhook configuration');
      }
    } catch (e) {
      if (!(e instanceof KubeApiError && e.code === 404)) throw e;
      this.o.logger?.warn({ configuration: cfgName }, 'no ValidatingWebhookConfiguration to inject the caBundle into');
    }
    for (const crd of this.o.conversionCrds ?? webhookDefaults.conversionCrds) {
      try {
        const c = await this.o.client.request<Json>('GET', resourcePath(crds, undefined, crd));
        const conv = (c.spec as { conversion?: { strategy?: string; webhook?: { clientConfig?: { caBundle?: string } } } }).conversion;
        if (conv?.strategy !== 'Webhook' || conv.webhook?.clientConfig?.caBundle === bundle) continue;
        await this.o.client.request('PATCH', resourcePath(crds, undefined, crd), { body: { spec: { conversion: { webhook: { clientConfig: { caBundle: bundle } } } } } });
        this.o.logger?.info({ crd }, 'caBundle injected into the conversion webhook');
      } catch (e) {
        if (!(e instanceof KubeApiError && e.code === 404)) throw e;
      }
    }
  }

  /** Re-checks every `everyMs` (renewal, and another replica's rotation); calls `onChange` with new certificates. */
  watch(everyMs: number, onChange: (tls: WebhookTls) => void): void {
    const tick = async () => {
      const before = this.current?.serving.certPem;
      try {
        const tls = await this.ensure();
        if (tls.serving.certPem !== before) onChange(tls);
      } catch (e) {
        this.o.logger?.warn({ err: (e as Error).message }, 'webhook certificate check failed');
      }
      this.timer = setTimeout(() => void tick(), everyMs);
      this.timer.unref();
    };
    this.timer = setTimeout(() => void tick(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
