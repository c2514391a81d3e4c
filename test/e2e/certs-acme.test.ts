/**
 * `k8ops certs` (built) with the ACME (cert-manager) branch, on a live inventory: a node's
 * PKI made by the project's CFSSL scripts and read over real sshd (the ssh lab), and the
 * cluster's cert-manager Certificates on the Kubernetes-API-shaped test server
 * (test/helpers/kube-api-server.ts: cert-manager 1.19's payloads; no kube-apiserver or
 * cert-manager runs here), their Secrets holding certificates made by the real openssl.
 * Checked: the branch in --json, --prometheus and text with the same checks and exit codes
 * as the console's PKI tree; the kube API going away (a warning, not silence); no branch
 * and no kube source without a kubeconfig.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../helpers/build.js';
import {
  fixture,
  generateKubePki,
  type KubeApiServer,
  type KubePki,
  kubeconfigYaml,
  startKubeApiServer,
} from '../helpers/kube-api-server.js';
import { buildLab } from '../helpers/pki-lab.js';
import { describeLab } from '../helpers/sshd-suite.js';

const DAY = 86_400_000;

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
      timeout: 120_000,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

type Obj = Record<string, unknown> & { metadata: { name: string; namespace?: string } };

interface CertsDoc {
  exitCode: number;
  summary: { critical: number; warning: number; certificates: number };
  tree: Array<{
    role: string;
    subject?: string;
    commonName?: string;
    children: Array<{ commonName: string; locations: Array<{ node: string; path: string }> }>;
  }>;
  checks: Array<{ id: string; severity: string; node: string; path: string; message: string }>;
}

let kubePki: KubePki;
let dir: string;
beforeAll(async () => {
  ensureBuilt();
  kubePki = await generateKubePki();
  dir = mkdtempSync(join(tmpdir(), 'k8ops-certs-acme-'));
}, 120_000);
afterAll(() => {
  kubePki?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An ACME-like certificate (P-256, serverAuth) for `hosts`, by the real openssl. */
function issue(name: string, hosts: string[], days: number): { pem: string; notAfter: string } {
  const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  o(
    ['req', '-x509', ...ec, '-keyout', `${name}-ca.key`, '-out', `${name}-ca.pem`].concat([
      '-subj',
      '/CN=(STAGING) Test ACME CA',
      '-days',
      '100',
    ]),
  );
  writeFileSync(
    join(dir, `${name}.ext`),
    `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}\nextendedKeyUsage=serverAuth\n`,
  );
  o([
    'req',
    '-new',
    ...ec,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${hosts[0]}`,
  ]);
  o(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${name}-ca.pem`,
      '-CAkey',
      `${name}-ca.key`,
    ].concat([
      '-set_serial',
      '4242',
      '-out',
      `${name}.pem`,
      '-days',
      String(days),
      '-extfile',
      `${name}.ext`,
    ]),
  );
  const pem = readFileSync(join(dir, `${name}.pem`), 'utf8');
  const end = execFileSync(
    'openssl',
    ['x509', '-noout', '-enddate', '-in', join(dir, `${name}.pem`)],
    {
      encoding: 'utf8',
    },
  );
  const notAfter = new Date(end.trim().replace('notAfter=', ''))
    .toISOString()
    .replace('.000Z', 'Z');
  return { pem, notAfter };
}

function certificate(name: string, hosts: string[], notAfter: string): Obj {
  const c = fixture<Obj>('certificate-cert-manager-1.19.json');
  c.metadata = { ...c.metadata, name, namespace: 'shop' };
  const spec = c.spec as Record<string, unknown>;
  spec.dnsNames = hosts;
  spec.secretName = name;
  const status = c.status as Record<string, unknown>;
  status.notAfter = notAfter;
  status.renewalTime = new Date(Date.parse(notAfter) - 30 * DAY)
    .toISOString()
    .replace('.000Z', 'Z');
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
  const spec = i.spec as { rules: Array<{ host: string }>; tls: unknown[] };
  spec.rules[0]!.host = host;
  spec.tls = [{ hosts: [host], secretName }];
  return i;
}

