/**
 * The SSH connection pool: one ssh2 Client per hop (keyed by the chain of
 * `user@host:port` that reaches it), shared by every destination behind it.
 *
 * - Jump chains of any length: hop i+1 is connected over `forwardOut` on hop i.
 * - Every hop is verified against known_hosts (connection.ts has no path without a verifier).
 * - Bounded concurrent handshakes (default 16) and session channels per connection
 *   (default 8, below OpenSSH's MaxSessions 10); the rest queue.
 * - Persistent shells (shell.ts): up to `shellsPerConnection` long-lived `sh` sessions per
 *   connection run SshHost.run scripts without a new SSH session each; plain exec stays
 *   for streaming, stdin and long commands.
 * - A dropped connection marks its destinations `down` (listeners are told at once); the
 *   next use reconnects. A failed connect backs off exponentially (capped); calls during
 *   the backoff fail fast with the last error, so one dead node never delays the others.
 */
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { busyMs, lagAwareTimeout } from '../store/busy-clock.js';
import { trace } from '../store/trace.js';
import {
  type AuthMethodUsed,
  connectHop,
  type HopConnection,
  type HostKeyStatus,
} from './connection.js';
import { RemoteExecError } from './errors.js';
import { type ExecOptions, type ExecResult, runExec } from './exec.js';
import { forwardTcp, forwardUnix, type LocalForward } from './forward.js';
import type { ShellCommand } from './quote.js';
import {
  type Route,
  type RouteHop,
  type RouteRequest,
  resolveRoute,
  SshResolver,
} from './resolve.js';
import { Semaphore } from './semaphore.js';
import {
  DEFAULT_SHELL_COOLDOWN_MS,
  DEFAULT_SHELL_SPAWN_DELAY_MS,
  type RunOptions,
  runScript,
  ShellSet,
  type ShellSetOptions,
} from './shell.js';

export interface PoolOptions {
  /** Shared resolver (cache per run); default a new one using `sshConfigFile`. */
  resolver?: SshResolver;
  /** `ssh -F` file. */
  sshConfigFile?: string;
  /** Record unknown host keys (`--accept-new`). */
  acceptNew?: boolean;
  /** Concurrent handshakes across the pool (default 16). */
  maxHandshakes?: number;
  /** Concurrent session channels per connection (default 8; OpenSSH MaxSessions is 10). */
  maxChannelsPerConnection?: number;
  /** Override ServerAliveInterval/CountMax. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Reconnect backoff after a failed connect: initial, doubled per failure, capped. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** ssh-agent socket (default SSH_AUTH_SOCK); 'none' disables the agent. */
  agentSocket?: string;
  /**
   * Persistent shells per connection for SshHost.run (default 2; 0 = always plain exec).
   * Each holds one channel slot; capped at maxChannelsPerConnection − 1.
   */
  shellsPerConnection?: number;
  /** Open another shell when a run() has waited this long for a busy one (default 200 ms). */
  shellSpawnDelayMs?: number;
  /** Use exec only for this long after a shell could not be established (default 60 s). */
  shellCooldownMs?: number;
  /**
   * Open one brief `exit 0` session on each jump host (and on a destination used for local
   * forwards) after connecting (default true). OpenSSH's sshd turns on TCP_NODELAY for a
   * connection only when its first session starts; a connection that only relays
   * (ProxyJump, forwards) keeps Nagle's algorithm, and with delayed ACKs every reply
   * relayed in more than one write stalls ~40 ms. false: never run anything on jump hosts.
   */
  primeJumpHosts?: boolean;
}

export type HostState = 'idle' | 'connecting' | 'ready' | 'down';

export interface HostStateEvent {
  /** Destination name (as registered with `pool.host(name, …)`). */
  host: string;
  state: HostState;
  error?: RemoteExecError;
  at: number;
}

export type HostStateListener = (ev: HostStateEvent) => void;

