import { useCallback, useRef, useSyncExternalStore } from 'react';
import { buildOverview, type Overview } from '../../src/model/overview.js';
import type { Session } from '../../src/session/session.js';
import { useNow } from './useClock.js';

/** What the Overview shows, with refresh times reduced to the minute the Age column shows. */
function signature(o: Overview, minute: number): string {
  return JSON.stringify([
    o.totals,
    o.rows.map((r) => ({
      ...r,
      lastRefresh:
        r.lastRefresh === undefined ? null : Math.floor((minute - r.lastRefresh) / 60_000),
    })),
  ]);
}

/**
 * The Overview model from the store. A refresh that changes nothing visible (same values,
 * only a newer timestamp) returns the previous object, so nothing re-renders and Ink draws
 * no frame: every frame costs the whole screen.
 */
export function useOverview(session: Session): Overview {
  const minute = useNow(session.clock, 'minute');
  const cache = useRef<
    { version: number; minute: number; sig: string; value: Overview } | undefined
  >(undefined);
  const subscribe = useCallback((l: () => void) => session.store.subscribe(l), [session]);
  const get = useCallback(() => {
    const version = session.store.version();
    const c = cache.current;
    if (c && c.version === version && c.minute === minute) return c.value;
    const value = buildOverview(session.inventory, (s, src) => session.store.get(s, src), minute, {
      hasKube: session.hasKube,
      renewBeforeMs: session.inventory.rotation.renewBeforeMs,
    });
    const sig = signature(value, minute);
    if (c && c.sig === sig) {
      cache.current = { ...c, version, minute };
      return c.value;
    }
    cache.current = { version, minute, sig, value };
    return value;
  }, [session, minute]);
  return useSyncExternalStore(subscribe, get, get);
}
