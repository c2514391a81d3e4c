import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  RefreshScheduler,
  type RefreshTask,
  Store,
  type TimerApi,
  toSourceError,
} from '../../../src/store/index.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A task whose runs are recorded (time + signal) and answered by `answer`. */
function recorder<T>(answer: (i: number, signal: AbortSignal) => Promise<T>) {
  const calls: { at: number; signal: AbortSignal }[] = [];
  const run = (signal: AbortSignal): Promise<T> => {
    calls.push({ at: Date.now(), signal });
    return answer(calls.length - 1, signal);
  };
  return { calls, run, times: () => calls.map((c) => c.at) };
}

function task<T>(over: Partial<RefreshTask<T>> & Pick<RefreshTask<T>, 'run'>): RefreshTask<T> {
  return { scope: 'cp1', source: 'certs', intervalMs: 1000, timeoutMs: 500, ...over };
}

let store: Store;
let sched: RefreshScheduler;

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  store = new Store();
  sched = new RefreshScheduler(store);
});

afterEach(async () => {
  await sched.stop();
  vi.useRealTimers();
});

describe('RefreshScheduler basics', () => {
  it('runs every task once at start, then at its interval', async () => {
    const a = recorder(async () => 'a');
    const b = recorder(async () => 'b');
    sched.add(task({ scope: 'cp1', run: a.run, intervalMs: 1000 }));
    sched.add(task({ scope: 'w1', run: b.run, intervalMs: 3000 }));
    expect(a.calls).toHaveLength(0);
    sched.start();
    expect(a.times()).toEqual([0]);
    expect(b.times()).toEqual([0]);
    expect(store.get('cp1', 'certs').loading).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get('cp1', 'certs')).toMatchObject({ value: 'a', stale: false, loading: false });
    await vi.advanceTimersByTimeAsync(6000);
    expect(a.times()).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000]);
    expect(b.times()).toEqual([0, 3000, 6000]);
    expect(sched.stats()).toEqual({ runs: 10, failures: 0, timeouts: 0, dropped: 0, inFlight: 0 });
  });

  it('a task added while started runs at once', async () => {
    sched.start();
    const a = recorder(async () => 1);
    sched.add(task({ run: a.run }));
    expect(a.times()).toEqual([0]);
  });

  it('refuses a second task for the same scope and source', () => {
    sched.add(task({ run: async () => 1 }));
    expect(() => sched.add(task({ run: async () => 2 }))).toThrow(/cp1\/certs already exists/);
  });

  it('records run errors as kind + one-line message without a stack', async () => {
    const err = Object.assign(
      new Error(`ssh: connect to host 10.0.0.5\nport 22: ${'x'.repeat(400)}`),
      {
        kind: 'unreachable',
      },
    );
    sched.add(task({ run: () => Promise.reject(err) }));
    sched.add(task({ source: 'reach', run: () => Promise.reject(new Error('plain')) }));
    sched.start();
    await vi.advanceTimersByTimeAsync(0);
    const e = store.get('cp1', 'certs').error!;
    expect(e.kind).toBe('unreachable');
    expect(e.message).not.toContain('\n');
    expect(e.message).not.toContain('at ');
    expect(e.message.startsWith('ssh: connect to host 10.0.0.5 port 22: xxx')).toBe(true);
    expect(e.message.length).toBeLessThanOrEqual(200);
    expect(e.message.endsWith('…')).toBe(true);
    expect(store.get('cp1', 'reach').error).toEqual({ kind: 'error', message: 'plain' });
    expect(sched.stats().failures).toBe(2);
  });

  it('a run that throws synchronously is a failure, not a crash', async () => {
    sched.add(
      task({
        run: () => {
          throw new Error('bad config');
        },
      }),
    );
    sched.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get('cp1', 'certs').error).toEqual({ kind: 'error', message: 'bad config' });
  });
});