describeLab('k8ops certs (built): the ACME (cert-manager) branch from the kube API', (lab) => {
  let server: KubeApiServer | undefined;
  afterAll(async () => {
    await server?.close();
  });

  it('--json, --prometheus and text carry the Certificates with their checks; exit codes follow them', async () => {
    const l = lab();
    const pkiLab = await buildLab(join(l.dir, 'acme-pki'), [
      { name: 'node1', roles: ['control-plane', 'etcd'], addresses: ['10.231.0.1'] },
    ]);
    server = await startKubeApiServer({ pki: kubePki });
    const shop = issue('shop', ['shop.lab.k8ops.test'], 80);
    server.put('certificates', certificate('shop-tls', ['shop.lab.k8ops.test'], shop.notAfter));
    server.put('secrets', secret('shop-tls', shop.pem));
    server.put('ingresses', ingress('shop', 'shop.lab.k8ops.test', 'shop-tls'));
    const kubeconfig = join(l.dir, 'acme-kubeconfig');
    writeFileSync(
      kubeconfig,
      kubeconfigYaml({
        server: server.url,
        caPem: kubePki.ca.certPem,
        certPem: kubePki.admin.certPem,
        keyPem: kubePki.adminKeySec1Pem,
      }),
      { mode: 0o600 },
    );
    const inv = (withKube: boolean) => {
      const file = join(l.dir, `k8ops-acme-${withKube}.yaml`);
      writeFileSync(
        file,
        [
          'cluster: sshlab',
          'nodes:',
          '  - name: node1',
          '    roles: [control-plane, etcd]',
          '    addresses: [10.231.0.1]',
          'pki:',
          `  dir: ${pkiLab.nodes.node1!.dir}`,
          ...(withKube ? ['kube:', `  kubeconfig: ${kubeconfig}`] : []),
        ].join('\n'),
      );
      return file;
    };
    const run = (file: string, ...extra: string[]) =>
      k8ops(['certs', ...extra, '--inventory', file, '--ssh-config', l.configFile], l.home);

    // Without a kubeconfig: the node's tree only (the baseline the ACME branch adds to).
    const bare = await run(inv(false), '--json');
    const bareDoc = JSON.parse(bare.stdout) as CertsDoc;
    expect(bareDoc.tree.length).toBeGreaterThan(0);
    expect(bareDoc.tree.some((t) => t.subject === 'ACME (cert-manager)')).toBe(false);
    expect(bareDoc.checks.filter((c) => c.node === 'cluster')).toEqual([]);

    // With it: the branch, its certificate counted, no finding for a healthy one.
    const ok = await run(inv(true), '--json');
    const doc = JSON.parse(ok.stdout) as CertsDoc;
    expect(doc.tree.map((t) => t.subject ?? t.commonName)).toContain('ACME (cert-manager)');
    const acme = doc.tree.find((t) => t.subject === 'ACME (cert-manager)')!;
    expect(acme.children.map((c) => [c.commonName, c.locations[0]])).toEqual([
      ['shop.lab.k8ops.test', { node: 'cluster', path: 'shop/shop-tls', index: 0 }],
    ]);
    expect(doc.summary.certificates).toBe(bareDoc.summary.certificates + 1);
    expect(doc.checks.filter((c) => c.node === 'cluster')).toEqual([]);
    expect(ok.code).toBe(bare.code);

    // A Certificate whose Secret does not cover its Ingress host, expiring in 3 days:
    // critical (host not covered) and a warning (expires soon): exit 2.
    const stat = issue('static', ['cdn.lab.k8ops.test'], 3);
    server.put('certificates', certificate('static-tls', ['static.lab.k8ops.test'], stat.notAfter));
    server.put('secrets', secret('static-tls', stat.pem));
    server.put('ingresses', ingress('static', 'static.lab.k8ops.test', 'static-tls'));
    const bad = await run(inv(true), '--json');
    const badDoc = JSON.parse(bad.stdout) as CertsDoc;
    expect(
      badDoc.checks
        .filter((c) => c.node === 'cluster')
        .map((c) => [c.id, c.severity, c.path])
        .sort(),
    ).toEqual([
      ['acme-expires-soon', 'warning', 'shop/static-tls'],
      ['acme-host-not-covered', 'critical', 'shop/static-tls'],
      ['acme-status-mismatch', 'warning', 'shop/static-tls'],
    ]);
    expect(badDoc.exitCode).toBe(2);
    expect(bad.code).toBe(2);
    // Sooner expiry first, as the PKI pane sorts them.
    expect(
      badDoc.tree
        .find((t) => t.subject === 'ACME (cert-manager)')!
        .children.map((c) => c.commonName),
    ).toEqual(['cdn.lab.k8ops.test', 'shop.lab.k8ops.test']);

    const prom = await run(inv(true), '--prometheus');
    expect(prom.code).toBe(2);
    expect(prom.stdout).toMatch(
      /^k8ops_cert_not_after_seconds\{node="cluster",path="shop\/shop-tls",index="0",cn="shop\.lab\.k8ops\.test",issuer="\(STAGING\) Test ACME CA",role="leaf"\} \d+$/m,
    );
    expect(prom.stdout).toMatch(
      /^k8ops_cert_check\{node="cluster",path="shop\/static-tls",check="acme-host-not-covered",severity="critical"\} 1$/m,
    );

    const text = await run(inv(true));
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/^ {2}ACME \(cert-manager\) — /m);
    expect(text.stdout).toMatch(
      /^✗ {3}cdn\.lab\.k8ops\.test\s+2d \d\d:\d\d:\d\d\s+cluster:static-tls$/m,
    );
    expect(text.stdout).toMatch(
      /acme-host-not-covered +cluster {2}shop\/static-tls {2}Ingress host\(s\) not in the certificate: static\.lab\.k8ops\.test/,
    );

    // The kube API goes away: the branch says it could not read them (a warning), no silence.
    await server.close();
    server = undefined;
    const down = await run(inv(true), '--json');
    const downDoc = JSON.parse(down.stdout) as CertsDoc;
    const unavailable = downDoc.checks.filter((c) => c.id === 'acme-unavailable');
    expect(unavailable).toHaveLength(1);
    expect(unavailable[0]).toMatchObject({ severity: 'warning', node: 'cluster' });
    expect(unavailable[0]!.message).toMatch(/^ACME certificates not read: /);
    expect(down.code).toBe(Math.max(1, bare.code ?? 0));
  }, 300_000);
});
