/**
 * Saving the rotation settings into the inventory file (src/config/save.ts), on the real
 * file system: the new text replaces the file by rename with its mode and owner, a symlink
 * stays a symlink, no temporary file is left behind whatever happens; refused when the
 * file changed since it was loaded (or between the confirmation and the rename), is not a
 * regular file, is not UTF-8, and — run as an unprivileged user (a child process that
 * drops to nobody) — when the file or its directory is not writable or belongs to someone
 * else.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryDigest, loadInventory } from '../../../src/config/load.js';
import { prepareRotationSave, writeRotationSave } from '../../../src/config/save.js';
import { ensureBuilt, ROOT } from '../../helpers/build.js';

const H = 3_600_000;
const TEXT = `# the lab (hand-written; keep this comment)
cluster: lab
nodes:
  - name: cp-1      # first
    roles: [control-plane, etcd]
rotation:
  spread: 24h   # node i of N: i × spread / N
  cpGap: 30m
`;
const isRoot = process.getuid?.() === 0;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'k8ops-save-'));
  chmodSync(dir, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A fresh directory with k8ops.yaml in it, and the digest of it as loaded. */
async function inventory(text = TEXT, mode = 0o640) {
  const d = join(dir, `case-${n++}`);
  mkdirSync(d, { mode: 0o755 });
  const file = join(d, 'k8ops.yaml');
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
  const loaded = await loadInventory(file);
  if (!loaded.ok) throw new Error(loaded.errors[0]!.message);
  return { d, file, digest: loaded.inventory.sourceDigest };
}
const leftovers = (d: string) => readdirSync(d).filter((f) => f.endsWith('.tmp'));

describe('save: the file is replaced, atomically, with its mode and owner', () => {
  it('the loader records the digest of the bytes it read', async () => {
    const { file, digest } = await inventory();
    expect(digest).toBe(inventoryDigest(readFileSync(file)));
  });

  it('only the value changes; mode, owner and the rest of the bytes stay; no temporary file', async () => {
    const { d, file, digest } = await inventory(TEXT, 0o640);
    if (isRoot) chownSync(file, 1234, 4321);
    const p = await prepareRotationSave(file, digest, { spreadMs: 26 * H });
    if (!p.ok) throw new Error(p.message);
    // Nothing is written by prepare.
    expect(readFileSync(file, 'utf8')).toBe(TEXT);
    const w = await writeRotationSave(p.plan);
    expect(w).toEqual({ ok: true, digest: inventoryDigest(Buffer.from(p.plan.text)) });
    expect(readFileSync(file, 'utf8')).toBe(TEXT.replace('spread: 24h', 'spread: 26h'));
    const st = statSync(file);
    expect(st.mode & 0o7777).toBe(0o640);
    if (isRoot) expect([st.uid, st.gid]).toEqual([1234, 4321]);
    expect(leftovers(d)).toEqual([]);
    // It loads with the new value.
    const back = await loadInventory(file);
    expect(back.ok && back.inventory.rotation.spreadMs).toBe(26 * H);
  });

  it('a symlink stays a link; the file it points at is rewritten', async () => {
    const { d, file, digest } = await inventory();
    const link = join(d, 'link.yaml');
    symlinkSync('k8ops.yaml', link);
    const p = await prepareRotationSave(link, digest, { renewBeforeMs: 4 * 24 * H });
    if (!p.ok) throw new Error(p.message);
    expect(p.plan.target).toBe(file);
    expect((await writeRotationSave(p.plan)).ok).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('k8ops.yaml');
    expect(readFileSync(file, 'utf8')).toContain('  cpGap: 30m\n  renewBefore: 4d\n');
  });
});

