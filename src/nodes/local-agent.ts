/**
 * NodeAgent over this machine's file system (`k8ops certs --path DIR`: on a node itself, or
 * a PKI built by gen-lab). Node paths are local absolute paths; owners come from uid/gid
 * via /etc/passwd and /etc/group; the PKI status is computed locally (scanPkiDir), exactly
 * what nix/pki/status reports on a node.
 */
import { lstat, readdir } from 'node:fs/promises';
import type { NodeSpec } from '../config/types.js';
import { localOwnerResolver, scanPkiDir } from '../pki/status.js';
import type { PkiStatus } from '../pki/types.js';
import type {
  CallOptions,
  FileRead,
  FileStat,
  NodeAgent,
  ProbeResult,
  UnitState,
} from './agent.js';
import { readCertFilesByListing } from './cert-files.js';
import { refuseNodePath } from './demo-agent.js';
import { readLocalFile } from './local-read.js';

/** Rejection of a local agent call; `kind` as the store's SourceError kinds. */
export class LocalAgentError extends Error {
  override readonly name = 'LocalAgentError';
  constructor(
    readonly kind: 'refused' | 'missing' | 'io',
    message: string,
  ) {
    super(message);
  }
}

export class LocalNodeAgent implements NodeAgent {
  #owners: ReturnType<typeof localOwnerResolver> | undefined;

  constructor(readonly node: NodeSpec) {}

  private owners() {
    this.#owners ??= localOwnerResolver();
    return this.#owners;
  }

  async probe(): Promise<ProbeResult> {
    return { rttMs: 0, route: 'local', auth: 'local' };
  }

  async readFiles(paths: readonly string[], opts?: CallOptions): Promise<FileRead[]> {
    opts?.signal?.throwIfAborted();
    return paths.map((path): FileRead => {
      const why = refuseNodePath(path);
      if (why) return { path, ok: false, error: `refused: ${why}`, missing: false };
      return readLocalFile(path, path);
    });
  }

  async stat(paths: readonly string[]): Promise<FileStat[]> {
    const ownerOf = await this.owners();
    return Promise.all(
      paths.map(async (path): Promise<FileStat> => {
        try {
          const st = await lstat(path);
          const own = ownerOf(path, st.uid, st.gid);
          return {
            path,
            ok: true,
            mode: st.mode & 0o7777,
            owner: own.owner,
            group: own.group,
            size: st.size,
            kind: st.isFile()
              ? 'file'
              : st.isDirectory()
                ? 'dir'
                : st.isSymbolicLink()
                  ? 'link'
                  : 'other',
          };
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          return { path, ok: false, error: err.message, missing: err.code === 'ENOENT' };
        }
      }),
    );
  }

  readCertFiles(dir: string, opts?: CallOptions): Promise<FileRead[]> {
    return readCertFilesByListing(this, dir, opts);
  }

  async listDir(path: string, opts?: CallOptions): Promise<string[]> {
    const why = refuseNodePath(path);
    if (why) throw new LocalAgentError('refused', why);
    try {
      return (await readdir(path)).sort();
    } catch (e) {
      opts?.signal?.throwIfAborted();
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT')
        throw new LocalAgentError('missing', `${path}: No such file or directory`);
      throw new LocalAgentError('io', `${path}: ${err.message}`);
    }
  }

  async unitStates(units: readonly string[]): Promise<UnitState[]> {
    return units.map((unit) => ({ unit, state: 'unknown' }));
  }

  async pkiStatus(pkiDir: string, opts?: CallOptions): Promise<PkiStatus> {
    const why = refuseNodePath(pkiDir);
    if (why) throw new LocalAgentError('refused', why);
    const ownerOf = await this.owners();
    try {
      return await scanPkiDir({
        node: this.node.name,
        nodeDir: pkiDir,
        hostDir: pkiDir,
        ownerOf,
        ...(opts?.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      opts?.signal?.throwIfAborted();
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT')
        throw new LocalAgentError('missing', `${pkiDir}: No such file or directory`);
      throw new LocalAgentError('io', `${pkiDir}: ${err.message}`);
    }
  }

  async close(): Promise<void> {}
}
