/**
 * ListWatcher: client-go's reflector in small. LIST (paginated) to get the objects and a
 * resourceVersion, then WATCH from it (`allowWatchBookmarks`, server-side
 * `timeoutSeconds`), applying ADDED/MODIFIED/DELETED and BOOKMARK. A dropped or timed-out
 * stream resumes from the last resourceVersion; `410 Gone` (an ERROR event or an HTTP
 * answer) means that version is compacted away, so it relists. Failures back off
 * exponentially with jitter up to a cap; the last good objects are kept meanwhile. Every
 * request has a timeout, the stream has an idle bound, and the object count and event
 * size are bounded.
 */
import {
  errorFromWatchStatus,
  isKubeError,
  type KubeError,
  KubeError as KubeErrorClass,
  type ResourceRef,
} from './errors.js';
import { type KubeHttp, withQuery } from './http.js';
import { meta, objectKey } from './parse/meta.js';
import { backoffMs, Sleeper } from './timers.js';
import type { KubeErrorInfo } from './types.js';

export interface WatchTiming {
  /** LIST request bound (each page). */
  listTimeoutMs: number;
  /** WATCH connect + headers bound. */
  connectTimeoutMs: number;
  /** No bytes (events or bookmarks) for this long: the stream is presumed dead. */
  idleTimeoutMs: number;
  /** Server-side watch duration, randomised in [min, 2·min) like client-go. */
  watchTimeoutSeconds: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A watch that lasted this long (or delivered an event) resets the backoff. */
  healthyAfterMs: number;
  pageSize: number;
}

export interface WatchLimits {
  maxItems: number;
  maxEventBytes: number;
}

export const DEFAULT_WATCH_TIMING: WatchTiming = {
  listTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 5 * 60_000 + 60_000,
  watchTimeoutSeconds: 300,
  backoffInitialMs: 800,
  backoffMaxMs: 30_000,
  healthyAfterMs: 5_000,
  pageSize: 500,
};

export const DEFAULT_WATCH_LIMITS: WatchLimits = {
  maxItems: 5000,
  maxEventBytes: 4 * 1024 * 1024,
};

export interface ListWatchSpec<T> {
  /** Collection path, e.g. `/api/v1/namespaces/kube-system/pods`. */
  path: string;
  /** For messages (verb filled in per request). */
  ref: Omit<ResourceRef, 'verb'>;
  labelSelector?: string;
  fieldSelector?: string;
  /** Object → value; `undefined` skips the object. */
  map(obj: unknown): T | undefined;
}

export interface ListWatchState<T> {
  readonly items: ReadonlyMap<string, T>;
  readonly synced: boolean;
  readonly error?: KubeErrorInfo;
  readonly errorKind?: string;
  readonly updatedAt?: number;
  readonly truncated: boolean;
  readonly resourceVersion?: string;
}

export interface ListWatchStats {
  lists: number;
  watches: number;
  /** Relists caused by 410 Gone. */
  expired: number;
  events: number;
  bookmarks: number;
}

export interface ListWatcherOptions<T> {
  spec: ListWatchSpec<T>;
  /** The transport to use now (changes when the route switches); undefined = not connected yet. */
  http: () => KubeHttp | undefined;
  timing?: Partial<WatchTiming>;
  limits?: Partial<WatchLimits>;
  onChange: () => void;
  /** Network-level failure (unreachable / timeout / tls): lets the source re-check the route. */
  onTransportError?: (err: KubeError) => void;
  /** Stop the loop on this error (e.g. 404: the CRD version went away). */
  stopOn?: (err: KubeError) => boolean;
  now?: () => number;
  random?: () => number;
}

const TRANSPORT_KINDS = new Set(['unreachable', 'timeout', 'tls']);

export class ListWatcher<T> {
  readonly #o: ListWatcherOptions<T>;
  readonly #t: WatchTiming;
  readonly #l: WatchLimits;
  readonly #now: () => number;
  readonly #random: () => number;
  #items = new Map<string, T>();
  #shared = false;
  #rv: string | undefined;
  #synced = false;
  #error: KubeError | undefined;
  #updatedAt: number | undefined;
  #truncated = false;
  #closed = false;
  #expiredStreak = 0;
  #ctl: AbortController | undefined;
  readonly #sleeper = new Sleeper();
  #loop: Promise<void> | undefined;
  #state: ListWatchState<T> | undefined;
  /** Set when the loop stopped because of `stopOn`. */
  stoppedBy: KubeError | undefined;
  readonly stats: ListWatchStats = { lists: 0, watches: 0, expired: 0, events: 0, bookmarks: 0 };

  constructor(opts: ListWatcherOptions<T>) {
    this.#o = opts;
    this.#t = { ...DEFAULT_WATCH_TIMING, ...opts.timing };
    this.#l = { ...DEFAULT_WATCH_LIMITS, ...opts.limits };
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
  }

