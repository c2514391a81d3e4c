/**
 * A NodeAgent whose real implementation becomes available later (the demo lab being
 * checked or generated, a connection pool being set up). Calls wait for it; if it fails,
 * every call rejects with that reason, which the store shows per node.
 */
import type { NodeSpec } from '../config/types.js';
import { forwardingAgent, type NodeAgent } from './agent.js';

export function deferredNodeAgent(node: NodeSpec, ready: Promise<NodeAgent>): NodeAgent {
  // Rejections surface through each call; never as an unhandled rejection.
  ready.catch(() => {});
  return forwardingAgent(
    node,
    async (_op, opts, call) => {
      opts?.signal?.throwIfAborted();
      return call(await ready);
    },
    async () => {
      const a = await ready.catch(() => undefined);
      await a?.close();
    },
  );
}
