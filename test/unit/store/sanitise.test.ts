import { describe, expect, it } from 'vitest';
import { hasUnsafeText, safeJson, visible, visibleDeep } from '../../../src/store/sanitise.js';

/** Each sequence the hostile-input issue planted, by name. */
export const HOSTILE: Record<string, string> = {
  'OSC 0 (title)': '\x1b]0;pwned\x07',
  'OSC 52 (clipboard)': '\x1b]52;c;cm0gLXJmIH4=\x07',
  'CSI SGR': '\x1b[31;1m',
  'CSI cursor': '\x1b[2J\x1b[H',
  'C1 CSI': '\u009b31m',
  'C1 OSC': '\u009d0;x\u009c',
  newline: 'a\n✓ kube-apiserver forged',
  'carriage return': 'ok\roverwritten',
  NUL: 'a\u0000b',
  DEL: 'a\u007fb',
  'bidi override': 'evil\u202etxt.pem',
  'bidi isolate': '\u2066x\u2069',
  'line separator': 'a\u2028b',
};

describe('sanitiser', () => {
  it('escapes C0, DEL, C1, bidi and separators visibly, keeps everything else', () => {
    expect(visible('\x1b]0;t\x07')).toBe('\\x1b]0;t\\x07');
    expect(visible('a\u202eb')).toBe('a\\u202eb');
    expect(visible('\u009b')).toBe('\\x9b');
    expect(visible('a\nb\tc')).toBe('a\\x0ab\\x09c');
    expect(visible('kubernetes-ca · P-521 ✓ 証明書 é')).toBe('kubernetes-ca · P-521 ✓ 証明書 é');
    for (const [name, s] of Object.entries(HOSTILE)) {
      const v = visible(s);
      expect(hasUnsafeText(v), name).toBe(false);
      expect(v.includes('\n'), name).toBe(false);
    }
  });

  it('deep: copy on write (clean data keeps its identity), frozen stays frozen', () => {
    const clean = { a: ['x', { b: 'y' }], n: 1, buf: Buffer.from('\x1b') };
    expect(visibleDeep(clean)).toBe(clean);
    const dirty = Object.freeze({ a: ['x', Object.freeze({ b: 'y\x1b' })], keep: { c: 'z' } });
    const out = visibleDeep(dirty);
    expect(out).not.toBe(dirty);
    expect(out.a[1]).toEqual({ b: 'y\\x1b' });
    expect(out.keep).toBe(dirty.keep);
    expect(Object.isFrozen(out)).toBe(true);
  });

  it('JSON: C1 and bidi escaped as \\u, the same string when parsed', () => {
    const doc = { cn: 'a\u009bb\u202ec\u007f\x1b' };
    const text = safeJson(doc, 2);
    expect(text).not.toMatch(
      /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/u.source.length
        ? /[\u007f-\u009f\u202e\u001b]/
        : /x/,
    );
    expect(JSON.parse(text)).toEqual(doc);
  });
});
