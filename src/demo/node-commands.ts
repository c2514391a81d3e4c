/**
 * What the demo lab's nodes answer to NodeAgent.exec: one entry per node tool a feature
 * runs (`ip -j -d link show`, `gobgp`, `birdc`…), each answering with output shaped
 * exactly like the real tool's. A feature adds its entry here (one line) from its own
 * file under src/demo/. A command no entry matches exits 127, as a shell would.
 */
import type { Inventory, NodeSpec } from '../config/types.js';
import type { NodeExecOptions, NodeExecResult } from '../store/io.js';
import { gobgpCommand } from './bgp.js';
import { demoMtuCommands } from './mtu.js';
import { demoNginxCommands } from './nginx-cache.js';
import { demoRebuildCommands } from './rebuild.js';

export interface DemoCommandContext {
  inventory: Inventory;
  node: NodeSpec;
  /** The lab directory (demo/lab.ts). */
  labDir: string;
  /** Epoch ms. */
  now: number;
}

export interface DemoCommand {
  /** argv[0] it answers (the program name, without a path). */
  program: string;
  /** Whether it answers these arguments (default: every argv of `program`). */
  matches?(argv: readonly string[]): boolean;
  run(
    argv: readonly string[],
    ctx: DemoCommandContext,
    opts?: NodeExecOptions,
  ): NodeExecResult | Promise<NodeExecResult>;
}

/** Every demo command; one line per feature. */
export const DEMO_COMMANDS: readonly DemoCommand[] = [
  ...demoMtuCommands, // ip -j -d link show, ping -M do (src/demo/mtu.ts)
  gobgpCommand, // gobgp -j neighbor / global rib on the demo routers (src/demo/bgp.ts)
  ...demoRebuildCommands, // nixos-rebuild, etcdctl endpoint health (src/demo/rebuild.ts)
  ...demoNginxCommands, // nginx masters (grep of /proc), du of the proxy cache (src/demo/nginx-cache.ts)
];

/** NodeAgent.exec for one demo node. */
export function demoExec(
  ctx: Omit<DemoCommandContext, 'now'>,
  commands: readonly DemoCommand[] = DEMO_COMMANDS,
): (argv: readonly string[], opts?: NodeExecOptions) => Promise<NodeExecResult> {
  return async (argv, opts) => {
    const name = (argv[0] ?? '').split('/').pop() ?? '';
    const cmd = commands.find((c) => c.program === name && (c.matches?.(argv) ?? true));
    if (!cmd) return { stdout: '', stderr: `sh: 1: ${name}: not found\n`, code: 127 };
    return cmd.run(argv, { ...ctx, now: Date.now() }, opts);
  };
}
