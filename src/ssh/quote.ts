/**
 * Shell quoting and a command builder that only accepts validated values.
 *
 * Every command k8ops sends to a node is a constant template written in this code base
 * plus arguments that went through one of the validators below and were single-quoted.
 * A plain string cannot be interpolated into `sh\`…\``: the type system only accepts
 * `ShellArg`, and `ShellArg` can only be made by a validating constructor.
 *
 * The validators here are deliberately minimal; src/config/validate.ts (inventory load)
 * applies the same rules earlier so a bad inventory fails at load time with a clear error.
 */

/** A value that was refused before it could reach a shell. */
export class UnsafeValueError extends Error {
  override readonly name = 'UnsafeValueError';
  readonly kind = 'unsafe-value' as const;
  constructor(
    readonly what: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`refused ${what} ${JSON.stringify(value)}: ${reason}`);
  }
}

/**
 * POSIX single-quote quoting: `it's` → `'it'\''s'`. Always quotes (a bare `a=b` first word
 * would be an assignment), so the result is one literal word for any string without NUL.
 */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new UnsafeValueError('shell argument', value, 'contains NUL');
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------
// Validators (minimal; mirrors src/config/validate.ts)
// ---------------------------------------------------------------------------------------

const CONTROL = /[\u0000-\u001f\u007f]/;

/** DNS name, IPv4 literal or IPv6 literal (optionally bracketed); never starts with `-`. */
export function isSafeHost(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  if (value.startsWith('-')) return false;
  if (/^\[?[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?\]?$/.test(value) && value.includes(':')) return true;
  return /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(value) && !value.includes('..');
}

/** POSIX-ish user name. */
export function isSafeUser(value: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(value);
}

/**
 * An absolute remote path without control characters, shell-hostile surprises or `..`
 * components. Spaces and most punctuation are allowed (the value is always quoted);
 * what is refused would make the path ambiguous or escape its directory.
 */
export function isSafeRemotePath(value: string): boolean {
  if (!value.startsWith('/') || value.length > 4096) return false;
  if (CONTROL.test(value)) return false;
  const parts = value.split('/');
  return !parts.some((p) => p === '..' || p === '.');
}

/** A systemd unit name (`name[@instance].type`) or a bare name (systemctl adds `.service`). */
export function isSafeUnitName(value: string): boolean {
  return (
    value.length > 0 &&
    value.length <= 255 &&
    !value.startsWith('-') &&
    /^[A-Za-z0-9:_.\\@-]+$/.test(value) &&
    !value.includes('..')
  );
}

/** TCP port number. */
export function isSafePort(value: number): boolean {
  return Number.isInteger(value) && value > 0 && value < 65536;
}

// ---------------------------------------------------------------------------------------
// Builder
// ---------------------------------------------------------------------------------------

const BRAND: unique symbol = Symbol('ShellArg');

/** A quoted, validated shell word. Only the constructors below make one. */
export interface ShellArg {
  readonly [BRAND]: true;
  /** The quoted word as it appears in the command. */
  readonly quoted: string;
}

function mk(quoted: string): ShellArg {
  return { [BRAND]: true, quoted };
}

export function isShellArg(v: unknown): v is ShellArg {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[BRAND] === true;
}

/** An absolute remote path (validated with isSafeRemotePath). */
export function remotePath(path: string): ShellArg {
  if (!isSafeRemotePath(path)) {
    throw new UnsafeValueError(
      'remote path',
      path,
      'must be absolute, without control characters and without . or .. components',
    );
  }
  return mk(shQuote(path));
}

export function unitName(unit: string): ShellArg {
  if (!isSafeUnitName(unit))
    throw new UnsafeValueError('unit name', unit, 'not a valid systemd unit name');
  return mk(shQuote(unit));
}

export function hostArg(host: string): ShellArg {
  if (!isSafeHost(host)) throw new UnsafeValueError('host', host, 'not a host name or address');
  return mk(shQuote(host));
}

/** A non-negative integer. */
export function intArg(n: number): ShellArg {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UnsafeValueError('integer', String(n), 'not a non-negative integer');
  return mk(String(n));
}

/** A token from a fixed, code-defined alphabet ([A-Za-z0-9_-]), e.g. a nonce. */
export function token(value: string): ShellArg {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(value))
    throw new UnsafeValueError('token', value, 'only [A-Za-z0-9_-] allowed');
  return mk(value);
}

/** A program name (`ip`, `gobgp`) or an absolute path to one; never an option or a path with `..`. */
export function isSafeProgram(value: string): boolean {
  if (value.startsWith('/')) return isSafeRemotePath(value) && /^[A-Za-z0-9_./+-]+$/.test(value);
  return /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/.test(value);
}

/** The program word of a command (validated with isSafeProgram). */
export function program(value: string): ShellArg {
  if (!isSafeProgram(value))
    throw new UnsafeValueError('program', value, 'not a program name or absolute path');
  return mk(shQuote(value));
}

/**
 * One argument of a program, any text without NUL or other control characters except tab:
 * quoted, so it reaches the program as exactly one word whatever it contains.
 */
export function argWord(value: string): ShellArg {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value))
    throw new UnsafeValueError('argument', value, 'contains a control character');
  if (value.length > 4096) throw new UnsafeValueError('argument', value.slice(0, 64), 'too long');
  return mk(shQuote(value));
}

/** `argv` as one command: program(argv[0]) then argWord of each argument. */
export function argvCommand(argv: readonly string[]): ShellCommand {
  if (argv.length === 0) throw new UnsafeValueError('command', '', 'empty argv');
  const [head, ...rest] = argv;
  return { text: [program(head!), ...rest.map(argWord)].map((a) => a.quoted).join(' ') };
}

/** Several words, each already validated, separated by spaces. */
export function words(args: readonly ShellArg[]): ShellArg {
  return mk(args.map((a) => a.quoted).join(' '));
}

/**
 * A whole command as one quoted word (for `sh -c <script>`). The script must itself have
 * been built with `sh`, so it is validated all the way down.
 */
export function script(cmd: ShellCommand): ShellArg {
  return mk(shQuote(cmd.text));
}

/** A command built by `sh`. */
export interface ShellCommand {
  readonly text: string;
}

/**
 * Tagged template: constant text from the code base, interpolations must be ShellArgs.
 * `sh\`stat -c %a -- ${remotePath(p)}\``
 */
export function sh(strings: TemplateStringsArray, ...args: ShellArg[]): ShellCommand {
  let out = strings[0] ?? '';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!isShellArg(a)) throw new TypeError('sh`…`: interpolated value is not a ShellArg');
    out += a.quoted + (strings[i + 1] ?? '');
  }
  return { text: out };
}

/** `sh -c '<script>'`: run a POSIX sh script regardless of the remote login shell. */
export function posixSh(cmd: ShellCommand): ShellCommand {
  return sh`sh -c ${script(cmd)}`;
}
