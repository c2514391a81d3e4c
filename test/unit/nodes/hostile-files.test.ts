/**
 * Hostile entries in a node's PKI directory (issue 11, items 2 and 3), through the real
 * shells a node may have (dash; bash, NixOS's sh): a FIFO or a device by a certificate name
 * is reported `not a regular file` and never opened (a writer blocked on the FIFO is never
 * let through, /dev/zero is never read); a file over MAX_LOCAL_READ is reported
 * `larger than 1 MiB` from its size, without being read, and every other file is still
 * read; files past the request's read budget are reported, not sent.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_LOCAL_READ } from '../../../src/nodes/local-read.js';
import {
  parseReadCertDir,
  parseReadFiles,
  parseReadFilesBatch,
  READ_BUDGET_BYTES,
  readCertDirScript,
  readFilesBatchScript,
  readFilesScript,
} from '../../../src/nodes/remote-scripts.js';

const root = mkdtempSync(join(tmpdir(), 'k8ops-hostile-'));
const writers: ChildProcess[] = [];
afterAll(() => {
  for (const w of writers) w.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const SHELLS = ['/bin/dash', '/bin/bash'].filter(
  (s) => spawnSync(s, ['-c', 'exit 0']).status === 0,
);
const NONCE = 'HOSTILEnonce';
const PEM = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;
const NOT_REGULAR = 'not a regular file';
const TOO_LARGE = 'larger than 1 MiB';

/**
 * Run a node script. One that opened the FIFO or /dev/zero would hang: after 20 s GNU
 * `timeout` kills its whole process group (a `wc` stuck under the shell included).
 */
