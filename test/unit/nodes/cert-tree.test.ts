/**
 * `certs --path` searches subdirectories (src/pki/dir-walk.ts, FsNodeAgent with maxDepth,
 * scanPkiDir with maxDepth): kubeadm's `etcd/` is read, depth is bounded, a symbolic link
 * to a directory (a loop) is not followed, hidden directories (a secret volume's `..data`)
 * are not entered, and a FIFO by a certificate name is reported without being opened
 * (a writer blocked on it would be let through by any open for reading).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/config/types.js';
import { FsNodeAgent } from '../../../src/nodes/fs-agent.js';
import { walkDir } from '../../../src/pki/dir-walk.js';
import { scanPkiDir } from '../../../src/pki/status.js';

const PEM = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;
const node: NodeSpec = { name: 'local', index: 0, host: 'localhost', addresses: [], roles: [] };

let d: string;
let writer: ChildProcess;
let opened = '';

beforeAll(() => {
  d = mkdtempSync(join(tmpdir(), 'k8ops-cert-tree-'));
  writeFileSync(join(d, 'ca.crt'), PEM('top'));
  writeFileSync(join(d, 'ca.key'), 'PRIVATE KEY\n', { mode: 0o600 });
  mkdirSync(join(d, 'etcd'));
  writeFileSync(join(d, 'etcd', 'ca.crt'), PEM('etcd'));
  writeFileSync(join(d, 'etcd', 'server.crt'), PEM('server'));
  writeFileSync(join(d, 'etcd', 'server.key'), 'PRIVATE KEY\n', { mode: 0o600 });
  symlinkSync('..', join(d, 'etcd', 'loop')); // a loop, if it were followed
  symlinkSync(join(d, 'ca.crt'), join(d, 'etcd', 'linked.crt')); // a link to a file: read
  mkdirSync(join(d, 'a', 'b', 'c'), { recursive: true });
  writeFileSync(join(d, 'a', 'one.crt'), PEM('one'));
  writeFileSync(join(d, 'a', 'b', 'two.crt'), PEM('two'));
  writeFileSync(join(d, 'a', 'b', 'c', 'three.crt'), PEM('three'));
  mkdirSync(join(d, '..2026_12_06'));
  writeFileSync(join(d, '..2026_12_06', 'hidden.crt'), PEM('hidden'));
  execFileSync('mkfifo', [join(d, 'etcd', 'stuck.crt')]);
  writer = spawn('sh', ['-c', 'exec 3>"$1"; echo opened', 'sh', join(d, 'etcd', 'stuck.crt')]);
  writer.stdout?.on('data', (b: Buffer) => {
    opened += b.toString();
  });
});
afterAll(() => {
  writer.kill('SIGKILL');
  rmSync(d, { recursive: true, force: true });
});

describe('walkDir', () => {
  it('depth 0 is the directory alone; subdirectories are listed as not searched', async () => {
    const w = await walkDir(d, { maxDepth: 0 });
    expect(w.entries.map((e) => e.rel)).toEqual(['ca.crt', 'ca.key']);
    expect(w.dirs).toBe(1);
    expect(w.skipped.map((s) => s.rel).sort()).toEqual(['a', 'etcd']);
  });

  it('depth 2: etcd/ and a/b/ read, a/b/c/ not; the link loop and hidden directories skipped', async () => {
    const w = await walkDir(d, { maxDepth: 2 });
    expect(w.entries).toEqual([
      { rel: 'ca.crt', kind: 'file' },
      { rel: 'ca.key', kind: 'file' },
      { rel: 'a/one.crt', kind: 'file' },
      { rel: 'a/b/two.crt', kind: 'file' },
      { rel: 'etcd/ca.crt', kind: 'file' },
      { rel: 'etcd/linked.crt', kind: 'file' },
      { rel: 'etcd/server.crt', kind: 'file' },
      { rel: 'etcd/server.key', kind: 'file' },
      { rel: 'etcd/stuck.crt', kind: 'other' },
    ]);
    expect(w.dirs).toBe(4);
    expect(w.skipped).toEqual([
      { rel: 'a/b/c', why: 'deeper than 2 levels: not searched' },
      { rel: 'etcd/loop', why: 'a symbolic link to a directory: not followed' },
    ]);
    expect(w.truncated).toBe(0);
  });

  it('maxEntries bounds what is returned and counts the rest', async () => {
    const w = await walkDir(d, { maxDepth: 4, maxEntries: 3 });
    expect(w.entries).toHaveLength(3);
    expect(w.truncated).toBe(7);
  });

  it('a top directory that cannot be listed throws (the command makes it a usage error)', async () => {
    await expect(walkDir(join(d, 'nope'), { maxDepth: 4 })).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

describe('FsNodeAgent with maxDepth (certs --path)', () => {
  it('readCertFiles: certificate files of every level, keys never, the FIFO reported unopened', async () => {
    const agent = new FsNodeAgent(node, { maxDepth: 4 });
    const reads = await agent.readCertFiles(d);
    expect(reads.map((r) => r.path.slice(d.length + 1))).toEqual([
      'ca.crt',
      'a/one.crt',
      'a/b/two.crt',
      'a/b/c/three.crt',
      'etcd/ca.crt',
      'etcd/linked.crt',
      'etcd/server.crt',
      'etcd/stuck.crt',
    ]);
    expect(reads.find((r) => r.path.endsWith('etcd/ca.crt'))).toMatchObject({
      ok: true,
      content: PEM('etcd'),
    });
    expect(reads.find((r) => r.path.endsWith('linked.crt'))).toMatchObject({
      ok: true,
      content: PEM('top'),
    });
    expect(reads.find((r) => r.path.endsWith('stuck.crt'))).toEqual({
      path: join(d, 'etcd', 'stuck.crt'),
      ok: false,
      missing: false,
      error: `${join(d, 'etcd', 'stuck.crt')}: not a regular file`,
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(opened).toBe(''); // the FIFO was never opened
  });

  it('without maxDepth: the directory only, as on a node', async () => {
    const reads = await new FsNodeAgent(node).readCertFiles(d);
    expect(reads.map((r) => r.path.slice(d.length + 1))).toEqual(['ca.crt']);
  });

  it('pkiStatus describes the keys of subdirectories too (etcd/server.key)', async () => {
    const agent = new FsNodeAgent(node, {
      maxDepth: 4,
      owners: async () => () => ({ owner: 'root', group: 'root' }),
    });
    const st = await agent.pkiStatus(d);
    const paths = st.files.map((f) => f.path.slice(d.length + 1));
    expect(paths).toContain('etcd/server.key');
    expect(paths).toContain('a/b/c/three.crt');
    expect(paths).not.toContain('etcd/stuck.crt');
    expect(paths.some((p) => p.includes('..2026'))).toBe(false);
    const flat = await scanPkiDir({
      node: 'local',
      nodeDir: d,
      hostDir: d,
      ownerOf: () => ({ owner: 'root', group: 'root' }),
    });
    expect(flat.files.map((f) => f.path.slice(d.length + 1))).toEqual(['ca.crt', 'ca.key']);
    expect(opened).toBe('');
  });
});
