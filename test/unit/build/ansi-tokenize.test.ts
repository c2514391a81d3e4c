/**
 * The build's patch to @alcalzone/ansi-tokenize (esbuild.ansi-tokenize.mjs: ASCII cut into
 * characters without Intl.Segmenter) keeps every token the package's own tokenize gives:
 * both run side by side on random texts mixing ASCII, escapes (SGR, OSC 8 links, C1 CSI) and
 * the characters whose grapheme rules look at their neighbours — combining marks after
 * ASCII, prepended marks before it, ZWJ emoji, flags, Hangul jamo, Indic conjuncts, CR LF.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
// @ts-expect-error: a build script (plain ESM, no types)
import { patchAnsiTokenize } from '../../../esbuild.ansi-tokenize.mjs';
import { patchedBeside } from '../../helpers/patched-module.js';

type Tokenize = (s: string, endChar?: number) => unknown[];

// The copy Ink imports (the package has only an ESM `import` export: resolved from Ink).
const fromInk = createRequire(createRequire(import.meta.url).resolve('ink'));
const dir = join(
  fromInk.resolve('@alcalzone/ansi-tokenize/package.json').replace(/package\.json$/, ''),
  'build',
);
const modules = patchedBeside<{ tokenize: Tokenize }>(join(dir, 'tokenize.js'), patchAnsiTokenize);
const load = async () =>
  Promise.all([modules.original(), modules.patched()]).then(([a, b]) => [a.tokenize, b.tokenize]);

const PIECES = [
  'a',
  'Z',
  ' ',
  '-> ',
  'cp-1',
  '\t',
  '\u007f',
  '\n',
  '\r',
  '\r\n',
  '\u001b[31m',
  '\u001b[1;38;5;33m',
  '\u001b[39m',
  '\u001b[0m',
  '\u001b]8;;https://x.test\u0007link\u001b]8;;\u0007',
  '\u001b]0;title\u0007',
  '\u009b31m',
  '\u001b',
  '\u0301', // combining acute: joins the character before it
  '\u0600', // Arabic number sign (Prepend): joins the character after it
  '\u200d', // ZWJ
  '\ufe0f', // VS16
  '\u200b',
  '👩',
  '🙂',
  '🇩',
  '🇪',
  '\u1100', // Hangul L
  '\u1161', // Hangul V
  '\u11a8', // Hangul T
  'क',
  '\u094d', // virama
  'ष',
  '漢',
  '…',
  '●',
  '▂',
  '\ud800', // a lone surrogate
];

describe('ansi-tokenize patched for ASCII', () => {
  it('gives the same tokens as the package on random texts', async () => {
    const [theirs, ours] = (await load()) as [Tokenize, Tokenize];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }),
        fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
        (parts, endChar) => {
          const s = parts.join('');
          expect(ours(s, endChar)).toEqual(theirs(s, endChar));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the cases that need a neighbour', async () => {
    const [theirs, ours] = (await load()) as [Tokenize, Tokenize];
    for (const s of [
      'e\u0301x',
      'ab\u0301',
      '\u0600a',
      'x\u0600ab\u0301c',
      '👩\u200d👩\u200d👧 ok',
      'a🇩🇪🇩🇪b',
      '\u1100\u1161\u11a8z',
      'क\u094dष',
      'a\r\nb',
      '\u001b[31m●\u001b[39m cp-1…',
    ])
      expect(ours(s), JSON.stringify(s)).toEqual(theirs(s));
  });

  it('ASCII text does not go through the segmenter; other text does', async () => {
    const [theirs, ours] = (await load()) as [Tokenize, Tokenize];
    const segment = vi.spyOn(Intl.Segmenter.prototype, 'segment');
    try {
      ours('\u001b[31mworker-2\u001b[39m 10.0.0.1:443 -> 10.0.0.2:80 FORWARDED');
      expect(segment).not.toHaveBeenCalled();
      theirs('worker-2');
      expect(segment).toHaveBeenCalledTimes(1);
      ours('a ● b');
      expect(segment).toHaveBeenCalledTimes(2);
    } finally {
      segment.mockRestore();
    }
  });
});
