// `npm run bench -- convergence [N]`: from a Service file appearing in the folder to its /32 in an
// FRR router's RIB, over N Services (default 1000) arriving every 10 ms: p50 and p99. Beside it,
// the same Services the way MetalLB's FRR mode works: render an frr.conf with one `network`
// statement per prefix and apply it with frr-reload.py to the node's FRR, which announces to the
// same kind of router. Each reload takes every Service that arrived before it started (no
// debounce: the best case for that design). The router's bgpd logs every received prefix with
// microsecond timestamps; those are the arrival times.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { runDaemon } from '../src/daemon/run.ts';
import { silentLogger } from '../src/observe/log.ts';
import { ensureFrr, FrrInstance, loopbackBgpdConfig, waitFor } from '../test/e2e/frr.ts';

const run = promisify(execFile);
const count = Number(process.argv[2] ?? 1000);
const spacingMs = 10;
const root = mkdtempSync(path.join(tmpdir(), 'ilbl-bench-'));

const serviceIp = (i: number): string => `10.210.${Math.floor(i / 250)}.${(i % 250) + 1}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** When the router's bgpd received each prefix (local-time log stamps → epoch ms). */
function arrivals(router: FrrInstance): Map<string, number> {
  const out = new Map<string, number>();
  const re = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) .* rcvd (10\.210\.\d+\.\d+\/32)/;
  for (const line of readFileSync(path.join(router.dir, 'bgpd.log'), 'utf8').split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const [, y, mo, d, h, mi, s, us, prefix] = m;
    const t = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime() + Number(us) / 1000;
    if (!out.has(prefix!)) out.set(prefix!, t);
  }
  return out;
}

async function received(router: FrrInstance, n: number, timeoutMs: number): Promise<void> {
  await waitFor(`${n} prefixes at the router`, timeoutMs, async () => {
    const peers = await router.neighbors();
    return Object.values(peers).some((p) => (p.pfxRcd ?? 0) >= n) ? true : undefined;
  }, 200);
}

function stats(latencies: number[]): { p50: number; p99: number; max: number; mean: number } {
  const s = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? NaN, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

async function ironlb(): Promise<number[]> {
  const router = new FrrInstance('router-a', root);
  router.start('bgpd', loopbackBgpdConfig({ asn: 64512, routerId: '127.0.0.71', logUpdates: true }), ['-Z', '-l', '127.0.0.71', '-p', '16071']);
  const folder = path.join(root, 'ironlb');
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'metallb.yaml'), `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: bench, namespace: metallb-system }
spec: { addresses: [10.210.0.0/20] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router, namespace: metallb-system }
spec: { myASN: 64513, peerASN: 64512, peerAddress: 127.0.0.71, peerPort: 16071, sourceAddress: 127.0.0.72, routerID: 127.0.0.72, connectTime: 1s }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: bench, namespace: metallb-system }
spec: { ipAddressPools: [bench] }
`);
  const daemon = await runDaemon({ controller: true, speaker: true, assumeLocalEndpoints: true }, { folder, nodeName: 'ilbl-bench', logger: silentLogger(), bfdPorts: { listen: 18620, peer: 18621 }, ...(process.env.ILBL_BENCH_RESCAN ? { rescanMs: Number(process.env.ILBL_BENCH_RESCAN) } : {}) });
  try {
    await waitFor('session up', 20_000, async () => (Object.values(await router.neighbors()).some((p) => p.state === 'Established') ? true : undefined), 100);
    const appeared = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const file = path.join(folder, `svc-${i}.yaml`);
      writeFileSync(`${file}.tmp`, `apiVersion: v1\nkind: Service\nmetadata: { name: svc-${i}, namespace: bench }\nspec: { type: LoadBalancer, loadBalancerIP: ${serviceIp(i)}, ports: [{ port: 80 }] }\n`);
      appeared.set(`${serviceIp(i)}/32`, Date.now());
      renameSync(`${file}.tmp`, file); // the file appears whole, as an editor or kubectl-like tool would write it
      await sleep(spacingMs);
    }
    await received(router, count, 120_000);
    if (process.env.ILBL_BENCH_DEBUG) {
      const h = await daemon.metrics.reconcileSeconds.get();
      for (const v of h.values) if (v.metricName?.endsWith('_sum') || v.metricName?.endsWith('_count')) process.stdout.write(`  ${v.metricName} ${JSON.stringify(v.labels)} ${v.value}\n`);
    }
    const got = arrivals(router);
    if (process.env.ILBL_BENCH_DEBUG) {
      const t0 = [...appeared.values()][0] ?? 0;
      const worst = [...appeared].map(([p, t]) => ({ p, at: t - t0, lat: (got.get(p) ?? NaN) - t })).sort((a, b) => b.lat - a.lat).slice(0, 15);
      process.stdout.write(`  worst: ${worst.map((w) => `${w.at}:${w.lat.toFixed(0)}`).join(' ')}\n`);
    }
    return [...appeared].map(([p, t]) => (got.get(p) ?? NaN) - t);
  } finally {
    await daemon.stop();
    router.stop();
  }
}

async function metallbFrrMode(): Promise<number[]> {
  const router = new FrrInstance('router-b', root);
  router.start('bgpd', loopbackBgpdConfig({ asn: 64512, routerId: '127.0.0.73', logUpdates: true }), ['-Z', '-l', '127.0.0.73', '-p', '16073']);
  const node = new FrrInstance('node-frr', root);
  const header = `frr defaults traditional
