/**
 * What the demo lab's nodes answer to NodeAgent.forwardSocket: one entry per unix socket a
 * feature dials on a node (`/var/run/cilium/cilium.sock`, `/var/run/cilium/hubble.sock`),
 * each a local listener speaking the real protocol with demo data. A feature adds its entry
 * here (one line) from its own file under src/demo/.
 */
import type { Inventory, NodeSpec } from '../config/types.js';
import type { LocalForward } from '../store/io.js';
import { demoHubbleSocket } from './flows.js';

export interface DemoSocketContext {
  inventory: Inventory;
  node: NodeSpec;
  labDir: string;
}

export interface DemoSocket {
  /** The node path it answers. */
  path: string;
  open(ctx: DemoSocketContext): Promise<LocalForward>;
}

/** Every demo socket; one line per feature. */
export const DEMO_SOCKETS: readonly DemoSocket[] = [demoHubbleSocket];

/** NodeAgent.forwardSocket for one demo node. */
export function demoForwardSocket(
  ctx: DemoSocketContext,
  sockets: readonly DemoSocket[] = DEMO_SOCKETS,
): (path: string) => Promise<LocalForward> {
  return async (path) => {
    const s = sockets.find((x) => x.path === path);
    if (!s)
      throw Object.assign(new Error(`${ctx.node.name}: ${path}: No such file or directory`), {
        kind: 'missing',
      });
    return s.open(ctx);
  };
}
