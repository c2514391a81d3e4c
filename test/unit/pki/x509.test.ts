import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitPem } from '../../../src/pki/pem.js';
import { parseCertFile, parseCertificateDer } from '../../../src/pki/x509.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/pki/${name}`, import.meta.url), 'utf8');

describe('parseCertFile on the openssl fixtures', () => {
  it('parses the leaf + intermediate chain', () => {
    const f = parseCertFile('cp-1', '/etc/kubernetes/pki/chain.pem', fixture('chain.pem'));
    expect(f.errors).toEqual([]);
    expect(f.node).toBe('cp-1');
    expect(f.certs).toHaveLength(2);
    const [leaf, int] = f.certs;
    expect(leaf).toMatchObject({
      commonName: 'kube-apiserver',
      organizations: ['system:masters'],
      serial: '3003',
      keyAlgorithm: 'ECDSA',
      curve: 'P-521',
      signatureAlgorithm: 'ecdsa-with-SHA512',
      dnsNames: ['cp-1', 'kubernetes.default.svc'],
      ipAddresses: ['10.77.0.11', '10.96.0.1'],
      isCA: false,
      keyUsages: ['digitalSignature', 'keyEncipherment'],
      extKeyUsages: ['serverAuth', 'clientAuth'],
      notBefore: Date.UTC(2026, 10, 25, 12, 34, 39),
      notAfter: Date.UTC(2026, 11, 9, 12, 34, 39),
      fingerprint: '5b8ac294144de483793a29d33235d6ea3a555564598fafbb50ef3e0c86f97c22',
    });
    expect(leaf!.pathLen).toBeUndefined();
    expect(leaf!.subject).toContain('CN=kube-apiserver');
    expect(leaf!.issuer).toContain('CN=fixture-kubernetes-ca');
    expect(int).toMatchObject({
      commonName: 'fixture-kubernetes-ca',
      organizations: ['k8ops-fixture'],
      isCA: true,
      pathLen: 0,
      curve: 'P-521',
      signatureAlgorithm: 'ecdsa-with-SHA512',
      keyUsages: ['digitalSignature', 'keyCertSign', 'cRLSign'],
      extKeyUsages: [],
      dnsNames: [],
      notAfter: Date.UTC(2027, 0, 24, 12, 34, 39),
    });
  });

  it('parses the root', () => {
    const f = parseCertFile('offline', 'root.pem', fixture('root.pem'));
    expect(f.errors).toEqual([]);
    expect(f.certs[0]).toMatchObject({
      commonName: 'fixture-root',
      isCA: true,
      pathLen: 1,
      curve: 'P-521',
      signatureAlgorithm: 'ecdsa-with-SHA512',
      notAfter: Date.UTC(2066, 10, 25, 12, 34, 39),
    });
    expect(f.certs[0]!.subject).toBe(f.certs[0]!.issuer);
  });

  it('reports the truncated file as an error', () => {
    const f = parseCertFile('n', 'truncated.pem', fixture('truncated.pem'));
    expect(f.certs).toEqual([]);
    expect(f.errors).toHaveLength(1);
    expect(f.errors[0]!.message).toMatch(/truncated/);
  });

  it('reports the garbage file as an error', () => {
    const f = parseCertFile('n', 'garbage.pem', fixture('garbage.pem'));
    expect(f.certs).toEqual([]);
    expect(f.errors).toEqual([{ block: 0, message: expect.stringMatching(/no PEM blocks/) }]);
  });

  it('reports non-CERTIFICATE blocks and keeps the good certificates', () => {
    const pub = '-----BEGIN PUBLIC KEY-----\nAQID\n-----END PUBLIC KEY-----\n';
    const f = parseCertFile('n', 'mixed.pem', `${pub}${fixture('root.pem')}`);
    expect(f.certs.map((c) => c.commonName)).toEqual(['fixture-root']);
    expect(f.errors).toEqual([{ block: 1, message: 'PUBLIC KEY block is not a CERTIFICATE' }]);
    expect(f.privateKeyBlocks).toBeUndefined();
  });

  it('notes private-key blocks (any order, any key label) apart from parse errors, keeping no key bytes', () => {
    const ec = '-----BEGIN EC PRIVATE KEY-----\nAQID\n-----END EC PRIVATE KEY-----\n';
    const p8 = '-----BEGIN PRIVATE KEY-----\nBAUG\n-----END PRIVATE KEY-----\n';
    const f = parseCertFile('n', 'mixed.pem', `${ec}${fixture('root.pem')}${p8}`);
    expect(f.certs.map((c) => c.commonName)).toEqual(['fixture-root']);
    expect(f.errors).toEqual([]);
    expect(f.privateKeyBlocks).toEqual([
      { block: 1, label: 'EC PRIVATE KEY' },
      { block: 3, label: 'PRIVATE KEY' },
    ]);
    expect(JSON.stringify(f.privateKeyBlocks)).not.toContain('AQID');
  });

  it('reports a CERTIFICATE block whose DER is not a certificate', () => {
    const f = parseCertFile(
      'n',
      'x.pem',
      '-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n',
    );
    expect(f.certs).toEqual([]);
    expect(f.errors).toHaveLength(1);
    expect(f.errors[0]!.block).toBe(1);
  });
});

