/**
 * Pure validators for values that end up in SSH destinations, remote commands and local
 * file paths. Shared by the inventory loader and the SSH layer.
 *
 * Two forms per value kind:
 * - `checkX(value)` → `{ ok: true } | { ok: false, reason }`, where `reason` says what is
 *   wrong and what is expected (for messages such as `invalid host "a;b": <reason>`).
 * - `isSafeX(value)` → a plain boolean type guard. It is deliberately boolean: a reason
 *   string (or any object) would be truthy, and `if (isSafeHost(h))` would then let
 *   hostile input through.
 *
 * Nothing here touches the file system or the network.
 */

export type Check = { ok: true } | { ok: false; reason: string };

const OK: Check = { ok: true };
const fail = (reason: string): Check => ({ ok: false, reason });

/** Characters a POSIX shell gives meaning to (besides whitespace and control characters). */
const SHELL_META = new Set([...'`$&|;<>()[]{}*?!~#\'"\\']);

/** `JSON.stringify` shows `\n`, `\u0000` and quotes readably. */
const show = (s: string): string => JSON.stringify(s);

/** A readable rendering of the first character of `s` that `allowed` rejects, or undefined. */
function firstBadChar(s: string, allowed: RegExp): string | undefined {
  for (const ch of s) {
    if (!allowed.test(ch)) return ch;
  }
  return undefined;
}

