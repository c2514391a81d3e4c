/**
 * SshNodeAgent: the NodeAgent operations over the SSH pool. Every path and unit name is
 * validated and single-quoted (src/ssh/quote.ts); each operation is one remote script
 * (one round trip) on the connection's persistent shell (SshHost.run: no new SSH session
 * per call; plain exec when no shell can be had), parsed by the pure parsers in
 * src/nodes/remote-scripts.ts. Every operation only reads, so a shell that breaks under one
 * is retried over exec within the same deadline. Every script but probe's (shell builtins
 * only, no process) runs under a node-side deadline as long as the call's (withDeadline): a
 * request k8ops abandons (timeout, abort, lost connection) leaves nothing running on the
 * node past it.
 */
import { posix } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Inventory, NodeSpec } from '../config/types.js';
import { isSafeRemotePath } from '../config/validate.js';
import { isCertFileName } from '../pki/file-names.js';
import type { PkiStatus } from '../pki/types.js';
import { RemoteExecError } from '../ssh/errors.js';
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
import {
  certDirKeysSection,
  type IdentityResult,
  identityScript,
  keySeparator,
  normalDir,
  PkiStatusCache,
  type PkiStatusCacheStats,
  parseCertDirKeys,
  parseIdentity,
} from './pki-status-fast.js';
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
import { batchScript, isShellBuiltin, type PartMode, parseBatch } from './request-batch.js';

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
  /** The `stat` request of a PKI directory in flight, shared by the calls that want it. */
  private readonly identities = new Map<string, Promise<IdentityResult>>();
  /**
   * Per PKI directory, the last full certificate read and the identities (inode, size,
   * mtime, ctime) its files had just before it: while the directory's `stat` shows the same
   * entries and identities, a certificate read is answered from here (issue 13: a warm
   * refresh of an unchanged node is one `stat` request, shared with the PKI status).
   */
  private readonly certReads = new Map<
    string,
    { names: Set<string>; ids: Map<string, string>; dangling: string[]; reads: FileRead[] }
  >();
  /** Certificate reads answered from certReads (tests, bench). */
  certReadsReused = 0;
  /**
   * The certificate read of a PKI directory in progress (settles when it does, never
   * rejects): a PKI status of the same directory waits for it before its derive request,
   * so the certificates that read sent are not asked for again (PkiStatusCache.seed).
   */
  private readonly certReadsInFlight = new Map<string, Promise<void>>();
  /** PKI directories a status was asked for (a cold certificate read then derives their keys too). */
  private readonly statusDirs = new Set<string>();
  /** Quick reads asked for in this moment, sent together at the next turn (flushQuick). */
  private quickCalls: QuickCall[] = [];
  /** Requests that carried two or more quick reads together (tests, bench). */
  quickBatches = 0;

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
      // Shell builtins only (no process: this runs on every refresh of every node), at most
      // 64 lines of the first os-release file there is, in one write.
      sh`for f in /etc/os-release /usr/lib/os-release; do
  if [ -r "$f" ]; then
    K8OPS_O=
    n=0
    while [ "$n" -lt 64 ] && IFS= read -r l; do
      K8OPS_O="$K8OPS_O$l
"
      n=$((n + 1))
    done < "$f"
    printf '%s' "$K8OPS_O"
    break
  fi
done`,
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
  readCertFiles(dir: string, opts?: CallOptions): Promise<FileRead[]> {
    const key = normalDir(dir);
    const read = this.readCertFilesNow(dir, key, opts);
    const settled = read.then(
      () => {},
      () => {},
    );
    this.certReadsInFlight.set(key, settled);
    void settled.then(() => {
      if (this.certReadsInFlight.get(key) === settled) this.certReadsInFlight.delete(key);
    });
    return read;
  }

  private async readCertFilesNow(
    dir: string,
    key: string,
    opts: CallOptions | undefined,
  ): Promise<FileRead[]> {
    const last = this.certReads.get(key);
    if (last) {
      const ident = await this.dirIdentity(key, opts).catch((e: unknown) => {
        if (opts?.signal?.aborted) throw e;
        return undefined; // the full read below says what is wrong
      });
      if (ident && sameCertDir(last, ident)) {
        this.certReadsReused++;
        return last.reads.map((r) => ({ ...r }));
      }
    }
    remotePath(dir); // throws UnsafeValueError before any I/O
    const nonce = newNonce();
    const t0 = Date.now();
    // The script's `stat` is the directory's identity too: a PKI status asking for it
    // meanwhile gets it from here (one request less per node and cold refresh).
    const identity = this.identities.has(key) ? undefined : this.identityFromCertRead(key, opts);
    let got: ReturnType<typeof parseReadCertDir>;
    let section: ReturnType<typeof parseCertDirKeys>;
    try {
      // A PKI status of this directory called for in the same moment (one refresh starts a
      // node's sources together) and nothing known of it yet: the read brings the status's
      // derive along (certDirKeysSection), one request less per node on a cold refresh.
      if (!this.statusDirs.has(key)) await new Promise((resolve) => setImmediate(resolve));
      const keys =
        this.statusDirs.has(key) && this.pkiCache.isCold(key)
          ? { nonce: newNonce(), sep: keySeparator() }
          : undefined;
      const cmd = readCertDirScript(
        dir,
        nonce,
        keys ? certDirKeysSection(keys.nonce, keys.sep) : undefined,
      );
      const r = await this.run(cmd, opts);
      let out = r.stdoutBuffer;
      if (keys) {
        section = parseCertDirKeys(out, keys.nonce, keys.sep);
        const at = out.indexOf(`K8OPS-${keys.nonce} keysection\n`);
        if (at >= 0) out = out.subarray(0, at);
      }
      got = parseReadCertDir(out, nonce);
    } catch (e) {
      identity?.settle(undefined);
      throw e;
    }
    const ident =
      got.kind === 'nodir'
        ? ({ kind: 'nodir' } as const)
        : got.kind === 'listed' && got.identity !== undefined
          ? parseIdentity(got.identity, `${nonce}i`)
          : undefined;
    // The key section's files, under the identities the read's `stat` gave them (before
    // it read them): a status of this refresh does not ask for them again.
    if (section && ident?.kind === 'ok') {
      const ids = new Map(ident.entries.map((e) => [e.name, e.id]));
      section.names.forEach((name, i) => {
        const id = ids.get(name);
        if (id !== undefined) this.pkiCache.seedDerived(key, name, id, section.derived[i]!);
      });
    }
    identity?.settle(ident);
    if (got.kind === 'nodir') throw new MissingDirectoryError(dir);
    if (got.kind === 'garbled')
      throw Object.assign(new Error(`${dir}: ${got.message}`), { kind: 'parse' });
    const pathOf = (name: string): string => posix.join(dir, name);
    const read = new Map<string, FileRead>();
    got.picked.forEach((name, i) => {
      const f = got.batch.files[i]!;
      if (got.batch.retry.includes(i)) return;
      read.set(name, { ...f, path: pathOf(name) });
      const id = got.ids.get(name);
      if (f.ok && f.content !== undefined && id !== undefined)
        this.pkiCache.seed(key, name, id, f.content);
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
    const result = wanted.map((n) => read.get(n)!);
    // Remembered only when the script read every certificate file itself, each with the
    // identity it had before the read (a file changed in between shows a newer one later);
    // a name read afterwards only if it was missing (a dangling symlink: while a later
    // `stat` still shows it dangling, reading it again says the same).
    const dangling = later.filter((n) => {
      const r = read.get(n);
      return r !== undefined && !r.ok && r.missing === true;
    });
    if (dangling.length === later.length && got.picked.every((n) => got.ids.has(n)))
      this.certReads.set(key, {
        names: new Set(got.names),
        ids: got.ids,
        dangling,
        reads: result.map((r) => ({ ...r })),
      });
    else this.certReads.delete(key);
    return result;
  }

  /**
   * A place for `dir`'s identity in `identities` while a certificate read of it runs: the
   * read settles it with the identity its script printed, or with nothing (the read failed,
   * or printed none), in which case whoever waits gets the identity request's answer.
   */
  private identityFromCertRead(
    dir: string,
    opts: CallOptions | undefined,
  ): { settle(v: IdentityResult | undefined): void } {
    let settle!: (v: IdentityResult | undefined) => void;
    const got = new Promise<IdentityResult | undefined>((resolve) => {
      settle = resolve;
    });
    const p: Promise<IdentityResult> = got.then((v) => {
      if (this.identities.get(dir) === p) this.identities.delete(dir);
      // (Not under the read's signal: the read's caller is not the one waiting.)
      return v ?? this.dirIdentity(dir, { timeoutMs: opts?.timeoutMs ?? this.timeoutMs });
    });
    // Nobody may wait: a rejection of the fallback request must not go unhandled.
    p.catch(() => {});
    this.identities.set(dir, p);
    return { settle };
  }

  /**
   * The identity request (identityScript) for `dir`, shared by the calls that ask for it
   * while it runs (the certificate read and the PKI status of one refresh): one `stat`
   * round trip for both. It runs under the agent's own timeout; each caller's signal ends
   * only that caller's wait.
   */
  private dirIdentity(dir: string, opts?: CallOptions): Promise<IdentityResult> {
    let p = this.identities.get(dir);
    if (!p) {
      const nonce = newNonce();
      const q = this.quick(identityScript(dir, nonce), {
        timeoutMs: opts?.timeoutMs ?? this.timeoutMs,
      })
        .then((r) => parseIdentity(r.stdout, nonce))
        .finally(() => {
          if (this.identities.get(dir) === q) this.identities.delete(dir);
        });
      this.identities.set(dir, q);
      p = q;
    }
    return untilAborted(p, opts?.signal);
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
    const onOutput = opts?.onOutput;
    if (opts?.quick && opts.readOnly && opts.stdin === undefined && !onOutput) {
      const q: QuickOptions = { timeoutMs: o.timeoutMs!, reject: false };
      if (o.maxOutputBytes !== undefined) q.maxOutputBytes = o.maxOutputBytes;
      if (opts.signal) q.signal = opts.signal;
      const r = await this.quick(cmd, q, isShellBuiltin(argv[0]!) ? 'argv' : 'program');
      return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
    }
    const line = withDeadline(cmd, deadlineSeconds(o.timeoutMs!));
    if (onOutput) {
      // Live output needs its own exec channel (a persistent shell answers at the end).
      const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
      const x: ExecOptions = {
        ...o,
        onData: (chunk, stream) => {
          const text = decoders[stream].write(chunk);
          if (text) onOutput(text, stream);
        },
      };
      const r = await this.host.exec(posixSh(line), x);
      return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
    }
    const r = await this.host.run(line, o);
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
    this.statusDirs.add(normalDir(pkiDir));
    const t0 = Date.now();
    const budget = opts?.timeoutMs ?? this.timeoutMs;
    const fast = await this.pkiCache.status(
      pkiDir,
      async (cmd) => {
        const left = Math.max(1, budget - (Date.now() - t0));
        const r = await this.run(cmd, { ...opts, timeoutMs: left });
        return r.stdoutBuffer;
      },
      async (dir) => {
        const ident = await this.dirIdentity(dir, { ...opts, timeoutMs: budget });
        // A certificate read of this directory under way (the same refresh): its files
        // need no derive (PkiStatusCache.seed). Waited for a third of the budget at most.
        const reading = this.certReadsInFlight.get(dir);
        if (reading && ident.kind === 'ok') {
          let timer: NodeJS.Timeout | undefined;
          const cap = new Promise<void>((resolve) => {
            timer = setTimeout(resolve, Math.max(0, budget / 3 - (Date.now() - t0)));
          });
          await untilAborted(Promise.race([reading, cap]), opts?.signal).finally(() =>
            clearTimeout(timer),
          );
        }
        return ident;
      },
    );
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

  /**
   * A quick read-only script (the PKI directory's `stat`, `ip -j -d link show`): the quick
   * reads asked for in the same moment (one refresh starts a node's sources together) go
   * out as ONE request at the next turn of the event loop (request-batch.ts), under one
   * node-side deadline; a lone one goes out as before (run). A batch is bounded by the
   * shortest budget among its parts (its own timeout and the node-side deadline both), so
   * no part runs on the node longer than its caller allowed; each caller's signal ends
   * only its own wait, and the batch is aborted once every caller has given up.
   */
  private quick(
    cmd: ShellCommand,
    opts: QuickOptions,
    mode: PartMode = 'script',
  ): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      this.quickCalls.push({ cmd, opts, mode, resolve, reject });
      if (this.quickCalls.length === 1) setImmediate(() => this.flushQuick());
    });
  }

  private flushQuick(): void {
    const calls: QuickCall[] = [];
    for (const c of this.quickCalls.splice(0)) {
      if (c.opts.signal?.aborted) c.reject(c.opts.signal.reason);
      else calls.push(c);
    }
    if (calls.length === 0) return;
    if (calls.length === 1) {
      const c = calls[0]!;
      const o = this.execOpts(c.opts, quickExtra(c.opts));
      this.host
        .run(withDeadline(c.cmd, deadlineSeconds(c.opts.timeoutMs)), o)
        .then(c.resolve, c.reject);
      return;
    }
    this.quickBatches++;
    const timeoutMs = Math.min(...calls.map((c) => c.opts.timeoutMs));
    const cap = calls.reduce(
      (a, c) => a + (c.opts.maxOutputBytes ?? DEFAULT_NODE_EXEC_MAX_BYTES) + 256,
      0,
    );
    // The batch ends when every caller has given up on it (each caller's own wait ends
    // with its own signal, below).
    const ac = new AbortController();
    let waiting = calls.length;
    const waits = calls.map((c) => {
      const sig = c.opts.signal;
      if (!sig) return { c, done: () => {} };
      const onAbort = () => {
        c.reject(sig.reason);
        if (--waiting === 0) ac.abort(sig.reason);
      };
      sig.addEventListener('abort', onAbort, { once: true });
      return { c, done: () => sig.removeEventListener('abort', onAbort) };
    });
    const nonce = newNonce();
    const cmd = batchScript(
      calls.map((c) => c.cmd),
      nonce,
      calls.map((c) => c.mode),
    );
    this.host
      .run(withDeadline(cmd, deadlineSeconds(timeoutMs)), {
        timeoutMs,
        idempotent: true,
        reject: false,
        maxOutputBytes: cap,
        signal: ac.signal,
      })
      .then(
        (r) => {
          const parts = parseBatch(
            r.stdoutBuffer,
            Buffer.from(r.stderr, 'utf8'),
            nonce,
            calls.length,
          );
          waits.forEach(({ c, done }, i) => {
            done();
            const part = parts[i]!;
            const base = { host: r.host, route: r.route, command: c.cmd.text };
            if (!part.ok) {
              c.reject(
                new RemoteExecError({
                  ...base,
                  kind: 'channel',
                  reason: `${part.error} (batch exit status ${r.exitCode ?? 'none'})`,
                  durationMs: r.durationMs,
                }),
              );
              return;
            }
            const stdout = part.stdout.toString('utf8');
            const stderr = part.stderr.toString('utf8');
            const limit = c.opts.maxOutputBytes ?? DEFAULT_NODE_EXEC_MAX_BYTES;
            if (part.stdout.length + part.stderr.length > limit) {
              c.reject(
                new RemoteExecError({
                  ...base,
                  kind: 'output-limit',
                  reason: `output over ${limit} bytes`,
                  durationMs: r.durationMs,
                }),
              );
              return;
            }
            if (part.exitCode !== 0 && c.opts.reject !== false) {
              c.reject(
                new RemoteExecError({
                  ...base,
                  kind: 'exit',
                  reason: `command failed with exit code ${part.exitCode}`,
                  exitCode: part.exitCode,
                  signal: null,
                  stdout,
                  stderr,
                  durationMs: r.durationMs,
                }),
              );
              return;
            }
            const res: ExecResult = {
              ...base,
              exitCode: part.exitCode,
              signal: null,
              stdout,
              stderr,
              stdoutBuffer: Buffer.from(part.stdout),
              durationMs: r.durationMs,
            };
            if (r.transport) res.transport = r.transport;
            c.resolve(res);
          });
        },
        (e: unknown) => {
          for (const { c, done } of waits) {
            done();
            c.reject(e);
          }
        },
      );
  }
}

