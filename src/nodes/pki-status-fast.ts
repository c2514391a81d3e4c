/**
 * The PKI status (the document nix/pki/status.sh prints) for a node reached over SSH,
 * at the cost of one cheap request when nothing changed (issue 13, cause 2):
 *
 *  1. `identity` (one request on the node's persistent shell, one `stat` process): every
 *     regular file of the directory with inode, size, mtime and ctime (ns), mode, owner
 *     and group; dangling symlinks; whether each file is readable.
 *  2. Files whose identity k8ops has not seen (cold, or touched, rotated, replaced) are
 *     derived in a second request: a file without private key material is sent as is
 *     (certificates and public keys are public); a file holding a private key block is sent
 *     with each key block's body replaced ON THE NODE (the read scripts' `ksed`), plus ONE
 *     `openssl pkey -pubout` of it (its public key). k8ops takes the kind from the first
 *     PEM block (as status.sh does) and the SHA-256 of the public key from the certificate
 *     it parses itself, the public key, or the key's `-pubout`.
 *  3. The answers are remembered per file under its identity (dev is implied: one
 *     directory; inode, size, mtime, ctime): a warm refresh of an unchanged node is request
 *     1 alone. Mode and owner come from request 1 every time.
 *
 * Private key material never leaves the node: only public keys and redacted files do.
 * Anything unusual (a name outside [A-Za-z0-9._+@-], no GNU stat, a file over 1 MiB) makes
 * the caller fall back to status.sh itself for that refresh (`fallback`).
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  X509Certificate,
} from 'node:crypto';
import { splitPem } from '../pki/pem.js';
import { allPublicKeyDigests } from '../pki/status.js';
import type { PkiStatus, PkiStatusFile } from '../pki/types.js';
import { argWord, intArg, remotePath, type ShellCommand, sh, token } from '../ssh/quote.js';
import { trace } from '../store/trace.js';
import { MAX_LOCAL_READ } from './local-read.js';
import {
  batchBody,
  batchReadAround,
  IDENTITY_LINES,
  IDENTITY_ODD,
  parseReadFilesBatch,
  READ_BUDGET_BYTES,
} from './remote-scripts.js';

/** A safe file name: no quoting questions, no newline, sorts the same in C and JS. */
const SAFE_NAME = /^[A-Za-z0-9._+@-]+$/;

export interface IdentityEntry {
  name: string;
  /** `regular` (followed through symlinks) or a dangling symlink. */
  type: 'file' | 'dangling';
  /** inode:size:mtime:ctime (ns precision), the cache key. */
  id: string;
  mode: string;
  owner: string;
  group: string;
  size: number;
  readable: boolean;
}

export type IdentityResult =
  | {
      kind: 'ok';
      user: string;
      /** Regular files (followed through symlinks) and dangling symlinks, in C order. */
      entries: IdentityEntry[];
      /** Every entry's identity by name, directories, FIFOs and the like included. */
      ids: Map<string, string>;
    }
  | { kind: 'nodir' }
  | { kind: 'fallback'; reason: string };

/**
 * Request 1: ONE `stat` for every entry (plus one per dangling symlink, rare), everything
 * else shell builtins. Emits `K8OPS-N u <name>` per entry the user cannot read, a
 * `K8OPS-N d - <raw mode hex> <ino> <size> <mtime> <ctime> <perm> <owner> <group> <name>`
 * per dangling symlink (its own stat), `K8OPS-N user <name>`, then stat's line per entry
 * `K8OPS-N f <raw mode hex> <ino> <size> <mtime> <ctime> <perm> <owner> <group> <name>`
 * (followed through symlinks), then `K8OPS-N done`; `K8OPS-N nodir` when the directory
 * cannot be entered, `K8OPS-N odd` for a name outside SAFE_NAME. Linear in the number of
 * entries (no list rebuilt per entry). The first stat line is `.` itself: without it (not
 * GNU stat) the parser asks for the fallback. The user is sshd's LOGNAME/USER (`id -un`
 * only without them). This request runs on every refresh of every node: every process it
 * saves counts (issue 13: 8 ms of a node's CPU with a read loop and `id`, ~4 ms now).
 */
export function identityScript(dir: string, nonce: string): ShellCommand {
  const d = remotePath(dir);
  return concat([
    sh`M=K8OPS-${token(nonce)}
MI=$M
LC_ALL=C
export LC_ALL
if ! cd -- ${d} 2>/dev/null; then printf '%s nodir\\n' "$M"; exit 0; fi
set -- * .[!.]* ..?*`,
    IDENTITY_ODD,
    sh`if [ -n "$K8OPS_ODD" ]; then printf '%s odd\\n' "$M"; exit 0; fi`,
    IDENTITY_LINES,
    sh`stat -L -c "$M f %f %i %s %.9Y %.9Z %a %U %G %n" -- . "$@" 2>/dev/null
printf '%s done\\n' "$M"`,
  ]);
}

/**
 * The end of a script body whose output is many small writes (a line per file): `dd`
 * gathers it into 64 KiB writes, so sshd sends a few channel packets instead of hundreds
 * (each costs ssh2 a decipher, a parse and a stream push in k8ops: issue 13's profile).
 * The body's exit status is not kept: these scripts report everything in their output.
 */
