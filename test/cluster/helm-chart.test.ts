// The Helm chart (deploy/helm/ironlb): `helm lint`, `helm template` with every optional part on,
// `helm install` into the real apiserver (without --wait: nothing runs pods here), and both
// ServiceAccounts checked with `kubectl auth can-i`: each may do what its role does, nothing else.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { clusterSuiteOptions, startControlPlane, type ControlPlane } from './index.ts';
import { installFrrK8sCrd } from './ironlb-setup.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects
const chart = 'deploy/helm/ironlb';
const ns = 'metallb-system';

describe('the Helm chart', clusterSuiteOptions(), () => {
  let cp: ControlPlane;
  before(async () => { cp = await startControlPlane({ name: 'helm' }); });
  after(async () => { await cp?.stop(); });

  test('helm lint passes, in strict mode too', async () => {
    const r = await cp.helm(['lint', '--strict', chart]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test('helm template: every part renders; MetalLB\'s names, alerts and the speaker\'s capabilities', async () => {
    const r = await cp.helm(['template', 'ironlb', chart, '-n', ns, '--set', 'prometheus.podMonitor.enabled=true,prometheus.prometheusRule.enabled=true,prometheus.grafanaDashboard.enabled=true,loadBalancerClass=example.com/lb']);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Json).filter(Boolean);
    const of = (kind: string): Json[] => docs.filter((d) => d.kind === kind);
    const one = (kind: string): Json => of(kind)[0]!;
    assert.equal(of('CustomResourceDefinition').length, 10);
    assert.equal(one('ValidatingWebhookConfiguration').metadata.name, 'metallb-webhook-configuration');
    assert.deepEqual(one('ValidatingWebhookConfiguration').webhooks.map((w: Json) => w.name).sort(), [
      'bfdprofilevalidationwebhook.metallb.io', 'bgpadvertisementvalidationwebhook.metallb.io', 'bgppeervalidationwebhook.metallb.io',
      'communityvalidationwebhook.metallb.io', 'ipaddresspoolvalidationwebhook.metallb.io', 'l2advertisementvalidationwebhook.metallb.io',
    ]);
    const alerts = one('PrometheusRule').spec.groups[0].rules.map((x: Json) => x.alert);
    assert.deepEqual(alerts, ['MetalLBStaleConfig', 'MetalLBConfigNotLoaded', 'MetalLBAddressPoolExhausted', 'MetalLBAddressPoolUsage75Percent', 'MetalLBAddressPoolUsage85Percent', 'MetalLBAddressPoolUsage95Percent', 'MetalLBBGPSessionDown']);
    const ds = one('DaemonSet').spec.template.spec;
    assert.equal(ds.hostNetwork, true);
    assert.deepEqual(ds.containers[0].securityContext.capabilities, { drop: ['ALL'], add: ['NET_RAW', 'NET_ADMIN', 'NET_BIND_SERVICE'] });
    assert.ok(ds.containers[0].args.includes('--lb-class=example.com/lb'));
    assert.ok(ds.tolerations.some((t: Json) => t.key === 'node-role.kubernetes.io/control-plane'));
    // MetalLB's memberlist layout: the controller makes the Secret, each speaker mounts it as a folder holding secretkey.
    assert.ok(ds.containers[0].args.includes('--ml-secret-key-path=/etc/ml_secret_key'));
    assert.deepEqual(ds.containers[0].volumeMounts, [{ name: 'memberlist', mountPath: '/etc/ml_secret_key', readOnly: true }]);
    assert.deepEqual(ds.volumes, [{ name: 'memberlist', secret: { secretName: 'metallb-memberlist', defaultMode: 420 } }]);
    assert.ok(one('Deployment').spec.template.spec.containers[0].args.includes('--ml-secret-name=metallb-memberlist'));
    const dep = one('Deployment').spec.template.spec;
    assert.equal(dep.securityContext.runAsNonRoot, true);
    assert.deepEqual(dep.containers[0].securityContext.capabilities, { drop: ['ALL'] });
    assert.equal(of('PodMonitor').length, 2);
    JSON.parse(one('ConfigMap').data['ironlb.json'] as string);
    const both = await cp.helm(['template', 'ironlb', chart, '--set', 'prometheus.podMonitor.enabled=true,prometheus.serviceMonitor.enabled=true']);
    assert.notEqual(both.code, 0, 'podMonitor and serviceMonitor together fail, as in MetalLB');
    const noMl = await cp.helm(['template', 'ironlb', chart, '-n', ns, '--set', 'speaker.memberlist.enabled=false']);
    assert.equal(noMl.code, 0, noMl.stderr);
    assert.ok(!/ml-secret|memberlist/.test(noMl.stdout.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n')), 'speaker.memberlist.enabled=false: no gossip, no Secret');
    const inline = await cp.helm(['template', 'ironlb', chart, '--set', 'configInline.foo=bar']);
    assert.notEqual(inline.code, 0, 'configInline fails, as in MetalLB');
  });

  test('helm template with MetalLB\'s frrk8s.enabled: the speaker writes FRRConfigurations where frr-k8s runs', async () => {
    const r = await cp.helm(['template', 'ironlb', chart, '-n', ns, '--set', 'frrk8s.enabled=true,frrk8s.namespace=frr-k8s-system']);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Json).filter(Boolean);
    const args = docs.find((d) => d.kind === 'DaemonSet')!.spec.template.spec.containers[0].args as string[];
    assert.deepEqual(args.filter((a) => a.includes('frr')), ['--bgp-backend=frr-k8s', '--frrk8s-namespace=frr-k8s-system']);
    // The controller's webhooks take what frr-k8s runs (BFD echo mode), as MetalLB's controller with METALLB_BGP_TYPE.
    const controllerEnv = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers[0].env as Json[];
    assert.deepEqual(controllerEnv.filter((e) => e.name === 'METALLB_BGP_TYPE'), [{ name: 'METALLB_BGP_TYPE', value: 'frr-k8s' }]);
    const role = docs.find((d) => d.kind === 'Role' && d.metadata.name === 'ironlb-speaker-frrk8s')!;
    assert.equal(role.metadata.namespace, 'frr-k8s-system');
    assert.deepEqual(role.rules, [
      { apiGroups: ['frrk8s.metallb.io'], resources: ['frrconfigurations'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] },
    ]);
    const binding = docs.find((d) => d.kind === 'RoleBinding' && d.metadata.name === 'ironlb-speaker-frrk8s')!;
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'ironlb-speaker', namespace: ns }]);
  });

  test('helm template with frrk8s.namespace only (the native speaker merging FRRConfigurations from frr-k8s\'s namespace): read there, nothing written', async () => {
    const r = await cp.helm(['template', 'ironlb', chart, '-n', ns, '--set', 'frrk8s.namespace=frr-k8s-system']);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Json).filter(Boolean);
    const args = docs.find((d) => d.kind === 'DaemonSet')!.spec.template.spec.containers[0].args as string[];
    assert.deepEqual(args.filter((a) => a.includes('frr')), ['--frrk8s-namespace=frr-k8s-system']);
    assert.ok(!JSON.stringify(docs.find((d) => d.kind === 'Deployment')).includes('METALLB_BGP_TYPE'), 'the native speaker: echo mode refused by the webhooks');
    const role = docs.find((d) => d.kind === 'Role' && d.metadata.name === 'ironlb-speaker-frrk8s')!;
    assert.equal(role.metadata.namespace, 'frr-k8s-system');
    assert.deepEqual(role.rules, [
      { apiGroups: ['frrk8s.metallb.io'], resources: ['frrconfigurations'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] },
    ]);
    // frr-k8s in the release's own namespace: the speaker's Role there already covers it.
    const own = await cp.helm(['template', 'ironlb', chart, '-n', ns, '--set', `frrk8s.namespace=${ns}`]);
    assert.equal(own.code, 0, own.stderr);
    assert.ok(!own.stdout.includes('ironlb-speaker-frrk8s'));
    assert.ok(!own.stdout.includes('--frrk8s-namespace'));
  });

  test('deploy/ironlb.yaml is the chart rendered with its defaults', async () => {
    const r = await cp.helm(['template', 'ironlb', chart, '-n', ns]);
    assert.equal(r.code, 0, r.stderr);
    const committed = readFileSync('deploy/ironlb.yaml', 'utf8');
    assert.ok(committed.endsWith(r.stdout), 'deploy/ironlb.yaml is stale: render it again (see its header)');
  });

  test('helm install into the real apiserver; kubectl auth can-i for both ServiceAccounts', async () => {
    // frr-k8s's CRD too (a cluster running frr-k8s): kubectl can-i needs it to name the resource.
    await installFrrK8sCrd(cp);
    const r = await cp.helm(['install', 'ironlb', chart, '-n', ns, '--create-namespace']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const crd = await cp.kubectl(['get', 'crd', 'bgppeers.metallb.io', '-o', 'jsonpath={.spec.conversion.strategy}']);
    assert.equal(crd.stdout, 'Webhook');
    const can = async (sa: string, args: string[]) => {
      const out = await cp.kubectl(['auth', 'can-i', ...args, `--as=system:serviceaccount:${ns}:${sa}`]);
      return out.stdout.trim();
    };
    const controller = 'ironlb-controller';
    const speaker = 'ironlb-speaker';
    const expectations: [string, string[], 'yes' | 'no'][] = [
      [controller, ['patch', 'services', '--subresource=status', '-n', 'default'], 'yes'],
      [controller, ['patch', 'services', '-n', 'default'], 'yes'],
      [controller, ['create', 'events', '-n', 'default'], 'yes'],
      [controller, ['patch', 'ipaddresspools.metallb.io', '--subresource=status', '-n', ns], 'yes'],
      [controller, ['update', 'leases.coordination.k8s.io/ironlb-controller', '-n', ns], 'yes'],
      [controller, ['update', 'leases.coordination.k8s.io/other', '-n', ns], 'no'],
      [controller, ['update', 'secrets/metallb-webhook-cert', '-n', ns], 'yes'],
      [controller, ['update', 'secrets/other', '-n', ns], 'no'],
      [controller, ['get', 'secrets', '-n', 'default'], 'no'],
      [controller, ['update', 'validatingwebhookconfigurations/metallb-webhook-configuration'], 'yes'],
      [controller, ['update', 'validatingwebhookconfigurations/other'], 'no'],
      [controller, ['patch', 'customresourcedefinitions/bgppeers.metallb.io'], 'yes'],
      [controller, ['patch', 'customresourcedefinitions/ipaddresspools.metallb.io'], 'no'],
      [controller, ['list', 'nodes'], 'no'],
      [controller, ['list', 'pods', '-n', ns], 'no'],
      [controller, ['update', 'ipaddresspools.metallb.io', '-n', ns], 'no'],
      [speaker, ['list', 'nodes'], 'yes'],
      [speaker, ['watch', 'endpointslices.discovery.k8s.io', '-n', 'default'], 'yes'],
      [speaker, ['list', 'services', '-n', 'default'], 'yes'],
      [speaker, ['patch', 'services', '--subresource=status', '-n', 'default'], 'no'],
      [speaker, ['create', 'servicebgpstatuses.metallb.io', '-n', ns], 'yes'],
      [speaker, ['patch', 'servicebgpstatuses.metallb.io', '--subresource=status', '-n', ns], 'yes'],
      [speaker, ['create', 'bgpsessionstates.ironlb.io', '-n', ns], 'yes'],
      [speaker, ['watch', 'frrconfigurations.frrk8s.metallb.io', '-n', ns], 'yes'],
      [speaker, ['create', 'frrconfigurations.frrk8s.metallb.io', '-n', ns], 'no'],
      [speaker, ['create', 'servicebgpstatuses.metallb.io', '-n', 'default'], 'no'],
      [speaker, ['create', 'leases.coordination.k8s.io', '-n', ns], 'no'],
      [speaker, ['get', 'secrets', '-n', 'default'], 'no'],
      [speaker, ['update', 'nodes'], 'no'],
    ];
    const wrong: string[] = [];
    for (const [sa, args, want] of expectations) {
      const got = await can(sa, args);
      if (got !== want) wrong.push(`${sa} ${args.join(' ')}: ${got}, want ${want}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('frr-k8s in another namespace: the speaker may read FRRConfigurations and Secrets there, and write FRRConfigurations only with frrk8s.enabled', async () => {
    const frrNs = 'frr-k8s-elsewhere';
    assert.equal((await cp.kubectl(['create', 'namespace', frrNs])).code, 0);
    const can = async (args: string[]) => (await cp.kubectl(['auth', 'can-i', ...args, `--as=system:serviceaccount:${ns}:ironlb-speaker`])).stdout.trim();
    for (const enabled of [false, true]) {
      // Only the chart's objects in that namespace (the release itself is installed above).
      const r = await cp.helm(['template', 'ironlb', chart, '-n', ns, '--set', `frrk8s.enabled=${enabled},frrk8s.namespace=${frrNs}`]);
      assert.equal(r.code, 0, r.stderr);
      const mine = parseAllDocuments(r.stdout).map((d) => d.toJS() as Json).filter((d) => d?.metadata?.namespace === frrNs);
      assert.deepEqual(mine.map((d) => d.kind).sort(), ['Role', 'RoleBinding']);
      const applied = await cp.kubectl(['apply', '-f', '-'], { input: mine.map((d) => JSON.stringify(d)).join('\n') });
      assert.equal(applied.code, 0, applied.stderr);
      const expectations: [string[], 'yes' | 'no'][] = [
        [['watch', 'frrconfigurations.frrk8s.metallb.io', '-n', frrNs], 'yes'],
        [['list', 'secrets', '-n', frrNs], 'yes'],
        [['get', 'secrets', '-n', frrNs], 'no'],
        [['create', 'frrconfigurations.frrk8s.metallb.io', '-n', frrNs], enabled ? 'yes' : 'no'],
        [['update', 'frrconfigurations.frrk8s.metallb.io', '-n', frrNs], enabled ? 'yes' : 'no'],
        [['list', 'secrets', '-n', 'default'], 'no'],
      ];
      const wrong: string[] = [];
      for (const [args, want] of expectations) {
        const got = await can(args);
        if (got !== want) wrong.push(`frrk8s.enabled=${enabled}: ${args.join(' ')}: ${got}, want ${want}`);
      }
      assert.deepEqual(wrong, []);
    }
  });
});
