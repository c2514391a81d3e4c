/**
 * RefreshScheduler: runs each (scope, source) task at its interval and writes the
 * outcome into the Store.
 *
 * - Ticks are fixed-rate: a tick at t schedules the next at t + intervalMs.
 * - A trigger (tick or `refresh()`) that finds the task still running is dropped, not queued.
 * - Each run gets an AbortSignal; after `timeoutMs` it is aborted and recorded as a
 *   `timeout` failure at once. Whatever that run settles to later is ignored. A task's
 *   `prepare` (its wait in a queue shared with other tasks) runs before the timeout starts.
 * - The timeout does not count this process's own busy time (issue 13): when it comes due,
 *   it waits as much longer as the event loop ran late meanwhile (busy-clock.ts: at most
 *   3 × `timeoutMs` in all), as the transport's deadlines do. Under CPU load an answer that
 *   sits unread in a socket while k8ops parses 200 others is not a timed-out source.
 * - After n consecutive failures the next run is min(maxMs, baseMs × 2^(n−1)) after the
 *   failure; the first success returns to the interval.
 * - While started, `store.sweep(now)` runs every `sweepIntervalMs` so snapshots turn
 *   stale without another refresh.
 * - `retime()` changes a task's interval while it runs (issue 13: a source ticks fast only
 *   while a pane shows it): the next tick moves to the last tick + the new interval (at once
 *   if that is past), so a change neither loses nor doubles a tick. A backoff wait or an
 *   initial delay in progress is left as it is; the new interval applies after it.
 * Time and timers are injectable; every timer is `unref`'d and none is left after `stop()`.
 */
import { busyMs as eventLoopBusyMs, holdBusyClock } from './busy-clock.js';
import { visible } from './sanitise.js';
import type { Store } from './store.js';
import { trace } from './trace.js';
import { type Scope, type SourceError, type SourceId, snapshotKey } from './types.js';

export interface Backoff {
  /** Delay after the first consecutive failure. Default: the task's interval. */
  baseMs: number;
  /** Upper bound. Default: min(8 × interval, 2 min), but never below the interval. */
  maxMs: number;
}

export interface RefreshTask<T = unknown> {
  scope: Scope;
  source: SourceId;
  intervalMs: number;
  timeoutMs: number;
  /** Age after which the snapshot is stale. Default 3 × intervalMs. */
  staleAfterMs?: number;
  /**
   * Wait this long after start() before the first run (default 0: at once). For sources no
   * first screen shows, so they do not compete with the ones it does.
   */
  initialDelayMs?: number;
  backoff?: Partial<Backoff>;
  /**
   * A wait that is not the task's own work — its turn in a queue shared with other tasks
   * (the SSH pool's handshake slots, bounded by the connection's own connect timeout once
   * its turn comes) — run before `run`, outside `timeoutMs`: the timeout starts when it
   * resolves, so a task is never timed out while it waits for others. A rejection is the
   * run's failure. It gets the same signal (stop(), remove() abort it).
   */
  prepare?: (signal: AbortSignal) => Promise<void>;
  /** Fetch and parse. Must stop work when `signal` aborts (its result is ignored then anyway). */
  run: (signal: AbortSignal) => Promise<T>;
}

export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SchedulerOptions {
  /** Clock for `updatedAt`/`attemptedAt` and sweeps. Default `Date.now`. */
  now?: () => number;
  /** Default: the global `setTimeout`/`clearTimeout` (looked up at call time, so fake timers work). */
  timers?: TimerApi;
  /** Period of the staleness sweep while started. Default 1000; 0 disables it. */
  sweepIntervalMs?: number;
  /**
   * Milliseconds the event loop has run late so far (monotonic): a run's timeout is
   * extended by what it grew while the run was pending. Default: the process's event-loop
   * lag clock (busy-clock.ts), held while runs are in flight. Tests inject their own.
   */
  busyMs?: () => number;
}

