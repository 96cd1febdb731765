// The speaker's status objects, against a recording client: created once, patched only on
// change, deleted when what they describe is gone; L2 only for the Services this node answers for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeApiError, type KubeClient } from './kube-client.ts';
import { EventRecorder } from './event-recorder.ts';
import { readSpeakerStatuses, SpeakerStatusWriter, speakerEvents, speakerEventsOfChanges } from './speaker-writer.ts';
import type { SpeakerStatus, SpeakerStatusChanges } from '../store.ts';

function recorder() {
  const calls: string[] = [];
  const client = {
    request: (method: string, path: string) => {
      calls.push(`${method} ${path}`);
      return Promise.resolve(method === 'GET' ? { items: [] } : {});
    },
  } as unknown as KubeClient;
  return { calls, client };
}

const status = (over: Partial<SpeakerStatus> = {}): SpeakerStatus => ({
  node: 'n1', notAnnounced: [],
  peers: { tor: { address: '10.0.0.1', state: 'Established', prefixes: ['192.0.2.1/32'], uptimeMs: 5000 } },
  announced: [{ service: 'apps/web', peers: ['tor'] }],
  layer2: { 'apps/l2svc': { node: 'n1', ips: ['192.0.2.9'], interfaces: ['eth0'] }, 'apps/elsewhere': { node: 'n2', ips: ['192.0.2.10'], interfaces: [] } },
  ...over,
});

test('objects are created and patched once, then left alone while nothing changes', async () => {
  const { calls, client } = recorder();
  const w = new SpeakerStatusWriter({ client, namespace: 'metallb-system', node: 'n1', now: () => 1_000_000 });
  await w.write(status());
  const posts = calls.filter((c) => c.startsWith('POST')).map((c) => c.split('/').at(-1));
  assert.deepEqual(posts.sort(), ['bgpsessionstates', 'servicebgpstatuses', 'servicel2statuses']);
  assert.equal(calls.filter((c) => c.startsWith('PATCH')).length, 3);
  calls.length = 0;
  await w.write(status());
  assert.equal(calls.length, 0, calls.join("; "));
  // The session goes down: one patch, of the BGPSessionState only.
  await w.write(status({ peers: { tor: { address: '10.0.0.1', state: 'Active', prefixes: ['192.0.2.1/32'], lastError: 'hold timer expired' } } }));
  assert.equal(calls.length, 1);
  assert.match(calls[0]!, /^PATCH .*bgpsessionstates\/n1-tor\/status$/);
  calls.length = 0;
  // The Service and the peer go away: their objects are deleted.
  await w.write(status({ peers: {}, announced: [], layer2: {} }));
  assert.equal(calls.filter((c) => c.startsWith('DELETE')).length, 3);
});

