/**
 * Store: cluster state as one snapshot per (scope × source).
 *
 * Snapshots are immutable (frozen) and keep their object identity until something in
 * them changes, so `get()` can be the `getSnapshot` of React's `useSyncExternalStore`.
 * Listeners are notified coalesced: any number of changes made in one synchronous run
 * produce one notification (in a microtask by default); `flushSync()` delivers it now.
 */
import {
  type Scope,
  type Snapshot,
  type SourceError,
  type SourceId,
  snapshotKey,
} from './types.js';

export type Listener = () => void;

/** One snapshot with its coordinates, as listed by `Store.entries()`. */
export interface StoreEntry<T = unknown> {
  readonly scope: Scope;
  readonly source: SourceId;
  readonly snapshot: Snapshot<T>;
}

export interface StoreOptions {
  /**
   * How a pending notification is deferred. Default `queueMicrotask`: every change
   * made in the same synchronous run is delivered as one listener call.
   */
  schedule?: (flush: () => void) => void;
}

/** What `get()` returns for a (scope, source) that has no snapshot yet. Shared and frozen. */
export const EMPTY_SNAPSHOT: Snapshot<never> = Object.freeze({ stale: true, loading: false });

interface Slot {
  readonly scope: Scope;
  readonly source: SourceId;
  snapshot: Snapshot;
}

export class Store {
  readonly #slots = new Map<string, Slot>();
  /**
   * The same slots by scope, then source: `get()` looks a snapshot up without making a key
   * string (models read every node's snapshots on every store notification; issue 13).
   */
  readonly #byScope = new Map<Scope, Map<SourceId, Slot>>();
  readonly #listeners = new Set<Listener>();
  /** Stale thresholds: per source (key = source) and per snapshot (key = snapshotKey). */
  readonly #staleBySource = new Map<SourceId, number>();
  readonly #staleBySlot = new Map<string, number>();
  readonly #schedule: (flush: () => void) => void;
  #version = 0;
  #pending = false;
  #scopesCache: readonly Scope[] | undefined;
  readonly #entriesCache = new Map<SourceId, readonly StoreEntry[]>();

  constructor(opts: StoreOptions = {}) {
    this.#schedule = opts.schedule ?? ((flush) => queueMicrotask(flush));
  }

  // ---- reading -------------------------------------------------------------------------

  /**
   * The snapshot of `source` for `scope`. Same object until it changes; the shared
   * frozen `EMPTY_SNAPSHOT` (`{stale: true, loading: false}`) when there is none.
   */
  get<T = unknown>(scope: Scope, source: SourceId): Snapshot<T> {
    return (this.#byScope.get(scope)?.get(source)?.snapshot ?? EMPTY_SNAPSHOT) as Snapshot<T>;
  }

  /** Bound, so it can be handed to `useSyncExternalStore` as is. */
  readonly subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /** Increments on every change of any snapshot. Bound. */
  readonly version = (): number => this.#version;

  /** Every scope that has at least one snapshot, in order of first appearance. Same array until that set changes. */
  scopes(): readonly Scope[] {
    if (this.#scopesCache === undefined) {
      const seen = new Set<Scope>();
      for (const slot of this.#slots.values()) seen.add(slot.scope);
      this.#scopesCache = Object.freeze([...seen]);
    }
    return this.#scopesCache;
  }

  /**
   * All snapshots of one source across scopes (e.g. every node's `certs`), in order of
   * first appearance. Same array until one of them changes, is added or is removed.
   */
  entries<T = unknown>(source: SourceId): readonly StoreEntry<T>[] {
    let list = this.#entriesCache.get(source);
    if (list === undefined) {
      const out: StoreEntry[] = [];
      for (const slot of this.#slots.values()) {
        if (slot.source === source) {
          out.push(Object.freeze({ scope: slot.scope, source, snapshot: slot.snapshot }));
        }
      }
      list = Object.freeze(out);
      this.#entriesCache.set(source, list);
    }
    return list as readonly StoreEntry<T>[];
  }

  // ---- mutations -----------------------------------------------------------------------

  /**
   * A refresh of (scope, source) started: `loading = true`. `attemptedAt` is set when the
   * attempt settles (`succeed`/`fail`); `_at` is accepted for symmetry with them.
   */
  begin(scope: Scope, source: SourceId, _at: number): void {
    const prev = this.get(scope, source);
    this.#commit(scope, source, { ...prev, loading: true });
  }

  /** A refresh succeeded: new value, `updatedAt = attemptedAt = at`, error cleared, not stale, not loading. */
  succeed<T>(scope: Scope, source: SourceId, value: T, at: number): void {
    const prev = this.get(scope, source);
    const next: Snapshot = {
      ...prev,
      value,
      updatedAt: at,
      attemptedAt: at,
      stale: false,
      loading: false,
    };
    delete next.error;
    this.#commit(scope, source, next);
  }

  /** A refresh failed: the last value and `updatedAt` are kept; error set, stale, not loading. */
  fail(scope: Scope, source: SourceId, error: SourceError, at: number): void {
    const prev = this.get(scope, source);
    this.#commit(scope, source, {
      ...prev,
      error: Object.freeze({ ...error }),
      attemptedAt: at,
      stale: true,
      loading: false,
    });
  }

