/**
 * Writing pins (and bumped versions and URLs) back into the addon manifest, keeping the
 * file's formatting: only the values change (jsonc-parser edits), every other byte stays.
 * The write is atomic (temporary file in the same directory, same mode, fsync, rename)
 * and refused when the file changed since it was read.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { applyEdits, type Edit, findNodeAtLocation, modify, parseTree } from 'jsonc-parser';

export interface PinUpdate {
  name: string;
  sha256: string;
  version?: string;
  url?: string;
}

/** `text` with each update applied (pure). Throws when an addon is not declared. */
export function applyPinUpdates(text: string, updates: readonly PinUpdate[]): string {
  let out = text;
  for (const u of updates) {
    const tree = parseTree(out);
    const list = tree && findNodeAtLocation(tree, ['addons']);
    const idx =
      list?.children?.findIndex((n) => findNodeAtLocation(n, ['name'])?.value === u.name) ?? -1;
    if (idx < 0) throw new Error(`addon "${u.name}" is not declared in the manifest`);
    const set = (key: string, value: string): void => {
      const edits: Edit[] = modify(out, ['addons', idx, key], value, {
        formattingOptions: { insertSpaces: true, tabSize: 2 },
      });
      out = applyEdits(out, edits);
    };
    if (u.version !== undefined) set('version', u.version);
    if (u.url !== undefined) set('url', u.url);
    set('sha256', u.sha256);
  }
  return out;
}

/** A unified-style diff of the lines that differ (the manifest's edits are line-local). */
export function lineDiff(before: string, after: string, file = 'addons.json'): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const out = [`--- ${file}`, `+++ ${file}`];
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    out.push(`@@ line ${i + 1} @@`);
    if (a[i] !== undefined) out.push(`-${a[i]}`);
    if (b[i] !== undefined) out.push(`+${b[i]}`);
  }
  return out.length === 2 ? '' : `${out.join('\n')}\n`;
}

/**
 * Replace `path` by `text` atomically, only if it still holds `expected` (what the caller
 * read and edited). The new file keeps the old one's mode.
 */
export async function writeManifestAtomically(
  path: string,
  expected: string,
  text: string,
): Promise<void> {
  const now = await readFile(path, 'utf8');
  if (now !== expected)
    throw new Error(`${path} changed while the addons were synced; nothing written (run it again)`);
  const { mode } = await stat(path);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode & 0o777);
  try {
    await fh.writeFile(text);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}