test('a failed write is retried on its own until it goes through (no new status needed)', async () => {
  const calls: string[] = [];
  let failures = 3; // the first list (priming) and the retries' fail as a CRD's storage initializes
  const client = {
    request: (method: string, path: string) => {
      calls.push(`${method} ${path}`);
      if (failures > 0 && method === 'GET') {
        failures--;
        return Promise.reject(new KubeApiError(429, 'TooManyRequests', 'storage is (re)initializing', method, path));
      }
      return Promise.resolve(method === 'GET' ? { items: [] } : {});
    },
  } as unknown as KubeClient;
  const w = new SpeakerStatusWriter({ client, namespace: 'metallb-system', node: 'n1', now: () => 1_000_000, retryMs: 5 });
  await w.write(status());
  assert.equal(calls.filter((c) => c.startsWith('POST')).length, 0);
  const deadline = Date.now() + 5000;
  while (calls.filter((c) => c.startsWith('PATCH')).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(calls.filter((c) => c.startsWith('PATCH')).length, 3, calls.join('; '));
  // Written: no more retries.
  const n = calls.length;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(calls.length, n);
  w.close();
});

test("a kind whose CRD is not installed does not keep the others from being written (MetalLB's CRDs without ironlb's)", async () => {
  const calls: string[] = [];
  const client = {
    request: (method: string, path: string) => {
      calls.push(`${method} ${path}`);
      if (path.includes('/bgpsessionstates')) return Promise.reject(new KubeApiError(404, 'NotFound', '404 page not found', method, path));
      return Promise.resolve(method === 'GET' ? { items: [] } : {});
    },
  } as unknown as KubeClient;
  const w = new SpeakerStatusWriter({ client, namespace: 'metallb-system', node: 'n1', now: () => 1_000_000, retryMs: 60_000 });
  await w.write(status());
  w.close();
  const posts = calls.filter((c) => c.startsWith('POST')).map((c) => c.split('/').at(-1)).sort();
  assert.deepEqual(posts, ['bgpsessionstates', 'servicebgpstatuses', 'servicel2statuses']);
  assert.equal(calls.filter((c) => c.startsWith('PATCH') && !c.includes('/bgpsessionstates')).length, 2, calls.join('; '));
});

test("ironlb status reads the Services' announcements in a cluster that does not serve BGPSessionState (MetalLB's CRDs only)", async () => {
  const client = {
    request: (method: string, path: string) => {
      if (path.includes('/bgpsessionstates')) return Promise.reject(new KubeApiError(404, 'NotFound', '404 page not found', method, path));
      if (path.includes('/servicebgpstatuses')) return Promise.resolve({ items: [{ status: { node: 'n1', serviceName: 'web', serviceNamespace: 'apps', peers: ['r1'] } }] });
      return Promise.reject(new KubeApiError(500, 'InternalError', 'unexpected', method, path));
    },
  } as unknown as KubeClient;
  assert.deepEqual(await readSpeakerStatuses(client, 'metallb-system'), [{ node: 'n1', peers: {}, notAnnounced: [], announced: [{ service: 'apps/web', peers: ['r1'] }] }]);
  // Any other failure is still a failure.
  const down = { request: (method: string, path: string) => Promise.reject(new KubeApiError(503, 'ServiceUnavailable', 'down', method, path)) } as unknown as KubeClient;
  await assert.rejects(readSpeakerStatuses(down, 'metallb-system'), /down/);
});

test("no ServiceL2Status for a Service none of whose IPs has an interface here (as MetalLB's speaker); one once an IP has", async () => {
  const { calls, client } = recorder();
  const w = new SpeakerStatusWriter({ client, namespace: 'metallb-system', node: 'n1' });
  const l2 = (noInterface: string[]) => status({ peers: {}, announced: [], layer2: { 'apps/dual': { node: 'n1', ips: ['192.0.2.9', '2001:db8::9'], interfaces: [], noInterface } } });
  await w.write(l2(['192.0.2.9', '2001:db8::9']));
  assert.deepEqual(calls.filter((c) => !c.startsWith('GET')), []);
  await w.write(l2(['2001:db8::9']));
  assert.deepEqual(calls.filter((c) => !c.startsWith('GET')).map((c) => c.split(' ')[0]), ['POST', 'PATCH']);
  calls.length = 0;
  await w.write(l2(['192.0.2.9', '2001:db8::9']));
  assert.deepEqual(calls.map((c) => c.split(' ')[0]), ['DELETE']);
});

test('after close() a failed write is not retried', async () => {
  const calls: string[] = [];
  const client = {
    request: (method: string, path: string) => {
      calls.push(`${method} ${path}`);
      return Promise.reject(new KubeApiError(503, 'ServiceUnavailable', 'down', method, path));
    },
  } as unknown as KubeClient;
  const w = new SpeakerStatusWriter({ client, namespace: 'metallb-system', node: 'n1', retryMs: 5 });
  w.close();
  await w.write(status());
  const n = calls.length;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls.length, n);
});

