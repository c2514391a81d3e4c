/**
 * The ACME checks (pure): SANs against Ingress hosts (wildcards cover one label), Ready,
 * expiry from the Secret's certificate, renewal overdue, status/Secret mismatch; the
 * cert-manager 1.19 Certificate and Ingress fixtures through the kube parsers; and the PKI
 * report with its "ACME (cert-manager)" branch counted in totals and exit code.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acmeModel,
  acmeRow,
  sanCovers,
  withAcmeBranch,
} from '../../../../src/features/nginx/acme.js';
import {
  parseCertificate,
  parseIngress,
  secretCerts,
} from '../../../../src/kube/parse/certificate.js';
import type { AcmeCertificate } from '../../../../src/kube/types.js';
import { defaultLayout } from '../../../../src/pki/layout-data.js';
import { buildPkiReport } from '../../../../src/pki/report.js';
import { fixture } from '../../../helpers/kube-api-server.js';

const DAY = 86_400_000;
let dir: string;
let pem: string;
let notAfter: number;
let notBefore: number;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'k8ops-acme-unit-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'k.pem',
      '-out',
      'c.pem',
      '-subj',
      '/CN=shop.test',
      '-days',
      '10',
      '-addext',
      'subjectAltName=DNS:*.shop.test,DNS:shop.test',
    ],
    { cwd: dir, stdio: 'pipe' },
  );
  pem = readFileSync(join(dir, 'c.pem'), 'utf8');
  const end = execFileSync(
    'openssl',
    ['x509', '-noout', '-startdate', '-enddate', '-in', 'c.pem'],
    { cwd: dir, encoding: 'utf8' },
  );
  notBefore = Date.parse(/notBefore=(.*)/.exec(end)![1]!);
  notAfter = Date.parse(/notAfter=(.*)/.exec(end)![1]!);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const certs = () =>
  secretCerts({ data: { 'tls.crt': Buffer.from(pem).toString('base64') } }).certs!;

function cert(over: Partial<AcmeCertificate> = {}): AcmeCertificate {
  return {
    namespace: 'shop',
    name: 'shop-tls',
    secretName: 'shop-tls',
    issuerName: 'letsencrypt-prod',
    issuerKind: 'ClusterIssuer',
    dnsNames: ['shop.test'],
    ready: true,
    notAfter: new Date(notAfter).toISOString(),
    renewalTime: new Date(notAfter - 3 * DAY).toISOString(),
    secret: { certs: certs() },
    ...over,
  };
}

const ing = (hosts: string[]) => [
  { namespace: 'shop', name: 'shop', hosts, tls: [{ secretName: 'shop-tls', hosts }] },
];

describe('ACME checks', () => {
  it('wildcards cover exactly one label', () => {
    expect(sanCovers('*.shop.test', 'a.shop.test')).toBe(true);
    expect(sanCovers('*.shop.test', 'a.b.shop.test')).toBe(false);
    expect(sanCovers('*.shop.test', 'shop.test')).toBe(false);
    expect(sanCovers('Shop.Test', 'shop.test')).toBe(true);
  });

  it('a healthy certificate has no finding; a host outside the SANs is critical', () => {
    const now = notBefore + DAY;
    expect(acmeRow(cert(), ing(['shop.test', 'www.shop.test']), now).findings).toEqual([]);
    const r = acmeRow(cert(), ing(['shop.test', 'evil.example']), now);
    expect(r.uncovered).toEqual(['evil.example']);
    expect(r.worst).toBe('critical');
  });

  it('expiring soon, expired, renewal overdue, not Ready, a Secret that does not parse', () => {
    const ids = (c: AcmeCertificate, now: number) =>
      acmeRow(c, [], now)
        .findings.map((f) => f.id)
        .sort();
    expect(ids(cert(), notAfter - 2 * DAY)).toEqual(['acme-expires-soon', 'acme-renewal-overdue']);
    expect(ids(cert(), notAfter + 1000)).toEqual(['acme-expired', 'acme-renewal-overdue']);
    expect(ids(cert({ ready: false, readyReason: 'Failed' }), notBefore + DAY)).toEqual([
      'acme-not-ready',
    ]);
    expect(ids(cert({ secret: { certs: ['bm90IGEgY2VydA=='] } }), notBefore + DAY)).toEqual([
      'acme-secret',
    ]);
    expect(ids(cert({ notAfter: '2030-01-01T00:00:00Z' }), notBefore + DAY)).toEqual([
      'acme-status-mismatch',
    ]);
  });

  it('the Secret’s notAfter wins over status; rows sort by expiry', () => {
    const m = acmeModel(
      {
        value: {
          certificates: [
            cert({
              name: 'later',
              secret: undefined,
              notAfter: new Date(notAfter + 50 * DAY).toISOString(),
            }),
            cert(),
          ],
        },
      },
      [],
      notBefore,
    );
    expect(m.rows.map((r) => r.name)).toEqual(['shop-tls', 'later']);
    expect(m.rows[0]!.notAfter).toBe(notAfter);
  });

  it('asked again with the same section, Ingresses and time: the same model, else a new one', () => {
    const section = { value: { certificates: [cert()] } };
    const ingresses = ing(['shop.test']);
    const m = acmeModel(section, ingresses, notBefore + DAY);
    // The console asks every second with the minute's time: nothing is made again.
    expect(acmeModel(section, ingresses, notBefore + DAY)).toBe(m);
    // Any of the three changed: a model made afresh, equal to one made with nothing before.
    const later = acmeModel(section, ingresses, notAfter - DAY);
    expect(later).not.toBe(m);
    expect(later.rows[0]!.findings.map((f) => f.id)).toContain('acme-expires-soon');
    expect(m.rows[0]!.findings.map((f) => f.id)).not.toContain('acme-expires-soon');
    const other = ing(['shop.test', 'x.example']);
    const m2 = acmeModel(section, other, notAfter - DAY);
    expect(m2).not.toBe(later);
    expect(m2.rows[0]!.uncovered).toEqual(['x.example']);
    const m3 = acmeModel({ ...section, error: { message: 'watch failed' } }, other, notAfter - DAY);
    expect(m3).not.toBe(m2);
    expect(m3.error).toBe('watch failed');
    expect(acmeModel({ value: { certificates: [cert()] } }, other, notAfter - DAY)).not.toBe(m3);
  });

  it('the PKI report gets an "ACME (cert-manager)" branch, counted in totals and exit code', () => {
    const base = buildPkiReport({
      nodes: [],
      settings: {
        now: notBefore + DAY,
        layout: defaultLayout(),
        nodeCount: 0,
        rootOffline: true,
        spreadMs: DAY,
        minRemainingMs: 2 * DAY,
      },
    });
    const r = withAcmeBranch(
      base,
      acmeModel({ value: { certificates: [cert()] } }, ing(['x.example']), notBefore + DAY),
    );
    const root = r.tree.roots.at(-1)!;
    expect(root.kind === 'missing' && root.subject).toBe('ACME (cert-manager)');
    expect(root.children).toHaveLength(1);
    expect(r.certificates).toBe(base.certificates + 1);
    expect(r.counts.critical).toBe(base.counts.critical + 1);
    expect(r.exitCode).toBe(2);
    expect(r.checks.at(-1)).toMatchObject({
      id: 'acme-host-not-covered',
      node: 'cluster',
      path: 'shop/shop-tls',
    });
  });
});

describe('cert-manager 1.19 payloads (kube parsers)', () => {
  it('reads the Certificate fixture', () => {
    const c = parseCertificate(fixture('certificate-cert-manager-1.19.json'))!;
    expect(c).toMatchObject({
      namespace: 'shop',
      name: 'shop-tls',
      secretName: 'shop-tls',
      issuerName: 'letsencrypt-prod',
      issuerKind: 'ClusterIssuer',
      dnsNames: ['shop.lab.k8ops.test'],
      ready: true,
      readyReason: 'Ready',
      notAfter: '2027-02-04T09:15:39Z',
      renewalTime: '2027-01-05T09:15:39Z',
      revision: 2,
    });
  });

  it('keeps only the certificates of a Secret, never tls.key', () => {
    const s = fixture<{ data: Record<string, string> }>('secret-tls.json');
    s.data['tls.crt'] = Buffer.from(
      `${pem}junk\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`,
    ).toString('base64');
    const r = secretCerts(s);
    expect(r.certs).toHaveLength(1);
    expect(JSON.stringify(r)).not.toContain('PRIVATE');
    expect(secretCerts({ data: {} })).toEqual({ error: 'the Secret has no tls.crt' });
    expect(secretCerts(null).error).toBeDefined();
  });

  it('reads Ingress hosts and TLS Secrets; hostile names are made harmless; garbage is skipped', () => {
    expect(parseIngress(fixture('ingress.json'))).toEqual({
      namespace: 'shop',
      name: 'shop',
      hosts: ['shop.lab.k8ops.test'],
      tls: [{ secretName: 'shop-tls', hosts: ['shop.lab.k8ops.test'] }],
    });
    const evil = parseIngress({
      metadata: { name: 'x', namespace: 'y' },
      spec: { rules: [{ host: 'a\u001b[2Jb' }] },
    })!;
    expect(evil.hosts[0]).not.toMatch(/\u001b/);
    for (const g of [null, 1, 'x', [], { metadata: {} }, { metadata: { name: 'n' }, spec: 5 }])
      expect(() => {
        parseCertificate(g);
        parseIngress(g);
      }).not.toThrow();
    expect(parseCertificate({ metadata: { name: 'n' }, spec: {} })).toBeUndefined();
  });
});
