/**
 * The BGP pane on the demo lab's BGP data (src/demo/bgp.ts: Cilium's agent API on each
 * node's socket and the ToR's `gobgp -j` answers, read by the product's collectors): a row
 * per session with both sides, the down session marked, Enter for its details with the
 * router's received routes, `s` worst first, `/` filter, every frame within the terminal.
 */
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { gobgpCommand } from '../../src/demo/bgp.js';
import { demoInventory } from '../../src/demo/inventory.js';
import { demoForwardSocket } from '../../src/demo/node-sockets.js';
import { collectCilium, collectRouter } from '../../src/features/bgp/sources.js';
import { bindKubeToStore } from '../../src/kube/collect.js';
import { DemoKubeSource } from '../../src/kube/demo-kube.js';
import type { NodeAgent } from '../../src/nodes/agent.js';
import { createSession, type Session } from '../../src/session/session.js';
import { App } from '../../views/App.js';
import { monoTheme } from '../../views/theme.js';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

let sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
});

async function mount(size: { columns: number; rows: number }) {
  const inventory = demoInventory();
  const session = createSession({
    mode: 'demo',
    inventory,
    agents: new Map(),
    readOnly: true,
    features: [],
  });
  sessions.push(session);
  const signal = new AbortController().signal;
  const at = Date.now();
  for (const node of inventory.nodes) {
    const agent = {
      node,
      forwardSocket: (path: string) =>
        demoForwardSocket({ inventory, node, labDir: '/nonexistent' })(path),
    } as unknown as NodeAgent;
    session.store.succeed(node.name, 'bgp-cilium', await collectCilium(agent, signal), at);
    session.store.succeed(node.name, 'reach', { rttMs: 1, route: 'direct' }, at);
  }
  // The demo lab's kube API (CiliumBGPNodeConfig, PeerConfig, Advertisements, Services).
  const kube = new DemoKubeSource(inventory.nodes);
  const unbind = bindKubeToStore(kube, session.store);
  sessions.push({ close: async () => unbind() } as unknown as Session);
  const r0 = inventory.network.bgpRouters[0]!;
  const routerAgent = {
    node: { name: r0.name, index: -1, host: r0.host, addresses: [], roles: [] },
    exec: async (argv: readonly string[]) =>
      gobgpCommand.run(argv, {
        inventory,
        node: { name: r0.name, index: -1, host: r0.host, addresses: [], roles: [] },
        labDir: '/nonexistent',
        now: Date.now(),
      }),
  } as unknown as NodeAgent;
  session.store.succeed(
    'cluster',
    'bgp-routers',
    [await collectRouter(r0, routerAgent, signal)],
    at,
  );
  const r = render(<App session={session} theme={monoTheme} size={size} />);
  await settle();
  const type = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await settle();
    }
  };
  const frame = () => r.lastFrame() ?? '';
  const fits = () => {
    for (const fr of r.frames) {
      const lines = fr.split('\n');
      expect(lines.length).toBeLessThanOrEqual(size.rows);
      for (const l of lines) expect([...l].length).toBeLessThanOrEqual(size.columns);
    }
  };
  return { ...r, type, frame, fits };
}