hostname ilbl-bench-node
log file ${node.dir}/bgpd.log
router bgp 64513
 bgp router-id 127.0.0.74
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp allow-martian-nexthop
 neighbor 127.0.0.73 remote-as 64512
 neighbor 127.0.0.73 port 16073
 neighbor 127.0.0.73 update-source 127.0.0.74
 neighbor 127.0.0.73 timers connect 1
`;
  const render = (prefixes: readonly string[]): string =>
    `${header} address-family ipv4 unicast\n${prefixes.map((p) => `  network ${p}\n`).join('')} exit-address-family\nexit\n`;
  node.start('bgpd', render([]), ['-Z', '-l', '127.0.0.74', '-p', '16074']);
  const conf = path.join(node.dir, 'frr.conf');
  try {
    await waitFor('session up', 30_000, async () => (Object.values(await router.neighbors()).some((p) => p.state === 'Established') ? true : undefined), 100);
    const appeared = new Map<string, number>();
    let arrived = 0;
    let reloads = 0;
    const arrivals$ = (async () => {
      for (let i = 0; i < count; i++) {
        appeared.set(`${serviceIp(i)}/32`, Date.now());
        arrived = i + 1;
        await sleep(spacingMs);
      }
    })();
    let applied = 0;
    while (applied < count) {
      if (arrived === applied) { await sleep(1); continue; }
      const upTo = arrived;
      writeFileSync(conf, render(Array.from({ length: upTo }, (_, i) => `${serviceIp(i)}/32`)));
      await run('python3', ['/usr/lib/frr/frr-reload.py', '--reload', '--stdout', '--daemon', 'bgpd', '--bindir', '/usr/bin', '--confdir', node.dir, '--rundir', node.dir, '--vty_socket', node.dir, conf], { maxBuffer: 64 << 20 });
      applied = upTo;
      reloads++;
    }
    await arrivals$;
    await received(router, count, 300_000);
    process.stdout.write(`  (frr-reload.py ran ${reloads} times)\n`);
    const got = arrivals(router);
    return [...appeared].map(([p, t]) => (got.get(p) ?? NaN) - t);
  } finally {
    node.stop();
    router.stop();
  }
}

function line(name: string, s: ReturnType<typeof stats>): string {
  const f = (x: number): string => x.toFixed(1).padStart(9);
  return `${name.padEnd(34)}${f(s.p50)}${f(s.p99)}${f(s.max)}${f(s.mean)}`;
}

ensureFrr();
process.stdout.write(`convergence: ${count} Services, one file every ${spacingMs} ms; time from the file appearing to the /32 in an FRR router's RIB\n`);
try {
  const a = await ironlb();
  const sa = stats(a);
  process.stdout.write(`  ironlb done (${a.filter((x) => Number.isNaN(x)).length} missing)\n`);
  if (process.env.ILBL_BENCH_ONLY === 'ironlb') {
    process.stdout.write(`${line('ironlb standalone (folder → BGP)', sa)}\n`);
    rmSync(root, { recursive: true, force: true });
    process.exit(0);
  }
  const b = await metallbFrrMode();
  const sb = stats(b);
  process.stdout.write(`\n${''.padEnd(34)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'mean ms'.padStart(9)}\n`);
  process.stdout.write(`${line('ironlb standalone (folder → BGP)', sa)}\n${line('FRR + frr-reload.py (MetalLB FRR)', sb)}\n`);
  process.stdout.write(`machine load average during the run: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs (other work on the machine shows up in p99)\n`);
  process.stdout.write(`ratio (FRR-mode / ironlb): p50 ${(sb.p50 / sa.p50).toFixed(1)}x, p99 ${(sb.p99 / sa.p99).toFixed(1)}x; goal p99 <= 50 ms: ${sa.p99 <= 50 ? 'met' : 'NOT met'}\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