describe('save: refused, the file untouched', () => {
  it('the file changed on disk since it was loaded', async () => {
    const { file, digest } = await inventory();
    writeFileSync(file, TEXT.replace('cpGap: 30m', 'cpGap: 40m'));
    const p = await prepareRotationSave(file, digest, { spreadMs: 2 * H });
    expect(p).toMatchObject({ ok: false });
    if (!p.ok) expect(p.message).toMatch(/changed on disk since k8ops loaded it.*not saved$/);
    expect(readFileSync(file, 'utf8')).toContain('cpGap: 40m');
  });

  it('another writer between the confirmation and the rename: refused, its bytes kept', async () => {
    const { d, file, digest } = await inventory();
    const p = await prepareRotationSave(file, digest, { spreadMs: 2 * H });
    if (!p.ok) throw new Error(p.message);
    const theirs = `${TEXT}# edited by someone else\n`;
    const w = await writeRotationSave(p.plan, {
      beforeRename: async () => writeFileSync(file, theirs),
    });
    expect(w).toMatchObject({ ok: false });
    if (!w.ok) expect(w.message).toMatch(/changed on disk while k8ops was writing/);
    expect(readFileSync(file, 'utf8')).toBe(theirs);
    expect(leftovers(d)).toEqual([]);
    // And after the confirmation but before the write started.
    writeFileSync(file, TEXT);
    const p2 = await prepareRotationSave(file, digest, { spreadMs: 2 * H });
    if (!p2.ok) throw new Error(p2.message);
    writeFileSync(file, theirs);
    const w2 = await writeRotationSave(p2.plan);
    if (!w2.ok) expect(w2.message).toMatch(/changed on disk since the confirmation/);
    expect(w2.ok).toBe(false);
  });

  it('not loaded from a file (a pipe), a FIFO, not UTF-8, missing', async () => {
    const { d, file } = await inventory();
    const a = await prepareRotationSave(file, undefined, { spreadMs: 2 * H });
    expect(!a.ok && a.message).toMatch(/not read from a file k8ops can write/);
    const fifo = join(d, 'fifo.yaml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const b = await prepareRotationSave(fifo, 'x', { spreadMs: 2 * H });
    expect(!b.ok && b.message).toMatch(/not a regular file/);
    const latin1 = Buffer.concat([Buffer.from(TEXT), Buffer.from('# caf\xe9\n', 'latin1')]);
    writeFileSync(file, latin1);
    const c = await prepareRotationSave(file, inventoryDigest(latin1), { spreadMs: 2 * H });
    expect(!c.ok && c.message).toMatch(/not valid UTF-8/);
    const e = await prepareRotationSave(join(d, 'gone.yaml'), 'x', { spreadMs: 2 * H });
    expect(!e.ok && e.message).toMatch(/cannot open it: no such file/);
    expect(readFileSync(file)).toEqual(latin1);
  });

  it('an edit that cannot be made safely, and one with nothing to do', async () => {
    const { file, digest } = await inventory(
      `${TEXT}  minRemaining: 48h\n`
        .replace('spread: 24h', 'spread: &s 24h')
        .replace('minRemaining: 48h', 'minRemaining: *s'),
    );
    const p = await prepareRotationSave(file, digest, { spreadMs: 2 * H });
    expect(!p.ok && p.message).toMatch(/change other values.*not saved$/);
    const q = await inventory();
    const r = await prepareRotationSave(q.file, q.digest, { spreadMs: 24 * H });
    expect(r).toMatchObject({ ok: false, nothingToDo: true });
  });
});

describe('save as an unprivileged user (a child process dropped to nobody)', () => {
  const NOBODY = 65534;
  /** Run prepareRotationSave (and, if it is ready, the write) as nobody; its result. */
  function asNobody(file: string, digest: string | undefined): { ok: boolean; message?: string } {
    const url = pathToFileURL(join(ROOT, 'dist', 'src', 'config', 'save.js')).href;
    const script = `
      const m = await import(${JSON.stringify(url)});
      process.setgroups([]); process.setgid(${NOBODY}); process.setuid(${NOBODY});
      const p = await m.prepareRotationSave(${JSON.stringify(file)}, ${JSON.stringify(digest)}, { spreadMs: 7200000 });
      const r = p.ok ? await m.writeRotationSave(p.plan) : p;
      process.stdout.write(JSON.stringify(r));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  }

  it.runIf(isRoot || process.env.CI === 'true')(
    'read-only file, unwritable directory, someone else’s file: refused with the reason',
    async () => {
      if (!isRoot) throw new Error('needs root to drop to nobody (CI=true: must not skip)');
      ensureBuilt();
      // Their own file, mode 0444.
      const ro = await inventory(TEXT, 0o444);
      chownSync(ro.file, NOBODY, NOBODY);
      chownSync(ro.d, NOBODY, NOBODY);
      expect(asNobody(ro.file, ro.digest).message).toMatch(/not writable \(mode 0444\); not saved/);
      // Their own file in a directory they cannot write.
      const rd = await inventory(TEXT, 0o644);
      chownSync(rd.file, NOBODY, NOBODY);
      expect(asNobody(rd.file, rd.digest).message).toMatch(/directory .* is not writable/);
      // A file writable by everyone but owned by root, in their directory.
      const other = await inventory(TEXT, 0o666);
      chmodSync(other.file, 0o666);
      chownSync(other.d, NOBODY, NOBODY);
      expect(asNobody(other.file, other.digest).message).toMatch(
        /belongs to uid 0: replacing it by rename would make it yours \(uid 65534\)/,
      );
      for (const c of [ro, rd, other]) {
        expect(readFileSync(c.file, 'utf8')).toBe(TEXT);
        expect(leftovers(c.d)).toEqual([]);
      }
      // Their own file in their directory: saved, still theirs.
      const mine = await inventory(TEXT, 0o600);
      chownSync(mine.file, NOBODY, NOBODY);
      chownSync(mine.d, NOBODY, NOBODY);
      expect(asNobody(mine.file, mine.digest)).toMatchObject({ ok: true });
      expect(readFileSync(mine.file, 'utf8')).toBe(TEXT.replace('24h', '2h'));
      const st = statSync(mine.file);
      expect([st.uid, st.mode & 0o777]).toEqual([NOBODY, 0o600]);
    },
    60_000,
  );
});
