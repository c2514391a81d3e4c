/**
 * The API tunnel through the real OpenSSH bastion of the ssh lab (test/helpers/sshd.ts):
 * the Kubernetes-API-shaped test server is reachable only from inside the bastion's network
 * namespace (a relay there listens on the bastion's 127.0.0.1:<port> and hands connections
 * to the server's unix socket), so the kubeconfig's `https://127.0.0.1:<port>` refuses a
 * direct connection from here and k8ops must fall back to a forward over SSH (src/ssh
 * `SshHost.forwardTcp` via `forwardVia`). TLS is still verified against kube-api.test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KubeClusterSource } from '../../../src/kube/cluster-source.js';
import { type KubeContextConfig, kubeContextFromString } from '../../../src/kube/kubeconfig.js';
import { forwardVia } from '../../../src/kube/open.js';
import { SshPool } from '../../../src/ssh/pool.js';
import {
  generateKubePki,
  type KubeApiServer,
  type KubePki,
  kubeconfigYaml,
  startKubeApiServer,
  waitUntil,
} from '../../helpers/kube-api-server.js';
import { describeLab } from '../../helpers/sshd-suite.js';
import { closedPort, FAST } from './common.js';

/** TCP 127.0.0.1:<port> → unix socket, run inside the bastion's namespace. */
const RELAY = `
const net = require('node:net');
const [port, sock] = process.argv.slice(1);
const srv = net.createServer((c) => {
  const u = net.connect(sock);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  c.pipe(u).pipe(c);
});
srv.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

describeLab(
  'Kubernetes-API-shaped test server through the real sshd bastion (API tunnel)',
  (lab) => {
    let pki: KubePki;
    let api: KubeApiServer;
    let relay: ChildProcess | undefined;
    let port = 0;
    let pool: SshPool;

    beforeAll(async () => {
      const l = lab();
      pki = await generateKubePki();
      api = await startKubeApiServer({ pki, socketPath: join(l.dir, 'kube-api.sock') });
      port = await closedPort(); // free here; the relay takes the same number inside the bastion's namespace
      const proc = spawn(
        'ip',
        [
          'netns',
          'exec',
          l.hosts.bastion.ns,
          process.execPath,
          '-e',
          RELAY,
          String(port),
          join(l.dir, 'kube-api.sock'),
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      relay = proc;
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('relay did not start')), 10_000);
        proc.stdout?.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) {
            clearTimeout(t);
            resolve();
          }
        });
        proc.once('exit', (code) => {
          clearTimeout(t);
          reject(new Error(`relay exited (${code})`));
        });
      });
      pool = new SshPool({
        sshConfigFile: lab().configFile,
        agentSocket: 'none',
        backoffInitialMs: 100,
        backoffMaxMs: 500,
      });
    });

    afterAll(async () => {
      await pool?.close();
      if (relay && relay.exitCode === null) relay.kill('SIGKILL');
      await api?.close();
      pki?.cleanup();
    });

    async function ctx(tlsServerName: string): Promise<KubeContextConfig> {
      const r = await kubeContextFromString(
        kubeconfigYaml({
          server: `https://127.0.0.1:${port}`,
          caPem: pki.ca.certPem,
          certPem: pki.admin.certPem,
          keyPem: pki.admin.keyPem,
          tlsServerName,
        }),
      );
      if (!r.ok) throw r.error;
      return r.config;
    }

    it('direct connection refused → tunnel through the bastion; watches and TLS (kube-api.test) work through it', async () => {
      const src = new KubeClusterSource({
        config: await ctx('kube-api.test'),
        tunnel: 'auto',
        openForward: forwardVia(pool.host('bastion')),
        timing: FAST,
      });
      try {
        await waitUntil(
          'nodes through the bastion',
          () => src.snapshot().nodes.value?.length === 3,
          15_000,
        );
        const a = src.snapshot().api;
        expect(a.via).toBe('tunnel');
        expect(a.tlsServerName).toBe('kube-api.test');
        expect(a.notice).toMatch(
          new RegExp(
            `^API server 127\\.0\\.0\\.1:${port} not reachable directly \\(ECONNREFUSED\\); using the SSH tunnel \\(127\\.0\\.0\\.1:\\d+\\)$`,
          ),
        );
        expect(api.requests.some((r) => r.user === pki.adminUser)).toBe(true);
        api.setNodeReady('worker-2', false);
        await waitUntil(
          'watch event through the tunnel',
          () => src.snapshot().nodes.value?.find((n) => n.name === 'worker-2')?.ready === false,
        );
        api.setNodeReady('worker-2', true);
        await waitUntil('bgp', () => src.snapshot().bgp.value?.apiVersion === 'cilium.io/v2');
      } finally {
        await src.close();
      }
    });

    it('the bastion sshd dies and comes back: the watches re-establish through a new SSH connection', async () => {
      const src = new KubeClusterSource({
        config: await ctx('kube-api.test'),
        tunnel: 'always',
        openForward: forwardVia(pool.host('bastion')),
        timing: FAST,
      });
      try {
        await waitUntil(
          'synced',
          () => src.snapshot().nodes.synced && api.watchCount('nodes') >= 1,
          15_000,
        );
        await lab().kill('bastion');
        await waitUntil('drop seen', () => src.snapshot().nodes.error, 15_000);
        api.setNodeReady('cp-1', false);
        await lab().start('bastion');
        await waitUntil(
          'resumed',
          () =>
            src.snapshot().nodes.value?.find((n) => n.name === 'cp-1')?.ready === false &&
            src.snapshot().nodes.synced,
          15_000,
        );
        api.setNodeReady('cp-1', true);
      } finally {
        await src.close();
      }
    });

    it('through the bastion, a tls-server-name the certificate does not carry fails with a TLS error', async () => {
      const src = new KubeClusterSource({
        config: await ctx('api.other.test'),
        tunnel: 'always',
        openForward: forwardVia(pool.host('bastion')),
        timing: FAST,
      });
      try {
        const e = await waitUntil('tls error', () => src.snapshot().api.error, 15_000);
        expect(e.kind).toBe('tls');
        expect(e.message).toContain('not valid for "api.other.test"');
      } finally {
        await src.close();
      }
    });
  },
);
