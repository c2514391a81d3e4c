/**
 * Remote exec over a pooled connection: timeout (channel queue + run, from the moment the
 * node is connected; connecting is bounded by its own connect timeout), bounded
 * output (stdout + stderr together; over the cap the command is killed and the call fails
 * with kind `output-limit` — nothing beyond the cap is buffered), stdin, exit code and signal.
 */
import type { ClientChannel } from 'ssh2';
import { lagAwareTimeout } from '../store/busy-clock.js';
import { RemoteExecError } from './errors.js';
import type { SshPool } from './pool.js';
import type { ShellCommand } from './quote.js';
import type { Route } from './resolve.js';

export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface ExecOptions {
  /**
   * Deadline of the call once its node is connected: waiting for a channel slot and running.
   * Default 30 s. Connecting is bounded by the hop's own connect timeout, which starts when
   * its handshake starts (never while it waits for one of the pool's handshake slots).
   */
  timeoutMs?: number;
  stdin?: string | Buffer;
  /** Cap on stdout + stderr bytes (default 16 MiB). */
  maxOutputBytes?: number;
  signal?: AbortSignal;
  /** false: resolve with the result on a non-zero exit instead of rejecting (execa's `reject`). */
  reject?: boolean;
  /** Told of each chunk of output as it arrives (within the cap), besides the result. */
  onData?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
}

export interface ExecResult {
  host: string;
  command: string;
  route: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutBuffer: Buffer;
  durationMs: number;
  /** How it ran: its own exec channel, or a pooled persistent shell (SshHost.run). */
  transport?: 'exec' | 'shell';
}

