/** readLocalFile: what the local and demo agents answer for every kind of path. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalFile } from '../../../src/nodes/local-read.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'k8ops-local-read-'));
  writeFileSync(
    join(dir, 'ca.pem'),
    '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  );
  writeFileSync(join(dir, 'big.pem'), Buffer.alloc(2048, 0x41));
  writeFileSync(join(dir, 'empty.pem'), '');
  mkdirSync(join(dir, 'sub.pem'));
  symlinkSync(join(dir, 'ca.pem'), join(dir, 'link.pem'));
  execFileSync('mkfifo', [join(dir, 'fifo.pem')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readLocalFile', () => {
  it('reads a file (and through a symlink) as UTF-8, named by the node path', () => {
    const r = readLocalFile(join(dir, 'ca.pem'), '/etc/kubernetes/pki/ca.pem');
    expect(r).toEqual({
      path: '/etc/kubernetes/pki/ca.pem',
      ok: true,
      content: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    });
    expect(readLocalFile(join(dir, 'link.pem'), '/x/link.pem')).toMatchObject({ ok: true });
    expect(readLocalFile(join(dir, 'empty.pem'), '/x/empty.pem')).toEqual({
      path: '/x/empty.pem',
      ok: true,
      content: '',
    });
  });

  it('reports a missing file as missing, a directory and a FIFO as errors (without hanging)', () => {
    expect(readLocalFile(join(dir, 'nope.pem'), '/x/nope.pem')).toEqual({
      path: '/x/nope.pem',
      ok: false,
      error: '/x/nope.pem: No such file or directory',
      missing: true,
    });
    expect(readLocalFile(join(dir, 'sub.pem'), '/x/sub.pem')).toMatchObject({
      ok: false,
      error: '/x/sub.pem: Is a directory',
      missing: false,
    });
    expect(readLocalFile(join(dir, 'fifo.pem'), '/x/fifo.pem')).toMatchObject({
      ok: false,
      error: '/x/fifo.pem: not a regular file',
      missing: false,
    });
  });

  it('refuses a file over the size limit without reading it', () => {
    expect(readLocalFile(join(dir, 'big.pem'), '/x/big.pem', 1024)).toMatchObject({
      ok: false,
      error: 'larger than 1024 bytes',
    });
    expect(readLocalFile(join(dir, 'big.pem'), '/x/big.pem', 4096)).toMatchObject({ ok: true });
  });
});