  start(): void {
    this.#loop ??= this.#run().catch(() => undefined);
  }

  /** Resolves when the loop has exited (closed, or stopped by `stopOn`). */
  done(): Promise<void> {
    return this.#loop ?? Promise.resolve();
  }

  /** Drop the current connection and reconnect now (the route changed); keeps the resourceVersion. */
  reconnect(): void {
    this.#ctl?.abort(new KubeErrorClass({ kind: 'aborted', message: 'reconnecting' }));
    this.#sleeper.wake();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#ctl?.abort(new KubeErrorClass({ kind: 'closed', message: 'watch closed' }));
    this.#sleeper.close();
    await this.#loop;
  }

  state(): ListWatchState<T> {
    if (!this.#state) {
      const s: {
        items: ReadonlyMap<string, T>;
        synced: boolean;
        truncated: boolean;
        error?: KubeErrorInfo;
        errorKind?: string;
        updatedAt?: number;
        resourceVersion?: string;
      } = { items: this.#items, synced: this.#synced, truncated: this.#truncated };
      this.#shared = true;
      if (this.#error) {
        s.error = this.#error.toInfo();
        s.errorKind = this.#error.kind;
      }
      if (this.#updatedAt !== undefined) s.updatedAt = this.#updatedAt;
      if (this.#rv !== undefined) s.resourceVersion = this.#rv;
      this.#state = s;
    }
    return this.#state;
  }

  /** The item map, copied first if a state handed out earlier still holds it (copy-on-write). */
  #mutable(): Map<string, T> {
    if (this.#shared) {
      this.#items = new Map(this.#items);
      this.#shared = false;
    }
    return this.#items;
  }

  #changed(itemsChanged: boolean): void {
    if (itemsChanged) this.#updatedAt = this.#now();
    this.#state = undefined;
    this.#o.onChange();
  }

  #setError(err: KubeError | undefined): void {
    const same =
      err === this.#error ||
      (err !== undefined &&
        this.#error !== undefined &&
        err.message === this.#error.message &&
        err.kind === this.#error.kind);
    const wasSynced = this.#synced;
    this.#error = err;
    if (err) this.#synced = false;
    if (!same || wasSynced !== this.#synced) {
      this.#state = undefined;
      this.#o.onChange();
    }
  }

  #backoff(attempt: number): number {
    return backoffMs(attempt, this.#t.backoffInitialMs, this.#t.backoffMaxMs, this.#random);
  }

  #wait(ms: number): Promise<void> {
    return this.#sleeper.wait(ms);
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#closed) {
      const http = this.#o.http();
      if (!http) {
        await this.#wait(this.#t.backoffInitialMs);
        continue;
      }
      const ctl = new AbortController();
      this.#ctl = ctl;
      try {
        if (this.#rv === undefined) await this.#list(http, ctl.signal);
        const started = this.#now();
        const r = await this.#watch(http, ctl.signal);
        if (r.expired) {
          await this.#expired();
          continue;
        }
        const healthy = r.events > 0 || this.#now() - started >= this.#t.healthyAfterMs;
        if (healthy) this.#expiredStreak = 0;
        attempt = healthy ? 0 : attempt + 1;
        if (!healthy) await this.#wait(this.#backoff(attempt));
      } catch (e) {
        if (this.#closed) break;
        const err = isKubeError(e)
          ? e
          : new KubeErrorClass({
              kind: 'protocol',
              message: `watch ${this.#o.spec.ref.resource}: ${(e as Error).message}`,
            });
        if (err.kind === 'aborted' || err.kind === 'closed') {
          // reconnect(), or the transport was replaced: go again with the current one.
          if (err.kind === 'closed') await this.#wait(10);
          continue;
        }
        if (err.kind === 'gone') {
          await this.#expired();
          continue;
        }
        this.#setError(err);
        if (TRANSPORT_KINDS.has(err.kind)) this.#o.onTransportError?.(err);
        if (this.#o.stopOn?.(err)) {
          this.stoppedBy = err;
          break;
        }
        attempt++;
        await this.#wait(this.#backoff(attempt));
      } finally {
        if (this.#ctl === ctl) this.#ctl = undefined;
      }
    }
  }

  /** 410: relist at once; if it keeps happening without a healthy watch in between, back off. */
  async #expired(): Promise<void> {
    this.stats.expired++;
    this.#rv = undefined;
    this.#expiredStreak++;
    if (this.#expiredStreak > 1) await this.#wait(this.#backoff(this.#expiredStreak - 1));
  }

  async #list(http: KubeHttp, signal: AbortSignal): Promise<void> {
    const spec = this.#o.spec;
    const ref: ResourceRef = { ...spec.ref, verb: 'list' };
    const next = new Map<string, T>();
    let truncated = false;
    let cont: string | undefined;
    let rv: string | undefined;
    const maxPages = Math.ceil(this.#l.maxItems / this.#t.pageSize) + 1;
    this.stats.lists++;
    for (let page = 0; page < maxPages; page++) {
      const path = withQuery(spec.path, {
        labelSelector: spec.labelSelector,
        fieldSelector: spec.fieldSelector,
        limit: this.#t.pageSize,
        continue: cont,
      });
      const list = await http.getJson<{
        metadata?: { resourceVersion?: string; continue?: string };
        items?: unknown[];
      }>(path, ref, { signal, timeoutMs: this.#t.listTimeoutMs });
      rv = list.metadata?.resourceVersion ?? rv;
      for (const item of Array.isArray(list.items) ? list.items : []) {
        const key = objectKey(item);
        if (!key) continue;
        const v = spec.map(item);
        if (v === undefined) continue;
        if (next.size >= this.#l.maxItems && !next.has(key)) {
          truncated = true;
          continue;
        }
        next.set(key, v);
      }
      cont = list.metadata?.continue || undefined;
      if (cont && next.size >= this.#l.maxItems) truncated = true;
      if (!cont || truncated) break;
    }
    if (cont) truncated = true;
    if (!rv) {
      throw new KubeErrorClass({
        kind: 'protocol',
        ref,
        message: `list ${spec.ref.resource}: the answer has no metadata.resourceVersion`,
      });
    }
    this.#rv = rv;
    this.#items = next;
    this.#shared = false;
    this.#truncated = truncated;
    this.#updatedAt = this.#now();
    this.#error = undefined;
    this.#synced = true;
    this.#state = undefined;
    this.#o.onChange();
  }

  async #watch(http: KubeHttp, signal: AbortSignal): Promise<{ expired: boolean; events: number }> {
    const spec = this.#o.spec;
    const ref: ResourceRef = { ...spec.ref, verb: 'watch' };
    const timeoutSeconds = Math.floor(this.#t.watchTimeoutSeconds * (1 + this.#random()));
    const path = withQuery(spec.path, {
      labelSelector: spec.labelSelector,
      fieldSelector: spec.fieldSelector,
      watch: 1,
      allowWatchBookmarks: true,
      resourceVersion: this.#rv,
      timeoutSeconds,
    });
    let expired = false;
    let events = 0;
    let failure: KubeError | undefined;
    this.stats.watches++;
    await http.stream(path, ref, {
      signal,
      connectTimeoutMs: this.#t.connectTimeoutMs,
      idleTimeoutMs: this.#t.idleTimeoutMs,
      maxLineBytes: this.#l.maxEventBytes,
      oversize: 'error',
      onOpen: () => {
        if (this.#error || !this.#synced) {
          this.#error = undefined;
          this.#synced = true;
          this.#state = undefined;
          this.#o.onChange();
        }
      },
      onLine: (line) => {
        if (!line.trim()) return true;
        let ev: { type?: unknown; object?: unknown };
        try {
          ev = JSON.parse(line) as typeof ev;
        } catch {
          failure = new KubeErrorClass({
            kind: 'protocol',
            ref,
            message: `watch ${spec.ref.resource}: an event that is not JSON`,
          });
          return false;
        }
        const type = ev.type;
        const o = ev.object;
        if (type === 'ERROR') {
          const err = errorFromWatchStatus(o, ref);
          if (err.kind === 'gone') expired = true;
          else failure = err;
          return false;
        }
        const m = meta(o);
        if (type === 'BOOKMARK') {
          this.stats.bookmarks++;
          const rv = (o as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata
            ?.resourceVersion;
          if (typeof rv === 'string' && rv) {
            this.#rv = rv;
            this.#state = undefined;
          }
          return true;
        }
        if (!m) return true;
        events++;
        this.stats.events++;
        if (m.resourceVersion) {
          this.#rv = m.resourceVersion;
          this.#state = undefined;
        }
        const key = `${m.namespace ?? ''}/${m.name}`;
        if (type === 'DELETED') {
          if (this.#items.has(key)) {
            this.#mutable().delete(key);
            this.#changed(true);
          }
          return true;
        }
        if (type === 'ADDED' || type === 'MODIFIED') {
          const v = spec.map(o);
          if (v === undefined) {
            if (this.#items.has(key)) {
              this.#mutable().delete(key);
              this.#changed(true);
            }
            return true;
          }
          if (!this.#items.has(key) && this.#items.size >= this.#l.maxItems) {
            if (!this.#truncated) {
              this.#truncated = true;
              this.#changed(false);
            }
            return true;
          }
          this.#mutable().set(key, v);
          this.#changed(true);
        }
        return true;
      },
    });
    if (failure) throw failure;
    return { expired, events };
  }
}
