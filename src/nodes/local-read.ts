/**
 * Reading small files on this machine for the local and demo agents: synchronously, one
 * file at a time. A PKI directory is a few dozen files of a few kB; `readFileSync` reads
 * one in ~10 µs, where `fs/promises.readFile` makes four thread-pool round trips (open,
 * fstat, read, close) that queue behind the signature checks running in the same pool.
 *
 * Only regular files are read, and only up to `maxBytes`: the file is opened non-blocking
 * (a FIFO put in its place cannot hang the console) and checked with fstat on the open
 * descriptor (no race between the check and the read).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { FileRead } from './agent.js';

/** The largest file read, locally and on nodes (SshNodeAgent checks the size on the node). */
export const MAX_LOCAL_READ = 1 << 20;

/** The error of a file over `maxBytes` (`larger than 1 MiB`): the same text for every agent. */
export function tooLargeError(maxBytes: number = MAX_LOCAL_READ): string {
  const limit = maxBytes >= 1 << 20 ? `${maxBytes / (1 << 20)} MiB` : `${maxBytes} bytes`;
  return `larger than ${limit}`;
}

/** Read one file as UTF-8; `nodePath` is what the result and its errors are named by. */
export function readLocalFile(
  hostPath: string,
  nodePath: string,
  maxBytes: number = MAX_LOCAL_READ,
): FileRead {
  let fd: number | undefined;
  try {
    fd = openSync(hostPath, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const st = fstatSync(fd);
    if (st.isDirectory())
      return { path: nodePath, ok: false, error: `${nodePath}: Is a directory`, missing: false };
    if (!st.isFile())
      return {
        path: nodePath,
        ok: false,
        error: `${nodePath}: not a regular file`,
        missing: false,
      };
    if (st.size > maxBytes)
      return { path: nodePath, ok: false, error: tooLargeError(maxBytes), missing: false };
    // The size from fstat, plus one byte to notice a file that grew since.
    const buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) {
        return {
          path: nodePath,
          ok: false,
          error: `${nodePath}: changed while read`,
          missing: false,
        };
      }
    }
    return { path: nodePath, ok: true, content: buf.toString('utf8', 0, n) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT')
      return {
        path: nodePath,
        ok: false,
        error: `${nodePath}: No such file or directory`,
        missing: true,
      };
    if (err.code === 'EISDIR')
      return { path: nodePath, ok: false, error: `${nodePath}: Is a directory`, missing: false };
    return { path: nodePath, ok: false, error: `${nodePath}: ${err.message}`, missing: false };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
