// Received routes into a real kernel over rtnetlink (src/bgp/kernel-routes.ts, rtnetlink.ts and the
// addon's netlink socket), in a network namespace `fk-nl` the test makes (the socket is opened
// inside it): IPv4 and IPv6, one next hop and ECMP, the main table and another, replace and
// withdraw; another's route in the same slot is neither overwritten nor deleted, a static route
// for the same prefix stays, and cleanup removes every protocol-248 route (also one left by a
// killed run) and nothing else. Checked with `ip route`, as a person would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KernelRoutes } from '../../src/bgp/kernel-routes.ts';
import { parseIp, type IpAddress } from '../../src/net/ip.ts';
import { parsePrefix, type Prefix } from '../../src/net/prefix.ts';
import { addNs, inNs, link, sh } from './netns.ts';

const ns = 'fk-nl';
const peerNs = 'fk-nl-peer';
const P = (t: string): Prefix => parsePrefix(t)!.prefix;
const ip = (t: string): IpAddress => parseIp(t)!;

function cleanupNs(): void {
  for (const n of [ns, peerNs]) try { sh('ip', 'netns', 'del', n); } catch { /* not there */ }
}

/** `ip route` lines (protocol 248 or all) of one family and table, trimmed and sorted. */
function routes(family: '-4' | '-6', table: number, ours = true): string[] {
  const out = inNs(ns, 'ip', family, 'route', 'show', 'table', String(table), ...(ours ? ['proto', '248'] : []));
  // Multipath routes print their next hops on indented lines: one line per route here.
  return out.replace(/\n\s+nexthop/g, ' nexthop').split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter(Boolean).sort();
}

