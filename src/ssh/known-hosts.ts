/**
 * known_hosts: a pure parser and matcher with OpenSSH semantics, plus the one writer
 * (`appendKnownHost`, what `StrictHostKeyChecking=accept-new` does).
 *
 * Line format (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 *   [@cert-authority|@revoked] patterns keytype base64 [comment]
 * - patterns: comma-separated, `*`/`?` wildcards, `!` negation, `[host]:port` for port ≠ 22;
 * - or one hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname } from 'node:path';

export type KnownHostMarker = 'revoked' | 'cert-authority';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number. */
  line: number;
  marker?: KnownHostMarker;
  /** Plain patterns (lower-cased), absent for hashed entries. */
  patterns?: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  keyBase64: string;
  key: Buffer;
}

export interface KnownHostsParseError {
  file: string;
  line: number;
  message: string;
}

export interface ParsedKnownHosts {
  entries: KnownHostEntry[];
  errors: KnownHostsParseError[];
}

/** Parse one known_hosts file's text. Never throws: bad lines become `errors`. */
export function parseKnownHosts(text: string, file = '<known_hosts>'): ParsedKnownHosts {
  const entries: KnownHostEntry[] = [];
  const errors: KnownHostsParseError[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = (lines[i] ?? '').replace(/\r$/, '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/[ \t]+/);
    let marker: KnownHostMarker | undefined;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        errors.push({ file, line: lineNo, message: `unknown marker ${m}` });
        continue;
      }
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) {
      errors.push({ file, line: lineNo, message: 'expected: patterns keytype base64-key' });
      continue;
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyBase64)) {
      errors.push({ file, line: lineNo, message: 'key is not base64' });
      continue;
    }
    const key = Buffer.from(keyBase64, 'base64');
    const blobType = keyTypeOfBlob(key);
    if (blobType === undefined || blobType !== keyType) {
      errors.push({
        file,
        line: lineNo,
        message: `key blob type ${blobType ?? '?'} does not match ${keyType}`,
      });
      continue;
    }
    const entry: KnownHostEntry = { file, line: lineNo, keyType, keyBase64, key };
    if (marker) entry.marker = marker;
    if (hosts.startsWith('|')) {
      const m = /^\|1\|([A-Za-z0-9+/]+={0,2})\|([A-Za-z0-9+/]+={0,2})$/.exec(hosts);
      if (!m) {
        errors.push({ file, line: lineNo, message: 'bad hashed host entry' });
        continue;
      }
      const salt = Buffer.from(m[1]!, 'base64');
      const hash = Buffer.from(m[2]!, 'base64');
      if (salt.length !== 20 || hash.length !== 20) {
        errors.push({ file, line: lineNo, message: 'bad hashed host entry (length)' });
        continue;
      }
      entry.hashed = { salt, hash };
    } else {
      entry.patterns = hosts.toLowerCase().split(',').filter(Boolean);
    }
    entries.push(entry);
  }
  return { entries, errors };
}

/** The `string` key type at the start of an SSH public key blob, or undefined. */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || 4 + n > blob.length) return undefined;
  const t = blob.subarray(4, 4 + n).toString('latin1');
  return /^[A-Za-z0-9@._-]+$/.test(t) ? t : undefined;
}

/** OpenSSH's SHA256 fingerprint: `SHA256:` + unpadded base64 of sha256(blob). */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The name known_hosts stores for a host and port: `host` or `[host]:port`. */
export function knownHostName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** OpenSSH match_pattern: `*` any run, `?` one char; whole string. */
export function matchPattern(s: string, pattern: string): boolean {
  // Iterative wildcard match with backtracking on the last `*`.
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    const pc = pattern[pi];
    if (pc === '?' || (pc !== undefined && pc !== '*' && pc === s[si])) {
      si++;
      pi++;
    } else if (pc === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/**
 * OpenSSH match_pattern_list: 1 if a positive pattern matches and no negated one does,
 * -1 if a negated pattern matches, 0 otherwise. Input and patterns compared lower-case.
 */
export function matchPatternList(s: string, patterns: readonly string[]): 1 | 0 | -1 {
  const name = s.toLowerCase();
  let got: 1 | 0 = 0;
  for (const p of patterns) {
    const neg = p.startsWith('!');
    const pat = (neg ? p.slice(1) : p).toLowerCase();
    if (matchPattern(name, pat)) {
      if (neg) return -1;
      got = 1;
    }
  }
  return got;
}

/** Does this entry's host field match `name` (already `host` or `[host]:port`)? */
export function entryMatchesName(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const mac = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return mac.length === entry.hashed.hash.length && timingSafeEqual(mac, entry.hashed.hash);
  }
  return matchPatternList(name, entry.patterns ?? []) === 1;
}

/** Hash a name the way `ssh-keygen -H` / HashKnownHosts does. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const mac = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
}

export type HostKeyCheck =
  | { status: 'match'; file: string; line: number }
  | {
      status: 'mismatch';
      /** Where the expected key of the same type is recorded. */
      file: string;
      line: number;
      expectedFingerprint: string;
    }
  | { status: 'revoked'; file: string; line: number }
  | {
      status: 'unknown';
      /** Key types recorded for this host (a key of another type is still "unknown"). */
      otherTypes: string[];
      /** @cert-authority lines matched this host: not supported, reported. */
      certAuthorityUnsupported: boolean;
    };

