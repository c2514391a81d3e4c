/**
 * Editing k8ops.yaml's rotation settings in place (src/config/edit.ts): only the changed
 * scalars move, every other byte of the file stays (k8ops.example.yaml, the test
 * fixtures, CRLF, a byte-order mark, hostile comments); missing keys and a missing section
 * are added; shapes that cannot be edited safely (shared anchors, aliases, block scalars)
 * are refused, and so is anything that would not load afterwards.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationText, editRotation, type RotationEdit } from '../../../src/config/edit.js';
import { parseInventory } from '../../../src/config/load.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLE = readFileSync(join(ROOT, 'k8ops.example.yaml'), 'utf8');
const MINIMAL = readFileSync(join(ROOT, 'test/fixtures/inventory/minimal.yaml'), 'utf8');
const PATH = '/srv/k8ops/k8ops.yaml';
const HOME = '/home/op';
const H = 3_600_000;
const D = 24 * H;

const edit = (text: string, e: RotationEdit) => editRotation(text, PATH, e, { home: HOME });
function ok(text: string, e: RotationEdit) {
  const r = edit(text, e);
  if (!r.ok) throw new Error(`expected an edit, got: ${r.message}`);
  return r;
}
const refused = (text: string, e: RotationEdit): string => {
  const r = edit(text, e);
  if (r.ok) throw new Error(`expected a refusal, got:\n${r.text}`);
  return r.message;
};

/** The lines of `b` that differ from `a`'s (same line count expected unless `added`). */
function changedLines(a: string, b: string): Array<[number, string, string]> {
  const x = a.split('\n');
  const y = b.split('\n');
  expect(y.length).toBe(x.length);
  return x.flatMap((l, i) => (l === y[i] ? [] : [[i + 1, l, y[i]!] as [number, string, string]]));
}

const BASE = `cluster: lab
nodes:
  - name: cp-1
    roles: [control-plane, etcd]
`;

describe('durationText', () => {
  it.each([
    [26 * H, 'spread', undefined, '26h'],
    [24 * H, 'spread', '1d', '1d'],
    [30 * 60_000, 'spread', undefined, '30m'],
    [H + 30 * 60_000, 'spread', undefined, '1h30m'],
    [0, 'spread', undefined, '0s'],
    [5 * D + 4 * H, 'renewBefore', undefined, '5d4h'],
    [5 * D + 4 * H, 'renewBefore', '124h', '124h'],
    [2 * D, 'renewBefore', undefined, '2d'],
  ] as const)('%i ms (%s, like %s) → %s', (ms, key, like, want) => {
    expect(durationText(ms, key, like)).toBe(want);
  });
});

describe('k8ops.example.yaml', () => {
  it('spread 24h → 26h: one line changes, in its value only; comments and the rest stay', () => {
    const r = ok(EXAMPLE, { spreadMs: 26 * H });
    expect(changedLines(EXAMPLE, r.text)).toEqual([[121, '  spread: 24h', '  spread: 26h']]);
    expect(r.inventory.rotation.spreadMs).toBe(26 * H);
    expect(r.changes).toEqual([
      { key: 'spread', fromText: '24h', from: 24 * H, toText: '26h', to: 26 * H, added: false },
    ]);
  });

  it('renewBefore auto → 5d4h and spread together', () => {
    const r = ok(EXAMPLE, { spreadMs: 36 * H, renewBeforeMs: 5 * D + 4 * H });
    expect(changedLines(EXAMPLE, r.text)).toEqual([
      [119, '  renewBefore: auto', '  renewBefore: 5d4h'],
      [121, '  spread: 24h', '  spread: 36h'],
    ]);
    expect(r.inventory.rotation).toMatchObject({ spreadMs: 36 * H, renewBeforeMs: 5 * D + 4 * H });
    // Back again: the original text, byte for byte.
    const back = ok(r.text, { spreadMs: 24 * H, renewBeforeMs: 'auto' });
    expect(back.text).toBe(EXAMPLE);
  });

  it('a value equal to the file’s is not a change; all equal: nothing to save', () => {
    const r = edit(EXAMPLE, { spreadMs: 24 * H, renewBeforeMs: 'auto' });
    expect(r).toMatchObject({ ok: false, nothingToDo: true });
    if (!r.ok)
      expect(r.message).toBe('nothing to save: the file already has spread 1d, renewBefore auto');
    const one = ok(EXAMPLE, { spreadMs: 24 * H, renewBeforeMs: 3 * D });
    expect(one.changes.map((c) => c.key)).toEqual(['renewBefore']);
  });

  it('property: any spread and renew window edit round-trips and touches only those lines', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 * 24 }),
        fc.option(fc.integer({ min: 1, max: 27 }), { nil: undefined }),
        (spreadH, renew12h) => {
          const e: RotationEdit = {
            spreadMs: spreadH * H,
            renewBeforeMs: renew12h === undefined ? 'auto' : renew12h * 12 * H,
          };
          const r = edit(EXAMPLE, e);
          if (!r.ok) {
            expect(r.nothingToDo).toBe(true);
            return;
          }
          const lines = changedLines(EXAMPLE, r.text).map(([n]) => n);
          for (const n of lines) expect([119, 121]).toContain(n);
          const back = parseInventory(r.text, PATH, { home: HOME });
          expect(back.ok).toBe(true);
          if (back.ok) {
            expect(back.inventory.rotation.spreadMs).toBe(e.spreadMs);
            expect(back.inventory.rotation.renewBeforeMs).toBe(
              e.renewBeforeMs === 'auto' ? undefined : e.renewBeforeMs,
            );
          }
        },
      ),
      { numRuns: 200, seed: 15 },
    );
  });
});

