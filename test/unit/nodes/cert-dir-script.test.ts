/**
 * readCertDirScript (list a PKI directory and read its certificate files in one round trip)
 * run by the real shells a node may have (dash, Debian's sh; bash, NixOS's sh), and its
 * parser. The script's sh patterns must never pick a key file and, for plain ASCII names,
 * pick exactly what isCertFileName takes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identityScript, parseIdentity } from '../../../src/nodes/pki-status-fast.js';
import { parseReadCertDir, readCertDirScript } from '../../../src/nodes/remote-scripts.js';
import { isCertFileName, isKeyFileName } from '../../../src/pki/file-names.js';
import { UnsafeValueError } from '../../../src/ssh/quote.js';

const root = mkdtempSync(join(tmpdir(), 'k8ops-certdir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SHELLS = ['/bin/sh', '/bin/dash', '/bin/bash'].filter(
  (s) => spawnSync(s, ['-c', 'exit 0']).status === 0,
);
const NONCE = 'CERTdir_n1';
const run = (shell: string, dir: string, nonce = NONCE): Buffer =>
  execFileSync(shell, ['-c', readCertDirScript(dir, nonce).text], { maxBuffer: 64 << 20 });

const PEM = (i: number) =>
  `-----BEGIN CERTIFICATE-----\nMIIB${String(i).padStart(4, '0')}\n-----END CERTIFICATE-----\n`;
const ASCII_SAFE = /^[A-Za-z0-9._-]+$/;

/** A directory holding `names` as regular files (content says which), plus extras. */
function makeDir(label: string, names: readonly string[]): string {
  const d = join(root, label);
  mkdirSync(d);
  names.forEach((n, i) => {
    writeFileSync(join(d, n), isKeyFileName(n) ? `PRIVATE KEY ${i}\n` : PEM(i));
  });
  return d;
}

const TRICKY = [
  'ca.pem',
  'kubelet.pem',
  'B.CRT',
  'x.Pem',
  'etcd-ca.crt',
  'key.pem',
  'KEY.PEM',
  'Key.pem',
  'a-key.pem',
  'a_key.pem',
  'a.key.pem',
  'b-KEY.Pem',
  'c.key',
  'akey.pem', // not a key file by the rules ("[-_.]key.pem"): a certificate file
  'monkey.pem',
  'sa.pub',
  'notes.txt',
  '.hidden.pem',
  '..dots.pem',
  'sp ace.pem',
  'new\nline.pem',
  'ünï.pem',
  'x-\u212Aey.pem', // KELVIN SIGN: "x-key.pem" once lowercased by JavaScript
  "it's $(x).pem",
  '-dash.pem',
  'star*.pem',
];

