/**
 * useFeatureModel's snapshot comparison (issue 13): React asks for the model on every store
 * notification, and the hook compares what the feature reads in place (sameSnaps) instead
 * of making an array of every node's snapshots each time. It must still see every change:
 * a snapshot replaced, a node's snapshot appearing, the list of nodes growing.
 */
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/config/types.js';
import { Store } from '../../src/store/store.js';
import { CLUSTER_SCOPE, type Snapshot } from '../../src/store/types.js';
import { sameSnaps } from '../../views/hooks/useFeatureModel.js';

const reads = [
  { scope: 'node' as const, id: 'certs' },
  { scope: 'cluster' as const, id: 'kube' },
];

function setup(nodes: string[]) {
  const store = new Store({ schedule: () => {} });
  const inventory = { nodes: nodes.map((name) => ({ name })) } as unknown as Inventory;
  const snaps = (): Snapshot<unknown>[] => [
    ...inventory.nodes.map((n) => store.get(n.name, 'certs')),
    store.get(CLUSTER_SCOPE, 'kube'),
  ];
  return { store, inventory, session: { store, inventory }, snaps };
}

describe('sameSnaps (views/hooks/useFeatureModel.ts)', () => {
  it('true while nothing the feature reads changed, whatever else does', () => {
    const { store, session, snaps } = setup(['a', 'b']);
    store.succeed('a', 'certs', [1], 1);
    store.succeed(CLUSTER_SCOPE, 'kube', [], 1);
    const before = snaps();
    expect(sameSnaps(before, session, reads)).toBe(true);
    store.succeed('a', 'mtu-links', [2], 2); // not read by this feature
    store.succeed('c', 'certs', [3], 2); // not a node of the inventory
    expect(sameSnaps(before, session, reads)).toBe(true);
  });

  it('false when a node snapshot, the cluster snapshot or the node list changes', () => {
    const { store, inventory, session, snaps } = setup(['a', 'b']);
    let before = snaps();
    store.succeed('b', 'certs', [1], 1); // appears (was the shared empty snapshot)
    expect(sameSnaps(before, session, reads)).toBe(false);
    before = snaps();
    store.begin('b', 'certs', 2); // loading
    expect(sameSnaps(before, session, reads)).toBe(false);
    before = snaps();
    store.fail(CLUSTER_SCOPE, 'kube', { kind: 'timeout', message: 't' }, 3);
    expect(sameSnaps(before, session, reads)).toBe(false);
    before = snaps();
    (inventory.nodes as unknown[]).push({ name: 'c' });
    expect(sameSnaps(before, session, reads)).toBe(false);
    expect(sameSnaps(snaps(), session, reads)).toBe(true);
    (inventory.nodes as unknown[]).pop();
    expect(sameSnaps(snaps().slice(0, 2), session, reads)).toBe(false);
  });
});