  /**
   * An in-flight refresh was abandoned without a result (scheduler stopped, task
   * removed): `loading = false`, nothing else changes.
   */
  cancel(scope: Scope, source: SourceId): void {
    const slot = this.#byScope.get(scope)?.get(source);
    if (slot) this.#commit(scope, source, { ...slot.snapshot, loading: false });
  }

  /** Forget snapshots: one (scope, source), or every source of `scope`. */
  delete(scope: Scope, source?: SourceId): void {
    let changed = false;
    for (const [key, slot] of this.#slots) {
      if (slot.scope === scope && (source === undefined || slot.source === source)) {
        this.#slots.delete(key);
        const bySource = this.#byScope.get(scope);
        bySource?.delete(slot.source);
        if (bySource?.size === 0) this.#byScope.delete(scope);
        this.#entriesCache.delete(slot.source);
        changed = true;
      }
    }
    if (changed) {
      this.#scopesCache = undefined;
      this.#changed();
    }
  }

  /**
   * Age after which a snapshot of `source` is stale (checked by `sweep`). With `scope`,
   * only for that snapshot (overrides the per-source value). `undefined` removes it;
   * `Infinity` means never stale by age.
   */
  setStaleAfter(source: SourceId, ms: number | undefined, scope?: Scope): void {
    if (ms !== undefined && !(ms > 0)) {
      throw new RangeError(`setStaleAfter(${source}): ms must be > 0, got ${ms}`);
    }
    const map = scope === undefined ? this.#staleBySource : this.#staleBySlot;
    const key = scope === undefined ? source : snapshotKey(scope, source);
    if (ms === undefined) map.delete(key);
    else map.set(key, ms);
  }

  /** The stale threshold that applies to (scope, source), if any. */
  staleAfter(scope: Scope, source: SourceId): number | undefined {
    return this.#staleBySlot.get(snapshotKey(scope, source)) ?? this.#staleBySource.get(source);
  }

  /**
   * Recompute `stale` at `now`: stale when never updated, when the last attempt failed,
   * or when `now − updatedAt` exceeds the threshold. Notifies only if something changed.
   * Returns how many snapshots changed.
   */
  sweep(now: number): number {
    let changed = 0;
    for (const slot of [...this.#slots.values()]) {
      const s = slot.snapshot;
      const limit = this.staleAfter(slot.scope, slot.source);
      const stale =
        s.updatedAt === undefined ||
        s.error !== undefined ||
        (limit !== undefined && now - s.updatedAt > limit);
      if (stale !== s.stale && this.#commit(slot.scope, slot.source, { ...s, stale })) changed++;
    }
    return changed;
  }

  /** Deliver a pending notification now (tests; or before a synchronous render). */
  flushSync(): void {
    if (!this.#pending) return;
    this.#pending = false;
    const errors: unknown[] = [];
    for (const listener of [...this.#listeners]) {
      // A listener unsubscribed by an earlier one in this round is not called.
      if (!this.#listeners.has(listener)) continue;
      try {
        listener();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'store listeners threw');
  }

  // ---- internals -----------------------------------------------------------------------

  /** Store `next` unless it equals the current snapshot field by field. Returns whether it changed. */
  #commit(scope: Scope, source: SourceId, next: Snapshot): boolean {
    const slot = this.#byScope.get(scope)?.get(source);
    if (slot && sameSnapshot(slot.snapshot, next)) return false;
    Object.freeze(next);
    if (slot) {
      slot.snapshot = next;
    } else {
      const created = { scope, source, snapshot: next };
      this.#slots.set(snapshotKey(scope, source), created);
      let bySource = this.#byScope.get(scope);
      if (bySource === undefined) {
        bySource = new Map();
        this.#byScope.set(scope, bySource);
      }
      bySource.set(source, created);
      this.#scopesCache = undefined;
    }
    this.#entriesCache.delete(source);
    this.#changed();
    return true;
  }

  #changed(): void {
    this.#version++;
    if (this.#pending) return;
    this.#pending = true;
    this.#schedule(() => this.flushSync());
  }
}

function sameError(a: SourceError | undefined, b: SourceError | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const ka = Object.keys(a) as (keyof SourceError)[];
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && Object.is(a[k], b[k]));
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  const ka = Object.keys(a) as (keyof Snapshot)[];
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (k === 'error' ? !sameError(a.error, b.error) : !Object.is(a[k], b[k])) return false;
  }
  return true;
}
