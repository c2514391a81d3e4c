/**
 * cert-manager Certificates through KubeClusterSource, against the Kubernetes-API-shaped test
 * server (test/helpers/kube-api-server.ts: node:https speaking the API; no kube-apiserver or
 * cert-manager runs here). Payloads are cert-manager 1.19's shape
 * (test/fixtures/kube/certificate-cert-manager-1.19.json, secret-tls.json, ingress.json);
 * the Secrets' certificates are made by the real `openssl`. Checked: Ready, the Secret's
 * actual notAfter against status.notAfter, SANs against the Ingress hosts, a missing Secret,
 * cert-manager not installed, the PKI tree's ACME branch — and that `tls.key` never reaches
 * the store.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acmeBranch, acmeModel } from '../../../src/features/nginx/acme.js';
import { KubeClusterSource } from '../../../src/kube/cluster-source.js';
import { bindKubeToStore } from '../../../src/kube/collect.js';
import { kubeContextFromString } from '../../../src/kube/kubeconfig.js';
import type { AcmeCertificates, KubeIngress } from '../../../src/kube/types.js';
import { visibleDeep } from '../../../src/store/sanitise.js';
import { Store } from '../../../src/store/store.js';
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

const DAY = 86_400_000;
let pki: KubePki;
let dir: string;
const servers: KubeApiServer[] = [];
const sources: KubeClusterSource[] = [];

beforeAll(async () => {
  pki = await generateKubePki();
  dir = mkdtempSync(join(tmpdir(), 'k8ops-acme-'));
}, 60_000);
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => {
  pki?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function issue(name: string, hosts: string[], days: number): { pem: string; notAfter: string } {
  const o = (args: string[], input?: string) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], input });
  o([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}-ca.key`,
    '-out',
    `${name}-ca.pem`,
    '-subj',
    '/CN=(STAGING) Test ACME CA',
    '-days',
    '30',
  ]);
  writeFileSync(
    join(dir, `${name}.ext`),
    `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}\nextendedKeyUsage=serverAuth\n`,
  );
  o([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${hosts[0]}`,
  ]);
  o([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${name}-ca.pem`,
    '-CAkey',
    `${name}-ca.key`,
    '-set_serial',
    '4242',
    '-out',
    `${name}.pem`,
    '-days',
    String(days),
    '-extfile',
    `${name}.ext`,
  ]);
  const pem = `${readFileSync(join(dir, `${name}.pem`), 'utf8')}${readFileSync(join(dir, `${name}-ca.pem`), 'utf8')}`;
  const end = execFileSync(
    'openssl',
    ['x509', '-noout', '-enddate', '-in', join(dir, `${name}.pem`)],
    { encoding: 'utf8' },
  );
  const notAfter = new Date(end.trim().replace('notAfter=', ''))
    .toISOString()
    .replace('.000Z', 'Z');
  return { pem, notAfter };
}

type Obj = Record<string, unknown> & { metadata: { name: string; namespace?: string } };

function certificate(
  name: string,
  hosts: string[],
  notAfter: string | undefined,
  ready = true,
): Obj {
  const c = fixture<Obj>('certificate-cert-manager-1.19.json');
  c.metadata = { ...c.metadata, name, namespace: 'shop' };
  const spec = c.spec as Record<string, unknown>;
  spec.dnsNames = hosts;
  spec.secretName = name;
  const status = c.status as Record<string, unknown>;
  if (notAfter) {
    status.notAfter = notAfter;
    status.renewalTime = new Date(Date.parse(notAfter) - 30 * DAY).toISOString();
  } else delete status.notAfter;
  if (!ready)
    status.conditions = [
      {
        lastTransitionTime: '2026-12-01T10:00:00Z',
        message: 'Issuing certificate as Secret does not exist',
        observedGeneration: 1,
        reason: 'DoesNotExist',
        status: 'False',
        type: 'Ready',
      },
      {
        lastTransitionTime: '2026-12-01T10:00:00Z',
        message: 'Issuing certificate as Secret does not exist',
        observedGeneration: 1,
        reason: 'DoesNotExist',
        status: 'True',
        type: 'Issuing',
      },
    ];
  return c;
}

function secret(name: string, pem: string): Obj {
  const s = fixture<Obj>('secret-tls.json');
  s.metadata = { ...s.metadata, name, namespace: 'shop' };
  (s.data as Record<string, string>)['tls.crt'] = Buffer.from(pem).toString('base64');
  return s;
}

function ingress(name: string, host: string, secretName: string): Obj {
  const i = fixture<Obj>('ingress.json');
  i.metadata = { ...i.metadata, name, namespace: 'shop' };
  const spec = i.spec as {
    rules: Array<{ host: string }>;
    tls: Array<{ hosts: string[]; secretName: string }>;
  };
  spec.rules[0]!.host = host;
  spec.tls = [{ hosts: [host], secretName }];
  return i;
}

async function openSource(
  server: KubeApiServer,
): Promise<{ src: KubeClusterSource; store: Store }> {
  const r = await kubeContextFromString(
    kubeconfigYaml({
      server: server.url,
      caPem: pki.ca.certPem,
      certPem: pki.admin.certPem,
      keyPem: pki.adminKeySec1Pem,
    }),
  );
  if (!r.ok) throw r.error;
  const src = new KubeClusterSource({ config: r.config, timing: FAST });
  sources.push(src);
  const store = new Store();
  bindKubeToStore(src, store);
  return { src, store };
}

describe('cert-manager Certificates on the Kubernetes-API-shaped test server (cert-manager 1.19 payloads)', () => {
  it('reads each Secret’s real certificate, checks it against status and the Ingress hosts, never keeps tls.key', async () => {
    const server = await startKubeApiServer({ pki });
    servers.push(server);
    const shop = issue('shop', ['shop.lab.k8ops.test'], 90);
    // static's certificate lacks the host its Ingress serves, and status says another notAfter.
    const stat = issue('static', ['cdn.lab.k8ops.test'], 20);
    server.put('certificates', certificate('shop-tls', ['shop.lab.k8ops.test'], shop.notAfter));
    server.put('secrets', secret('shop-tls', shop.pem));
    server.put(
      'certificates',
      certificate('static-tls', ['static.lab.k8ops.test'], '2027-06-01T00:00:00Z'),
    );
    server.put('secrets', secret('static-tls', stat.pem));
    server.put('certificates', certificate('api-tls', ['api.lab.k8ops.test'], undefined, false));
    server.put('ingresses', ingress('shop', 'shop.lab.k8ops.test', 'shop-tls'));
    server.put('ingresses', ingress('static', 'static.lab.k8ops.test', 'static-tls'));
    server.put('ingresses', ingress('api', 'api.lab.k8ops.test', 'api-tls'));

    const { store } = await openSource(server);
    const read = () => ({
      certs: store.get<AcmeCertificates>('cluster', 'kube.certificates'),
      ing: store.get<KubeIngress[]>('cluster', 'kube.ingresses'),
    });
    await waitUntil(
      'three Certificates with their Secrets read, and three Ingresses',
      () => {
        const { certs, ing } = read();
        return (
          ing.value?.length === 3 &&
          certs.value?.certificates.length === 3 &&
          certs.value.certificates.every((c) => c.secret !== undefined)
        );
      },
      15_000,
    );
    const { certs, ing } = read();
    // The private key placeholder of the fixture never reaches the store.
    const stored = JSON.stringify(certs.value);
    expect(stored).not.toContain('PRIVATE KEY');
    expect(stored).not.toContain(
      (fixture<Obj>('secret-tls.json').data as Record<string, string>)['tls.key'],
    );
    expect(stored).not.toContain('tls.key');

    // As the session stores it: every string made visible (a PEM's newlines would not survive).
    const m = acmeModel({ value: visibleDeep(certs.value!) }, visibleDeep(ing.value), Date.now());
    const by = Object.fromEntries(m.rows.map((r) => [r.name, r]));
    expect(by['shop-tls']!.findings).toEqual([]);
    expect(by['shop-tls']!.sans).toEqual(['shop.lab.k8ops.test']);
    expect(by['shop-tls']!.notAfter).toBe(Date.parse(shop.notAfter));
    expect(by['shop-tls']!.issuer).toBe('ClusterIssuer/letsencrypt-prod');
    expect(by['static-tls']!.uncovered).toEqual(['static.lab.k8ops.test']);
    expect(by['static-tls']!.findings.map((f) => f.id).sort()).toEqual([
      'acme-host-not-covered',
      'acme-status-mismatch',
    ]);
    // The Secret's certificate wins over status.notAfter.
    expect(by['static-tls']!.notAfter).toBe(Date.parse(stat.notAfter));
    expect(by['api-tls']!.findings.map((f) => f.id).sort()).toEqual([
      'acme-not-ready',
      'acme-secret',
    ]);
    expect(by['api-tls']!.secretError).toBe('Secret shop/api-tls does not exist');
    expect(by['api-tls']!.issuing).toBe(true);
    // Sooner expiry first.
    expect(m.rows.map((r) => r.name)).toEqual(['static-tls', 'shop-tls', 'api-tls']);

    const b = acmeBranch(m)!;
    expect(b.root.subject).toBe('ACME (cert-manager)');
    expect(b.root.worst).toBe('critical');
    expect(b.root.children.map((c) => c.kind === 'cert' && c.locations[0]!.path)).toEqual([
      'shop/static-tls',
      'shop/shop-tls',
    ]);
  }, 60_000);

  it('says cert-manager is not installed when certificates are not served (404)', async () => {
    const server = await startKubeApiServer({ pki, certManager: false });
    servers.push(server);
    const { store } = await openSource(server);
    await waitUntil(
      'the certificates section says cert-manager is absent',
      () => store.get<AcmeCertificates>('cluster', 'kube.certificates').value?.absent,
      15_000,
    );
    const m = acmeModel(
      { value: store.get<AcmeCertificates>('cluster', 'kube.certificates').value! },
      [],
      Date.now(),
    );
    expect(m.absent).toMatch(/cert-manager is not installed/);
    expect(m.rows).toEqual([]);
  }, 30_000);
});
