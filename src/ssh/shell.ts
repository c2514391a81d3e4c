/**
 * Persistent remote shells: per pooled connection, up to N long-lived `exec sh -s`
 * channels that run k8ops' read-only scripts without a new SSH session (privilege-separated
 * child, login records, login shell) per operation. The wire format is in shell-protocol.ts.
 *
 * - One request at a time per shell; a connection keeps a small set of shells
 *   (default 2, always below its channel bound so plain exec keeps a slot). A second shell
 *   is opened only when a request has waited `spawnDelayMs` without any shell coming free,
 *   so a quick burst stays on one session and a slow request does not block the others.
 * - Each shell holds one of the connection's channel slots for its lifetime.
 * - A timeout, an abort, output over the cap, a protocol violation or stray output kill
 *   that shell (KILL signal, channel closed); the next request gets another shell. A
 *   stream is never left half-read for a later request. sshd refuses signals for root
 *   logins and keeps a session open while its processes run, so a killed shell whose
 *   channel is still open shortly after gets its process group killed over a short exec
 *   (`kill -KILL -<pid>`, the pid from the handshake): the remote command really stops
 *   and the channel slot comes back.
 * - If a shell cannot be established (no `sh`, a ForceCommand, a handshake timeout, a
 *   refused channel), requests fall back to plain exec; shells are retried after a
 *   cooldown, or at once on a new connection.
 */
import type { Client, ClientChannel } from 'ssh2';
import { lagAwareTimeout } from '../store/busy-clock.js';
import { trace, tracing } from '../store/trace.js';
import { RemoteExecError } from './errors.js';
import {
  DEFAULT_EXEC_TIMEOUT_MS,
  DEFAULT_MAX_OUTPUT_BYTES,
  type ExecOptions,
  type ExecResult,
  runExec,
} from './exec.js';
import type { PooledConnection, SshPool } from './pool.js';
import { intArg, posixSh, type ShellCommand, sh } from './quote.js';
import type { Route } from './resolve.js';
import {
  HandshakeReader,
  handshakeText,
  PERSISTENT_SHELL_COMMAND,
  ResponseReader,
  type ResponseState,
  requestText,
  shellNonce,
} from './shell-protocol.js';

// ---------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------

/** What a persistent shell needs from its channel (an ssh2 exec channel, or a local child in tests). */
export interface ShellChannel {
  /** Write to the shell's stdin (may throw when the channel is gone). */
  write(text: string): void;
  onStdout(fn: (chunk: Buffer) => void): void;
  onStderr(fn: (chunk: Buffer) => void): void;
  /** Called once when the channel is fully closed. */
  onClose(fn: () => void): void;
  /**
   * Called when the shell process exited (exit-status): it is gone even if a process it
   * left behind still holds the channel's stdout open (the channel then closes later).
   */
  onExit(fn: () => void): void;
  /** EOF on stdin: the shell exits when idle. */
  end(): void;
  /** KILL the shell and close the channel. */
  kill(): void;
}

