/**
 * SshNodeAgent: the NodeAgent operations over the SSH pool. Every path and unit name is
 * validated and single-quoted (src/ssh/quote.ts); each operation is one remote script
 * (one round trip) on the connection's persistent shell (SshHost.run: no new SSH session
 * per call; plain exec when no shell can be had), parsed by the pure parsers in
 * src/nodes/remote-scripts.ts. Every operation only reads, so a shell that breaks under one
 * is retried over exec within the same deadline. Every script but probe's one `cat` runs
 * under a node-side deadline as long as the call's (withDeadline): a request k8ops abandons
 * (timeout, abort, lost connection) leaves nothing running on the node past it.
 */
import { posix } from 'node:path';
import type { Inventory, NodeSpec } from '../config/types.js';
import { isSafeRemotePath } from '../config/validate.js';
import { isCertFileName } from '../pki/file-names.js';
import type { PkiStatus } from '../pki/types.js';
import type { ExecOptions, ExecResult } from '../ssh/exec.js';
import { type SshHost, SshPool } from '../ssh/pool.js';
import { argvCommand, posixSh, remotePath, type ShellCommand, sh, token } from '../ssh/quote.js';
import { type RouteRequest, routeRequestForNode } from '../ssh/resolve.js';
import type { RunOptions } from '../ssh/shell.js';
import {
  type CallOptions,
  type FileRead,
  type FileStat,
  type LocalForward,
  MissingDirectoryError,
  type NodeAgent,
  type NodeExecOptions,
  type NodeExecResult,
  type ProbeResult,
  type UnitState,
} from './agent.js';
import { PkiStatusCache, type PkiStatusCacheStats } from './pki-status-fast.js';
import { PkiStatusError, remotePkiStatus } from './pki-status-remote.js';
import {
  deadlineSeconds,
  listDirScript,
  newNonce,
  parseListDir,
  parseOsRelease,
  parseReadCertDir,
  parseReadFiles,
  parseReadFilesBatch,
  parseStat,
  parseUnitStates,
  readCertDirScript,
  readFilesBatchScript,
  readFilesScript,
  statScript,
  unitStatesCommand,
  withDeadline,
} from './remote-scripts.js';