describe('parseCertificateDer never throws', () => {
  const der = splitPem(fixture('chain.pem')).blocks[0]!.der;

  it('accepts the fixture DER', () => {
    expect(parseCertificateDer(der).ok).toBe(true);
  });

  it('rejects empty, truncated and trailing-garbage DER', () => {
    expect(parseCertificateDer(new Uint8Array())).toEqual({ ok: false, error: 'empty DER' });
    const t = parseCertificateDer(der.slice(0, 200));
    expect(t.ok).toBe(false);
    expect(!t.ok && t.error).toMatch(/truncated DER/);
    const trailing = new Uint8Array(der.length + 3);
    trailing.set(der);
    const r = parseCertificateDer(trailing);
    expect(!r.ok && r.error).toMatch(/trailing bytes/);
  });

  it('survives random bytes, every truncation and byte flips', () => {
    for (let i = 0; i < 200; i++) {
      const r = parseCertificateDer(new Uint8Array(randomBytes(1 + (i % 64) * 13)));
      expect(typeof r.ok).toBe('boolean');
    }
    for (let n = 0; n < der.length; n += 7)
      expect(parseCertificateDer(der.slice(0, n)).ok).toBe(false);
    for (let i = 0; i < 300; i++) {
      const copy = der.slice();
      const pos = (i * 37) % copy.length;
      copy[pos] = copy[pos]! ^ (1 + (i % 255));
      const r = parseCertificateDer(copy);
      expect(typeof r.ok).toBe('boolean');
    }
    // A random SEQUENCE header with a consistent length still fails gracefully.
    const body = randomBytes(100);
    const seq = new Uint8Array([0x30, 100, ...body]);
    expect(parseCertificateDer(seq).ok).toBe(false);
  });

  it('parseCertFile survives every truncation of the chain file', () => {
    const text = fixture('chain.pem');
    for (let n = 0; n <= text.length; n += 11) {
      const f = parseCertFile('n', 'p', text.slice(0, n));
      expect(f.certs.length + f.errors.length).toBeGreaterThan(0);
    }
  });
});

describe('impossible validity dates', () => {
  it('a certificate dated month 13, day 99 is an error value, not 2000-04-12', () => {
    const der = Buffer.from(splitPem(fixture('root.pem')).blocks[0]!.der);
    const at = der.indexOf(Buffer.from('261125123439Z', 'latin1'));
    expect(at).toBeGreaterThan(0);
    der.write('991399999999Z', at, 'latin1');
    const r = parseCertificateDer(new Uint8Array(der));
    expect(r).toEqual({
      ok: false,
      error: expect.stringMatching(/^cannot parse certificate: notBefore: month 13 is not 1–12/),
    });
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
    const f = parseCertFile('n', '/p/root.pem', pem);
    expect(f.certs).toEqual([]);
    expect(f.errors).toEqual([{ block: 1, message: expect.stringMatching(/month 13/) }]);
  });
});