/** One connected (or connecting) hop. Internal, exposed read-only through SshHost. */
export class PooledConnection {
  state: HostState = 'idle';
  client?: Client;
  info?: HopConnection;
  connecting?: Promise<void>;
  failures = 0;
  retryAt = 0;
  lastError?: RemoteExecError;
  /** Destination names that end at this hop. */
  readonly names = new Set<string>();
  readonly channels: Semaphore;
  connectedAt?: number;
  /** Persistent shells on this connection (created on first SshHost.run). */
  shells?: ShellSet;
  /** The client the TCP_NODELAY priming session was sent on (PoolOptions.primeJumpHosts). */
  primedClient?: Client;

  constructor(
    readonly key: string,
    readonly hop: RouteHop,
    readonly parent: PooledConnection | undefined,
    maxChannels: number,
  ) {
    this.channels = new Semaphore(maxChannels);
  }
}

function abortError(host: string, route: Route | undefined, signal: AbortSignal): RemoteExecError {
  const r = signal.reason;
  if (r instanceof RemoteExecError) return r;
  return new RemoteExecError({
    kind: 'aborted',
    host,
    route: route?.description ?? 'direct',
    reason: 'aborted',
  });
}

/** Wait for `p` unless `signal` aborts first. */
function raceAbort<T>(
  p: Promise<T>,
  signal: AbortSignal | undefined,
  mkErr: () => Error,
): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(mkErr());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(mkErr());
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

export class SshPool {
  readonly resolver: SshResolver;
  private readonly conns = new Map<string, PooledConnection>();
  private readonly hosts = new Map<string, SshHost>();
  private readonly listeners = new Set<HostStateListener>();
  readonly handshakes: Semaphore;
  private closed = false;
  readonly opts: Required<
    Pick<
      PoolOptions,
      | 'acceptNew'
      | 'maxHandshakes'
      | 'maxChannelsPerConnection'
      | 'backoffInitialMs'
      | 'backoffMaxMs'
    >
  > &
    PoolOptions;

  constructor(opts: PoolOptions = {}) {
    this.opts = {
      acceptNew: false,
      maxHandshakes: 16,
      maxChannelsPerConnection: 8,
      backoffInitialMs: 1000,
      backoffMaxMs: 30_000,
      ...opts,
    };
    const ropts = opts.sshConfigFile ? { configFile: opts.sshConfigFile } : {};
    this.resolver = opts.resolver ?? new SshResolver(ropts);
    this.handshakes = new Semaphore(this.opts.maxHandshakes);
  }

