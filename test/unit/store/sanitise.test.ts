import { describe, expect, it } from 'vitest';
import {
  hasUnsafeText,
  safeJson,
  visible,
  visibleDeep,
  visibleOnce,
} from '../../../src/store/sanitise.js';
import { HOSTILE } from '../../helpers/hostile.js';

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

  it('once: escapes like visibleDeep, and what it returned is not walked again (nor its parts)', () => {
    const rows = [{ pod: 'p\x1b[31m' }, { pod: 'q' }];
    const v = visibleOnce({ rows, note: 'a\u202eb' });
    expect(v).toEqual({ rows: [{ pod: 'p\\x1b[31m' }, { pod: 'q' }], note: 'a\\u202eb' });
    expect(visibleDeep(v)).toBe(v);
    // A new object holding the remembered parts: only the new strings are looked at.
    const next = { rows: v.rows, extra: 'x\x07' };
    const out = visibleDeep(next);
    expect(out.rows).toBe(v.rows);
    expect(out.extra).toBe('x\\x07');
    // Rows made visible by a plain visibleDeep are not remembered.
    const plain = visibleDeep({ r: [{ s: 'ok' }] });
    expect(visibleDeep(plain)).toBe(plain);
    for (const [name, s] of Object.entries(HOSTILE))
      expect(hasUnsafeText(visibleOnce({ s }).s), name).toBe(false);
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

describe('inventory errors quote the file safely', () => {
  it('C1 and bidi characters from the inventory are escaped in the message', async () => {
    const { formatIssue } = await import('../../../src/config/issues.js');
    const line = formatIssue({
      file: 'k8ops.yaml',
      line: 3,
      column: 5,
      path: 'nodes[0].name',
      message: 'invalid node name "cp\u202e1\u009b31m"',
    });
    expect(line).toBe('k8ops.yaml:3:5: nodes[0].name: invalid node name "cp\\u202e1\\x9b31m"');
  });
});
