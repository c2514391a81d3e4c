/**
 * Saving the rotation settings into the inventory file the console was started with:
 * check that the file is still what was loaded (its SHA-256), edit it in place
 * (src/config/edit.ts: only the changed scalars, validated by the loader), and replace it
 * atomically — a temporary file beside it with the same mode and owner, fsync, a last
 * check that nobody wrote the file meanwhile, rename, fsync of the directory. A symlink is
 * followed (the link stays a link). A file that is not a regular file (a pipe such as
 * `--inventory <(sops -d …)`), not valid UTF-8, read-only, or in a directory k8ops cannot
 * write to is refused with the reason; nothing is left behind on failure.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chown, lstat, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { editRotation, type RotationChange, type RotationEdit } from './edit.js';
import { type InventoryIssue, inventoryDigest, type LoadOptions, readBounded } from './load.js';
import type { RotationSettings } from './types.js';

export interface RotationSavePlan {
  /** The inventory as named (inventory.source). */
  path: string;
  /** The file written (symlinks followed). */
  target: string;
  /** SHA-256 of the file as it is now (= as loaded). */
  digest: string;
  /** The new text and what it changes. */
  text: string;
  changes: RotationChange[];
  rotation: RotationSettings;
  warnings: InventoryIssue[];
  mode: number;
  uid: number;
  gid: number;
}

export type SavePrepare =
  | { ok: true; plan: RotationSavePlan }
  | { ok: false; message: string; nothingToDo?: boolean };

export type SaveResult = { ok: true; digest: string } | { ok: false; message: string };

const errText = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file';
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  if (err?.code === 'EROFS') return 'read-only file system';
  if (err?.code === 'ENOSPC') return 'no space left on the device';
  return err instanceof Error ? err.message : String(e);
};

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;

/** The reason the loaded file is not the one on disk now (or undefined: it is). */
function changedSince(loaded: string | undefined, now: string): string | undefined {
  if (loaded === undefined)
    return 'it was not read from a file k8ops can write (a pipe, or no file at all)';
  if (loaded !== now)
    return 'it changed on disk since k8ops loaded it; restart k8ops to load it, then save again';
  return undefined;
}

/**
 * Check the file and build the edit (writes nothing). `loadedDigest` is
 * inventory.sourceDigest: the file must still be exactly what was loaded.
 */
export async function prepareRotationSave(
  path: string,
  loadedDigest: string | undefined,
  edit: RotationEdit,
  options: LoadOptions = {},
): Promise<SavePrepare> {
  const no = (why: string): SavePrepare => ({ ok: false, message: `${path}: ${why}; not saved` });
  let target: string;
  try {
    target = await realpath(path);
  } catch (e) {
    return no(`cannot open it: ${errText(e)}`);
  }
  const st = await stat(target).catch((e: unknown) => e as Error);
  if (st instanceof Error) return no(`cannot open it: ${errText(st)}`);
  if (!st.isFile()) return no('it is not a regular file (a pipe or a device cannot be rewritten)');
  let bytes: Buffer;
  try {
    bytes = await readBounded(target);
  } catch (e) {
    return no(`cannot read it: ${errText(e)}`);
  }
  const digest = inventoryDigest(bytes);
  const why = changedSince(loadedDigest, digest);
  if (why) return no(why);
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) return no('it is not valid UTF-8');
  try {
    await access(target, constants.W_OK);
  } catch {
    return no(`it is not writable (mode ${octal(st.mode)})`);
  }
  try {
    await access(dirname(target), constants.W_OK | constants.X_OK);
  } catch {
    return no(
      `its directory ${dirname(target)} is not writable (k8ops writes a temporary file beside it and renames it over the file)`,
    );
  }
  const uid = process.getuid?.() ?? st.uid;
  if (uid !== 0 && uid !== st.uid)
    return no(
      `it belongs to uid ${st.uid}: replacing it by rename would make it yours (uid ${uid})`,
    );
  const r = editRotation(text, path, edit, options);
  if (!r.ok)
    return r.nothingToDo ? { ok: false, nothingToDo: true, message: r.message } : no(r.message);
  return {
    ok: true,
    plan: {
      path,
      target,
      digest,
      text: r.text,
      changes: r.changes,
      rotation: r.inventory.rotation,
      warnings: r.warnings,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
    },
  };
}

/** Write a prepared save atomically; refused if the file changed since `prepare`. */
export async function writeRotationSave(
  plan: RotationSavePlan,
  hooks: { beforeRename?: () => Promise<void> } = {},
): Promise<SaveResult> {
  const no = (why: string): SaveResult => ({
    ok: false,
    message: `${plan.path}: ${why}; not saved`,
  });
  const current = async (): Promise<string | undefined> => {
    try {
      const l = await lstat(plan.target);
      if (!l.isFile()) return undefined;
      return inventoryDigest(await readBounded(plan.target));
    } catch {
      return undefined;
    }
  };
  if ((await current()) !== plan.digest)
    return no('it changed on disk since the confirmation; look at it and save again');
  const tmp = join(
    dirname(plan.target),
    `.${basename(plan.target)}.k8ops-${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
  const bytes = Buffer.from(plan.text, 'utf8');
  let created = false;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    created = true;
    try {
      await fh.writeFile(bytes);
      await fh.chmod(plan.mode);
      if ((process.getuid?.() ?? plan.uid) === 0) await chown(tmp, plan.uid, plan.gid);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await hooks.beforeRename?.();
    // The last moment to notice a writer that came in between.
    if ((await current()) !== plan.digest)
      throw Object.assign(new Error('changed'), { code: 'K8OPS_CHANGED' });
    await rename(tmp, plan.target);
    created = false;
  } catch (e) {
    if (created) await unlink(tmp).catch(() => {});
    if ((e as NodeJS.ErrnoException).code === 'K8OPS_CHANGED')
      return no('it changed on disk while k8ops was writing; look at it and save again');
    return no(`cannot write it: ${errText(e)}`);
  }
  // The rename is durable once the directory is.
  try {
    const dir = await open(dirname(plan.target), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename itself has happened.
  }
  const written = await current();
  const digest = inventoryDigest(bytes);
  if (written !== digest)
    return { ok: false, message: `${plan.path}: written, but reads back different; check it` };
  return { ok: true, digest };
}
