import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitPem } from '../../../src/pki/pem.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/pki/${name}`, import.meta.url), 'utf8');

const block = (label: string, b64: string): string =>
  `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;

describe('splitPem', () => {
  it('splits a bundle with text between blocks, keeping order and 1-based indexes', () => {
    const text = `subject=CN = a\n${block('CERTIFICATE', 'AQID')}Bag Attributes\n  localKeyID: 01\n${block('CERTIFICATE', 'BAUG')}`;
    const r = splitPem(text);
    expect(r.errors).toEqual([]);
    expect(r.blocks.map((b) => [b.label, b.index, [...b.der]])).toEqual([
      ['CERTIFICATE', 1, [1, 2, 3]],
      ['CERTIFICATE', 2, [4, 5, 6]],
    ]);
  });

  it('handles CRLF, indentation and trailing whitespace', () => {
    const text =
      '  -----BEGIN CERTIFICATE-----  \r\n  AQ\r\n  ID \r\n-----END CERTIFICATE-----\r\n';
    const r = splitPem(text);
    expect(r.errors).toEqual([]);
    expect([...r.blocks[0]!.der]).toEqual([1, 2, 3]);
  });

  it('splits the openssl chain fixture into two CERTIFICATE blocks', () => {
    const r = splitPem(fixture('chain.pem'));
    expect(r.errors).toEqual([]);
    expect(r.blocks.map((b) => b.label)).toEqual(['CERTIFICATE', 'CERTIFICATE']);
    expect(r.blocks[0]!.der[0]).toBe(0x30);
  });

  it('skips RFC 1421 headers of legacy encrypted keys', () => {
    const text =
      '-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAQID\n-----END EC PRIVATE KEY-----\n';
    const r = splitPem(text);
    expect(r.errors).toEqual([]);
    expect(r.blocks[0]!.label).toBe('EC PRIVATE KEY');
  });

  it.each([
    ['', 'empty file'],
    ['   \n\r\n\t', 'empty file'],
    ['just some text\nno pem here\n', 'no PEM blocks'],
  ])('reports a whole-file problem for %j', (text, message) => {
    expect(splitPem(text)).toEqual({ blocks: [], errors: [{ block: 0, message }] });
  });

  it('hints at DER for binary input', () => {
    const r = splitPem('\u0030\u0082\u0001\u0000\u0001binary');
    expect(r.errors[0]!.message).toMatch(/no PEM blocks.*binary/);
  });

  it('reports a truncated block (no END line)', () => {
    const r = splitPem(fixture('truncated.pem'));
    expect(r.blocks).toHaveLength(0);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ block: 1 });
    expect(r.errors[0]!.message).toMatch(/truncated/);
  });

  it('reports an unterminated block followed by a good one, and keeps the good one', () => {
    const text = `-----BEGIN CERTIFICATE-----\nAQID\n${block('CERTIFICATE', 'BAUG')}`;
    const r = splitPem(text);
    expect(r.blocks.map((b) => b.index)).toEqual([2]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.block).toBe(1);
    expect(r.errors[0]!.message).toMatch(/not terminated/);
  });

  it('reports mismatched BEGIN/END labels', () => {
    const r = splitPem('-----BEGIN CERTIFICATE-----\nAQID\n-----END PRIVATE KEY-----\n');
    expect(r.blocks).toEqual([]);
    expect(r.errors).toEqual([
      { block: 1, message: 'BEGIN CERTIFICATE (line 1) ends with END PRIVATE KEY (line 3)' },
    ]);
  });

  it('reports an END without BEGIN', () => {
    const r = splitPem(`-----END CERTIFICATE-----\n${block('CERTIFICATE', 'AQID')}`);
    expect(r.blocks).toHaveLength(1);
    expect(r.errors).toEqual([{ block: 0, message: 'line 1: END CERTIFICATE without a BEGIN' }]);
  });

  it.each([
    ['AQ!D', /invalid base64/],
    ['AQI', /not a multiple of 4/],
    ['A=QI', /invalid base64/],
    ['', /no data/],
  ])('reports bad base64 %j', (b64, message) => {
    const r = splitPem(block('CERTIFICATE', b64));
    expect(r.blocks).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.block).toBe(1);
    expect(r.errors[0]!.message).toMatch(message);
  });

  it('never throws on random input', () => {
    let seed = 42;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const chain = fixture('chain.pem');
    for (let i = 0; i < 300; i++) {
      const len = Math.floor(rnd() * 400);
      let s = '';
      for (let j = 0; j < len; j++) s += String.fromCharCode(Math.floor(rnd() * 0x7f));
      const cut = chain.slice(0, Math.floor(rnd() * chain.length));
      for (const text of [s, cut, `${cut}${s}`]) {
        const r = splitPem(text);
        expect(Array.isArray(r.blocks) && Array.isArray(r.errors)).toBe(true);
        expect(r.blocks.length + r.errors.length).toBeGreaterThan(0);
      }
    }
  });
});
