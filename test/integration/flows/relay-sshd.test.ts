/**
 * hubble-relay through real OpenSSH: the product's SshNodeAgent.forwardTcp (SSH direct-tcpip
 * from the node's sshd) to a TCP address only the node sees — 127.0.0.1:<port> inside the
 * node's network namespace, where a bridge (test/helpers/netns-bridge.ts) hands connections
 * to a stand-in for relay in this process: the Observer gRPC service of
 * src/demo/hubble-observer.ts in relay's shape (every node's flows on one stream with their
 * node_name, NODE_CONNECTED first, ServerStatus with the agents connected and unavailable;
 * no Cilium or hubble-relay can run here). Plain and with relay's server TLS (certificates
 * by the real openssl, as the Cilium chart makes them), mTLS, and relay unreachable.
 */

import { rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { NodeSpec, RelayTls } from '../../../src/config/types.js';
import { ObserverServer, type ObserverServerTls } from '../../../src/demo/hubble-observer.js';
import { relayEndpoint } from '../../../src/features/flows/endpoint.js';
import { parseFlowQuery } from '../../../src/features/flows/filter.js';
import { FlowFollower } from '../../../src/features/flows/follow.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { labFlow } from '../../helpers/hubble-flows.js';
import { startNetnsBridge } from '../../helpers/netns-bridge.js';
import { makeRelayTls, type RelayTlsFiles } from '../../helpers/relay-tls.js';
import { describeLab } from '../../helpers/sshd-suite.js';
import { closedPort } from '../kube/common.js';

const node1: NodeSpec = {
  name: 'node1',
  index: 0,
  host: 'node1',
  addresses: [],
  roles: ['worker'],
};
const AGENTS = ['lab/node-1', 'lab/node-2', 'lab/node-3'];

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

let tls: RelayTlsFiles;
beforeAll(() => {
  tls = makeRelayTls();
  return () => tls.cleanup();
});

describeLab(
  'hubble-relay through SSH direct-tcpip (NodeAgent.forwardTcp) to a relay stand-in',
  (lab) => {
    const cleanups: Array<() => Promise<void> | void> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    /** A relay stand-in at 127.0.0.1:<port> in node1's namespace; the agent to dial it from. */
    async function setup(name: string, serverTls?: ObserverServerTls) {
      const l = lab();
      const sock = join(l.dir, `relay-${name}.sock`);
      rmSync(sock, { force: true });
      const server = new ObserverServer({ relay: { nodes: AGENTS, unavailable: ['lab/node-3'] } });
      await server.listen(`unix:${sock}`, serverTls);
      const port = await closedPort();
      const bridge = await startNetnsBridge(l.hosts.node1.ns, port, sock);
      const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
      const agent = new SshNodeAgent(node1, { pool });
      cleanups.push(async () => {
        bridge.close();
        server.close();
        await agent.close();
        await pool.close();
      });
      return { server, port, agent };
    }

    const endpoint = (agent: SshNodeAgent, port: number, t?: RelayTls) =>
      relayEndpoint({
        address: `127.0.0.1:${port}`,
        via: [{ name: 'node1', dialer: agent }],
        ...(t ? { tls: t } : {}),
      });

    it('forwardTcp reaches an address only the node sees; refuses hostile targets', async () => {
      const { port, agent } = await setup('raw');
      // From here, 127.0.0.1:<port> is this machine's loopback: nothing listens there.
      await expect(
        new Promise((resolve, reject) => {
          const s = createConnection(port, '127.0.0.1', () => resolve(s.end()));
          s.on('error', reject);
        }),
      ).rejects.toThrow(/ECONNREFUSED/);
      // Through the node: the bridge answers (an HTTP/2 server greets with a SETTINGS frame).
      const fwd = await agent.forwardTcp('127.0.0.1', port);
      cleanups.push(() => fwd.close());
      const first = await new Promise<Buffer>((resolve, reject) => {
        const s = createConnection(fwd.port, '127.0.0.1', () =>
          s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0'),
        );
        s.once('data', (d) => {
          s.destroy();
          resolve(d);
        });
        s.on('error', reject);
        setTimeout(() => reject(new Error('no answer')), 10_000);
      });
      expect(first[3]).toBe(0x04); // frame type SETTINGS
      expect(fwd.lastError?.()).toBeUndefined();
      for (const bad of ['-oProxyCommand=x', 'a b', 'x;id', '']) {
        await expect(agent.forwardTcp(bad, 80)).rejects.toThrow(/refused forward target/);
      }
      await expect(agent.forwardTcp('127.0.0.1', 0)).rejects.toThrow(/refused forward target/);
      await expect(agent.forwardTcp('127.0.0.1', 70000)).rejects.toThrow(/refused forward target/);
    });

    it('one stream carries every node’s flows with their node_name; filters sent server-side; relay’s reach', async () => {
      const { server, port, agent } = await setup('plain');
      for (let i = 0; i < 30; i++) server.push(labFlow(i, { node: AGENTS[i % 2] }));
      const f = new FlowFollower(endpoint(agent, port), query(''), {
        backlog: 30,
        statusIntervalMs: 200,
      });
      cleanups.push(() => f.stop());
      f.start();
      await until('the backlog', () => f.received >= 30);
      expect(f.state).toBe('streaming');
      expect(f.label).toBe(`hubble-relay 127.0.0.1:${port} via node1`);
      expect(new Set(f.ring.newest(100).map((x) => x.node))).toEqual(
        new Set(['lab/node-1', 'lab/node-2']),
      );
      await until('NODE_CONNECTED', () => f.nodeStatus !== undefined);
      expect(f.nodeStatus).toEqual({
        state: 'NODE_CONNECTED',
        nodes: ['lab/node-1', 'lab/node-2'],
        message: '',
      });
      await until('ServerStatus', () => f.server !== undefined);
      expect(f.server).toMatchObject({
        connectedNodes: 2,
        unavailableNodes: 1,
        unavailableNodeNames: ['lab/node-3'],
      });
      f.setQuery(query('node:node-2 verdict:DROPPED'));
      await until('the new request', () => server.requests.length === 2 && server.followers === 1);
      expect(server.requests.at(-1)?.whitelist).toEqual([{ node_name: ['node-2'], verdict: [2] }]);
      server.push(labFlow(100, { node: 'lab/node-1', verdict: 'DROPPED' }));
      server.push(labFlow(101, { node: 'lab/node-2', verdict: 'DROPPED' }));
      server.push(labFlow(102, { node: 'lab/node-2' }));
      await until('the one matching flow', () => f.received >= 31);
      await new Promise((r) => setTimeout(r, 300));
      expect(f.ring.newest(5).map((x) => [x.node, x.verdict])).toEqual([['lab/node-2', 'DROPPED']]);
    });

    it('relay’s server TLS: verified against the CA and the relay name, through the forward; mTLS', async () => {
      const serverTls = { cert: tls.read(tls.serverCert), key: tls.read(tls.serverKey) };
      const { server, port, agent } = await setup('tls', serverTls);
      server.push(labFlow(1));
      const ok = new FlowFollower(
        endpoint(agent, port, { ca: tls.ca, serverName: 'ui.hubble-relay.cilium.io' }),
        query(''),
        { backlog: 10 },
      );
      cleanups.push(() => ok.stop());
      ok.start();
      await until('a flow over TLS', () => ok.received === 1);

      // A CA that did not sign relay's certificate: refused, and the error says why.
      const wrongCa = new FlowFollower(
        endpoint(agent, port, { ca: tls.otherCa, serverName: 'ui.hubble-relay.cilium.io' }),
        query(''),
        { backlog: 10, minBackoffMs: 5000 },
      );
      cleanups.push(() => wrongCa.stop());
      wrongCa.start();
      await until('the TLS error', () => wrongCa.error !== undefined);
      expect(wrongCa.connects).toBe(0);
      expect(wrongCa.error).toMatch(/^hubble-relay 127\.0\.0\.1:\d+ via node1: hubble: /);
      expect(wrongCa.error).toMatch(/certificate|handshake|SSL|TLS/i);

      // A name relay's certificate does not carry: refused too.
      const wrongName = new FlowFollower(
        endpoint(agent, port, { ca: tls.ca, serverName: 'relay.example.com' }),
        query(''),
        { backlog: 10, minBackoffMs: 5000 },
      );
      cleanups.push(() => wrongName.stop());
      wrongName.start();
      await until('the name error', () => wrongName.error !== undefined);
      expect(wrongName.connects).toBe(0);
    });

    it('relay requiring a client certificate (mTLS): refused without one, streams with it', async () => {
      const { server, port, agent } = await setup('mtls', {
        cert: tls.read(tls.serverCert),
        key: tls.read(tls.serverKey),
        clientCa: tls.read(tls.ca),
      });
      server.push(labFlow(1));
      const base = { ca: tls.ca, serverName: 'ui.hubble-relay.cilium.io' };
      const without = new FlowFollower(endpoint(agent, port, base), query(''), {
        backlog: 10,
        minBackoffMs: 5000,
      });
      cleanups.push(() => without.stop());
      without.start();
      await until('the refusal', () => without.error !== undefined);
      expect(without.received).toBe(0);
      const withCert = new FlowFollower(
        endpoint(agent, port, { ...base, cert: tls.clientCert, key: tls.clientKey }),
        query(''),
        { backlog: 10 },
      );
      cleanups.push(() => withCert.stop());
      withCert.start();
      await until('a flow over mTLS', () => withCert.received === 1);
    });

    it('relay unreachable: the error names relay, the node it was dialled through, and sshd’s reason', async () => {
      const { agent } = await setup('gone');
      const port = await closedPort(); // nothing listens there in node1's namespace either
      const f = new FlowFollower(endpoint(agent, port), query(''), {
        backlog: 0,
        minBackoffMs: 5000,
      });
      cleanups.push(() => f.stop());
      f.start();
      await until('the error', () => f.error !== undefined);
      expect(f.state).toBe('retrying');
      expect(f.connects).toBe(0);
      expect(f.error).toMatch(
        new RegExp(
          `^hubble-relay 127\\.0\\.0\\.1:${port} via node1: hubble: .*\\(SSH: .*Connection refused.*\\)$`,
        ),
      );
    });
  },
);
