// `npm run bench -- metallb [SERVICES...]` (issue #13, first figure): N LoadBalancer Services
// created at once through the real kube-apiserver while a controller runs, once with MetalLB's own
// controller (v0.15.x, built by scripts/k8s-tools.sh) and once with ironlb's, each on a fresh
// control plane: time until every Service has its IP in status, printed as the ratio
// ironlb/MetalLB, and the controller process's RSS at the end (both run as processes, ironlb
// through bin/ironlb.js: tsx unless `npm run build` made dist/). Default 1000. The apiserver's write
// rate bounds both (creates and status writes share it), so on a loaded machine one run says
// little: run it several times.
// `npm run bench -- metallb bgp [N...]`: the BGP figures (convergence to FRR's RIB, bulk, cost idle
// and under churn at each N, config change, node loss) from test/differential/bench-bgp.ts, with
// speakers in network namespaces (root, FRR), also as ratios ironlb/MetalLB.
// `npm run bench -- metallb cost [N...]`: only the cost figures (default 1000): N Services created
// once per implementation, every /32 at the routers and node-1's ServiceBGPStatus for each, then
// the controller's and node-1's speaker's RSS and CPU idle 60 s and under a churn of 500 deletes
// and 500 creates (10 a second) until the routers and the statuses show it all
// (test/differential/bench-bgp.ts, benchCost; BENCH_IDLE_SECONDS, BENCH_CHURN change the two;
// BENCH_ONLY=ironlb|metallb runs one, e.g. under NODE_OPTIONS=--cpu-prof; BENCH_SPEAKER_NODE_ARGS /
// BENCH_CONTROLLER_NODE_ARGS give node options to ironlb's speakers / controller; the idle CPU is
// also printed per 30 s, to tell CPU that fades after the burst from CPU that stays).
// `npm run bench -- metallb conv [SERVICES]`: only the convergence figure (default 200 Services),
// split at the moment a watcher sees the IP in status (controller, then speaker).
// `npm run bench -- metallb l2 [KILLS]` (root): layer-2 failover, a Service's owner killed silently
// → client-observed outage, MetalLB's speakers (memberlist) vs ironlb's, median and p95
// (test/differential/bench-l2.ts; default 5 kills each).
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeClient } from '../src/store/kubernetes/kube-client.ts';
import { Reflector } from '../src/store/kubernetes/reflector.ts';
import { startControlPlane, toolVersions, type ControlPlane } from '../test/cluster/index.ts';
import { installCrds } from '../test/cluster/ironlb-setup.ts';
import { installMetallbCrds, startIronlbController, startMetallbController } from '../test/differential/metallb.ts';
import { createLoadBalancerServices } from '../test/cluster/create-services.ts';
import { benchL2, type L2Figures } from '../test/differential/bench-l2.ts';
import { type BenchBgpOptions, benchBgp, benchCost, benchImplementations, type BgpFigures, type Cost, type CostFigures, cpuTicks, rssMb } from '../test/differential/bench-bgp.ts';

const bgpMode = process.argv[2] === 'bgp';
const convMode = process.argv[2] === 'conv';
const l2Mode = process.argv[2] === 'l2';
const costMode = process.argv[2] === 'cost';
const counts = process.argv.slice(bgpMode || convMode || l2Mode || costMode ? 3 : 2).map(Number).filter((n) => n > 0);
const ns = 'metallb-system';