export function sshShellChannel(ch: ClientChannel): ShellChannel {
  ch.on('error', () => {});
  return {
    write: (text) => {
      ch.write(text);
    },
    onStdout: (fn) => {
      ch.on('data', fn);
    },
    onStderr: (fn) => {
      ch.stderr.on('data', fn);
    },
    onClose: (fn) => {
      ch.once('close', fn);
    },
    onExit: (fn) => {
      ch.once('exit', () => fn());
    },
    end: () => {
      try {
        ch.end();
      } catch {
        ch.destroy();
      }
    },
    kill: () => {
      try {
        ch.signal('KILL');
      } catch {
        // not supported: closing the channel is enough
      }
      try {
        ch.close();
      } catch {
        ch.destroy();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------
// One shell
// ---------------------------------------------------------------------------------------

export type ShellFailureKind = 'output-limit' | 'closed' | 'protocol';

/** A request on a persistent shell failed; the shell is gone (killed or died). */
export class ShellRunError extends Error {
  override readonly name = 'ShellRunError';
  constructor(
    readonly kind: ShellFailureKind,
    readonly reason: string,
    readonly stderr?: Buffer,
  ) {
    super(reason);
  }
}

export interface ShellRunResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

interface Pending {
  reader: ResponseReader;
  resolve: (r: ShellRunResult) => void;
  reject: (e: unknown) => void;
}

let shellIds = 0;

export class PersistentShell {
  readonly id = ++shellIds;
  private handshake?: { reader: HandshakeReader; settle: (err?: string) => void };
  private current?: Pending;
  private dead = false;
  /** Why the shell was killed or died (for diagnostics and the shell set's failure count). */
  deathReason?: string;
  /** The shell was killed for a protocol violation (not a timeout, abort or cap). */
  protocolFailure = false;
  /** Requests completed. */
  requests = 0;
  /** The remote shell's pid = its process group (from the handshake). */
  pid?: number;
  private readonly closeListeners: Array<() => void> = [];

  constructor(private readonly ch: ShellChannel) {
    ch.onStdout((b) => this.onData('stdout', b));
    ch.onStderr((b) => this.onData('stderr', b));
    ch.onClose(() => this.onClosed());
    ch.onExit(() => this.kill('shell exited'));
  }

  get closed(): boolean {
    return this.dead;
  }

  get busy(): boolean {
    return this.current !== undefined || this.handshake !== undefined;
  }

  onClose(fn: () => void): void {
    if (this.dead) fn();
    else this.closeListeners.push(fn);
  }

  /** Wait for the handshake; kills the shell and rejects on timeout, garbage or close. */
  open(timeoutMs: number): Promise<void> {
    const nonce = shellNonce();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => settle(`no handshake within ${timeoutMs} ms (is sh available? a ForceCommand?)`),
        timeoutMs,
      );
      const settle = (err?: string) => {
        if (!this.handshake) return;
        clearTimeout(timer);
        this.handshake = undefined;
        if (err) {
          this.kill(err);
          reject(new ShellRunError('protocol', err));
        } else resolve();
      };
      this.handshake = { reader: new HandshakeReader(nonce), settle };
      if (this.dead) {
        settle('channel closed');
        return;
      }
      try {
        this.ch.write(handshakeText(nonce));
      } catch (e) {
        settle(`write failed: ${(e as Error).message}`);
      }
    });
  }

  /**
   * Run one script. Rejects with ShellRunError (the shell is then gone) or with
   * `signal.reason` when the signal aborts (the shell is killed).
   */
  run(
    cmd: ShellCommand,
    opts: { maxOutputBytes: number; signal?: AbortSignal },
  ): Promise<ShellRunResult> {
    if (this.dead) return Promise.reject(new ShellRunError('closed', this.deathReason ?? 'closed'));
    if (this.busy) return Promise.reject(new Error('persistent shell is busy'));
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const nonce = shellNonce();
    const text = requestText(cmd, nonce);
    return new Promise<ShellRunResult>((resolve, reject) => {
      const onAbort = () => {
        if (this.current !== pending) return;
        this.current = undefined;
        this.kill('request aborted');
        reject(signal?.reason);
      };
      const pending: Pending = {
        reader: new ResponseReader(nonce, opts.maxOutputBytes),
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.current = pending;
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.ch.write(text);
      } catch (e) {
        this.current = undefined;
        this.kill(`write failed: ${(e as Error).message}`);
        pending.reject(new ShellRunError('closed', this.deathReason ?? 'closed'));
      }
    });
  }

  /** Close gracefully (EOF on stdin) when idle, else kill. */
  end(): void {
    if (this.dead) return;
    if (this.busy) this.kill('closed while busy');
    else this.ch.end();
  }

  kill(reason: string): void {
    if (!this.deathReason) this.deathReason = reason;
    if (this.dead) return;
    this.dead = true;
    this.ch.kill();
    this.finishDeath();
  }

  private onClosed(): void {
    if (!this.deathReason) this.deathReason = 'shell exited or channel closed';
    if (!this.dead) {
      this.dead = true;
      this.finishDeath();
    }
  }

  private finishDeath(): void {
    const reason = this.deathReason ?? 'closed';
    this.handshake?.settle(reason);
    const cur = this.current;
    this.current = undefined;
    cur?.reject(new ShellRunError('closed', reason));
    for (const fn of this.closeListeners.splice(0)) fn();
  }

  private onData(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (this.dead) return;
    const hs = this.handshake;
    if (hs) {
      hs.reader.push(stream, chunk);
      const st = hs.reader.state;
      if (st === 'ready') {
        if (hs.reader.pid !== undefined) this.pid = hs.reader.pid;
        hs.settle();
      } else if (st === 'error') hs.settle(hs.reader.error);
      return;
    }
    const cur = this.current;
    if (!cur) {
      this.protocolFailure = true;
      this.kill(`unexpected ${stream} output while idle`);
      return;
    }
    const st: ResponseState =
      stream === 'stdout' ? cur.reader.pushStdout(chunk) : cur.reader.pushStderr(chunk);
    switch (st.state) {
      case 'pending':
        return;
      case 'done':
        this.current = undefined;
        this.requests++;
        if (st.trailing) {
          this.protocolFailure = true;
          this.kill('unexpected output after a response');
        }
        cur.resolve({ exitCode: st.exitCode, stdout: st.stdout, stderr: st.stderr });
        return;
      case 'output-limit':
        this.current = undefined;
        this.kill('output limit');
        cur.reject(
          new ShellRunError(
            'output-limit',
            `output exceeded ${cur.reader.maxOutputBytes} bytes; command killed`,
            st.stderr,
          ),
        );
        return;
      case 'protocol':
        this.current = undefined;
        this.protocolFailure = true;
        this.kill(`protocol error: ${st.reason}`);
        cur.reject(new ShellRunError('protocol', `persistent shell protocol error: ${st.reason}`));
        return;
    }
  }
}

// ---------------------------------------------------------------------------------------
// The shells of one connection
// ---------------------------------------------------------------------------------------

export interface ShellSetOptions {
  /** Shells per connection (0 disables). */
  max: number;
  /** Open another shell when a request has waited this long with no shell coming free. */
  spawnDelayMs: number;
  /** Handshake deadline for a new shell. */
  handshakeTimeoutMs: number;
  /** After a failure to establish a shell (or repeated protocol errors): exec only for this long. */
  cooldownMs: number;
}

export const DEFAULT_SHELL_SPAWN_DELAY_MS = 200;
export const DEFAULT_SHELL_COOLDOWN_MS = 60_000;
/** Protocol failures within PROTOCOL_FAILURE_WINDOW_MS that disable shells for the cooldown. */
const MAX_PROTOCOL_FAILURES = 3;
const PROTOCOL_FAILURE_WINDOW_MS = 10 * 60_000;

export type ShellLease =
  | { shell: PersistentShell; release: () => void }
  | { fallback: string; shell?: undefined };

interface Waiter {
  at: number;
  grant: (l: ShellLease) => void;
}

/** Opens and lends the persistent shells of one pooled connection. */
export class ShellSet {
  private shells: PersistentShell[] = [];
  private readonly idle = new Set<PersistentShell>();
  private waiters: Waiter[] = [];
  private opening = 0;
  private openAbort?: AbortController;
  private client?: Client;
  private lastFreedAt = 0;
  private timer?: NodeJS.Timeout;
  private protocolFailures: number[] = [];
  disabledUntil = 0;
  disabledReason?: string;
  /** Shells successfully opened (stats, tests). */
  opened = 0;
  /** Requests sent to exec because no shell could be established. */
  fallbacks = 0;
  /** Killed shells whose process group had to be killed over exec (see reap). */
  reaps = 0;

  constructor(
    private readonly conn: PooledConnection,
    readonly opts: ShellSetOptions,
  ) {}

  /** Open shells (idle or busy). */
  get size(): number {
    return this.shells.length;
  }

  /** Shells running a request. */
  get busy(): number {
    return this.shells.filter((s) => !s.closed && !this.idle.has(s)).length;
  }

  private sync(): void {
    const client = this.conn.client;
    if (client === this.client) return;
    // A new (or no) connection: everything from the old one is gone.
    for (const s of this.shells) s.kill('connection replaced');
    this.shells = [];
    this.idle.clear();
    this.openAbort?.abort();
    this.opening = 0;
    this.disabledUntil = 0;
    this.protocolFailures = [];
    delete this.disabledReason;
    this.client = client;
  }

  /** A shell to run one request on, or why to use exec. Rejects with signal.reason on abort. */
  acquire(signal?: AbortSignal): Promise<ShellLease> {
    this.sync();
    if (!this.client) return Promise.resolve(this.fallback('not connected'));
    if (this.opts.max < 1) return Promise.resolve(this.fallback('persistent shells disabled'));
    if (Date.now() < this.disabledUntil) {
      return Promise.resolve(this.fallback(this.disabledReason ?? 'persistent shell unavailable'));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const free = this.takeIdle();
    if (free) return Promise.resolve(this.lease(free));
    return new Promise<ShellLease>((resolve, reject) => {
      const w: Waiter = {
        at: Date.now(),
        grant: (l) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(l);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        if (this.waiters.length === 0) this.openAbort?.abort();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
      this.pump();
    });
  }

  /** Close every shell (idle ones gracefully). */
  closeAll(): void {
    for (const s of this.shells) s.end();
  }

  private fallback(reason: string): ShellLease {
    this.fallbacks++;
    return { fallback: reason };
  }

  private takeIdle(): PersistentShell | undefined {
    for (const s of this.idle) {
      this.idle.delete(s);
      if (!s.closed) return s;
    }
    return undefined;
  }

  private lease(shell: PersistentShell): ShellLease {
    let done = false;
    return {
      shell,
      release: () => {
        if (done) return;
        done = true;
        if (shell.closed) return; // a protocol failure is counted by its close handler
        this.idle.add(shell);
        this.lastFreedAt = Date.now();
        this.pump();
      },
    };
  }

  private noteProtocolFailure(shell: PersistentShell): void {
    const now = Date.now();
    this.protocolFailures = this.protocolFailures.filter(
      (t) => now - t < PROTOCOL_FAILURE_WINDOW_MS,
    );
    this.protocolFailures.push(now);
    const n = this.protocolFailures.length;
    if (n >= MAX_PROTOCOL_FAILURES) {
      this.disable(`persistent shell failed ${n} times: ${shell.deathReason}`);
    }
  }

  private disable(reason: string): void {
    this.disabledUntil = Date.now() + this.opts.cooldownMs;
    this.disabledReason = reason;
    this.protocolFailures = [];
    for (const w of this.waiters.splice(0)) w.grant(this.fallback(reason));
  }

  private pump(): void {
    while (this.waiters.length) {
      const s = this.takeIdle();
      if (!s) break;
      this.waiters.shift()!.grant(this.lease(s));
    }
    if (this.waiters.length === 0 || this.opening > 0) return;
    if (this.shells.length >= this.opts.max) return;
    if (this.shells.length === 0) {
      this.openOne();
      return;
    }
    const since = Math.max(this.waiters[0]!.at, this.lastFreedAt);
    const wait = since + this.opts.spawnDelayMs - Date.now();
    if (wait <= 0) {
      this.openOne();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      this.timer.unref?.();
    }
  }

  /** `kill -KILL -<pid>` over a short exec channel (within the channel bound), fire-and-forget. */
  private reap(client: Client, pid: number): void {
    if (this.conn.client !== client) return;
    this.reaps++;
    const cmd = posixSh(sh`kill -KILL -${intArg(pid)}`).text;
    void this.conn.channels.acquire(AbortSignal.timeout(5000)).then(
      (release) => {
        try {
          client.exec(cmd, (err, ch) => {
            if (err) {
              release();
              return;
            }
            const t = setTimeout(() => ch.close(), 5000);
            t.unref();
            ch.on('error', () => {});
            ch.once('close', () => {
              clearTimeout(t);
              release();
            });
            ch.resume();
            ch.stderr.resume();
            ch.end();
          });
        } catch {
          release(); // not connected any more
        }
      },
      () => {}, // no slot within 5 s: give up, the session ends with its command
    );
  }

  private openOne(): void {
    const client = this.client;
    if (!client) return;
    this.opening++;
    const ac = new AbortController();
    this.openAbort = ac;
    const stillOurs = () => this.client === client && this.conn.client === client;
    void (async () => {
      let release: (() => void) | undefined;
      let shell: PersistentShell | undefined;
      try {
        release = await this.conn.channels.acquire(ac.signal);
        if (!stillOurs()) throw new ShellRunError('closed', 'connection lost');
        if (tracing) trace('shell:open', { hop: this.conn.hop?.alias ?? '' });
        const ch = await openChannel(client);
        if (tracing) trace('shell:channel', { hop: this.conn.hop?.alias ?? '' });
        const rel = release;
        release = undefined; // now owned by the channel
        let channelClosed = false;
        ch.onClose(() => {
          channelClosed = true;
          rel();
        });
        shell = new PersistentShell(ch);
        const sh0 = shell;
        sh0.onClose(() => {
          // Killed (timeout, abort, cap, protocol) but sshd keeps the session: it refuses
          // signals for root logins ("requires privilege separation") and waits for the
          // session's processes. Kill the shell's process group so the session (and our
          // channel slot) ends now, not when the remote command finishes on its own.
          const t = setTimeout(() => {
            if (!channelClosed && sh0.pid !== undefined) this.reap(client, sh0.pid);
          }, REAP_AFTER_MS);
          t.unref();
        });
        await shell.open(this.opts.handshakeTimeoutMs);
        if (!stillOurs()) {
          shell.kill('connection replaced');
          throw new ShellRunError('closed', 'connection lost');
        }
        this.opened++;
        if (tracing) trace('shell:ready', { hop: this.conn.hop?.alias ?? '', n: this.opened });
        this.shells.push(shell);
        const s = shell;
        s.onClose(() => {
          this.shells = this.shells.filter((x) => x !== s);
          this.idle.delete(s);
          if (s.protocolFailure && this.client === client) this.noteProtocolFailure(s);
          this.pump();
        });
        this.idle.add(s);
        this.lastFreedAt = Date.now();
      } catch (e) {
        release?.();
        if (ac.signal.aborted) {
          // nobody is waiting any more (or the connection was replaced): not a failure
        } else if (stillOurs()) {
          this.disable(`persistent shell unavailable: ${(e as Error).message}`);
        } else {
          for (const w of this.waiters.splice(0)) w.grant(this.fallback('connection lost'));
        }
      } finally {
        if (this.client === client) this.opening--;
        if (this.openAbort === ac) this.openAbort = undefined;
        this.pump();
      }
    })();
  }
}

const REAP_AFTER_MS = 300;

function openChannel(client: Client): Promise<ShellChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(PERSISTENT_SHELL_COMMAND, (err, ch) => {
        if (err) reject(new Error(`could not open a session channel: ${err.message}`));
        else resolve(sshShellChannel(ch));
      });
    } catch (e) {
      reject(e);
    }
  });
}

