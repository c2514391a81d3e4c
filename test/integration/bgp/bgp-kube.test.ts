/**
 * `k8ops bgp --json` (the command's own code, `bgpCommand`, on a live session) with the
 * kube side served by the KUBERNETES-API-SHAPED TEST SERVER (test/helpers/kube-api-server.ts:
 * real HTTPS with client certificates, discovery, LIST + WATCH; no API server or Cilium can
 * run here) holding CiliumBGPNodeConfig, CiliumBGPPeerConfig, CiliumBGPAdvertisement,
 * CiliumBGPClusterConfig (cilium.io/v2, or v2alpha1 as Cilium 1.17 serves them) and a
 * LoadBalancer Service, shaped like the real objects (test/fixtures/kube/README.md).
 * Cilium's side comes from a STAND-IN FOR THE CILIUM AGENT: an HTTP server on a unix socket
 * answering `/v1/bgp/peers` and `/v1/bgp/routes` with payloads shaped like the agent's,
 * reached through real sshd by NodeAgent.forwardSocket (an SSH streamlocal forward), as in
 * production. The binary itself cannot run this: it dials the fixed
 * /var/run/cilium/cilium.sock, which no test may create on this shared machine.
 *
 * Changes made in the API server reach the output through the watches: a Service's VIP
 * moved by LB-IPAM while the agent still advertises the old one, the PeerConfig deleted.
 */
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bgpCommand } from '../../../src/commands/bgp.js';
import type { Out } from '../../../src/commands/common.js';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import { ciliumBgpSourceAt } from '../../../src/features/bgp/sources.js';
import { kubeSource, reachSource } from '../../../src/features/overview/sources.js';
import { KubeClusterSource } from '../../../src/kube/cluster-source.js';
import { kubeContextFromString } from '../../../src/kube/kubeconfig.js';
import type { NodeAgent } from '../../../src/nodes/agent.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { createSession, type Session } from '../../../src/session/session.js';
import { SshPool } from '../../../src/ssh/pool.js';
import {
  fixture,
  generateKubePki,
  type KubeApiServer,
  type KubePki,
  kubeconfigYaml,
  startKubeApiServer,
} from '../../helpers/kube-api-server.js';
import { describeLab } from '../../helpers/sshd-suite.js';
import { FAST } from '../kube/common.js';

/** The peer of the seeded CiliumBGPNodeConfig (fixture ciliumbgpnodeconfig-v2.json). */
const PEER = '10.77.0.1';
type KObj = Parameters<KubeApiServer['put']>[1];
const POD_CIDR = '10.244.1.0/24';
/** shop/web's VIP in the seeded Service (fixture service-loadbalancer.json). */
const WEB_VIP = '10.77.100.11';

interface Doc {
  kube: Record<string, { apiVersion?: string; count?: number; absent?: string; error?: string }>;
  totals: { sessions: number; warnings: number; critical: number };
  sessions: Array<{
    node: string;
    peerAddress: string;
    severity: string;
    vips: string[];
    problems: string[];
    config: {
      from: string;
      peer: string;
      peerConfig: string;
      state: string;
      timers?: Record<string, unknown>;
      authSecretRef?: string;
      gracefulRestart?: Record<string, unknown>;
      families: Array<{
        afi: string;
        selector: string;
        advertisements: Array<{ advertisement: string; type: string; services?: string[] }>;
      }>;
      loadBalancerVips?: {
        expected: Array<{ prefix: string }>;
        missing: string[];
        unexpected: string[];
      };
    } | null;
  }>;
}