async function kubectlOk(cp: ControlPlane, args: string[], input?: string): Promise<void> {
  const r = await cp.kubectl(args, input === undefined ? undefined : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
}

async function allocate(impl: 'metallb' | 'ironlb', n: number): Promise<{ seconds: number; tail: number; rss: number; idleCpuPct: number; idleRss: number }> {
  const cp = await startControlPlane({ name: `bench-metallb-${impl}-${n}` });
  try {
    if (impl === 'metallb') {
      await installMetallbCrds(cp);
    } else {
      await installCrds(cp);
    }
    await kubectlOk(cp, ['create', 'namespace', ns]);
    await kubectlOk(cp, ['create', 'namespace', 'bench']);
    await kubectlOk(cp, ['apply', '-f', '-'], `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: big, namespace: ${ns} }\nspec: { addresses: ["10.0.0.0/12"] }\n`);
    const controller = impl === 'metallb' ? await startMetallbController(cp, ns) : await startIronlbController(cp, ns);
    const client = new KubeClient(cp.kubeConfig, 'bench');
    const seen = new Set<string>();
    const watcher = new Reflector({
      client, path: '/api/v1/namespaces/bench/services', name: 'bench',
      onChange: (_k, o) => {
        if (((o.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress?.length ?? 0) > 0) {
          seen.add((o.metadata as { name: string }).name);
        }
      },
    });
    await watcher.start();
    const started = Date.now();
    await createLoadBalancerServices(client, n);
    const created = Date.now();
    while (seen.size < n) await sleep(50);
    const seconds = (Date.now() - started) / 1000;
    const tail = (Date.now() - created) / 1000;
    const rss = rssMb(controller.pid!);
    // Idle with n Services: 5 s to settle (pool status, Events), then 10 s sampled.
    await sleep(5000);
    const t0 = Date.now();
    const c0 = cpuTicks(controller.pid!);
    await sleep(10_000);
    const idleCpuPct = (cpuTicks(controller.pid!) - c0) / 100 / ((Date.now() - t0) / 1000) * 100;
    const idleRss = rssMb(controller.pid!);
    watcher.stop();
    client.close();
    await controller.stop();
    return { seconds, tail, rss, idleCpuPct, idleRss };
  } finally {
    await cp.stop();
  }
}

function ratio(i: number, m: number): string { return Number.isFinite(i) && Number.isFinite(m) && m > 0 ? (i / m).toFixed(2) : '-'; }

async function bgp(sizes: number[], opts: BenchBgpOptions = {}): Promise<void> {
  const out: Partial<Record<'metallb' | 'ironlb', BgpFigures>> = {};
  for (const impl of benchImplementations) out[impl.name] = await benchBgp(impl, sizes, (l) => console.log(`  ${l}`), opts);
  const m = out.metallb!; const i = out.ironlb!;
  const row = (what: string, mv: number, iv: number, unit: string, digits = 0) =>
    console.log(`| ${what} | ${mv.toFixed(digits)} ${unit} | ${iv.toFixed(digits)} ${unit} | ${ratio(iv, mv)} |`);
  console.log(`\n| metallb bgp (MetalLB v${toolVersions.metallb} native vs ironlb) | MetalLB | ironlb | ironlb/MetalLB |\n|---|---|---|---|`);
  row('Service created → /32 at r1, p50 (200, 5/s)', m.convergenceP50Ms, i.convergenceP50Ms, 'ms');
  row('... p99', m.convergenceP99Ms, i.convergenceP99Ms, 'ms');
  row('... of which create → IP in status (controller), p50', m.statusP50Ms, i.statusP50Ms, 'ms');
  row('... p99', m.statusP99Ms, i.statusP99Ms, 'ms');
  row('... of which IP in status → /32 at r1 (speaker), p50', m.speakerP50Ms, i.speakerP50Ms, 'ms');
  row('... p99', m.speakerP99Ms, i.speakerP99Ms, 'ms');
  if (opts.convergenceOnly) return;
  for (const n of sizes) {
    const a = m.bulk[n]!; const b = i.bulk[n]!;
    row(`${n} Services → all at r1 from 3 nodes`, a.seconds, b.seconds, 's', 1);
    row('... after the last create', a.afterCreates, b.afterCreates, 's', 1);
    row('... then node-1\'s ServiceBGPStatus written for all', a.statusSeconds, b.statusSeconds, 's', 1);
    for (const phase of ['idle', 'churn'] as const) {
      for (const who of ['controller', 'speaker'] as const) {
        const x: Cost = a[phase][who]; const y: Cost = b[phase][who];
        row(`${n}, ${phase}: ${who} RSS`, x.rssMb, y.rssMb, 'MB');
        row(`${n}, ${phase}: ${who} CPU`, x.cpuPct, y.cpuPct, '%', 1);
      }
    }
  }
  row('peer r2 edited: session resets at r1+r3', m.configChange.resetsOthers, i.configChange.resetsOthers, '');
  row('peer r2 edited: UPDATEs received at r1+r3', m.configChange.updatesOthers, i.configChange.updatesOthers, '');
  row('peer r2 edited: resets at r2', m.configChange.resetsEdited, i.configChange.resetsEdited, '');
  row('node-1 link cut → r1 drops it (hold 9 s, no BFD)', m.nodeLossMs, i.nodeLossMs, 'ms');
}

async function l2(kills: number): Promise<void> {
  const out: Partial<Record<'metallb' | 'ironlb', L2Figures>> = {};
  for (const impl of benchImplementations) out[impl.name] = await benchL2(impl, kills, (l) => console.log(`  ${l}`));
  const m = out.metallb!; const i = out.ironlb!;
  const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!; };
  const row = (what: string, mv: number, iv: number) => console.log(`| ${what} | ${mv} ms | ${iv} ms | ${ratio(iv, mv)} |`);
  console.log(`\n| metallb l2 (MetalLB v${toolVersions.metallb} memberlist vs ironlb), ${kills} silent kills each | MetalLB | ironlb | ironlb/MetalLB |\n|---|---|---|---|`);
  row('owner link cut + speaker SIGKILL → client outage, median', q(m.outagesMs, 0.5), q(i.outagesMs, 0.5));
  row('... p95', q(m.outagesMs, 0.95), q(i.outagesMs, 0.95));
  console.log(`runs without recovery in the ping window: MetalLB ${m.failed}, ironlb ${i.failed}`);
}

/** ironlb runs compiled, as in its image (bin/ironlb.js runs dist/ when it is current). */
function buildDist(): void {
  console.log('building dist/ (npm run build) so that ironlb runs compiled');
  execFileSync(process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}

async function cost(sizes: number[]): Promise<void> {
  buildDist();
  const only = process.env.BENCH_ONLY;
  const opts = {
    ...(process.env.BENCH_IDLE_SECONDS ? { idleSeconds: Number(process.env.BENCH_IDLE_SECONDS) } : {}),
    ...(process.env.BENCH_CHURN ? { churn: Number(process.env.BENCH_CHURN) } : {}),
  };
  for (const n of sizes) {
    const out: Partial<Record<'metallb' | 'ironlb', CostFigures>> = {};
    for (const impl of benchImplementations) {
      if (only === undefined || only === impl.name) out[impl.name] = await benchCost(impl, n, (l) => console.log(`  ${l}`), opts);
    }
    const m = out.metallb; const i = out.ironlb;
    const cell = (f: CostFigures | undefined, v: (f: CostFigures) => number, unit: string, digits: number) => (f ? `${v(f).toFixed(digits)} ${unit}` : '-');
    const row = (what: string, v: (f: CostFigures) => number, unit: string, digits = 0) =>
      console.log(`| ${what} | ${cell(m, v, unit, digits)} | ${cell(i, v, unit, digits)} | ${m && i ? ratio(v(i), v(m)) : '-'} |`);
    console.log(`\n| metallb cost, ${n} Services (MetalLB v${toolVersions.metallb} native vs ironlb) | MetalLB | ironlb | ironlb/MetalLB |\n|---|---|---|---|`);
    row('first create → every /32 at r1 from 3 nodes', (f) => f.routedSeconds, 's', 1);
    row('... then node-1\'s ServiceBGPStatus for every Service', (f) => f.statusSeconds, 's', 1);
    for (const who of ['controller', 'speaker'] as const) {
      row(`idle ${opts.idleSeconds ?? 60} s: ${who} RSS`, (f) => f.idle[who].rssMb, 'MB');
      row(`idle: ${who} CPU`, (f) => f.idle[who].cpuPct, '%', 2);
    }
    row(`churn (${Math.min(opts.churn ?? 500, n)} deletes + creates, 10/s) until settled`, (f) => f.churnSeconds, 's', 1);
    for (const who of ['controller', 'speaker'] as const) {
      row(`churn: ${who} RSS`, (f) => f.churn[who].rssMb, 'MB');
      row(`churn: ${who} CPU`, (f) => f.churn[who].cpuSeconds, 'CPU s', 1);
      row(`churn: ${who} CPU share`, (f) => f.churn[who].cpuPct, '%', 1);
    }
    row('load (1 min) at idle', (f) => f.load[0], '', 1);
    row('load (1 min) after the churn', (f) => f.load[1], '', 1);
    if ([m, i].some((f) => f !== undefined && !f.churnSettled)) console.log('a churn did not settle within the wait: its CPU figure is a lower bound');
  }
}

if (costMode) {
  await cost(counts.length > 0 ? counts : [1000]);
} else if (l2Mode) {
  await l2(counts[0] ?? 5);
} else if (convMode) {
  await bgp([], { convergenceOnly: true, convergenceServices: counts[0] ?? 200 });
} else if (bgpMode) {
  await bgp(counts.length > 0 ? counts : [1000]);
} else {
  for (const n of counts.length > 0 ? counts : [1000]) {
    const m = await allocate('metallb', n);
    const i = await allocate('ironlb', n);
    console.log(`metallb ${n} Services, every IP in status: MetalLB v${toolVersions.metallb} ${m.seconds.toFixed(1)} s (${m.tail.toFixed(1)} s after the last create), `
      + `ironlb ${i.seconds.toFixed(1)} s (${i.tail.toFixed(1)} s after); ironlb/MetalLB ${(i.seconds / m.seconds).toFixed(2)}; `
      + `controller RSS MetalLB ${m.rss.toFixed(0)} MB, ironlb ${i.rss.toFixed(0)} MB (${ratio(i.rss, m.rss)}); `
      + `idle after: RSS MetalLB ${m.idleRss.toFixed(0)} MB, ironlb ${i.idleRss.toFixed(0)} MB (${ratio(i.idleRss, m.idleRss)}), CPU MetalLB ${m.idleCpuPct.toFixed(1)} %, ironlb ${i.idleCpuPct.toFixed(1)} %`);
  }
}