function describeChar(ch: string): string {
  if (/\s/.test(ch)) return 'whitespace';
  if (/[\u0000-\u001f\u007f]/.test(ch)) return `a control character (${show(ch)})`;
  if (SHELL_META.has(ch)) return `${show(ch)}, a shell metacharacter`;
  return show(ch);
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const WHITESPACE = /\s/;

/** Shared early checks: string, non-empty, bounded, no control characters, no whitespace. */
function basics(value: unknown, maxLength: number, allowSpace = false): Check {
  if (typeof value !== 'string') return fail(`expected a string, got ${typeof value}`);
  if (value.length === 0) return fail('is empty');
  if (value.length > maxLength)
    return fail(`is ${value.length} characters long; at most ${maxLength} allowed`);
  const control = CONTROL.exec(value);
  if (control) return fail(`contains a control character (${show(control[0])})`);
  if (!allowSpace && WHITESPACE.test(value)) return fail('contains whitespace');
  return OK;
}

// ---------------------------------------------------------------------------------------
// IP literals

const IPV4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** Dotted-quad IPv4 literal; no leading zeros (`010.0.0.1` is ambiguous: octal to some parsers). */
export function isIPv4(value: unknown): value is string {
  return typeof value === 'string' && IPV4.test(value);
}

const ipv4 = (s: string): boolean => IPV4.test(s);
const ipv6 = (s: string): boolean => isIPv6(s);
const ipLiteral = (s: string): boolean => ipv4(s) || ipv6(s);

/** IPv6 literal without brackets or zone id (`fd00::1`, `::ffff:10.0.0.1`). */
export function isIPv6(value: unknown): value is string {
  if (typeof value !== 'string' || value.length < 2 || value.length > 45) return false;
  const halves = value.split('::');
  if (halves.length > 2) return false;
  const groupsOf = (part: string): string[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    return groups.every((g) => g.length > 0) ? groups : undefined;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (!head || !tail) return false;
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (HEX_GROUP.test(g)) count += 1;
    else if (i === all.length - 1 && IPV4.test(g)) count += 2;
    else return false;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

export function isIpLiteral(value: unknown): value is string {
  return isIPv4(value) || isIPv6(value);
}

export function checkIpLiteral(value: unknown): Check {
  const b = basics(value, 45);
  if (!b.ok) return b;
  const s = value as string;
  if (ipLiteral(s)) return OK;
  if (s.startsWith('[')) return fail('write IPv6 addresses without brackets');
  if (s.includes('%')) return fail('zone ids (%iface) are not supported');
  if (s.includes('/')) return fail('expected an address, not a CIDR prefix');
  return fail('expected an IPv4 address (10.0.0.1) or an IPv6 address (fd00::1)');
}

// ---------------------------------------------------------------------------------------
// Node names (DNS labels)

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const NODE_NAME_EXPECTED =
  'expected a DNS label: lowercase letters, digits and "-", ≤ 63 characters, starting and ending with a letter or digit';

export function checkNodeName(value: unknown): Check {
  const b = basics(value, 63);
  if (!b.ok) return fail(`${b.reason}; ${NODE_NAME_EXPECTED}`);
  const s = value as string;
  if (DNS_LABEL.test(s)) return OK;
  if (/[A-Z]/.test(s) && DNS_LABEL.test(s.toLowerCase())) {
    return fail(`contains uppercase letters; use ${show(s.toLowerCase())}`);
  }
  const bad = firstBadChar(s, /[-a-z0-9]/);
  if (bad !== undefined) return fail(`contains ${describeChar(bad)}; ${NODE_NAME_EXPECTED}`);
  return fail(`must start and end with a letter or digit; ${NODE_NAME_EXPECTED}`);
}

export function isSafeNodeName(value: unknown): value is string {
  return checkNodeName(value).ok;
}

// ---------------------------------------------------------------------------------------
// Hosts

const HOST_EXPECTED =
  'expected a host name (RFC 1123), an IPv4/IPv6 address, or an ssh alias made of letters, digits, ".", "_" and "-"';
const HOSTNAME_LABEL = /^[A-Za-z0-9](?:[-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;
const ALIAS = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** A strict RFC 1123 host name: dot-separated labels of letters, digits and inner `-`, ≤ 253. */
export function isRfc1123Hostname(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253) return false;
  if (/^[0-9.]+$/.test(value)) return false; // all-numeric: an (invalid) IPv4, not a name
  return value.split('.').every((label) => HOSTNAME_LABEL.test(label));
}

/**
 * An SSH destination: RFC 1123 host name, IPv4/IPv6 literal (IPv6 unbracketed), or an ssh
 * alias of `[A-Za-z0-9._-]`. Never whitespace, control characters, shell metacharacters,
 * a leading `-` (it would be read as an option) or `user@` (the user is a separate field).
 */
export function checkHost(value: unknown): Check {
  const b = basics(value, 253);
  if (!b.ok) return fail(`${b.reason}; ${HOST_EXPECTED}`);
  const s = value as string;
  if (s.startsWith('-'))
    return fail(`starts with "-" (ssh would read it as an option); ${HOST_EXPECTED}`);
  if (ipLiteral(s)) return OK;
  if (s.startsWith('[') && s.endsWith(']') && ipv6(s.slice(1, -1))) {
    return fail('write IPv6 addresses without brackets here');
  }
  const bad = firstBadChar(s, /[A-Za-z0-9._:@-]/);
  if (bad !== undefined) return fail(`contains ${describeChar(bad)}; ${HOST_EXPECTED}`);
  if (s.includes('@')) return fail('contains "@"; give the user in an ssh "user" setting instead');
  if (s.includes(':')) {
    if (/^[^:]+:[0-9]+$/.test(s))
      return fail('contains a port; give the port in an ssh "port" setting instead');
    return fail(`is not a valid IPv6 address; ${HOST_EXPECTED}`);
  }
  if (/^[0-9.]+$/.test(s)) return fail('looks like an IPv4 address but is not a valid one');
  if (!ALIAS.test(s)) return fail(`must start with a letter, digit or "_"; ${HOST_EXPECTED}`);
  return OK;
}

export function isSafeHost(value: unknown): value is string {
  return checkHost(value).ok;
}

// ---------------------------------------------------------------------------------------
// Users

const USER = /^[a-z_][a-z0-9_-]*\$?$/;
const USER_EXPECTED =
  'expected a POSIX user name: lowercase letter or "_" first, then lowercase letters, digits, "_" or "-" (optional trailing "$"), ≤ 32 characters';

export function checkUser(value: unknown): Check {
  const b = basics(value, 32);
  if (!b.ok) return fail(`${b.reason}; ${USER_EXPECTED}`);
  const s = value as string;
  if (USER.test(s)) return OK;
  if (s.startsWith('-')) return fail(`starts with "-"; ${USER_EXPECTED}`);
  if (/[A-Z]/.test(s) && USER.test(s.toLowerCase())) {
    return fail(`contains uppercase letters; user names are lowercase (${show(s.toLowerCase())})`);
  }
  const bad = firstBadChar(s.endsWith('$') ? s.slice(0, -1) : s, /[a-z0-9_-]/);
  if (bad !== undefined) return fail(`contains ${describeChar(bad)}; ${USER_EXPECTED}`);
  return fail(`must start with a lowercase letter or "_"; ${USER_EXPECTED}`);
}

export function isSafeUser(value: unknown): value is string {
  return checkUser(value).ok;
}

// ---------------------------------------------------------------------------------------
// Paths

const REMOTE_PATH_EXPECTED =
  'expected an absolute path made of letters, digits and "._/@+-", without ".." segments';

/**
 * A path on a node, safe to appear in a remote command: absolute, `[A-Za-z0-9._/@+-]` only,
 * no `..` segments, no control characters, ≤ 4096 characters.
 */
export function checkRemotePath(value: unknown): Check {
  const b = basics(value, 4096);
  if (!b.ok) return fail(`${b.reason}; ${REMOTE_PATH_EXPECTED}`);
  const s = value as string;
  if (!s.startsWith('/')) return fail(`is not absolute; ${REMOTE_PATH_EXPECTED}`);
  const bad = firstBadChar(s, /[A-Za-z0-9._/@+-]/);
  if (bad !== undefined) return fail(`contains ${describeChar(bad)}; ${REMOTE_PATH_EXPECTED}`);
  if (s.split('/').includes('..')) return fail(`contains a ".." segment; ${REMOTE_PATH_EXPECTED}`);
  return OK;
}

export function isSafeRemotePath(value: unknown): value is string {
  return checkRemotePath(value).ok;
}

/**
 * A path on this machine (opened with fs calls, never passed through a shell): any
 * characters except control characters (NUL, newline, …); `~` and `~/…` are expanded to
 * the home directory by the loader; `~user/…` is not supported.
 */
export function checkLocalPath(value: unknown): Check {
  const b = basics(value, 4096, true);
  if (!b.ok) return b;
  const s = value as string;
  if (/^~[^/]/.test(s))
    return fail('"~user" paths are not supported; use "~/…" or an absolute path');
  return OK;
}

export function isSafeLocalPath(value: unknown): value is string {
  return checkLocalPath(value).ok;
}

// ---------------------------------------------------------------------------------------
// Ports, jump specs and host:port

export function checkPort(value: unknown): Check {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return fail('expected an integer port number 1..65535');
  }
  if (value < 1 || value > 65535) return fail(`port ${value} is out of range; expected 1..65535`);
  return OK;
}

function parsePortText(text: string): { ok: true; port: number } | { ok: false; reason: string } {
  if (!/^[0-9]{1,5}$/.test(text))
    return { ok: false, reason: `port ${show(text)} is not a number 1..65535` };
  const port = Number(text);
  const c = checkPort(port);
  return c.ok ? { ok: true, port } : c;
}

/** One ProxyJump hop. */
export interface JumpHop {
  user?: string;
  host: string;
  port?: number;
}

export type JumpResult = { ok: true; hop: JumpHop } | { ok: false; reason: string };

/**
 * Splits `host[:port]` / `[v6]:port`. Bare IPv6 with a port is ambiguous and refused.
 */
function splitHostPort(
  text: string,
  portRequired: boolean,
): { ok: true; host: string; port?: number } | { ok: false; reason: string } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { ok: false, reason: 'unterminated "[" around an IPv6 address' };
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return { ok: false, reason: `unexpected ${show(rest)} after "]"` };
      portText = rest.slice(1);
    }
    if (!ipv6(host))
      return { ok: false, reason: `${show(host)} in brackets is not an IPv6 address` };
  } else {
    const colons = text.split(':').length - 1;
    if (colons > 1) {
      return { ok: false, reason: 'IPv6 addresses must be written in brackets: [fd00::1]:22' };
    }
    const i = text.indexOf(':');
    host = i < 0 ? text : text.slice(0, i);
    portText = i < 0 ? undefined : text.slice(i + 1);
    const h = checkHost(host);
    if (!h.ok) return { ok: false, reason: `host ${show(host)} ${h.reason}` };
  }
  if (portText === undefined) {
    if (portRequired) return { ok: false, reason: 'missing ":port"' };
    return { ok: true, host };
  }
  const p = parsePortText(portText);
  if (!p.ok) return p;
  return { ok: true, host, port: p.port };
}

