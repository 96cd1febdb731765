import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyControllerStatus } from '../store/store.ts';
import { writeControllerStatus } from '../store/files/status-file.ts';
import { explainText } from './explain.ts';

const examples = new URL('../../examples/', import.meta.url).pathname;

describe('ironlb explain', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ilb-explain-'));
    cpSync(examples, dir, { recursive: true, filter: (src) => !src.includes('.ironlb-state') });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('without a controller status: no IP, and every node says the Service has none', async () => {
    const r = await explainText(dir, 'default/web');
    assert.equal(r.ok, true);
    assert.match(r.text, /^Service default\/web: no IP assigned \(no controller status yet/);
    assert.match(r.text, /on node "node1": not announced from this node\.\n {2}not announced \[noIPAllocated\]/);
  });

  it('with the IPs the controller wrote: Local policy announces only where an endpoint is', async () => {
    await writeControllerStatus(dir, {
      ...emptyControllerStatus,
      services: { 'default/web': { ips: ['198.51.100.2'], pool: 'public-v4' } },
      events: [{ time: '2026-01-01T00:00:00.000Z', type: 'Normal', object: 'default/web', reason: 'IPAllocated', message: 'Assigned IP ["198.51.100.2"]' }],
    });
    const r = await explainText(dir, 'default/web', { nodes: ['node1', 'node3'] });
    const lines = r.text.trimEnd().split('\n');
    assert.match(lines[0]!, /^Service default\/web: IPs 198\.51\.100\.2 from pool "public-v4" \(controller status( of [^)]+)?\)\.$/);
    assert.equal(lines[1], '  controller 2026-01-01T00:00:00.000Z Normal IPAllocated: Assigned IP ["198.51.100.2"]');
    assert.ok(lines.includes('  198.51.100.2: announced as 198.51.100.2/32 to peers "tor-a", "tor-b" (BGPAdvertisement "local")'), r.text);
    assert.ok(lines.includes('Service default/web on node "node3", IPs 198.51.100.2, pool "public-v4": not announced from this node.'), r.text);
    assert.ok(lines.some((l) => l.includes('[noLocalEndpoints]') && l.includes('node "node3"')), r.text);
    assert.ok(!r.text.includes('node "node2"'), 'only the nodes asked for');
  });

  it('FRRConfigurations a speaker would refuse follow: the invalid one, and per node the one in conflict', async () => {
    const frr = (name: string, spec: string) => `apiVersion: frrk8s.metallb.io/v1beta1\nkind: FRRConfiguration\nmetadata: {name: ${name}, namespace: metallb-system}\nspec:\n${spec}`;
    writeFileSync(join(dir, 'frr.yaml'), [
      frr('clash', '  nodeSelector: {matchLabels: {kubernetes.io/hostname: node1}}\n  bgp:\n    routers:\n    - asn: 64512\n      neighbors:\n      - {address: 127.0.0.2, asn: 64999, port: 1179}\n'),
      frr('raw', '  raw: {rawConfig: "router bgp 64512"}\n'),
    ].join('---\n'));
    try {
      const r = await explainText(dir, 'default/web', { nodes: ['node1', 'node3'] });
      assert.equal(r.ok, true);
      const section = r.text.slice(r.text.indexOf('FRRConfigurations refused'));
      assert.match(section, /^ {2}\S*frr\.yaml:16:3: error: FRRConfiguration\/metallb-system\/raw: spec\.raw: raw FRR configuration is not supported/m);
      assert.match(section, /^ {2}node node1: FRRConfiguration metallb-system\/clash: spec\.bgp\.routers\[0\]\.neighbors\[0\]: neighbour 127\.0\.0\.2 has ASN 64999 here and 64512 in BGPPeer metallb-system\/tor-a; not applied on this node$/m);
      assert.ok(!section.includes('node node3'), 'clash selects node1 only');
    } finally {
      rmSync(join(dir, 'frr.yaml'));
    }
    assert.ok(!(await explainText(dir, 'default/web')).text.includes('FRRConfigurations refused'));
  });

  it('a Service that is not there, and an invalid folder, are failures that say so', async () => {
    assert.deepEqual(await explainText(dir, 'default/nope'), { ok: false, text: `Service default/nope is not in ${dir}.\n` });
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: bad\n  namespace: metallb-system\nspec:\n  addresses: ["10.0.0.0/33"]\n');
    const r = await explainText(dir, 'default/web');
    assert.equal(r.ok, false);
    assert.match(r.text, /^The configuration is not valid, so the speakers keep the last good one:\n.*broken\.yaml:7:/);
  });
});
