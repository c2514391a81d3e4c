/**
 * The one "model from store" hook: a feature's pure model over the store's snapshots, at
 * the minute of the shared clock. Rebuilt only when a snapshot the feature reads changes
 * (or the minute does); a rebuild whose signature (what the pane shows) is unchanged keeps
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
  const subscribe = useCallback((l: () => void) => session.store.subscribe(l), [session]);
  const get = useCallback((): M | undefined => {
    if (!feature) return undefined;
    const { store, inventory } = session;
    const snaps: Snapshot<unknown>[] = [];
    for (const r of reads) {
      if (r.scope === 'cluster') snaps.push(store.get(CLUSTER_SCOPE, r.id));
      else for (const n of inventory.nodes) snaps.push(store.get(n.name, r.id));
    }
    const c = cache.current?.feature === feature ? cache.current : undefined;
    if (c && c.minute === minute && c.snaps.every((x, i) => x === snaps[i])) return c.value;
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