/** Commands one after another (newline-separated). */
const concat = (cmds: ShellCommand[]): ShellCommand => ({
  text: cmds.map((c) => c.text).join('\n'),
});

const COALESCE = '} | dd ibs=4096 obs=65536 2>/dev/null';

const NUM = /^\d+$/;
const HEX = /^[0-9a-f]+$/;
const TIME = /^\d+(?:\.\d+)?$/;
const MODE = /^[0-7]{1,4}$/;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** Parse request 1. Never throws: anything unexpected asks for the fallback. */
export function parseIdentity(output: string, nonce: string): IdentityResult {
  const marker = `K8OPS-${nonce} `;
  let user: string | undefined;
  let done = false;
  let sawDot = false;
  const entries: IdentityEntry[] = [];
  const ids = new Map<string, string>();
  const unreadable = new Set<string>();
  for (const line of output.split('\n')) {
    if (!line.startsWith(marker)) continue;
    const rest = line.slice(marker.length);
    if (rest === 'nodir') return { kind: 'nodir' };
    if (rest === 'odd') return { kind: 'fallback', reason: 'a file name needs quoting' };
    if (rest === 'done') {
      done = true;
      continue;
    }
    if (rest.startsWith('user ')) {
      user = rest.slice(5);
      continue;
    }
    if (rest.startsWith('u ')) {
      unreadable.add(rest.slice(2));
      continue;
    }
    const f = rest.split(' ');
    // `f` lines come from stat's own format; `d` lines carry a `-` before the fields.
    if (f[0] === 'd' && f[1] === '-') f.splice(1, 1);
    if (f.length !== 10) return { kind: 'fallback', reason: 'unexpected identity line' };
    const [t, raw, ino, size, mtime, ctime, mode, owner, group, name] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (
      (t !== 'f' && t !== 'd') ||
      !HEX.test(raw) ||
      !NUM.test(ino) ||
      !NUM.test(size) ||
      !TIME.test(mtime) ||
      !TIME.test(ctime) ||
      !MODE.test(mode) ||
      owner === '' ||
      group === ''
    )
      return { kind: 'fallback', reason: 'unexpected identity line' };
    if (name === '.') {
      sawDot = true;
      continue;
    }
    if (!SAFE_NAME.test(name)) return { kind: 'fallback', reason: 'unexpected identity line' };
    ids.set(name, `${ino}:${size}:${mtime}:${ctime}`);
    // Only regular files (followed through symlinks) and dangling symlinks: status.sh's set.
    if (t === 'f' && (Number.parseInt(raw, 16) & S_IFMT) !== S_IFREG) continue;
    entries.push({
      name,
      type: t === 'f' ? 'file' : 'dangling',
      id: `${ino}:${size}:${mtime}:${ctime}`,
      mode: Number.parseInt(mode, 8).toString(8).padStart(4, '0'),
      owner,
      group,
      size: Number(size),
      readable: t === 'f',
    });
  }
  for (const e of entries) if (unreadable.has(e.name)) e.readable = false;
  if (!done || user === undefined) return { kind: 'fallback', reason: 'truncated identity' };
  if (!sawDot) return { kind: 'fallback', reason: 'stat cannot print identities (GNU stat -c)' };
  // status.sh lists in C collation (byte order): plain ASCII names sort the same in JS.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { kind: 'ok', user, entries, ids };
}

/**
 * The key step of request 2 (see deriveScript), between the candidates and the batch read:
 * the candidates holding a private key block (ONE `grep -l`) are taken out of $K8OPS_L.
 * ONE `grep -o -b` lists the PEM labels of those files (labels only: `[A-Z0-9 ]`, never a
 * key body, even on a one-line PEM) with their byte offsets; a file whose first label (EC
 * PARAMETERS skipped, within the first 64 KiB: status.sh's pem_kind) is a private key gets
 * `K8OPS-N i keyfirst` — its kind is `key` and nothing of it is sent; any other (a
 * certificate and its key in one file, say) is sent by `r`, each key body replaced on the
 * node. Each gets ONE `openssl pkey -pubout` (`K`). A grep without -o/-b leaves every key
 * file to `r`: slower, the same answer.
 */
const KEY_FN = sh`K() {
  printf '%s %s pub\n' "$M" "$1"
  openssl pkey -in "$2" -passin pass: -pubout 2>/dev/null || printf '!'
  printf '\n%s %s pubend\n' "$M" "$1"
}`;

/**
 * What the node keeps of `openssl storeutl -text` (KEYS_STEP): object headers, key type
 * lines, and the public parts only — the `pub:` and `modulus:` sections' hex lines,
 * `publicExponent`, the curve's name, RSA-PSS's restrictions line. Every other line
 * (`priv:`, `privateExponent:`, `prime1:` … and their hex) ends the section and is
 * dropped: a whitelist, so no private value is printed whatever the key type.
 */
