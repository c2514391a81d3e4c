/**
 * The build's patch to Ink's Text (esbuild.ink-text.mjs: one transform closure per set of
 * style props) draws the same text as Ink's own Text, and an unchanged nested Text no longer
 * makes Yoga measure its line again on a re-render (issue 13: idle CPU). Both modules run
 * side by side; the second test pins Ink's own behaviour too, so that it fails if the patch
 * stops being needed or stops working.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import chalk from 'chalk';
import { Box, type DOMElement, type Text as InkText, renderToString } from 'ink';
import { render } from 'ink-testing-library';
import { createElement, type ReactElement, type ReactNode, type Ref } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a build script (plain ESM, no types)
import { patchInkText } from '../../../esbuild.ink-text.mjs';
import { mulberry32 } from '../../../src/store/prng.js';
import { patchedBeside } from '../../helpers/patched-module.js';

type TextComponent = typeof InkText;
type TextProps = Parameters<TextComponent>[0];

const require = createRequire(import.meta.url);
const inkDir = dirname(require.resolve('ink'));
const modules = patchedBeside<{ default: TextComponent }>(
  join(inkDir, 'components', 'Text.js'),
  patchInkText,
);

let Original: TextComponent;
let Patched: TextComponent;
const level = chalk.level;
beforeAll(async () => {
  Original = (await modules.original()).default;
  Patched = (await modules.patched()).default;
  chalk.level = 3;
});
afterAll(() => {
  chalk.level = level;
});

const COLORS = [
  undefined,
  '',
  'red',
  'greenBright',
  'gray',
  '#ff8800',
  'ansi256(33)',
  'rgb(1, 2, 3)',
];
const FLAGS = ['dimColor', 'bold', 'italic', 'underline', 'strikethrough', 'inverse'] as const;

function randomProps(r: () => number): TextProps {
  const p: Record<string, unknown> = {};
  const pick = () => COLORS[Math.floor(r() * COLORS.length)];
  if (r() < 0.7) p.color = pick();
  if (r() < 0.3) p.backgroundColor = pick();
  for (const f of FLAGS) if (r() < 0.25) p[f] = true;
  if (r() < 0.3) p.wrap = 'truncate';
  return p as TextProps;
}

/** A line of a few styled words, some nested two deep, built with the given Text. */
function line(T: TextComponent, seed: number): ReactElement {
  const r = mulberry32(seed);
  const words: ReactNode[] = [];
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const inner =
      r() < 0.3
        ? createElement(T, { ...randomProps(r), key: 'x' }, `in${i}`)
        : `w${Math.floor(r() * 100)} `;
    words.push(createElement(T, { ...randomProps(r), key: i }, inner));
  }
  return createElement(T, randomProps(r), ...words);
}

describe('ink-text: one transform per set of style props', () => {
  it('draws what Ink’s own Text draws (300 random lines, nested styles)', () => {
    let styled = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const want = renderToString(createElement(Box, { width: 60 }, line(Original, seed)));
      const got = renderToString(createElement(Box, { width: 60 }, line(Patched, seed)));
      expect(got, `seed ${seed}`).toBe(want);
      if (want.includes('\u001b[')) styled++;
    }
    expect(styled).toBeGreaterThan(200);
  });

  it('an unchanged nested Text does not send its line to be measured again', async () => {
    const measureText = (await import(pathToFileURL(join(inkDir, 'measure-text.js')).href))
      .default as (t: string) => { width: number; height: number };
    const squash = (await import(pathToFileURL(join(inkDir, 'squash-text-nodes.js')).href))
      .default as (n: DOMElement) => string;
    const measures = async (T: TextComponent) => {
      let box: DOMElement | null = null;
      const ref: Ref<DOMElement> = (el) => {
        box = el;
      };
      const tree = (n: number) =>
        createElement(
          Box,
          { ref, flexDirection: 'column' },
          createElement(
            T,
            { wrap: 'truncate' },
            'a line with ',
            createElement(T, { color: 'red', bold: true }, 'a red word'),
          ),
          createElement(T, null, `frame ${n}`),
        );
      const r = render(tree(0));
      const text = (box as unknown as DOMElement).childNodes[0] as DOMElement;
      let count = 0;
      text.yogaNode!.setMeasureFunc(() => {
        count++;
        return measureText(squash(text));
      });
      for (let n = 1; n <= 3; n++) {
        r.rerender(tree(n));
        await new Promise((ok) => setTimeout(ok, 5));
      }
      const frame = stripVTControlCharacters(r.lastFrame() ?? '');
      expect(frame).toContain('a line with a red word');
      expect(frame).toContain('frame 3');
      r.unmount();
      return count;
    };
    // Ink's own Text: the nested Text's new closure marks the line dirty on every re-render.
    expect(await measures(Original)).toBeGreaterThanOrEqual(3);
    // The build's: the same closure, nothing marked; only the line that changed is measured.
    expect(await measures(Patched)).toBe(0);
  });
});