  /**
   * Make sshd enable TCP_NODELAY on a relaying connection (see PoolOptions.primeJumpHosts):
   * one `exit 0` session, fire-and-forget, at most once per connection, within the channel
   * bound, closed after 5 s at the latest. Failure (sessions refused) changes nothing.
   */
  primeNoDelay(conn: PooledConnection): void {
    if (this.opts.primeJumpHosts === false || this.closed) return;
    const client = conn.client;
    if (!client || conn.primedClient === client) return;
    conn.primedClient = client;
    void conn.channels.acquire().then((release) => {
      if (conn.client !== client) {
        release();
        return;
      }
      try {
        client.exec('exit 0', (err, ch) => {
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
        release(); // "Not connected"
      }
    });
  }

  /** Persistent-shell settings (max already capped below the channel bound). */
  get shellOptions(): Omit<ShellSetOptions, 'handshakeTimeoutMs'> {
    const wanted = this.opts.shellsPerConnection ?? 2;
    return {
      max: Math.max(0, Math.min(wanted, this.opts.maxChannelsPerConnection - 1)),
      spawnDelayMs: this.opts.shellSpawnDelayMs ?? DEFAULT_SHELL_SPAWN_DELAY_MS,
      cooldownMs: this.opts.shellCooldownMs ?? DEFAULT_SHELL_COOLDOWN_MS,
    };
  }

  /** The persistent shells of a connection (created on first use). */
  shellSet(conn: PooledConnection): ShellSet {
    if (!conn.shells) {
      conn.shells = new ShellSet(conn, {
        ...this.shellOptions,
        handshakeTimeoutMs: Math.max(1000, conn.hop.connectTimeoutMs),
      });
    }
    return conn.shells;
  }

  /** A handle for a destination; the same name returns the same handle. */
  host(name: string, req: RouteRequest = { host: name }): SshHost {
    let h = this.hosts.get(name);
    if (!h) {
      h = new SshHost(this, name, req);
      this.hosts.set(name, h);
    }
    return h;
  }

  /** Subscribe to destination state changes; returns the unsubscribe function. */
  onStateChange(fn: HostStateListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  connection(key: string): PooledConnection | undefined {
    return this.conns.get(key);
  }

  /** Open connections (for stats/tests). */
  connections(): ReadonlyArray<Readonly<PooledConnection>> {
    return [...this.conns.values()];
  }

  private emit(conn: PooledConnection, state: HostState, error?: RemoteExecError): void {
    for (const host of conn.names) {
      const ev: HostStateEvent = { host, state, at: Date.now() };
      if (error) ev.error = error;
      for (const l of this.listeners) {
        try {
          l(ev);
        } catch {
          // a listener's bug must not break the pool
        }
      }
    }
  }

  /** Connect every hop of `route` (sharing existing ones); resolves with the destination. */
  async ensure(route: Route, name: string, signal?: AbortSignal): Promise<PooledConnection> {
    if (this.closed) {
      throw new RemoteExecError({ kind: 'aborted', host: name, reason: 'connection pool closed' });
    }
    let parent: PooledConnection | undefined;
    for (let i = 0; i < route.hops.length; i++) {
      const hop = route.hops[i]!;
      let conn = this.conns.get(hop.key);
      if (!conn) {
        conn = new PooledConnection(hop.key, hop, parent, this.opts.maxChannelsPerConnection);
        this.conns.set(hop.key, conn);
      }
      if (i === route.hops.length - 1) conn.names.add(name);
      await this.ensureOne(conn, route, i, name, signal);
      if (i < route.hops.length - 1) this.primeNoDelay(conn);
      parent = conn;
    }
    return parent!;
  }

  private async ensureOne(
    conn: PooledConnection,
    route: Route,
    index: number,
    name: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const mkAbort = () => abortError(name, route, signal!);
    if (conn.state === 'ready' && conn.client) return;
    if (!conn.connecting) {
      if (conn.state === 'down' && Date.now() < conn.retryAt && conn.lastError) {
        const wait = Math.ceil((conn.retryAt - Date.now()) / 100) / 10;
        throw new RemoteExecError({
          ...conn.lastError.toInit(),
          host: name,
          route: route.description,
          hint: [
            conn.lastError.hint,
            `next attempt in ${wait}s (backoff after ${conn.failures} failure(s))`,
          ]
            .filter(Boolean)
            .join(' '),
        });
      }
      conn.connecting = this.connectOne(conn, route, index).finally(() => {
        conn.connecting = undefined;
      });
    }
    try {
      await raceAbort(conn.connecting, signal, mkAbort);
    } catch (e) {
      if (e instanceof RemoteExecError && e.host !== name) {
        // A shared hop failed for another destination: report it under this name.
        throw new RemoteExecError({ ...e.toInit(), host: name, route: route.description });
      }
      throw e;
    }
  }

  private async connectOne(conn: PooledConnection, route: Route, index: number): Promise<void> {
    const prevState = conn.state;
    conn.state = 'connecting';
    if (prevState !== 'connecting') this.emit(conn, 'connecting');
    trace('hop:queue', { hop: conn.hop.alias });
    const release = await this.handshakes.acquire();
    trace('hop:slot', { hop: conn.hop.alias });
    try {
      const hop = conn.hop;
      let deadline = Date.now() + hop.connectTimeoutMs;
      let sock: Duplex | undefined;
      if (conn.parent) {
        const busy0 = busyMs();
        sock = await this.forwardForHop(conn.parent, route, index, deadline);
        trace('hop:forward', { hop: hop.alias });
        // What this process spent too busy to read the forward's answer is not the hop's.
        deadline += Math.min(3 * hop.connectTimeoutMs, busyMs() - busy0);
      }
      const hopOpts: Parameters<typeof connectHop>[0] = {
        route,
        index,
        acceptNew: this.opts.acceptNew,
        deadline,
      };
      if (sock) hopOpts.sock = sock;
      if (this.opts.agentSocket) hopOpts.agentSocket = this.opts.agentSocket;
      if (this.opts.keepaliveIntervalMs)
        hopOpts.keepaliveIntervalMs = this.opts.keepaliveIntervalMs;
      if (this.opts.keepaliveCountMax) hopOpts.keepaliveCountMax = this.opts.keepaliveCountMax;
      const info = await connectHop(hopOpts);
      if (this.closed) {
        info.client.end();
        throw new RemoteExecError({
          kind: 'aborted',
          host: route.name,
          reason: 'connection pool closed',
        });
      }
      this.adopt(conn, info, route);
      trace('hop:ready', { hop: hop.alias });
    } catch (e) {
      const err =
        e instanceof RemoteExecError
          ? e
          : new RemoteExecError({
              kind: 'unreachable',
              host: route.name,
              route: route.description,
              hop: conn.hop.alias,
              reason: (e as Error).message,
              cause: e,
            });
      trace('hop:fail', { hop: conn.hop.alias, kind: err.kind });
      conn.state = 'down';
      conn.failures++;
      conn.lastError = err;
      const backoff = Math.min(
        this.opts.backoffMaxMs,
        this.opts.backoffInitialMs * 2 ** (conn.failures - 1),
      );
      conn.retryAt = Date.now() + backoff;
      this.emit(conn, 'down', err);
      throw err;
    } finally {
      release();
    }
  }

  private adopt(conn: PooledConnection, info: HopConnection, route: Route): void {
    const client = info.client;
    conn.client = client;
    conn.info = info;
    conn.state = 'ready';
    conn.failures = 0;
    conn.retryAt = 0;
    conn.connectedAt = Date.now();
    delete conn.lastError;
    let lastErr: Error | undefined;
    client.on('error', (e: Error) => {
      lastErr = e;
    });
    const down = () => {
      if (conn.client !== client) return;
      delete conn.client;
      delete conn.info;
      if (this.closed) {
        conn.state = 'idle';
        return;
      }
      conn.state = 'down';
      const keepalive = lastErr && /keepalive/i.test(lastErr.message);
      const err = new RemoteExecError({
        kind: keepalive ? 'timeout' : 'unreachable',
        host: route.name,
        route: route.description,
        hop: conn.hop.alias,
        reason: keepalive
          ? 'connection lost: keepalive timeout (no answer to ServerAlive probes)'
          : `connection lost${lastErr ? `: ${lastErr.message}` : ''}`,
      });
      conn.lastError = err;
      // Reconnect on next use straight away; backoff starts if that fails.
      conn.retryAt = 0;
      this.emit(conn, 'down', err);
    };
    // ssh2 treats EOF on its transport as "ended" but neither closes nor keeps probing
    // (keepalive stops): with a forwarded stream as transport, the hop's EOF would leave a
    // zombie connection. An SSH transport never half-closes: EOF means it is gone.
    client.on('end', () => {
      down();
      if (info.sock) info.sock.destroy();
      else client.destroy();
    });
    client.on('close', down);
    this.emit(conn, 'ready');
  }

  private forwardForHop(
    parent: PooledConnection,
    route: Route,
    index: number,
    deadline: number,
  ): Promise<ClientChannel> {
    const hop = route.hops[index]!;
    const client = parent.client;
    const base = { host: route.name, route: route.description, hop: hop.alias };
    if (!client) {
      return Promise.reject(
        new RemoteExecError({
          ...base,
          kind: 'unreachable',
          reason: `hop ${parent.hop.alias} is not connected`,
        }),
      );
    }
    return new Promise<ClientChannel>((resolve, reject) => {
      let done = false;
      const cancelTimer = lagAwareTimeout(
        () => {
          done = true;
          reject(
            new RemoteExecError({
              ...base,
              kind: 'timeout',
              reason: `connect timed out: ${parent.hop.alias} did not reach ${hop.hostname}:${hop.port} within ${hop.connectTimeoutMs} ms`,
            }),
          );
        },
        Math.max(1, deadline - Date.now()),
      );
      try {
        client.forwardOut('127.0.0.1', 0, hop.hostname, hop.port, (err, stream) => {
          cancelTimer();
          if (done) {
            stream?.destroy();
            return;
          }
          done = true;
          if (err) {
            reject(
              new RemoteExecError({
                ...base,
                kind: 'unreachable',
                reason: `${parent.hop.alias} could not connect to ${hop.hostname}:${hop.port}: ${err.message.replace(/^\(SSH\) /, '')}`,
                cause: err,
              }),
            );
            return;
          }
          resolve(stream);
        });
      } catch (e) {
        cancelTimer();
        done = true;
        reject(
          new RemoteExecError({
            ...base,
            kind: 'unreachable',
            reason: (e as Error).message,
            cause: e,
          }),
        );
      }
    });
  }

  /** Close every connection (innermost first). */
  async close(): Promise<void> {
    this.closed = true;
    const conns = [...this.conns.values()].sort(
      (a, b) => b.key.split(' > ').length - a.key.split(' > ').length,
    );
    for (const c of conns) {
      c.shells?.closeAll();
      const client = c.client;
      if (!client) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          client.destroy();
          resolve();
        }, 1000);
        client.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        client.end();
      });
    }
    this.conns.clear();
  }
}