const KEYS_AWK = [
  '/^[0-9][0-9]*: [A-Za-z ]*$/ { print; s = 0; next }',
  '/^[A-Z0-9]* ?(Private|Public)-Key:( [(][0-9]+ bit(, [0-9]+ primes)?[)])?$/ { print; s = 0; next }',
  '/^(pub|modulus):$/ { print; s = 1; next }',
  '/^(publicExponent|ASN1 OID|NIST CURVE): [A-Za-z0-9 ()-]*$/ { print; s = 0; next }',
  '/^(No )?PSS parameter restrictions/ { print "PSS"; s = 0; next }',
  '/^    [0-9a-f:]+$/ { if (s) print; next }',
  '{ s = 0 }',
].join('; ');

/**
 * ONE `openssl storeutl` for every key file of the request (issue 13: one `openssl pkey`
 * per key file cost ~7 ms of a node's CPU each, 950 processes for a cold `certs` of 50
 * nodes): the files go through one pipe, each after a separator (a public key k8ops made
 * for this request, `$K8OPS_SEP`: no file can hold it), and what storeutl prints goes
 * through KEYS_AWK, which keeps only public values. Emits `K8OPS-N keyfile i` per key file
 * in order, then `K8OPS-N keys`, the filtered text, `K8OPS-N keysend`. A file k8ops cannot
 * pair with one key from this (no awk or storeutl, an encrypted or unusual key) gets its
 * own `openssl pkey -pubout` in a second request (pubScript).
 */
const KEYS_STEP = sh`KS() {
  for l in $1; do printf '%s keyfile %s\\n' "$M" "\${l%% *}"; done
  printf '%s keys\\n' "$M"
  set --
  for l in $K8OPS_KL; do set -- "$@" "./\${l#* }"; done
  awk -v s="$K8OPS_SEP" "$K8OPS_KCAT" "$@" 2>/dev/null |
    openssl storeutl -passin pass: -noout -text /dev/stdin 2>/dev/null |
    awk "$K8OPS_KAWK" 2>/dev/null
  printf '\\n%s keysend\\n' "$M"
}`;

/**
 * The key files into storeutl's pipe, in ONE process: the separator before each file's
 * first line and after the last file; every line ends with a newline (a file without a
 * final one does not run into the next PEM block).
 */
const KEYS_CAT = [
  'function sep() { print "-----BEGIN PUBLIC KEY-----"; print s; print "-----END PUBLIC KEY-----" }',
  'FNR == 1 { sep() }',
  '{ print }',
  'END { sep() }',
].join('; ');

const KEY_STEP = sh`if [ -n "$K8OPS_L" ]; then
  IFS='
'
  set -f
  # shellcheck disable=SC2046 # split on newlines (IFS), no globbing (set -f): one path each
  K8OPS_Q=$(grep -l -e "$K8OPS_KEYRE" -- $(for l in $K8OPS_L; do printf '%s\n' "\${l#* }"; done) 2>/dev/null)
  if [ -n "$K8OPS_Q" ]; then
    # shellcheck disable=SC2086 # as above
    K8OPS_G=$(grep -H -b -o -e '-----BEGIN [A-Z0-9 ][A-Z0-9 ]*-----' -- $K8OPS_Q 2>/dev/null)
    K8OPS_F=$(d=
      for g in $K8OPS_G; do
        n=\${g%%:*}
        [ "$n" = "$d" ] && continue
        o=\${g#*:}
        b=\${o#*:}
        o=\${o%%:*}
        case $b in '-----BEGIN EC PARAMETERS-----') continue ;; esac
        d=$n
        case $o in '' | *[!0-9]*) continue ;; esac
        [ $((o + \${#b})) -le 65536 ] || continue
        case $b in *'PRIVATE KEY-----') printf '%s\n' "$n" ;; esac
      done)
    K8OPS_L0=$K8OPS_L
    K8OPS_L=$(for l in $K8OPS_L; do
      p=\${l#* }
      case "
$K8OPS_Q
" in
        *"
$p
"*)
          case "
$K8OPS_F
" in
            *"
$p
"*) printf '%s %s keyfirst\n' "$M" "\${l%% *}" >&3 ;;
            *) r "\${l%% *}" "$p" >&3 ;;
          esac
          ;;
        *) printf '%s\n' "$l" ;;
      esac
    done)
    K8OPS_KL=$(for l in $K8OPS_L0; do
      case "
$K8OPS_Q
" in
        *"
\${l#* }
"*) printf '%s\n' "$l" ;;
      esac
    done)
    KS "$K8OPS_KL" >&3
  fi
fi`;

/** The separator of one derive request's key files: a public key made for it (KEYS_STEP). */
export interface KeySeparator {
  /** Base64 of its SubjectPublicKeyInfo (one line: an Ed25519 SPKI is 60 characters). */
  spkiB64: string;
  /** Its raw public key in hex, as `storeutl -text` prints it (`pub:`). */
  rawHex: string;
}