describe('adding what is missing', () => {
  it('no rotation section: appended at the end; every byte before it stays', () => {
    const r = ok(MINIMAL, { spreadMs: 26 * H });
    expect(r.text.startsWith(MINIMAL)).toBe(true);
    expect(r.text.slice(MINIMAL.length)).toBe(
      '\n# Certificate rotation schedule (added by k8ops; see k8ops.example.yaml).\nrotation:\n  spread: 26h\n',
    );
    expect(r.changes[0]).toMatchObject({ key: 'spread', fromText: undefined, added: true });
  });

  it('no final newline: one is added before the section', () => {
    const text = `${BASE}ssh:\n    user: ops`;
    const r = ok(text, { renewBeforeMs: 3 * D });
    expect(r.text.startsWith(text)).toBe(true);
    // The file's own indentation step (4 here).
    expect(r.text).toContain('\nrotation:\n    renewBefore: 3d\n');
  });

  it('a rotation section without the key: added under the last key, same indentation', () => {
    const text = `${BASE}rotation:\n    # tuned for the lab\n    cpGap: 45m   # keep\n    # minRemaining: 48h\n\nnetwork:\n    targetMtu: 9000\n`;
    const r = ok(text, { spreadMs: 12 * H, renewBeforeMs: 'auto' });
    expect(r.text).toBe(
      `${BASE}rotation:\n    # tuned for the lab\n    cpGap: 45m   # keep\n    spread: 12h\n    # minRemaining: 48h\n\nnetwork:\n    targetMtu: 9000\n`,
    );
    // renewBefore auto is the default: not written.
    expect(r.changes.map((c) => c.key)).toEqual(['spread']);
  });

  it('rotation: with nothing, or ~ with a comment: becomes a block', () => {
    const a = ok(`${BASE}rotation:\nkube:\n  tunnel: false\n`, { spreadMs: 2 * H });
    expect(a.text).toBe(`${BASE}rotation:\n  spread: 2h\nkube:\n  tunnel: false\n`);
    const b = ok(`${BASE}rotation: ~ # later\n`, { spreadMs: 2 * H, renewBeforeMs: 4 * D });
    expect(b.text).toBe(`${BASE}rotation: # later\n  spread: 2h\n  renewBefore: 4d\n`);
  });

  it('an empty value (spread:) gets one; quoted values keep their quotes', () => {
    const r = ok(`${BASE}rotation:\n  spread:\n  cpGap: "30m"\n`, { spreadMs: 3 * H });
    expect(r.text).toBe(`${BASE}rotation:\n  spread: 3h\n  cpGap: "30m"\n`);
    const q = ok(`${BASE}rotation:\n  spread: "24h"\n  renewBefore: 'auto'\n`, {
      spreadMs: 25 * H,
      renewBeforeMs: 2 * D + 12 * H,
    });
    expect(q.text).toBe(`${BASE}rotation:\n  spread: "25h"\n  renewBefore: '2d12h'\n`);
  });

  it('a flow mapping: the key goes before the closing brace', () => {
    const r = ok(`${BASE}rotation: {cpGap: 30m} # flow\n`, { spreadMs: 6 * H });
    expect(r.text).toBe(`${BASE}rotation: {cpGap: 30m, spread: 6h} # flow\n`);
    const s = ok(`${BASE}rotation: {spread: 1d, cpGap: 30m}\n`, { spreadMs: 2 * D });
    expect(s.text).toBe(`${BASE}rotation: {spread: 2d, cpGap: 30m}\n`);
  });
});

