/**
 * rotateRequest: what the console's R hands to the job runner's confirm-and-start — the
 * JobSpec of `k8ops rotate NODE`, the plan in a few lines, the word to type; refused in
 * read-only mode and on the demo lab.
 */
import { describe, expect, it } from 'vitest';
import { actionByName } from '../../../src/actions/index.js';
import { rotateAction } from '../../../src/actions/rotate/prepare.js';
import { rotateRequest } from '../../../src/commands/rotate-run.js';
import { demoInventory } from '../../../src/demo/inventory.js';

const session = (over: Record<string, unknown> = {}) =>
  ({
    inventory: demoInventory(),
    hasKube: false,
    agents: new Map(),
    readOnly: false,
    mode: 'live',
    store: { get: () => ({}) },
    ...over,
  }) as unknown as Parameters<typeof rotateRequest>[0];

describe('rotateRequest', () => {
  it('builds the rotate JobSpec of a node with its plan for the confirmation', () => {
    const r = rotateRequest(session(), 'worker-1');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.request.confirmWord).toBe('worker-1');
    expect(r.request.spec.action).toBe('rotate');
    expect(r.request.spec.targets).toEqual(['worker-1']);
    expect(r.request.title).toBe('rotate worker-1 (2 certificates)');
    expect(r.request.summary).toEqual([
      '2 certificate(s) of worker-1, signed at cp-1: kubelet, kubelet-client',
      'kubelet.service: restart; gates: kubelet.service active; kubelet /healthz',
    ]);
    // The plan recorded for the audit log names every command, per host.
    const plan = r.request.spec.plan as { commands: { host: string; argv: string[] }[] };
    expect(plan.commands.some((c) => c.host === 'cp-1' && c.argv[0] === 'k8ops-pki-sign')).toBe(
      true,
    );
  });

  it('refuses in read-only mode, on the demo lab and for an unknown node', () => {
    expect(rotateRequest(session({ readOnly: true }), 'worker-1')).toEqual({
      ok: false,
      error: 'read-only: rotating is refused',
    });
    expect(rotateRequest(session({ mode: 'demo' }), 'worker-1').ok).toBe(false);
    const r = rotateRequest(session(), 'nope');
    expect(!r.ok && r.error).toMatch(/no node "nope" in the inventory/);
  });
});

describe('the console’s rotate action (R → typed confirmation → Jobs runner)', () => {
  const deps = (mode: 'live' | 'demo' = 'live') => ({
    inventory: demoInventory(),
    agents: new Map(),
    mode,
    hasKube: false,
  });

  it('prepares the same JobSpec and plan as k8ops rotate, confirmed by typing the node', async () => {
    const r = await rotateAction.prepare({ action: 'rotate', targets: ['worker-1'] }, deps());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.prepared.confirm).toBe('worker-1');
    expect(r.prepared.spec.title).toBe('rotate worker-1 (2 certificates)');
    expect(r.prepared.planText).toEqual([
      '2 certificate(s) of worker-1, signed at cp-1: kubelet, kubelet-client',
      'kubelet.service: restart; gates: kubelet.service active; kubelet /healthz',
    ]);
    expect(actionByName('rotate')).toBe(rotateAction);
  });

  it('refuses on the demo lab, for no or several nodes, and for an unknown node', async () => {
    const demo = await rotateAction.prepare(
      { action: 'rotate', targets: ['worker-1'] },
      deps('demo'),
    );
    expect(!demo.ok && demo.message).toMatch(/demo lab does not rotate/);
    const two = await rotateAction.prepare({ action: 'rotate', targets: ['cp-1', 'cp-2'] }, deps());
    expect(!two.ok && two.message).toBe('rotate takes exactly one node');
    const none = await rotateAction.prepare({ action: 'rotate', targets: ['nope'] }, deps());
    expect(!none.ok && none.message).toMatch(/no node "nope"/);
  });
});