describeLab(
  'k8ops bgp against the Kubernetes-API-shaped test server and a Cilium agent stand-in over real sshd',
  (lab) => {
    let pki: KubePki;
    let api: KubeApiServer;
    let agentServer: Server | undefined;
    let session: Session | undefined;
    let kube: KubeClusterSource | undefined;
    /** What the stand-in agent advertises to PEER (its adj-rib-out). */
    let advertised = [POD_CIDR, `${WEB_VIP}/32`];

    beforeAll(async () => {
      const l = lab();
      pki = await generateKubePki();
      api = await startKubeApiServer({ pki });
      // --- the Cilium agent stand-in (BgpPeer / BgpRoute shapes: test/fixtures/bgp/*.cmd) ---
      const sock = join(l.dir, 'cilium-bgp-kube.sock');
      rmSync(sock, { force: true });
      agentServer = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const reply = (code: number, body: unknown) => {
          res.writeHead(code, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (url.pathname === '/v1/bgp/peers')
          return reply(200, [
            {
              'applied-hold-time-seconds': 9,
              'applied-keep-alive-time-seconds': 3,
              'configured-hold-time-seconds': 9,
              'configured-keep-alive-time-seconds': 3,
              'connect-retry-time-seconds': 5,
              'ebgp-multihop-ttl': 1,
              families: [
                {
                  accepted: 1,
                  advertised: advertised.length,
                  afi: 'ipv4',
                  received: 1,
                  safi: 'unicast',
                },
              ],
              'graceful-restart': { enabled: true, 'restart-time-seconds': 15 },
              'local-asn': 65001,
              'peer-address': PEER,
              'peer-asn': 65000,
              'peer-port': 179,
              'session-state': 'established',
              'tcp-password-enabled': true,
              'uptime-nanoseconds': 3_723_000_000_000,
            },
          ]);
        if (url.pathname === '/v1/bgp/routes') {
          if (url.searchParams.get('table_type') !== 'adj-rib-out')
            return reply(400, { message: 'test stand-in answers adj-rib-out only' });
          return reply(
            200,
            advertised.map((prefix) => ({
              paths: [
                {
                  'age-nanoseconds': 3_722_000_000_000,
                  best: true,
                  family: { afi: 'ipv4', safi: 'unicast' },
                  nlri: { base64: '' },
                  'path-attributes': [],
                },
              ],
              prefix,
              'router-asn': 65001,
            })),
          );
        }
        reply(404, { message: 'path not found' });
      });
      await new Promise<void>((ok) => agentServer!.listen(sock, ok));

      // --- k8ops: the node as the API server names it, reached over the lab's sshd ---
      const node: NodeSpec = {
        name: 'worker-1',
        index: 0,
        host: 'node1',
        addresses: [l.hosts.node1.address],
        roles: ['worker'],
      };
      const inventory: Inventory = {
        source: '<test>',
        cluster: 'bgp-kube',
        nodes: [node],
        ssh: { jump: [], connectTimeoutMs: 5000 },
        kube: { tunnel: false },
        pki: { dir: '/var/lib/kubernetes/secrets', rootOffline: true },
        rotation: { spreadMs: 86_400_000, cpGapMs: 1_800_000, minRemainingMs: 172_800_000 },
        network: { targetMtu: 9216, bgpRouters: [] },
        ingress: { namespace: 'ingress-nginx', cacheZone: 'static' },
        addons: {},
      };
      const ctx = await kubeContextFromString(
        kubeconfigYaml({
          server: api.url,
          caPem: pki.ca.certPem,
          certPem: pki.admin.certPem,
          keyPem: pki.adminKeySec1Pem,
          tlsServerName: 'kube-api.test',
        }),
      );
      if (!ctx.ok) throw ctx.error;
      kube = new KubeClusterSource({ config: ctx.config, timing: FAST });
      const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
      session = createSession({
        mode: 'live',
        inventory,
        agents: new Map<string, NodeAgent>([
          ['worker-1', new SshNodeAgent(node, { pool, inventory })],
        ]),
        kube,
        readOnly: true,
        features: [{ sources: [ciliumBgpSourceAt(sock), reachSource, kubeSource] }],
        onClose: () => pool.close(),
      });
    }, 120_000);

    afterAll(async () => {
      await session?.close();
      await kube?.close();
      await new Promise<void>((ok) => (agentServer ? agentServer.close(() => ok()) : ok()));
      await api?.close();
      pki?.cleanup();
    });

    /** `k8ops bgp --json` on the session: exit code and document. */
    async function bgpJson(): Promise<{ code: number; doc: Doc }> {
      let text = '';
      const out = {
        write: (s: string) => {
          text += s;
          return true;
        },
      } as unknown as Out;
      const code = await bgpCommand(session!, true, out);
      return { code, doc: JSON.parse(text) as Doc };
    }

    /** Run it until `ok` (the watches and the agent's poll are asynchronous), bounded. */
    async function until(what: string, ok: (d: Doc, code: number) => boolean, ms = 30_000) {
      const end = Date.now() + ms;
      for (;;) {
        await session!.scheduler.refresh({ source: 'bgp-cilium' });
        const r = await bgpJson();
        if (ok(r.doc, r.code)) return r;
        if (Date.now() > end)
          throw new Error(
            `${what}: not within ${ms} ms; last: ${JSON.stringify(r.doc).slice(0, 3000)}`,
          );
        await new Promise((res) => setTimeout(res, 250));
      }
    }

    const row = (d: Doc) => d.sessions.find((s) => s.node === 'worker-1' && s.peerAddress === PEER);

    it('each session with its CiliumBGPPeerConfig, the advertisements and Services that apply; VIPs agree → exit 0', async () => {
      const { code, doc } = await until(
        'the configuration read',
        (d) => !!row(d)?.config?.loadBalancerVips,
      );
      expect(doc.kube).toMatchObject({
        apiVersion: 'cilium.io/v2',
        peerConfigs: { apiVersion: 'cilium.io/v2', count: 1 },
        advertisements: { apiVersion: 'cilium.io/v2', count: 1 },
        clusterConfigs: { apiVersion: 'cilium.io/v2', count: 1 },
        services: { count: 1 },
      });
      const r = row(doc)!;
      expect(r.config).toMatchObject({
        from: 'CiliumBGPNodeConfig worker-1',
        peer: 'tor-1',
        peerConfig: 'cilium-peer',
        state: 'found',
        timers: { holdTimeSeconds: 9, keepAliveTimeSeconds: 3, connectRetryTimeSeconds: 5 },
        authSecretRef: 'bgp-auth-secret',
        gracefulRestart: { enabled: true, restartTimeSeconds: 15 },
      });
      expect(r.config!.families).toEqual([
        {
          afi: 'ipv4',
          safi: 'unicast',
          selector: 'advertise=bgp',
          advertisements: [
            expect.objectContaining({ advertisement: 'bgp-advertisements[0]', type: 'PodCIDR' }),
            expect.objectContaining({
              advertisement: 'bgp-advertisements[1]',
              type: 'Service',
              services: ['shop/web'],
            }),
          ],
        },
      ]);
      expect(r.config!.loadBalancerVips).toMatchObject({
        expected: [{ prefix: `${WEB_VIP}/32` }],
        missing: [],
        unexpected: [],
      });
      expect(r.severity).toBe('ok');
      expect(code).toBe(0);
      // The discovery and the watches went to cilium.io/v2 for every kind.
      for (const k of ['peerconfigs', 'advertisements', 'clusterconfigs'])
        expect(api.count((q) => q.path === `/apis/cilium.io/v2/ciliumbgp${k}`)).toBeGreaterThan(0);
    }, 60_000);

    it("LB-IPAM moves shop/web's VIP; the agent still advertises the old one: the disagreement, exit 1", async () => {
      const svc = fixture<KObj & { status: { loadBalancer: { ingress: Array<{ ip: string }> } } }>(
        'service-loadbalancer.json',
      );
      svc.status.loadBalancer.ingress[0]!.ip = '10.77.100.12';
      api.put('services', svc);
      const { code, doc } = await until(
        'the VIP disagreement',
        (d) => (row(d)?.config?.loadBalancerVips?.missing.length ?? 0) > 0,
      );
      const r = row(doc)!;
      expect(r.config!.loadBalancerVips).toMatchObject({
        missing: ['10.77.100.12/32'],
        unexpected: [`${WEB_VIP}/32`],
      });
      expect(r.problems).toEqual([
        `LoadBalancer VIPs disagree with the selected Services' status.loadBalancer.ingress: not advertised: 10.77.100.12/32 (shop/web); advertised but held by no selected Service: ${WEB_VIP}/32`,
      ]);
      expect(code).toBe(1);
      // The agent follows: agreement again.
      advertised = [POD_CIDR, '10.77.100.12/32'];
      await until('agreement again', (d, c) => row(d)?.severity === 'ok' && c === 0);
    }, 60_000);

    it('the PeerConfig deleted: "referenced but missing", exit 1; recreated: ok', async () => {
      const pc = fixture<KObj>('ciliumbgppeerconfig-v2.json');
      api.remove('ciliumbgppeerconfigs', 'cilium-peer');
      const { code, doc } = await until('missing', (d) => row(d)?.config?.state === 'missing');
      expect(row(doc)!.problems).toEqual([
        'CiliumBGPPeerConfig "cilium-peer" (referenced by peer tor-1 of CiliumBGPNodeConfig worker-1) does not exist: Cilium advertises nothing to this peer',
      ]);
      expect(code).toBe(1);
      api.put('ciliumbgppeerconfigs', pc);
      await until('found again', (d, c) => row(d)?.config?.state === 'found' && c === 0);
    }, 60_000);

    it('Cilium 1.17 (BGP kinds only in cilium.io/v2alpha1): re-discovered and read there', async () => {
      api.setCilium('v2alpha1-only-bgp');
      // The v2 watches end with a 404 when the version goes away; cut them so they notice now.
      api.dropWatches();
      const { doc } = await until(
        'v2alpha1',
        (d) =>
          d.kube.peerConfigs?.apiVersion === 'cilium.io/v2alpha1' &&
          d.kube.advertisements?.apiVersion === 'cilium.io/v2alpha1' &&
          !!row(d)?.config?.loadBalancerVips,
      );
      expect(doc.kube.clusterConfigs?.apiVersion).toBe('cilium.io/v2alpha1');
      expect(row(doc)!.config).toMatchObject({ state: 'found', peerConfig: 'cilium-peer' });
    }, 60_000);
  },
);