test("Events: nodeAssigned per Service and protocol when this node starts announcing it, as MetalLB's speaker words it", () => {
  const held = new Set<string>();
  const lines = (s: SpeakerStatus) => speakerEvents(s, held).map((e) => `${e.object} ${e.type} ${e.reason}: ${e.message}`);
  assert.deepEqual(lines(status({ announcedToNoPeer: ['apps/no-session'] })), [
    'apps/web Normal nodeAssigned: announcing from node "n1" with protocol "bgp"',
    'apps/no-session Normal nodeAssigned: announcing from node "n1" with protocol "bgp"',
    'apps/l2svc Normal nodeAssigned: announcing from node "n1" with protocol "layer2"',
  ]);
  // Nothing new: no Event (MetalLB's repeats only raise the count of the same Event object).
  assert.deepEqual(lines(status({ announcedToNoPeer: ['apps/no-session'] })), []);
  // Another node wins the layer-2 election, then this one again: announced anew.
  assert.deepEqual(lines(status({ layer2: { 'apps/l2svc': { node: 'n2', ips: ['192.0.2.9'], interfaces: [] } } })), []);
  assert.deepEqual(lines(status()), ['apps/l2svc Normal nodeAssigned: announcing from node "n1" with protocol "layer2"']);
  // The interfaces the L2Advertisement names are not on this node: announceFailed per IP, still assigned.
  held.clear();
  assert.deepEqual(lines(status({ announced: [], layer2: { 'apps/dual': { node: 'n1', ips: ['192.0.2.9', '2001:db8::9'], interfaces: [], noInterface: ['192.0.2.9', '2001:db8::9'] } } })), [
    'apps/dual Warning announceFailed: the interfaces specified by LB IP "192.0.2.9" doesn\'t exist in assigned node "n1" with protocol "layer2"',
    'apps/dual Warning announceFailed: the interfaces specified by LB IP "2001:db8::9" doesn\'t exist in assigned node "n1" with protocol "layer2"',
    'apps/dual Normal nodeAssigned: announcing from node "n1" with protocol "layer2"',
  ]);
});

test('Events go to the recorder as the statuses come, even those a newer one replaces before it is written', async () => {
  const { calls, client } = recorder();
  const events = new EventRecorder({ client, component: 'metallb-speaker', host: 'n1' });
  const w = new SpeakerStatusWriter({ client, namespace: 'metallb-system', node: 'n1', events });
  const first = w.write(status({ layer2: {} }));
  await w.write(status({ announced: [] }));
  await first;
  await events.idle();
  assert.deepEqual(calls.filter((c) => c.endsWith('/events')), ['POST /api/v1/namespaces/apps/events', 'POST /api/v1/namespaces/apps/events']);
  w.close();
});

test('a write that carries its changes looks only at the sessions and the Services it names', async () => {
  const { calls, client } = recorder();
  const w = new SpeakerStatusWriter({ client, namespace: 'metallb-system', node: 'n1', now: () => 1_000_000 });
  const announced = Array.from({ length: 50 }, (_, i) => ({ service: `apps/s${i}`, peers: ['tor'] }));
  let wholeBuilt = 0;
  const whole = (): SpeakerStatus => { wholeBuilt++; return status({ announced, layer2: {} }); };
  const tor = { address: '10.0.0.1', state: 'Established', prefixes: [], prefixesSent: 1, uptimeMs: 5000 };
  const changes = (services: [string, string[]][]) => ({ node: 'n1', peers: { tor }, prefixes: new Map(), services: new Map(services.map(([k, peers]) => [k, { peers, notAnnounced: [] }])) });
  // The first write is whole, whatever it carries.
  await w.write({ whole, changes: changes([]) });
  assert.equal(wholeBuilt, 1);
  assert.equal(calls.filter((c) => c.startsWith('POST')).length, 51);
  calls.length = 0;
  // One Service added, one withdrawn: one object created, one deleted, nothing else looked at.
  await w.write({ whole, changes: changes([['apps/new', ['tor']], ['apps/s3', []]]) });
  assert.equal(wholeBuilt, 1, 'the whole status is not built for a write of changes');
  assert.deepEqual(calls.map((c) => c.split(' ')[0]), ['POST', 'PATCH', 'DELETE'], calls.join('; '));
  assert.match(calls[0]!, /servicebgpstatuses$/);
  calls.length = 0;
  // Nothing changed: nothing written.
  await w.write({ whole, changes: changes([['apps/new', ['tor']]]) });
  assert.deepEqual(calls, []);
});

