import { useCallback, useSyncExternalStore } from 'react';
import type { Clock, Granularity } from '../../src/store/clock.js';

/** Time from the shared clock, floored to the granularity; re-renders once per second/minute. */
export function useNow(clock: Clock, granularity: Granularity): number {
  const subscribe = useCallback(
    (l: () => void) => clock.subscribe(granularity, l),
    [clock, granularity],
  );
  const get = useCallback(() => clock.now(granularity), [clock, granularity]);
  return useSyncExternalStore(subscribe, get, get);
}
