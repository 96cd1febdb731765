// A small JSON client for the Kubernetes API on a kubeconfig (kube-config.ts: a kubeconfig file or
// in-cluster credentials, which apply TLS and tokens to a request). Why not
// @kubernetes/client-node's generated clients: they turn timestamps into Date objects (so a listed
// object and the same object from a watch differ), default PATCH to json-patch, their watch has no
// timeout in 1.4, and loading them costs ~75 MB of RSS per process. Here every request is plain
// JSON over node:https, each one is counted (tests assert "no write storms" on these counters), and
// a watch is a line stream the caller can abort.
import * as http from 'node:http';
import * as https from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeConfigLike } from './kube-config.ts';

export { loadKubeConfig } from './kube-config.ts';

export type Json = Record<string, unknown>;

/** A Kubernetes `Status` error (404 NotFound, 409 Conflict, 410 Expired, 422 Invalid, …). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly code: number, readonly reason: string, message: string, readonly method: string, readonly path: string,
    /** The server's Retry-After (429 from API Priority and Fairness, some 5xx), in seconds. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${method} ${path}: ${code} ${reason}: ${message}`);
  }
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Json;
}

export interface RequestOptions {
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly body?: unknown;
  /** Default application/json; PATCH default application/merge-patch+json. */
  readonly contentType?: string;
  readonly timeoutMs?: number;
  /** Default application/json. */
  readonly accept?: string;
}

export class KubeClient {
  /** Requests sent, by verb (GET, LIST, WATCH, POST, PUT, PATCH, DELETE). */
  readonly counts: Record<string, number> = {};
  private readonly server: URL;
  private readonly agent: http.Agent;
  private creds: { until: number; opts: https.RequestOptions } | undefined;

  constructor(readonly kubeConfig: KubeConfigLike, readonly userAgent = 'ironlb') {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster in the kubeconfig');
    this.server = new URL(cluster.server);
    const Agent = this.server.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 32 });
  }

  /** Writes and reads since `since` (a copy of `counts`). */
  countsSince(since: Record<string, number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.counts)) if (v !== (since[k] ?? 0)) out[k] = v - (since[k] ?? 0);
    return out;
  }

  private count(verb: string): void {
    this.counts[verb] = (this.counts[verb] ?? 0) + 1;
  }

  private async options(method: string, path: string, query: RequestOptions['query'], headers: Record<string, string>): Promise<https.RequestOptions> {
    const url = new URL(this.server.href.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const { headers: auth, agent, ...tls } = await this.credentials();
    const opts: https.RequestOptions = {
      ...tls, method, protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: url.pathname + url.search,
      headers: { Accept: 'application/json', 'User-Agent': this.userAgent, ...headers, ...auth },
      // client-node puts a fresh Agent on every request, so every request would open a new
      // connection and do a TLS handshake (most of the apiserver's CPU per write, measured in
      // bench/k8s.ts): keep the pooled keep-alive agent unless the cluster goes through a proxy.
      // The TLS options client-node filled in stay on the request; the agent pools by them.
      agent: this.kubeConfig.getCurrentCluster()?.proxyUrl ? agent : this.agent,
    };
    return opts;
  }

  /**
   * What the configuration adds to a request (TLS material, the Authorization header, a proxy
   * agent), worked out at most every 10 s rather than per request: it decodes or re-reads the CA,
   * certificate and key each time, a tenth of a speaker's CPU per status write (1,000
   * ServiceBGPStatus objects written at start). A token that rotates (in-cluster, exec plugins)
   * is picked up within 10 s, and at once after a 401.
   */
  private async credentials(): Promise<https.RequestOptions> {
    const now = Date.now();
    if (this.creds && now < this.creds.until) return this.creds.opts;
    const opts: https.RequestOptions = { headers: {} };
    await this.kubeConfig.applyToHTTPSOptions(opts);
    this.creds = { until: now + 10_000, opts };
    return opts;
  }

  /** One request; resolves with the decoded body, rejects with KubeApiError on a non-2xx answer. */
  async request<T = Json>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const isList = method === 'GET' && o.query?.watch === undefined && /\/[a-z0-9]+$/.test(path) && !isNamedPath(path);
    this.count(isList ? 'LIST' : method);
    // A string, handed to end(): node then sends the headers and the body in one write (one TLS
    // record, one syscall) instead of two; a Buffer would go out as a second chunk.
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const contentType = o.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
    const opts = await this.options(method, path, o.query, { ...(o.accept ? { Accept: o.accept } : {}), ...(body !== undefined ? { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)) } : {}) });
    return new Promise<T>((resolve, reject) => {
      const req = (opts.protocol === 'https:' ? https : http).request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? {} : JSON.parse(text);
          } catch {
            parsed = { message: text.slice(0, 300) };
          }
          const status = res.statusCode ?? 0;
          if (status === 401) this.creds = undefined;
          if (status >= 200 && status < 300) resolve(parsed as T);
          else reject(statusError(status, parsed, method, path, res.headers['retry-after']));
        });
      });
      req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * Streams watch events until the server ends the watch, the connection fails, or `abort` is
   * called; then `done(err)` runs exactly once (err undefined on a clean end). An HTTP error
   * answer is a KubeApiError (410 Expired included).
   */
  async watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (e: WatchEvent) => void, done: (err?: Error) => void): Promise<() => void> {
    this.count('WATCH');
    const opts = await this.options('GET', path, { ...query, watch: 'true' }, {});
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      done(err);
    };
    const req = (opts.protocol === 'https:' ? https : http).request(opts, (res) => {
      const status = res.statusCode ?? 0;
      if (status === 401) this.creds = undefined;
      if (status !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: unknown;
          try { parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { parsed = {}; }
          finish(statusError(status, parsed, 'WATCH', path));
        });
        res.on('error', finish);
        return;
      }
      res.socket?.setKeepAlive(true, 30_000);
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      lines.on('error', () => undefined); // readline re-emits the response's errors; res's own handler reports them
      lines.on('line', (line) => {
        if (line.trim() === '') return;
        let e: WatchEvent;
        try {
          e = JSON.parse(line) as WatchEvent;
        } catch {
          finish(new Error(`WATCH ${path}: undecodable event line`));
          req.destroy();
          return;
        }
        onEvent(e);
      });
      res.on('error', finish);
      res.on('close', () => finish());
    });
    req.on('error', finish);
    req.end();
    return () => {
      finished = true;
      req.destroy();
    };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** `/api/v1/namespaces/x/services/name` names one object; `/api/v1/namespaces/x/services` lists. */
function isNamedPath(path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  const afterVersion = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  const rest = afterVersion[0] === 'namespaces' && afterVersion.length >= 3 ? afterVersion.slice(2) : afterVersion;
  return rest.length >= 2;
}

function statusError(code: number, body: unknown, method: string, path: string, retryAfter?: string): KubeApiError {
  const b = (body ?? {}) as { reason?: string; message?: string };
  const after = Number(retryAfter);
  return new KubeApiError(code, b.reason ?? 'Unknown', b.message ?? '', method, path, retryAfter !== undefined && Number.isFinite(after) ? after : undefined);
}

/** The path of a resource collection or object. */
export function resourcePath(r: { group: string; version: string; plural: string }, namespace?: string, name?: string, sub?: string): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
}
