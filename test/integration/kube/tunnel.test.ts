/**
 * The API tunnel against the Kubernetes-API-shaped test server, with a plain TCP proxy
 * standing in for the SSH forward: k8ops dials 127.0.0.1:<forward> and still verifies the
 * server certificate against the real name. (The same through a real sshd bastion is in
 * tunnel-sshd.test.ts.) Addresses in kubeconfigs here are only names handed to the fake
 * forward; every connection goes to 127.0.0.1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  KubeClusterSource,
  type KubeClusterSourceOptions,
} from '../../../src/kube/cluster-source.js';
import { type KubeContextConfig, kubeContextFromString } from '../../../src/kube/kubeconfig.js';
import { openKubeSource } from '../../../src/kube/open.js';
import { connectThroughTunnel } from '../../../src/kube/tunnel.js';
import {
  generateKubePki,
  type KubeApiServer,
  type KubePki,
  kubeconfigYaml,
  startKubeApiServer,
  waitUntil,
} from '../../helpers/kube-api-server.js';
import { closedPort, FAST, fakeForward, tcpProxy } from './common.js';

let pki: KubePki;
let api: KubeApiServer;
const sources: Array<{ close(): Promise<void> }> = [];
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  pki = await generateKubePki();
  api = await startKubeApiServer({ pki });
});
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  await Promise.all(cleanups.splice(0).map((f) => f()));
});
afterAll(async () => {
  await api?.close();
  pki?.cleanup();
});

async function ctx(server: string, tlsServerName?: string): Promise<KubeContextConfig> {
  const r = await kubeContextFromString(
    kubeconfigYaml({
      server,
      caPem: pki.ca.certPem,
      certPem: pki.admin.certPem,
      keyPem: pki.admin.keyPem,
      ...(tlsServerName ? { tlsServerName } : {}),
    }),
  );
  if (!r.ok) throw r.error;
  return r.config;
}

function open(opts: KubeClusterSourceOptions): KubeClusterSource {
  const s = new KubeClusterSource({ timing: FAST, ...opts });
  sources.push(s);
  cleanups.push(async () => {
    const f = opts.openForward as ReturnType<typeof fakeForward> | undefined;
    await Promise.all((f?.proxies ?? []).map((p) => p.close()));
  });
  return s;
}

describe('Kubernetes-API-shaped test server through a TCP forward (the API tunnel)', () => {
  it('connectThroughTunnel points the client at 127.0.0.1:<forward> and keeps the real TLS name', async () => {
    const fwd = fakeForward(() => api.port);
    const t = await connectThroughTunnel(
      await ctx('https://10.77.0.11:6443', 'kube-api.test'),
      fwd,
    );
    cleanups.push(() => t.close());
    expect(fwd.calls).toEqual([['10.77.0.11', 6443]]);
    expect(t.endpoint).toMatchObject({
      via: 'tunnel',
      connectHost: '127.0.0.1',
      connectPort: t.localPort,
      verifyName: 'kube-api.test',
      sni: 'kube-api.test',
      server: 'https://10.77.0.11:6443',
    });
    expect(t.kubeConfig.getCurrentCluster()).toMatchObject({
      server: `https://127.0.0.1:${t.localPort}`,
      tlsServerName: 'kube-api.test',
    });
  });

  it('tunnel: always — watches run through the forward, verified against tls-server-name', async () => {
    const fwd = fakeForward(() => api.port);
    const src = open({
      config: await ctx('https://10.77.0.11:6443', 'kube-api.test'),
      tunnel: 'always',
      openForward: fwd,
    });
    await waitUntil('nodes', () => src.snapshot().nodes.value?.length === 3);
    const a = src.snapshot().api;
    expect(a).toMatchObject({
      via: 'tunnel',
      reachable: true,
      tlsServerName: 'kube-api.test',
      server: 'https://10.77.0.11:6443',
    });
    expect(a.connectedTo).toBe(`127.0.0.1:${fwd.proxies[0]!.port}`);
    expect(fwd.calls).toEqual([['10.77.0.11', 6443]]);
    expect(fwd.proxies[0]!.accepted).toBeGreaterThan(0);
  });

  it('tunnel: the server URL host is the verified name when there is no tls-server-name (DNS and IP)', async () => {
    const viaDns = open({
      config: await ctx('https://kube-api.test:6443'),
      tunnel: 'always',
      openForward: fakeForward(() => api.port),
    });
    await waitUntil('dns name verified', () => viaDns.snapshot().nodes.value?.length === 3);
    const viaIp = open({
      config: await ctx('https://10.77.0.11:6443'),
      tunnel: 'always',
      openForward: fakeForward(() => api.port),
    });
    await waitUntil('IP SAN verified', () => viaIp.snapshot().nodes.value?.length === 3);
    expect(viaIp.snapshot().api.tlsServerName).toBe('10.77.0.11');
  });

  it('tunnel: fails with a clear TLS error when the real name does not match the certificate', async () => {
    const byName = open({
      config: await ctx('https://wrong.test:6443'),
      tunnel: 'always',
      openForward: fakeForward(() => api.port),
    });
    const e1 = await waitUntil('tls', () => byName.snapshot().api.error);
    expect(e1.kind).toBe('tls');
    expect(e1.message).toContain('not valid for "wrong.test"');
    const byIp = open({
      config: await ctx('https://10.77.0.99:6443'),
      tunnel: 'always',
      openForward: fakeForward(() => api.port),
    });
    const e2 = await waitUntil('tls', () => byIp.snapshot().api.error);
    expect(e2.kind).toBe('tls');
    expect(e2.message).toContain('not valid for "10.77.0.99"');
    expect(byIp.snapshot().nodes.value).toBeUndefined();
  });

  it('tunnel: a forward that cannot be opened is a `tunnel` error', async () => {
    const fwd = fakeForward(() => api.port);
    fwd.fail = new Error('ssh: bastion: connect ECONNREFUSED');
    const src = open({
      config: await ctx('https://10.77.0.11:6443', 'kube-api.test'),
      tunnel: 'always',
      openForward: fwd,
    });
    const e = await waitUntil('tunnel error', () => src.snapshot().api.error);
    expect(e).toEqual({
      kind: 'tunnel',
      message:
        'SSH tunnel to the API server 10.77.0.11:6443 could not be opened: ssh: bastion: connect ECONNREFUSED',
    });
    expect((await waitUntil('nodes error', () => src.snapshot().nodes.error)).kind).toBe('tunnel');
  });

  it('auto: direct connection refused → falls back to the tunnel with a notice', async () => {
    const port = await closedPort();
    const fwd = fakeForward(() => api.port);
    const src = open({
      config: await ctx(`https://127.0.0.1:${port}`, 'kube-api.test'),
      tunnel: 'auto',
      openForward: fwd,
    });
    await waitUntil('nodes', () => src.snapshot().nodes.value?.length === 3);
    const a = src.snapshot().api;
    expect(a.via).toBe('tunnel');
    expect(a.notice).toBe(
      `API server 127.0.0.1:${port} not reachable directly (ECONNREFUSED); using the SSH tunnel (127.0.0.1:${fwd.proxies[0]!.port})`,
    );
    expect(fwd.calls).toEqual([['127.0.0.1', port]]);
  });

  it('auto: a working direct connection never opens the tunnel', async () => {
    const fwd = fakeForward(() => api.port);
    const src = open({
      config: await ctx(api.url, 'kube-api.test'),
      tunnel: 'auto',
      openForward: fwd,
    });
    await waitUntil('nodes', () => src.snapshot().nodes.value?.length === 3);
    expect(src.snapshot().api.via).toBe('direct');
    expect(src.snapshot().api.notice).toBeUndefined();
    expect(fwd.calls).toEqual([]);
  });

  it('auto: the direct path dies later → the watches move to the tunnel and resume', async () => {
    const direct = await tcpProxy(api.port);
    cleanups.push(() => direct.close());
    const fwd = fakeForward(() => api.port);
    const src = open({
      config: await ctx(`https://127.0.0.1:${direct.port}`, 'kube-api.test'),
      tunnel: 'auto',
      openForward: fwd,
    });
    await waitUntil(
      'nodes',
      () => src.snapshot().nodes.value?.length === 3 && api.watchCount('nodes') >= 1,
    );
    expect(src.snapshot().api.via).toBe('direct');
    await direct.close();
    await waitUntil(
      'moved',
      () => src.snapshot().api.via === 'tunnel' && src.snapshot().nodes.synced,
      10_000,
    );
    api.setNodeReady('worker-1', false);
    await waitUntil(
      'event via tunnel',
      () => src.snapshot().nodes.value?.find((n) => n.name === 'worker-1')?.ready === false,
    );
    api.setNodeReady('worker-1', true);
    expect(src.snapshot().api.notice).toMatch(
      /not reachable directly \((ECONNREFUSED|ECONNRESET)\); using the SSH tunnel/,
    );
  });

  it('openKubeSource: inventory kube.tunnel: true → always through the forward', async () => {
    const dir = pki.dir;
    const file = `${dir}/kubeconfig-open`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      file,
      kubeconfigYaml({
        server: 'https://10.77.0.11:6443',
        caPem: pki.ca.certPem,
        certPem: pki.admin.certPem,
        keyPem: pki.admin.keyPem,
        tlsServerName: 'kube-api.test',
        extraContexts: ['other'],
      }),
    );
    const fwd = fakeForward(() => api.port);
    const r = await openKubeSource({
      inventory: {
        kube: { kubeconfig: file, tunnel: true },
        ingress: { namespace: 'ingress-nginx', cacheZone: 'c' },
      },
      context: 'lab',
      openForward: fwd,
      timing: FAST,
    });
    if (!r.ok) throw r.error;
    sources.push(r.source);
    cleanups.push(async () => {
      await Promise.all(fwd.proxies.map((p) => p.close()));
    });
    expect(r.mode).toBe('always');
    await waitUntil('nodes', () => r.source.snapshot().nodes.value?.length === 3);
    expect(r.source.snapshot().api.via).toBe('tunnel');
    const missing = await openKubeSource({
      inventory: {
        kube: { kubeconfig: file, tunnel: false },
        ingress: { namespace: 'ingress-nginx', cacheZone: 'c' },
      },
      context: 'nope',
    });
    expect(missing.ok).toBe(false);
    if (!missing.ok)
      expect(missing.error.message).toBe(
        `context "nope" not found in ${file}; available: lab, other`,
      );
  });
});