test('Events from a write of changes are those the whole status gives', () => {
  const whole = new Set<string>();
  const byChanges = new Set<string>();
  speakerEvents(status(), whole);
  speakerEvents(status(), byChanges);
  const entries = (peers: string[], toNoPeer = false) => ({ peers, notAnnounced: toNoPeer ? ['noPeers: none'] : [], ...(toNoPeer ? { toNoPeer } : {}) });
  const steps: [SpeakerStatus, SpeakerStatusChanges][] = [
    [status({ announced: [{ service: 'apps/web', peers: ['tor'] }, { service: 'apps/new', peers: ['tor'] }] }), { node: 'n1', peers: {}, prefixes: new Map(), services: new Map([['apps/new', entries(['tor'])]]) }],
    [status({ announced: [{ service: 'apps/new', peers: ['tor'] }] }), { node: 'n1', peers: {}, prefixes: new Map(), services: new Map([['apps/web', entries([])]]) }],
    [status({ announced: [{ service: 'apps/new', peers: ['tor'] }], announcedToNoPeer: ['apps/web'] }), { node: 'n1', peers: {}, prefixes: new Map(), services: new Map([['apps/web', entries([], true)]]) }],
    [status({ announced: [{ service: 'apps/new', peers: ['tor'] }], announcedToNoPeer: ['apps/web'], layer2: {} }), { node: 'n1', peers: {}, prefixes: new Map(), services: new Map(), layer2: {} }],
    [status({ announced: [{ service: 'apps/new', peers: ['tor'] }], announcedToNoPeer: ['apps/web'] }), { node: 'n1', peers: {}, prefixes: new Map(), services: new Map(), layer2: status().layer2 }],
  ];
  for (const [s, c] of steps) {
    const a = speakerEvents(s, whole).map((e) => `${e.object} ${e.reason}`).sort();
    const b = speakerEventsOfChanges(c, byChanges).map((e) => `${e.object} ${e.reason}`).sort();
    assert.deepEqual(b, a);
    assert.deepEqual([...byChanges].sort(), [...whole].sort());
  }
});

test('a session whose counters alone changed is written at most every countersEveryMs, with the last counts; a state change at once', async () => {
  const { calls, client } = recorder();
  const bodies: unknown[] = [];
  const request = client.request.bind(client);
  (client as { request: unknown }).request = (method: string, path: string, o?: { body?: unknown }) => {
    if (method === 'PATCH' && path.includes('bgpsessionstates')) bodies.push(o?.body);
    return request(method, path);
  };
  const w = new SpeakerStatusWriter({ client, namespace: 'metallb-system', node: 'n1', countersEveryMs: 150 });
  const tor = (prefixesSent: number, state = 'Established') => ({ address: '10.0.0.1', state, prefixes: [], prefixesSent });
  const sessions = () => calls.filter((c) => c.startsWith('PATCH') && c.includes('bgpsessionstates'));
  const changes = (p: ReturnType<typeof tor>) => ({ whole: () => status({ peers: { tor: p }, layer2: {} }), changes: { node: 'n1', peers: { tor: p }, prefixes: new Map(), services: new Map() } });
  await w.write(changes(tor(1)));
  assert.equal(sessions().length, 1);
  // Counters alone, within the interval: held back, the later count replacing the earlier.
  await w.write(changes(tor(2)));
  await w.write(changes(tor(3)));
  assert.equal(sessions().length, 1);
  for (let i = 0; i < 200 && sessions().length < 2; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(sessions().length, 2);
  assert.equal((bodies.at(-1) as { status: { prefixesSent: number } }).status.prefixesSent, 3);
  // A state change goes at once, with its counts, and nothing held back is written after it.
  await w.write(changes(tor(4)));
  await w.write(changes(tor(4, 'Active')));
  assert.equal(sessions().length, 3);
  const last = (bodies.at(-1) as { status: { bgpStatus: string; prefixesSent: number } }).status;
  assert.deepEqual([last.bgpStatus, last.prefixesSent], ['Active', 4]);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(sessions().length, 3);
  // Back to what the cluster holds: nothing to write.
  await w.write(changes(tor(4, 'Active')));
  assert.equal(sessions().length, 3);
  w.close();
});
