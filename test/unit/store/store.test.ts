import { describe, expect, it, vi } from 'vitest';
import { EMPTY_SNAPSHOT, Store } from '../../../src/store/index.js';

const NODES = ['cp1', 'cp2', 'cp3', 'w1', 'w2', 'w3'];

describe('Store.get identity', () => {
  it('returns the shared frozen empty snapshot when absent', () => {
    const store = new Store();
    const a = store.get('cp1', 'certs');
    expect(a).toBe(EMPTY_SNAPSHOT);
    expect(store.get('w1', 'reach')).toBe(a);
    expect(a).toEqual({ stale: true, loading: false });
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('keeps the same object until the snapshot changes, and a new one when it does', () => {
    const store = new Store();
    store.succeed('cp1', 'certs', { n: 1 }, 1000);
    const first = store.get('cp1', 'certs');
    expect(store.get('cp1', 'certs')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);

    // Another snapshot changing does not touch this one.
    store.succeed('cp2', 'certs', { n: 2 }, 1000);
    store.begin('cp1', 'reach', 1000);
    expect(store.get('cp1', 'certs')).toBe(first);

    store.begin('cp1', 'certs', 2000);
    const loading = store.get('cp1', 'certs');
    expect(loading).not.toBe(first);
    expect(loading.loading).toBe(true);
    expect(loading.value).toEqual({ n: 1 });

    // begin again while loading changes nothing.
    const v = store.version();
    store.begin('cp1', 'certs', 2100);
    expect(store.get('cp1', 'certs')).toBe(loading);
    expect(store.version()).toBe(v);
  });

  it('succeed with an equal value: same object only if nothing else changed', () => {
    const store = new Store();
    const value = { n: 1 };
    store.succeed('cp1', 'certs', value, 1000);
    const a = store.get('cp1', 'certs');
    const v = store.version();

    store.succeed('cp1', 'certs', value, 1000);
    expect(store.get('cp1', 'certs')).toBe(a);
    expect(store.version()).toBe(v);

    store.succeed('cp1', 'certs', value, 2000);
    const b = store.get('cp1', 'certs');
    expect(b).not.toBe(a);
    expect(b.value).toBe(value);
    expect(b.updatedAt).toBe(2000);
    expect(store.version()).toBe(v + 1);
  });
});

describe('Store notifications', () => {
  it('coalesces 6 updates into one listener call per flush', () => {
    const store = new Store();
    const listener = vi.fn();
    store.subscribe(listener);
    for (const node of NODES) store.succeed(node, 'reach', { ok: true }, 1000);
    expect(listener).not.toHaveBeenCalled();
    store.flushSync();
    expect(listener).toHaveBeenCalledTimes(1);
    store.flushSync();
    expect(listener).toHaveBeenCalledTimes(1);

    for (const node of NODES) store.begin(node, 'reach', 2000);
    store.flushSync();
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it('schedules one deferred flush per burst of changes', () => {
    const flushes: (() => void)[] = [];
    const store = new Store({ schedule: (f) => flushes.push(f) });
    const listener = vi.fn();
    store.subscribe(listener);
    for (const node of NODES) store.succeed(node, 'certs', [], 1);
    expect(flushes).toHaveLength(1);
    flushes[0]?.();
    expect(listener).toHaveBeenCalledTimes(1);
    for (const node of NODES) store.begin(node, 'certs', 2);
    expect(flushes).toHaveLength(2);
  });

  it('delivers once per microtask without flushSync', async () => {
    const store = new Store();
    const listener = vi.fn();
    store.subscribe(listener);
    for (const node of NODES) store.begin(node, 'certs', 1);
    await Promise.resolve();
    expect(listener).toHaveBeenCalledTimes(1);
    for (const node of NODES) store.succeed(node, 'certs', [], 2);
    await Promise.resolve();
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it('does not notify when nothing changed, and stops after unsubscribe', () => {
    const store = new Store();
    store.succeed('cp1', 'certs', 1, 1000);
    store.flushSync();
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    store.succeed('cp1', 'certs', 1, 1000); // identical
    store.flushSync();
    expect(listener).not.toHaveBeenCalled();
    unsubscribe();
    store.succeed('cp1', 'certs', 2, 2000);
    store.flushSync();
    expect(listener).not.toHaveBeenCalled();
  });

  it('calls every listener even if one throws, then rethrows', () => {
    const store = new Store();
    const good = vi.fn();
    store.subscribe(() => {
      throw new Error('boom');
    });
    store.subscribe(good);
    store.begin('cp1', 'certs', 1);
    expect(() => store.flushSync()).toThrow('boom');
    expect(good).toHaveBeenCalledTimes(1);
  });

  it('version increments on every change', () => {
    const store = new Store();
    const v0 = store.version();
    store.begin('cp1', 'certs', 1);
    store.succeed('cp1', 'certs', 'x', 2);
    store.fail('cp1', 'certs', { kind: 'timeout', message: 'no answer within 5s' }, 3);
    expect(store.version()).toBe(v0 + 3);
  });
});

describe('Store.fail', () => {
  it('keeps the last value and updatedAt, sets error and stale', () => {
    const store = new Store();
    store.succeed('w1', 'certs', ['leaf'], 1000);
    store.begin('w1', 'certs', 2000);
    store.fail('w1', 'certs', { kind: 'unreachable', message: 'connect ECONNREFUSED' }, 2500);
    const s = store.get<string[]>('w1', 'certs');
    expect(s.value).toEqual(['leaf']);
    expect(s.updatedAt).toBe(1000);
    expect(s.attemptedAt).toBe(2500);
    expect(s.error).toEqual({ kind: 'unreachable', message: 'connect ECONNREFUSED' });
    expect(s.stale).toBe(true);
    expect(s.loading).toBe(false);

    store.succeed('w1', 'certs', ['leaf2'], 3000);
    const ok = store.get<string[]>('w1', 'certs');
    expect(ok.error).toBeUndefined();
    expect('error' in ok).toBe(false);
    expect(ok.stale).toBe(false);
    expect(ok.value).toEqual(['leaf2']);
  });

  it('fail without any prior value is stale with an error and no value', () => {
    const store = new Store();
    store.fail('w2', 'reach', { kind: 'auth', message: 'all keys rejected' }, 10);
    const s = store.get('w2', 'reach');
    expect(s).toEqual({
      stale: true,
      loading: false,
      error: { kind: 'auth', message: 'all keys rejected' },
      attemptedAt: 10,
    });
  });

  it('repeating the same failure at the same time keeps identity', () => {
    const store = new Store();
    store.fail('w2', 'reach', { kind: 'auth', message: 'x' }, 10);
    const a = store.get('w2', 'reach');
    store.fail('w2', 'reach', { kind: 'auth', message: 'x' }, 10);
    expect(store.get('w2', 'reach')).toBe(a);
    store.fail('w2', 'reach', { kind: 'auth', message: 'y' }, 10);
    expect(store.get('w2', 'reach')).not.toBe(a);
  });
});

describe('Store.sweep', () => {
  it('marks a snapshot stale only once it is older than its threshold', () => {
    const store = new Store();
    store.setStaleAfter('certs', 1000);
    store.succeed('cp1', 'certs', 'v', 5000);
    store.succeed('cp1', 'reach', 'v', 5000); // no threshold: never stale by age
    store.flushSync();
    const listener = vi.fn();
    store.subscribe(listener);
    const fresh = store.get('cp1', 'certs');

    expect(store.sweep(6000)).toBe(0);
    store.flushSync();
    expect(store.get('cp1', 'certs')).toBe(fresh);
    expect(listener).not.toHaveBeenCalled();

    expect(store.sweep(6001)).toBe(1);
    store.flushSync();
    const stale = store.get('cp1', 'certs');
    expect(stale).not.toBe(fresh);
    expect(stale.stale).toBe(true);
    expect(stale.value).toBe('v');
    expect(store.get('cp1', 'reach').stale).toBe(false);
    expect(listener).toHaveBeenCalledTimes(1);

    // Sweeping again changes nothing.
    expect(store.sweep(9000)).toBe(0);
    store.flushSync();
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.get('cp1', 'certs')).toBe(stale);
  });

  it('a per-snapshot threshold overrides the per-source one', () => {
    const store = new Store();
    store.setStaleAfter('certs', 10_000);
    store.setStaleAfter('certs', 100, 'w1');
    store.succeed('w1', 'certs', 1, 0);
    store.succeed('w2', 'certs', 1, 0);
    store.sweep(500);
    expect(store.get('w1', 'certs').stale).toBe(true);
    expect(store.get('w2', 'certs').stale).toBe(false);
  });

  it('never clears stale for a failed snapshot', () => {
    const store = new Store();
    store.setStaleAfter('certs', 1000);
    store.succeed('w1', 'certs', 1, 0);
    store.fail('w1', 'certs', { kind: 'error', message: 'x' }, 10);
    store.sweep(20);
    expect(store.get('w1', 'certs').stale).toBe(true);
  });
});

describe('Store.scopes / entries', () => {
  it('lists snapshots of one source across scopes with stable identity', () => {
    const store = new Store();
    store.succeed('cp1', 'certs', 1, 0);
    store.succeed('cp2', 'certs', 2, 0);
    store.succeed('cluster', 'kube', 3, 0);
    const list = store.entries<number>('certs');
    expect(list.map((e) => [e.scope, e.snapshot.value])).toEqual([
      ['cp1', 1],
      ['cp2', 2],
    ]);
    expect(store.entries('certs')).toBe(list);
    expect(store.scopes()).toEqual(['cp1', 'cp2', 'cluster']);
    const scopes = store.scopes();

    // A change in another source leaves this list alone.
    store.succeed('cluster', 'kube', 4, 1);
    expect(store.entries('certs')).toBe(list);
    expect(store.scopes()).toBe(scopes);

    store.fail('cp2', 'certs', { kind: 'timeout', message: 't' }, 1);
    const next = store.entries('certs');
    expect(next).not.toBe(list);
    expect(next[1]?.snapshot.error?.kind).toBe('timeout');
    expect(next[0]?.snapshot).toBe(list[0]?.snapshot);

    store.delete('cp2');
    expect(store.scopes()).toEqual(['cp1', 'cluster']);
    expect(store.entries('certs').map((e) => e.scope)).toEqual(['cp1']);
    expect(store.get('cp2', 'certs')).toBe(EMPTY_SNAPSHOT);
  });

  it('get() finds every snapshot through deletes and re-adds (its index by scope and source)', () => {
    const store = new Store({ schedule: () => {} });
    store.succeed('n1', 'certs', 'c1', 1);
    store.succeed('n1', 'reach', 'r1', 1);
    store.succeed('n2', 'certs', 'c2', 1);
    store.delete('n1', 'certs');
    expect(store.get('n1', 'certs')).toBe(EMPTY_SNAPSHOT);
    expect(store.get('n1', 'reach').value).toBe('r1');
    expect(store.get('n2', 'certs').value).toBe('c2');
    store.delete('n1');
    expect(store.get('n1', 'reach')).toBe(EMPTY_SNAPSHOT);
    store.succeed('n1', 'certs', 'again', 2);
    expect(store.get('n1', 'certs').value).toBe('again');
    expect(store.entries('certs').map((e) => [e.scope, e.snapshot.value])).toEqual([
      ['n2', 'c2'],
      ['n1', 'again'],
    ]);
    // A scope or source whose name contains the key separator is not confused with another.
    store.succeed('a\u0000b', 'c', 'x', 3);
    expect(store.get('a', 'b\u0000c')).toBe(EMPTY_SNAPSHOT);
    store.cancel('n1', 'certs');
    expect(store.get('n1', 'certs').value).toBe('again');
  });
});
