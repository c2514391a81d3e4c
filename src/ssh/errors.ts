/**
 * One rich error type for everything that goes wrong talking to a node, shaped like
 * execa's: it says what ran, where, through which route, and what came back.
 */
import type { SourceError } from '../store/types.js';

export type SshErrorKind =
  /** connect/handshake or command deadline passed */
  | 'timeout'
  /** TCP refused/unreachable, a jump hop could not open the forward, connection dropped */
  | 'unreachable'
  | 'hostkey-unknown'
  | 'hostkey-changed'
  | 'hostkey-revoked'
  | 'auth'
  /** the remote command exited non-zero */
  | 'exit'
  /** the remote command was killed by a signal */
  | 'signal'
  | 'output-limit'
  /** bad or unsafe configuration (host, user, jump spec, ssh -G failure) */
  | 'config'
  /** channel could not be opened (MaxSessions, administratively prohibited, …) */
  | 'channel'
  | 'aborted';

export interface RemoteExecErrorInit {
  kind: SshErrorKind;
  /** Destination as named by the caller (inventory host / ssh alias). */
  host: string;
  /** Short reason, one line. */
  reason: string;
  command?: string;
  exitCode?: number | null;
  signal?: string | null;
  stdout?: string;
  stderr?: string;
  /** Route, e.g. `via bastion` or `direct`. */
  route?: string;
  /** The hop that failed when it is not the destination (alias). */
  hop?: string;
  durationMs?: number;
  /** Host key details (hostkey-*). */
  fingerprint?: string;
  keyType?: string;
  knownHostsFile?: string;
  knownHostsLine?: number;
  /** What to do about it (shown after the message). */
  hint?: string;
  cause?: unknown;
}

const TAIL = 2000;

function tail(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  return s.length > TAIL ? `…${s.slice(-TAIL)}` : s;
}

export class RemoteExecError extends Error {
  override readonly name = 'RemoteExecError';
  readonly kind: SshErrorKind;
  readonly host: string;
  readonly command?: string;
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  /** Last ~2000 characters of stdout/stderr. */
  readonly stdout?: string;
  readonly stderr?: string;
  readonly route?: string;
  readonly hop?: string;
  readonly durationMs?: number;
  readonly fingerprint?: string;
  readonly keyType?: string;
  readonly knownHostsFile?: string;
  readonly knownHostsLine?: number;
  readonly hint?: string;
  /** The message without stderr (execa's `shortMessage`). */
  readonly shortMessage: string;
  readonly reason: string;

  constructor(init: RemoteExecErrorInit) {
    const where = `ssh ${init.host}${init.route && init.route !== 'direct' ? ` (${init.route})` : ''}`;
    const hop = init.hop && init.hop !== init.host ? ` [at hop ${init.hop}]` : '';
    const what = init.command !== undefined ? `: ${truncateCmd(init.command)}` : '';
    const shortMessage = `${where}${hop}: ${init.reason}${what}`;
    const st = tail(init.stderr);
    const parts = [shortMessage];
    if (init.hint) parts.push(init.hint);
    if (st?.trim()) parts.push(st.trimEnd());
    super(parts.join('\n'), init.cause !== undefined ? { cause: init.cause } : undefined);
    this.kind = init.kind;
    this.host = init.host;
    this.reason = init.reason;
    this.shortMessage = shortMessage;
    if (init.command !== undefined) this.command = init.command;
    if (init.exitCode !== undefined) this.exitCode = init.exitCode;
    if (init.signal !== undefined) this.signal = init.signal;
    const so = tail(init.stdout);
    if (so !== undefined) this.stdout = so;
    if (st !== undefined) this.stderr = st;
    if (init.route !== undefined) this.route = init.route;
    if (init.hop !== undefined) this.hop = init.hop;
    if (init.durationMs !== undefined) this.durationMs = init.durationMs;
    if (init.fingerprint !== undefined) this.fingerprint = init.fingerprint;
    if (init.keyType !== undefined) this.keyType = init.keyType;
    if (init.knownHostsFile !== undefined) this.knownHostsFile = init.knownHostsFile;
    if (init.knownHostsLine !== undefined) this.knownHostsLine = init.knownHostsLine;
    if (init.hint !== undefined) this.hint = init.hint;
  }

  /** Same error, re-targeted at a command (connection errors surface through exec). */
  withCommand(command: string): RemoteExecError {
    if (this.command !== undefined) return this;
    return new RemoteExecError({ ...this.toInit(), command });
  }

  toInit(): RemoteExecErrorInit {
    const init: RemoteExecErrorInit = { kind: this.kind, host: this.host, reason: this.reason };
    for (const k of [
      'command',
      'exitCode',
      'signal',
      'stdout',
      'stderr',
      'route',
      'hop',
      'durationMs',
      'fingerprint',
      'keyType',
      'knownHostsFile',
      'knownHostsLine',
      'hint',
    ] as const) {
      const v = this[k];
      if (v !== undefined) (init as unknown as Record<string, unknown>)[k] = v;
    }
    if (this.cause !== undefined) init.cause = this.cause;
    return init;
  }

  /** For the store: `{kind, message}` with one line. Host-key kinds map to `hostkey`. */
  toSourceError(): SourceError {
    const kind = this.kind.startsWith('hostkey') ? 'hostkey' : this.kind;
    return { kind, message: this.shortMessage };
  }
}

function truncateCmd(cmd: string): string {
  const one = cmd.replace(/\s+/g, ' ');
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}

export function isRemoteExecError(e: unknown): e is RemoteExecError {
  return e instanceof RemoteExecError;
}
