/**
 * A bounded walk of a local PKI directory and its subdirectories (kubeadm keeps `etcd/`
 * under `pki/`), for `k8ops certs --path`: what the file-system agent reads
 * (src/nodes/fs-agent.ts) and what its status scan (src/pki/status.ts) describes.
 *
 * - Depth is bounded (`maxDepth` levels below the top directory).
 * - Symbolic links to directories are not followed (no loop can be entered); a symbolic
 *   link to a file is taken as that file. Hidden entries (a Kubernetes secret volume's
 *   `..data` and `..2026_…` directories, editors' files) are not entered or read.
 * - Nothing is opened here: kinds come from the directory entry, or `stat` for a link, so a
 *   FIFO or a device is reported as `other` and a reader never opens it.
 * - At most `maxEntries` files are returned; the rest is counted as skipped.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';

export interface WalkEntry {
  /** Path relative to the top directory (`/`-separated), e.g. `etcd/ca.crt`. */
  rel: string;
  /** `file`: a regular file (or a link to one); `other`: anything else that is not a directory. */
  kind: 'file' | 'other';
}

export interface WalkSkip {
  /** Relative path of the directory (or link) not searched. */
  rel: string;
  why: string;
}

export interface WalkResult {
  /** Files and other non-directories, in walk order (names sorted within a directory). */
  entries: WalkEntry[];
  /** Directories listed, the top one included. */
  dirs: number;
  /** Subdirectories not searched: unreadable, too deep, or links not followed. */
  skipped: WalkSkip[];
  /** Files beyond `maxEntries`, not returned. */
  truncated: number;
}

export interface WalkOptions {
  /** Levels of subdirectories entered below the top directory (0: the top one only). */
  maxDepth: number;
  maxEntries?: number;
  signal?: AbortSignal;
}

/** Levels below `--path` that are searched: kubeadm needs one (`pki/etcd/`). */
export const PATH_SCAN_DEPTH = 4;
const MAX_ENTRIES = 100_000;

const byName = (a: Dirent, b: Dirent): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Walk `hostDir`. Throws only when the top directory cannot be listed (errno kept on the
 * error), as `readdir` would; an unreadable subdirectory is a `skipped` entry.
 */
export async function walkDir(hostDir: string, opts: WalkOptions): Promise<WalkResult> {
  const maxEntries = opts.maxEntries ?? MAX_ENTRIES;
  const out: WalkResult = { entries: [], dirs: 0, skipped: [], truncated: 0 };
  const visit = async (rel: string, depth: number): Promise<void> => {
    opts.signal?.throwIfAborted();
    let list: Dirent[];
    try {
      list = await readdir(rel === '' ? hostDir : join(hostDir, rel), { withFileTypes: true });
    } catch (e) {
      if (rel === '') throw e;
      out.skipped.push({ rel, why: `cannot list: ${(e as NodeJS.ErrnoException).code ?? e}` });
      return;
    }
    out.dirs++;
    const subdirs: string[] = [];
    for (const d of list.sort(byName)) {
      if (d.name.startsWith('.')) continue;
      const r = rel === '' ? d.name : posix.join(rel, d.name);
      let kind: 'file' | 'dir' | 'other' = d.isFile() ? 'file' : d.isDirectory() ? 'dir' : 'other';
      if (d.isSymbolicLink()) {
        try {
          const st = await stat(join(hostDir, r));
          if (st.isDirectory()) {
            out.skipped.push({ rel: r, why: 'a symbolic link to a directory: not followed' });
            continue;
          }
          kind = st.isFile() ? 'file' : 'other';
        } catch {
          kind = 'file'; // a dangling link: the reader reports it missing
        }
      }
      if (kind === 'dir') {
        if (depth < opts.maxDepth) subdirs.push(r);
        else out.skipped.push({ rel: r, why: `deeper than ${opts.maxDepth} levels: not searched` });
        continue;
      }
      if (out.entries.length >= maxEntries) out.truncated++;
      else out.entries.push({ rel: r, kind });
    }
    for (const s of subdirs) await visit(s, depth + 1);
  };
  await visit('', 0);
  return out;
}
