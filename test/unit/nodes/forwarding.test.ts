/** The wrapping agents forward every NodeAgent operation, so a new one is written once. */
import { describe, expect, it } from 'vitest';
import { NODE_OPS, type NodeAgent } from '../../../src/nodes/agent.js';
import { deferredNodeAgent } from '../../../src/nodes/deferred-agent.js';
import { FaultyNodeAgent } from '../../../src/nodes/faulty-agent.js';

const node = { name: 'n1', index: 0, host: 'n1', addresses: [], roles: ['worker' as const] };

/** An agent that answers every operation with its name and arguments. */
function recorder(): NodeAgent & { closed: number } {
  const a: Record<string, unknown> = { node, closed: 0 };
  for (const op of NODE_OPS) a[op] = async (...args: unknown[]) => ({ op, args });
  a.close = async () => {
    (a as { closed: number }).closed++;
  };
  return a as unknown as NodeAgent & { closed: number };
}

const call = (a: NodeAgent, op: (typeof NODE_OPS)[number], ...args: unknown[]) =>
  (a[op] as (...x: unknown[]) => Promise<unknown>)(...args);

describe('forwarding agents', () => {
  it('deferred: every operation reaches the agent once it is ready, with its arguments', async () => {
    const inner = recorder();
    const a = deferredNodeAgent(node, Promise.resolve(inner));
    for (const op of NODE_OPS)
      await expect(call(a, op, ['x'], { timeoutMs: 5 })).resolves.toEqual({
        op,
        args: [['x'], { timeoutMs: 5 }],
      });
    await a.close();
    expect(inner.closed).toBe(1);
  });

  it('deferred: a failed start rejects every call with its reason; an aborted call never waits', async () => {
    const a = deferredNodeAgent(node, Promise.reject(new Error('lab generation failed')));
    for (const op of NODE_OPS)
      await expect(call(a, op, ['x'])).rejects.toThrow('lab generation failed');
    const never = deferredNodeAgent(node, new Promise<NodeAgent>(() => {}));
    await expect(call(never, 'probe', { signal: AbortSignal.abort() })).rejects.toBeDefined();
    await expect(a.close()).resolves.toBeUndefined();
  });

  it('faults: every operation is forwarded, and refused while the node is unreachable', async () => {
    const f = new FaultyNodeAgent(recorder());
    for (const op of NODE_OPS) {
      if (op === 'unitStates') continue;
      await expect(call(f, op, 'arg')).resolves.toEqual({ op, args: ['arg'] });
    }
    f.setReachable(false);
    for (const op of NODE_OPS)
      await expect(call(f, op, 'arg')).rejects.toMatchObject({ kind: 'unreachable' });
  });
});
