/**
 * The build's fast path for narrow text (esbuild.narrow-text.mjs, issue 13): for text made
 * only of printable ASCII and the listed symbols, width = length. Held here to string-width
 * itself (the unpatched module, its full grapheme-by-grapheme path), character by character
 * and on random mixtures; and the console's own symbols are in the set.
 */
import fc from 'fast-check';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build helper without types
import { NARROW_TEXT_SOURCE } from '../../../esbuild.narrow-text.mjs';

const narrow = new RegExp(NARROW_TEXT_SOURCE as string, 'u');
const chars: string[] = [];
for (let c = 0; c <= 0xffff; c++) {
  const s = String.fromCharCode(c);
  if (narrow.test(s)) chars.push(s);
}

describe('narrow text: width = length, as string-width counts it', () => {
  it('each character of the set is one column, one UTF-16 unit', () => {
    expect(chars.length).toBeGreaterThan(95);
    for (const c of chars) {
      expect(c.length).toBe(1);
      expect(stringWidth(c), `U+${c.charCodeAt(0).toString(16)}`).toBe(1);
    }
  });

  it('any mixture of them: string-width says its length (no pair joins into one grapheme)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 160 }), (cs) => {
        const s = cs.join('');
        expect(narrow.test(s)).toBe(true);
        expect(stringWidth(s)).toBe(s.length);
      }),
      { numRuns: 2000 },
    );
    // Every pair, both ways round.
    for (const a of chars) if (a > '~') for (const b of chars) expect(stringWidth(a + b)).toBe(2);
  });

  it('holds the symbols the console draws, and not what is wide, joins or has no width', () => {
    for (const c of '…●○·→←↑↓↔—–−×≤≥✓✗─│▁▂▃▄▅▆▇█') expect(narrow.test(c), c).toBe(true);
    for (const c of ['\u00ad', '\u0301', '\u200b', '\ufe0f', '界', '⚠', '\u25fd', '\t', '\x1b'])
      expect(narrow.test(`a${c}`), `U+${c.charCodeAt(0).toString(16)}`).toBe(false);
  });
});
