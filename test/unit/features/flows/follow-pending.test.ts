/**
 * A follower without `onFlow`/`onLost` (the console's) holds what arrives undecoded and
 * decodes it in one run when it is read, or when PENDING_MAX messages are held; with a
 * callback, each message is decoded as it comes. Against the Observer API stand-in (the
 * real gRPC protocol and proto; no Cilium agent here).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ObserverServer } from '../../../../src/demo/hubble-observer.js';
import { FlowAggregate } from '../../../../src/features/flows/aggregate.js';
import { socketEndpoint } from '../../../../src/features/flows/endpoint.js';
import { FlowFollower, PENDING_MAX } from '../../../../src/features/flows/follow.js';
import type { FlowRecord } from '../../../../src/features/flows/types.js';
import { labFlow } from '../../../helpers/hubble-flows.js';

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const NO_QUERY = { text: '', whitelist: [] };

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
  vi.restoreAllMocks();
});

async function setUp(opts: { onFlow?: (f: FlowRecord) => void } = {}) {
  const server = new ObserverServer({ nodeName: 'lab/n1' });
  const port = await server.listen('127.0.0.1:0');
  const dialer = {
    forwardSocket: async (path: string) => ({
      host: '127.0.0.1',
      port,
      address: `127.0.0.1:${port}`,
      target: `n1:${path}`,
      close: async () => {},
    }),
  };
  const f = new FlowFollower(socketEndpoint(dialer, '/var/run/cilium/hubble.sock'), NO_QUERY, {
    backlog: 0,
    ...opts,
  });
  cleanup.push(
    () => f.stop(),
    () => server.close(),
  );
  f.start();
  // `state` is a plain field: reading it decodes nothing.
  await until('the stream', () => server.followers === 1 && f.state === 'streaming');
  return { server, f };
}

describe('FlowFollower: decoding held until read', () => {
  it('holds what arrives undecoded until it is read, then decodes it in stream order', async () => {
    const added = vi.spyOn(FlowAggregate.prototype, 'add');
    const { server, f } = await setUp();
    const v0 = f.version;
    for (let i = 0; i < 100; i++) server.push(labFlow(i, { port: 8000 + i }));
    // `version` counts each message as it comes (the source's value changes with it).
    await until('100 messages', () => f.version >= v0 + 100);
    expect(added).toHaveBeenCalledTimes(0);

    expect(f.received).toBe(100);
    expect(added).toHaveBeenCalledTimes(100);
    expect(f.ring.newest(3).map((x) => x.dst.port)).toEqual([8099, 8098, 8097]);
    expect(f.agg.counts().total).toBe(100);
    // Read again: nothing decoded twice.
    expect(f.snapshot(10).received).toBe(100);
    expect(added).toHaveBeenCalledTimes(100);
  }, 30_000);

  it('decodes without a reader once PENDING_MAX messages are held', async () => {
    const added = vi.spyOn(FlowAggregate.prototype, 'add');
    const { server, f } = await setUp();
    const v0 = f.version;
    const n = PENDING_MAX + 44;
    for (let i = 0; i < n; i++) server.push(labFlow(i));
    await until(`${n} messages`, () => f.version >= v0 + n);
    expect(added).toHaveBeenCalledTimes(PENDING_MAX);
    expect(f.received).toBe(n);
    expect(added).toHaveBeenCalledTimes(n);
  }, 30_000);

  it('with onFlow (k8ops flows --follow), decodes each message as it comes', async () => {
    const seen: number[] = [];
    const { server, f } = await setUp({ onFlow: (x) => seen.push(x.dst.port) });
    for (let i = 0; i < 10; i++) server.push(labFlow(i, { port: 9000 + i }));
    await until('10 flows printed', () => seen.length === 10);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => 9000 + i));
    expect(f.received).toBe(10);
  }, 30_000);

  it('a new query counts what the old stream brought and nobody read, and drops its flows', async () => {
    const { server, f } = await setUp();
    const v0 = f.version;
    for (let i = 0; i < 20; i++) server.push(labFlow(i));
    await until('20 messages', () => f.version >= v0 + 20);
    f.setQuery({ text: 'verdict:DROPPED', whitelist: [{ verdict: [2] }] });
    expect(f.received).toBe(20);
    expect(f.ring.size).toBe(0);
    expect(f.agg.counts().total).toBe(0);
  }, 30_000);
});