/**
 * Parses one ProxyJump hop: `[user@]host[:port]`, `[user@][v6addr][:port]`, or the
 * `ssh://[user@]host[:port]` URI form. Each part is validated (user, host, port).
 */
export function parseJumpSpec(spec: unknown): JumpResult {
  const b = basics(spec, 300);
  if (!b.ok) return { ok: false, reason: b.reason };
  let s = spec as string;
  if (s.startsWith('ssh://')) s = s.slice('ssh://'.length).replace(/\/$/, '');
  if (s.startsWith('-'))
    return { ok: false, reason: 'starts with "-" (ssh would read it as an option)' };
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
    const u = checkUser(user);
    if (!u.ok) return { ok: false, reason: `user ${show(user)} ${u.reason}` };
  }
  if (s === '') return { ok: false, reason: 'missing host' };
  const hp = splitHostPort(s, false);
  if (!hp.ok) return hp;
  const hop: JumpHop = { host: hp.host };
  if (user !== undefined) hop.user = user;
  if (hp.port !== undefined) hop.port = hp.port;
  return { ok: true, hop };
}

export type JumpListResult =
  | { ok: true; hops: JumpHop[]; specs: string[] }
  | { ok: false; reason: string; index: number };

/**
 * Parses a ProxyJump chain in OpenSSH's comma form (`"a,ops@b:2222"`), first hop first.
 * `"none"` (as in ssh_config) is an empty chain. Whitespace around commas is ignored.
 */
