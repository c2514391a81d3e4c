/**
 * The build's patches to Ink's Output (esbuild.ink-output.mjs: caches shared across frames,
 * a text's lines and a clipped line's cut cached, an unchanged row not serialised again)
 * keep every frame the same string as Ink's own Output: both modules are run side by side
 * on random frames — styled text, newlines, wide and zero-width characters, nested clips,
 * transformers — with frames repeated and changed a little, as a console's are.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a build script (plain ESM, no types)
import { patchInkOutput } from '../../../esbuild.ink-output.mjs';
import { mulberry32 } from '../../../src/store/prng.js';
import { patchedBeside } from '../../helpers/patched-module.js';

interface OutputLike {
  write(
    x: number,
    y: number,
    text: string,
    o: { transformers: ((s: string, i: number) => string)[] },
  ): void;
  clip(c: { x1?: number; x2?: number; y1?: number; y2?: number }): void;
  unclip(): void;
  get(): { output: string; height: number };
}
type OutputCtor = new (o: { width: number; height: number }) => OutputLike;

const require = createRequire(import.meta.url);
const modules = patchedBeside<{ default: OutputCtor }>(
  join(dirname(require.resolve('ink')), 'output.js'),
  patchInkOutput,
);

const WORDS = [
  'cp-1',
  'worker-2',
  'Ready',
  '13d 04:28:35',
  '●',
  '…',
  '漢字',
  '🙂',
  'a\u200bb',
  ' ',
  'x',
];
const COLORS = ['\u001b[31m', '\u001b[1m', '\u001b[7m', '\u001b[38;5;33m', '\u001b[44m'];
const RESET = ['\u001b[39m', '\u001b[22m', '\u001b[27m', '\u001b[39m', '\u001b[49m'];

type Op =
  | { kind: 'write'; x: number; y: number; text: string; upper: boolean }
  | { kind: 'clip'; clip: { x1?: number; x2?: number; y1?: number; y2?: number } }
  | { kind: 'unclip' };

function randomText(r: () => number): string {
  let s = '';
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const w = WORDS[Math.floor(r() * WORDS.length)]!;
    if (r() < 0.4) {
      const c = Math.floor(r() * COLORS.length);
      s += `${COLORS[c]}${w}${RESET[c]}`;
    } else s += w;
    if (r() < 0.15) s += '\n';
    else s += ' ';
  }
  return s;
}

function randomFrame(r: () => number, width: number, height: number): Op[] {
  const ops: Op[] = [];
  let depth = 0;
  const n = 5 + Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    const p = r();
    if (p < 0.1) {
      const x1 = Math.floor(r() * width) - 2;
      const y1 = Math.floor(r() * height) - 1;
      ops.push({
        kind: 'clip',
        clip:
          r() < 0.5
            ? { x1, x2: x1 + Math.floor(r() * width), y1, y2: y1 + Math.floor(r() * height) }
            : { x1, x2: x1 + Math.floor(r() * width) },
      });
      depth++;
    } else if (p < 0.15 && depth > 0) {
      ops.push({ kind: 'unclip' });
      depth--;
    } else {
      ops.push({
        kind: 'write',
        x: Math.floor(r() * width) - 1,
        y: Math.floor(r() * height),
        text: randomText(r),
        upper: r() < 0.2,
      });
    }
  }
  return ops;
}

function draw(Output: OutputCtor, ops: Op[], width: number, height: number): string {
  const o = new Output({ width, height });
  for (const op of ops) {
    if (op.kind === 'clip') o.clip(op.clip);
    else if (op.kind === 'unclip') o.unclip();
    else
      o.write(op.x, op.y, op.text, {
        transformers: op.upper ? [(s: string, i: number) => `${i}:${s.toUpperCase()}`] : [],
      });
  }
  return o.get().output;
}

describe("the build's Ink Output", () => {
  it('draws every frame as Ink does: random frames, repeated and changed a little', async () => {
    const [Ink, Built] = (await Promise.all([modules.original(), modules.patched()])).map(
      (m) => m.default,
    ) as [OutputCtor, OutputCtor];
    const r = mulberry32(1306);
    let frames = 0;
    let rowsReused = 0;
    for (let round = 0; round < 60; round++) {
      const width = 10 + Math.floor(r() * 80);
      const height = 3 + Math.floor(r() * 20);
      let ops = randomFrame(r, width, height);
      let last = '';
      for (let k = 0; k < 8; k++) {
        const want = draw(Ink, ops, width, height);
        const got = draw(Built, ops, width, height);
        expect(got, `round ${round} frame ${k}`).toBe(want);
        if (k > 0)
          rowsReused += want.split('\n').filter((l, i) => l === last.split('\n')[i]).length;
        last = want;
        frames++;
        // The next frame: the same, or one text changed, or one op added (a countdown, a row).
        const q = r();
        if (q < 0.4) continue;
        ops = ops.slice();
        const i = Math.floor(r() * ops.length);
        const op = ops[i]!;
        if (q < 0.8 && op.kind === 'write') ops[i] = { ...op, text: randomText(r) };
        else ops.push(...randomFrame(r, width, height).slice(0, 2));
      }
    }
    expect(frames).toBe(480);
    expect(rowsReused).toBeGreaterThan(1000);
  });

  it('a frame after the shared caches were emptied (past 20,000 entries) is still the same', async () => {
    const [Ink, Built] = (await Promise.all([modules.original(), modules.patched()])).map(
      (m) => m.default,
    ) as [OutputCtor, OutputCtor];
    const r = mulberry32(7);
    const ops = randomFrame(r, 60, 10);
    const want = draw(Ink, ops, 60, 10);
    // 21,000 distinct texts through the built Output's caches.
    for (let i = 0; i < 700; i++) {
      const o = new Built({ width: 200, height: 30 });
      for (let j = 0; j < 30; j++) o.write(0, j, `row ${i}.${j}`, { transformers: [] });
      o.get();
    }
    expect(draw(Built, ops, 60, 10)).toBe(want);
  });

  it('fails loudly when Ink no longer has what a patch replaces', () => {
    expect(() => patchInkOutput('export default class Output {}')).toThrow(
      /ink-output: .* not found/,
    );
  });
});
