/**
 * Flows through real OpenSSH: the product's SshNodeAgent.forwardSocket tunnels to a unix
 * socket on the sshd test node, where a stand-in for Hubble (src/demo/hubble-observer.ts:
 * the Observer gRPC service with the real proto shape and the agent's filter semantics; no
 * Cilium agent can run here) answers GetFlows (streaming) and ServerStatus (unary).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/config/types.js';
import { ObserverServer } from '../../../src/demo/hubble-observer.js';
import { socketEndpoint } from '../../../src/features/flows/endpoint.js';
import { parseFlowQuery } from '../../../src/features/flows/filter.js';
import { FlowFollower } from '../../../src/features/flows/follow.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { labFlow } from '../../helpers/hubble-flows.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const node: NodeSpec = { name: 'node3', index: 0, host: 'node3', addresses: [], roles: ['worker'] };

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const query = (text: string) => {
  const r = parseFlowQuery(text);
  if (!r.ok) throw new Error(r.error);
  return r.query;
};

describeLab('Hubble flows through SSH streamlocal to a Hubble stand-in (Observer gRPC)', (lab) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(name: string, opts: ConstructorParameters<typeof ObserverServer>[0] = {}) {
    const l = lab();
    const sock = join(l.dir, `${name}.sock`);
    rmSync(sock, { force: true });
    const server = new ObserverServer({ nodeName: 'lab/node-1', ...opts });
    await server.listen(`unix:${sock}`);
    const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
    const agent = new SshNodeAgent(node, { pool });
    cleanups.push(async () => {
      server.close();
      await agent.close();
      await pool.close();
    });
    return { sock, server, agent };
  }

  it('GetFlows: the last N in order, then followed flows in order; ServerStatus ring fill', async () => {
    const { sock, server, agent } = await setup('order', { capacity: 1000 });
    for (let i = 0; i < 300; i++) server.push(labFlow(i));
    const f = new FlowFollower(socketEndpoint(agent, sock), query(''), {
      backlog: 50,
      capacity: 500,
      statusIntervalMs: 200,
    });
    cleanups.push(() => f.stop());
    f.start();
    await until('the backlog', () => f.received >= 50);
    expect(f.state).toBe('streaming');
    for (let i = 300; i < 400; i++) server.push(labFlow(i));
    await until('followed flows', () => f.received >= 150);
    const pods = f.ring
      .newest(1000)
      .map((x) => x.src.pod)
      .reverse();
    expect(pods).toEqual(Array.from({ length: 150 }, (_, k) => `frontend-${250 + k}`));
    const last = f.ring.newest(1)[0]!;
    expect(last).toMatchObject({
      node: 'lab/node-1',
      verdict: 'FORWARDED',
      l4: 'TCP',
      direction: 'EGRESS',
      info: 'SYN',
      dst: { namespace: 'shop', pod: 'api-5f6b7c-xk2lp', port: 8080, ip: '10.42.2.41' },
    });
    await until('ServerStatus after the pushes', () => f.server?.numFlows === 400);
    expect(f.server).toMatchObject({ maxFlows: 1000, numFlows: 400, seenFlows: 400 });
  });

  it('sends the pane filter server-side and receives only what matches', async () => {
    const { sock, server, agent } = await setup('filter');
    const f = new FlowFollower(
      socketEndpoint(agent, sock),
      query('verdict:DROPPED ns:shop port:8080'),
      {
        backlog: 0,
      },
    );
    cleanups.push(() => f.stop());
    f.start();
    await until('the stream', () => server.followers === 1);
    // number 0 is proto3's default: not on the wire.
    expect(server.requests.at(-1)).toEqual({
      follow: true,
      whitelist: [
        { source_pod: ['shop/'], source_port: ['8080'], verdict: [2] },
        { source_pod: ['shop/'], destination_port: ['8080'], verdict: [2] },
        { destination_pod: ['shop/'], source_port: ['8080'], verdict: [2] },
        { destination_pod: ['shop/'], destination_port: ['8080'], verdict: [2] },
      ],
    });
    server.push(labFlow(1, { verdict: 'DROPPED', ns: 'shop' }));
    server.push(labFlow(2, { verdict: 'FORWARDED', ns: 'shop' }));
    server.push(labFlow(3, { verdict: 'DROPPED', ns: 'kube-system' }));
    server.push(labFlow(4, { verdict: 'DROPPED', ns: 'shop', port: 9090 }));
    server.push(
      labFlow(5, { verdict: 'DROPPED', ns: 'shop', reason: 'SERVICE_BACKEND_NOT_FOUND' }),
    );
    await until('the two matching flows', () => f.received >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(f.ring.newest(10).map((x) => [x.src.pod, x.dropReason])).toEqual([
      ['frontend-5', 'SERVICE_BACKEND_NOT_FOUND'],
      ['frontend-1', 'POLICY_DENY'],
    ]);
    expect(f.agg.counts().dropsByReason).toEqual({ POLICY_DENY: 1, SERVICE_BACKEND_NOT_FOUND: 1 });
    // A new query restarts the stream with the new whitelist.
    f.setQuery(query('node:node-2'));
    await until('the new request', () => server.requests.length === 2 && server.followers === 1);
    expect(server.requests.at(-1)?.whitelist).toEqual([{ node_name: ['node-2'] }]);
  });

  it('LostEvents are counted and kept', async () => {
    const { sock, server, agent } = await setup('lost');
    const f = new FlowFollower(socketEndpoint(agent, sock), query(''), { backlog: 0 });
    cleanups.push(() => f.stop());
    f.start();
    await until('the stream', () => server.followers === 1);
    server.push(labFlow(1));
    server.pushLost(42, 'PERF_EVENT_RING_BUFFER', 3);
    server.push(labFlow(2));
    await until('the lost event and the flows', () => f.received === 2 && f.agg.lostTotal > 0);
    expect(f.agg.lostTotal).toBe(42);
    expect(f.agg.lost.newest(5)).toEqual([
      expect.objectContaining({
        source: 'PERF_EVENT_RING_BUFFER',
        count: 42,
        cpu: 3,
        node: 'lab/node-1',
      }),
    ]);
  });

  it('an error status from the server is shown sanitised, and the stream is retried', async () => {
    const { sock, server, agent } = await setup('status', { nodeName: 'lab/node-1' });
    const f = new FlowFollower(socketEndpoint(agent, sock), query(''), {
      backlog: 0,
      minBackoffMs: 100,
      maxBackoffMs: 200,
    });
    cleanups.push(() => f.stop());
    f.start();
    await until('the stream', () => server.followers === 1);
    server.failFollowers(2, 'invalid filter\u001b]0;pwned\u0007');
    await until('the error', () => f.error !== undefined);
    expect(f.error).toBe('hubble: invalid filter\\x1b]0;pwned\\x07');
    await until('the retry', () => server.requests.length >= 2 && f.state === 'streaming');
  });

  it('reconnects after the Hubble server restarts', async () => {
    const { sock, server, agent } = await setup('restart');
    const f = new FlowFollower(socketEndpoint(agent, sock), query('verdict:DROPPED'), {
      backlog: 0,
      minBackoffMs: 100,
      maxBackoffMs: 500,
    });
    cleanups.push(() => f.stop());
    f.start();
    await until('the stream', () => server.followers === 1);
    server.push(labFlow(1, { verdict: 'DROPPED' }));
    await until('a flow', () => f.received === 1);
    server.close();
    await until('the loss noticed', () => f.state === 'retrying');
    expect(f.error).toBeDefined();
    rmSync(sock, { force: true });
    const again = new ObserverServer({ nodeName: 'lab/node-1' });
    await again.listen(`unix:${sock}`);
    cleanups.push(() => again.close());
    await until('the reconnect', () => again.followers === 1 && f.state === 'streaming');
    expect(f.connects).toBe(2);
    expect(again.requests[0]?.whitelist).toEqual([{ verdict: [2] }]);
    again.push(labFlow(2, { verdict: 'DROPPED' }));
    await until('a flow after the restart', () => f.received === 2);
    expect(f.error).toBeUndefined();
  });

  it('a slow consumer never grows memory without bound: flow control, a bounded ring, lost flows announced', async () => {
    const { sock, server, agent } = await setup('slow', { capacity: 5000, followerQueue: 2000 });
    const f = new FlowFollower(socketEndpoint(agent, sock), query(''), {
      backlog: 0,
      capacity: 1000,
    });
    cleanups.push(() => f.stop());
    f.start();
    await until('the stream', () => server.followers === 1);
    f.pause();
    const heapBefore = process.memoryUsage().heapUsed;
    // 60,000 flows offered in batches while the consumer reads nothing.
    for (let b = 0; b < 60; b++) {
      for (let i = 0; i < 1000; i++) server.push(labFlow(b * 1000 + i));
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 500));
    const whilePaused = f.received;
    // Flow control stopped the sender long before 60,000 (what is in flight is bounded by
    // the HTTP/2 and SSH windows), and nothing piled up here.
    expect(whilePaused).toBeLessThan(20_000);
    f.resume();
    // Every offered flow is either received or announced lost: nothing vanishes silently.
    await until(
      'every flow received or announced lost',
      () => f.received + f.agg.lostTotal === 60_000,
      60_000,
    );
    expect(f.agg.lostTotal).toBeGreaterThan(30_000);
    expect(f.agg.lost.newest(1)[0]?.source).toBe('HUBBLE_RING_BUFFER');
    expect(f.ring.size).toBe(1000);
    // The stand-in shares this process; its ring is 5,000 flows and each follower queue 2,000.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(150 * 1024 * 1024);
  }, 120_000);
});
