/**
 * A node's PKI `status` (nix/pki/status; JSON, `version: 1`): every file of the PKI
 * directory with its mode, owner, size and the SHA-256 of the public key it holds, so that
 * k8ops can match keys to certificates without a private key ever leaving the node.
 *
 *   {"version":1,"node":"cp-1","pkiDir":"/etc/kubernetes/pki","files":[
 *     {"path":"/etc/kubernetes/pki/kubelet-key.pem","kind":"key","exists":true,"mode":"0600",
 *      "owner":"root","group":"root","size":365,"pubkeySha256":"<hex>"}, …]}
 *
 * `parsePkiStatus` is pure and never throws. `scanPkiDir` computes the same document from
 * a local directory (the demo lab's nodes, `k8ops certs --path`).
 */
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readFileSync,
  type Stats,
  statSync,
} from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { walkDir } from './dir-walk.js';
import { splitPem } from './pem.js';
import type { PkiStatus, PkiStatusFile } from './types.js';
import { subjectPublicKeyInfo } from './verify.js';

export type PkiStatusResult =
  | { ok: true; status: PkiStatus }
  | { ok: false; error: { kind: 'parse'; message: string } };

const KINDS = new Set(['cert', 'key', 'pub', 'other']);
const HEX64 = /^[0-9a-f]{64}$/;
const MODE = /^0?[0-7]{3,4}$/;
const MAX_FILES = 10_000;

const fail = (message: string): PkiStatusResult => ({
  ok: false,
  error: { kind: 'parse', message },
});

function snippet(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > 60 ? `${t.slice(0, 60)}…` : t;
}

