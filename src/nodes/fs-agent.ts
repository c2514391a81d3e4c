/**
 * The one NodeAgent over a file system: this machine's (`k8ops certs --path DIR`: on a node
 * itself, or a PKI built by gen-lab) or a node's tree under a root directory (the demo lab:
 * `<lab>/nodes/<node>/`). Node paths are absolute (`/etc/kubernetes/pki/…`), mapped under
 * `root` when one is given; relative paths and `..` are refused. The PKI status is computed
 * here (scanPkiDir), exactly what nix/pki/status reports on a node.
 *
 * Faults (an unreachable node, a failed unit, latency) are not this agent's business: the
 * demo wraps it in FaultyNodeAgent.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { NodeSpec } from '../config/types.js';
import { walkDir } from '../pki/dir-walk.js';
import { isCertFileName } from '../pki/file-names.js';
import { localOwnerResolver, scanPkiDir } from '../pki/status.js';
import type { PkiStatus } from '../pki/types.js';
import { isSafeHost, isSafePort } from '../ssh/quote.js';
import type {
  CallOptions,
  FileRead,
  FileStat,
  LocalForward,
  NodeAgent,
  NodeExecOptions,
  NodeExecResult,
  ProbeResult,
  UnitActiveState,
  UnitState,
} from './agent.js';
import { readCertFilesByListing } from './cert-files.js';
import { readLocalFile } from './local-read.js';

export type FsAgentErrorKind = 'unreachable' | 'refused' | 'missing' | 'io' | 'closed';

/** Rejection of a file-system agent call; `kind` as the store's SourceError kinds. */
export class FsAgentError extends Error {
  override readonly name = 'FsAgentError';
  constructor(
    readonly kind: FsAgentErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** Owner and group of a node path (uid/gid from lstat). */
export type OwnerLookup = (
  nodePath: string,
  uid: number,
  gid: number,
) => { owner: string; group: string };

export interface FsNodeAgentOptions {
  /** Host directory that holds the node's `/`; this machine's own paths when absent. */
  root?: string;
  /** Owners of node paths; default: this machine's /etc/passwd and /etc/group. */
  owners?: () => Promise<OwnerLookup>;
  /** What probe answers; default: `local`, no latency. */
  probe?: ProbeResult;
  /**
   * Units that exist on the node (active). A unit not listed is inactive, as systemd reports
   * an unknown unit. Absent: every unit is `unknown` (this machine is not the node).
   */
  units?: readonly string[];
  /** How `exec` answers (the demo lab: src/demo/node-commands.ts); absent: refused. */
  exec?: (argv: readonly string[], opts?: NodeExecOptions) => Promise<NodeExecResult>;
  /** How `forwardSocket` answers (the demo lab: src/demo/node-sockets.ts); absent: refused. */
  forwardSocket?: (path: string, opts?: CallOptions) => Promise<LocalForward>;
  /** How `forwardTcp` answers (the demo lab: src/demo/node-sockets.ts); absent: refused. */
  forwardTcp?: (host: string, port: number, opts?: CallOptions) => Promise<LocalForward>;
  /**
   * Search subdirectories of a PKI directory, this many levels deep (readCertFiles and
   * pkiStatus; src/pki/dir-walk.ts): `k8ops certs --path`. Absent: the directory only, as
   * on a node.
   */
  maxDepth?: number;
}

/** Why a node path is refused, or undefined when it is acceptable. */
export function refuseNodePath(path: string): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'empty path';
  if (!path.startsWith('/')) return `not an absolute path: ${path}`;
  if (path.includes('\0')) return 'path contains a NUL byte';
  if (path.split('/').includes('..')) return `path contains '..': ${path}`;
  return undefined;
}

/** `unit` → `unit.service`; names with a suffix stay. */
export const unitName = (u: string): string => (u.includes('.') ? u : `${u}.service`);

/** `/etc//kubernetes/pki/` → `/etc/kubernetes/pki`. */
export function normaliseNodePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}

const kindOf = (st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }) =>
  st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other';

export class FsNodeAgent implements NodeAgent {
  readonly root: string | undefined;
  private closed = false;
  private readonly units: ReadonlySet<string> | undefined;
  private owners: Promise<OwnerLookup> | undefined;

  constructor(
    readonly node: NodeSpec,
    private readonly opts: FsNodeAgentOptions = {},
  ) {
    this.root = opts.root;
    this.units = opts.units ? new Set(opts.units.map(unitName)) : undefined;
  }

  /** Host path of a node path (after validation). */
  hostPath(nodePath: string): string {
    const why = refuseNodePath(nodePath);
    if (why) throw new FsAgentError('refused', why);
    return this.root === undefined ? nodePath : join(this.root, nodePath);
  }

  private enter(opts?: CallOptions): void {
    opts?.signal?.throwIfAborted();
    if (this.closed) throw new FsAgentError('closed', `agent for ${this.node.name} is closed`);
  }

  private ownerLookup(): Promise<OwnerLookup> {
    this.owners ??= (this.opts.owners ?? localOwnerResolver)();
    return this.owners;
  }

  async probe(opts?: CallOptions): Promise<ProbeResult> {
    this.enter(opts);
    return { ...(this.opts.probe ?? { rttMs: 0, route: 'local', auth: 'local' }) };
  }

  async readFiles(paths: readonly string[], opts?: CallOptions): Promise<FileRead[]> {
    this.enter(opts);
    const out = paths.map((path): FileRead => {
      const why = refuseNodePath(path);
      if (why) return { path, ok: false, error: `refused: ${why}`, missing: false };
      return readLocalFile(this.hostPath(path), path);
    });
    opts?.signal?.throwIfAborted();
    return out;
  }

