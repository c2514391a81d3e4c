/**
 * Path MTU with real probes in real network namespaces (test/helpers/mtu-lab.ts): three
 * hosts on veth links at 9216 to a router namespace, h2's link at 1500 at both ends.
 * The product's MTU sources, store, model and `k8ops mtu --json` run over lab agents whose
 * `exec` runs the program inside the host's namespace (`ip netns exec`, one word per
 * argument) instead of over SSH — the path test needs hosts that route through a router,
 * which the sshd lab's nodes (one shared namespace) do not; reading links over real sshd is
 * test/integration/mtu-ssh.test.ts. Real iputils ping, real "Frag needed" from the router.
 * The lab's range gets an `unreachable` route in the host namespace.
 */
import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mtuCommand } from '../../src/commands/mtu.js';
import type { Inventory } from '../../src/config/types.js';
import { mtuFeature } from '../../src/features/mtu/model.js';
import type { NodeAgent } from '../../src/nodes/agent.js';
import { createSession } from '../../src/session/session.js';
import { labAgent, type MtuLab, mtuLabSupport, startMtuLab } from '../helpers/mtu-lab.js';

const support = mtuLabSupport();

function inventory(lab: MtuLab): Inventory {
  return {
    source: '<test>',
    cluster: 'mtu-lab',
    nodes: lab.hosts.map((h, index) => ({
      name: h.name,
      index,
      host: h.name,
      addresses: [h.address],
      roles: ['worker'],
    })),
    ssh: { jump: [], connectTimeoutMs: 5000 },
    kube: { tunnel: false },
    pki: { dir: '/var/lib/kubernetes/secrets', rootOffline: true },
    rotation: { spreadMs: 86_400_000, cpGapMs: 1_800_000, minRemainingMs: 172_800_000 },
    network: { targetMtu: 9216, bgpRouters: [] },
    ingress: { namespace: 'ingress-nginx', cacheZone: 'static' },
    addons: {},
  };
}

interface Cell {
  from: string;
  to: string;
  status: string;
  mtu?: number;
  reportedBy?: string;
}

function suite(name: string, body: (lab: () => MtuLab) => void) {
  if (!support.ok) {
    if (process.env.CI === 'true') {
      describe(name, () => {
        it('has its prerequisites (CI must run the netns MTU tests)', () => {
          throw new Error(`MTU lab unavailable under CI: ${support.reason}`);
        });
      });
    } else describe.skip(`${name} [skipped: ${support.reason}]`, () => body(() => ({}) as MtuLab));
    return;
  }
  describe(name, () => {
    let lab: MtuLab | undefined;
    beforeAll(async () => {
      lab = await startMtuLab({ hosts: 3, narrow: 2 });
    }, 30_000);
    afterAll(async () => {
      await lab?.teardown();
    });
    body(() => lab!);
  });
}