// ---------------------------------------------------------------------------------------
// runScript: SshHost.run
// ---------------------------------------------------------------------------------------

export interface RunOptions extends ExecOptions {
  /**
   * The script only reads: if its shell dies under it or breaks the protocol (while the
   * connection stays up), it is run again with plain exec within the same deadline.
   */
  idempotent?: boolean;
}

/**
 * Run a POSIX sh script on a persistent shell of the destination (plain exec with
 * `sh -c` when none can be established, or when `stdin` is given). Same contract as
 * runExec: deadline (from the moment the node is connected: see runExec), output cap,
 * `reject`, RemoteExecError kinds; `signal` is always null (a signal death shows as exit
 * status 128+n).
 */
export async function runScript(
  pool: SshPool,
  name: string,
  route: Route,
  cmd: ShellCommand,
  opts: RunOptions = {},
): Promise<ExecResult> {
  const viaExec = (o: ExecOptions): Promise<ExecResult> =>
    runExec(pool, name, route, posixSh(cmd), o);
  if (opts.stdin !== undefined || pool.shellOptions.max < 1) return viaExec(opts);

  let started = Date.now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const cap = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const base = { host: name, route: route.description, command: cmd.text };
  const ac = new AbortController();
  let cancelTimer: (() => void) | undefined;
  const onUserAbort = () =>
    ac.abort(new RemoteExecError({ ...base, kind: 'aborted', reason: 'aborted' }));
  if (opts.signal?.aborted) onUserAbort();
  opts.signal?.addEventListener('abort', onUserAbort, { once: true });
  const signal = ac.signal;
  // The rest of the deadline, for a fallback to exec (our timer still fires first).
  const fallback = () => {
    const o: ExecOptions = {
      ...opts,
      signal,
      timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)) + 1000,
    };
    return viaExec(o);
  };
  try {
    if (signal.aborted) throw signal.reason;
    // The connection first, under its own connect timeout (which starts when its handshake
    // does, not while it waits for a handshake slot): the request's budget starts once the
    // node is connected, so a queue of other nodes' handshakes never times this node out.
    const conn = await pool.ensure(route, name, signal).catch((e: unknown) => {
      throw e instanceof RemoteExecError ? e.withCommand(cmd.text) : e;
    });
    started = Date.now();
    // Lag-aware (busy-clock.ts): time this process is too busy to read the answer is its own.
    cancelTimer = lagAwareTimeout(() => {
      ac.abort(
        new RemoteExecError({
          ...base,
          kind: 'timeout',
          reason: `timed out after ${timeoutMs} ms`,
          durationMs: Date.now() - started,
        }),
      );
    }, timeoutMs);
    const set = pool.shellSet(conn);
    const lease = await set.acquire(signal);
    if (!lease.shell) return await fallback();
    const client = conn.client;
    let res: ShellRunResult;
    const t0 = tracing ? performance.now() : 0;
    if (tracing) trace('req:start', { hop: conn.hop.alias, shell: lease.shell.id });
    try {
      res = await lease.shell.run(cmd, { maxOutputBytes: cap, signal });
      if (tracing)
        trace('req:end', {
          hop: conn.hop.alias,
          shell: lease.shell.id,
          ms: Math.round(performance.now() - t0),
          bytes: res.stdout.length,
        });
    } catch (e) {
      if (!(e instanceof ShellRunError)) throw e;
      const durationMs = Date.now() - started;
      if (e.kind === 'output-limit') {
        throw new RemoteExecError({
          ...base,
          kind: 'output-limit',
          reason: e.reason,
          stderr: e.stderr?.toString('utf8') ?? '',
          durationMs,
        });
      }
      // Let a dropped connection be noticed before deciding what happened.
      await new Promise((r) => setImmediate(r));
      const lost = !conn.client || conn.client !== client;
      if (lost) {
        throw new RemoteExecError({
          ...base,
          kind: 'unreachable',
          reason: `${conn.lastError?.reason ?? 'connection lost'} (while running)`,
          durationMs,
        });
      }
      if (opts.idempotent && !signal.aborted) return await fallback();
      throw new RemoteExecError({
        ...base,
        kind: 'channel',
        reason: e.kind === 'protocol' ? e.reason : `persistent shell died (${e.reason})`,
        durationMs,
      });
    } finally {
      lease.release();
    }
    const stdout = res.stdout.toString('utf8');
    const stderr = res.stderr.toString('utf8');
    const durationMs = Date.now() - started;
    if (res.exitCode !== 0 && opts.reject !== false) {
      throw new RemoteExecError({
        ...base,
        kind: 'exit',
        reason: `command failed with exit code ${res.exitCode}`,
        exitCode: res.exitCode,
        signal: null,
        stdout,
        stderr,
        durationMs,
      });
    }
    return {
      host: name,
      command: cmd.text,
      route: route.description,
      exitCode: res.exitCode,
      signal: null,
      stdout,
      stderr,
      stdoutBuffer: res.stdout,
      durationMs,
      transport: 'shell',
    };
  } finally {
    cancelTimer?.();
    opts.signal?.removeEventListener('abort', onUserAbort);
  }
}