describe('kernel routes over rtnetlink (netns fk-nl)', () => {
  const warnings: object[] = [];
  const logger = { info: () => undefined, debug: () => undefined, error: () => undefined, warn: (o: object) => { warnings.push(o); } };
  let main: KernelRoutes;
  let other: KernelRoutes;

  before(() => {
    cleanupNs();
    addNs(ns);
    addNs(peerNs);
    link({ ns, name: 'eth0', addr: '10.215.0.1/24' }, { ns: peerNs, name: 'eth0', addr: '10.215.0.2/24' });
    inNs(ns, 'ip', 'addr', 'add', '2001:db8:215::1/64', 'dev', 'eth0', 'nodad');
    main = new KernelRoutes({ netns: ns, logger });
    other = new KernelRoutes({ netns: ns, table: 100, logger });
  });
  after(async () => {
    await main?.cleanup();
    await other?.cleanup();
    if (process.env.FK_KEEP !== '1') cleanupNs();
  });

  it('adds IPv4 and IPv6 routes, one next hop or ECMP, in the main table and in another', async () => {
    main.set('a', P('10.216.1.0/24'), [ip('10.215.0.2')]);
    main.set('b', P('10.216.2.0/24'), [ip('10.215.0.3'), ip('10.215.0.2')]);
    main.set('c', P('2001:db8:216::/48'), [ip('2001:db8:215::2')]);
    main.set('d', P('2001:db8:217::/48'), [ip('2001:db8:215::2'), ip('2001:db8:215::3')]);
    other.set('e', P('10.216.3.0/24'), [ip('10.215.0.4')]);
    await main.flush();
    await other.flush();
    assert.deepEqual(routes('-4', 254), [
      '10.216.1.0/24 via 10.215.0.2 dev eth0 metric 20',
      '10.216.2.0/24 metric 20 nexthop via 10.215.0.2 dev eth0 weight 1 nexthop via 10.215.0.3 dev eth0 weight 1',
    ]);
    assert.deepEqual(routes('-6', 254).map((l) => l.replace(/ pref medium/, '')), [
      '2001:db8:216::/48 via 2001:db8:215::2 dev eth0 metric 20',
      '2001:db8:217::/48 metric 20 nexthop via 2001:db8:215::2 dev eth0 weight 1 nexthop via 2001:db8:215::3 dev eth0 weight 1',
    ]);
    assert.deepEqual(routes('-4', 100), ['10.216.3.0/24 via 10.215.0.4 dev eth0 metric 20']);
    assert.equal(main.routes().size, 4);
    assert.deepEqual(warnings, []);
  });

  it('replaces ours (ECMP to one next hop and back), removes on withdraw', async () => {
    main.set('b', P('10.216.2.0/24'), [ip('10.215.0.3')]);
    main.set('d', P('2001:db8:217::/48'), [ip('2001:db8:215::3')]);
    main.set('a', P('10.216.1.0/24'), []);
    await main.flush();
    assert.deepEqual(routes('-4', 254), ['10.216.2.0/24 via 10.215.0.3 dev eth0 metric 20']);
    assert.deepEqual(routes('-6', 254).map((l) => l.replace(/ pref medium/, '')), [
      '2001:db8:216::/48 via 2001:db8:215::2 dev eth0 metric 20',
      '2001:db8:217::/48 via 2001:db8:215::3 dev eth0 metric 20',
    ]);
    main.set('b', P('10.216.2.0/24'), [ip('10.215.0.3'), ip('10.215.0.5')]);
    await main.flush();
    assert.match(routes('-4', 254)[0]!, /nexthop via 10\.215\.0\.3 .* nexthop via 10\.215\.0\.5/);
  });

  it('never touches another\'s route: same slot refused (not overwritten, not deleted); a static route for the prefix stays', async () => {
    inNs(ns, 'ip', 'route', 'add', '10.216.8.0/24', 'via', '10.215.0.9', 'metric', '20', 'proto', 'static');
    inNs(ns, 'ip', 'route', 'add', '10.216.9.0/24', 'via', '10.215.0.9', 'proto', 'static');
    main.set('x', P('10.216.8.0/24'), [ip('10.215.0.2')]);
    main.set('y', P('10.216.9.0/24'), [ip('10.215.0.2')]);
    await main.flush();
    assert.equal(warnings.length, 1, 'the refused add is logged');
    assert.match(JSON.stringify(warnings[0]), /add 10\.216\.8\.0\/24 via 10\.215\.0\.2: EEXIST/);
    assert.ok(!main.routes().has('x'), 'not counted as installed');
    const all = routes('-4', 254, false);
    assert.ok(all.includes('10.216.8.0/24 via 10.215.0.9 dev eth0 proto static metric 20'), all.join('\n'));
    assert.ok(all.includes('10.216.9.0/24 via 10.215.0.9 dev eth0 proto static'), all.join('\n'));
    assert.ok(all.includes('10.216.9.0/24 via 10.215.0.2 dev eth0 proto 248 metric 20'), all.join('\n'));
    main.set('x', P('10.216.8.0/24'), []);
    main.set('y', P('10.216.9.0/24'), []);
    await main.flush();
    const left = routes('-4', 254, false);
    assert.ok(left.includes('10.216.8.0/24 via 10.215.0.9 dev eth0 proto static metric 20'), left.join('\n'));
    assert.ok(left.includes('10.216.9.0/24 via 10.215.0.9 dev eth0 proto static'), left.join('\n'));
    assert.ok(!left.some((l) => l.startsWith('10.216.9.0/24') && l.includes('proto 248')));
  });

  it('cleanup removes every protocol-248 route of its table (a killed run\'s too) and nothing else', async () => {
    inNs(ns, 'ip', 'route', 'add', '10.216.66.0/24', 'via', '10.215.0.2', 'proto', '248', 'metric', '20');
    inNs(ns, 'ip', '-6', 'route', 'add', '2001:db8:266::/48', 'via', '2001:db8:215::2', 'proto', '248');
    await main.cleanup();
    assert.deepEqual(routes('-4', 254), []);
    assert.deepEqual(routes('-6', 254), []);
    assert.equal(routes('-4', 100).length, 1, 'another table is another KernelRoutes\' business');
    assert.ok(routes('-4', 254, false).some((l) => l.includes('proto static')));
    // A new run that installed nothing still clears what a killed one left, when asked.
    inNs(ns, 'ip', 'route', 'add', '10.216.67.0/24', 'via', '10.215.0.2', 'proto', '248');
    const fresh = new KernelRoutes({ netns: ns });
    await fresh.cleanup(true);
    assert.deepEqual(routes('-4', 254), []);
  });

  it('a writer that fails (here: a namespace that does not exist) is logged, nothing counted', async () => {
    const w = new KernelRoutes({ netns: 'fk-nl-absent', logger });
    warnings.length = 0;
    w.set('z', P('10.216.70.0/24'), [ip('10.215.0.2')]);
    await w.flush();
    assert.equal(w.routes().size, 0);
    assert.match(JSON.stringify(warnings), /fk-nl-absent/);
  });
});
