/**
 * SshNodeAgent: the NodeAgent operations over the SSH pool. Every path and unit name is
 * validated and single-quoted (src/ssh/quote.ts); each operation is one remote command
 * (one round trip), parsed by the pure parsers in src/ssh/remote-scripts.ts.
 */
import type { Inventory, NodeSpec } from '../config/types.js';
import type { ExecOptions } from '../ssh/exec.js';
import { type SshHost, SshPool } from '../ssh/pool.js';
import { sh } from '../ssh/quote.js';
import {
  listDirScript,
  newNonce,
  parseListDir,
  parseOsRelease,
  parseReadFiles,
  parseStat,
  parseUnitStates,
  readFilesScript,
  statScript,
  unitStatesCommand,
} from '../ssh/remote-scripts.js';
import { type RouteRequest, routeRequestForNode } from '../ssh/resolve.js';
import type {
  CallOptions,
  FileRead,
  FileStat,
  NodeAgent,
  ProbeResult,
  UnitState,
} from './agent.js';

export const DEFAULT_CALL_TIMEOUT_MS = 15_000;

export interface SshNodeAgentOptions {
  /** Shared pool (recommended: one per run). Without it the agent owns a private pool. */
  pool?: SshPool;
  /** Inventory ssh defaults the node's overrides fall back to. */
  inventory?: Pick<Inventory, 'ssh'>;
  /** Explicit route request (instead of inventory + node). */
  request?: RouteRequest;
  /** Default per-call timeout (ms). */
  timeoutMs?: number;
}

export class SshNodeAgent implements NodeAgent {
  readonly host: SshHost;
  private readonly pool: SshPool;
  private readonly ownsPool: boolean;
  private readonly timeoutMs: number;

  constructor(
    readonly node: NodeSpec,
    opts: SshNodeAgentOptions = {},
  ) {
    this.ownsPool = !opts.pool;
    this.pool = opts.pool ?? new SshPool();
    const req =
      opts.request ??
      (opts.inventory ? routeRequestForNode(opts.inventory, node) : { host: node.host });
    this.host = this.pool.host(node.name, req);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  private execOpts(opts: CallOptions | undefined, extra: ExecOptions = {}): ExecOptions {
    const o: ExecOptions = { timeoutMs: opts?.timeoutMs ?? this.timeoutMs, ...extra };
    if (opts?.signal) o.signal = opts.signal;
    return o;
  }

  async probe(opts?: CallOptions): Promise<ProbeResult> {
    const deadline = opts?.timeoutMs ?? this.timeoutMs;
    const t0 = Date.now();
    await this.host.connect(opts?.signal);
    const route = await this.host.route();
    const remaining = Math.max(1, deadline - (Date.now() - t0));
    const start = performance.now();
    const r = await this.host.exec(
      sh`cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null || true`,
      this.execOpts({ ...opts, timeoutMs: remaining }, { maxOutputBytes: 64 * 1024 }),
    );
    const rttMs = Math.round((performance.now() - start) * 10) / 10;
    const res: ProbeResult = { rttMs, route: route.description };
    const os = parseOsRelease(r.stdout);
    if (os) res.os = os;
    const auth = this.host.authMethod;
    if (auth) res.auth = auth;
    return res;
  }

  async readFiles(paths: readonly string[], opts?: CallOptions): Promise<FileRead[]> {
    if (paths.length === 0) return [];
    const nonce = newNonce();
    const cmd = readFilesScript(paths, nonce); // throws UnsafeValueError before any I/O
    const r = await this.host.exec(cmd, this.execOpts(opts));
    return parseReadFiles(r.stdout, nonce, paths);
  }

  async stat(paths: readonly string[], opts?: CallOptions): Promise<FileStat[]> {
    if (paths.length === 0) return [];
    const nonce = newNonce();
    const cmd = statScript(paths, nonce);
    const r = await this.host.exec(cmd, this.execOpts(opts));
    return parseStat(r.stdout, nonce, paths);
  }

  async listDir(path: string, opts?: CallOptions): Promise<string[]> {
    const cmd = listDirScript(path);
    const r = await this.host.exec(cmd, this.execOpts(opts));
    return parseListDir(r.stdout);
  }

  async unitStates(units: readonly string[], opts?: CallOptions): Promise<UnitState[]> {
    if (units.length === 0) return [];
    const cmd = unitStatesCommand(units);
    // systemctl show exits 0 for unknown units; non-zero means systemctl itself failed.
    const r = await this.host.exec(cmd, this.execOpts(opts));
    return parseUnitStates(r.stdout, units);
  }

  /** Raw `ip -j -d link show` JSON text (parsed by the MTU collector). */
  async links(opts?: CallOptions): Promise<string> {
    const r = await this.host.exec(sh`ip -j -d link show`, this.execOpts(opts));
    return r.stdout;
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.close();
  }
}