/** A fresh separator: an Ed25519 public key nobody could have put in a file beforehand. */
export function keySeparator(): KeySeparator {
  const { publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return { spkiB64: spki.toString('base64'), rawHex: spki.subarray(-32).toString('hex') };
}

/**
 * Request 2 for `names` (safe names in `dir`), in a few processes whatever their number
 * (issue 13: the per-file frames this replaces cost ~10 processes per file, 0.45 s of a
 * node's CPU for 39 files): the read scripts' statuses for names that are not readable
 * regular files; for files holding a private key, KEY_STEP's frames (`keyfirst` or the
 * redacted file) and KEYS_STEP's (ONE `openssl storeutl` for all of them, public values
 * only); every other file in the batch read (ONE `wc -c`, ONE `cat`:
 * src/nodes/remote-scripts.ts). Then `K8OPS-N done`. Output gathered by `dd`.
 */
export function deriveScript(
  dir: string,
  names: readonly string[],
  nonce: string,
  sep: KeySeparator = keySeparator(),
): ShellCommand {
  const d = remotePath(dir);
  const calls = names.map((n, i) => {
    if (!SAFE_NAME.test(n)) throw new Error(`unsafe name ${JSON.stringify(n)}`);
    return sh`c ${intArg(i)} ${argWord(n)}`;
  });
  if (!/^[A-Za-z0-9+/=]{1,64}$/.test(sep.spkiB64)) throw new Error('bad key separator');
  const body = batchReadAround(nonce, {
    before: sh`cd -- ${d} || exit 3
K8OPS_SEP=${argWord(sep.spkiB64)}
K8OPS_KAWK=${argWord(KEYS_AWK)}
K8OPS_KCAT=${argWord(KEYS_CAT)}`,
    calls,
    middle: concat([KEYS_STEP, KEY_STEP]),
  });
  return { text: ['{', body.text, COALESCE].join('\n') };
}

/**
 * The second request for key files the storeutl step left unpaired: ONE `openssl pkey
 * -pubout` per file, framed `K8OPS-N i pub` … `K8OPS-N i pubend` (`!` when openssl fails).
 */
export function pubScript(
  dir: string,
  files: ReadonlyArray<{ index: number; name: string }>,
  nonce: string,
): ShellCommand {
  const d = remotePath(dir);
  const calls = files.map(({ index, name }) => {
    if (!SAFE_NAME.test(name)) throw new Error(`unsafe name ${JSON.stringify(name)}`);
    return sh`K ${intArg(index)} ./${argWord(name)}`;
  });
  return concat([
    sh`M=K8OPS-${token(nonce)}
LC_ALL=C
export LC_ALL
cd -- ${d} || exit 3`,
    KEY_FN,
    ...calls,
    sh`printf '%s done\\n' "$M"`,
  ]);
}

/** What the key section of a certificate read may send (besides the read's own budget). */
export const KEY_SECTION_BUDGET_BYTES = 4 << 20;

/**
 * The PKI status's derive, run inside a cold certificate read (issue 13: a cold `certs`
 * sent the read, then a derive request for the files the read did not send — one round
 * trip and a dozen processes more per node). Appended to readCertDirScript (its `after`),
 * in the directory, after the read's `done`: for every entry with a safe name that the
 * read did not pick (key files, hidden files, other files; not when a name is odd: the
 * status then runs status.sh), the derive request's frames under its own nonce — a
 * `K8OPS-N name <i> <name>` line each, KEY_STEP's (`keyfirst`, or the file with each key
 * body replaced on the node) and KEYS_STEP's (ONE `openssl storeutl` for every key file,
 * public values only), the other files in a batch read of at most
 * KEY_SECTION_BUDGET_BYTES — opened by `K8OPS-N keysection`, closed by `K8OPS-N done`.
 * The names mirror the read's picking rules (a certificate file name that exists and is
 * not a directory is the read's).
 */
export function certDirKeysSection(nonce: string, sep: KeySeparator): ShellCommand {
  if (!/^[A-Za-z0-9+/=]{1,64}$/.test(sep.spkiB64)) throw new Error('bad key separator');
  return concat([
    sh`if [ -z "$K8OPS_ODD" ]; then
M=K8OPS-${token(nonce)}
printf '%s keysection\n' "$M"
K8OPS_SEP=${argWord(sep.spkiB64)}
K8OPS_KAWK=${argWord(KEYS_AWK)}
K8OPS_KCAT=${argWord(KEYS_CAT)}
set +f
K8OPS_L=$(k=0
  for f in * .[!.]* ..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    case $f in *[!A-Za-z0-9._+@-]*) continue ;; esac
    case $f in
      .* | *[!A-Za-z0-9._-]* | [Kk][Ee][Yy].[Pp][Ee][Mm] | *[-_.][Kk][Ee][Yy].[Pp][Ee][Mm]) ;;
      *.[Pp][Ee][Mm] | *.[Cc][Rr][Tt])
        if [ -e "$f" ] && [ ! -d "$f" ]; then continue; fi
        ;;
    esac
    printf '%s name %s %s\n' "$M" "$k" "$f" >&3
    c "$k" "$f"
    k=$((k + 1))
  done)
IFS='
'
set -f`,
    KEYS_STEP,
    KEY_STEP,
    batchBody(KEY_SECTION_BUDGET_BYTES),
    sh`fi`,
  ]);
}

/**
 * The key section of a certificate read's output (certDirKeysSection with `nonce`): its
 * names, in order, and what was derived of each (parseDerive); undefined when the output
 * has no section or its names are not in order. Never throws.
 */
export function parseCertDirKeys(
  output: Buffer,
  nonce: string,
  sep: KeySeparator,
): { names: string[]; derived: Derived[] } | undefined {
  const at = output.indexOf(`K8OPS-${nonce} keysection\n`);
  if (at < 0) return undefined;
  const section = output.subarray(at);
  const prefix = `K8OPS-${nonce} name `;
  const names: string[] = [];
  for (const line of section.toString('latin1').split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const m = /^(\d+) ([A-Za-z0-9._+@-]+)$/.exec(line.slice(prefix.length));
    if (!m || Number(m[1]) !== names.length || !SAFE_NAME.test(m[2]!)) return undefined;
    names.push(m[2]!);
  }
  return { names, derived: parseDerive(section, nonce, names, sep) };
}

export interface Derived {
  content?: string;
  /** The node found a private key as the file's first PEM block (kind `key`, nothing sent). */
  keyFirst?: boolean;
  /** The `-pubout` PEM of a file holding a private key (undefined: none asked; null: openssl failed). */
  pub?: string | null;
  /** A key file the storeutl step could not pair with a key: pubScript decides it. */
  pubPending?: boolean;
  error?: string;
}

/** Parse request 2 (raw bytes): one Derived per name (errors per file). Never throws. */
export function parseDerive(
  output: Buffer,
  nonce: string,
  names: readonly string[],
  sep?: KeySeparator,
): Derived[] {
  const marker = `K8OPS-${nonce} `;
  const { files } = parseReadFilesBatch(output, nonce, names);
  const out: Derived[] = files.map((f) =>
    f.ok ? { content: f.content } : { error: f.error ?? 'read failed' },
  );
  // keyfirst frames, the storeutl step's frames (text lines; a file's bytes in the batch
  // never hold the marker: the nonce is random), and pubScript's frames.
  const lines = output.toString('utf8').split('\n');
  const keyFiles: number[] = [];
  let keysText: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith(marker)) continue;
    const rest = line.slice(marker.length);
    if (rest === 'keys') {
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length && lines[j] !== `${marker}keysend` && body.length <= 100_000; j++)
        body.push(lines[j]!);
      if (lines[j] === `${marker}keysend`) keysText = body;
      i = j;
      continue;
    }
    const k = /^keyfile (\d+)$/.exec(rest);
    if (k) {
      if (out[Number(k[1])] !== undefined) keyFiles.push(Number(k[1]));
      continue;
    }
    const m = /^(\d+) (keyfirst|pub)$/.exec(rest);
    if (!m) continue;
    const idx = Number(m[1]);
    const d = out[idx];
    if (d === undefined) continue;
    if (m[2] === 'keyfirst') {
      d.keyFirst = true;
      if (d.content === undefined) delete d.error;
      continue;
    }
    const endTag = `${marker}${idx} pubend`;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && lines[j] !== endTag && body.length <= 64; j++) body.push(lines[j]!);
    if (lines[j] !== endTag) {
      d.pub = null;
      continue;
    }
    i = j;
    const pem = body.join('\n').trim();
    d.pub = pem === '' || pem.endsWith('!') ? null : pem;
  }
  if (keyFiles.length > 0) {
    const pubs =
      keysText !== undefined && sep !== undefined
        ? pairStoreutlKeys(keysText, sep.rawHex, keyFiles.length)
        : [];
    keyFiles.forEach((idx, k) => {
      const d = out[idx]!;
      if (d.pub !== undefined) return;
      const pem = pubs[k];
      if (pem !== undefined) d.pub = pem;
      else d.pubPending = true;
    });
  }
  return out;
}