describe('whenIdle', () => {
  it('waits for the runs in flight (including one that times out), then resolves', async () => {
    const d = deferred<string>();
    sched.add(task({ scope: 'cp1', run: () => d.promise, intervalMs: 60_000, timeoutMs: 5000 }));
    sched.add(
      task({
        scope: 'w1',
        run: () => new Promise<never>(() => {}),
        intervalMs: 60_000,
        timeoutMs: 3000,
      }),
    );
    await expect(sched.whenIdle()).resolves.toBeUndefined(); // nothing in flight yet
    sched.start();
    let idle = false;
    void sched.whenIdle().then(() => {
      idle = true;
    });
    d.resolve('v');
    await vi.advanceTimersByTimeAsync(2999);
    expect(idle).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(idle).toBe(true);
    expect(store.get('cp1', 'certs').value).toBe('v');
    expect(store.get('w1', 'certs').error?.kind).toBe('timeout');
  });
});

describe('in-flight de-duplication', () => {
  it('drops the tick that comes while a slow run is still going', async () => {
    const slow = deferred<string>();
    const r = recorder((i) => (i === 0 ? slow.promise : Promise.resolve('next')));
    sched.add(task({ run: r.run, intervalMs: 1000, timeoutMs: 10_000 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(1500); // tick at 1000 comes during the run
    expect(r.calls).toHaveLength(1);
    expect(sched.stats()).toMatchObject({ runs: 1, dropped: 1, inFlight: 1 });
    slow.resolve('slow');
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get('cp1', 'certs').value).toBe('slow');
    expect(sched.stats().inFlight).toBe(0);
    await vi.advanceTimersByTimeAsync(500); // tick at 2000 runs
    expect(r.times()).toEqual([0, 2000]);
    expect(sched.stats()).toMatchObject({ runs: 2, dropped: 1 });
  });

  it('drops a manual refresh during a run', async () => {
    const slow = deferred<string>();
    const r = recorder(() => slow.promise);
    sched.add(task({ run: r.run, intervalMs: 10_000, timeoutMs: 5000 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(100);
    const done = sched.refresh();
    expect(r.calls).toHaveLength(1);
    expect(sched.stats()).toMatchObject({ runs: 1, dropped: 1 });
    // The refresh promise waits for the run that was already going.
    let settled = false;
    void done.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    slow.resolve('v');
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(true);
  });
});

describe('timeouts', () => {
  it('a wait in a shared queue (prepare) is not timed out; the timeout starts after it', async () => {
    // The node's turn for a handshake slot comes after 20 × its timeout (others' handshakes).
    const turn = deferred<void>();
    const r = recorder(async () => 'read');
    let prepareSignal: AbortSignal | undefined;
    sched.add(
      task({
        run: r.run,
        intervalMs: 600_000,
        timeoutMs: 500,
        prepare: (signal) => {
          prepareSignal = signal;
          return turn.promise;
        },
      }),
    );
    sched.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(store.get('cp1', 'certs')).toMatchObject({ loading: true });
    expect(store.get('cp1', 'certs').error).toBeUndefined();
    expect(prepareSignal?.aborted).toBe(false);
    expect(r.calls).toHaveLength(0);
    expect(sched.stats()).toMatchObject({ timeouts: 0, inFlight: 1 });
    turn.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.times()).toEqual([10_000]);
    expect(store.get('cp1', 'certs')).toMatchObject({ value: 'read', loading: false });
    expect(sched.stats()).toMatchObject({ runs: 1, failures: 0, timeouts: 0 });
  });

  it('after prepare, the run has its whole timeout and no more', async () => {
    const turn = deferred<void>();
    const r = recorder(() => new Promise<never>(() => {}));
    sched.add(
      task({ run: r.run, intervalMs: 600_000, timeoutMs: 500, prepare: () => turn.promise }),
    );
    sched.start();
    await vi.advanceTimersByTimeAsync(3000);
    turn.resolve();
    await vi.advanceTimersByTimeAsync(499);
    expect(store.get('cp1', 'certs').loading).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.get('cp1', 'certs').error).toEqual({
      kind: 'timeout',
      message: 'no answer within 500ms',
    });
    expect(r.calls[0]?.signal.aborted).toBe(true);
  });

  it('a failed prepare (the node cannot be connected) is the run failure, run never called', async () => {
    const r = recorder(async () => 'read');
    sched.add(
      task({
        run: r.run,
        intervalMs: 600_000,
        prepare: () =>
          Promise.reject(
            Object.assign(new Error('connect timed out after 5000 ms'), { kind: 'timeout' }),
          ),
      }),
    );
    sched.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get('cp1', 'certs').error).toEqual({
      kind: 'timeout',
      message: 'connect timed out after 5000 ms',
    });
    expect(r.calls).toHaveLength(0);
    expect(sched.stats()).toMatchObject({ failures: 1, timeouts: 0 });
  });

  it('stop() during prepare aborts it and the run never starts', async () => {
    const turn = deferred<void>();
    const r = recorder(async () => 'read');
    let prepareSignal: AbortSignal | undefined;
    sched.add(
      task({
        run: r.run,
        prepare: (signal) => {
          prepareSignal = signal;
          return turn.promise;
        },
      }),
    );
    sched.start();
    await sched.stop();
    expect(prepareSignal?.aborted).toBe(true);
    turn.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls).toHaveLength(0);
  });

  it('records a timeout when the run never answers, and aborts its signal', async () => {
    const r = recorder(() => new Promise<never>(() => {}));
    sched.add(task({ run: r.run, intervalMs: 60_000, timeoutMs: 5000 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(4999);
    expect(store.get('cp1', 'certs').loading).toBe(true);
    expect(r.calls[0]?.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const s = store.get('cp1', 'certs');
    expect(s.error).toEqual({ kind: 'timeout', message: 'no answer within 5s' });
    expect(s).toMatchObject({ stale: true, loading: false, attemptedAt: 5000 });
    expect(r.calls[0]?.signal.aborted).toBe(true);
    expect((r.calls[0]!.signal.reason as DOMException).name).toBe('TimeoutError');
    expect(sched.stats()).toMatchObject({ runs: 1, failures: 1, timeouts: 1, inFlight: 0 });
  });

  it('ignores a late resolution of a timed-out run', async () => {
    const late = deferred<string>();
    const r = recorder((i) => (i === 0 ? late.promise : Promise.resolve('fresh')));
    sched.add(task({ run: r.run, intervalMs: 60_000, timeoutMs: 5000 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(5000); // timed out
    late.resolve('late');
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get('cp1', 'certs').value).toBeUndefined();
    expect(store.get('cp1', 'certs').error?.kind).toBe('timeout');

    await sched.refresh(); // a newer run succeeds…
    expect(store.get('cp1', 'certs').value).toBe('fresh');
    expect(store.get('cp1', 'certs').error).toBeUndefined();
  });

  it('a late settle never overwrites newer state', async () => {
    const late = deferred<string>();
    const r = recorder((i) => (i === 0 ? late.promise : Promise.resolve('fresh')));
    sched.add(task({ run: r.run, intervalMs: 60_000, timeoutMs: 5000 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(5000);
    await sched.refresh();
    const fresh = store.get('cp1', 'certs');
    expect(fresh.value).toBe('fresh');
    late.resolve('late');
    await vi.advanceTimersByTimeAsync(0);
    late.reject(new Error('late failure')); // no-op on a settled promise, but be explicit
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get('cp1', 'certs')).toBe(fresh);
    expect(sched.stats()).toMatchObject({ runs: 2, failures: 1 });
  });

  it('a late rejection of a timed-out run is ignored too', async () => {
    const late = deferred<string>();
    sched.add(task({ run: () => late.promise, intervalMs: 60_000, timeoutMs: 2000 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(2000);
    const timedOut = store.get('cp1', 'certs');
    late.reject(Object.assign(new Error('auth failed'), { kind: 'auth' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get('cp1', 'certs')).toBe(timedOut);
    expect(sched.stats().failures).toBe(1);
  });
});

describe('backoff', () => {
  it('waits base × 2^(n−1) after n failures (default base = interval, max = 8 × interval), resets on success', async () => {
    let failing = true;
    const r = recorder(() => (failing ? Promise.reject(new Error('down')) : Promise.resolve('up')));
    sched.add(task({ run: r.run, intervalMs: 1000, timeoutMs: 500 }));
    sched.start();
    // Failures at 0 (n=1), 1000 (n=2), 3000 (n=3), 7000 (n=4) → next at +1s, +2s, +4s, +8s.
    await vi.advanceTimersByTimeAsync(7000);
    expect(r.times()).toEqual([0, 1000, 3000, 7000]);
    await vi.advanceTimersByTimeAsync(7999);
    expect(r.times()).toEqual([0, 1000, 3000, 7000]);
    await vi.advanceTimersByTimeAsync(1); // 15000 = 7000 + 8000
    expect(r.times()).toEqual([0, 1000, 3000, 7000, 15000]);
    // n=5 is capped at max 8000.
    failing = false;
    await vi.advanceTimersByTimeAsync(8000);
    expect(r.times()).toEqual([0, 1000, 3000, 7000, 15000, 23000]);
    // Success → back to the interval.
    await vi.advanceTimersByTimeAsync(2000);
    expect(r.times()).toEqual([0, 1000, 3000, 7000, 15000, 23000, 24000, 25000]);
    expect(store.get('cp1', 'certs')).toMatchObject({ value: 'up', stale: false });
    // And a new failure starts again at base.
    failing = true;
    await vi.advanceTimersByTimeAsync(3000); // fail at 26000 → 27000 → 29000
    expect(r.times().slice(8)).toEqual([26000, 27000]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.times().slice(8)).toEqual([26000, 27000, 29000]);
  });

  it('honours an explicit backoff {baseMs, maxMs}', async () => {
    const r = recorder(() => Promise.reject(new Error('down')));
    sched.add(
      task({
        run: r.run,
        intervalMs: 10_000,
        timeoutMs: 100,
        backoff: { baseMs: 500, maxMs: 3000 },
      }),
    );
    sched.start();
    await vi.advanceTimersByTimeAsync(10_000);
    // Delays 500, 1000, 2000, 3000 (cap), 3000.
    expect(r.times()).toEqual([0, 500, 1500, 3500, 6500, 9500]);
  });

  it('measures the delay from the failure (a timeout)', async () => {
    const r = recorder(() => new Promise<never>(() => {}));
    sched.add(task({ run: r.run, intervalMs: 1000, timeoutMs: 400 }));
    sched.start();
    // Timeout at 400 (n=1) → 1400; timeout at 1800 (n=2) → 3800.
    await vi.advanceTimersByTimeAsync(4000);
    expect(r.times()).toEqual([0, 1400, 3800]);
    expect(sched.stats()).toMatchObject({ timeouts: 2, dropped: 0 });
  });

  it('refresh() bypasses the backoff wait and reschedules from now', async () => {
    let failing = true;
    const r = recorder(() => (failing ? Promise.reject(new Error('down')) : Promise.resolve('up')));
    sched.add(task({ run: r.run, intervalMs: 1000, timeoutMs: 500 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(3000); // failures at 0, 1000, 3000 → next at 7000
    expect(r.times()).toEqual([0, 1000, 3000]);
    await vi.advanceTimersByTimeAsync(1000);
    failing = false;
    await sched.refresh({ scope: 'cp1' });
    expect(r.times()).toEqual([0, 1000, 3000, 4000]);
    expect(store.get('cp1', 'certs').value).toBe('up');
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.times()).toEqual([0, 1000, 3000, 4000, 5000]);
  });

  it('refresh(filter) only runs matching tasks', async () => {
    const a = recorder(async () => 1);
    const b = recorder(async () => 2);
    sched.add(task({ scope: 'cp1', run: a.run, intervalMs: 60_000 }));
    sched.add(task({ scope: 'w1', run: b.run, intervalMs: 60_000 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(100);
    await sched.refresh({ scope: 'w1', source: 'certs' });
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(2);
  });
});

describe('staleness', () => {
  it('turns a snapshot stale after staleAfterMs without another refresh', async () => {
    sched.add(
      task({ run: async () => 'v', intervalMs: 10_000, timeoutMs: 1000, staleAfterMs: 2500 }),
    );
    sched.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.get('cp1', 'certs').stale).toBe(false);
    await vi.advanceTimersByTimeAsync(1000); // sweep at 3000: age 3000 > 2500
    expect(store.get('cp1', 'certs')).toMatchObject({ stale: true, value: 'v' });
    await vi.advanceTimersByTimeAsync(7000); // refreshed at 10000
    expect(store.get('cp1', 'certs')).toMatchObject({ stale: false, updatedAt: 10_000 });
  });

  it('defaults staleAfterMs to 3 × interval', async () => {
    // First run succeeds at 0; later runs hang (long timeout), so no refresh lands.
    const r = recorder((i) => (i === 0 ? Promise.resolve('v') : new Promise<never>(() => {})));
    sched.add(task({ run: r.run, intervalMs: 1000, timeoutMs: 60_000 }));
    expect(store.staleAfter('cp1', 'certs')).toBe(3000);
    sched.start();
    await vi.advanceTimersByTimeAsync(3000); // age 3000: not older than 3000
    expect(store.get('cp1', 'certs')).toMatchObject({ stale: false, loading: true });
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.get('cp1', 'certs')).toMatchObject({ stale: true, value: 'v' });
  });
});

describe('stop', () => {
  it('aborts in-flight runs, resolves promptly, and nothing runs afterwards', async () => {
    const r = recorder(() => new Promise<never>(() => {}));
    sched.add(task({ run: r.run, intervalMs: 1000, timeoutMs: 30_000 }));
    sched.add(task({ scope: 'w1', run: r.run, intervalMs: 1000, timeoutMs: 30_000 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(sched.stats().inFlight).toBe(2);
    const stopped = sched.stop();
    await expect(stopped).resolves.toBeUndefined();
    expect(r.calls.every((c) => c.signal.aborted)).toBe(true);
    expect(sched.stats().inFlight).toBe(0);
    const s = store.get('cp1', 'certs');
    expect(s.loading).toBe(false);
    expect(s.error).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(r.calls).toHaveLength(2);
    expect(store.get('cp1', 'certs')).toBe(s);
  });

  it('a run that settles after stop() is ignored', async () => {
    const d = deferred<string>();
    sched.add(task({ run: () => d.promise, intervalMs: 1000, timeoutMs: 5000 }));
    sched.start();
    await sched.stop();
    const s = store.get('cp1', 'certs');
    d.resolve('too late');
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get('cp1', 'certs')).toBe(s);
  });

  it('remove() cancels the task and its timers', async () => {
    const r = recorder(() => new Promise<never>(() => {}));
    const remove = sched.add(task({ run: r.run, intervalMs: 1000, timeoutMs: 5000 }));
    sched.start();
    remove();
    expect(r.calls[0]?.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.calls).toHaveLength(1);
    // Only the sweep timer is left.
    expect(vi.getTimerCount()).toBe(1);
  });

  it('unrefs every timer it creates', () => {
    const handles: { unref: ReturnType<typeof vi.fn> }[] = [];
    const timers: TimerApi = {
      setTimeout: () => {
        const h = { unref: vi.fn() };
        handles.push(h);
        return h;
      },
      clearTimeout: () => {},
    };
    const s = new RefreshScheduler(new Store(), { timers });
    s.add(task({ run: async () => 1 }));
    s.start();
    expect(handles.length).toBe(3); // run timeout, next tick, sweep
    expect(handles.every((h) => h.unref.mock.calls.length === 1)).toBe(true);
    void s.stop();
  });
});

describe('toSourceError', () => {
  it('takes kind from a string property, else "error"; strips control sequences', () => {
    expect(toSourceError(Object.assign(new Error('x'), { kind: 'hostkey' }))).toEqual({
      kind: 'hostkey',
      message: 'x',
    });
    expect(toSourceError({ kind: 42, message: 'm' })).toEqual({ kind: 'error', message: 'm' });
    expect(toSourceError('\x1b[31mred\x1b[0m\r\nline')).toEqual({
      kind: 'error',
      message: 'red line',
    });
    expect(toSourceError(undefined)).toEqual({ kind: 'error', message: 'unknown error' });
    expect(toSourceError(new TypeError(''))).toEqual({ kind: 'error', message: 'TypeError' });
  });
});

describe('RefreshScheduler initial delay', () => {
  it('a task with initialDelayMs first runs after the delay, then at its interval', async () => {
    const a = recorder(async () => 'a');
    const now = recorder(async () => 'now');
    sched.add(task({ scope: 'cp1', run: a.run, intervalMs: 1000, initialDelayMs: 500 }));
    sched.add(task({ scope: 'w1', run: now.run, intervalMs: 1000 }));
    sched.start();
    expect(now.times()).toEqual([0]);
    expect(a.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(499);
    expect(a.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.times()).toEqual([500]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(a.times()).toEqual([500, 1500]);
  });

  it('refresh() runs a delayed task at once and waits for it', async () => {
    const a = recorder(async () => 'a');
    sched.add(task({ run: a.run, initialDelayMs: 5000 }));
    sched.start();
    const done = sched.refresh();
    expect(a.times()).toEqual([0]);
    await done;
    expect(store.get('cp1', 'certs').value).toBe('a');
  });
});

describe("a run's timeout does not count k8ops' own busy time (issue 13)", () => {
  /** A scheduler on the fake clock whose event-loop lag clock the test moves. */
  function lagging() {
    let busy = 0;
    const s = new RefreshScheduler(store, { busyMs: () => busy });
    return { s, block: (ms: number) => (busy += ms) };
  }

  it('fake clock: a loop blocked for 2 s during the run extends its 5 s timeout; the answer that came meanwhile counts', async () => {
    const { s, block } = lagging();
    // The node answers at 5.2 s (its answer sat unread while k8ops was busy).
    const r = recorder(() => new Promise<string>((res) => setTimeout(() => res('read'), 5200)));
    s.add(task({ run: r.run, intervalMs: 60_000, timeoutMs: 5000 }));
    s.start();
    await vi.advanceTimersByTimeAsync(1000);
    block(2000); // the event loop ran 2 s late meanwhile (parsing 200 other nodes, say)
    await vi.advanceTimersByTimeAsync(4300);
    expect(store.get('cp1', 'certs')).toMatchObject({ value: 'read', loading: false });
    expect(store.get('cp1', 'certs').error).toBeUndefined();
    expect(s.stats()).toMatchObject({ timeouts: 0, failures: 0 });
    await s.stop();
  });

  it('fake clock: without lag it times out on time; a node that never answers still times out, after at most 3 × the timeout', async () => {
    const { s, block } = lagging();
    const never = recorder(() => new Promise<never>(() => {}));
    s.add(task({ scope: 'n1', run: never.run, intervalMs: 60_000, timeoutMs: 5000 }));
    s.start();
    await vi.advanceTimersByTimeAsync(4999);
    block(3); // noise: no extension
    await vi.advanceTimersByTimeAsync(1);
    expect(store.get('n1', 'certs').error).toEqual({
      kind: 'timeout',
      message: 'no answer within 5s',
    });
    // A process that never catches up (the lag keeps growing): capped at 3 × 5 s more.
    const hung = recorder(() => new Promise<never>(() => {}));
    s.add(task({ scope: 'n2', run: hung.run, intervalMs: 60_000, timeoutMs: 5000 }));
    const t0 = Date.now();
    for (let i = 0; i < 40; i++) {
      block(1000);
      await vi.advanceTimersByTimeAsync(500);
      if (store.get('n2', 'certs').error) break;
    }
    expect(store.get('n2', 'certs').error?.kind).toBe('timeout');
    expect(Date.now() - t0).toBe(20_000); // 5 s + the 15 s cap
    expect(hung.calls[0]?.signal.aborted).toBe(true);
    await s.stop();
  });

  it('real clock: a busy loop that blocks past the timeout does not time out a source whose answer is already there', async () => {
    await sched.stop();
    vi.useRealTimers();
    const st = new Store();
    const s = new RefreshScheduler(st, { sweepIntervalMs: 0 }); // the real lag clock
    const r = recorder(
      () => new Promise<string>((res) => setTimeout(() => res('answered at 150 ms'), 150)),
    );
    s.add(task({ run: r.run, intervalMs: 60_000, timeoutMs: 100 }));
    s.start();
    // Both the 100 ms timeout and the 150 ms answer come due while the loop is blocked;
    // timers then run in order: the timeout first. It must see the lag and wait.
    const end = performance.now() + 400;
    while (performance.now() < end) {
      // busy: no timer, no I/O callback runs
    }
    await s.refresh(); // the run in flight (the trigger is dropped): resolves when it settles
    expect(st.get('cp1', 'certs')).toMatchObject({ value: 'answered at 150 ms' });
    expect(s.stats()).toMatchObject({ timeouts: 0 });
    await s.stop();
  });
});

describe('retime: a task interval changed at runtime (issue 13)', () => {
  it('slowing down moves the next tick to the last tick + the new interval', async () => {
    const a = recorder(async () => 'a');
    sched.add(task({ run: a.run, intervalMs: 250 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(600); // ticks at 0, 250, 500
    expect(sched.retime({ source: 'certs' }, 1000)).toBe(1);
    expect(sched.intervalOf('cp1', 'certs')).toBe(1000);
    await vi.advanceTimersByTimeAsync(3000 - 600);
    // Not at 750 (the old tick is gone, not doubled), at 1500 (500 + 1000), then every 1000.
    expect(a.times()).toEqual([0, 250, 500, 1500, 2500]);
    expect(store.staleAfter('cp1', 'certs')).toBe(3000);
  });

  it('speeding up runs at once when the new interval has already passed, then at it', async () => {
    const a = recorder(async () => 'a');
    sched.add(task({ run: a.run, intervalMs: 1000 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(1400); // ticks at 0, 1000
    sched.retime({ source: 'certs' }, 250);
    await vi.advanceTimersByTimeAsync(0);
    expect(a.times()).toEqual([0, 1000, 1400]); // 1000 + 250 is past: now, not lost
    await vi.advanceTimersByTimeAsync(600);
    expect(a.times()).toEqual([0, 1000, 1400, 1650, 1900]);
    expect(store.staleAfter('cp1', 'certs')).toBe(750);
  });

  it('speeding up soon after a tick waits for the rest of the new interval', async () => {
    const a = recorder(async () => 'a');
    sched.add(task({ run: a.run, intervalMs: 1000 }));
    sched.start();
    await vi.advanceTimersByTimeAsync(1100);
    sched.retime({ source: 'certs' }, 250);
    await vi.advanceTimersByTimeAsync(149);
    expect(a.times()).toEqual([0, 1000]);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.times()).toEqual([0, 1000, 1250]);
  });

  it('the same interval again, another source or another scope changes nothing', async () => {
    const a = recorder(async () => 'a');
    const b = recorder(async () => 'b');
    sched.add(task({ run: a.run, intervalMs: 1000 }));
    sched.add(task({ scope: 'w1', run: b.run, intervalMs: 1000 }));
    sched.start();
    expect(sched.retime({ source: 'certs', scope: 'cp1' }, 1000)).toBe(0);
    expect(sched.retime({ source: 'reach' }, 100)).toBe(0);
    expect(sched.retime({ source: 'certs', scope: 'w1' }, 500)).toBe(1);
    await vi.advanceTimersByTimeAsync(2000);
    expect(a.times()).toEqual([0, 1000, 2000]);
    expect(b.times()).toEqual([0, 500, 1000, 1500, 2000]);
    expect(() => sched.retime({}, 0)).toThrow(RangeError);
  });

  it('a backoff wait is kept; the new interval applies after the next success', async () => {
    let fail = true;
    const a = recorder(async () => {
      if (fail) throw new Error('down');
      return 'up';
    });
    sched.add(task({ run: a.run, intervalMs: 1000, backoff: { baseMs: 5000 } }));
    sched.start();
    await vi.advanceTimersByTimeAsync(0); // failed at 0: next at 5000
    sched.retime({ source: 'certs' }, 250);
    fail = false;
    await vi.advanceTimersByTimeAsync(4999);
    expect(a.times()).toEqual([0]);
    await vi.advanceTimersByTimeAsync(501);
    expect(a.times()).toEqual([0, 5000, 5250, 5500]);
  });

  it('a retime while stopped takes effect at start; a run in flight is not doubled', async () => {
    const gate = deferred<string>();
    const a = recorder((i) => (i === 0 ? gate.promise : Promise.resolve('x')));
    sched.add(task({ run: a.run, intervalMs: 1000, timeoutMs: 10_000 }));
    sched.retime({ source: 'certs' }, 400);
    sched.start();
    await vi.advanceTimersByTimeAsync(500); // the 400 tick finds run 0 in flight: dropped
    sched.retime({ source: 'certs' }, 200); // 400 + 200 = 600
    expect(a.times()).toEqual([0]);
    gate.resolve('done');
    await vi.advanceTimersByTimeAsync(300);
    expect(a.times()).toEqual([0, 600, 800]);
    expect(sched.stats().dropped).toBe(1);
  });
});
