/**
 * The demo's hubble-relay and agents outlive a connection, as real ones do: a console that
 * stops following while its Flows pane is hidden and comes back finds the same ring and
 * counters (so `since` replays what it holds, and what it overwrote shows in seen_flows).
 */
import { describe, expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import { demoHubbleSocket, demoRelayTarget, feed } from '../../../src/demo/flows.js';
import { ObserverClient } from '../../../src/features/flows/client.js';
import { decodeResponse } from '../../../src/features/flows/codec.js';
import type { ServerStatusRecord } from '../../../src/features/flows/types.js';

const nodes: NodeSpec[] = [0, 1].map((i) => ({
  name: `n${i}`,
  index: i,
  host: `n${i}`,
  addresses: [],
  roles: ['worker'],
}));
const inventory = { cluster: 'lab', nodes } as unknown as Inventory;

async function status(address: string): Promise<ServerStatusRecord> {
  const c = new ObserverClient(address);
  try {
    const s = await c.serverStatus(5000);
    if ('kind' in s) throw new Error(s.message);
    return s;
  } finally {
    c.close();
  }
}

describe('demo Hubble: one server per session, whichever connection reaches it', () => {
  it('relay (through either node) and an agent: counters go on across connections', async () => {
    for (const [open, ctx] of [
      [demoRelayTarget.open, { inventory, node: nodes[0]!, labDir: '' }],
      [demoHubbleSocket.open, { inventory, node: nodes[1]!, labDir: '' }],
    ] as const) {
      const a = await open(ctx);
      const first = await status(a.address);
      await a.close();
      await new Promise((r) => setTimeout(r, 400));
      // Again (for the relay: through the other node): the same server, still fed.
      const b = await open(ctx.node === nodes[0] ? { ...ctx, node: nodes[1]! } : ctx);
      const second = await status(b.address);
      await b.close();
      expect(second.seenFlows).toBeGreaterThan(first.seenFlows);
      expect(second.uptimeNs).toBeGreaterThan(first.uptimeNs);
    }
  });
});

describe('demo Hubble feed: paused while nobody follows, caught up as a real agent would be', () => {
  it('draws nothing paused; on resume counts every flow and holds the newest the ring keeps', async () => {
    const [{ ObserverServer }, proto] = await Promise.all([
      import('../../../src/demo/hubble-observer.js'),
      import('../../../src/demo/hubble-proto.js'),
    ]);
    const capacity = 50;
    const server = new ObserverServer({ capacity, relay: { nodes: ['lab/n0', 'lab/n1'] } });
    const f = feed(
      proto,
      server,
      [
        { name: 'lab/n0', index: 0 },
        { name: 'lab/n1', index: 1 },
      ],
      capacity,
    );
    const listener = await server.open('127.0.0.1:0');
    try {
      f.pause();
      const paused = server.seen;
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 600));
      expect(server.seen).toBe(paused);
      await new Promise((r) => setTimeout(r, 400));
      f.resume();
      const elapsed = Date.now() - t0;
      // 60 flows a second per node over the pause, two nodes (±1 per node for the carry).
      const expected = (elapsed * 60 * 2) / 1000;
      expect(server.seen - paused).toBeGreaterThanOrEqual(Math.floor(expected) - 4);
      expect(server.seen - paused).toBeLessThanOrEqual(Math.ceil(expected) + 4);
      const s = await status(`127.0.0.1:${listener.port}`);
      expect(s.numFlows).toBe(capacity);
      expect(s.seenFlows).toBe(server.seen);
      // The ring holds the newest flows: the last of the pause, not those before it.
      const c = new ObserverClient(`127.0.0.1:${listener.port}`);
      const times: number[] = [];
      try {
        await new Promise<void>((res, rej) => {
          c.getFlows(
            { number: capacity },
            {
              data: (b) => {
                const ev = decodeResponse(b);
                if (ev.kind === 'flow') times.push(ev.flow.timeMs);
              },
              end: (e) => (e ? rej(new Error(e.message)) : res()),
            },
          );
        });
      } finally {
        c.close();
      }
      expect(times.length).toBe(capacity);
      expect(Math.min(...times)).toBeGreaterThan(t0);
    } finally {
      f.stop();
      listener.close();
      server.close();
    }
  });
});
