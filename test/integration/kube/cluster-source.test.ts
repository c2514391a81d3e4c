/**
 * KubeClusterSource against a Kubernetes-API-shaped test server (test/helpers/kube-api-server.ts:
 * node:https speaking the API with real-shaped payloads; no kube-apiserver runs here). The
 * server requires a client certificate signed by kubernetes-ca; the PKI is the project's
 * own P-521 lab PKI (gen-lab.sh) when cfssl is installed, else openssl-made.
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeClusterSource } from '../../../src/kube/cluster-source.js';
import { bindKubeToStore } from '../../../src/kube/collect.js';
import { directEndpoint } from '../../../src/kube/endpoint.js';
import { KubeError } from '../../../src/kube/errors.js';
import { KubeHttp } from '../../../src/kube/http.js';
import {
  type KubeContextConfig,
  kubeContextFromString,
  loadKubeContext,
} from '../../../src/kube/kubeconfig.js';
import { SwitchableKubeSource } from '../../../src/kube/switchable.js';
import { Store } from '../../../src/store/store.js';
import {
  fixture,
  generateKubePki,
  type KubeApiServer,
  type KubeApiServerOptions,
  type KubePki,
  kubeconfigYaml,
  startKubeApiServer,
  waitUntil,
} from '../../helpers/kube-api-server.js';
import { closedPort, FAST } from './common.js';

let pki: KubePki;
const servers: KubeApiServer[] = [];
const sources: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  pki = await generateKubePki();
});
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => pki?.cleanup());

async function server(opts: Partial<KubeApiServerOptions> = {}): Promise<KubeApiServer> {
  const s = await startKubeApiServer({ pki, ...opts });
  servers.push(s);
  return s;
}

type Who = 'admin' | 'viewer' | 'stranger';
function yamlFor(
  url: string,
  o: { who?: Who; tlsServerName?: string | null; caPem?: string; contexts?: string[] } = {},
): string {
  const who = o.who ?? 'admin';
  const pair = who === 'admin' ? pki.admin : who === 'viewer' ? pki.viewer : pki.stranger;
  return kubeconfigYaml({
    server: url,
    caPem: o.caPem ?? pki.ca.certPem,
    certPem: pair.certPem,
    keyPem: who === 'admin' ? pki.adminKeySec1Pem : pair.keyPem,
    ...(o.tlsServerName === null ? {} : { tlsServerName: o.tlsServerName ?? 'kube-api.test' }),
    ...(o.contexts ? { extraContexts: o.contexts } : {}),
  });
}

async function ctx(url: string, o: Parameters<typeof yamlFor>[1] = {}): Promise<KubeContextConfig> {
  const r = await kubeContextFromString(yamlFor(url, o));
  if (!r.ok) throw r.error;
  return r.config;
}

function open(
  config: KubeContextConfig,
  extra: Partial<ConstructorParameters<typeof KubeClusterSource>[0]> = {},
): KubeClusterSource {
  const s = new KubeClusterSource({ config, timing: FAST, ...extra });
  sources.push(s);
  return s;
}

describe('Kubernetes-API-shaped test server: authentication and TLS', () => {
  it('authenticates with a P-521 client certificate (client-key-data in SEC1) and trusts only kubernetes-ca', async () => {
    for (const pem of [pki.admin.certPem, pki.ca.certPem, pki.server.certPem]) {
      const key = new X509Certificate(pem).publicKey;
      expect(key.asymmetricKeyType).toBe('ec');
      expect(key.asymmetricKeyDetails?.namedCurve).toBe('secp521r1');
    }
    expect(pki.adminKeySec1Pem).toContain('BEGIN EC PRIVATE KEY');
    const s = await server();
    const src = open(await ctx(s.url));
    const snap = await waitUntil('nodes listed', () => {
      const v = src.snapshot();
      return v.nodes.value?.length === 3 ? v : undefined;
    });
    expect(snap.api).toMatchObject({
      reachable: true,
      serverVersion: 'v1.33.4',
      via: 'direct',
      tlsServerName: 'kube-api.test',
    });
    expect(snap.nodes.value?.map((n) => [n.name, n.ready, n.kubeletVersion])).toEqual([
      ['cp-1', true, 'v1.33.4'],
      ['worker-1', true, 'v1.33.4'],
      ['worker-2', true, 'v1.33.4'],
    ]);
    expect(snap.nodes.value?.[0]).toMatchObject({
      roles: ['control-plane'],
      internalIP: '10.77.0.11',
    });
    expect(s.requests.every((r) => r.user === pki.adminUser)).toBe(true);
    expect(await src.listNodes()).toHaveLength(3);
  });

  it('also works with the openssl-made PKI (no cfssl)', async () => {
    const alt = await generateKubePki({ prefer: 'openssl' });
    try {
      expect(alt.source).toBe('openssl');
      const s = await startKubeApiServer({ pki: alt });
      servers.push(s);
      const r = await kubeContextFromString(
        kubeconfigYaml({
          server: s.url,
          caPem: alt.ca.certPem,
          certPem: alt.admin.certPem,
          keyPem: alt.adminKeySec1Pem,
          tlsServerName: 'kube-api.test',
        }),
      );
      if (!r.ok) throw r.error;
      const src = open(r.config);
      await waitUntil('nodes', () => src.snapshot().nodes.value?.length === 3);
      expect(s.requests.every((q) => q.user === 'kubernetes-admin')).toBe(true);
    } finally {
      alt.cleanup();
    }
  });

  it('reads client-certificate / client-key / certificate-authority from files (PKCS#8 key)', async () => {
    const s = await server();
    const keyFile = join(pki.dir, 'admin-pkcs8.pem');
    writeFileSync(keyFile, pki.adminKeyPkcs8Pem, { mode: 0o600 });
    const file = join(pki.dir, 'kubeconfig-files');
    writeFileSync(
      file,
      kubeconfigYaml({
        server: s.url,
        caFile: pki.ca.cert,
        certFile: pki.admin.cert,
        keyFile,
        tlsServerName: 'kube-api.test',
      }),
    );
    const r = await loadKubeContext({ path: file });
    if (!r.ok) throw r.error;
    const src = open(r.config, { start: false });
    const http = new KubeHttp(directEndpoint(r.config));
    try {
      const v = await http.getJson<{ gitVersion: string }>('/version', {
        verb: 'get',
        resource: 'version',
      });
      expect(v.gitVersion).toBe('v1.33.4');
    } finally {
      http.close();
    }
    src.start();
    await waitUntil('nodes', () => src.snapshot().nodes.value?.length === 3);
  });

  it('verifies an IP server URL against the certificate IP SAN (no SNI)', async () => {
    const s = await server();
    const src = open(await ctx(s.url, { tlsServerName: null }));
    await waitUntil('nodes', () => src.snapshot().nodes.value?.length === 3);
    expect(src.snapshot().api.tlsServerName).toBe('127.0.0.1');
  });

  it('the library (2.x) client itself: P-521 client keys work, but a kubeconfig trusting only kubernetes-ca does not (why k8ops has its own transport)', async () => {
    const s = await server();
    const { CoreV1Api } = await import('@kubernetes/client-node');
    const onlyIntermediate = await ctx(s.url);
    const api1 = onlyIntermediate.kubeConfig.makeApiClient(CoreV1Api);
    const err = await api1.listNode().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    // 2.x fetches with undici: 'fetch failed', the TLS error is its cause
    const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    expect(`${err?.message ?? err} ${cause?.code ?? ''} ${cause?.message ?? ''}`).toMatch(
      /unable to get issuer certificate|UNABLE_TO_GET_ISSUER_CERT/i,
    );
    const withRoot = await ctx(s.url, { caPem: pki.ca.certPem + pki.root.certPem });
    const list = await withRoot.kubeConfig.makeApiClient(CoreV1Api).listNode();
    expect(list.items.map((n) => n.metadata?.name)).toEqual(['cp-1', 'worker-1', 'worker-2']);
  });

  it('rejects a server certificate signed by another CA with a clear TLS error', async () => {
    const s = await server({ serverCert: 'other-ca' });
    const src = open(await ctx(s.url));
    const api = await waitUntil('tls error', () =>
      src.snapshot().api.error ? src.snapshot().api : undefined,
    );
    expect(api.error?.kind).toBe('tls');
    expect(api.error?.message).toMatch(/not signed by the CA in the kubeconfig/);
    expect(api.reachable).toBe(false);
    const nodes = await waitUntil('nodes error', () => src.snapshot().nodes.error);
    expect(nodes.kind).toBe('tls');
    expect(src.snapshot().nodes.value).toBeUndefined();
    await expect(src.listNodes()).rejects.toMatchObject({ kind: 'tls' });
    expect(s.requests).toHaveLength(0);
  });

  it('fails when the certificate does not name the server (tls-server-name mismatch)', async () => {
    const s = await server();
    const src = open(await ctx(s.url, { tlsServerName: 'wrong.test' }));
    const e = await waitUntil('tls error', () => src.snapshot().api.error);
    expect(e.kind).toBe('tls');
    expect(e.message).toContain('not valid for "wrong.test"');
    expect(e.message).toContain('kube-api.test');
  });

  it('unauthorized: a certificate of a user the server does not know → 401 message', async () => {
    const s = await server();
    const src = open(await ctx(s.url, { who: 'stranger' }));
    const e = await waitUntil('401', () => src.snapshot().nodes.error);
    expect(e.kind).toBe('unauthorized');
    expect(e.message).toMatch(
      /^unauthorized: the API server rejected the credentials of kubeconfig user "lab-admin" \(401 Unauthorized\) on list nodes$/,
    );
    await waitUntil('api answered', () => src.snapshot().api.checkedAt);
    expect(src.snapshot().api).toMatchObject({ reachable: true, error: { kind: 'unauthorized' } });
  });

  it('forbidden: names the verb and the resource from the Status object', async () => {
    const s = await server({
      rules: [
        { user: 'viewer', verbs: ['list', 'watch'], resources: ['nodes'] },
        { user: 'viewer', verbs: ['list'], resources: ['configmaps'], namespaces: ['kube-system'] },
      ],
    });
    const src = open(await ctx(s.url, { who: 'viewer' }));
    await waitUntil('nodes', () => src.snapshot().nodes.value?.length === 3);
    const pods = await waitUntil('pods forbidden', () => src.snapshot().ciliumPods.error);
    expect(pods).toEqual({
      kind: 'forbidden',
      message: 'forbidden: User "viewer" cannot list pods in namespace "kube-system" (403)',
    });
    const cm = await waitUntil(
      'configmap watch forbidden',
      () => src.snapshot().ciliumConfig.error,
    );
    expect(cm.message).toBe(
      'forbidden: User "viewer" cannot watch configmaps in namespace "kube-system" (403)',
    );
    const bgp = await waitUntil('bgp forbidden', () => src.snapshot().bgp.error);
    expect(bgp.message).toBe(
      'forbidden: User "viewer" cannot list ciliumbgpnodeconfigs.cilium.io at the cluster scope (403)',
    );
    expect(src.snapshot().nodes.error).toBeUndefined();
  });

  it('API unreachable (connection refused): a typed error, no crash, listNodes rejects', async () => {
    const port = await closedPort();
    const src = open(await ctx(`https://127.0.0.1:${port}`));
    const settled = await src.whenSettled(5000);
    expect(settled.nodes.error?.kind).toBe('unreachable');
    const e = settled.api.error!;
    expect(e.kind).toBe('unreachable');
    expect(e.message).toBe(
      `API server 127.0.0.1:${port} unreachable: connection refused (ECONNREFUSED)`,
    );
    expect(src.snapshot().api.reachable).toBe(false);
    await expect(src.listNodes()).rejects.toBeInstanceOf(KubeError);
    await expect(src.listNodes()).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('API timeout: a server that accepts but never answers → timeout within the bound', async () => {
    const sockets = new Set<Socket>();
    const hang: Server = createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (hang.address() as { port: number }).port;
      const src = open(await ctx(`https://127.0.0.1:${port}`));
      const t0 = Date.now();
      const e = await waitUntil('timeout', () => src.snapshot().api.error);
      expect(e.kind).toBe('timeout');
      expect(e.message).toMatch(/did not answer within 1\.5 s/);
      expect(Date.now() - t0).toBeLessThan(6000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => hang.close(() => r()));
    }
  });
});

describe('Kubernetes-API-shaped test server: watches', () => {
  it('a dropped watch (server restart) re-establishes and resumes from its resourceVersion without relisting', async () => {
    const s = await server();
    const src = open(await ctx(s.url));
    await waitUntil('synced', () => src.snapshot().nodes.synced && s.watchCount('nodes') === 1);
    const rvBefore = Number(src.nodes.state().resourceVersion);
    const lists = () => s.count((r) => r.path === '/api/v1/nodes' && !r.query.watch);
    expect(lists()).toBe(1);

    await s.close(); // every connection cut
    s.setNodeReady('worker-1', false, 'KubeletNotReady', 'container runtime network not ready');
    const e = await waitUntil('drop seen', () => src.snapshot().nodes.error);
    expect(e.kind).toBe('unreachable');
    expect(src.snapshot().nodes.synced).toBe(false);
    expect(src.snapshot().nodes.value).toHaveLength(3); // last good value kept
    await s.start(); // same port

    const w1 = await waitUntil('change seen', () =>
      src.snapshot().nodes.value?.find((n) => n.name === 'worker-1' && !n.ready),
    );
    expect(w1.reason).toBe('KubeletNotReady: container runtime network not ready');
    expect(src.snapshot().nodes.synced).toBe(true);
    expect(src.snapshot().nodes.error).toBeUndefined();
    expect(lists()).toBe(1);
    const resumed = s.requests.filter((r) => r.path === '/api/v1/nodes' && r.query.watch);
    expect(Number(resumed.at(-1)?.query.resourceVersion)).toBeGreaterThanOrEqual(rvBefore);
    expect(src.nodes.stats.expired).toBe(0);
  });

  it('a watch cut mid-stream and one ended by the server both resume', async () => {
    const s = await server();
    const src = open(await ctx(s.url));
    await waitUntil('synced', () => s.watchCount('nodes') === 1);
    expect(s.dropWatches('nodes')).toBe(1);
    await waitUntil('rewatch', () => s.watchCount('nodes') === 1);
    expect(s.endWatches('nodes')).toBe(1);
    await waitUntil('rewatch 2', () => s.watchCount('nodes') === 1);
    s.setNodeReady('cp-1', false);
    await waitUntil(
      'event',
      () => src.snapshot().nodes.value?.find((n) => n.name === 'cp-1')?.ready === false,
    );
    expect(s.count((r) => r.path === '/api/v1/nodes' && !r.query.watch)).toBe(1);
  });

  it('a stalled watch (open but silent) is abandoned after the idle bound and resumed', async () => {
    const s = await server();
    const src = open(await ctx(s.url), {
      timing: { ...FAST, watch: { ...FAST.watch, idleTimeoutMs: 300 } },
    });
    await waitUntil('synced', () => s.watchCount('nodes') === 1);
    expect(s.stallWatches('nodes')).toBe(1);
    s.setNodeReady('worker-2', false);
    const e = await waitUntil('idle timeout', () => src.snapshot().nodes.error);
    expect(e).toEqual({
      kind: 'timeout',
      message: `watch nodes: no data from 127.0.0.1:${s.port} for 300 ms`,
    });
    await waitUntil(
      'resumed',
      () => src.snapshot().nodes.value?.find((n) => n.name === 'worker-2')?.ready === false,
    );
    expect(s.count((r) => r.path === '/api/v1/nodes' && !r.query.watch)).toBe(1);
  });

  it('410 Gone (compacted resourceVersion) relists: deletions while away disappear', async () => {
    const s = await server();
    const src = open(await ctx(s.url));
    await waitUntil(
      'synced',
      () => src.snapshot().nodes.value?.length === 3 && s.watchCount('nodes') === 1,
    );
    await s.close();
    s.remove('nodes', 'worker-2');
    s.setNodeReady('worker-1', false);
    s.compact();
    await s.start();
    await waitUntil(
      'relisted',
      () => src.snapshot().nodes.value?.length === 2 && src.snapshot().nodes.synced,
    );
    expect(src.nodes.stats.expired).toBeGreaterThanOrEqual(1);
    expect(s.count((r) => r.path === '/api/v1/nodes' && !r.query.watch)).toBe(2);
    expect(src.snapshot().nodes.value?.find((n) => n.name === 'worker-1')?.ready).toBe(false);
  });

  it('BOOKMARKs advance the resourceVersion, so a later resume needs no relist', async () => {
    const s = await server({ bookmarkIntervalMs: 30 });
    const src = open(await ctx(s.url));
    await waitUntil('synced', () => s.watchCount('nodes') === 1);
    s.put('configmaps', { metadata: { name: 'other', namespace: 'default' }, data: {} });
    const target = s.resourceVersion;
    await waitUntil('bookmark', () => Number(src.nodes.state().resourceVersion) >= target);
    expect(src.nodes.stats.bookmarks).toBeGreaterThan(0);
    s.compact(); // history before `target` is gone
    s.dropWatches('nodes');
    s.setNodeReady('worker-2', false);
    await waitUntil(
      'event',
      () => src.snapshot().nodes.value?.find((n) => n.name === 'worker-2')?.ready === false,
    );
    expect(src.nodes.stats.expired).toBe(0);
    expect(s.count((r) => r.path === '/api/v1/nodes' && !r.query.watch)).toBe(1);
  });

  it('reads pods of cilium / hubble-relay / ingress-nginx, cilium-config and the deployed addon versions', async () => {
    const s = await server();
    const src = open(await ctx(s.url));
    const snap = await waitUntil('all synced', () => {
      const v = src.snapshot();
      return v.ciliumPods.value &&
        v.hubbleRelayPods.value &&
        v.ingressControllerPods.value &&
        v.ciliumConfig.value !== undefined &&
        v.addons.synced &&
        v.addons.value?.length === 4
        ? v
        : undefined;
    });
    expect(snap.ciliumPods.value?.map((p) => [p.name, p.nodeName, p.status, p.ready])).toEqual([
      ['cilium-cp-1', 'cp-1', 'Running', true],
      ['cilium-worker-1', 'worker-1', 'Running', true],
      ['cilium-worker-2', 'worker-2', 'Running', true],
    ]);
    expect(snap.hubbleRelayPods.value?.map((p) => p.name)).toEqual([
      'hubble-relay-6d8f9c7b5-q2w3e',
    ]);
    expect(snap.ingressControllerPods.value).toHaveLength(2);
    expect(snap.ciliumConfig.value).toMatchObject({
      routingMode: 'native',
      mtu: 9216,
      kubeProxyReplacement: 'true',
      bgpControlPlane: true,
      hubble: true,
    });
    expect(
      snap.addons.value?.map((a) => [
        a.addon,
        a.kind,
        a.version,
        a.versionSource,
        `${a.ready}/${a.desired}`,
      ]),
    ).toEqual([
      ['cilium', 'DaemonSet', 'v1.18.2', 'image', '6/6'],
      ['cilium-operator', 'Deployment', 'v1.18.2', 'image', '2/2'],
      ['hubble-relay', 'Deployment', 'v1.18.2', 'image', '1/1'],
      ['ingress-nginx', 'Deployment', '1.13.3', 'label', '2/2'],
    ]);
    // a rollout is seen through the watch
    const d = structuredClone(s.get('deployments', 'ingress-nginx-controller', 'ingress-nginx')!);
    (d.metadata.labels as Record<string, string>)['app.kubernetes.io/version'] = '1.14.0';
    s.put('deployments', d);
    await waitUntil(
      'rollout',
      () =>
        src.snapshot().addons.value?.find((a) => a.addon === 'ingress-nginx')?.version === '1.14.0',
    );
  });

  it('addon namespaces beyond Cilium and the ingress: cert-manager read with its chart; a forbidden one hides nothing', async () => {
    const s = await server({
      rules: [
        {
          user: 'viewer',
          verbs: ['list', 'watch'],
          resources: ['deployments', 'daemonsets'],
          namespaces: ['kube-system', 'ingress-nginx', 'cert-manager'],
        },
      ],
    });
    s.put('deployments', {
      metadata: {
        name: 'cert-manager',
        namespace: 'cert-manager',
        labels: {
          'app.kubernetes.io/instance': 'cert-manager',
          'app.kubernetes.io/version': 'v1.19.1',
          'helm.sh/chart': 'cert-manager-v1.19.1',
        },
      },
      spec: {
        replicas: 1,
        template: {
          spec: {
            containers: [
              {
                name: 'cert-manager-controller',
                image: 'quay.io/jetstack/cert-manager-controller:v1.19.1',
              },
            ],
          },
        },
      },
      status: { readyReplicas: 1 },
    });
    const src = open(await ctx(s.url, { who: 'viewer' }));
    const snap = await waitUntil('addons synced', () => {
      const v = src.snapshot();
      return v.addons.synced && v.addons.value?.length === 5 ? v : undefined;
    });
    // kubernetes-dashboard and monitoring are forbidden to this user: not the section's error.
    expect(snap.addons.error).toBeUndefined();
    expect(snap.addons.value?.find((a) => a.addon === 'cert-manager')).toMatchObject({
      namespace: 'cert-manager',
      version: 'v1.19.1',
      chart: { name: 'cert-manager', version: 'v1.19.1' },
    });
  });

  it('pages a large list (limit/continue) and bounds the object count', async () => {
    const s = await server();
    for (let i = 0; i < 25; i++) {
      s.put('pods', {
        metadata: {
          name: `cilium-extra-${String(i).padStart(2, '0')}`,
          namespace: 'kube-system',
          labels: { 'k8s-app': 'cilium' },
        },
        spec: { containers: [{ name: 'cilium-agent', image: 'x' }] },
        status: { phase: 'Running' },
      });
    }
    const src = open(await ctx(s.url), {
      timing: { ...FAST, watch: { ...FAST.watch, pageSize: 10 } },
      limits: { maxPods: 20 },
    });
    const sec = await waitUntil(
      'listed',
      () => src.snapshot().ciliumPods.value && src.snapshot().ciliumPods,
    );
    expect(sec.value).toHaveLength(20);
    expect(sec.truncated).toBe(true);
    expect(
      s.count(
        (r) =>
          r.path === '/api/v1/namespaces/kube-system/pods' &&
          r.query.labelSelector === 'k8s-app=cilium' &&
          !r.query.watch,
      ),
    ).toBe(2);
  });
});

describe('Kubernetes-API-shaped test server: CiliumBGPNodeConfig version discovery', () => {
  it('Cilium ≥ 1.18: cilium.io/v2 serves it (preferred)', async () => {
    const s = await server({ cilium: 'v2+v2alpha1' });
    const src = open(await ctx(s.url));
    const bgp = await waitUntil(
      'bgp',
      () => src.snapshot().bgp.value?.nodes.length === 3 && src.snapshot().bgp.value,
    );
    expect(bgp.apiVersion).toBe('cilium.io/v2');
    const w1 = bgp.nodes.find((n) => n.node === 'worker-1')!;
    expect(w1.instances[0]).toMatchObject({ name: 'instance-65001', localASN: 65001 });
    expect(w1.instances[0]!.peers[0]).toMatchObject({
      name: 'tor-1',
      peerAddress: '10.77.0.1',
      peerASN: 65000,
      peeringState: 'established',
      routesReceived: 1,
      routesAdvertised: 3,
      holdTimeSeconds: 90,
    });
    expect(s.count((r) => r.path === '/apis/cilium.io/v2/ciliumbgpnodeconfigs')).toBeGreaterThan(0);
    expect(s.count((r) => r.path === '/apis/cilium.io/v2alpha1/ciliumbgpnodeconfigs')).toBe(0);
    // The node config's spec ties the peer to its PeerConfig; the other kinds at v2 too.
    expect(w1.specPeers).toEqual([
      expect.objectContaining({ name: 'tor-1', peerConfigRef: 'cilium-peer' }),
    ]);
    const snap = await waitUntil(
      'the BGP configuration kinds and Services',
      () =>
        src.snapshot().bgpPeerConfigs.value?.items.length === 1 &&
        src.snapshot().bgpAdvertisements.value?.items.length === 1 &&
        src.snapshot().bgpClusterConfigs.value?.items.length === 1 &&
        src.snapshot().services.value?.length === 1 &&
        src.snapshot(),
    );
    expect(snap.bgpPeerConfigs.value).toMatchObject({
      apiVersion: 'cilium.io/v2',
      items: [{ name: 'cilium-peer', holdTimeSeconds: 9, authSecretRef: 'bgp-auth-secret' }],
    });
    expect(snap.bgpAdvertisements.value?.apiVersion).toBe('cilium.io/v2');
    expect(snap.bgpClusterConfigs.value?.items[0]?.name).toBe('lab-bgp');
    expect(snap.services.value?.[0]).toMatchObject({
      namespace: 'shop',
      name: 'web',
      loadBalancerIPs: ['10.77.100.11'],
    });
    // A change is watched: the VIP moved by LB-IPAM.
    const svc = fixture<
      Parameters<KubeApiServer['put']>[1] & {
        status: { loadBalancer: { ingress: Array<{ ip: string }> } };
      }
    >('service-loadbalancer.json');
    svc.status.loadBalancer.ingress[0]!.ip = '10.77.100.12';
    s.put('services', svc);
    await waitUntil(
      'the moved VIP',
      () => src.snapshot().services.value?.[0]?.loadBalancerIPs[0] === '10.77.100.12',
    );
  });

  it('Cilium 1.16/1.17: v2 is served but without BGP node configs → v2alpha1', async () => {
    const s = await server({ cilium: 'v2alpha1-only-bgp' });
    const src = open(await ctx(s.url));
    const bgp = await waitUntil(
      'bgp',
      () => src.snapshot().bgp.value?.nodes.length === 3 && src.snapshot().bgp.value,
    );
    expect(bgp.apiVersion).toBe('cilium.io/v2alpha1');
    // Four kinds discovered, the discovery documents asked for once.
    expect(s.count((r) => r.path === '/apis/cilium.io/v2')).toBe(1);
    expect(s.count((r) => r.path === '/apis/cilium.io/v2/ciliumbgpnodeconfigs')).toBe(0);
    const peers = await waitUntil(
      'peer configs',
      () =>
        src.snapshot().bgpPeerConfigs.value?.items.length === 1 &&
        src.snapshot().bgpPeerConfigs.value,
    );
    expect(peers.apiVersion).toBe('cilium.io/v2alpha1');
    const adverts = await waitUntil(
      'advertisements',
      () => src.snapshot().bgpAdvertisements.value?.apiVersion,
    );
    expect(adverts).toBe('cilium.io/v2alpha1');
    expect(s.count((r) => r.path === '/apis/cilium.io/v2/ciliumbgppeerconfigs')).toBe(0);
  });

  it('no cilium.io group, or no BGP CRDs: absent with a reason (and re-discovered when it appears)', async () => {
    const s = await server({ cilium: 'absent' });
    const src = open(await ctx(s.url));
    const a = await waitUntil('absent', () => src.snapshot().bgp.value?.absent);
    expect(a).toBe('API group cilium.io is not served (its CRDs are not installed)');
    s.setCilium('no-bgp');
    const b = await waitUntil(
      'no bgp',
      () =>
        src.snapshot().bgp.value?.absent?.startsWith('ciliumbgpnodeconfigs') &&
        src.snapshot().bgp.value?.absent,
    );
    expect(b).toBe('ciliumbgpnodeconfigs.cilium.io is not served (cilium.io serves v2, v2alpha1)');
    await waitUntil('the other kinds absent too', () =>
      src.snapshot().bgpAdvertisements.value?.absent?.startsWith('ciliumbgpadvertisements'),
    );
    s.setCilium('v2+v2alpha1');
    await waitUntil('appeared', () => src.snapshot().bgp.value?.apiVersion === 'cilium.io/v2');
  });
});

describe('Kubernetes-API-shaped test server: ingress-nginx controller logs', () => {
  const POD_A = 'ingress-nginx-controller-7c9d8b6f4-c2n8r';
  const POD_B = 'ingress-nginx-controller-7c9d8b6f4-d5t6s';

  it('follows the controller pods into a bounded ring (lines, bytes, long lines cut)', async () => {
    const s = await server();
    for (let i = 0; i < 3; i++) s.appendLog('ingress-nginx', POD_A, 'controller', `old ${i}`);
    const src = open(await ctx(s.url), { limits: { logLines: 5, logMaxLineBytes: 64 } });
    await waitUntil('following', () => s.followCount() === 2);
    expect(src.snapshot().ingressLog.following).toEqual([
      `ingress-nginx/${POD_A}`,
      `ingress-nginx/${POD_B}`,
    ]);
    await waitUntil('tail', () => src.snapshot().ingressLog.total === 3);
    s.appendLog('ingress-nginx', POD_B, 'controller', 'from b');
    await waitUntil('b', () =>
      src.snapshot().ingressLog.lines.some((l) => l.pod === POD_B && l.text === 'from b'),
    );
    // One pod: lines of one stream arrive in order (two streams interleave arbitrarily).
    for (let i = 0; i < 10; i++)
      s.appendLog('ingress-nginx', POD_A, 'controller', `10.0.0.${i} - - "GET / HTTP/1.1" 200 HIT`);
    s.appendLog('ingress-nginx', POD_A, 'controller', `long ${'x'.repeat(300)}`);
    const log = await waitUntil('streamed', () =>
      src.snapshot().ingressLog.total === 15 ? src.snapshot().ingressLog : undefined,
    );
    expect(log.lines).toHaveLength(5);
    expect(log.dropped).toBe(10);
    const last = log.lines.at(-1)!;
    expect(last.truncated).toBe(true);
    expect(last.text.length).toBeLessThanOrEqual(64);
    expect(last.pod).toBe(POD_A);
    expect(last.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    expect(log.lines.map((l) => l.seq)).toEqual([11, 12, 13, 14, 15]);
    const q = s.requests.find((r) => r.path.endsWith(`${POD_A}/log`))!.query;
    expect(q).toMatchObject({ follow: 'true', timestamps: 'true', tailLines: '200' });
  });

  it('a dropped log stream resumes at sinceTime without duplicating lines', async () => {
    const s = await server();
    const src = open(await ctx(s.url));
    await waitUntil('following', () => s.followCount() === 2);
    for (const t of ['a1', 'a2', 'a3']) s.appendLog('ingress-nginx', POD_A, 'controller', t);
    await waitUntil('a3', () => src.snapshot().ingressLog.lines.some((l) => l.text === 'a3'));
    expect(s.dropLogFollows()).toBe(2);
    s.appendLog('ingress-nginx', POD_A, 'controller', 'a4');
    await waitUntil('a4', () => src.snapshot().ingressLog.lines.some((l) => l.text === 'a4'), 8000);
    s.appendLog('ingress-nginx', POD_A, 'controller', 'a5');
    await waitUntil('a5', () => src.snapshot().ingressLog.lines.some((l) => l.text === 'a5'));
    expect(
      src
        .snapshot()
        .ingressLog.lines.filter((l) => l.pod === POD_A)
        .map((l) => l.text),
    ).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(s.requests.some((r) => r.path.endsWith(`${POD_A}/log`) && r.query.sinceTime)).toBe(true);
  });

  it('stops following a deleted pod and starts on a new one', async () => {
    const s = await server();
    const src = open(await ctx(s.url));
    await waitUntil('following', () => s.followCount() === 2);
    s.remove('pods', POD_B, 'ingress-nginx');
    await waitUntil(
      'one',
      () => src.snapshot().ingressLog.following.length === 1 && s.followCount() === 1,
    );
    const p = structuredClone(s.get('pods', POD_A, 'ingress-nginx')!);
    p.metadata.name = 'ingress-nginx-controller-7c9d8b6f4-zz9zz';
    s.put('pods', p);
    await waitUntil('two', () =>
      src
        .snapshot()
        .ingressLog.following.includes('ingress-nginx/ingress-nginx-controller-7c9d8b6f4-zz9zz'),
    );
  });
});

describe('Kubernetes-API-shaped test server: contexts and the store', () => {
  it('switches context at runtime: new watches, old ones closed; a missing context is a clear error', async () => {
    const s = await server();
    const src = new SwitchableKubeSource(open(await ctx(s.url, { contexts: ['lab-2'] })));
    sources.push(src);
    expect(src.contexts().map((c) => [c.name, c.current])).toEqual([
      ['lab', true],
      ['lab-2', false],
    ]);
    await waitUntil(
      'synced',
      () => src.snapshot().nodes.value?.length === 3 && s.watchCount('nodes') === 1,
    );
    let notified = 0;
    src.onChange(() => notified++);
    const bad = await src.switchContext('prod');
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.kind).toBe('context-missing');
      expect(bad.error.message).toBe('context "prod" not found in <memory>; available: lab, lab-2');
    }
    expect(src.context).toBe('lab');
    const old = src.current;
    const ok = await src.switchContext('lab-2');
    expect(ok).toEqual({ ok: true, context: 'lab-2' });
    expect(src.context).toBe('lab-2');
    expect(src.snapshot().api.context).toBe('lab-2');
    await expect(old.listNodes()).rejects.toMatchObject({ kind: 'closed' });
    await waitUntil(
      'rewatched',
      () => src.snapshot().nodes.value?.length === 3 && s.watchCount('nodes') === 1,
    );
    expect(notified).toBeGreaterThan(0);
  });

  it('writes each section into the store (nodes under `kube`, like the polled collector)', async () => {
    const s = await server();
    const src = open(await ctx(s.url));
    const store = new Store({ schedule: (f) => f() });
    const unbind = bindKubeToStore(src, store);
    await waitUntil(
      'store',
      () => (store.get('cluster', 'kube').value as unknown[] | undefined)?.length === 3,
    );
    await waitUntil('bgp', () => store.get('cluster', 'kube.bgp').value);
    expect(store.get('cluster', 'kube.api').value).toMatchObject({
      context: 'lab',
      reachable: true,
    });
    const before = store.get('cluster', 'kube');
    s.setNodeReady('worker-2', false, 'NodeStatusUnknown', 'Kubelet stopped posting node status.');
    await waitUntil('changed', () => store.get('cluster', 'kube') !== before);
    const nodes = store.get<Array<{ name: string; ready: boolean; reason?: string }>>(
      'cluster',
      'kube',
    ).value!;
    expect(nodes.find((n) => n.name === 'worker-2')).toMatchObject({
      ready: false,
      reason: 'NodeStatusUnknown: Kubelet stopped posting node status.',
    });
    await s.close();
    const snap = await waitUntil(
      'stale',
      () => store.get('cluster', 'kube').error && store.get('cluster', 'kube'),
    );
    expect(snap.stale).toBe(true);
    expect(snap.value).toHaveLength(3);
    unbind();
  });
});