/** One object of `storeutl -text` as KEYS_AWK left it. */
interface StoreObject {
  type: string;
  keyLine?: string;
  sections: Map<string, string>;
  props: Map<string, string>;
  pss: boolean;
}

/**
 * The text KEYS_AWK kept, cut into storeutl's objects, then into one frame per key file by
 * the separators (`count + 1` of them, the first before any other object, else nothing is
 * paired): per file, the SubjectPublicKeyInfo PEM of the first private key in its frame,
 * or undefined (no key there, or one k8ops does not rebuild: pubScript asks openssl). Pure;
 * never throws.
 */
export function pairStoreutlKeys(
  lines: readonly string[],
  sepHex: string,
  count: number,
): Array<string | undefined> {
  const objects: StoreObject[] = [];
  let cur: StoreObject | undefined;
  let section: string | undefined;
  for (const line of lines) {
    const head = /^(\d+): ([A-Za-z ]+)$/.exec(line);
    if (head) {
      cur = { type: head[2]!, sections: new Map(), props: new Map(), pss: false };
      objects.push(cur);
      section = undefined;
      continue;
    }
    if (!cur) continue;
    if (/^ {4}[0-9a-f:]+$/.test(line)) {
      if (section !== undefined)
        cur.sections.set(section, (cur.sections.get(section) ?? '') + line.replace(/[ :]/g, ''));
      continue;
    }
    section = undefined;
    if (line === 'pub:' || line === 'modulus:') {
      section = line.slice(0, -1);
      cur.sections.set(section, '');
    } else if (line === 'PSS') cur.pss = true;
    else if (/(Private|Public)-Key:/.test(line)) cur.keyLine = line;
    else {
      const p = /^(publicExponent|ASN1 OID|NIST CURVE): (.*)$/.exec(line);
      if (p) cur.props.set(p[1]!, p[2]!);
    }
  }
  const isSep = (o: StoreObject) => o.type === 'Public key' && o.sections.get('pub') === sepHex;
  const seps: number[] = [];
  objects.forEach((o, i) => {
    if (isSep(o)) seps.push(i);
  });
  const none: Array<string | undefined> = Array.from({ length: count }, () => undefined);
  if (seps.length !== count + 1 || seps[0] !== 0) return none;
  return none.map((_, k) => {
    const key = objects.slice(seps[k]! + 1, seps[k + 1]!).find((o) => o.type === 'Pkey');
    return key ? spkiPem(key) : undefined;
  });
}