export function parseJumpList(text: string): JumpListResult {
  if (text.trim() === 'none') return { ok: true, hops: [], specs: [] };
  const specs = text.split(',').map((p) => p.trim());
  const hops: JumpHop[] = [];
  for (const [index, spec] of specs.entries()) {
    const r = parseJumpSpec(spec);
    if (!r.ok) return { ok: false, reason: r.reason, index };
    hops.push(r.hop);
  }
  return { ok: true, hops, specs };
}

/** Renders a hop back to `[user@]host[:port]` (IPv6 in brackets when a port follows). */
export function formatJumpHop(hop: JumpHop): string {
  const host = hop.port !== undefined && hop.host.includes(':') ? `[${hop.host}]` : hop.host;
  return `${hop.user !== undefined ? `${hop.user}@` : ''}${host}${hop.port !== undefined ? `:${hop.port}` : ''}`;
}

export type HostPortResult =
  | { ok: true; host: string; port: number }
  | { ok: false; reason: string };

/** Parses a required `host:port` (or `[v6]:port`) such as a hubble-relay address. */
export function parseHostPort(text: unknown): HostPortResult {
  const b = basics(text, 300);
  if (!b.ok) return { ok: false, reason: b.reason };
  const r = splitHostPort(text as string, true);
  if (!r.ok) return r;
  return { ok: true, host: r.host, port: r.port! };
}
