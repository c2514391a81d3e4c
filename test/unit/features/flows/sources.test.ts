/** The flows source: one stream per node while polled; stopped (tunnel closed) once not. */
import { describe, expect, it, vi } from 'vitest';
import type { Inventory, NodeSpec } from '../../../../src/config/types.js';
import { ObserverServer } from '../../../../src/demo/hubble-observer.js';
import { FlowAggregate } from '../../../../src/features/flows/aggregate.js';
import { NOT_FOLLOWED } from '../../../../src/features/flows/follow.js';
import {
  flowsRelaySource,
  flowsSource,
  hubbleSocket,
  SNAPSHOT_ROWS,
  SUSPEND_AFTER_MS,
} from '../../../../src/features/flows/sources.js';
import type { NodeAgent } from '../../../../src/nodes/agent.js';
import { visibleDeep } from '../../../../src/store/sanitise.js';
import { labFlow } from '../../../helpers/hubble-flows.js';

const node: NodeSpec = { name: 'n1', index: 0, host: 'n1', addresses: [], roles: ['worker'] };
const inv = (hubble?: Inventory['network']['hubble']) =>
  ({
    nodes: [node],
    network: { targetMtu: 9216, bgpRouters: [], ...(hubble ? { hubble } : {}) },
  }) as unknown as Inventory;