const EC_CURVES: Record<string, { crv: string; bytes: number }> = {
  prime256v1: { crv: 'P-256', bytes: 32 },
  secp384r1: { crv: 'P-384', bytes: 48 },
  secp521r1: { crv: 'P-521', bytes: 66 },
  secp256k1: { crv: 'secp256k1', bytes: 32 },
};
const OKP: Record<string, { crv: string; bytes: number }> = {
  ED25519: { crv: 'Ed25519', bytes: 32 },
  ED448: { crv: 'Ed448', bytes: 57 },
  X25519: { crv: 'X25519', bytes: 32 },
  X448: { crv: 'X448', bytes: 56 },
};
const b64u = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url');

/**
 * The SubjectPublicKeyInfo `openssl pkey -pubout` prints for this key, rebuilt from its
 * public values by node:crypto (which checks them: an EC point must lie on its curve, as
 * openssl's decoder requires): RSA (not RSA-PSS), EC on a named curve with an uncompressed
 * point, Ed25519/Ed448/X25519/X448. Anything else: undefined.
 */
function spkiPem(o: StoreObject): string | undefined {
  try {
    const kl = o.keyLine ?? '';
    let jwk: JsonWebKey | undefined;
    const okp = /^([A-Z0-9]+) Private-Key:$/.exec(kl);
    const pub = o.sections.get('pub');
    if (okp) {
      const c = OKP[okp[1]!];
      if (c && pub?.length === c.bytes * 2) jwk = { kty: 'OKP', crv: c.crv, x: b64u(pub) };
    } else if (kl.startsWith('Private-Key: (')) {
      const n = o.sections.get('modulus');
      const e = /^\d+ \(0x([0-9a-f]+)\)$/.exec(o.props.get('publicExponent') ?? '');
      if (n && e && !o.pss && !pub) {
        const nHex = n.replace(/^(00)+/, '');
        const eHex = e[1]!.length % 2 ? `0${e[1]}` : e[1]!;
        jwk = { kty: 'RSA', n: b64u(nHex), e: b64u(eHex) };
      } else if (pub && !n) {
        const c = EC_CURVES[o.props.get('ASN1 OID') ?? ''];
        if (c && pub.length === 2 + c.bytes * 4 && pub.startsWith('04'))
          jwk = {
            kty: 'EC',
            crv: c.crv,
            x: b64u(pub.slice(2, 2 + c.bytes * 2)),
            y: b64u(pub.slice(2 + c.bytes * 2)),
          };
      }
    }
    if (!jwk) return undefined;
    return String(
      createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }),
    );
  } catch {
    return undefined;
  }
}

type Described = Pick<PkiStatusFile, 'kind' | 'pubkeySha256' | 'pubkeysSha256' | 'error'>;

/**
 * SHA-256 of a certificate's SubjectPublicKeyInfo, remembered per certificate (by the
 * SHA-256 of its DER) for the process: the same CA and intermediate certificates sit in
 * many files on every node, and parsing a P-521 certificate costs ~1 ms. Bounded.
 */
const spkiByCert = new Map<string, string>();
const MAX_REMEMBERED_CERTS = 4096;
function certSpkiSha256(der: Uint8Array): string {
  const key = createHash('sha256').update(der).digest('base64');
  const hit = spkiByCert.get(key);
  if (hit) return hit;
  const spki = new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
  const digest = sha(spki);
  if (spkiByCert.size >= MAX_REMEMBERED_CERTS) spkiByCert.clear();
  spkiByCert.set(key, digest);
  return digest;
}

/** status.sh's pem_kind: the first PEM label in the first 64 KiB, EC PARAMETERS skipped. */
export function pemKind(content: string): PkiStatusFile['kind'] {
  const head = content.slice(0, 65_536);
  const re = /-----BEGIN ([A-Z0-9 ]+)-----/g;
  for (let m = re.exec(head); m; m = re.exec(head)) {
    const type = m[1]!;
    if (type === 'EC PARAMETERS') continue;
    if (type === 'CERTIFICATE' || type === 'TRUSTED CERTIFICATE' || type === 'X509 CERTIFICATE')
      return 'cert';
    if (type.endsWith('PRIVATE KEY')) return 'key';
    if (type === 'PUBLIC KEY' || type === 'RSA PUBLIC KEY') return 'pub';
    return 'other';
  }
  return 'other';
}

const sha = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