/** A destination: resolves its route once, connects on use, runs commands and forwards. */
export class SshHost {
  private routePromise?: Promise<Route>;
  private destKey?: string;
  constructor(
    readonly pool: SshPool,
    readonly name: string,
    readonly request: RouteRequest,
  ) {}

  /** The resolved route (cached; a failed resolution is retried on the next call). */
  route(): Promise<Route> {
    if (!this.routePromise) {
      const p = resolveRoute(this.pool.resolver, this.request).then((r) => {
        this.destKey = r.hops[r.hops.length - 1]!.key;
        return r;
      });
      this.routePromise = p;
      p.catch(() => {
        if (this.routePromise === p) this.routePromise = undefined;
      });
    }
    return this.routePromise;
  }

  /** Connect (or reuse) every hop; resolves with the destination connection. */
  async connect(signal?: AbortSignal): Promise<PooledConnection> {
    const route = await this.route();
    return this.pool.ensure(route, this.name, signal);
  }

  private destConn(): PooledConnection | undefined {
    return this.destKey ? this.pool.connection(this.destKey) : undefined;
  }

  get state(): HostState {
    return this.destConn()?.state ?? 'idle';
  }

  get lastError(): RemoteExecError | undefined {
    return this.destConn()?.lastError;
  }

  get authMethod(): AuthMethodUsed | undefined {
    return this.destConn()?.info?.authMethod;
  }

