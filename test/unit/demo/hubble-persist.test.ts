/**
 * The demo's hubble-relay and agents outlive a connection, as real ones do: a console that
 * stops following while its Flows pane is hidden and comes back finds the same ring and
 * counters (so `since` replays what it holds, and what it overwrote shows in seen_flows).
 */
import { describe, expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import { demoHubbleSocket, demoRelayTarget } from '../../../src/demo/flows.js';
import { ObserverClient } from '../../../src/features/flows/client.js';
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
