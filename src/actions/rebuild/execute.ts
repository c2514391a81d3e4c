/**
 * How one node's nixos-rebuild runs, shared by `k8ops rebuild` and the console's `B`: here
 * (run-local.ts: `--target-host`, NIX_SSHOPTS from the inventory) or on the node itself over
 * the console's SSH connection (NodeAgent.exec with live output). Both are bounded by the
 * same overall timeout (inventory `rebuild.timeout`, default 1 h): locally the process group
 * is killed, on the node the command's own deadline ends it; either way the run fails with
 * `timedOut` and the roll-out says so.
 */
import type { Inventory, NodeSpec } from '../../config/types.js';
import type { NodeAgent } from '../../nodes/agent.js';
import type { RebuildExecutor } from './job.js';
import {
  localRebuildCommand,
  nodeRebuildArgv,
  type RebuildAction,
  type RebuildRequest,
} from './plan.js';
import { runLocal } from './run-local.js';

/** The bound of one node's nixos-rebuild when the inventory sets none. */
export const DEFAULT_REBUILD_TIMEOUT_MS = 3_600_000;
/** Output kept of an on-node run (the live lines are streamed; this caps the buffer). */
const NODE_OUTPUT_CAP = 64 * 1024 * 1024;

export interface ExecutorOptions {
  inventory: Inventory;
  /** The action the nodes run (the request's, or dry-activate for a preview). */
  action: RebuildAction;
  request: Pick<RebuildRequest, 'rollback'>;
  agents: ReadonlyMap<string, NodeAgent>;
  /** The console's `--ssh-config`, passed on in NIX_SSHOPTS. */
  sshConfig?: string;
  /** Overall bound per node (default: the inventory's, else 1 h). */
  timeoutMs?: number;
}

export const rebuildTimeoutMs = (inv: Inventory, override?: number): number =>
  override ?? inv.rebuild?.timeoutMs ?? DEFAULT_REBUILD_TIMEOUT_MS;

/** Splits chunks into lines per stream (a chunk may end mid-line). */
function lineSplitter(onLine: (line: string) => void) {
  const partial = { stdout: '', stderr: '' };
  return {
    feed(chunk: string, stream: 'stdout' | 'stderr'): void {
      const lines = (partial[stream] + chunk).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    },
    end(): void {
      for (const k of ['stdout', 'stderr'] as const) {
        if (partial[k]) onLine(partial[k]);
        partial[k] = '';
      }
    },
  };
}

/** The executor the inventory asks for (`rebuild.runOn`). */
export function rebuildExecutor(o: ExecutorOptions): RebuildExecutor {
  const inv = o.inventory;
  const timeoutMs = rebuildTimeoutMs(inv, o.timeoutMs);
  const cmdOpts = { ...(o.sshConfig ? { sshConfig: o.sshConfig } : {}), ...o.request };
  if ((inv.rebuild?.runOn ?? 'local') === 'node')
    return async (n, onLine, signal) => {
      const agent = o.agents.get(n.name);
      if (!agent) throw new Error(`${n.name}: no connection to the node`);
      const split = lineSplitter(onLine);
      let streamed = false;
      try {
        const r = await agent.exec(nodeRebuildArgv(inv, n, o.action, o.request), {
          signal,
          timeoutMs,
          maxOutputBytes: NODE_OUTPUT_CAP,
          onOutput: (chunk, stream) => {
            streamed = true;
            split.feed(chunk, stream);
          },
        });
        if (streamed) split.end();
        else for (const l of `${r.stdout}${r.stderr}`.split('\n')) if (l) onLine(l);
        return { code: r.code };
      } catch (e) {
        split.end();
        if ((e as { kind?: string }).kind === 'timeout' && !signal.aborted)
          return { code: null, timedOut: true, timeoutMs };
        throw e;
      }
    };
  return async (n: NodeSpec, onLine, signal) => {
    const c = localRebuildCommand(inv, n, o.action, cmdOpts);
    const r = await runLocal(c.argv, { env: c.env, signal, onLine, timeoutMs });
    return r.timedOut ? { ...r, timeoutMs } : r;
  };
}