function run(shell: string, text: string): { out: Buffer; ms: number } {
  const t0 = performance.now();
  const r = spawnSync('timeout', ['-s', 'KILL', '20', shell, '-c', text], {
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${shell} exited ${r.status ?? r.signal}`);
  return { out: r.stdout, ms: performance.now() - t0 };
}

/**
 * A PKI directory with good certificates, a FIFO (a writer waits on it: it would be let
 * through by anything that opens the FIFO for reading), /dev/zero by a certificate name,
 * a sparse 200 MB certificate, one exactly at the cap, one a byte over it, and a key file.
 */
function hostileDir(label: string) {
  const d = join(root, label);
  mkdirSync(d);
  writeFileSync(join(d, 'ca.pem'), PEM('ca'));
  writeFileSync(join(d, 'kubelet.pem'), PEM('kubelet'));
  writeFileSync(join(d, 'kubelet-key.pem'), 'PRIVATE KEY\n', { mode: 0o600 });
  execFileSync('mkfifo', [join(d, 'stuck.pem')]);
  symlinkSync('/dev/zero', join(d, 'zero.pem'));
  writeFileSync(join(d, 'big.pem'), '');
  truncateSync(join(d, 'big.pem'), 200 * 1024 * 1024);
  writeFileSync(join(d, 'edge.pem'), 'e'.repeat(MAX_LOCAL_READ));
  writeFileSync(join(d, 'over.pem'), 'o'.repeat(MAX_LOCAL_READ + 1));
  // `exec 3>fifo` blocks until someone opens the FIFO for reading, then prints.
  const writer = spawn('sh', ['-c', 'exec 3>"$1"; echo opened', 'sh', join(d, 'stuck.pem')]);
  let opened = '';
  writer.stdout.on('data', (b: Buffer) => {
    opened += b.toString();
  });
  writers.push(writer);
  return { d, opened: () => opened };
}

const expectedErrors: Record<string, string> = {
  'stuck.pem': NOT_REGULAR,
  'zero.pem': NOT_REGULAR,
  'big.pem': TOO_LARGE,
  'over.pem': TOO_LARGE,
};

describe.each(SHELLS)('hostile certificate files under %s', (shell) => {
  it('readCertDirScript: FIFO and device reported, never opened; oversized reported; the rest read', async () => {
    const { d, opened } = hostileDir(`certdir-${shell.replaceAll('/', '_')}`);
    const { out, ms } = run(shell, readCertDirScript(d, NONCE).text);
    expect(ms).toBeLessThan(10_000); // nothing blocked, /dev/zero not read, 200 MB not read
    const got = parseReadCertDir(out, NONCE);
    if (got.kind !== 'listed') throw new Error(got.kind);
    const byName = new Map(got.picked.map((n, i) => [n, got.batch.files[i]!]));
    expect([...byName.keys()].sort()).toEqual(
      ['big.pem', 'ca.pem', 'edge.pem', 'kubelet.pem', 'over.pem', 'stuck.pem', 'zero.pem'].sort(),
    );
    expect(got.batch.retry).toEqual([]);
    for (const [name, error] of Object.entries(expectedErrors)) {
      expect(byName.get(name), name).toMatchObject({ ok: false, missing: false, error });
    }
    expect(byName.get('ca.pem')).toMatchObject({ ok: true, content: PEM('ca') });
    expect(byName.get('kubelet.pem')).toMatchObject({ ok: true, content: PEM('kubelet') });
    expect(byName.get('edge.pem')).toMatchObject({ ok: true });
    const edge = byName.get('edge.pem');
    expect(edge?.ok && edge.content.length).toBe(MAX_LOCAL_READ);
    // The output holds the good files, not 200 MB (nor 1 MiB of the file over the cap).
    expect(out.length).toBeLessThan(MAX_LOCAL_READ + 64 * 1024);
    expect(out.toString('latin1')).not.toContain('PRIVATE KEY');
    await new Promise((r) => setTimeout(r, 100));
    expect(opened()).toBe(''); // the FIFO was never opened
  });

  it('readFiles (batch and per file): the same per-path answers, nothing opened that is not a regular file', async () => {
    const { d, opened } = hostileDir(`files-${shell.replaceAll('/', '_')}`);
    const names = ['ca.pem', 'stuck.pem', 'zero.pem', 'big.pem', 'over.pem', 'edge.pem'];
    const paths = [...names.map((n) => join(d, n)), join(d, 'missing.pem'), d];
    const batch = run(shell, readFilesBatchScript(paths, NONCE).text);
    const perFile = run(shell, readFilesScript(paths, NONCE).text);
    expect(batch.ms).toBeLessThan(10_000);
    expect(perFile.ms).toBeLessThan(10_000);
    const b = parseReadFilesBatch(batch.out, NONCE, paths);
    expect(b.retry).toEqual([]);
    const p = parseReadFiles(perFile.out.toString('utf8'), NONCE, paths);
    expect(p).toEqual(b.files);
    names.forEach((n, i) => {
      const want = expectedErrors[n];
      if (want)
        expect(b.files[i], n).toEqual({ path: paths[i], ok: false, missing: false, error: want });
      else expect(b.files[i], n).toMatchObject({ path: paths[i], ok: true });
    });
    expect(b.files[6]).toEqual({ path: paths[6], ok: false, missing: true, error: 'no such file' });
    expect(b.files[7]).toMatchObject({ ok: false, error: 'is a directory' });
    await new Promise((r) => setTimeout(r, 100));
    expect(opened()).toBe('');
  });
});

describe('the read budget of one request', () => {
  it('files past READ_BUDGET_BYTES are reported, not sent; the output stays under the transport cap', () => {
    const d = join(root, 'budget');
    mkdirSync(d);
    const count = READ_BUDGET_BYTES / MAX_LOCAL_READ + 3;
    const names = Array.from({ length: count }, (_, i) => `c${String(i).padStart(2, '0')}.pem`);
    for (const n of names) writeFileSync(join(d, n), 'x'.repeat(MAX_LOCAL_READ));
    const { out } = run(SHELLS[0]!, readCertDirScript(d, NONCE).text);
    expect(out.length).toBeLessThan(READ_BUDGET_BYTES + 64 * 1024);
    const got = parseReadCertDir(out, NONCE);
    if (got.kind !== 'listed') throw new Error(got.kind);
    const ok = got.batch.files.filter((f) => f.ok);
    const over = got.batch.files.filter((f) => !f.ok);
    expect(ok).toHaveLength(READ_BUDGET_BYTES / MAX_LOCAL_READ);
    expect(over).toHaveLength(3);
    for (const f of over)
      expect(f).toMatchObject({ error: expect.stringMatching(/^not read: over the 8 MiB/) });
  });
});

describe('the parsers refuse content over the cap whatever the node sent', () => {
  const M = `K8OPS-${NONCE}`;
  it('a batch frame announcing a file over MAX_LOCAL_READ', () => {
    const n = MAX_LOCAL_READ + 1;
    const out = Buffer.concat([
      Buffer.from(`${M} sizes 0\n${n} /x\n${M} data\n`),
      Buffer.alloc(n, 0x61),
      Buffer.from(`\n${M} end 0\n${M} done\n`),
    ]);
    expect(parseReadFilesBatch(out, NONCE, ['/x']).files[0]).toEqual({
      path: '/x',
      ok: false,
      missing: false,
      error: TOO_LARGE,
    });
  });
  it('a per-file frame whose content is over MAX_LOCAL_READ (a file that grew after its size was checked)', () => {
    const body = Buffer.alloc(MAX_LOCAL_READ + 1, 0x61).toString('base64');
    const out = `${M} 0 data\n${body}\n${M} 0 end\n${M} done\n`;
    expect(parseReadFiles(out, NONCE, ['/x'])[0]).toMatchObject({ ok: false, error: TOO_LARGE });
    const batch = Buffer.from(out);
    expect(parseReadFilesBatch(batch, NONCE, ['/x']).files[0]).toMatchObject({
      ok: false,
      error: TOO_LARGE,
    });
  });
  it('the new statuses parse in both formats', () => {
    const out = `${M} 0 notreg\n${M} 1 toobig\n${M} 2 budget\n${M} done\n`;
    const ps = ['/a', '/b', '/c'];
    const want = [NOT_REGULAR, TOO_LARGE, expect.stringMatching(/^not read/)];
    parseReadFiles(out, NONCE, ps).forEach((f, i) => {
      expect(f).toMatchObject({ ok: false, missing: false, error: want[i] });
    });
    parseReadFilesBatch(Buffer.from(out), NONCE, ps).files.forEach((f, i) => {
      expect(f).toMatchObject({ ok: false, missing: false, error: want[i] });
    });
  });
});