/**
 * Check a presented host key against known_hosts entries (OpenSSH check_key_in_hostkeys):
 * revoked beats everything; an exact key match is OK even if another line of the same
 * type disagrees; a different key of the same type is a mismatch; otherwise unknown.
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyCheck {
  const name = knownHostName(host, port);
  const type = keyTypeOfBlob(key);
  const matching = entries.filter((e) => entryMatchesName(e, name));
  const revoked = matching.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', file: revoked.file, line: revoked.line };
  const plain = matching.filter((e) => e.marker === undefined);
  const ok = plain.find((e) => e.key.equals(key));
  if (ok) return { status: 'match', file: ok.file, line: ok.line };
  const changed = plain.find((e) => e.keyType === type);
  if (changed) {
    return {
      status: 'mismatch',
      file: changed.file,
      line: changed.line,
      expectedFingerprint: fingerprintSha256(changed.key),
    };
  }
  return {
    status: 'unknown',
    otherTypes: [...new Set(plain.map((e) => e.keyType))],
    certAuthorityUnsupported: matching.some((e) => e.marker === 'cert-authority'),
  };
}

/** Key types recorded for a host, in file order (to prefer them in the handshake, as ssh does). */
export function knownKeyTypes(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
): string[] {
  const name = knownHostName(host, port);
  const out: string[] = [];
  for (const e of entries) {
    if (e.marker === undefined && !out.includes(e.keyType) && entryMatchesName(e, name)) {
      out.push(e.keyType);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// I/O
// ---------------------------------------------------------------------------------------

export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return `${homedir()}${p.slice(1)}`;
  return p;
}

/** Read and parse several known_hosts files; a missing file is empty. */
/**
 * Parsed known_hosts files by path, with the identity (inode, size, mtime, ctime) they were
 * parsed at: every hop's handshake consults the same files, and parsing a file of N hosts
 * for each of N hops is quadratic (issue 13: at 200 nodes, seconds of CPU while handshakes
 * wait). A changed file (an appended key, an edit) has another identity and is read again.
 */
const parsedFiles = new Map<string, { id: string; parsed: ParsedKnownHosts }>();

export async function loadKnownHosts(files: readonly string[]): Promise<ParsedKnownHosts> {
  const out: ParsedKnownHosts = { entries: [], errors: [] };
  for (const f of files) {
    if (f === 'none' || f === '/dev/null') continue;
    const path = expandHome(f);
    let text: string;
    let id: string;
    try {
      const st = await stat(path);
      id = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      const hit = parsedFiles.get(path);
      if (hit && hit.id === id) {
        out.entries.push(...hit.parsed.entries);
        out.errors.push(...hit.parsed.errors);
        continue;
      }
      text = await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      out.errors.push({ file: path, line: 0, message: `cannot read: ${(e as Error).message}` });
      continue;
    }
    const p = parseKnownHosts(text, path);
    // Remember it only if the file did not change while it was read.
    const after = await stat(path).catch(() => undefined);
    if (after && `${after.ino}:${after.size}:${after.mtimeMs}:${after.ctimeMs}` === id) {
      if (parsedFiles.size > 64) parsedFiles.clear();
      parsedFiles.set(path, { id, parsed: p });
    }
    out.entries.push(...p.entries);
    out.errors.push(...p.errors);
  }
  return out;
}

/** The line `appendKnownHost` writes (without newline). */
export function knownHostLine(
  host: string,
  port: number,
  key: Buffer,
  opts: { hash?: boolean; salt?: Buffer } = {},
): string {
  const type = keyTypeOfBlob(key);
  if (!type) throw new Error('not an SSH public key blob');
  const name = knownHostName(host, port);
  const field = opts.hash ? hashHostName(name, opts.salt) : name;
  return `${field} ${type} ${key.toString('base64')}`;
}

/**
 * Append a host key the way `StrictHostKeyChecking=accept-new` does: one line, written
 * with a single O_APPEND write (concurrent appenders do not interleave), creating the
 * directory (0700) and file (0600) if missing.
 */
export async function appendKnownHost(
  file: string,
  host: string,
  port: number,
  key: Buffer,
  opts: { hash?: boolean } = {},
): Promise<string> {
  const path = expandHome(file);
  const line = knownHostLine(host, port, key, opts);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const st = await stat(path);
    if (st.size > 0) {
      const fh = await open(path, 'r');
      try {
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, st.size - 1);
        if (b[0] !== 0x0a) prefix = '\n';
      } finally {
        await fh.close();
      }
    }
  } catch {
    // missing: created below
  }
  const fh = await open(path, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT, 0o600);
  try {
    await fh.write(`${prefix}${line}\n`);
  } finally {
    await fh.close();
  }
  return line;
}