interface QuickOptions {
  timeoutMs: number;
  maxOutputBytes?: number;
  /** A non-zero exit rejects (default true), as SshHost.run. */
  reject?: boolean;
  signal?: AbortSignal;
}

interface QuickCall {
  cmd: ShellCommand;
  /** How batchScript runs it: `script`, or an argvCommand's quoted words (`argv`, `program`). */
  mode: PartMode;
  opts: QuickOptions;
  resolve: (r: ExecResult) => void;
  reject: (e: unknown) => void;
}

function quickExtra(o: QuickOptions): RunOptions {
  const x: RunOptions = {};
  if (o.maxOutputBytes !== undefined) x.maxOutputBytes = o.maxOutputBytes;
  if (o.reject !== undefined) x.reject = o.reject;
  return x;
}

/** Whether a directory's `stat` shows what the remembered certificate read saw. */
function sameCertDir(
  last: { names: Set<string>; ids: Map<string, string>; dangling: string[] },
  ident: IdentityResult,
): boolean {
  if (ident.kind !== 'ok' || ident.ids.size !== last.names.size) return false;
  for (const name of last.names) if (!ident.ids.has(name)) return false;
  for (const [name, id] of last.ids) if (ident.ids.get(name) !== id) return false;
  for (const name of last.dangling)
    if (!ident.entries.some((e) => e.name === name && e.type === 'dangling')) return false;
  return true;
}

/** `p`, or the signal's reason once it aborts (`p` itself goes on). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
