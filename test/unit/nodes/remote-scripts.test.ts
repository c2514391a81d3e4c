import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  listDirScript,
  parseListDir,
  parseOsRelease,
  parseReadFiles,
  parseStat,
  parseUnitStates,
  readFilesScript,
  statScript,
  unitStatesCommand,
} from '../../../src/nodes/remote-scripts.js';
import { UnsafeValueError } from '../../../src/ssh/quote.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-frames-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const a = f('a.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const b = f("b it's $(x).txt", 'x'.repeat(5000));
const empty = f('empty', '');
const utf = f('utf', 'ünïcødé ✓\n');
const sub = join(dir, 'sub');
mkdirSync(sub);
const missing = join(dir, 'missing');
const paths = [a, b, empty, missing, sub, utf];
/** Run the remote script with this machine's sh (the script is plain POSIX sh). */
const runLocal = (text: string) => execFileSync('sh', ['-c', text]).toString('utf8');

describe('readFiles framing', () => {
  const nonce = 'TESTnonce_1';
  const out = runLocal(readFilesScript(paths, nonce).text);

  it('round-trips through the real sh', () => {
    expect(parseReadFiles(out, nonce, paths)).toEqual([
      {
        path: a,
        ok: true,
        content: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      },
      { path: b, ok: true, content: 'x'.repeat(5000) },
      { path: empty, ok: true, content: '' },
      { path: missing, ok: false, missing: true, error: 'no such file' },
      { path: sub, ok: false, missing: false, error: 'is a directory' },
      { path: utf, ok: true, content: 'ünïcødé ✓\n' },
    ]);
  });

  it('truncated at any byte: never throws, never returns wrong content', () => {
    const full = parseReadFiles(out, nonce, paths);
    for (let cut = 0; cut < out.length; cut += 7) {
      const r = parseReadFiles(out.slice(0, cut), nonce, paths);
      expect(r).toHaveLength(paths.length);
      r.forEach((x, i) => {
        if (x.ok) expect(x).toEqual(full[i]);
        else expect(x.path).toBe(paths[i]);
      });
    }
    const cutMid = parseReadFiles(out.slice(0, out.indexOf('data') + 40), nonce, paths);
    expect(cutMid[0]).toMatchObject({
      ok: false,
      error: expect.stringMatching(/truncated|corrupt/),
    });
    expect(cutMid[5]).toMatchObject({ ok: false, error: 'truncated output' });
  });

  it('garbage, foreign markers and noise around frames', () => {
    const noise = `motd line\nK8OPS-othernonce 0 data\nQUFB\nK8OPS-othernonce 0 end\n${out}trailing junk\n`;
    expect(parseReadFiles(noise, nonce, paths)).toEqual(parseReadFiles(out, nonce, paths));
    const bad = `K8OPS-${nonce} 0 data\n%%%notbase64\nK8OPS-${nonce} 0 end\nK8OPS-${nonce} 1 data\nQUFB\nK8OPS-${nonce} 9 end\nK8OPS-${nonce} 99 missing\nK8OPS-${nonce} x missing\nK8OPS-${nonce} done\n`;
    const r = parseReadFiles(bad, nonce, paths);
    expect(r[0]).toMatchObject({ ok: false, error: 'corrupt frame (bad base64)' });
    expect(r[1]).toMatchObject({ ok: false, error: 'corrupt frame (no end marker)' });
    expect(r[2]).toMatchObject({ ok: false, error: 'no result for this file' });
    expect(parseReadFiles('', nonce, [])).toEqual([]);
    expect(parseReadFiles('\u0000\u0001garbage', nonce, [a])[0]).toMatchObject({
      ok: false,
      error: 'truncated output',
    });
    const readErr = `K8OPS-${nonce} 0 data\nQUFB!\nK8OPS-${nonce} 0 end\nK8OPS-${nonce} done\n`;
    expect(parseReadFiles(readErr, nonce, [a])[0]).toMatchObject({
      ok: false,
      error: 'read error',
    });
  });

  it('validates every path before building anything', () => {
    expect(() => readFilesScript([a, '/x/../etc/shadow'], nonce)).toThrow(UnsafeValueError);
    expect(() => readFilesScript([a], 'bad nonce')).toThrow(UnsafeValueError);
  });
});