  async stat(paths: readonly string[], opts?: CallOptions): Promise<FileStat[]> {
    this.enter(opts);
    const ownerOf = await this.ownerLookup();
    const out = await Promise.all(
      paths.map(async (path): Promise<FileStat> => {
        const why = refuseNodePath(path);
        if (why) return { path, ok: false, error: `refused: ${why}`, missing: false };
        try {
          const st = await lstat(this.hostPath(path));
          const own = ownerOf(normaliseNodePath(path), st.uid, st.gid);
          return {
            path,
            ok: true,
            mode: st.mode & 0o7777,
            owner: own.owner,
            group: own.group,
            size: st.size,
            kind: kindOf(st),
          };
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          const missing = err.code === 'ENOENT';
          return {
            path,
            ok: false,
            error: missing ? `${path}: No such file or directory` : err.message,
            missing,
          };
        }
      }),
    );
    opts?.signal?.throwIfAborted();
    return out;
  }

  readCertFiles(dir: string, opts?: CallOptions): Promise<FileRead[]> {
    if (this.opts.maxDepth === undefined) return readCertFilesByListing(this, dir, opts);
    return this.readCertTree(dir, this.opts.maxDepth, opts);
  }

  /**
   * The certificate files of `dir` and its subdirectories (src/pki/dir-walk.ts). A file that
   * is not regular is reported without being opened; a subdirectory that cannot be listed is
   * reported like a file that cannot be read.
   */
  private async readCertTree(
    dir: string,
    maxDepth: number,
    opts?: CallOptions,
  ): Promise<FileRead[]> {
    this.enter(opts);
    const nodeDir = normaliseNodePath(this.checkedPath(dir));
    const host = this.hostPath(nodeDir);
    let walk: Awaited<ReturnType<typeof walkDir>>;
    try {
      walk = await walkDir(host, { maxDepth, ...(opts?.signal ? { signal: opts.signal } : {}) });
    } catch (e) {
      opts?.signal?.throwIfAborted();
      throw fsError(e, dir);
    }
    const out: FileRead[] = [];
    for (const e of walk.entries) {
      if (!isCertFileName(posix.basename(e.rel))) continue;
      const path = posix.join(nodeDir, e.rel);
      out.push(
        e.kind === 'file'
          ? readLocalFile(join(host, e.rel), path)
          : { path, ok: false, error: `${path}: not a regular file`, missing: false },
      );
    }
    for (const s of walk.skipped) {
      if (!s.why.startsWith('cannot list')) continue;
      const path = posix.join(nodeDir, s.rel);
      out.push({ path, ok: false, error: `${path}: ${s.why}`, missing: false });
    }
    opts?.signal?.throwIfAborted();
    return out;
  }

  private checkedPath(path: string): string {
    const why = refuseNodePath(path);
    if (why) throw new FsAgentError('refused', why);
    return path;
  }

  async listDir(path: string, opts?: CallOptions): Promise<string[]> {
    this.enter(opts);
    const host = this.hostPath(path);
    try {
      const names = await readdir(host);
      opts?.signal?.throwIfAborted();
      return names.sort();
    } catch (e) {
      opts?.signal?.throwIfAborted();
      throw fsError(e, path);
    }
  }

  async unitStates(units: readonly string[], opts?: CallOptions): Promise<UnitState[]> {
    this.enter(opts);
    const known = this.units;
    return units.map((unit) => {
      const state: UnitActiveState =
        known === undefined ? 'unknown' : known.has(unitName(unit)) ? 'active' : 'inactive';
      return { unit, state };
    });
  }

  async pkiStatus(pkiDir: string, opts?: CallOptions): Promise<PkiStatus> {
    this.enter(opts);
    const why = refuseNodePath(pkiDir);
    if (why) throw new FsAgentError('refused', why);
    const nodeDir = normaliseNodePath(pkiDir);
    const ownerOf = await this.ownerLookup();
    try {
      return await scanPkiDir({
        node: this.node.name,
        nodeDir,
        hostDir: this.hostPath(nodeDir),
        ownerOf,
        ...(this.opts.maxDepth !== undefined ? { maxDepth: this.opts.maxDepth } : {}),
        ...(opts?.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      opts?.signal?.throwIfAborted();
      throw fsError(e, pkiDir);
    }
  }

  async exec(argv: readonly string[], opts?: NodeExecOptions): Promise<NodeExecResult> {
    this.enter(opts);
    if (!this.opts.exec)
      throw new FsAgentError(
        'refused',
        `${this.node.name}: cannot run ${JSON.stringify(argv[0] ?? '')} here (files only)`,
      );
    return this.opts.exec(argv, opts);
  }

  async forwardSocket(path: string, opts?: CallOptions): Promise<LocalForward> {
    this.enter(opts);
    const why = refuseNodePath(path);
    if (why) throw new FsAgentError('refused', why);
    if (!this.opts.forwardSocket)
      throw new FsAgentError('refused', `${this.node.name}: no socket ${path} here (files only)`);
    return this.opts.forwardSocket(path, opts);
  }

  async forwardTcp(host: string, port: number, opts?: CallOptions): Promise<LocalForward> {
    this.enter(opts);
    if (!isSafeHost(host) || !isSafePort(port))
      throw new FsAgentError(
        'refused',
        `refused forward target ${JSON.stringify(`${host}:${port}`)}`,
      );
    if (!this.opts.forwardTcp)
      throw new FsAgentError(
        'refused',
        `${this.node.name}: no TCP forward to ${host}:${port} here (files only)`,
      );
    return this.opts.forwardTcp(host, port, opts);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function fsError(e: unknown, path: string): FsAgentError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT')
    return new FsAgentError('missing', `${path}: No such file or directory`);
  return new FsAgentError('io', `${path}: ${err.message}`);
}
