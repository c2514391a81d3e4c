/**
 * k8ops's verdicts against the real `openssl` CLI on a chain openssl itself built: chain
 * verification (`openssl verify -untrusted`), expiry (`openssl x509 -checkend`) and SANs
 * (`openssl x509 -ext subjectAltName`) must agree, for good certificates and broken ones.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexCerts, resolveIssuer } from '../../../src/pki/chain.js';
import type { CertFile } from '../../../src/pki/types.js';
import { clearVerifyCache } from '../../../src/pki/verify.js';
import { parseCertFile } from '../../../src/pki/x509.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
let dir: string;
const ossl = (...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const okStatus = (...args: string[]) => spawnSync('openssl', args, { cwd: dir }).status === 0;

function key(name: string) {
  ossl('ecparam', '-name', 'secp521r1', '-genkey', '-noout', '-out', `${name}-key.pem`);
}
function csr(name: string, subj: string) {
  ossl('req', '-new', '-key', `${name}-key.pem`, '-sha512', '-subj', subj, '-out', `${name}.csr`);
}
function sign(name: string, ca: string, days: string, ext: string, serial: string) {
  writeFileSync(join(dir, `${name}.ext`), ext);
  ossl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}-key.pem`,
    '-sha512',
    '-days',
    days,
    '-set_serial',
    serial,
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  );
}

const LEAVES = ['good', 'short', 'impostor-signed', 'wide'] as const;
const INT_EXT =
  'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n';
const leafExt = (san: string) =>
  `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`;

beforeAll(() => {
  if (!haveOpenssl) return;
  dir = mkdtempSync(join(tmpdir(), 'k8ops-openssl-'));
  key('root');
  ossl(
    'req',
    '-x509',
    '-new',
    '-key',
    'root-key.pem',
    '-sha512',
    '-days',
    '14610',
    '-set_serial',
    '0x1001',
    '-subj',
    '/O=k8ops/CN=k8s-root',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:1',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'root.pem',
  );
  key('int');
  csr('int', '/O=k8ops/CN=kubernetes-ca');
  sign('int', 'root', '60', INT_EXT, '0x2002');
  // An impostor: same DN as the intermediate, its own key, self-made (not signed by the root).
  key('impostor');
  csr('impostor', '/O=k8ops/CN=kubernetes-ca');
  ossl(
    'x509',
    '-req',
    '-in',
    'impostor.csr',
    '-signkey',
    'impostor-key.pem',
    '-sha512',
    '-days',
    '60',
    '-out',
    'impostor.pem',
  );
  key('good');
  csr('good', '/O=system:nodes/CN=system:node:cp-1');
  sign('good', 'int', '14', leafExt('DNS:cp-1,IP:10.77.0.11,IP:10.96.0.1'), '0x3001');
  key('short');
  csr('short', '/CN=kube-apiserver');
  sign(
    'short',
    'int',
    '1',
    leafExt('DNS:kubernetes.default.svc,DNS:localhost,IP:127.0.0.1'),
    '0x3002',
  );
  key('impostor-signed');
  csr('impostor-signed', '/CN=kube-scheduler');
  sign('impostor-signed', 'impostor', '14', leafExt('DNS:cp-2'), '0x3003');
  key('wide');
  csr('wide', '/CN=wide');
  sign('wide', 'int', '90', leafExt('DNS:wide,IP:fd00:77::21'), '0x3004'); // outlives the intermediate
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveOpenssl)('k8ops agrees with openssl', () => {
  const files = (): CertFile[] =>
    ['root', 'int', ...LEAVES].map((n) =>
      parseCertFile('lab', join(dir, `${n}.pem`), readFileSync(join(dir, `${n}.pem`), 'utf8')),
    );

  it('chain verification: openssl verify -CAfile root -untrusted int ⇔ every link verified', () => {
    clearVerifyCache();
    const fs = files();
    const index = indexCerts(fs);
    for (const f of fs) {
      const c = f.certs[0]!;
      const openssl = okStatus('verify', '-CAfile', 'root.pem', '-untrusted', 'int.pem', f.path);
      // k8ops: follow verified links up to a self-signed root.
      let ok = true;
      let cur = c;
      for (let depth = 0; depth < 5; depth++) {
        const link = resolveIssuer(cur, index);
        if (link.kind === 'self-signed') break;
        if (link.kind !== 'verified') {
          ok = false;
          break;
        }
        cur = link.issuer.cert;
      }
      // openssl also checks the validity period: `wide` outlives the intermediate but is within
      // its own dates, so both say "verified"; k8ops flags it separately (outlives-issuer).
      expect({ file: f.path.split('/').pop(), ok }).toEqual({
        file: f.path.split('/').pop(),
        ok: openssl,
      });
    }
    const impostor = fs.find((f) => f.path.endsWith('/impostor-signed.pem'))!.certs[0]!;
    expect(resolveIssuer(impostor, index).kind).toBe('bad-signature');
  });

  it('expiry: openssl x509 -checkend N ⇔ notAfter − now > N', () => {
    const now = Date.now();
    for (const f of files()) {
      const c = f.certs[0]!;
      for (const seconds of [0, 3600, 2 * 86400, 13 * 86400, 15 * 86400, 61 * 86400]) {
        const remaining = (c.notAfter - now) / 1000;
        if (Math.abs(remaining - seconds) < 120) continue; // too close to call across two clocks
        const openssl = okStatus('x509', '-noout', '-checkend', String(seconds), '-in', f.path);
        expect({ file: f.path, seconds, valid: remaining > seconds }).toEqual({
          file: f.path,
          seconds,
          valid: openssl,
        });
      }
    }
  });

  it('SANs: openssl x509 -ext subjectAltName ⇔ dnsNames + ipAddresses', () => {
    for (const f of files()) {
      const c = f.certs[0]!;
      let text = '';
      try {
        text = ossl('x509', '-noout', '-ext', 'subjectAltName', '-in', f.path);
      } catch {
        text = '';
      }
      const body = text.split('\n').slice(1).join(' ').trim();
      const names = body ? body.split(/,\s*/) : [];
      const dns = names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
      const ips = names
        .filter((n) => n.startsWith('IP Address:'))
        .map((n) => n.slice('IP Address:'.length).toLowerCase());
      expect(c.dnsNames).toEqual(dns);
      // openssl prints IPv6 fully expanded ("FD00:77:0:0:0:0:0:21"); compare expanded forms.
      const expand = (ip: string) =>
        ip.includes(':')
          ? ip
              .replace('::', `:${'0:'.repeat(8 - ip.split(':').filter(Boolean).length)}`)
              .split(':')
              .filter(Boolean)
              .map((g) => g.replace(/^0+(?=.)/, ''))
              .join(':')
          : ip;
      expect(c.ipAddresses.map(expand)).toEqual(ips.map(expand));
    }
  });
});
