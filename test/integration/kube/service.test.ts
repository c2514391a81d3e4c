/**
 * KubeClusterSource.getService — how the Flows feature finds hubble-relay's ClusterIP —
 * against the Kubernetes-API-shaped test server (test/helpers/kube-api-server.ts; no
 * kube-apiserver runs here), the Service shaped like the Cilium chart's
 * (test/fixtures/kube/service-hubble-relay.json): found, not found (a real-shaped 404
 * Status), forbidden (403 naming verb and resource).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeClusterSource } from '../../../src/kube/cluster-source.js';
import { kubeContextFromString } from '../../../src/kube/kubeconfig.js';
import {
  fixture,
  generateKubePki,
  type KubeApiServer,
  type KubePki,
  kubeconfigYaml,
  startKubeApiServer,
  waitUntil,
} from '../../helpers/kube-api-server.js';
import { FAST } from './common.js';

let pki: KubePki;
const servers: KubeApiServer[] = [];
const sources: KubeClusterSource[] = [];
beforeAll(async () => {
  pki = await generateKubePki();
}, 60_000);
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => pki?.cleanup());

async function source(server: KubeApiServer, as: 'admin' | 'viewer'): Promise<KubeClusterSource> {
  const who = as === 'admin' ? pki.admin : pki.viewer;
  const r = await kubeContextFromString(
    kubeconfigYaml({
      server: server.url,
      caPem: pki.ca.certPem,
      certPem: who.certPem,
      keyPem: as === 'admin' ? pki.adminKeySec1Pem : who.keyPem,
    }),
  );
  if (!r.ok) throw r.error;
  const src = new KubeClusterSource({ config: r.config, timing: FAST });
  sources.push(src);
  await waitUntil('the API answers', () => src.snapshot().api.reachable === true, 15_000);
  return src;
}

describe('getService on the Kubernetes-API-shaped test server', () => {
  it('hubble-relay’s ClusterIP and port; a missing Service and a forbidden GET are KubeErrors', async () => {
    const server = await startKubeApiServer({ pki, seed: false });
    servers.push(server);
    server.put('services', fixture('service-hubble-relay.json') as never);
    const admin = await source(server, 'admin');
    await expect(admin.getService('kube-system', 'hubble-relay')).resolves.toEqual({
      namespace: 'kube-system',
      name: 'hubble-relay',
      type: 'ClusterIP',
      clusterIP: '10.96.148.27',
      ports: [{ port: 80, targetPort: 4245, protocol: 'TCP' }],
    });
    await expect(admin.getService('kube-system', 'nope')).rejects.toMatchObject({
      kind: 'not-found',
    });
    // The viewer has no rule for services.
    const viewer = await source(server, 'viewer');
    const e = await viewer.getService('kube-system', 'hubble-relay').catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'forbidden' });
    expect(String((e as Error).message)).toMatch(/services/);
  }, 60_000);
});
