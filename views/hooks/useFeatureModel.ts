/**
 * The one "model from store" hook: a feature's pure model over the store's snapshots, at
 * the minute of the shared clock. Rebuilt only when a snapshot the feature reads changes
 * (or the minute does), looked at on every store write — or, for a feature with
 * `drawEvery` (the flows), on the clock's ticks; a rebuild whose signature (what the pane shows) is unchanged keeps
 * the previous object, so nothing re-renders and Ink draws no frame: every frame costs
 * the whole screen. Without a feature (a placeholder pane) nothing is built.
 */
import { useCallback, useMemo, useRef, useSyncExternalStore } from 'react';
import { type FeatureDef, featureReads } from '../../src/features/types.js';
import type { Session } from '../../src/session/session.js';
import { CLUSTER_SCOPE, type Snapshot } from '../../src/store/types.js';
import { useNow } from './useClock.js';

interface Cached<M> {
  feature: FeatureDef<M>;
  snaps: Snapshot<unknown>[];
  minute: number;
  sig: string | undefined;
  value: M;
}

export function useFeatureModel<M>(
  session: Session,
  feature: FeatureDef<M> | undefined,
): M | undefined {
  const minute = useNow(session.clock, 'minute');
  const cache = useRef<Cached<M> | undefined>(undefined);
  const reads = useMemo(() => (feature ? featureReads(feature) : []), [feature]);
  const drawEvery = feature?.drawEvery;
  const subscribe = useCallback(
    (l: () => void) =>
      drawEvery ? session.clock.subscribe(drawEvery, l) : session.store.subscribe(l),
    [session, drawEvery],
  );
  const get = useCallback((): M | undefined => {
    if (!feature) return undefined;
    const { store, inventory } = session;
    const c = cache.current?.feature === feature ? cache.current : undefined;
    // React asks for the snapshot on every store notification (thousands while 200 nodes
    // answer their first refresh): compared in place, no array is made unless one changed
    // (issue 13: these arrays were the console's largest allocation at 200 nodes).
    if (c && c.minute === minute && sameSnaps(c.snaps, session, reads)) return c.value;
    const snaps = readSnaps(session, reads);
    const value = feature.model({
      inventory,
      read: (scope, source) => store.get(scope, source),
      now: minute,
      hasKube: session.hasKube,
    });
    const sig = feature.signature?.(value, minute);
    if (c && sig !== undefined && c.sig === sig) {
      cache.current = { ...c, snaps, minute };
      return c.value;
    }
    cache.current = { feature, snaps, minute, sig, value };
    return value;
  }, [session, feature, reads, minute]);
  return useSyncExternalStore(subscribe, get, get);
}

type Read = ReturnType<typeof featureReads>[number];

/** The snapshots a feature reads, in order: each cluster read, or one per node. */
function readSnaps(
  session: Pick<Session, 'store' | 'inventory'>,
  reads: readonly Read[],
): Snapshot<unknown>[] {
  const { store, inventory } = session;
  const snaps: Snapshot<unknown>[] = [];
  for (const r of reads) {
    if (r.scope === 'cluster') snaps.push(store.get(CLUSTER_SCOPE, r.id));
    else for (const n of inventory.nodes) snaps.push(store.get(n.name, r.id));
  }
  return snaps;
}

/** `readSnaps(session, reads)` would return the same snapshots as `snaps` (without making it). */
export function sameSnaps(
  snaps: readonly Snapshot<unknown>[],
  session: Pick<Session, 'store' | 'inventory'>,
  reads: readonly Read[],
): boolean {
  const { store, inventory } = session;
  let i = 0;
  for (const r of reads) {
    if (r.scope === 'cluster') {
      if (snaps[i++] !== store.get(CLUSTER_SCOPE, r.id)) return false;
    } else
      for (const n of inventory.nodes) if (snaps[i++] !== store.get(n.name, r.id)) return false;
  }
  return i === snaps.length;
}