describe('stat', () => {
  it('round-trips through the real sh and stat', () => {
    const link = join(dir, 'link');
    symlinkSync(a, link);
    const nonce = 'N2';
    const ps = [a, sub, link, missing, empty];
    const r = parseStat(runLocal(statScript(ps, nonce).text), nonce, ps);
    expect(r[0]).toMatchObject({ ok: true, kind: 'file', size: 59, owner: 'root' });
    expect(r[1]).toMatchObject({ ok: true, kind: 'dir' });
    expect(r[2]).toMatchObject({ ok: true, kind: 'link' });
    expect(r[3]).toEqual({ path: missing, ok: false, missing: true, error: 'no such file' });
    expect(r[4]).toMatchObject({ ok: true, kind: 'file', size: 0 });
  });
  it('parses modes and garbage', () => {
    const out =
      'K8OPS-n 0 ok 600 root root 12 regular file\nK8OPS-n 1 ok 2755 ops wheel 0 directory\nK8OPS-n 2 ok zzz\nK8OPS-n 3 error stat: boom\n';
    const r = parseStat(out, 'n', ['/a', '/b', '/c', '/d', '/e']);
    expect(r[0]).toEqual({
      path: '/a',
      ok: true,
      mode: 0o600,
      owner: 'root',
      group: 'root',
      size: 12,
      kind: 'file',
    });
    expect(r[1]).toMatchObject({ mode: 0o2755, owner: 'ops', group: 'wheel', kind: 'dir' });
    expect(r[2]).toMatchObject({ ok: false, error: 'unparsable stat output' });
    expect(r[3]).toMatchObject({ ok: false, error: 'stat: boom' });
    expect(r[4]).toMatchObject({ ok: false, error: 'truncated output' });
  });
});

describe('listDir', () => {
  it('lists dotfiles and odd names via the real sh, NUL-separated', () => {
    const d = join(dir, 'ls');
    mkdirSync(d);
    for (const n of ['.hidden', '..dots', 'plain', 'new\nline', '*']) writeFileSync(join(d, n), '');
    expect(parseListDir(runLocal(listDirScript(d).text))).toEqual(
      ['*', '..dots', '.hidden', 'new\nline', 'plain'].sort(),
    );
    const missing = spawnSync('sh', ['-c', listDirScript(join(dir, 'nope')).text], {
      encoding: 'utf8',
    });
    expect(missing.status).toBe(3);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('not a directory or not accessible\n');
  });
});

describe('unit states', () => {
  it('builds a quoted systemctl show command', () => {
    expect(unitStatesCommand(['kubelet.service', 'etcd']).text).toBe(
      "systemctl show -p Id,LoadState,ActiveState -- 'kubelet.service' 'etcd'",
    );
  });
  it('parses systemctl show blocks in argument order', () => {
    const out =
      'Id=kubelet.service\nLoadState=loaded\nActiveState=active\n\nId=etcd.service\nLoadState=loaded\nActiveState=failed\n\nId=nope.service\nLoadState=not-found\nActiveState=inactive\n\nId=x.service\nLoadState=loaded\nActiveState=reloading\n';
    expect(
      parseUnitStates(out, [
        'kubelet.service',
        'etcd',
        'nope.service',
        'x.service',
        'missing.service',
      ]),
    ).toEqual([
      { unit: 'kubelet.service', state: 'active' },
      { unit: 'etcd', state: 'failed' },
      { unit: 'nope.service', state: 'unknown' },
      { unit: 'x.service', state: 'unknown' },
      { unit: 'missing.service', state: 'unknown' },
    ]);
  });
});

describe('os-release', () => {
  it('PRETTY_NAME, quoted or not, with fallback', () => {
    expect(parseOsRelease('NAME=NixOS\nPRETTY_NAME="NixOS 24.11 (Vicuna)"\n')).toBe(
      'NixOS 24.11 (Vicuna)',
    );
    expect(parseOsRelease("PRETTY_NAME='Debian GNU/Linux 12 (bookworm)'")).toBe(
      'Debian GNU/Linux 12 (bookworm)',
    );
    expect(parseOsRelease('NAME=NixOS\nVERSION="25.05 (Warbler)"')).toBe('NixOS 25.05 (Warbler)');
    expect(parseOsRelease('garbage')).toBeUndefined();
  });
});