export interface SchedulerStats {
  /** Runs started. */
  runs: number;
  /** Runs that failed (including timeouts). */
  failures: number;
  /** Runs aborted by their timeout. */
  timeouts: number;
  /** Triggers (ticks or refreshes) dropped because the task was still running. */
  dropped: number;
  /** Runs in flight now. */
  inFlight: number;
}

export interface RefreshFilter {
  scope?: Scope;
  source?: SourceId;
}

const MAX_MESSAGE = 200;
/** The most a run's timeout is extended for event-loop lag, as a multiple of it. */
const MAX_LAG_EXTENSION = 3;
/** Lag below this is noise, not a queue. */
const LAG_NOISE_MS = 5;
const MAX_KIND = 40;
const DEFAULT_MAX_BACKOFF = 120_000;

const globalTimers: TimerApi = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

interface Run {
  readonly controller: AbortController;
  timeout: unknown;
  /** busyMs() when the timeout was armed, and the extension granted so far. */
  busyAtStart: number;
  granted: number;
  readonly done: Promise<void>;
  readonly resolve: () => void;
}

interface TaskState {
  readonly task: RefreshTask;
  readonly key: string;
  readonly baseMs: number;
  readonly maxMs: number;
  /** The interval now (the task's, until `retime()`). */
  intervalMs: number;
  /** When the interval's clock last started (a tick, or a refresh); undefined before the first. */
  lastTickAt: number | undefined;
  /** Consecutive failures. */
  failures: number;
  tick: unknown;
  run: Run | undefined;
  removed: boolean;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: SourceError };

export class RefreshScheduler {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #timers: TimerApi;
  readonly #sweepMs: number;
  readonly #busyMs: () => number;
  /** Releases the event-loop lag clock (held while runs are in flight; default clock only). */
  #releaseBusy: (() => void) | undefined;
  readonly #useBusyClock: boolean;
  readonly #tasks = new Map<string, TaskState>();
  #started = false;
  #sweepTimer: unknown;
  #stats = { runs: 0, failures: 0, timeouts: 0, dropped: 0 };