/** Kind, digest and error of one derived file, with status.sh's error texts. */
export function describeDerived(d: Derived): Described {
  if (d.keyFirst && d.content === undefined) {
    const block = d.pub ? splitPem(d.pub).blocks[0] : undefined;
    if (block?.label !== 'PUBLIC KEY')
      return {
        kind: 'key',
        pubkeySha256: null,
        error: 'openssl could not read the private key (encrypted or corrupt)',
      };
    return { kind: 'key', pubkeySha256: sha(Buffer.from(block.der)) };
  }
  if (d.content === undefined) {
    return { kind: 'other', pubkeySha256: null, error: `could not read: ${d.error ?? 'unknown'}` };
  }
  const kind = pemKind(d.content);
  try {
    if (kind === 'cert') {
      const block = splitPem(d.content).blocks.find((b) => b.label === 'CERTIFICATE');
      if (!block) throw new Error('no certificate block');
      return { kind, pubkeySha256: certSpkiSha256(block.der) };
    }
    if (kind === 'key') {
      // openssl's own -pubout: its PEM body is the DER SubjectPublicKeyInfo, as status.sh
      // hashes it (`-pubout -outform DER`): no need to parse the key again here.
      const block = d.pub ? splitPem(d.pub).blocks[0] : undefined;
      if (block?.label !== 'PUBLIC KEY') throw new Error('no public key');
      return { kind, pubkeySha256: sha(Buffer.from(block.der)) };
    }
    if (kind === 'pub') {
      const blocks = splitPem(d.content).blocks;
      const block = blocks.find((b) => b.label === 'PUBLIC KEY');
      if (!block) throw new Error('no public key block');
      const key = createPublicKey({ key: Buffer.from(block.der), format: 'der', type: 'spki' });
      const all = allPublicKeyDigests(blocks);
      return {
        kind,
        pubkeySha256: sha(key.export({ type: 'spki', format: 'der' })),
        ...(all ? { pubkeysSha256: all } : {}),
      };
    }
  } catch {
    const error =
      kind === 'cert'
        ? 'openssl could not read the first certificate'
        : kind === 'key'
          ? 'openssl could not read the private key (encrypted or corrupt)'
          : 'openssl could not read the public key';
    return { kind, pubkeySha256: null, error };
  }
  return { kind: 'other', pubkeySha256: null };
}

/** A directory as the caches key it: no trailing slash. */
export function normalDir(dir: string): string {
  return dir.replace(/\/+$/, '') || '/';
}

/** Files per derive request (see PkiStatusCache.status). */
const DERIVE_CHUNK = 64;

interface CachedFile {
  id: string;
  described: Described;
}

/** Runs one script on the node (the persistent shell) and returns its stdout (raw bytes). */
export type RunScript = (cmd: ShellCommand) => Promise<Buffer>;

export interface FastStatusOptions {
  node: string;
  newNonce: () => string;
  /** Files per derive request (default 64: a request costs a few processes and one openssl per key). */
  deriveChunk?: number;
}

/** Stats of one agent's cache (tests, bench). */
export interface PkiStatusCacheStats {
  /** Identity requests sent. */
  identity: number;
  /** Derive requests sent. */
  derive: number;
  /** Files derived (sent or `-pubout`ed) so far. */
  derived: number;
  /** Refreshes answered by status.sh itself (see `fallback`). */
  fallbacks: number;
  /** Key files whose public key needed their own `openssl pkey` (pubScript). */
  pubFallback: number;
  /** Files taken from the certificate read (`seed`) instead of a derive request. */
  seeded: number;
  /** Files taken from a certificate read's key section (`seedDerived`). */
  seededKeys: number;
}

/**
 * Per node (one per SshNodeAgent): what each PKI file of each directory was found to be,
 * keyed by its identity. `status()` returns the status document, or `{fallback}` when the
 * caller must run status.sh itself.
 */
export class PkiStatusCache {
  private readonly dirs = new Map<string, Map<string, CachedFile>>();
  readonly stats: PkiStatusCacheStats = {
    identity: 0,
    derive: 0,
    derived: 0,
    fallbacks: 0,
    pubFallback: 0,
    seeded: 0,
    seededKeys: 0,
  };

  constructor(private readonly opts: FastStatusOptions) {}

  /**
   * A file of `pkiDir` the certificate read already has: its content (as that read sent
   * it: the file's bytes, or with each private key block's body replaced on the node —
   * the same bytes the derive request would send) and its identity just before that read.
   * Remembered under that identity, so a status whose `stat` shows the same identity does
   * not ask for the file again (issue 13: the certificates of a cold refresh went over the
   * wire twice, with a `wc` and a `cat` more on the node). A file whose first PEM block is
   * a private key is not taken: its public key is derived on the node.
   */
  seed(pkiDir: string, name: string, id: string, content: string): void {
    if (!SAFE_NAME.test(name) || id === '' || pemKind(content) === 'key') return;
    const dir = normalDir(pkiDir);
    let known = this.dirs.get(dir);
    if (!known) {
      known = new Map();
      this.dirs.set(dir, known);
    }
    if (known.get(name)?.id === id) return;
    known.set(name, { id, described: describeDerived({ content }) });
    this.stats.seeded++;
  }

  /** Nothing is known of `pkiDir` yet: a certificate read may bring its key section. */
  isCold(pkiDir: string): boolean {
    return (this.dirs.get(normalDir(pkiDir))?.size ?? 0) === 0;
  }