export async function runExec(
  pool: SshPool,
  name: string,
  route: Route,
  command: ShellCommand,
  opts: ExecOptions = {},
): Promise<ExecResult> {
  let started = Date.now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const cap = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const cmd = command.text;
  const base = { host: name, route: route.description, command: cmd };
  const ac = new AbortController();
  let cancelTimer: (() => void) | undefined;
  // A RemoteExecError reason (a caller's own deadline, e.g. runScript's) is kept as is.
  const onUserAbort = () => {
    const r: unknown = opts.signal?.reason;
    ac.abort(
      r instanceof RemoteExecError
        ? r
        : new RemoteExecError({ ...base, kind: 'aborted', reason: 'aborted' }),
    );
  };
  if (opts.signal?.aborted) onUserAbort();
  opts.signal?.addEventListener('abort', onUserAbort, { once: true });
  const signal = ac.signal;
  let release: (() => void) | undefined;
  try {
    // Connecting has its own timeout (ConnectTimeout, from the start of this node's own
    // handshake); a wait for one of the pool's handshake slots is other nodes' time, not
    // this call's: the call's deadline starts once its node is connected.
    const conn = await pool.ensure(route, name, signal).catch((e: unknown) => {
      throw e instanceof RemoteExecError ? e.withCommand(cmd) : e;
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
    release = await conn.channels.acquire(signal).catch((e: unknown) => {
      throw e instanceof RemoteExecError
        ? e
        : new RemoteExecError({ ...base, kind: 'aborted', reason: 'aborted' });
    });
    const client = conn.client;
    if (!client) {
      throw new RemoteExecError({
        ...base,
        kind: 'unreachable',
        reason: conn.lastError?.reason ?? 'connection lost',
      });
    }
    const rel = release;
    release = undefined; // now owned by the channel
    return await new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let stream: ClientChannel | undefined;
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let total = 0;
      let exitCode: number | null = null;
      let exitSignal: string | null = null;
      let limitHit = false;

      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const kill = () => {
        if (!stream) return;
        try {
          stream.signal('KILL');
        } catch {
          // not supported: closing the channel is enough
        }
        try {
          stream.close();
        } catch {
          stream.destroy();
        }
      };
      const onAbort = () => {
        kill();
        finish(() => reject(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });

      const onOpen = (e: Error | undefined, s: ClientChannel) => {
        if (e) {
          rel();
          // The transport died before the session was set up (ssh2 then fails the pending
          // open or exec request: "No response from server", "Unable to exec"): that is a
          // lost connection, not a refused channel.
          const lost = !conn.client || conn.client !== client;
          finish(() =>
            reject(
              new RemoteExecError({
                ...base,
                kind: lost ? 'unreachable' : 'channel',
                reason: lost
                  ? `${conn.lastError?.reason ?? 'connection lost'} (while starting the command)`
                  : `could not open a session channel: ${e.message.replace(/^\(SSH\) /, '')}`,
                cause: e,
              }),
            ),
          );
          return;
        }
        stream = s;
        if (settled) {
          kill();
          s.once('close', rel);
          return;
        }
        const onData = (sink: Buffer[]) => (chunk: Buffer) => {
          const name = sink === out ? 'stdout' : 'stderr';
          if (limitHit) return;
          total += chunk.length;
          if (total > cap) {
            limitHit = true;
            const keep = chunk.length - (total - cap);
            if (keep > 0) sink.push(chunk.subarray(0, keep));
            if (keep > 0) tellData(chunk.subarray(0, keep), name);
            kill();
            finish(() =>
              reject(
                new RemoteExecError({
                  ...base,
                  kind: 'output-limit',
                  reason: `output exceeded ${cap} bytes; command killed`,
                  stderr: Buffer.concat(err).toString('utf8'),
                  durationMs: Date.now() - started,
                }),
              ),
            );
            return;
          }
          sink.push(chunk);
          tellData(chunk, name);
        };
        const tellData = (chunk: Buffer, name: 'stdout' | 'stderr') => {
          try {
            opts.onData?.(chunk, name);
          } catch {
            // an observer never breaks the command
          }
        };
        s.on('data', onData(out));
        s.stderr.on('data', onData(err));
        s.on('exit', (code: number | null, sig?: string) => {
          if (typeof code === 'number') exitCode = code;
          if (sig) exitSignal = sig.startsWith('SIG') ? sig : `SIG${sig}`;
        });
        s.on('error', () => {});
        s.once('close', () => {
          rel();
          if (settled) return;
          const stdoutBuffer = Buffer.concat(out);
          const stdout = stdoutBuffer.toString('utf8');
          const stderr = Buffer.concat(err).toString('utf8');
          const durationMs = Date.now() - started;
          if (exitCode === null && exitSignal === null) {
            const lost = !conn.client || conn.client !== client;
            finish(() =>
              reject(
                new RemoteExecError({
                  ...base,
                  kind: 'unreachable',
                  reason: lost
                    ? `${conn.lastError?.reason ?? 'connection lost'} (while running)`
                    : 'channel closed without an exit status',
                  stdout,
                  stderr,
                  durationMs,
                }),
              ),
            );
            return;
          }
          const result: ExecResult = {
            host: name,
            command: cmd,
            route: route.description,
            exitCode,
            signal: exitSignal,
            stdout,
            stderr,
            stdoutBuffer,
            durationMs,
            transport: 'exec',
          };
          if ((exitCode !== 0 || exitSignal) && opts.reject !== false) {
            finish(() =>
              reject(
                new RemoteExecError({
                  ...base,
                  kind: exitSignal ? 'signal' : 'exit',
                  reason: exitSignal
                    ? `command was killed with ${exitSignal}`
                    : `command failed with exit code ${exitCode}`,
                  exitCode,
                  signal: exitSignal,
                  stdout,
                  stderr,
                  durationMs,
                }),
              ),
            );
            return;
          }
          finish(() => resolve(result));
        });
        if (opts.stdin !== undefined) s.end(opts.stdin);
        else s.end();
      };
      try {
        client.exec(cmd, onOpen);
      } catch (e) {
        // "Not connected": the transport went away between ensure() and here
        rel();
        finish(() =>
          reject(
            new RemoteExecError({
              ...base,
              kind: 'unreachable',
              reason: `connection lost (${(e as Error).message})`,
              cause: e,
            }),
          ),
        );
      }
    });
  } finally {
    cancelTimer?.();
    opts.signal?.removeEventListener('abort', onUserAbort);
    release?.();
  }
}
