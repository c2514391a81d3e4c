/**
 * NodeAgent for the demo lab: answers from the real files under `<lab>/nodes/<node>/`,
 * as a node would over SSH. Node paths are absolute (`/etc/kubernetes/pki/…`) and are
 * mapped into that root; relative paths and `..` are refused.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeSpec } from '../config/types.js';
import { demoNodeRoot, demoOwnersPath, type OwnersFile } from '../demo/lab.js';
import { demoUnits } from '../demo/pki-plan.js';
import { scanPkiDir } from '../pki/status.js';
import type { PkiStatus } from '../pki/types.js';
import type {
  CallOptions,
  FileRead,
  FileStat,
  NodeAgent,
  ProbeResult,
  UnitActiveState,
  UnitState,
} from './agent.js';
import { readCertFilesByListing } from './cert-files.js';
import { readLocalFile } from './local-read.js';

export type DemoAgentErrorKind = 'unreachable' | 'refused' | 'missing' | 'io' | 'closed';

/** Rejection of a demo agent call; `kind` matches the store's SourceError kinds. */
export class DemoAgentError extends Error {
  override readonly name = 'DemoAgentError';
  constructor(
    readonly kind: DemoAgentErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface DemoNodeAgentOptions {
  /** Simulated latency added to every call, ms (default 0; the probe still reports a simulated rtt). */
  latencyMs?: number;
}

/** Why a node path is refused, or undefined when it is acceptable. */
export function refuseNodePath(path: string): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'empty path';
  if (!path.startsWith('/')) return `not an absolute path: ${path}`;
  if (path.includes('\0')) return 'path contains a NUL byte';
  if (path.split('/').includes('..')) return `path contains '..': ${path}`;
  return undefined;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Resolve after `ms`, or reject as soon as `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError(signal!));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const kindOf = (st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }) =>
  st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other';

export class DemoNodeAgent implements NodeAgent {
  readonly root: string;
  private reachable = true;
  private closed = false;
  private readonly units = new Map<string, UnitActiveState>();
  private readonly latencyMs: number;

  constructor(
    readonly node: NodeSpec,
    readonly labDir: string,
    opts: DemoNodeAgentOptions = {},
  ) {
    this.root = demoNodeRoot(labDir, node.name);
    this.latencyMs = opts.latencyMs ?? 0;
    for (const u of demoUnits(node)) this.units.set(u, 'active');
  }

  /** Fault injection: an unreachable node rejects every call with kind `unreachable`. */
  setReachable(reachable: boolean): void {
    this.reachable = reachable;
  }

  isReachable(): boolean {
    return this.reachable;
  }

  /** Fault injection: set a unit's ActiveState (unit names with or without `.service`). */
  setUnitState(unit: string, state: UnitActiveState): void {
    this.units.set(unitName(unit), state);
  }

  /** Host path of a node path (after validation). */
  hostPath(nodePath: string): string {
    const why = refuseNodePath(nodePath);
    if (why) throw new DemoAgentError('refused', why);
    return join(this.root, nodePath);
  }

  private async enter(opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted();
    if (this.closed) throw new DemoAgentError('closed', `agent for ${this.node.name} is closed`);
    if (!this.reachable) {
      throw new DemoAgentError(
        'unreachable',
        `ssh ${this.node.name} via bastion: connect to host ${this.node.host} port 22: Connection timed out`,
      );
    }
    await pause(this.latencyMs, opts?.signal);
  }

  async probe(opts?: CallOptions): Promise<ProbeResult> {
    await this.enter(opts);
    // Deterministic per node: a LAN hop behind the bastion.
    const rttMs =
      Math.round((1.1 + this.node.index * 0.37 + (this.node.index % 2) * 0.21) * 100) / 100;
    return { rttMs, route: 'via bastion', os: 'NixOS 25.05 (Warbler)', auth: 'demo' };
  }

  async readFiles(paths: readonly string[], opts?: CallOptions): Promise<FileRead[]> {
    await this.enter(opts);
    const out = paths.map((path): FileRead => {
      const why = refuseNodePath(path);
      if (why) return { path, ok: false, error: `refused: ${why}`, missing: false };
      return readLocalFile(join(this.root, path), path);
    });
    opts?.signal?.throwIfAborted();
    return out;
  }

  async stat(paths: readonly string[], opts?: CallOptions): Promise<FileStat[]> {
    await this.enter(opts);
    const owners = await this.owners();
    const out = await Promise.all(
      paths.map(async (path): Promise<FileStat> => {
        const why = refuseNodePath(path);
        if (why) return { path, ok: false, error: `refused: ${why}`, missing: false };
        try {
          const st = await lstat(join(this.root, path));
          const own = owners[normalise(path)] ?? { owner: 'root', group: 'root' };
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
    return readCertFilesByListing(this, dir, opts);
  }

  async listDir(path: string, opts?: CallOptions): Promise<string[]> {
    await this.enter(opts);
    const why = refuseNodePath(path);
    if (why) throw new DemoAgentError('refused', why);
    try {
      const names = await readdir(join(this.root, path));
      opts?.signal?.throwIfAborted();
      return names.sort();
    } catch (e) {
      opts?.signal?.throwIfAborted();
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT')
        throw new DemoAgentError('missing', `${path}: No such file or directory`);
      throw new DemoAgentError('io', `${path}: ${err.message}`);
    }
  }

  async unitStates(units: readonly string[], opts?: CallOptions): Promise<UnitState[]> {
    await this.enter(opts);
    // systemd reports a unit it does not know as inactive (LoadState=not-found).
    return units.map((unit) => ({ unit, state: this.units.get(unitName(unit)) ?? 'inactive' }));
  }

  /**
   * What nix/pki/status prints on a real node, computed from the lab's files: kind, mode
   * (real, from stat), owner (simulated, owners.json), size, public-key digest.
   */
  async pkiStatus(pkiDir: string, opts?: CallOptions): Promise<PkiStatus> {
    await this.enter(opts);
    const why = refuseNodePath(pkiDir);
    if (why) throw new DemoAgentError('refused', why);
    const owners = await this.owners();
    const nodeDir = normalise(pkiDir);
    try {
      return await scanPkiDir({
        node: this.node.name,
        nodeDir,
        hostDir: join(this.root, nodeDir),
        ownerOf: (p) => owners[p] ?? { owner: 'root', group: 'root' },
        ...(opts?.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      opts?.signal?.throwIfAborted();
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT')
        throw new DemoAgentError('missing', `${pkiDir}: No such file or directory`);
      throw new DemoAgentError('io', `${pkiDir}: ${err.message}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async owners(): Promise<OwnersFile['files']> {
    try {
      const parsed = JSON.parse(
        await readFile(demoOwnersPath(this.labDir, this.node.name), 'utf8'),
      ) as OwnersFile;
      return parsed && typeof parsed.files === 'object' && parsed.files !== null
        ? parsed.files
        : {};
    } catch {
      return {};
    }
  }
}

const unitName = (u: string): string => (u.includes('.') ? u : `${u}.service`);

/** `/etc//kubernetes/pki/` → `/etc/kubernetes/pki` (for owner lookup). */
function normalise(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}
