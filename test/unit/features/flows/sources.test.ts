/** The flows source: one stream per node while polled; stopped (tunnel closed) once not. */
import { describe, expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../../../src/config/types.js';
import {
  flowsRelaySource,
  flowsSource,
  hubbleSocket,
} from '../../../../src/features/flows/sources.js';
import type { NodeAgent } from '../../../../src/nodes/agent.js';

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
});