  get hostKeyStatus(): HostKeyStatus | undefined {
    return this.destConn()?.info?.hostKey;
  }

  /** Run a command (built with `sh`); see ExecOptions for timeout and output bounds. */
  async exec(command: ShellCommand, opts: ExecOptions = {}): Promise<ExecResult> {
    const route = await this.route().catch((e: unknown) => {
      throw e instanceof RemoteExecError ? e.withCommand(command.text) : e;
    });
    return runExec(this.pool, this.name, route, command, opts);
  }

  /**
   * Run a POSIX sh script (built with `sh`) on one of the connection's persistent shells:
   * no new SSH session per call. Same options, result and errors as exec (its `signal` is
   * always null); falls back to `sh -c` over exec when no shell can be established or when
   * `stdin` is given. Scripts must not leave background processes writing to stdout/stderr.
   */
  async run(script: ShellCommand, opts: RunOptions = {}): Promise<ExecResult> {
    const route = await this.route().catch((e: unknown) => {
      throw e instanceof RemoteExecError ? e.withCommand(script.text) : e;
    });
    return runScript(this.pool, this.name, route, script, opts);
  }

  /** Local TCP listener on 127.0.0.1:0 forwarding to `remoteHost:remotePort` as seen from the node. */
  async forwardTcp(remoteHost: string, remotePort: number): Promise<LocalForward> {
    return forwardTcp(this.pool, this.name, await this.route(), remoteHost, remotePort);
  }

  /** Local TCP listener on 127.0.0.1:0 forwarding to a unix socket on the node. */
  async forwardUnix(socketPath: string): Promise<LocalForward> {
    return forwardUnix(this.pool, this.name, await this.route(), socketPath);
  }
}