describe.each(SHELLS)('readCertDirScript under %s', (shell) => {
  const d = makeDir(`tricky-${shell.replaceAll('/', '_')}`, TRICKY);
  mkdirSync(join(d, 'dir.pem'));
  symlinkSync('ca.pem', join(d, 'link.pem'));
  symlinkSync('nowhere', join(d, 'dangling.pem'));
  const got = parseReadCertDir(run(shell, d), NONCE);

  it('lists every entry, dotfiles and odd names included', () => {
    expect(got.kind).toBe('listed');
    if (got.kind !== 'listed') return;
    expect(got.names).toEqual(readdirSync(d).sort());
  });

  it('picks no key file; for plain ASCII names, exactly the certificate files', () => {
    if (got.kind !== 'listed') throw new Error(got.kind);
    for (const n of got.picked) {
      expect(isKeyFileName(n), n).toBe(false);
      expect(isCertFileName(n), n).toBe(true);
      expect(ASCII_SAFE.test(n), n).toBe(true);
    }
    const want = got.names.filter(
      (n) => ASCII_SAFE.test(n) && isCertFileName(n) && !['dir.pem', 'dangling.pem'].includes(n),
    );
    expect([...got.picked].sort()).toEqual(want.sort());
    // Names outside plain ASCII are left for readFiles (never guessed at in sh).
    expect(got.picked).not.toContain('ünï.pem');
    expect(got.picked).not.toContain('x-\u212Aey.pem');
  });

  it('the contents are the files’ bytes (a symlink read through)', () => {
    if (got.kind !== 'listed') throw new Error(got.kind);
    expect(got.batch.retry).toEqual([]);
    got.picked.forEach((n, i) => {
      const f = got.batch.files[i]!;
      expect(f.ok, n).toBe(true);
      if (f.ok) expect(f.content).toBe(readFileSync(join(d, n), 'utf8'));
    });
    expect(got.batch.files.some((f) => f.ok && f.content.includes('PRIVATE KEY'))).toBe(false);
  });

  it('each picked file comes with its identity from before the read (stat -L: through a symlink)', () => {
    if (got.kind !== 'listed') throw new Error(got.kind);
    expect([...got.ids.keys()].sort()).toEqual([...got.picked].sort());
    for (const n of got.picked) {
      const st = statSync(join(d, n), { bigint: true });
      const [ino, size] = got.ids.get(n)!.split(':');
      expect([ino, size], n).toEqual([String(st.ino), String(st.size)]);
    }
  });

  it('an empty directory: listed, nothing picked', () => {
    const e = makeDir(`empty-${shell.replaceAll('/', '_')}`, []);
    const got = parseReadCertDir(run(shell, e), NONCE);
    expect(got).toEqual({
      kind: 'listed',
      names: [],
      ids: new Map(),
      picked: [],
      batch: { files: [], retry: [] },
      identity: expect.any(String),
    });
    if (got.kind !== 'listed') return;
    expect(parseIdentity(got.identity!, `${NONCE}i`)).toMatchObject({ kind: 'ok', entries: [] });
  });

  it("its stat is the directory's identity: the same as identityScript's", () => {
    const e = makeDir(`ident-${shell.replaceAll('/', '_')}`, [
      'a+b.pem',
      'b.pem',
      'ca-key.pem',
      'c@d.crt',
      '.hidden.pem',
      'z.pem',
    ]);
    mkdirSync(join(e, 'etcd'));
    symlinkSync('nowhere', join(e, 'gone.pem'));
    symlinkSync('b.pem', join(e, 'link.pem'));
    const got = parseReadCertDir(run(shell, e), NONCE);
    if (got.kind !== 'listed') throw new Error(got.kind);
    const own = parseIdentity(got.identity!, `${NONCE}i`);
    const req = parseIdentity(
      execFileSync(shell, ['-c', identityScript(e, 'IDENT_n2').text]).toString(),
      'IDENT_n2',
    );
    expect(own.kind).toBe('ok');
    expect(own).toEqual(req);
    // Every picked file has its id, also those after a name the id lines' pattern skips.
    expect(got.picked).toEqual(['b.pem', 'link.pem', 'z.pem']);
    expect([...got.ids.keys()].sort()).toEqual(['b.pem', 'link.pem', 'z.pem']);
    if (own.kind !== 'ok') return;
    for (const n of got.picked) expect(got.ids.get(n), n).toBe(own.ids.get(n));
  });

  it('a name that needs quoting: no identity (the status asks for its fallback), ids as before', () => {
    if (got.kind !== 'listed') throw new Error(got.kind);
    expect(parseIdentity(got.identity!, `${NONCE}i`)).toMatchObject({ kind: 'fallback' });
    expect(got.ids.size).toBe(got.picked.length);
  });

  it('a missing directory, or a file in its place: nodir', () => {
    expect(parseReadCertDir(run(shell, join(root, 'nope')), NONCE)).toEqual({ kind: 'nodir' });
    expect(parseReadCertDir(run(shell, join(d, 'ca.pem')), NONCE)).toEqual({ kind: 'nodir' });
  });
});

describe('readCertDirScript: generated names agree with isCertFileName', () => {
  // Bounded: 400 names from the characters and endings the rules care about.
  const parts = ['a', 'K', 'key', 'KEY', 'Key', '-', '_', '.', 'pem', 'PEM', 'crt', 'CrT', '9'];
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  const names = new Set<string>();
  while (names.size < 400) {
    const k = 1 + rnd(5);
    let n = '';
    for (let i = 0; i < k; i++) n += parts[rnd(parts.length)];
    n += ['.pem', '.PEM', '.crt', '.Crt', '-key.pem', '_KEY.pem', '.key.pem', '.key', ''][rnd(9)];
    if (n !== '' && n !== '.' && n !== '..') names.add(n);
  }
  const d = makeDir('generated', [...names]);

  it.each(SHELLS)('under %s: picked = the plain-ASCII certificate files, no key file', (shell) => {
    const got = parseReadCertDir(run(shell, d), NONCE);
    if (got.kind !== 'listed') throw new Error(got.kind);
    const want = got.names.filter((n) => ASCII_SAFE.test(n) && isCertFileName(n));
    expect([...got.picked].sort()).toEqual(want.sort());
    expect(got.picked.filter(isKeyFileName)).toEqual([]);
  });
});

describe('parseReadCertDir on bad output', () => {
  const d = makeDir('small', ['ca.pem', 'kubelet.pem', 'kubelet-key.pem']);
  const out = run(SHELLS[0]!, d);

  it('never throws on any truncation: garbled, or per-file errors', () => {
    for (let cut = 0; cut < out.length; cut += 7) {
      const got = parseReadCertDir(out.subarray(0, cut), NONCE);
      expect(['garbled', 'listed']).toContain(got.kind);
      if (got.kind === 'listed')
        for (const f of got.batch.files) if (f.ok) expect(f.content).toMatch(/^-----BEGIN/);
    }
  });

  it('garbage, or another call’s output (other nonce): garbled', () => {
    expect(parseReadCertDir(Buffer.from('random\0bytes\n'), NONCE).kind).toBe('garbled');
    expect(parseReadCertDir(run(SHELLS[0]!, d, 'OTHERnonce'), NONCE).kind).toBe('garbled');
  });

  it('refuses an unsafe directory before building anything', () => {
    expect(() => readCertDirScript('relative/pki', NONCE)).toThrow(UnsafeValueError);
    expect(() => readCertDirScript('/etc/../etc/shadow', NONCE)).toThrow(UnsafeValueError);
    expect(() => readCertDirScript('/etc/kubernetes/pki', 'bad nonce')).toThrow(UnsafeValueError);
  });
});