describe('line endings, byte-order mark, hostile text elsewhere', () => {
  it('CRLF: the new line ends in CRLF, every other byte stays', () => {
    const text = `${BASE}rotation:\n  cpGap: 30m\n`.replaceAll('\n', '\r\n');
    const r = ok(text, { spreadMs: 5 * H });
    expect(r.text).toBe(`${BASE}rotation:\n  cpGap: 30m\n  spread: 5h\n`.replaceAll('\n', '\r\n'));
    const m = ok(text.replace('rotation:\r\n  cpGap: 30m\r\n', ''), { spreadMs: 5 * H });
    expect(m.text).not.toMatch(/[^\r]\n/);
  });

  it('a byte-order mark stays in front', () => {
    const text = `\uFEFF${BASE}rotation:\n  spread: 24h\n`;
    const r = ok(text, { spreadMs: 48 * H });
    expect(r.text).toBe(`\uFEFF${BASE}rotation:\n  spread: 48h\n`);
  });

  it('control bytes, bidi overrides and odd quoting elsewhere stay byte for byte', () => {
    const hostile = `# \u001b[31mred\u001b[0m \u202Eevil\u202C comment \u0007\n${BASE}cluster_note_is_not_a_key: 1\n`;
    // (the key above is unknown: the file does not load, nothing is edited)
    expect(refused(hostile, { spreadMs: H })).toMatch(/does not load as it is/);
    const text = `# \u001b[31mred\u001b[0m \u202Eevil\u202C \u0007\n${BASE}kube:\n  context: "we'ird #x"   # 'quoted' "stuff" \u0000\nrotation:\n  spread: 24h # \u001b[2J\n`;
    const r = ok(text, { spreadMs: 30 * H });
    expect(r.text).toBe(text.replace('spread: 24h', 'spread: 30h'));
  });
});

describe('refused, with a reason, and nothing produced', () => {
  it('rotation is an alias of another mapping', () => {
    const text = `${BASE}kube: &k\n  tunnel: false\nrotation: *k\n`;
    // (kube's keys are not rotation's: this does not even load)
    expect(refused(text, { spreadMs: H })).toMatch(/does not load/);
  });

  it('an anchor shared with another setting would change both', () => {
    const text = `${BASE}rotation:\n  spread: &d 24h\n  minRemaining: *d\n`;
    expect(refused(text, { spreadMs: 25 * H })).toMatch(/change other values/);
  });

  it('an alias as the value: replaced by the value, the anchor stays', () => {
    const text = `${BASE}ssh:\n  connectTimeout: &t 5s\nrotation:\n  cpGap: *t\n  spread: *t\n`;
    const r = ok(text, { spreadMs: 2 * H });
    expect(r.text).toBe(text.replace('spread: *t', 'spread: 2h'));
    expect(r.inventory.ssh.connectTimeoutMs).toBe(5000);
    expect(r.inventory.rotation.cpGapMs).toBe(5000);
  });

  it('a block scalar', () => {
    const text = `${BASE}rotation:\n  spread: |-\n    24h\n`;
    expect(refused(text, { spreadMs: 2 * H })).toMatch(/block scalar/);
  });

  it('a file that does not load, or is not YAML', () => {
    expect(refused('cluster: [', { spreadMs: H })).toMatch(/does not load/);
    expect(refused('', { spreadMs: H })).toMatch(/does not load/);
    expect(refused(`${BASE}rotation:\n  spread: soon\n`, { spreadMs: H })).toMatch(
      /does not load.*invalid duration "soon"/,
    );
  });

  it('a value that is not a duration', () => {
    expect(refused(EXAMPLE, { spreadMs: -1 })).toMatch(/not a duration/);
    expect(refused(EXAMPLE, { spreadMs: Number.NaN })).toMatch(/not a duration/);
  });

  it('garbage never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.integer({ min: 0, max: 10 * D }), (t, ms) => {
        const r = editRotation(`${BASE}${t}`, PATH, { spreadMs: ms }, { home: HOME });
        if (r.ok) {
          const back = parseInventory(r.text, PATH, { home: HOME });
          expect(back.ok && back.inventory.rotation.spreadMs).toBe(ms);
        } else expect(typeof r.message).toBe('string');
      }),
      { numRuns: 300, seed: 15 },
    );
  });
});
