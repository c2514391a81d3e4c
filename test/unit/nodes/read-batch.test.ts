/**
 * readFiles in one `wc -c` + one `cat` (readFilesBatchScript / parseReadFilesBatch), and
 * the batched stat script, through real local shells.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  parseReadFiles,
  parseReadFilesBatch,
  parseStat,
  readFilesBatchScript,
  readFilesScript,
  statScript,
} from '../../../src/nodes/remote-scripts.js';
import { UnsafeValueError } from '../../../src/ssh/quote.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const NONCE = 'BATCHnonce_1';
const M = `K8OPS-${NONCE}`;
const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
// Content that mimics every frame line of this very request, nonce included.
const forged = `${M} 0 missing\n${M} sizes 0 1\n 3 x\n${M} data\n${M} 1 isdir\n\n${M} end 0\n${M} done\n`;
const files = {
  a: f('a.pem', pem),
  forged: f('forged', forged),
  noNl: f('no-newline', 'abc'),
  empty: f('empty', ''),
  utf: f('utf', 'ünïcødé ✓\n'),
  big: f("big it's $(x).txt", 'x'.repeat(200_000)),
  sub: (() => {
    const p = join(dir, 'sub');
    mkdirSync(p);
    return p;
  })(),
  missing: join(dir, 'missing'),
};
const paths = [
  files.a,
  files.missing,
  files.forged,
  files.noNl,
  files.sub,
  files.empty,
  files.utf,
  files.big,
];
const expected = [
  { path: files.a, ok: true, content: pem },
  { path: files.missing, ok: false, missing: true, error: 'no such file' },
  { path: files.forged, ok: true, content: forged },
  { path: files.noNl, ok: true, content: 'abc' },
  { path: files.sub, ok: false, missing: false, error: 'is a directory' },
  { path: files.empty, ok: true, content: '' },
  { path: files.utf, ok: true, content: 'ünïcødé ✓\n' },
  { path: files.big, ok: true, content: 'x'.repeat(200_000) },
];

const shells = [['sh'], ['bash', '--posix']];
const runIn = (shell: string[], text: string, env?: NodeJS.ProcessEnv) =>
  execFileSync(shell[0]!, [...shell.slice(1), '-c', text], { env: env ?? process.env });

describe('readFiles batch (wc -c + cat)', () => {
  it.each(shells)(
    'round-trips through %s, a file forging this nonce’s frames included',
    (...sh) => {
      const out = runIn(sh, readFilesBatchScript(paths, NONCE).text);
      const r = parseReadFilesBatch(out, NONCE, paths);
      expect(r.retry).toEqual([]);
      expect(r.files).toEqual(expected);
      // the same answer as the per-file (base64) script
      const perFile = parseReadFiles(
        runIn(sh, readFilesScript(paths, NONCE).text).toString('utf8'),
        NONCE,
        paths,
      );
      expect(perFile).toEqual(expected);
    },
  );

  it('binary content is split by bytes, not characters', () => {
    const bin = f('bin', Buffer.from([0, 1, 2, 0xff, 0x0a, 0xc3]));
    const ps = [bin, files.utf, files.a];
    const out = runIn(['sh'], readFilesBatchScript(ps, NONCE).text);
    const r = parseReadFilesBatch(out, NONCE, ps);
    expect(r.files[1]).toEqual({ path: files.utf, ok: true, content: 'ünïcødé ✓\n' });
    expect(r.files[2]).toEqual({ path: files.a, ok: true, content: pem });
    expect(r.files[0]).toMatchObject({ ok: true });
  });

  it('unreadable files are `permission denied` (as a non-root user)', () => {
    if (process.getuid?.() !== 0) return; // needs a user switch: run only as root
    const secret = f('secret', 'k');
    chmodSync(secret, 0o600);
    chmodSync(dir, 0o755);
    let out: Buffer;
    try {
      out = execFileSync('setpriv', [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        'sh',
        '-c',
        readFilesBatchScript([secret, files.a], NONCE).text,
      ]);
    } catch {
      return; // no setpriv
    }
    const r = parseReadFilesBatch(out, NONCE, [secret, files.a]);
    expect(r.files[0]).toEqual({
      path: secret,
      ok: false,
      missing: false,
      error: 'permission denied',
    });
    expect(r.files[1]).toMatchObject({ ok: true, content: pem });
  });

  it('truncated at any byte: never throws, never returns wrong content', () => {
    const ps = [files.a, files.missing, files.forged, files.noNl, files.utf];
    const out = runIn(['sh'], readFilesBatchScript(ps, NONCE).text);
    const full = parseReadFilesBatch(out, NONCE, ps);
    for (let cut = 0; cut < out.length; cut++) {
      const r = parseReadFilesBatch(out.subarray(0, cut), NONCE, ps);
      expect(r.files).toHaveLength(ps.length);
      r.files.forEach((x, i) => {
        if (x.ok) expect(x).toEqual(full.files[i]);
        else expect(x.path).toBe(ps[i]);
      });
      // (a cut inside the forged file can resync on its fake end marker: a retry, never data)
      for (const i of r.retry) expect(r.files[i]!.ok).toBe(false);
    }
  });

  it('a size that changed between wc and cat: the batch is reported for a per-file retry', () => {
    const ps = [files.a, files.missing, files.noNl];
    const good = runIn(['sh'], readFilesBatchScript(ps, NONCE).text).toString('latin1');
    // the file grew by one byte after wc counted it
    const grew = Buffer.from(good.replace('abc\n', 'abcd\n'), 'latin1');
    const r = parseReadFilesBatch(grew, NONCE, ps);
    expect(r.retry).toEqual([0, 2]);
    expect(r.files[0]).toMatchObject({ ok: false, error: 'file changed while reading' });
    expect(r.files[1]).toMatchObject({ ok: false, missing: true });
    // cat failed (exit status 1) even though the byte count matched
    const failed = Buffer.from(good.replace(`${M} end 0`, `${M} end 1`), 'latin1');
    expect(parseReadFilesBatch(failed, NONCE, ps).retry).toEqual([0, 2]);
    // wc listed fewer sizes than files
    const short = Buffer.from(good.replace(/^\s*3 .*\n/m, ''), 'latin1');
    expect(parseReadFilesBatch(short, NONCE, ps).retry).toEqual([0, 2]);
  });

  it('garbage and foreign frames', () => {
    const ps = [files.a, files.noNl];
    const good = runIn(['sh'], readFilesBatchScript(ps, NONCE).text);
    const noisy = Buffer.concat([
      Buffer.from('motd\nK8OPS-other sizes 0 1\n 1 x\nK8OPS-other data\nQ\n'),
      good,
      Buffer.from('trailing junk'),
    ]);
    expect(parseReadFilesBatch(noisy, NONCE, ps)).toEqual(parseReadFilesBatch(good, NONCE, ps));
    const bad = Buffer.from(
      `${M} sizes 0 7\n 1 x\n 1 y\n${M} data\nab\n${M} end 0\n${M} sizes 0 0\n${M} data\n${M} done\n`,
    );
    const r = parseReadFilesBatch(bad, NONCE, ps);
    expect(r.files.map((x) => x.ok)).toEqual([false, false]);
    expect(r.files[0]).toMatchObject({ error: 'no result for this file' });
    expect(
      parseReadFilesBatch(Buffer.from('\u0000\u0001garbage'), NONCE, ps).files[0],
    ).toMatchObject({ ok: false, error: 'truncated output' });
    expect(parseReadFilesBatch(Buffer.alloc(0), NONCE, [])).toEqual({ files: [], retry: [] });
  });

  it('falls back to per-file frames on the node when wc fails', () => {
    const bin = join(dir, 'fakebin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'wc'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const out = runIn(['sh'], readFilesBatchScript(paths, NONCE).text, env);
    expect(out.toString()).not.toContain(`${M} sizes`);
    const r = parseReadFilesBatch(out, NONCE, paths);
    expect(r.retry).toEqual([]);
    expect(r.files).toEqual(expected);
  });

  it('validates every path and the nonce before building anything', () => {
    expect(() => readFilesBatchScript([files.a, '/x/../etc/shadow'], NONCE)).toThrow(
      UnsafeValueError,
    );
    expect(() => readFilesBatchScript([files.a, 'relative'], NONCE)).toThrow(UnsafeValueError);
    expect(() => readFilesBatchScript([files.a], 'bad nonce')).toThrow(UnsafeValueError);
  });
});

describe('stat batch', () => {
  const ps = [files.a, files.sub, files.missing, files.empty];
  it.each(shells)('one stat process through %s; same frames as per path', (...sh) => {
    const r = parseStat(runIn(sh, statScript(ps, NONCE).text).toString(), NONCE, ps);
    expect(r[0]).toMatchObject({ ok: true, kind: 'file', size: pem.length });
    expect(r[1]).toMatchObject({ ok: true, kind: 'dir' });
    expect(r[2]).toEqual({ path: files.missing, ok: false, missing: true, error: 'no such file' });
    expect(r[3]).toMatchObject({ ok: true, kind: 'file', size: 0 });
  });
  it('falls back to one stat per path when the batch fails (a path vanished)', () => {
    const bin = join(dir, 'fakestat');
    mkdirSync(bin, { recursive: true });
    // fails whenever it is given more than one path (after `-c FORMAT --`)
    writeFileSync(
      join(bin, 'stat'),
      `#!/bin/sh\n[ $# -gt 4 ] && exit 1\nexec ${execFileSync('sh', ['-c', 'command -v stat']).toString().trim()} "$@"\n`,
      { mode: 0o755 },
    );
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const r = parseStat(runIn(['sh'], statScript(ps, NONCE).text, env).toString(), NONCE, ps);
    expect(r.map((x) => x.ok)).toEqual([true, true, false, true]);
    expect(r[0]).toMatchObject({ kind: 'file', size: pem.length });
  });
});