describe('BGP pane', () => {
  it.each([
    [80, 24],
    [160, 40],
  ])(
    'at %i×%i: a row per session, both sides joined, the down one marked',
    async (columns, rows) => {
      const { type, frame, fits, unmount } = await mount({ columns, rows });
      await type('5');
      const f = frame();
      expect(f).toContain('5/6 established');
      expect(f).toContain('1 critical');
      expect(f).toContain('tor-1 5/6');
      for (const n of ['cp-1', 'worker-2'])
        expect(f).toMatch(new RegExp(`${n} +10\\.77\\.0\\.1 +tor-1 +(65001→65000 +)?established`));
      expect(f).toMatch(/✗ worker-3 +10\.77\.0\.1 +tor-1 +(65001→65000 +)?active/);
      // The AS column where there is room.
      if (columns >= 120) expect(f).toContain('65001→65000');
      fits();
      unmount();
    },
  );

  it('Enter: the session details with both sides and the routes the router received; Esc back', async () => {
    const { type, frame, fits, unmount } = await mount({ columns: 120, rows: 40 });
    await type('5', 'j', '\r');
    let f = frame();
    expect(f).toContain('cp-2 (10.77.0.12) ↔ tor-1 (10.77.0.1)');
    expect(f).toContain("Cilium's side (agent /v1/bgp/peers)");
    expect(f).toContain("The router's side (tor-1)");
    expect(f).toContain('Routes the router received from 10.77.0.12 (3)');
    for (const p of ['10.244.1.0/24', '10.77.100.10/32', '10.77.100.11/32']) expect(f).toContain(p);
    await type('\u001b');
    await new Promise((r) => setTimeout(r, 50));
    await settle();
    f = frame();
    expect(f).toContain('RCV/ACC/ADV');
    // Worst first puts the down session on top; Enter shows why.
    await type('s', 'g', '\r');
    f = frame();
    expect(f).toContain('worker-3 (10.77.0.23) ↔ tor-1 (10.77.0.1)');
    expect(f).toMatch(/session down \(Cilium active, router tor-1 Active\)/);
    fits();
    unmount();
  });

  it("Enter: the peer's kube configuration — PeerConfig, advertisements, Services — and the VIP disagreement", async () => {
    const { type, frame, fits, unmount, lastFrame } = await mount({ columns: 120, rows: 30 });
    // Worst first: worker-3 (down) on top, then worker-1 (its VIPs disagree).
    await type('5', 's', 'g', 'j');
    expect(frame()).toMatch(/worker-1 10\.77\.0\.1: LoadBalancer VIPs disagree/);
    await type('\r');
    let f = frame();
    expect(f).toContain('worker-1 (10.77.0.21) ↔ tor-1 (10.77.0.1)');
    // The finding, wrapped to the pane's width (not cut off).
    expect(f).toContain(
      "! LoadBalancer VIPs disagree with the selected Services' status.loadBalancer.ingress: not",
    );
    expect(f).toMatch(
      / {4}advertised: 10\.77\.100\.11\/32 \(shop\/web\); advertised but held by no selected Service:\n.* {4}10\.77\.100\.12\/32\n/,
    );
    // The configuration is at the end of the details: scroll there.
    await type('G');
    f = lastFrame() ?? '';
    expect(f).toContain(
      'Kube configuration (CiliumBGPNodeConfig worker-1 → CiliumBGPPeerConfig tor-1-peer)',
    );
    expect(f).toContain('timers       hold 90 s  keepalive 30 s  connect retry 120 s');
    expect(f).toContain('graceful restart on (120 s)');
    expect(f).toContain('auth         Secret tor-1-bgp-password (name only; never read)');
    expect(f).toContain('family ipv4/unicast  advertisements advertise=bgp');
    expect(f).toContain('pod-cidr[0]  PodCIDR');
    expect(f).toContain('lb-vips[0]  Service  LoadBalancerIP  selector bgp-announce=true');
    expect(f).toContain('→ ingress-nginx/ingress-nginx-controller, shop/web');
    expect(f).toContain('advertised 10.77.100.10/32, 10.77.100.12/32');
    expect(f).toContain('not advertised 10.77.100.11/32');
    expect(f).toContain('advertised, no selected Service 10.77.100.12/32');
    fits();
    unmount();
  });

  it('/ filters the sessions', async () => {
    const { type, frame, unmount } = await mount({ columns: 120, rows: 30 });
    await type('5', '/', ...'worker'.split(''), '\r');
    const f = frame();
    expect(f).toContain('worker-1');
    expect(f).not.toMatch(/cp-1 +10\.77/);
    unmount();
  });
});
