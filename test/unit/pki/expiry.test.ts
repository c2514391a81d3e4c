import { describe, expect, it } from 'vitest';
import {
  defaultRenewBeforeMs,
  formatCountdown,
  formatCountdownCoarse,
  urgency,
  worstCert,
} from '../../../src/pki/expiry.js';
import type { CertFile, CertSummary } from '../../../src/pki/types.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

function cert(notBefore: number, notAfter: number, cn = 'x'): CertSummary {
  return {
    subject: `CN=${cn}`,
    commonName: cn,
    organizations: [],
    issuer: 'CN=ca',
    serial: '01',
    notBefore,
    notAfter,
    fingerprint: cn,
    keyAlgorithm: 'ECDSA',
    curve: 'P-521',
    signatureAlgorithm: 'ecdsa-with-SHA512',
    dnsNames: [],
    ipAddresses: [],
    isCA: false,
    keyUsages: [],
    extKeyUsages: [],
  };
}

describe('formatCountdown', () => {
  it.each([
    [13 * D + 4 * H + 12 * M + 55 * S, '13d 04:12:55'],
    [13 * D + 4 * H + 12 * M + 55 * S + 999, '13d 04:12:55'],
    [4 * H + 12 * M + 55 * S, '04:12:55'],
    [D, '1d 00:00:00'],
    [D - 1, '23:59:59'],
    [0, '00:00:00'],
    [999, '00:00:00'],
    [-500, '00:00:00'],
    [-(2 * D + 3 * H), 'expired 2d 03:00:00 ago'],
    [-(5 * S), 'expired 00:00:05 ago'],
    [40 * 365 * D, '14600d 00:00:00'],
    [Number.NaN, '?'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatCountdown(ms)).toBe(text);
  });
});

describe('formatCountdownCoarse', () => {
  it.each([
    [13 * D + 4 * H + 12 * M + 55 * S, '13d 04:12'],
    [4 * H + 12 * M + 59 * S, '04:12'],
    [59 * S, '00:00'],
    [-(2 * D + 3 * H), 'expired 2d 03:00 ago'],
    [-30 * S, '00:00'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatCountdownCoarse(ms)).toBe(text);
  });
});

describe('defaultRenewBeforeMs and urgency', () => {
  const nb = 1_000_000_000_000;
  const c = cert(nb, nb + 14 * D);
  const rb = defaultRenewBeforeMs(c);

  it('is one third of the lifetime (4d16h for 14 days)', () => {
    expect(rb).toBe(4 * D + 16 * H);
  });

  it('classifies at the boundaries', () => {
    const na = c.notAfter;
    expect(urgency(c, na + 1)).toBe('expired');
    expect(urgency(c, na)).toBe('renew'); // notAfter itself is still valid
    expect(urgency(c, na - rb)).toBe('renew'); // due time
    expect(urgency(c, na - rb - 1)).toBe('soon');
    expect(urgency(c, na - 2 * rb)).toBe('soon');
    expect(urgency(c, na - 2 * rb - 1)).toBe('ok');
    expect(urgency(c, nb)).toBe('ok');
  });

  it('honours an explicit renewBefore', () => {
    expect(urgency(c, c.notAfter - 2 * D, 3 * D)).toBe('renew');
    expect(urgency(c, c.notAfter - 4 * D, 3 * D)).toBe('soon');
    expect(urgency(c, c.notAfter - 7 * D, 3 * D)).toBe('ok');
  });
});

describe('worstCert', () => {
  const now = 1_000_000_000_000;
  const files: CertFile[] = [
    {
      node: 'cp-1',
      path: '/p/a.pem',
      certs: [cert(now - D, now + 10 * D, 'a'), cert(now - D, now + 50 * D, 'ca')],
      errors: [],
    },
    { node: 'cp-2', path: '/p/bad.pem', certs: [], errors: [{ block: 0, message: 'empty file' }] },
    { node: 'cp-2', path: '/p/b.pem', certs: [cert(now - D, now + 3 * D, 'b')], errors: [] },
    { node: 'w-1', path: '/p/c.pem', certs: [cert(now - D, now + 3 * D, 'tie')], errors: [] },
  ];

  it('returns the least remaining time with node and path; ties go to the first seen', () => {
    expect(worstCert(files, now)).toMatchObject({
      node: 'cp-2',
      path: '/p/b.pem',
      index: 0,
      remainingMs: 3 * D,
      cert: { commonName: 'b' },
    });
  });

  it('considers CA certificates in chain files too', () => {
    const ca = cert(now - D, now + D, 'ca');
    const f: CertFile[] = [
      { node: 'n', path: '/x.pem', certs: [cert(now, now + 5 * D), ca], errors: [] },
    ];
    expect(worstCert(f, now)).toMatchObject({ index: 1, cert: { commonName: 'ca' } });
  });

  it('is undefined without certificates', () => {
    expect(worstCert([], now)).toBeUndefined();
    expect(worstCert([files[1]!], now)).toBeUndefined();
  });
});