export const DEFAULT_CALL_TIMEOUT_MS = 15_000;
/** Default output cap of NodeAgent.exec. */
export const DEFAULT_NODE_EXEC_MAX_BYTES = 8 * 1024 * 1024;

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
  private readonly pkiCache: PkiStatusCache;

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
    this.pkiCache = new PkiStatusCache({ node: node.name, newNonce });
  }

  /**
   * Run one read-only script (SshHost.run) with a node-side deadline as long as the call's
   * own (withDeadline): whatever becomes of the call here — done, timed out, aborted, the
   * connection lost — nothing it started on the node outlives that deadline.
   */
  private run(cmd: ShellCommand, opts: CallOptions | undefined): Promise<ExecResult> {
    const o = this.execOpts(opts);
    return this.host.run(withDeadline(cmd, deadlineSeconds(o.timeoutMs ?? this.timeoutMs)), o);
  }

  private execOpts(opts: CallOptions | undefined, extra: RunOptions = {}): RunOptions {
    const o: RunOptions = {
      timeoutMs: opts?.timeoutMs ?? this.timeoutMs,
      idempotent: true,
      ...extra,
    };
    if (opts?.signal) o.signal = opts.signal;
    return o;
  }

  async probe(opts?: CallOptions): Promise<ProbeResult> {
    const deadline = opts?.timeoutMs ?? this.timeoutMs;
    // Connecting is bounded by its own connect timeout; the call's budget starts after it.
    await this.host.connect(opts?.signal);
    const t0 = Date.now();
    const route = await this.host.route();
    const remaining = Math.max(1, deadline - (Date.now() - t0));
    const start = performance.now();
    const r = await this.host.run(
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

  /**
   * One `wc -c` + one `cat` for all readable files; files whose size changed between the
   * two (a rotation in progress, /proc-like files) are read again per file, race-free.
   */
  async readFiles(paths: readonly string[], opts?: CallOptions): Promise<FileRead[]> {
    if (paths.length === 0) return [];
    const nonce = newNonce();
    const cmd = readFilesBatchScript(paths, nonce); // throws UnsafeValueError before any I/O
    const t0 = Date.now();
    const r = await this.run(cmd, opts);
    const { files, retry } = parseReadFilesBatch(r.stdoutBuffer, nonce, paths);
    if (retry.length === 0) return files;
    const again = retry.map((i) => paths[i]!);
    const nonce2 = newNonce();
    const left = Math.max(1, (opts?.timeoutMs ?? this.timeoutMs) - (Date.now() - t0));
    const r2 = await this.run(readFilesScript(again, nonce2), { ...opts, timeoutMs: left });
    parseReadFiles(r2.stdout, nonce2, again).forEach((f, k) => {
      files[retry[k]!] = f;
    });
    return files;
  }

  async stat(paths: readonly string[], opts?: CallOptions): Promise<FileStat[]> {
    if (paths.length === 0) return [];
    const nonce = newNonce();
    const cmd = statScript(paths, nonce);
    const r = await this.run(cmd, opts);
    return parseStat(r.stdout, nonce, paths);
  }

  async listDir(path: string, opts?: CallOptions): Promise<string[]> {
    const cmd = listDirScript(path);
    const r = await this.run(cmd, opts);
    return parseListDir(r.stdout);
  }

  /**
   * One script lists `dir` and reads its certificate files (readCertDirScript): one round
   * trip. What the script picked comes back read or with its own error, decided on the node
   * (not a regular file, larger than 1 MiB, …) and is not asked for again: a FIFO or a
   * device is never opened, an oversized file never read. A certificate file the script
   * left out (a name outside plain ASCII, a directory or dangling link by a certificate
   * name, a file that changed while read) is read with readFiles afterwards, under the same
   * rules; a name that is not a certificate file name here is never returned, whatever
   * the node sent.
   */
  async readCertFiles(dir: string, opts?: CallOptions): Promise<FileRead[]> {
    const nonce = newNonce();
    const cmd = readCertDirScript(dir, nonce); // throws UnsafeValueError before any I/O
    const t0 = Date.now();
    const r = await this.run(cmd, opts);
    const got = parseReadCertDir(r.stdoutBuffer, nonce);
    if (got.kind === 'nodir') throw new MissingDirectoryError(dir);
    if (got.kind === 'garbled')
      throw Object.assign(new Error(`${dir}: ${got.message}`), { kind: 'parse' });
    const pathOf = (name: string): string => posix.join(dir, name);
    const read = new Map<string, FileRead>();
    got.picked.forEach((name, i) => {
      const f = got.batch.files[i]!;
      if (!got.batch.retry.includes(i)) read.set(name, { ...f, path: pathOf(name) });
    });
    const wanted = got.names.filter(isCertFileName);
    const later = wanted.filter((n) => !read.has(n));
    if (later.length > 0) {
      const left = Math.max(1, (opts?.timeoutMs ?? this.timeoutMs) - (Date.now() - t0));
      const again = await this.readFiles(later.map(pathOf), { ...opts, timeoutMs: left });
      later.forEach((n, i) => {
        read.set(n, again[i]!);
      });
    }
    return wanted.map((n) => read.get(n)!);
  }

  async unitStates(units: readonly string[], opts?: CallOptions): Promise<UnitState[]> {
    if (units.length === 0) return [];
    const cmd = unitStatesCommand(units);
    // systemctl show exits 0 for unknown units; non-zero means systemctl itself failed.
    const r = await this.run(cmd, opts);
    return parseUnitStates(r.stdout, units);
  }

  async exec(argv: readonly string[], opts?: NodeExecOptions): Promise<NodeExecResult> {
    const cmd = argvCommand(argv); // throws UnsafeValueError before any I/O
    const o = this.execOpts(opts, {
      reject: false,
      idempotent: opts?.readOnly ?? false,
      maxOutputBytes: opts?.maxOutputBytes ?? DEFAULT_NODE_EXEC_MAX_BYTES,
    });
    if (opts?.stdin !== undefined) o.stdin = opts.stdin;
    const r = await this.host.run(withDeadline(cmd, deadlineSeconds(o.timeoutMs!)), o);
    return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
  }

  async forwardSocket(path: string, opts?: CallOptions): Promise<LocalForward> {
    opts?.signal?.throwIfAborted();
    return this.host.forwardUnix(path);
  }

  /** SSH direct-tcpip from this node to `host:port` (src/ssh/forward.ts validates both). */
  async forwardTcp(host: string, port: number, opts?: CallOptions): Promise<LocalForward> {
    opts?.signal?.throwIfAborted();
    return this.host.forwardTcp(host, port);
  }

  /**
   * The document of nix/pki/status.sh (modes, owners and public-key digests of every PKI
   * file, so key↔cert is checked without a private key leaving the node), at the cost of
   * one `stat` request on the node's persistent shell when nothing changed: each file is
   * derived once per identity (inode, size, mtime, ctime) — a certificate or public key
   * sent as is, a private key file as ONE `openssl pkey -pubout` plus the file with its key
   * body redacted on the node — and remembered (PkiStatusCache, src/nodes/pki-status-fast.ts).
   * What that path does not handle (odd file names, no GNU stat, files over 1 MiB) runs the
   * status script itself: nix/pki/status.sh with lib.sh inlined piped to `bash -s` over
   * plain exec (needs bash, jq and openssl), under a node-side deadline (withDeadline) like
   * every script here. A missing directory rejects with MissingDirectoryError.
   */
  async pkiStatus(pkiDir: string, opts?: CallOptions): Promise<PkiStatus> {
    if (!isSafeRemotePath(pkiDir))
      throw new PkiStatusError('refused', `refused PKI directory ${JSON.stringify(pkiDir)}`);
    const t0 = Date.now();
    const budget = opts?.timeoutMs ?? this.timeoutMs;
    const fast = await this.pkiCache.status(pkiDir, async (cmd) => {
      const left = Math.max(1, budget - (Date.now() - t0));
      const r = await this.run(cmd, { ...opts, timeoutMs: left });
      return r.stdout;
    });
    if ('version' in fast) return fast;
    if ('nodir' in fast) throw new MissingDirectoryError(pkiDir);
    const left = Math.max(1, budget - (Date.now() - t0));
    return this.pkiStatusScript(pkiDir, { ...opts, timeoutMs: left });
  }

  /**
   * Counters of the PKI status cache (identity and derive requests, files derived,
   * refreshes answered by status.sh): for tests and the bench.
   */
  get pkiStatusStats(): Readonly<PkiStatusCacheStats> {
    return this.pkiCache.stats;
  }

  /** The whole status.sh, for what the cached path does not handle (see PkiStatusCache). */
  private pkiStatusScript(pkiDir: string, opts?: CallOptions): Promise<PkiStatus> {
    return remotePkiStatus(
      async (_command, stdin) => {
        const timeoutMs = opts?.timeoutMs ?? this.timeoutMs;
        const cmd = posixSh(
          withDeadline(
            sh`bash -s -- --pki-dir ${remotePath(pkiDir)} --node ${token(this.node.name)}`,
            deadlineSeconds(timeoutMs),
          ),
        );
        const o: ExecOptions = { timeoutMs, reject: false };
        if (stdin !== undefined) o.stdin = stdin;
        if (opts?.signal) o.signal = opts.signal;
        const r = await this.host.exec(cmd, o);
        return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
      },
      pkiDir,
      { node: this.node.name },
    );
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.close();
  }
}
