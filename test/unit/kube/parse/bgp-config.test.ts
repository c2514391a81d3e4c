/**
 * The BGP v2 configuration CRDs and Services, parsed from the real-shaped payloads in
 * test/fixtures/kube (see its README: shapes from cilium's Go types, no Cilium runs here),
 * the NodeConfig spec's peer → PeerConfig references, label selectors as Cilium matches
 * them, and garbage (fast-check): never a throw, a problem named instead of a guess.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBgpNodeConfig } from '../../../../src/kube/parse/bgp.js';
import {
  parseBgpAdvertisement,
  parseBgpClusterConfig,
  parseBgpPeerConfig,
} from '../../../../src/kube/parse/bgp-config.js';
import {
  formatSelector,
  parseLabelSelector,
  selectorMatches,
} from '../../../../src/kube/parse/selector.js';
import { parseServiceVips } from '../../../../src/kube/parse/service.js';
import { fx } from './fixtures.js';

describe('parseBgpPeerConfig', () => {
  it('cilium.io/v2: timers, transport, graceful restart, multihop, the auth Secret name, families', () => {
    const p = parseBgpPeerConfig(fx('ciliumbgppeerconfig-v2.json'))!;
    expect(p).toEqual({
      name: 'cilium-peer',
      peerPort: 179,
      holdTimeSeconds: 9,
      keepAliveTimeSeconds: 3,
      connectRetryTimeSeconds: 5,
      ebgpMultihop: 1,
      gracefulRestart: { enabled: true, restartTimeSeconds: 15 },
      authSecretRef: 'bgp-auth-secret',
      families: [
        {
          afi: 'ipv4',
          safi: 'unicast',
          advertisements: { matchLabels: { advertise: 'bgp' }, matchExpressions: [] },
        },
      ],
      conditions: [
        expect.objectContaining({ type: 'cilium.io/MissingAuthSecret', status: 'False' }),
      ],
      problems: [],
    });
  });

  it('cilium.io/v2alpha1 (Cilium 1.17): the deprecated localPort, two families, no status', () => {
    const p = parseBgpPeerConfig(fx('ciliumbgppeerconfig-v2alpha1.json'))!;
    expect(p).toMatchObject({
      name: 'cilium-peer',
      localPort: 179,
      peerPort: 179,
      holdTimeSeconds: 90,
      gracefulRestart: { enabled: false },
      conditions: [],
      problems: [],
    });
    expect(p.families.map((f) => `${f.afi}/${f.safi} ${formatSelector(f.advertisements)}`)).toEqual(
      ['ipv4/unicast advertise=bgp', 'ipv6/unicast advertise=bgp-v6'],
    );
    expect(p.authSecretRef).toBeUndefined();
  });

  it('no families: Cilium defaults them (flagged, not invented); no spec at all is no error', () => {
    expect(parseBgpPeerConfig({ metadata: { name: 'bare' }, spec: {} })).toEqual({
      name: 'bare',
      families: [],
      defaultFamilies: true,
      conditions: [],
      problems: [],
    });
    expect(parseBgpPeerConfig({ metadata: { name: 'x' } })?.problems).toEqual([]);
  });

  it('fields of the wrong type or out of range are named, not guessed; the rest is read', () => {
    const p = parseBgpPeerConfig({
      metadata: { name: 'bad' },
      spec: {
        timers: {
          holdTimeSeconds: 'ninety',
          keepAliveTimeSeconds: 2.5,
          connectRetryTimeSeconds: 7,
        },
        ebgpMultihop: 300,
        authSecretRef: { name: 'not-a-string' },
        gracefulRestart: { enabled: 'yes' },
        families: [
          {
            afi: 'ipv4',
            safi: 'unicast',
            advertisements: { matchExpressions: [{ key: 'a', operator: 'Near' }] },
          },
          { safi: 'unicast' },
          'ipv6',
        ],
      },
    })!;
    expect(p.connectRetryTimeSeconds).toBe(7);
    expect(p.holdTimeSeconds).toBeUndefined();
    expect(p.keepAliveTimeSeconds).toBeUndefined();
    expect(p.ebgpMultihop).toBeUndefined();
    expect(p.authSecretRef).toBeUndefined();
    expect(p.gracefulRestart).toEqual({ enabled: false });
    // The family with an invalid selector is kept without one (Cilium selects nothing with it).
    expect(p.families).toEqual([{ afi: 'ipv4', safi: 'unicast' }]);
    expect(p.defaultFamilies).toBeUndefined();
    expect(p.problems).toEqual([
      'spec.timers.holdTimeSeconds: "ninety" is not an integer in 3…65535',
      'spec.timers.keepAliveTimeSeconds: 2.5 is not an integer in 1…65535',
      'spec.ebgpMultihop: 300 is not an integer in 1…255',
      'spec.authSecretRef: not a string',
      'spec.gracefulRestart.enabled: not true or false',
      'spec.families[0].advertisements.matchExpressions[0]: operator "Near" is not In, NotIn, Exists or DoesNotExist',
      'spec.families[1]: no afi/safi',
      'spec.families[2]: not an object',
    ]);
  });

  it('an object without a name is not an object k8ops can show: skipped', () => {
    expect(parseBgpPeerConfig({ spec: {} })).toBeUndefined();
    expect(parseBgpPeerConfig(null)).toBeUndefined();
  });
});

describe('parseBgpAdvertisement', () => {
  it('cilium.io/v2: labels, PodCIDR with attributes, Service LoadBalancerIP with a selector', () => {
    const a = parseBgpAdvertisement(fx('ciliumbgpadvertisement-v2.json'))!;
    expect(a.name).toBe('bgp-advertisements');
    expect(a.labels).toEqual({ advertise: 'bgp' });
    expect(a.problems).toEqual([]);
    expect(a.advertisements).toEqual([
      {
        advertisementType: 'PodCIDR',
        addresses: [],
        communities: ['65001:99'],
        localPreference: 99,
      },
      {
        advertisementType: 'Service',
        addresses: ['LoadBalancerIP'],
        selector: {
          matchLabels: {},
          matchExpressions: [{ key: 'bgp', operator: 'In', values: ['blue'] }],
        },
        communities: ['no-export', '65001:1:1'],
      },
    ]);
  });

  it('cilium.io/v2alpha1: every service address type, the select-all NotIn idiom', () => {
    const a = parseBgpAdvertisement(fx('ciliumbgpadvertisement-v2alpha1.json'))!;
    const svc = a.advertisements[1]!;
    expect(svc.addresses).toEqual(['ClusterIP', 'ExternalIP', 'LoadBalancerIP']);
    expect(formatSelector(svc.selector)).toBe('somekey notin (never-used-value)');
    expect(selectorMatches(svc.selector, {})).toBe(true);
    expect(selectorMatches(svc.selector, { somekey: 'never-used-value' })).toBe(false);
  });

  it('a Service entry without service options, an entry without a type: named', () => {
    const a = parseBgpAdvertisement({
      metadata: { name: 'x', labels: { advertise: 'bgp' } },
      spec: { advertisements: [{ advertisementType: 'Service' }, { service: {} }, 7] },
    })!;
    expect(a.advertisements).toEqual([
      { advertisementType: 'Service', addresses: [], communities: [] },
    ]);
    expect(a.problems).toEqual([
      'spec.advertisements[0]: advertisementType Service without service.addresses',
      'spec.advertisements[1]: no advertisementType',
      'spec.advertisements[2]: not an object',
    ]);
  });
});

describe('parseBgpClusterConfig', () => {
  it('cilium.io/v2: node selector, instance, each peer with its PeerConfig, conditions', () => {
    const c = parseBgpClusterConfig(fx('ciliumbgpclusterconfig-v2.json'))!;
    expect(c.name).toBe('lab-bgp');
    expect(formatSelector(c.nodeSelector)).toBe('rack=rack0');
    expect(c.instances).toEqual([
      {
        name: 'instance-65001',
        localASN: 65001,
        peers: [
          { name: 'tor-1', peerAddress: '10.77.0.1', peerASN: 65000, peerConfigRef: 'cilium-peer' },
          { name: 'tor-2', peerAddress: '10.77.1.1', peerASN: 65000, peerConfigRef: 'cilium-peer' },
        ],
      },
    ]);
    expect(c.conditions.map((x) => x.type)).toEqual([
      'cilium.io/NoMatchingNode',
      'cilium.io/MissingPeerConfigs',
      'cilium.io/ConflictingClusterConfig',
    ]);
  });

  it('cilium.io/v2alpha1: peerConfigRef with group and kind reads the same', () => {
    const c = parseBgpClusterConfig(fx('ciliumbgpclusterconfig-v2alpha1.json'))!;
    expect(c.instances[0]!.peers[0]).toEqual({
      name: 'tor-1',
      peerAddress: '10.77.0.1',
      peerASN: 65000,
      peerConfigRef: 'cilium-peer',
    });
    expect(c.problems).toEqual([]);
  });
});

describe('CiliumBGPNodeConfig spec peers', () => {
  it('each peer of the spec with its PeerConfig reference (v2 and v2alpha1)', () => {
    for (const f of ['ciliumbgpnodeconfig-v2.json', 'ciliumbgpnodeconfig-v2alpha1.json'])
      expect(parseBgpNodeConfig(fx(f))!.specPeers).toEqual([
        {
          instance: 'instance-65001',
          name: 'tor-1',
          peerAddress: '10.77.0.1',
          peerASN: 65000,
          peerConfigRef: 'cilium-peer',
        },
      ]);
  });
});

describe('parseServiceVips', () => {
  it('a LoadBalancer Service: labels, cluster IP, the LB-IPAM VIP, traffic policy', () => {
    expect(parseServiceVips(fx('service-loadbalancer.json'))).toEqual({
      namespace: 'shop',
      name: 'web',
      labels: { app: 'web', bgp: 'blue' },
      type: 'LoadBalancer',
      clusterIPs: ['10.96.40.12'],
      externalIPs: [],
      loadBalancerIPs: ['10.77.100.11'],
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
    });
  });

  it('headless, hostnames instead of IPs, junk addresses: dropped like Cilium drops them', () => {
    const s = parseServiceVips({
      metadata: { name: 'h', namespace: 'n' },
      spec: { clusterIP: 'None', clusterIPs: ['None'], externalIPs: ['not-an-ip', '192.0.2.7', 7] },
      status: {
        loadBalancer: { ingress: [{ hostname: 'lb.example.com' }, { ip: '2001:db8::5' }] },
      },
    })!;
    expect(s).toMatchObject({
      type: 'ClusterIP',
      clusterIPs: [],
      externalIPs: ['192.0.2.7'],
      loadBalancerIPs: ['2001:db8::5'],
    });
  });
});

describe('label selectors (Cilium: absent selects nothing, {} everything, invalid nothing)', () => {
  const parse = (v: unknown) => {
    const problems: string[] = [];
    return { sel: parseLabelSelector(v, 'sel', problems), problems };
  };

  it('matchLabels AND every expression; In, NotIn, Exists, DoesNotExist', () => {
    const { sel } = parse({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['front', 'edge'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'bgp', operator: 'Exists' },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
      ],
    });
    expect(selectorMatches(sel, { app: 'web', tier: 'edge', bgp: '' })).toBe(true);
    expect(selectorMatches(sel, { app: 'web', tier: 'edge', bgp: '', env: 'dev' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', tier: 'back', bgp: '' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', tier: 'edge' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', tier: 'edge', bgp: 'x', legacy: '1' })).toBe(false);
    expect(formatSelector(sel)).toBe(
      'app=web, tier in (front,edge), !legacy, bgp, env notin (dev)',
    );
  });

  it('absent → nothing; {} → everything; invalid → nothing, and why', () => {
    expect(selectorMatches(parse(undefined).sel, { a: 'b' })).toBe(false);
    expect(selectorMatches(parse({}).sel, {})).toBe(true);
    expect(formatSelector(parse({}).sel)).toBe('{} (everything)');
    for (const [bad, why] of [
      [
        { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] },
        'In needs at least one value',
      ],
      [
        { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
        'Exists takes no values',
      ],
      [{ matchLabels: { a: 1 } }, 'sel.matchLabels.a: not a string'],
      [{ matchLabels: [] }, 'sel.matchLabels: not a map'],
      ['app=web', 'sel: not a label selector'],
    ] as const) {
      const r = parse(bad);
      expect(r.sel).toBeUndefined();
      expect(r.problems.join('\n')).toContain(why);
      expect(selectorMatches(r.sel, { a: 'x' })).toBe(false);
    }
  });

  it('a label named like an Object.prototype key is no label', () => {
    const { sel } = parse({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] });
    expect(selectorMatches(sel, {})).toBe(false);
  });
});

describe('garbage (fast-check): never a throw; whatever comes back is well-formed', () => {
  const junk = fc.oneof(fc.jsonValue(), fc.anything());
  const shaped = fc.record({
    metadata: fc.oneof(fc.record({ name: fc.string(), labels: junk }), junk),
    spec: fc.oneof(
      junk,
      fc.record({
        timers: junk,
        transport: junk,
        families: fc.oneof(
          junk,
          fc.array(fc.record({ afi: junk, safi: junk, advertisements: junk })),
        ),
        advertisements: fc.oneof(
          junk,
          fc.array(
            fc.record({ advertisementType: junk, service: junk, selector: junk, attributes: junk }),
          ),
        ),
        bgpInstances: fc.oneof(
          junk,
          fc.array(fc.record({ name: junk, localASN: junk, peers: junk })),
        ),
        nodeSelector: junk,
        authSecretRef: junk,
        gracefulRestart: junk,
        ebgpMultihop: junk,
        type: junk,
        clusterIP: junk,
        clusterIPs: junk,
        externalIPs: junk,
      }),
    ),
    status: fc.oneof(junk, fc.record({ conditions: junk, loadBalancer: junk, bgpInstances: junk })),
  });
  const parsers = [
    parseBgpPeerConfig,
    parseBgpAdvertisement,
    parseBgpClusterConfig,
    parseServiceVips,
    parseBgpNodeConfig,
  ];

  it('a field holding an object whose toString is not a function (JSON can say so) is a problem, not a throw', () => {
    // fast-check's counterexample (seed -1502409597): String() of such an object throws.
    const o = {
      metadata: { name: 'p' },
      spec: { ebgpMultihop: { toString: 0 }, timers: { holdTimeSeconds: { valueOf: 1 } } },
    };
    const out = parseBgpPeerConfig(o);
    expect(out?.problems.join('\n')).toMatch(/ebgpMultihop: an object is not an integer/);
    expect(out?.problems.join('\n')).toMatch(/holdTimeSeconds: an object is not an integer/);
    const problems: string[] = [];
    expect(
      parseLabelSelector(
        { matchExpressions: [{ key: 'k', operator: { toString: 0 } }] },
        's',
        problems,
      ),
    ).toBeUndefined();
    expect(problems.join('\n')).toMatch(/operator an object is not In/);
  });

  it('every parser over arbitrary values and object-shaped junk', () => {
    fc.assert(
      fc.property(fc.oneof(junk, shaped), (v) => {
        for (const p of parsers) {
          const out = p(v as never) as { problems?: unknown } | undefined;
          if (out === undefined) continue;
          expect(() => JSON.stringify(out)).not.toThrow();
          if ('problems' in out) {
            expect(Array.isArray(out.problems)).toBe(true);
            for (const x of out.problems as unknown[]) expect(typeof x).toBe('string');
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('selectors: parse never throws; a parsed selector matches without throwing', () => {
    fc.assert(
      fc.property(junk, fc.dictionary(fc.string(), fc.string()), (v, labels) => {
        const problems: string[] = [];
        const sel = parseLabelSelector(v, 's', problems);
        expect(typeof selectorMatches(sel, labels)).toBe('boolean');
        expect(typeof formatSelector(sel)).toBe('string');
        if (!sel && v !== undefined && v !== null) expect(problems.length).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
  });
});