  /**
   * A file the key section of a certificate read derived (certDirKeysSection), under the
   * identity the read's `stat` gave it just before: remembered as a derive request's answer
   * would be. Not taken: a file not read or not derived (an error, over the budget, a key
   * storeutl left to `openssl pkey`); the status's derive request then asks for it.
   */
  seedDerived(pkiDir: string, name: string, id: string, d: Derived): void {
    if (!SAFE_NAME.test(name) || id === '' || d.pubPending) return;
    if (d.content === undefined && !d.keyFirst) return;
    if (d.keyFirst && d.pub === undefined) return;
    const dir = normalDir(pkiDir);
    let known = this.dirs.get(dir);
    if (!known) {
      known = new Map();
      this.dirs.set(dir, known);
    }
    known.set(name, { id, described: describeDerived(d) });
    this.stats.seededKeys++;
  }

  /**
   * `identity` (optional) gives request 1's answer for the directory — the agent shares one
   * `stat` request between the calls that want it at the same time (the certificate read
   * compares it with what it read last time); without it, `run` sends the request here.
   */
  async status(
    pkiDir: string,
    run: RunScript,
    identity?: (dir: string) => Promise<IdentityResult>,
  ): Promise<PkiStatus | { fallback: string } | { nodir: true }> {
    const dir = normalDir(pkiDir);
    this.stats.identity++;
    let ident: IdentityResult;
    if (identity) ident = await identity(dir);
    else {
      const nonce = this.opts.newNonce();
      ident = parseIdentity((await run(identityScript(dir, nonce))).toString('utf8'), nonce);
    }
    trace('pki:identity', { node: this.opts.node, kind: ident.kind });
    if (ident.kind === 'nodir') return { nodir: true };
    if (ident.kind === 'fallback') return this.fallback(ident.reason);
    const known = this.dirs.get(dir) ?? new Map<string, CachedFile>();
    const next = new Map<string, CachedFile>();
    const todo: IdentityEntry[] = [];
    let bytes = 0;
    for (const e of ident.entries) {
      if (e.type !== 'file' || !e.readable) continue;
      const c = known.get(e.name);
      if (c && c.id === e.id) next.set(e.name, c);
      else {
        if (e.size > MAX_LOCAL_READ) return this.fallback('a file over 1 MiB');
        bytes += e.size;
        todo.push(e);
      }
    }
    if (bytes > READ_BUDGET_BYTES) return this.fallback('more bytes than one request reads');
    // In requests of DERIVE_CHUNK files, each remembered as soon as it is answered: a
    // refresh cut short (its timeout on a busy node) keeps what it derived, and the next
    // one goes on from there instead of starting over.
    this.dirs.set(dir, known);
    // (A large directory goes in 4 requests at most: round trips cost more than a retry.)
    const per = Math.max(this.opts.deriveChunk ?? DERIVE_CHUNK, Math.ceil(todo.length / 4));
    for (let k = 0; k < todo.length; k += per) {
      const chunk = todo.slice(k, k + per);
      const n2 = this.opts.newNonce();
      this.stats.derive++;
      const names = chunk.map((e) => e.name);
      const sep = keySeparator();
      const derived = parseDerive(await run(deriveScript(dir, names, n2, sep)), n2, names, sep);
      trace('pki:derived', { node: this.opts.node, files: names.length });
      // Key files the one storeutl could not pair: their own `openssl pkey` (rare: an
      // encrypted or unusual key, or a node without storeutl or awk).
      const pending = names.flatMap((name, index) =>
        derived[index]!.pubPending ? [{ index, name }] : [],
      );
      if (pending.length > 0) {
        const n3 = this.opts.newNonce();
        this.stats.pubFallback += pending.length;
        const got = parseDerive(await run(pubScript(dir, pending, n3)), n3, names);
        for (const { index } of pending) {
          const d = derived[index]!;
          delete d.pubPending;
          d.pub = got[index]?.pub ?? null;
        }
      }
      chunk.forEach((e, i) => {
        const d = derived[i]!;
        const described = describeDerived(d);
        this.stats.derived++;
        // A file that could not be read now (vanished, denied meanwhile) is not remembered.
        const c = { id: d.content !== undefined || d.keyFirst ? e.id : '', described };
        next.set(e.name, c);
        known.set(e.name, c);
      });
    }
    this.dirs.set(dir, next);
    const files: PkiStatusFile[] = ident.entries.map((e) => {
      const base: PkiStatusFile = {
        path: dir === '/' ? `//${e.name}` : `${dir}/${e.name}`,
        kind: 'other',
        exists: e.type === 'file',
        mode: Number.parseInt(e.mode, 8),
        owner: e.owner,
        group: e.group,
        size: e.size,
        pubkeySha256: null,
      };
      if (e.type === 'dangling') return { ...base, error: 'dangling symlink' };
      if (!e.readable) return { ...base, error: `not readable by ${ident.user}` };
      const c = next.get(e.name)!;
      const out: PkiStatusFile = { ...base, ...c.described };
      if (out.error === undefined) delete out.error;
      return out;
    });
    return { version: 1, node: this.opts.node, pkiDir: dir, files };
  }

  private fallback(reason: string): { fallback: string } {
    this.stats.fallbacks++;
    return { fallback: reason };
  }
}
