/**
 * The built `k8ops flows` on a live inventory against real OpenSSH (the ssh lab: nodes
 * behind a bastion in network namespaces), with a stand-in Observer server in this process
 * (src/demo/hubble-observer.ts: the real proto shape; no Cilium or hubble-relay runs here):
 *
 * - `network.hubble.relay`: relay's stand-in at 127.0.0.1:<port> inside node1's namespace
 *   (bridged to its unix socket, test/helpers/netns-bridge.ts), dialled by k8ops through
 *   node1's sshd (direct-tcpip) — plain and with relay's server TLS from the inventory's
 *   files; exit 1 when relay says an agent is unavailable, 3 when relay does not answer;
 * - `network.hubble.socket`: each node's socket through a stream-local forward; exit 1 when
 *   a node does not answer (the others' flows printed).
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { ObserverServer, type ObserverServerTls } from '../../../src/demo/hubble-observer.js';
import { BIN, ensureBuilt } from '../../helpers/build.js';
import { labFlow } from '../../helpers/hubble-flows.js';
import { startNetnsBridge } from '../../helpers/netns-bridge.js';
import { makeRelayTls, type RelayTlsFiles } from '../../helpers/relay-tls.js';
import { describeLab } from '../../helpers/sshd-suite.js';
import { closedPort } from '../kube/common.js';

function k8ops(
  args: string[],
  home: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('node', [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        XDG_CACHE_HOME: join(home, 'cache'),
        XDG_STATE_HOME: join(home, 'state'),
      },
      timeout: 90_000,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let tls: RelayTlsFiles;
beforeAll(() => {
  ensureBuilt();
  tls = makeRelayTls();
  return () => tls.cleanup();
}, 120_000);

describeLab('k8ops flows (built) on a live inventory through real sshd', (lab) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function inventory(name: string, nodes: string[], hubble: string[]): string {
    const file = join(lab().dir, `k8ops-flows-${name}.yaml`);
    writeFileSync(
      file,
      [
        'cluster: sshlab',
        'ssh:',
        '  connectTimeout: 3s',
        'nodes:',
        ...nodes.flatMap((n, i) => [
          `  - name: ${n}`,
          `    roles: [${i === 0 ? 'control-plane' : 'worker'}]`,
        ]),
        'network:',
        '  hubble:',
        ...hubble.map((l) => `    ${l}`),
      ].join('\n'),
    );
    return file;
  }

  async function relay(name: string, unavailable: string[], serverTls?: ObserverServerTls) {
    const l = lab();
    const sock = join(l.dir, `cli-relay-${name}.sock`);
    rmSync(sock, { force: true });
    const server = new ObserverServer({
      relay: { nodes: ['sshlab/node1', 'sshlab/node2', 'sshlab/node3'], unavailable },
    });
    await server.listen(`unix:${sock}`, serverTls);
    for (let i = 0; i < 40; i++) server.push(labFlow(i, { node: `sshlab/node${1 + (i % 2)}` }));
    const port = await closedPort();
    const bridge = await startNetnsBridge(l.hosts.node1.ns, port, sock);
    cleanups.push(() => {
      bridge.close();
      server.close();
    });
    return { server, port };
  }

  it('relay: one stream with every node’s flows through node1; exit 0, or 1 when relay misses an agent', async () => {
    const l = lab();
    const { server, port } = await relay('plain', []);
    const inv = inventory('relay', ['node1', 'node2'], [`relay: 127.0.0.1:${port}`]);
    const r = await k8ops(
      ['flows', '--json', '--last', '10', '--inventory', inv, '--ssh-config', l.configFile],
      l.home,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const docs = r.stdout
      .trim()
      .split('\n')
      .map((x) => JSON.parse(x) as { flow: { source: { pod_name: string } }; node_name: string });
    expect(docs.map((d) => d.flow.source.pod_name)).toEqual(
      Array.from({ length: 10 }, (_, k) => `frontend-${30 + k}`),
    );
    expect(new Set(docs.map((d) => d.node_name))).toEqual(
      new Set(['sshlab/node1', 'sshlab/node2']),
    );
    // --node: a server-side node filter on the one relay stream.
    const one = await k8ops(
      ['flows', '--last', '5', '--node', 'node2', '--inventory', inv, '--ssh-config', l.configFile],
      l.home,
    );
    expect(one.code).toBe(0);
    expect(server.requests.at(-1)?.whitelist).toEqual([{ node_name: ['node2'] }]);
    expect(one.stderr).toMatch(
      new RegExp(
        `^k8ops flows: hubble-relay: ring 40/4095 flows, 40 seen, .*\\(hubble-relay 127\\.0\\.0\\.1:${port} via node1\\)$`,
        'm',
      ),
    );
    // Relay cannot reach an agent: its flows are missing, and the exit code says so.
    server.setUnavailable(['sshlab/node3']);
    const partial = await k8ops(
      ['flows', '--last', '5', '--inventory', inv, '--ssh-config', l.configFile],
      l.home,
    );
    expect(partial.stdout.trim().split('\n')).toHaveLength(5);
    expect(partial.stderr).toContain(
      'k8ops flows: hubble-relay: relay reaches 2 nodes; 1 unavailable: sshlab/node3',
    );
    expect(partial.code).toBe(1);
  }, 120_000);

  it('relay with its server TLS, the CA and the client certificate from the inventory', async () => {
    const l = lab();
    const { port } = await relay('tls', [], {
      cert: tls.read(tls.serverCert),
      key: tls.read(tls.serverKey),
      clientCa: tls.read(tls.ca),
    });
    const inv = inventory(
      'relay-tls',
      ['node1'],
      [
        `relay: 127.0.0.1:${port}`,
        'tls:',
        `  ca: ${tls.ca}`,
        `  cert: ${tls.clientCert}`,
        `  key: ${tls.clientKey}`,
      ],
    );
    const r = await k8ops(
      ['flows', '--last', '3', '--inventory', inv, '--ssh-config', l.configFile],
      l.home,
    );
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    // The wrong CA: refused, a clear line on stderr, exit 3.
    const wrong = inventory(
      'relay-tls-wrong',
      ['node1'],
      [
        `relay: 127.0.0.1:${port}`,
        'tls:',
        `  ca: ${tls.otherCa}`,
        `  cert: ${tls.clientCert}`,
        `  key: ${tls.clientKey}`,
      ],
    );
    const bad = await k8ops(
      ['flows', '--last', '3', '--inventory', wrong, '--ssh-config', l.configFile],
      l.home,
    );
    expect(bad.code).toBe(3);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(
      new RegExp(
        `^k8ops flows: hubble-relay: hubble-relay 127\\.0\\.0\\.1:${port} via node1: hubble: .*certificate`,
        'm',
      ),
    );
  }, 120_000);

  it('relay unreachable: exit 3 and one line naming relay, the node and why; --follow too', async () => {
    const l = lab();
    const port = await closedPort();
    const inv = inventory('relay-gone', ['node1'], [`relay: 127.0.0.1:${port}`]);
    const r = await k8ops(['flows', '--inventory', inv, '--ssh-config', l.configFile], l.home);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^k8ops flows: hubble-relay: hubble-relay 127\\.0\\.0\\.1:${port} via node1: hubble: .*\\(SSH: \\(SSH\\) Channel open failure: Connection refused\\)$`,
      ),
    );
    // --follow: the error is printed while it retries; interrupted, exit 3 (never answered).
    const p = spawn(
      'node',
      [BIN, 'flows', '--follow', '--inventory', inv, '--ssh-config', l.configFile],
      {
        env: { PATH: process.env.PATH ?? '', HOME: l.home, XDG_STATE_HOME: join(l.home, 'state') },
      },
    );
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const deadline = Date.now() + 30_000;
    while (!err.includes('(retrying)') && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 100));
    p.kill('SIGINT');
    const code = await new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
    expect(err).toContain('Connection refused');
    expect(err).toContain('(retrying)');
    expect(code).toBe(3);
  }, 120_000);

  it('agent sockets: each node’s hubble.sock; a node that does not answer is named, exit 1', async () => {
    const l = lab();
    const sock = join(l.dir, 'cli-hubble.sock');
    rmSync(sock, { force: true });
    const server = new ObserverServer({ nodeName: 'sshlab/node1' });
    await server.listen(`unix:${sock}`);
    cleanups.push(() => server.close());
    for (let i = 0; i < 10; i++) server.push(labFlow(i, { node: 'sshlab/node1' }));
    const inv = inventory('socket', ['node1', 'dead'], [`socket: ${sock}`]);
    const r = await k8ops(
      ['flows', '--last', '4', '--inventory', inv, '--ssh-config', l.configFile],
      l.home,
    );
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
    expect(r.stderr).toMatch(/^k8ops flows: node1: ring 10\/4095 flows, 10 seen/m);
    expect(r.stderr).toMatch(/^k8ops flows: dead: /m);
    expect(r.code).toBe(1);
  }, 120_000);
});