/** Parse the status script's output (garbage, truncation and wrong shapes → typed errors). */
export function parsePkiStatus(text: string): PkiStatusResult {
  if (typeof text !== 'string' || text.trim() === '') return fail('empty status output');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const t = text.trimEnd();
    const truncated = t.startsWith('{') && !t.endsWith('}');
    return fail(
      truncated
        ? `status output is truncated (${text.length} bytes, no closing brace)`
        : `status output is not JSON (${(e as Error).message}): ${snippet(text)}`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return fail('status output is not a JSON object');
  const o = raw as Record<string, unknown>;
  if (o.version !== 1) return fail(`unsupported status version ${JSON.stringify(o.version)}`);
  if (typeof o.node !== 'string') return fail('status: "node" is not a string');
  if (typeof o.pkiDir !== 'string' || !o.pkiDir.startsWith('/'))
    return fail('status: "pkiDir" is not an absolute path');
  if (!Array.isArray(o.files)) return fail('status: "files" is not an array');
  if (o.files.length > MAX_FILES)
    return fail(`status: ${o.files.length} files (limit ${MAX_FILES})`);
  const files: PkiStatusFile[] = [];
  for (const [i, f] of o.files.entries()) {
    const where = `status: files[${i}]`;
    if (typeof f !== 'object' || f === null) return fail(`${where} is not an object`);
    const r = f as Record<string, unknown>;
    if (typeof r.path !== 'string' || !r.path.startsWith('/'))
      return fail(`${where}.path is not an absolute path`);
    if (typeof r.kind !== 'string' || !KINDS.has(r.kind))
      return fail(`${where}.kind: expected cert, key, pub or other`);
    const exists = r.exists === undefined ? true : r.exists;
    if (typeof exists !== 'boolean') return fail(`${where}.exists is not a boolean`);
    const out: PkiStatusFile = {
      path: r.path,
      kind: r.kind as PkiStatusFile['kind'],
      exists,
      pubkeySha256: null,
    };
    if (r.mode !== undefined && r.mode !== null) {
      if (typeof r.mode !== 'string' || !MODE.test(r.mode))
        return fail(`${where}.mode: expected an octal string such as "0600"`);
      out.mode = Number.parseInt(r.mode, 8) & 0o7777;
    }
    for (const k of ['owner', 'group'] as const) {
      const v = r[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string' && typeof v !== 'number')
        return fail(`${where}.${k} is not a name`);
      out[k] = String(v);
    }
    if (r.size !== undefined && r.size !== null) {
      if (typeof r.size !== 'number' || !Number.isFinite(r.size) || r.size < 0)
        return fail(`${where}.size is not a number`);
      out.size = r.size;
    }
    if (r.pubkeySha256 !== undefined && r.pubkeySha256 !== null) {
      if (typeof r.pubkeySha256 !== 'string' || !HEX64.test(r.pubkeySha256.toLowerCase()))
        return fail(`${where}.pubkeySha256 is not a hex SHA-256`);
      out.pubkeySha256 = r.pubkeySha256.toLowerCase();
    }
    if (r.pubkeysSha256 !== undefined && r.pubkeysSha256 !== null) {
      const a = r.pubkeysSha256;
      if (
        !Array.isArray(a) ||
        a.length > 64 ||
        !a.every((x) => typeof x === 'string' && HEX64.test(x.toLowerCase()))
      )
        return fail(`${where}.pubkeysSha256 is not a list of hex SHA-256`);
      out.pubkeysSha256 = (a as string[]).map((x) => x.toLowerCase());
    }
    if (r.error !== undefined && r.error !== null) {
      if (typeof r.error !== 'string') return fail(`${where}.error is not a string`);
      out.error = r.error;
    }
    files.push(out);
  }
  return { ok: true, status: { version: 1, node: o.node, pkiDir: o.pkiDir, files } };
}

// ---------------------------------------------------------------------------------------
// Local computation (what the status script does, done with node:crypto)

const PRIVATE_KEY_TYPES: Record<string, 'pkcs8' | 'sec1' | 'pkcs1'> = {
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
};

const spkiSha256 = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

/**
 * The SHA-256 of the DER SubjectPublicKeyInfo of every PUBLIC KEY block, in order (at most
 * 64); throws on one that does not parse (as status.sh's openssl fails on it).
 */
export function publicKeyDigests(blocks: readonly { label: string; der: Uint8Array }[]): string[] {
  return blocks
    .filter((b) => b.label === 'PUBLIC KEY')
    .slice(0, 64)
    .map((b) =>
      spkiSha256(
        createPublicKey({ key: Buffer.from(b.der), format: 'der', type: 'spki' }).export({
          type: 'spki',
          format: 'der',
        }),
      ),
    );
}

/** publicKeyDigests, or undefined when one block does not parse (status.sh leaves it out then). */
export function allPublicKeyDigests(
  blocks: readonly { label: string; der: Uint8Array }[],
): string[] | undefined {
  try {
    return publicKeyDigests(blocks);
  } catch {
    return undefined;
  }
}

/** Kind and public-key digest of one file's content, as the status script reports them. */
export function describeKeyMaterial(
  content: string,
): Pick<PkiStatusFile, 'kind' | 'pubkeySha256' | 'pubkeysSha256' | 'error'> {
  const { blocks } = splitPem(content);
  const first = blocks[0];
  if (!first) return { kind: 'other', pubkeySha256: null };
  try {
    if (first.label === 'CERTIFICATE') {
      // The certificate's own SubjectPublicKeyInfo bytes (what CertSummary.spkiSha256
      // digests); node:crypto's parse and re-export only when they cannot be located.
      const spki = subjectPublicKeyInfo(first.der);
      const der = spki
        ? Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength)
        : new X509Certificate(first.der).publicKey.export({ type: 'spki', format: 'der' });
      return { kind: 'cert', pubkeySha256: spkiSha256(der) };
    }
    const keyType = PRIVATE_KEY_TYPES[first.label];
    if (keyType) {
      const priv = createPrivateKey({ key: Buffer.from(first.der), format: 'der', type: keyType });
      const der = createPublicKey(priv).export({ type: 'spki', format: 'der' });
      return { kind: 'key', pubkeySha256: spkiSha256(der) };
    }
    if (/PRIVATE KEY$/.test(first.label))
      return { kind: 'key', pubkeySha256: null, error: `${first.label} is not supported` };
    if (first.label === 'PUBLIC KEY') {
      const [one] = publicKeyDigests([first]);
      const all = allPublicKeyDigests(blocks);
      return { kind: 'pub', pubkeySha256: one!, ...(all ? { pubkeysSha256: all } : {}) };
    }
  } catch (e) {
    const kind =
      first.label === 'CERTIFICATE' ? 'cert' : /PRIVATE KEY$/.test(first.label) ? 'key' : 'pub';
    return { kind, pubkeySha256: null, error: `cannot read the key: ${(e as Error).message}` };
  }
  return { kind: 'other', pubkeySha256: null };
}

export interface ScanOptions {
  node: string;
  /** The directory as the node names it (paths in the result are under it). */
  nodeDir: string;
  /** Where that directory is on this machine (equal to nodeDir for a local scan). */
  hostDir: string;
  /** Owner and group of a file (simulated in the demo; from uid/gid for a local scan). */
  ownerOf: (nodePath: string, uid: number, gid: number) => { owner: string; group: string };
  signal?: AbortSignal;
  /** Search subdirectories this many levels deep (src/pki/dir-walk.ts); absent: none. */
  maxDepth?: number;
}

const MAX_READ = 1 << 20;

/**
 * The status document of a local directory: its regular files (subdirectories only with
 * `maxDepth`), each with kind, mode, owner, size and public-key digest. Files are read
 * synchronously, one at a time: a local file of a few kB costs ~10 µs that way, where
 * `fs/promises` makes thread-pool round trips per call (stat, open, fstat, read, close)
 * that cost more main-thread time than the read, and queue behind other work; one file
 * descriptor at a time also keeps a directory of 20,000 files (or 300 under
 * `ulimit -n 256`) clear of EMFILE. Throws only when the directory itself cannot be
 * listed (errno kept on the error).
 */
export async function scanPkiDir(opts: ScanOptions): Promise<PkiStatus> {
  const names =
    opts.maxDepth === undefined
      ? (await readdir(opts.hostDir)).sort()
      : (
          await walkDir(opts.hostDir, {
            maxDepth: opts.maxDepth,
            ...(opts.signal ? { signal: opts.signal } : {}),
          })
        ).entries
          .filter((e) => e.kind === 'file')
          .map((e) => e.rel);
  opts.signal?.throwIfAborted();
  const files: PkiStatusFile[] = [];
  for (const [i, name] of names.entries()) {
    // Let an abort (and the rest of the process) in between files of a large directory.
    if (i % 256 === 255) {
      await new Promise<void>((r) => setImmediate(r));
      opts.signal?.throwIfAborted();
    }
    const f = scanFile(opts, name);
    if (f) files.push(f);
  }
  opts.signal?.throwIfAborted();
  return { version: 1, node: opts.node, pkiDir: opts.nodeDir, files };
}

/** One file of scanPkiDir: undefined when it is not a regular file (never opened then). */
function scanFile(opts: ScanOptions, name: string): PkiStatusFile | undefined {
  const path = posix.join(opts.nodeDir, name);
  const host = join(opts.hostDir, name);
  let st: Stats;
  try {
    st = statSync(host);
  } catch (e) {
    return { path, kind: 'other', exists: false, pubkeySha256: null, error: (e as Error).message };
  }
  if (!st.isFile()) return undefined;
  const own = opts.ownerOf(path, st.uid, st.gid);
  const base: PkiStatusFile = {
    path,
    kind: 'other',
    exists: true,
    mode: st.mode & 0o7777,
    owner: own.owner,
    group: own.group,
    size: st.size,
    pubkeySha256: null,
  };
  if (st.size > MAX_READ) return { ...base, error: 'larger than 1 MiB; not read' };
  let content: string;
  try {
    // Non-blocking: a FIFO swapped in after the stat cannot hang the scan.
    const fd = openSync(host, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    try {
      if (!fstatSync(fd).isFile()) return undefined;
      content = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return {
      ...base,
      error: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    };
  }
  return { ...base, ...describeKeyMaterial(content) };
}

/** uid/gid → names from /etc/passwd and /etc/group (numeric strings when unknown). */
export async function localOwnerResolver(): Promise<
  (nodePath: string, uid: number, gid: number) => { owner: string; group: string }
> {
  const table = async (file: string): Promise<Map<number, string>> => {
    const m = new Map<number, string>();
    try {
      for (const line of (await readFile(file, 'utf8')).split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id && /^\d+$/.test(id) && !m.has(Number(id))) m.set(Number(id), name);
      }
    } catch {
      // no such table: numeric ids
    }
    return m;
  };
  const [users, groups] = await Promise.all([table('/etc/passwd'), table('/etc/group')]);
  return (_p, uid, gid) => ({
    owner: users.get(uid) ?? String(uid),
    group: groups.get(gid) ?? String(gid),
  });
}
