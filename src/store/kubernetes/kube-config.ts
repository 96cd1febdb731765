// Where the API server is and how to authenticate to it: a kubeconfig file or the Pod's service
// account, read here for what a plain configuration holds (server, CA, insecure-skip-tls-verify,
// tls-server-name; a token, a token file, a client certificate and key, a username and password;
// files relative to the kubeconfig's folder). Loading @kubernetes/client-node for this costs each
// process ~30 MB of heap and ~75 MB of RSS (its generated API client comes with its KubeConfig),
// more than the controller's informers hold at 1,000 Services; it is imported only for what a
// plain configuration cannot say (exec and auth-provider plugins, impersonation, proxies, several
// files in $KUBECONFIG).
import { readFileSync, existsSync } from 'node:fs';
import type * as https from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** What KubeClient needs of a configuration (client-node's KubeConfig has it too). */
export interface KubeConfigLike {
  getCurrentCluster(): { readonly server: string; readonly proxyUrl?: string | undefined } | null;
  /** Adds TLS material and credentials to a request's options. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

/** The service account's folder in a Pod. */
export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

interface Plain {
  readonly server: string;
  readonly ca?: Buffer | undefined;
  readonly caFile?: string | undefined;
  readonly skipTLSVerify?: boolean | undefined;
  readonly tlsServerName?: string | undefined;
  readonly token?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly cert?: Buffer | undefined;
  readonly certFile?: string | undefined;
  readonly key?: Buffer | undefined;
  readonly keyFile?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

/** A configuration read without client-node. Files (CA, certificate, key, token) are read at each call: they may be rotated. */
export class PlainKubeConfig implements KubeConfigLike {
  constructor(readonly plain: Plain) {}

  getCurrentCluster(): { server: string } {
    return { server: this.plain.server };
  }

  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    const p = this.plain;
    const ca = p.ca ?? (p.caFile ? readFileSync(p.caFile) : undefined);
    if (ca) opts.ca = ca;
    const cert = p.cert ?? (p.certFile ? readFileSync(p.certFile) : undefined);
    if (cert) opts.cert = cert;
    const key = p.key ?? (p.keyFile ? readFileSync(p.keyFile) : undefined);
    if (key) opts.key = key;
    if (p.skipTLSVerify) opts.rejectUnauthorized = false;
    if (p.tlsServerName) opts.servername = p.tlsServerName;
    const token = p.token ?? (p.tokenFile ? readFileSync(p.tokenFile, 'utf8').trim() : undefined);
    const headers = (opts.headers ??= {}) as Record<string, string>;
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (p.username !== undefined) opts.auth = `${p.username}:${p.password ?? ''}`;
    return Promise.resolve();
  }
}

/** client-node's KubeConfig, imported at the first request; the server is known before. */
class DeferredClientNode implements KubeConfigLike {
  private loaded: Promise<KubeConfigLike> | undefined;
  constructor(private readonly cluster: { server: string; proxyUrl?: string }, private readonly load: () => Promise<KubeConfigLike>) {}
  getCurrentCluster(): { server: string; proxyUrl?: string } {
    return this.cluster;
  }
  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    this.loaded ??= this.load();
    await (await this.loaded).applyToHTTPSOptions(opts);
  }
}

type Named<T> = { name?: string } & Record<string, T | undefined>;
type Fields = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const b64 = (v: unknown): Buffer | undefined => (str(v) ? Buffer.from(v as string, 'base64') : undefined);

/** The user fields read here; any other (exec, auth-provider, as, …) needs client-node. */
const plainUserFields = new Set(['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'username', 'password']);
const plainClusterFields = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'extensions']);

/**
 * The current context of one kubeconfig file, or of several merged as kubectl merges $KUBECONFIG
 * (the first file to set current-context, or to name a context, cluster or user, wins): read
 * plainly when it can be, else by client-node.
 */
export function kubeConfigFromFile(...files: string[]): KubeConfigLike {
  const docs = files.map((file) => ({ file, doc: (parse(readFileSync(file, 'utf8')) ?? {}) as Fields }));
  const where = files.join(':');
  const current = docs.map((d) => str(d.doc['current-context'])).find((c) => c !== undefined);
  const find = (list: string, name: string | undefined, field: string): { value: Fields; file: string } | undefined => {
    for (const { file, doc } of docs) {
      const e = Array.isArray(doc[list]) ? (doc[list] as Named<Fields>[]).find((x) => x.name === name) : undefined;
      if (e) return { value: e[field] ?? {}, file };
    }
    return undefined;
  };
  const context = find('contexts', current, 'context')?.value;
  if (!current || !context) throw new Error(`kubeconfig ${where}: no current context`);
  const c = find('clusters', str(context.cluster), 'cluster');
  const cluster = c?.value ?? {};
  const server = str(cluster.server);
  if (!c || !server) throw new Error(`kubeconfig ${where}: context ${current} has no cluster with a server`);
  const u = find('users', str(context.user), 'user');
  const user = u?.value ?? {};
  const path = (v: unknown, file: string | undefined) => (str(v) === undefined ? undefined : isAbsolute(v as string) ? (v as string) : join(dirname(file ?? ''), v as string));
  const plain = Object.keys(user).every((k) => plainUserFields.has(k)) && Object.keys(cluster).every((k) => plainClusterFields.has(k));
  if (!plain) {
    return new DeferredClientNode({ server, ...(str(cluster['proxy-url']) ? { proxyUrl: cluster['proxy-url'] as string } : {}) }, async () => {
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      if (files.length === 1) kc.loadFromFile(files[0]!);
      else kc.loadFromDefault({}, false); // merges $KUBECONFIG's files as kubectl does
      return kc;
    });
  }
  return new PlainKubeConfig({
    server,
    ca: b64(cluster['certificate-authority-data']), caFile: path(cluster['certificate-authority'], c.file),
    skipTLSVerify: cluster['insecure-skip-tls-verify'] === true, tlsServerName: str(cluster['tls-server-name']),
    token: str(user.token), tokenFile: path(user.tokenFile, u?.file),
    cert: b64(user['client-certificate-data']), certFile: path(user['client-certificate'], u?.file),
    key: b64(user['client-key-data']), keyFile: path(user['client-key'], u?.file),
    username: str(user.username), password: str(user.password),
  });
}

/** The Pod's service account (KUBERNETES_SERVICE_HOST/PORT, its CA and token, re-read as kubelet rotates it). */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, dir = serviceAccountDir): PlainKubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  return new PlainKubeConfig({ server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`, caFile: join(dir, 'ca.crt'), tokenFile: join(dir, 'token') });
}

/**
 * `--kubeconfig FILE`, else in-cluster credentials, else $KUBECONFIG, ~/.kube/config, the service
 * account's token file (client-node's order). Several files in $KUBECONFIG are merged.
 */
export function loadKubeConfig(file?: string, env: NodeJS.ProcessEnv = process.env): KubeConfigLike {
  if (file) return kubeConfigFromFile(file);
  if (env.KUBERNETES_SERVICE_HOST) return inClusterConfig(env);
  const fromEnv = (env.KUBECONFIG ?? '').split(':').filter((f) => f !== '');
  const present = fromEnv.filter((f) => existsSync(f));
  if (present.length > 0) return kubeConfigFromFile(...present);
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return kubeConfigFromFile(home);
  if (existsSync(join(serviceAccountDir, 'token'))) return inClusterConfig(env);
  throw new Error('no kubeconfig: pass --kubeconfig, set $KUBECONFIG, or run in a Pod with a service account');
}
