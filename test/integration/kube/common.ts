/** Shared by the kube integration tests: fast timing, free ports, a plain TCP forward. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { KubeTiming } from '../../../src/kube/cluster-source.js';
import type { OpenForward } from '../../../src/kube/tunnel.js';

/** Short backoff and bounds, no coalescing delay. */
export const FAST: Partial<KubeTiming> = {
  watch: {
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    healthyAfterMs: 50,
    idleTimeoutMs: 4000,
    listTimeoutMs: 3000,
    connectTimeoutMs: 2000,
  },
  log: { backoffInitialMs: 20, backoffMaxMs: 200, connectTimeoutMs: 2000 },
  http: { connectTimeoutMs: 2000, requestTimeoutMs: 3000 },
  probeTimeoutMs: 1500,
  healthIntervalMs: 60_000,
  minProbeGapMs: 50,
  connectBackoffInitialMs: 50,
  connectBackoffMaxMs: 300,
  rediscoverMs: 100,
  coalesceMs: 0,
};

/** A port on 127.0.0.1 where nothing listens (just released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Stop listening and cut every connection. */
  close(): Promise<void>;
}

/** A plain TCP proxy 127.0.0.1:<random> → 127.0.0.1:targetPort (what an SSH forward does). */
export async function tcpProxy(targetPort: number): Promise<TcpProxy> {
  const socks = new Set<Socket>();
  const state = { accepted: 0 };
  const srv: Server = createServer((c) => {
    state.accepted++;
    const u = connect(targetPort, '127.0.0.1');
    socks.add(c);
    socks.add(u);
    c.on('close', () => socks.delete(c));
    u.on('close', () => socks.delete(u));
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.pipe(u).pipe(c);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  return {
    port,
    get accepted() {
      return state.accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of socks) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

/**
 * An OpenForward for tests: whatever host:port it is asked for, it forwards to the local
 * test server (as the SSH layer would reach the API server from the bastion).
 */
export function fakeForward(targetPort: () => number): OpenForward & {
  calls: Array<[string, number]>;
  proxies: TcpProxy[];
  fail?: Error;
} {
  const f = Object.assign(
    async (host: string, port: number) => {
      f.calls.push([host, port]);
      if (f.fail) throw f.fail;
      const p = await tcpProxy(targetPort());
      f.proxies.push(p);
      return { localPort: p.port, close: () => p.close() };
    },
    { calls: [] as Array<[string, number]>, proxies: [] as TcpProxy[] },
  ) as OpenForward & { calls: Array<[string, number]>; proxies: TcpProxy[]; fail?: Error };
  return f;
}
