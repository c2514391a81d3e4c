/**
 * A NodeAgent whose real implementation becomes available later (the demo lab being
 * checked or generated, a connection pool being set up). Calls wait for it; if it fails,
 * every call rejects with that reason, which the store shows per node.
 */
import type { NodeSpec } from '../config/types.js';
import type { PkiStatus } from '../pki/types.js';
import type {
  CallOptions,
  FileRead,
  FileStat,
  NodeAgent,
  ProbeResult,
  UnitState,
} from './agent.js';

export class DeferredNodeAgent implements NodeAgent {
  constructor(
    readonly node: NodeSpec,
    private readonly ready: Promise<NodeAgent>,
  ) {
    // Rejections surface through each call; never as an unhandled rejection.
    ready.catch(() => {});
  }

  private async use<T>(
    opts: CallOptions | undefined,
    fn: (a: NodeAgent) => Promise<T>,
  ): Promise<T> {
    opts?.signal?.throwIfAborted();
    return fn(await this.ready);
  }

  probe(opts?: CallOptions): Promise<ProbeResult> {
    return this.use(opts, (a) => a.probe(opts));
  }
  readFiles(paths: readonly string[], opts?: CallOptions): Promise<FileRead[]> {
    return this.use(opts, (a) => a.readFiles(paths, opts));
  }
  stat(paths: readonly string[], opts?: CallOptions): Promise<FileStat[]> {
    return this.use(opts, (a) => a.stat(paths, opts));
  }
  listDir(path: string, opts?: CallOptions): Promise<string[]> {
    return this.use(opts, (a) => a.listDir(path, opts));
  }
  readCertFiles(dir: string, opts?: CallOptions): Promise<FileRead[]> {
    return this.use(opts, (a) => a.readCertFiles(dir, opts));
  }
  unitStates(units: readonly string[], opts?: CallOptions): Promise<UnitState[]> {
    return this.use(opts, (a) => a.unitStates(units, opts));
  }
  pkiStatus(pkiDir: string, opts?: CallOptions): Promise<PkiStatus> {
    return this.use(opts, (a) => a.pkiStatus(pkiDir, opts));
  }
  async close(): Promise<void> {
    const a = await this.ready.catch(() => undefined);
    await a?.close();
  }
}
