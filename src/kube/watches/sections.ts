/**
 * Building snapshot sections: frozen, and rebuilt only when what they are made of changed,
 * so a section keeps its identity (and `bindKubeToStore` skips it) until then.
 */
import type { KubeErrorInfo, KubeSection } from '../types.js';
import type { ListWatchState } from '../watch.js';

export function freeze<T>(o: T): T {
  return Object.freeze(o);
}

/** The last value built, reused while every dependency is the same (`Object.is`). */
export class Memo<T> {
  #deps: readonly unknown[] | undefined;
  #value: T | undefined;

  get(deps: readonly unknown[], build: () => T): T {
    const m = this.#deps;
    if (m && m.length === deps.length && m.every((d, i) => Object.is(d, deps[i]))) {
      return this.#value as T;
    }
    const value = build();
    this.#deps = deps;
    this.#value = value;
    return value;
  }
}

export const byName = <T extends { name: string; namespace?: string }>(a: T, b: T): number =>
  (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);

/** One ListWatcher's state as a section: items sorted, the watch's error or else `noRoute`. */
export function listSection<T>(
  st: ListWatchState<T>,
  noRoute: KubeErrorInfo | undefined,
  sort: (a: T, b: T) => number,
): KubeSection<readonly T[]> {
  const s: {
    value?: readonly T[];
    error?: KubeErrorInfo;
    updatedAt?: number;
    synced: boolean;
    truncated?: boolean;
  } = { synced: st.synced };
  if (st.updatedAt !== undefined) {
    s.value = Object.freeze([...st.items.values()].sort(sort));
    s.updatedAt = st.updatedAt;
  }
  const error = st.error ?? noRoute;
  if (error) s.error = error;
  if (st.truncated) s.truncated = true;
  return Object.freeze(s);
}

export function withValue<T, V>(s: KubeSection<T>, value: V | undefined): KubeSection<V> {
  const { value: _drop, ...rest } = s;
  return Object.freeze(value === undefined ? rest : { ...rest, value });
}