suite('MTU: path MTU in network namespaces (real ping, a router, one 1500 hop)', (lab) => {
  it('the lab range is unreachable from the host namespace', () => {
    const routes = execFileSync('ip', ['route', 'show', 'type', 'unreachable']).toString();
    expect(routes).toContain(lab().range);
  });

  it('flags the 1500 interface and the matrix shows 1500 found by the real probes', async () => {
    const l = lab();
    await l.flushPmtu();
    const agents = new Map(l.hosts.map((h) => [h.name, labAgent(l, h) as unknown as NodeAgent]));
    const session = createSession({
      mode: 'live',
      inventory: inventory(l),
      agents,
      readOnly: true,
      features: [mtuFeature],
    });
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => {
      text += String(c);
    });
    let code: number;
    try {
      code = await mtuCommand(session, true, out);
    } finally {
      await session.close();
    }
    const doc = JSON.parse(text) as {
      nodes: Array<{
        name: string;
        health: string;
        offTarget: Array<{ name: string; mtu: number; role: string; severity: string }>;
        cilium: { state: string };
      }>;
      matrix: { cells: Cell[][] };
      totals: { down: number; pathsLow: number };
    };
    expect(code).toBe(2);
    const by = new Map(doc.nodes.map((n) => [n.name, n]));
    expect(by.get('h2')?.offTarget).toEqual([
      expect.objectContaining({ name: 'eth0', mtu: 1500, role: 'veth', severity: 'bad' }),
    ]);
    expect(by.get('h0')?.offTarget).toEqual([]);
    expect(by.get('h0')?.cilium.state).toBe('absent');
    const cell = (from: number, to: number) => doc.matrix.cells[from]![to]!;
    expect(cell(0, 1)).toMatchObject({ status: 'ok', mtu: 9216 });
    expect(cell(1, 0)).toMatchObject({ status: 'ok', mtu: 9216 });
    // Towards h2: the router's "Frag needed (mtu = 1500)", confirmed by a probe at 1500.
    const routerSide = l.hosts[0]!.address.replace(/\.\d+$/, '.1');
    expect(cell(0, 2)).toMatchObject({ status: 'low', mtu: 1500, reportedBy: routerSide });
    expect(cell(1, 2)).toMatchObject({ status: 'low', mtu: 1500 });
    // From h2: its own route says "message too long, mtu=1500".
    expect(cell(2, 0)).toMatchObject({ status: 'low', mtu: 1500, reportedBy: 'local' });
    expect(cell(2, 1)).toMatchObject({ status: 'low', mtu: 1500, reportedBy: 'local' });
    expect(doc.totals).toMatchObject({ down: 0, pathsLow: 4 });
  }, 60_000);

  it('a 1500 hop in the middle of a path, with no ICMP hint, is found by bisection', async () => {
    // A router that sends "Frag needed" without the next-hop MTU (RFC 792 style): the MTU
    // the real ICMP names is stripped from each outcome, so only bisection can find it.
    const l = lab();
    await l.flushPmtu();
    const { findPathMtu } = await import('../../src/features/mtu/probe.js');
    const { parsePing } = await import('../../src/features/mtu/parse.js');
    const { pingArgv } = await import('../../src/features/mtu/probe.js');
    const h0 = l.hosts[0]!;
    const h2 = l.hosts[2]!;
    let probes = 0;
    const r = await findPathMtu(async (mtu) => {
      probes++;
      const x = await l.exec(h0.ns, pingArgv(h2.address, mtu));
      const o = parsePing(x.stdout, x.stderr, x.code);
      // Strip the MTU the ICMP names, so only bisection can find it.
      return o.kind === 'too-big' ? { kind: 'too-big', where: o.where } : o;
    }, 9216);
    expect(r).toMatchObject({ status: 'low', mtu: 1500 });
    expect(probes).toBeLessThanOrEqual(16);
  }, 60_000);

  it('a one-sided mismatch is a black hole, reported with its bounds', async () => {
    // h1's own end lowered to 4000, the router's end still 9216: big frames towards h1 are
    // dropped by its veth with no ICMP at all.
    const l = lab();
    const h0 = l.hosts[0]!;
    const h1 = l.hosts[1]!;
    execFileSync('ip', ['-n', h1.ns, 'link', 'set', 'eth0', 'mtu', '4000']);
    try {
      await l.flushPmtu();
      const { probePeers } = await import('../../src/features/mtu/probe.js');
      const { Limiter } = await import('../../src/features/mtu/probe.js');
      const [r] = await probePeers(
        (argv, o) => l.exec(h0.ns, argv, (o?.timeoutMs ?? 5000) + 1000),
        [{ name: 'h1', address: h1.address }],
        9216,
        { limiter: new Limiter(8) },
      );
      // The receiving veth lets a frame through up to MTU + 4 (a VLAN tag's room:
      // is_skb_forwardable), so the edge found is 4004 on this kernel, not 4000.
      expect(r).toMatchObject({ to: 'h1', status: 'black-hole' });
      expect(r?.okUpTo).toBeGreaterThanOrEqual(4000);
      expect(r?.okUpTo).toBeLessThanOrEqual(4004);
      expect(r?.failFrom).toBe((r?.okUpTo ?? 0) + 1);
    } finally {
      execFileSync('ip', ['-n', h1.ns, 'link', 'set', 'eth0', 'mtu', '9216']);
    }
  }, 60_000);
});