async function until(ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A node agent whose socket forwards go to the stand-in on `port` (each counted by `dialed`). */
const agentTo = (port: number, dialed?: () => void) =>
  ({
    node,
    forwardSocket: async (path: string) => {
      dialed?.();
      return {
        host: '127.0.0.1',
        port,
        address: `127.0.0.1:${port}`,
        target: `n1:${path}`,
        close: async () => {},
      };
    },
  }) as unknown as NodeAgent;

describe('flows source', () => {
  it('reads the inventory socket on each node; with a relay, the cluster source runs instead', () => {
    expect(hubbleSocket(inv({ kind: 'node-socket', socket: '/run/h.sock' }))).toBe('/run/h.sock');
    expect(hubbleSocket(inv())).toBe('/var/run/cilium/hubble.sock');
    const relay = inv({ kind: 'relay', address: 'hubble-relay.kube-system.svc:80' });
    expect(hubbleSocket(relay)).toBeUndefined();
    expect(flowsSource.enabled?.(relay)).toBe(false);
    expect(flowsRelaySource.enabled?.({ inventory: relay, kube: undefined })).toBe(true);
    expect(flowsSource.enabled?.(inv())).toBe(true);
    expect(flowsRelaySource.enabled?.({ inventory: inv(), kube: undefined })).toBe(false);
  });

  it('opens one tunnel per node while polled, and closes it once nobody polls', async () => {
    const dialed: string[] = [];
    let closed = 0;
    const agent = {
      node,
      forwardSocket: async (path: string) => {
        dialed.push(path);
        // Nothing listens there: the stream fails and retries while the lease holds.
        return {
          host: '127.0.0.1',
          port: 9,
          address: '127.0.0.1:9',
          target: `n1:${path}`,
          close: async () => {
            closed++;
          },
        };
      },
    } as unknown as NodeAgent;
    const ctx = { inventory: inv({ kind: 'node-socket', socket: '/run/h.sock' }), node, agent };
    const v = await flowsSource.collect(ctx, new AbortController().signal);
    expect(v.socket).toBe('/run/h.sock');
    await flowsSource.collect(ctx, new AbortController().signal);
    await until(() => dialed.length >= 1);
    expect(dialed[0]).toBe('/run/h.sock');
    // The stream fails (nothing listens) and retries with backoff while the lease holds.
    // Not polled any more: within the lease (3 s) and its check (1 s) it stops for good.
    await new Promise((r) => setTimeout(r, 6000));
    const after = dialed.length;
    expect(closed).toBe(after);
    await new Promise((r) => setTimeout(r, 3000));
    expect(dialed.length).toBe(after);
  }, 30_000);

  it('hidden (no pane shows it): fresh counters, the last rows and summaries, nothing sorted; shown again: a full snapshot', async () => {
    // Hubble's Observer API stand-in (the real gRPC protocol and proto; no Cilium agent here).
    const server = new ObserverServer({ nodeName: 'lab/n1' });
    const port = await server.listen('127.0.0.1:0');
    const agent = agentTo(port);
    let onScreen = true;
    const ctx = { inventory: inv(), node, agent, onScreen: () => onScreen };
    const collect = () => flowsSource.collect(ctx, new AbortController().signal);
    const talkers = vi.spyOn(FlowAggregate.prototype, 'topTalkers');
    try {
      let v = await collect();
      await until(() => server.followers === 1);
      for (let i = 0; i < 300; i++) server.push(labFlow(i, { port: 8000 + (i % 7) }));
      // Poll (shown) until every flow is in.
      const end = Date.now() + 15_000;
      while (v.received < 300 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
        v = await collect();
      }
      expect({ received: v.received, malformed: v.malformed, state: v.state }).toEqual({
        received: 300,
        malformed: 0,
        state: 'streaming',
      });
      // The console's ring holds what the pane shows, no more.
      expect(v.flows).toHaveLength(SNAPSHOT_ROWS);
      expect(v.talkers.length).toBeGreaterThan(0);
      // Made visible once: the session's visibleDeep returns it as is.
      expect(visibleDeep(v)).toBe(v);
      const full = v;

      onScreen = false;
      for (let i = 300; i < 350; i++) server.push(labFlow(i, { verdict: 'DROPPED' }));
      const sorts = talkers.mock.calls.length;
      let h = await collect();
      while (h.received < 350 && Date.now() < end + 15_000) {
        await new Promise((r) => setTimeout(r, 20));
        h = await collect();
      }
      expect(h.received).toBe(350);
      expect(h.counts.total).toBe(350);
      expect(h.counts.byVerdict.DROPPED).toBe(50);
      // No summary for a hidden pane: the last rows and summaries, as they were.
      expect(h.flows).toBe(full.flows);
      expect(h.talkers).toBe(full.talkers);
      expect(h.rate).toBe(full.rate);
      expect(talkers.mock.calls.length).toBe(sorts);

      onScreen = true;
      const back = await collect();
      expect(talkers.mock.calls.length).toBe(sorts + 1);
      expect(back.flows).not.toBe(full.flows);
      expect(back.flows[0]!.verdict).toBe('DROPPED');
      expect(back.rate.reduce((n, p) => n + p.dropped, 0)).toBe(50);
      expect(full.rate.reduce((n, p) => n + p.dropped, 0)).toBe(0);
    } finally {
      talkers.mockRestore();
      server.close();
    }
  }, 60_000);

  it('hidden for a while: stops following (no stream); shown again: follows from where it stopped, nothing counted twice, what Hubble’s ring lost reported', async () => {
    // Hubble's Observer API stand-in (the real gRPC protocol and proto), a small ring.
    const server = new ObserverServer({ nodeName: 'lab/n1', capacity: 100 });
    const port = await server.listen('127.0.0.1:0');
    let tunnels = 0;
    const agent = agentTo(port, () => tunnels++);
    let onScreen = true;
    const ctx = { inventory: inv(), node, agent, onScreen: () => onScreen };
    const collect = () => flowsSource.collect(ctx, new AbortController().signal);
    const poll = async (ok: (v: Awaited<ReturnType<typeof collect>>) => boolean, what: string) => {
      const end = Date.now() + 15_000;
      let v = await collect();
      while (!ok(v)) {
        if (Date.now() > end) throw new Error(`timed out: ${what}`);
        await new Promise((r) => setTimeout(r, 50));
        v = await collect();
      }
      return v;
    };
    // The scheduler polls a hidden source every HIDDEN_POLL_MS (which renews the lease).
    const hiddenFor = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        await collect();
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    try {
      await collect();
      await until(() => server.followers === 1);
      // 50 flows; the last three share one instant (picked up from, replayed, not re-counted).
      for (let i = 0; i < 47; i++) server.push(labFlow(i));
      for (let i = 47; i < 50; i++) server.push({ ...labFlow(i), time: labFlow(47).time });
      await poll((v) => v.received === 50 && v.server !== undefined, 'the first 50');

      onScreen = false;
      await hiddenFor(SUSPEND_AFTER_MS + 100);
      const h = await collect();
      expect(h.state).toBe('suspended');
      await until(() => server.followers === 0);
      // While nobody follows: 30 flows (the ring of 100 keeps them all).
      for (let i = 50; i < 80; i++) server.push(labFlow(i, { verdict: 'DROPPED' }));
      await new Promise((r) => setTimeout(r, 300));
      expect((await collect()).received).toBe(50);

      onScreen = true;
      let v = await poll((x) => x.received >= 80 && x.state === 'streaming', 'the replay');
      await new Promise((r) => setTimeout(r, 300));
      v = await collect();
      // Picked up `since` the newest flow held: its instant's three flows not counted twice.
      const since = server.requests.at(-1)!;
      expect(since.since).toEqual(labFlow(47).time);
      expect(since.number ?? 0).toBe(0);
      expect(v.received).toBe(80);
      expect(v.counts.total).toBe(80);
      expect(v.counts.byVerdict.DROPPED).toBe(30);
      expect(v.flows[0]!.src.pod).toBe('frontend-79');
      expect(v.lost).toEqual([]);
      expect(tunnels).toBe(2);

      // Hidden again; 300 flows pass while not followed: the ring (100) keeps the last 100.
      onScreen = false;
      await hiddenFor(SUSPEND_AFTER_MS + 100);
      await collect();
      await until(() => server.followers === 0);
      for (let i = 80; i < 380; i++) server.push(labFlow(i));
      onScreen = true;
      v = await poll((x) => x.received >= 180 && x.lost.length > 0, 'the replay and the gap');
      await new Promise((r) => setTimeout(r, 300));
      v = await collect();
      expect(v.received).toBe(180);
      expect(v.flows[0]!.src.pod).toBe('frontend-379');
      // 200 flows were overwritten in Hubble's ring before anybody read them: said so.
      expect(v.lost.map((l) => [l.source, l.count])).toEqual([[NOT_FOLLOWED, 200]]);
    } finally {
      server.close();
    }
  }, 60_000);
});