  constructor(store: Store, opts: SchedulerOptions = {}) {
    this.#store = store;
    this.#now = opts.now ?? (() => Date.now());
    this.#timers = opts.timers ?? globalTimers;
    this.#sweepMs = opts.sweepIntervalMs ?? 1000;
    this.#useBusyClock = opts.busyMs === undefined;
    this.#busyMs = opts.busyMs ?? eventLoopBusyMs;
    if (!(this.#sweepMs >= 0)) throw new RangeError('sweepIntervalMs must be >= 0');
  }

  get started(): boolean {
    return this.#started;
  }

  /** Register a task; if started, it runs now. Returns its `remove()`. One task per (scope, source). */
  add<T>(task: RefreshTask<T>): () => void {
    const { scope, source, intervalMs, timeoutMs } = task;
    const label = `${scope}/${source}`;
    positive(intervalMs, `${label}: intervalMs`);
    positive(timeoutMs, `${label}: timeoutMs`);
    const staleAfterMs = task.staleAfterMs ?? 3 * intervalMs;
    positive(staleAfterMs, `${label}: staleAfterMs`, true);
    const baseMs = task.backoff?.baseMs ?? intervalMs;
    const maxMs =
      task.backoff?.maxMs ?? Math.max(intervalMs, Math.min(8 * intervalMs, DEFAULT_MAX_BACKOFF));
    positive(baseMs, `${label}: backoff.baseMs`);
    positive(maxMs, `${label}: backoff.maxMs`, true);

    const key = snapshotKey(scope, source);
    if (this.#tasks.has(key))
      throw new Error(`RefreshScheduler: a task for ${label} already exists`);
    const state: TaskState = {
      task: task as RefreshTask,
      key,
      baseMs,
      maxMs,
      intervalMs,
      lastTickAt: undefined,
      failures: 0,
      tick: undefined,
      run: undefined,
      removed: false,
    };
    this.#tasks.set(key, state);
    this.#store.setStaleAfter(source, staleAfterMs, scope);
    if (this.#started) this.#first(state);
    return () => this.#remove(state);
  }

  /** Run every task now, then at its interval. No-op if already started. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#store.sweep(this.#now());
    for (const state of this.#tasks.values()) {
      state.failures = 0;
      this.#first(state);
    }
    this.#armSweep();
  }

  /**
   * Clear every timer and abort in-flight runs (their snapshots stop loading; nothing is
   * recorded for them). Does not wait for aborted runs to settle.
   */
  stop(): Promise<void> {
    this.#started = false;
    this.#clear(this.#sweepTimer);
    this.#sweepTimer = undefined;
    for (const state of this.#tasks.values()) {
      this.#clear(state.tick);
      state.tick = undefined;
      this.#cancelRun(state, 'scheduler stopped');
    }
    return Promise.resolve();
  }

  /**
   * Run the matching tasks now (Ctrl-R), ignoring any backoff wait; their next tick is
   * rescheduled from now. A task still running is not started again (the trigger counts
   * as dropped). Works when stopped too (one-shot, nothing rescheduled). Resolves when
   * every matching task's current run has settled, timed out or been aborted.
   */
  refresh(filter: RefreshFilter = {}): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const state of [...this.#tasks.values()]) {
      if (filter.scope !== undefined && state.task.scope !== filter.scope) continue;
      if (filter.source !== undefined && state.task.source !== filter.source) continue;
      const running = state.run !== undefined;
      waits.push(this.#trigger(state));
      if (!running && this.#started) this.#tickFromNow(state);
    }
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * Change the interval of the matching tasks (a source shown or hidden). The next tick of a
   * task waiting for one is moved to its last tick + `intervalMs` (now if that has passed);
   * a task in a backoff wait or its initial delay keeps that wait. Unless the task set its
   * own `staleAfterMs`, its snapshot turns stale after 3 × the new interval. Returns how many
   * tasks changed.
   */
  retime(filter: RefreshFilter, intervalMs: number): number {
    positive(intervalMs, `retime(${filter.scope ?? '*'}/${filter.source ?? '*'}): intervalMs`);
    let changed = 0;
    for (const state of this.#tasks.values()) {
      if (filter.scope !== undefined && state.task.scope !== filter.scope) continue;
      if (filter.source !== undefined && state.task.source !== filter.source) continue;
      if (state.intervalMs === intervalMs) continue;
      state.intervalMs = intervalMs;
      changed++;
      if (state.task.staleAfterMs === undefined)
        this.#store.setStaleAfter(state.task.source, 3 * intervalMs, state.task.scope);
      // Only a plain interval wait moves: not a backoff, not an initial delay, not stopped.
      if (!this.#started || state.failures > 0 || state.lastTickAt === undefined) continue;
      if (state.tick === undefined) continue;
      const due = Math.max(0, state.lastTickAt + intervalMs - this.#now());
      this.#scheduleTick(state, due);
    }
    return changed;
  }

  /** The current interval of a task (undefined: no such task). */
  intervalOf(scope: Scope, source: SourceId): number | undefined {
    return this.#tasks.get(snapshotKey(scope, source))?.intervalMs;
  }

  /**
   * Resolves when every run in flight at the time of the call has settled, timed out or
   * been aborted (at once if none is). After `start()`, that is the first attempt of every
   * task, bounded by their timeouts — what a one-shot `--json` subcommand waits for.
   */
  whenIdle(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const state of this.#tasks.values()) if (state.run) waits.push(state.run.done);
    return Promise.all(waits).then(() => undefined);
  }

  stats(): SchedulerStats {
    let inFlight = 0;
    for (const state of this.#tasks.values()) if (state.run) inFlight++;
    return { ...this.#stats, inFlight };
  }

  // ---- internals -----------------------------------------------------------------------

  /** The first run after start(): now, or after the task's initial delay. */
  #first(state: TaskState): void {
    const delay = state.task.initialDelayMs ?? 0;
    if (delay > 0) this.#scheduleTick(state, delay);
    else this.#kick(state);
  }

  /** Run now and tick at the interval from now. Trigger first so that a timeout due at the
   * same instant as the next tick fires before it (its failure then reschedules the tick). */
  #kick(state: TaskState): void {
    void this.#trigger(state);
    this.#tickFromNow(state);
  }

  /** Start the interval's clock now: the next tick is one interval away. */
  #tickFromNow(state: TaskState): void {
    state.lastTickAt = this.#now();
    this.#scheduleTick(state, state.intervalMs);
  }

  #onTick(state: TaskState): void {
    state.tick = undefined;
    if (!this.#started || state.removed) return;
    this.#kick(state);
  }

  #scheduleTick(state: TaskState, delayMs: number): void {
    this.#clear(state.tick);
    state.tick = this.#set(() => this.#onTick(state), delayMs);
  }

  #trigger(state: TaskState): Promise<void> {
    if (state.run) {
      this.#stats.dropped++;
      return state.run.done;
    }
    const { task } = state;
    let resolve!: () => void;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const run: Run = {
      controller: new AbortController(),
      timeout: undefined,
      busyAtStart: 0,
      granted: 0,
      done,
      resolve,
    };
    state.run = run;
    this.#holdBusy();
    this.#stats.runs++;
    this.#store.begin(task.scope, task.source, this.#now());
    trace('src:begin', { scope: task.scope, source: task.source });
    const signal = run.controller.signal;
    const work = (): Promise<unknown> => {
      // Superseded while preparing (timed out cannot happen: no timer yet; stop/remove).
      if (state.run !== run) return Promise.resolve(undefined);
      trace('src:run', { scope: task.scope, source: task.source });
      run.busyAtStart = this.#busyMs();
      run.timeout = this.#set(() => this.#onTimeout(state, run), task.timeoutMs);
      try {
        return Promise.resolve(task.run(signal));
      } catch (err) {
        return Promise.reject(err);
      }
    };
    let pending: Promise<unknown>;
    if (task.prepare) {
      let prepared: Promise<void>;
      try {
        prepared = Promise.resolve(task.prepare(signal));
      } catch (err) {
        prepared = Promise.reject(err);
      }
      pending = prepared.then(work);
    } else {
      pending = work();
    }
    pending.then(
      (value) => this.#settle(state, run, { ok: true, value }),
      (err) => this.#settle(state, run, { ok: false, error: toSourceError(err) }),
    );
    return done;
  }

  #onTimeout(state: TaskState, run: Run): void {
    if (state.run !== run) return;
    run.timeout = undefined;
    // The time this process spent too busy to take the answer is not the source's.
    const limit = MAX_LAG_EXTENSION * state.task.timeoutMs;
    const owed = Math.min(limit, this.#busyMs() - run.busyAtStart) - run.granted;
    if (owed > LAG_NOISE_MS) {
      run.granted += owed;
      run.timeout = this.#set(() => this.#onTimeout(state, run), owed);
      return;
    }
    const message = `no answer within ${formatMs(state.task.timeoutMs)}`;
    this.#stats.timeouts++;
    this.#settle(state, run, { ok: false, error: { kind: 'timeout', message } });
    run.controller.abort(new DOMException(message, 'TimeoutError'));
  }

  #settle(state: TaskState, run: Run, outcome: Outcome): void {
    // A run that timed out, was aborted by stop()/remove(), or was superseded: ignore.
    if (state.run !== run) return;
    this.#clear(run.timeout);
    state.run = undefined;
    this.#releaseBusyIfIdle();
    const { scope, source } = state.task;
    trace('src:end', { scope, source, ok: outcome.ok });
    const now = this.#now();
    if (outcome.ok) {
      state.failures = 0;
      this.#store.succeed(scope, source, outcome.value, now);
    } else {
      state.failures++;
      this.#stats.failures++;
      this.#store.fail(scope, source, outcome.error, now);
      if (this.#started && !state.removed) this.#scheduleTick(state, this.#backoffMs(state));
    }
    run.resolve();
  }

  #backoffMs(state: TaskState): number {
    const exponent = Math.min(state.failures - 1, 52);
    return Math.min(state.maxMs, state.baseMs * 2 ** exponent);
  }

  #cancelRun(state: TaskState, reason: string): void {
    const run = state.run;
    if (!run) return;
    this.#clear(run.timeout);
    state.run = undefined;
    this.#releaseBusyIfIdle();
    this.#store.cancel(state.task.scope, state.task.source);
    run.controller.abort(new DOMException(reason, 'AbortError'));
    run.resolve();
  }

  #remove(state: TaskState): void {
    if (state.removed) return;
    state.removed = true;
    this.#clear(state.tick);
    state.tick = undefined;
    this.#cancelRun(state, 'task removed');
    if (this.#tasks.get(state.key) === state) this.#tasks.delete(state.key);
  }

  /** The lag clock runs while any run is in flight (its heartbeat costs nothing otherwise). */
  #holdBusy(): void {
    if (this.#useBusyClock && !this.#releaseBusy) this.#releaseBusy = holdBusyClock();
  }

  #releaseBusyIfIdle(): void {
    if (!this.#releaseBusy) return;
    for (const s of this.#tasks.values()) if (s.run) return;
    this.#releaseBusy();
    this.#releaseBusy = undefined;
  }

  #armSweep(): void {
    if (this.#sweepMs === 0) return;
    this.#sweepTimer = this.#set(() => {
      this.#sweepTimer = undefined;
      if (!this.#started) return;
      this.#store.sweep(this.#now());
      this.#armSweep();
    }, this.#sweepMs);
  }

  #set(fn: () => void, ms: number): unknown {
    const handle = this.#timers.setTimeout(fn, ms);
    (handle as { unref?: () => void } | null)?.unref?.();
    return handle;
  }

  #clear(handle: unknown): void {
    if (handle !== undefined) this.#timers.clearTimeout(handle);
  }
}

function positive(ms: number, what: string, allowInfinity = false): void {
  if (!(ms > 0) || (!allowInfinity && !Number.isFinite(ms))) {
    throw new RangeError(`RefreshScheduler: ${what} must be a positive number, got ${ms}`);
  }
}

/** `5s`, `1.5s`, `250ms`, `2m`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  return `${Number((ms / 60_000).toFixed(1))}m`;
}

/**
 * A thrown value as a pane-ready SourceError: `kind` from a string `kind` property (else
 * `error`), `message` from `.message` on one line, control characters removed, at most
 * ~200 characters. Never a stack.
 */
export function toSourceError(err: unknown): SourceError {
  let kind = 'error';
  let message: string | undefined;
  if (typeof err === 'object' && err !== null) {
    const k = (err as { kind?: unknown }).kind;
    if (typeof k === 'string' && oneLine(k, MAX_KIND) !== '') kind = oneLine(k, MAX_KIND);
    const m = (err as { message?: unknown }).message;
    if (typeof m === 'string') message = m;
    if (!message && err instanceof Error) message = err.name;
  } else if (typeof err === 'string') {
    message = err;
  }
  return { kind, message: oneLine(message || 'unknown error', MAX_MESSAGE) || 'unknown error' };
}

/** Collapse to one printable line of at most `max` characters (with `…` when cut). */
export function oneLine(text: string, max: number): string {
  // Terminal sequences go, other controls become spaces; what is left (bidi) is made visible.
  const flat = visible(
    text
      .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '') // CSI sequences (colours, cursor moves)
      .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, '') // OSC sequences
      .replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
  if (flat.length <= max) return flat;
  let cut = max - 1;
  const code = flat.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--; // do not split a surrogate pair
  return `${flat.slice(0, cut).trimEnd()}…`;
}
