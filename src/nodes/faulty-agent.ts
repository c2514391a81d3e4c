/**
 * Demo faults as a wrapper around any NodeAgent: an unreachable node (every call rejects
 * with kind `unreachable`, as over SSH), a unit in another state, and simulated latency
 * that honours the call's AbortSignal. The wrapped agent knows nothing of them.
 */
import type { NodeSpec } from '../config/types.js';
import {
  type CallOptions,
  forwardingAgent,
  NODE_OPS,
  type NodeAgent,
  type UnitActiveState,
  type UnitState,
} from './agent.js';
import { FsAgentError, unitName } from './fs-agent.js';

export interface FaultOptions {
  /** Simulated latency added to every call, ms (default 0). */
  latencyMs?: number;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Resolve after `ms`, or reject as soon as `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError(signal!));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The operations, forwarded to the wrapped agent (assigned in the constructor from forwardingAgent). */
export interface FaultyNodeAgent extends Omit<NodeAgent, 'node' | 'close'> {}

/** The demo's faults over any agent; the fault switches are its own methods. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class FaultyNodeAgent implements NodeAgent {
  private reachable = true;
  private readonly unitOverrides = new Map<string, UnitActiveState>();
  private readonly latencyMs: number;

  constructor(
    readonly inner: NodeAgent,
    opts: FaultOptions = {},
  ) {
    this.latencyMs = opts.latencyMs ?? 0;
    const forwarded = forwardingAgent(
      inner.node,
      async (op, callOpts, call) => {
        await this.enter(callOpts);
        const out = await call(inner);
        return op === 'unitStates' ? this.overrideUnits(out as UnitState[]) : out;
      },
      () => inner.close(),
    );
    for (const op of NODE_OPS) (this as Record<string, unknown>)[op] = forwarded[op];
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  get node(): NodeSpec {
    return this.inner.node;
  }

  /** An unreachable node rejects every call with kind `unreachable`. */
  setReachable(reachable: boolean): void {
    this.reachable = reachable;
  }

  isReachable(): boolean {
    return this.reachable;
  }

  /** Set a unit's ActiveState (unit names with or without `.service`). */
  setUnitState(unit: string, state: UnitActiveState): void {
    this.unitOverrides.set(unitName(unit), state);
  }

  private overrideUnits(states: UnitState[]): UnitState[] {
    return states.map((s) => {
      const o = this.unitOverrides.get(unitName(s.unit));
      return o ? { ...s, state: o } : s;
    });
  }

  private async enter(opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted();
    if (!this.reachable) {
      const n = this.inner.node;
      throw new FsAgentError(
        'unreachable',
        `ssh ${n.name} via bastion: connect to host ${n.host} port 22: Connection timed out`,
      );
    }
    await pause(this.latencyMs, opts?.signal);
  }
}
