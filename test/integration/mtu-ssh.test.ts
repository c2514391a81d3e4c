/**
 * Real OpenSSH sshd (test/helpers/sshd.ts): the MTU sources read node3 (its own network
 * namespace, behind the bastion and hop2) through SshNodeAgent — `ip -j -d link show` run
 * by NodeAgent.exec on the node, links added there at 9216 beside its uplink left at 1500 —
 * and Cilium's `GET /v1/config` over the same stream-local forward the product uses, from
 * an HTTP server on a unix socket answering with a payload shaped like Cilium 1.17's
 * DaemonConfigurationStatus (no Cilium agent runs here).
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../src/config/types.js';
import { buildMtuModel } from '../../src/features/mtu/model.js';
import { collectCilium, collectLinks } from '../../src/features/mtu/sources.js';
import { SshNodeAgent } from '../../src/nodes/ssh-agent.js';
import { SshPool } from '../../src/ssh/pool.js';
import type { Snapshot } from '../../src/store/types.js';
import { describeLab } from '../helpers/sshd-suite.js';

const node3: NodeSpec = {
  name: 'node3',
  index: 0,
  host: 'node3',
  addresses: [],
  roles: ['worker'],
};

const inventory: Inventory = {
  source: '<test>',
  cluster: 'lab',
  nodes: [node3],
  ssh: { jump: [], connectTimeoutMs: 5000 },
  kube: { tunnel: false },
  pki: { dir: '/var/lib/kubernetes/secrets', rootOffline: true },
  rotation: { spreadMs: 86_400_000, cpGapMs: 1_800_000, minRemainingMs: 172_800_000 },
  network: { targetMtu: 9216, bgpRouters: [] },
  ingress: { namespace: 'ingress-nginx', cacheZone: 'static' },
  addons: {},
};

/** Cilium 1.17's GET /v1/config shape (api/v1/models/daemon_configuration_status.go). */
const CONFIG = {
  spec: { options: {}, 'policy-enforcement': 'default' },
  status: {
    addressing: { ipv4: { enabled: true, ip: '10.0.3.1' } },
    datapathMode: 'veth',
    deviceMTU: 9216,
    routeMTU: 9216, // wrong for VXLAN: should be 9166
    'ipam-mode': 'kubernetes',
    masquerade: true,
    daemonConfigurationMap: { RoutingMode: 'tunnel', EnableIPv4: true },
  },
};

describeLab('MTU sources over real sshd', (lab) => {
  it('reads and classifies node3 links, flags its 1500 uplink, reads Cilium over the socket forward', async () => {
    const l = lab();
    const ns = l.hosts.node3.ns;
    const ip = (...a: string[]) => execFileSync('ip', ['-n', ns, ...a]);
    ip('link', 'add', 'mtu16br', 'type', 'bridge');
    ip('link', 'add', 'lxcmtu16', 'type', 'veth', 'peer', 'name', 'mtu16p');
    for (const d of ['mtu16br', 'lxcmtu16', 'mtu16p']) ip('link', 'set', d, 'mtu', '9216');
    ip('link', 'set', 'mtu16p', 'master', 'mtu16br');
    const sock = join(l.dir, 'cilium.sock');
    let seen = '';
    const server: Server = createServer((req, res) => {
      seen = `${req.method} ${req.url}`;
      res.writeHead(req.url === '/v1/config' ? 200 : 404, { 'Content-Type': 'application/json' });
      res.end(req.url === '/v1/config' ? JSON.stringify(CONFIG) : '"not found"');
    });
    await new Promise<void>((r) => server.listen(sock, r));
    const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
    const agent = new SshNodeAgent(node3, { pool });
    try {
      const links = await collectLinks(agent);
      const cilium = await collectCilium(agent, undefined, sock);
      expect(seen).toBe('GET /v1/config');
      expect(cilium).toEqual({
        ok: true,
        config: { deviceMtu: 9216, routeMtu: 9216, datapathMode: 'veth', routingMode: 'tunnel' },
      });
      const snaps: Record<string, Snapshot> = {
        'mtu-links': { value: links, stale: false, loading: false },
        'mtu-cilium': { value: cilium, stale: false, loading: false },
      };
      const m = buildMtuModel(
        inventory,
        <T>(_s: string, id: string) =>
          (snaps[id] ?? { stale: false, loading: false }) as Snapshot<T>,
      );
      const row = m.nodes[0]!;
      expect(row.reach).toBe('up');
      const roles = Object.fromEntries(row.links.map((x) => [x.name, [x.role, x.mtu, x.verdict]]));
      expect(roles).toMatchObject({
        lo: ['loopback', 65536, 'n/a'],
        mtu16br: ['bridge', 9216, 'ok'],
        lxcmtu16: ['lxc', 9216, 'ok'],
        mtu16p: ['veth', 9216, 'ok'],
        [`k8s${l.slot}dn`]: ['veth', 1500, 'low'], // node3's uplink, left at 1500
      });
      expect(row.offTarget.map((x) => x.name)).toEqual([`k8s${l.slot}dn`]);
      expect(row.links.find((x) => x.name === 'mtu16p')?.master).toBe('mtu16br');
      expect(row.cilium).toMatchObject({
        mode: 'tunnel',
        modeFrom: 'agent',
        expectedRouteMtu: 9166,
        severity: 'bad',
      });
      expect(row.cilium.findings.join('\n')).toMatch(/route MTU 9216 above 9166/);
      expect(row.health).toBe('bad');

      // A node without the socket: said as such, never a crash.
      const missing = await collectCilium(agent, undefined, join(l.dir, 'no-such.sock'));
      expect(missing).toEqual({
        ok: false,
        error: expect.stringMatching(/the node closed the connection to .*no-such\.sock/),
      });
    } finally {
      await agent.close();
      await pool.close();
      await new Promise<void>((r) => server.close(() => r()));
      for (const d of ['mtu16br', 'lxcmtu16']) {
        try {
          ip('link', 'del', d);
        } catch {
          // gone with the namespace
        }
      }
    }
  }, 60_000);
});
