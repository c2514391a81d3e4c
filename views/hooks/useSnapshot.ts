import { useCallback, useSyncExternalStore } from 'react';
import type { Store } from '../../src/store/index.js';
import type { Snapshot, SourceId } from '../../src/store/types.js';

/** One snapshot; re-renders only when that snapshot object changes. */
export function useSnapshot<T>(store: Store, scope: string, source: SourceId): Snapshot<T> {
  const subscribe = useCallback((l: () => void) => store.subscribe(l), [store]);
  const get = useCallback(() => store.get<T>(scope, source), [store, scope, source]);
  return useSyncExternalStore(subscribe, get, get);
}

/** The store's version: re-renders on any change (for views that combine many snapshots). */
export function useStoreVersion(store: Store): number {
  const subscribe = useCallback((l: () => void) => store.subscribe(l), [store]);
  const get = useCallback(() => store.version(), [store]);
  return useSyncExternalStore(subscribe, get, get);
}
