/**
 * The remote POSIX sh scripts SshNodeAgent runs (built only from validated, quoted values)
 * and the pure parsers of their output. Parsers never throw: every requested item comes
 * back, as a value or a per-item error (truncated output, garbage, missing frames).
 *
 * The builders return plain POSIX sh scripts: SshHost.run evaluates them in a persistent
 * shell, or runs them with `sh -c` over exec. SshNodeAgent sends each inside withDeadline,
 * so nothing a request starts on the node outlives the request's deadline. Every script is
 * linear in the number of files (no list rebuilt per file), opens only regular files, and
 * reads none over MAX_LOCAL_READ (the size is checked on the node first).
 *
 * Framing: every line the scripts emit for an item starts with `K8OPS-<nonce> <index> `,
 * where the nonce is random per call and the index points into the caller's list, so no
 * file content or path can forge a frame: per-file frames carry base64, and the batched
 * readFiles frame carries raw bytes that the parser skips by their announced sizes.
 */
import { randomBytes } from 'node:crypto';
import {
  intArg,
  remotePath,
  type ShellArg,
  type ShellCommand,
  sh,
  token,
  unitName,
  words,
} from '../ssh/quote.js';
import type { FileRead, FileStat, UnitActiveState, UnitState } from '../store/io.js';
import { MAX_LOCAL_READ, tooLargeError } from './local-read.js';

export function newNonce(): string {
  return randomBytes(9).toString('base64url');
}

function concat(cmds: ShellCommand[]): ShellCommand {
  return { text: cmds.map((c) => c.text).join('\n') };
}

// ---------------------------------------------------------------------------------------
// Deadline: nothing of a request outlives it on the node
// ---------------------------------------------------------------------------------------

/** Whole seconds of node-side deadline for a call of `timeoutMs` (its own, plus a margin). */
export function deadlineSeconds(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / 1000)) + 1;
}

/**
 * `cmd` with a node-side deadline: once `seconds` have passed, a watchdog kills the
 * request's whole process group with KILL — the script, its `wc`/`cat`/`stat`/`openssl`/…,
 * whatever blocks them — so a request k8ops gave up on (timeout, abort, a dropped
 * connection, a reaper that could not run) ends on the node by itself. The group is the SSH
 * session's (sshd makes each session its own group): nothing outside this request's
 * session is touched. On a persistent shell that is the shell itself, which k8ops has
 * already given up on by then (its own deadline, started before the request was sent, is
 * the shorter).
 *
 * How (POSIX sh, three processes: the `sleep`, the script's subshell, the shell that waits
 * for them): the `sleep` starts first, then the script in a subshell in the background,
 * with stdin kept (fd 7: an asynchronous list would get /dev/null) and an EXIT trap that
 * kills the `sleep`; HUP, PIPE and TERM end the subshell through that trap too (as an
 * asynchronous list it ignores INT and QUIT, as POSIX has it; k8ops only ever sends
 * KILL). The shell waits for the `sleep`: killed (the script ended) → it waits for the
 * script and exits with its status; ran out (the deadline) → `kill -KILL 0`. No race:
 * the `sleep`'s pid is known before the script starts. The script must not replace its
 * subshell (`exec cmd`) nor set its own EXIT trap (none of k8ops' scripts does): its end
 * would then go unnoticed until the deadline. Something the script leaves running in the
 * background is not waited for (none of k8ops' scripts does that either). The pipeline
 * this replaces (a status pipe read by a second subshell) cost two more forks per request,
 * ~3–4 ms of a node's CPU on the bench's machine, where a fork costs ~1.4 ms.
 */
export function withDeadline(cmd: ShellCommand, seconds: number): ShellCommand {
  return concat([
    sh`exec 7<&0
sleep ${intArg(seconds)} >/dev/null 2>&1 7<&- &
K8OPS_T=$!
(
trap 'kill "$K8OPS_T" 2>/dev/null' EXIT
trap 'exit 129' HUP
trap 'exit 141' PIPE
trap 'exit 143' TERM`,
    cmd,
    sh`) <&7 7<&- &
K8OPS_P=$!
exec 7<&-
if wait "$K8OPS_T" 2>/dev/null; then kill -KILL 0; fi
wait "$K8OPS_P"`,
  ]);
}

// ---------------------------------------------------------------------------------------
// What every node script shares
// ---------------------------------------------------------------------------------------

/**
 * The most bytes of file content one readFiles/readCertDir request sends: files past it are
 * reported (`budget`) instead of read, so many large files cannot push the whole answer over
 * the transport's output cap (16 MiB) and cost the node every other file.
 */
export const READ_BUDGET_BYTES = 8 << 20;

/**
 * What a private key block's body becomes when a certificate file holding one is read
 * (base64 of `KEY REDACTED ON THE NODE`): the block's label still tells the checks that key
 * material sits in a certificate file, and no byte of the key leaves the node.
 */
export const REDACTED_KEY_BODY = Buffer.from('KEY REDACTED ON THE NODE').toString('base64');
const REDACTED = token(REDACTED_KEY_BODY);

const MAX = intArg(MAX_LOCAL_READ);
const MAX_DIGITS = intArg(String(MAX_LOCAL_READ).length);

/**
 * Shell functions of the read scripts (POSIX sh; the caller sets M=K8OPS-<nonce>):
 *   t <index> <path>  prints `K8OPS-N i missing|isdir|notreg|denied` and fails, or
 *                     succeeds silently for a readable regular file. Only `test` looks at
 *                     the path: nothing is opened (a FIFO, a device or a socket never is).
 *   r <index> <path>  one per-file frame: t's status, `K8OPS-N i toobig` (size checked on
 *                     the node before reading), or `K8OPS-N i data`, the base64 on one line,
 *                     `K8OPS-N i end`.
 *   c <index> <path>  t with its status on fd 3; a readable regular file is printed as a
 *                     candidate line `<index> <path>` (on stdout, collected by the caller).
 */
const READERS = sh`K8OPS_KEYRE='-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----'
t() {
  if [ ! -e "$2" ]; then K8OPS_ST=missing
  elif [ -d "$2" ]; then K8OPS_ST=isdir
  elif [ ! -f "$2" ]; then K8OPS_ST=notreg
  elif [ ! -r "$2" ]; then K8OPS_ST=denied
  else return 0
  fi
  printf '%s %s %s\\n' "$M" "$1" "$K8OPS_ST"
  return 1
}
r() {
  t "$1" "$2" || return 0
  K8OPS_Z=$(stat -L -c %s -- "$2" 2>/dev/null) || K8OPS_Z=
  case $K8OPS_Z in
    '' | *[!0-9]*) printf '%s %s data\\n!\\n%s %s end\\n' "$M" "$1" "$M" "$1"; return ;;
  esac
  if [ \${#K8OPS_Z} -gt ${MAX_DIGITS} ] || [ "$K8OPS_Z" -gt ${MAX} ]; then
    printf '%s %s toobig\\n' "$M" "$1"
    return
  fi
  printf '%s %s data\\n' "$M" "$1"
  if grep -q -e "$K8OPS_KEYRE" -- "$2" 2>/dev/null; then
    { ksed < "$2" | base64 || printf '!'; } 2>/dev/null | tr -d '\\n'
  else
    { base64 < "$2" || printf '!'; } 2>/dev/null | tr -d '\\n'
  fi
  printf '\\n%s %s end\\n' "$M" "$1"
}
ksed() {
  sed -e "/$K8OPS_KEYRE/,/-----END [A-Z0-9 ]*PRIVATE KEY-----/{
/-----/!d
}" -e "/$K8OPS_KEYRE/a\\
${REDACTED}"
}`;

/** `c`: see READERS (for the batch scripts, whose candidates BATCH_BODY reads). */
const CANDIDATE = sh`c() {
  t "$1" "$2" >&3 && printf '%s %s\\n' "$1" "$2"
}`;

/**
 * The batch (shared by readFilesBatchScript and readCertDirScript): the candidates in
 * $K8OPS_L, one `<index> <path>` line each (paths never hold a newline: validated, or
 * plain ASCII names), are sized by one `wc -c`; each over MAX_LOCAL_READ is reported
 * `toobig`, each past the request's READ_BUDGET_BYTES `budget`; the rest go out in one
 * `cat`. Emits
 *   K8OPS-N sizes <i> <j> …      (indices of the files that follow, in order)
 *   <one `<size> <path>` line per file>
 *   K8OPS-N data
 *   <the files' bytes, concatenated>
 *   \nK8OPS-N end <cat's exit status>
 * then `K8OPS-N done`. If `wc` fails, every candidate gets a per-file frame (r) instead.
 *
 * Linear in the number of files: every list is built by one command substitution and split
 * once on newlines (never `set -- "$@" x` or `I="$I x"`, which copy the whole list per
 * file), and lists are walked with `for`, never `shift` (which copies the rest in dash).
 * Status lines go out on fd 3 (the script's stdout) from inside the substitutions.
 * `budgetBytes` caps what one batch sends (READ_BUDGET_BYTES for the read scripts).
 */
export function batchBody(budgetBytes: number): ShellCommand {
  const BUDGET = intArg(budgetBytes);
  return sh`if [ -n "$K8OPS_L" ]; then
  IFS='
'
  set -f
  # shellcheck disable=SC2046 # split on newlines (IFS), no globbing (set -f): one path each
  set -- $(for l in $K8OPS_L; do printf '%s\\n' "\${l#* }"; done)
  if K8OPS_W=$(wc -c -- "$@" 2>/dev/null); then
    K8OPS_K=$(b=0
      for l in $K8OPS_L; do
        IFS=' ' read -r z _ <&4 || z=
        i=\${l%% *}
        case $z in
          '' | *[!0-9]* | 0?*) r "$i" "\${l#* }" >&3 ;;
          *)
            if [ \${#z} -gt ${MAX_DIGITS} ] || [ "$z" -gt ${MAX} ]; then
              printf '%s %s toobig\\n' "$M" "$i" >&3
            elif [ $((b + z)) -gt ${BUDGET} ]; then
              printf '%s %s budget\\n' "$M" "$i" >&3
            else
              b=$((b + z))
              printf '%s %s %s\\n' "$i" "$z" "\${l#* }"
            fi
            ;;
        esac
      done 4<<K8OPS_EOF
$K8OPS_W
K8OPS_EOF
    )
    if [ -n "$K8OPS_K" ]; then
      # A private key inside a certificate file never leaves the node: such files go out
      # per file (r), with each key block's body replaced on the node (ksed).
      # shellcheck disable=SC2046 # as above
      K8OPS_P=$(grep -l -e "$K8OPS_KEYRE" -- $(for l in $K8OPS_K; do l=\${l#* }; printf '%s\\n' "\${l#* }"; done) 2>/dev/null)
      if [ -n "$K8OPS_P" ]; then
        K8OPS_K=$(for l in $K8OPS_K; do
          p=\${l#* }
          p=\${p#* }
          case "
$K8OPS_P
" in
            *"
$p
"*) r "\${l%% *}" "$p" >&3 ;;
            *) printf '%s\\n' "$l" ;;
          esac
        done)
      fi
    fi
    if [ -n "$K8OPS_K" ]; then
      printf '%s sizes' "$M"
      for l in $K8OPS_K; do printf ' %s' "\${l%% *}"; done
      printf '\\n'
      for l in $K8OPS_K; do printf '%s\\n' "\${l#* }"; done
      printf '%s data\\n' "$M"
      # shellcheck disable=SC2046 # as above
      set -- $(for l in $K8OPS_K; do l=\${l#* }; printf '%s\\n' "\${l#* }"; done)
      cat -- "$@" 2>/dev/null
      printf '\\n%s end %s\\n' "$M" "$?"
    fi
  else
    for l in $K8OPS_L; do r "\${l%% *}" "\${l#* }"; done
  fi
fi
printf '%s done\\n' "$M"`;
}

const BATCH_BODY = batchBody(READ_BUDGET_BYTES);

/**
 * A batch read (readFilesBatchScript's frames, `K8OPS-N done` last) with `before` run
 * after the prelude (a `cd`, shell functions) and `middle` between the candidates and the
 * batch: `middle` may print its own frames on fd 3 and rewrite $K8OPS_L (the
 * `<index> <path>` lines still to read in the batch). For the PKI status's derive request
 * (src/nodes/pki-status-fast.ts). `calls` are `c <i> <path>` lines.
 */
export function batchReadAround(
  nonce: string,
  parts: { before: ShellCommand; calls: ShellCommand[]; middle: ShellCommand },
): ShellCommand {
  const { before, calls, middle } = parts;
  return concat([
    prelude(nonce),
    CANDIDATE,
    before,
    sh`exec 3>&1
K8OPS_L=`,
    ...substitution(calls),
    middle,
    BATCH_BODY,
  ]);
}

/** `K8OPS_L=$(<calls>)`: the candidate lines the calls print (none without calls). */
function substitution(calls: ShellCommand[]): ShellCommand[] {
  return calls.length === 0 ? [] : [sh`K8OPS_L=$(`, ...calls, sh`)`];
}

/** The read scripts' prelude (M=K8OPS-<nonce>, C locale, READERS: t, r, ksed) for other node scripts. */
export function readersPrelude(nonce: string): ShellCommand {
  return prelude(nonce);
}

function prelude(nonce: string): ShellCommand {
  return concat([
    sh`M=K8OPS-${token(nonce)}
LC_ALL=C
export LC_ALL`,
    READERS,
  ]);
}

// ---------------------------------------------------------------------------------------
// readFiles
// ---------------------------------------------------------------------------------------

/**
 * One script that emits, per path i (the race-free fallback: a few processes per file):
 *   K8OPS-N i missing | isdir | notreg | denied | toobig
 * or
 *   K8OPS-N i data \n <base64 on one line> \n K8OPS-N i end
 * and finally `K8OPS-N done`. Only regular files are opened, and only up to
 * MAX_LOCAL_READ bytes (their size is checked first).
 */
export function readFilesScript(paths: readonly string[], nonce: string): ShellCommand {
  const args = paths.map((p) => remotePath(p)); // validates all before anything is built
  const calls = args.map((a: ShellArg, i) => sh`r ${intArg(i)} ${a}`);
  return concat([prelude(nonce), ...calls, sh`printf '%s done\\n' "$M"`]);
}

/**
 * readFiles in a few remote processes for any number of files: the readable regular ones
 * are sized with one `wc -c` and sent raw with one `cat` (BATCH_BODY). Emits the per-path
 * status lines of readFilesScript for the others, then the batch frames, then
 * `K8OPS-N done`. The parser splits the bytes by the sizes and checks that the end marker
 * sits exactly after them; a file that changed size between `wc` and `cat` makes the batch
 * inconsistent and its files are reported for a per-file retry (parseReadFilesBatch).
 */
export function readFilesBatchScript(paths: readonly string[], nonce: string): ShellCommand {
  const args = paths.map((p) => remotePath(p)); // validates all before anything is built
  const calls = args.map((a: ShellArg, i) => sh`c ${intArg(i)} ${a}`);
  return concat([
    prelude(nonce),
    CANDIDATE,
    sh`exec 3>&1
K8OPS_L=`,
    ...substitution(calls),
    BATCH_BODY,
  ]);
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The per-file statuses the read scripts send instead of content. */
type FileStatus = 'missing' | 'isdir' | 'notreg' | 'denied' | 'toobig' | 'budget';

/** `<index> <status>` (or `<index> data`, a per-file frame) after the nonce marker. */
const STATUS_LINE = /^(\d+) (missing|isdir|notreg|denied|toobig|budget|data)$/;

const STATUS_ERRORS: Record<FileStatus, string> = {
  missing: 'no such file',
  isdir: 'is a directory',
  notreg: 'not a regular file',
  denied: 'permission denied',
  toobig: tooLargeError(MAX_LOCAL_READ),
  budget: `not read: over the ${READ_BUDGET_BYTES >> 20} MiB a request may read`,
};

function statusError(path: string, status: FileStatus): FileRead {
  return { path, ok: false, error: STATUS_ERRORS[status], missing: status === 'missing' };
}

/** Parse readFilesScript output. */
export function parseReadFiles(
  output: string,
  nonce: string,
  paths: readonly string[],
): FileRead[] {
  const marker = `K8OPS-${nonce} `;
  const results: (FileRead | undefined)[] = paths.map(() => undefined);
  const lines = output.split('\n');
  let sawDone = false;
  const err = (path: string, error: string, missing = false): FileRead => ({
    path,
    ok: false,
    error,
    missing,
  });
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith(marker)) continue;
    const rest = line.slice(marker.length);
    if (rest === 'done') {
      sawDone = true;
      continue;
    }
    const m = STATUS_LINE.exec(rest);
    if (!m) continue;
    const idx = Number(m[1]);
    const path = paths[idx];
    if (path === undefined || results[idx] !== undefined) continue;
    if (m[2] !== 'data') {
      results[idx] = statusError(path, m[2] as FileStatus);
      continue;
    }
    const body = lines[i + 1];
    const end = lines[i + 2];
    if (body === undefined || end === undefined) {
      results[idx] = err(path, 'truncated output');
      break;
    }
    if (end !== `${marker}${idx} end`) {
      results[idx] = err(path, 'corrupt frame (no end marker)');
      continue;
    }
    i += 2;
    results[idx] = decodeB64Frame(path, body, end, `${marker}${idx} end`);
  }
  return results.map(
    (r, i) => r ?? err(paths[i]!, sawDone ? 'no result for this file' : 'truncated output'),
  );
}

export interface BatchReadResult {
  /** One entry per requested path, in order (errors for the ones in `retry`). */
  files: FileRead[];
  /**
   * Indices whose batch was inconsistent (a size changed between `wc` and `cat`, or `cat`
   * failed): read them again with readFilesScript, which is race-free per file.
   */
  retry: number[];
}

/** Parse readFilesBatchScript output (raw bytes). Never throws. */
export function parseReadFilesBatch(
  output: Buffer,
  nonce: string,
  paths: readonly string[],
): BatchReadResult {
  const marker = `K8OPS-${nonce} `;
  const results: (FileRead | undefined)[] = paths.map(() => undefined);
  const retry: number[] = [];
  const err = (path: string, error: string, missing = false): FileRead => ({
    path,
    ok: false,
    error,
    missing,
  });
  let pos = 0;
  let sawDone = false;
  /** The next complete line (without its newline), or undefined at the end / a cut line. */
  const nextLine = (): string | undefined => {
    if (pos >= output.length) return undefined;
    const nl = output.indexOf(0x0a, pos);
    if (nl < 0) {
      pos = output.length;
      return undefined;
    }
    const line = output.toString('utf8', pos, nl);
    pos = nl + 1;
    return line;
  };
  const fresh = (idx: number) => paths[idx] !== undefined && results[idx] === undefined;
  for (let line = nextLine(); line !== undefined; line = nextLine()) {
    if (!line.startsWith(marker)) continue;
    const rest = line.slice(marker.length);
    if (rest === 'done') {
      sawDone = true;
      continue;
    }
    const status = STATUS_LINE.exec(rest);
    if (status) {
      const idx = Number(status[1]);
      if (!fresh(idx)) continue;
      const path = paths[idx]!;
      if (status[2] !== 'data') results[idx] = statusError(path, status[2] as FileStatus);
      else {
        // a per-file frame (the script's own fallback when `wc` failed)
        const body = nextLine();
        const end = nextLine();
        if (body === undefined || end === undefined) {
          results[idx] = err(path, 'truncated output');
          break;
        }
        results[idx] = decodeB64Frame(path, body, end, `${marker}${idx} end`);
      }
      continue;
    }
    const sizes = /^sizes((?: \d+)+)$/.exec(rest);
    if (!sizes) continue;
    const indices = sizes[1]!.trim().split(' ').map(Number);
    const usable = indices.every(fresh) && new Set(indices).size === indices.length;
    const lens: number[] = [];
    let sawData = false;
    for (let l = nextLine(); l !== undefined; l = nextLine()) {
      if (l === `${marker}data`) {
        sawData = true;
        break;
      }
      const m = /^\s*(\d+)\s/.exec(l);
      if (m && lens.length < indices.length) lens.push(Number(m[1]));
      if (lens.length > indices.length + 2) break;
    }
    const endPrefix = `\n${marker}end `;
    const total = lens.reduce((a, b) => a + b, 0);
    const exactEnd = Buffer.from(`${endPrefix}0\n`, 'utf8');
    const consistent =
      usable &&
      sawData &&
      lens.length === indices.length &&
      Number.isSafeInteger(total) &&
      pos + total + exactEnd.length <= output.length &&
      output.subarray(pos + total, pos + total + exactEnd.length).equals(exactEnd);
    if (consistent) {
      let at = pos;
      indices.forEach((idx, k) => {
        const len = lens[k]!;
        results[idx] =
          len > MAX_LOCAL_READ // the node checks this; a node that did not is not trusted
            ? statusError(paths[idx]!, 'toobig')
            : { path: paths[idx]!, ok: true, content: output.toString('utf8', at, at + len) };
        at += len;
      });
      pos += total + exactEnd.length;
      continue;
    }
    if (!usable) continue; // garbage: leave those paths to the final "no result"
    // Resynchronise on the end marker (the content cannot contain it: the nonce is random).
    const endAt = sawData ? output.indexOf(endPrefix, pos, 'utf8') : -1;
    if (endAt < 0) {
      for (const idx of indices) results[idx] = err(paths[idx]!, 'truncated output');
      break;
    }
    for (const idx of indices) {
      results[idx] = err(paths[idx]!, 'file changed while reading');
      retry.push(idx);
    }
    const nl = output.indexOf(0x0a, endAt + endPrefix.length);
    pos = nl < 0 ? output.length : nl + 1;
  }
  const files = results.map(
    (r, i) => r ?? err(paths[i]!, sawDone ? 'no result for this file' : 'truncated output'),
  );
  return { files, retry };
}

function decodeB64Frame(path: string, body: string, end: string, expectedEnd: string): FileRead {
  const err = (error: string): FileRead => ({ path, ok: false, error, missing: false });
  if (end !== expectedEnd) return err('corrupt frame (no end marker)');
  if (body.endsWith('!')) return err('read error');
  if (!B64.test(body) || body.length % 4 !== 0) return err('corrupt frame (bad base64)');
  const bytes = Buffer.from(body, 'base64');
  // The node checks the size before reading; a file that grew in between is refused here.
  if (bytes.length > MAX_LOCAL_READ) return statusError(path, 'toobig');
  return { path, ok: true, content: bytes.toString('utf8') };
}

// ---------------------------------------------------------------------------------------
// A directory's identity (parsed by parseIdentity, src/nodes/pki-status-fast.ts)
// ---------------------------------------------------------------------------------------

/**
 * Sets K8OPS_ODD when an entry of "$@" (the current directory's `* .[!.]* ..?*`) has a
 * name outside [A-Za-z0-9._+@-]: its identity lines could not be told apart then.
 */
export const IDENTITY_ODD = sh`K8OPS_ODD=
for f in "$@"; do
  if [ -e "$f" ] || [ -L "$f" ]; then
    case $f in *[!A-Za-z0-9._+@-]*) K8OPS_ODD=1 ;; esac
  fi
done`;

/**
 * The identity lines before the `stat` of every entry, marked `$MI`: `u <name>` per entry
 * the user cannot read, `d - <stat line>` per dangling symlink (its own stat), then
 * `user <name>` (sshd's LOGNAME/USER; `id -un` only without them). Shell builtins but for
 * the dangling symlinks' stat. After IDENTITY_ODD found no odd name.
 */
export const IDENTITY_LINES = sh`for f in "$@"; do
  if [ -e "$f" ] || [ -L "$f" ]; then
    if [ ! -r "$f" ]; then printf '%s u %s\\n' "$MI" "$f"; fi
    if [ -L "$f" ] && [ ! -e "$f" ]; then
      printf '%s d - ' "$MI"
      stat -c '%f %i %s %.9Y %.9Z %a %U %G %n' -- "$f" 2>/dev/null || printf 'x\\n'
    fi
  fi
done
printf '%s user %s\\n' "$MI" "\${LOGNAME:-\${USER:-$(id -un 2>/dev/null || echo unknown)}}"`;

// ---------------------------------------------------------------------------------------
// readCertDir: list a PKI directory and read its certificate files in one round trip
// ---------------------------------------------------------------------------------------

/**
 * List `dir` and read its certificate files, in one script (one round trip):
 *   K8OPS-N nodir                         (not a directory, or not accessible), or
 *   K8OPS-N names \n <every entry name, each followed by NUL> \n K8OPS-N picked
 *   <the names picked below, one per line: their order is the batch's indices>
 *   K8OPS-N endpicked
 *   <the readFilesBatchScript frames for those names, indices into the picked list: a
 *    status (notreg, denied, toobig, budget, …) or the content of each>
 *   K8OPS-N done
 * Only names of plain ASCII characters (`A-Za-z0-9._-`) that the sh patterns below take
 * for certificate files are picked here: the same rules as isCertFileName
 * (src/pki/file-names.ts), which, for such names, agree with it exactly (a test runs both).
 * Every such entry that exists and is not a directory is picked, so a FIFO, a device or an
 * oversized file comes back with its own status (never opened, never read) and the caller
 * does not ask for it again. The caller reads any other certificate file name it finds in
 * the listing with readFiles, and never a key file: a name the patterns are unsure of is
 * not read by this script. Linear in the number of entries (see BATCH_BODY).
 * `after` runs last, in the directory, with the script's state (IFS a newline, `set -f`,
 * fd 3 its stdout, $K8OPS_ODD set when a name is odd): the PKI status's key section
 * (certDirKeysSection, src/nodes/pki-status-fast.ts).
 */
export function readCertDirScript(dir: string, nonce: string, after?: ShellCommand): ShellCommand {
  const p = remotePath(dir);
  return concat([
    prelude(nonce),
    CANDIDATE,
    sh`cd -- ${p} 2>/dev/null || { printf '%s nodir\\n' "$M"; exit 0; }
printf '%s names\\n' "$M"
for f in * .[!.]* ..?*; do
  if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\\0' "$f"; fi
done
printf '\\n%s picked\\n' "$M"
K8OPS_P=$(for f in *; do
  case $f in
    .* | *[!A-Za-z0-9._-]*) continue ;;
    [Kk][Ee][Yy].[Pp][Ee][Mm] | *[-_.][Kk][Ee][Yy].[Pp][Ee][Mm]) continue ;;
    *.[Pp][Ee][Mm] | *.[Cc][Rr][Tt]) ;;
    *) continue ;;
  esac
  if [ -e "$f" ] && [ ! -d "$f" ]; then printf '%s\\n' "$f"; fi
done)
if [ -n "$K8OPS_P" ]; then printf '%s\\n' "$K8OPS_P"; fi
printf '%s endpicked\\n' "$M"
MI=\${M}i
set -- * .[!.]* ..?*`,
    IDENTITY_ODD,
    sh`if [ -z "$K8OPS_ODD" ]; then`,
    IDENTITY_LINES,
    sh`  stat -L -c "$M id %i %s %.9Y %.9Z %n
$MI f %f %i %s %.9Y %.9Z %a %U %G %n" -- . "$@" 2>/dev/null
  printf '%s done\\n' "$MI"
else
  printf '%s odd\\n' "$MI"
  if [ -n "$K8OPS_P" ]; then
    # shellcheck disable=SC2086 # plain ASCII names, one per line, no glob characters
    stat -L -c "$M id %i %s %.9Y %.9Z %n" -- $K8OPS_P 2>/dev/null
  fi
fi
IFS='
'
set -f
exec 3>&1
K8OPS_L=$(k=0; for f in $K8OPS_P; do c "$k" "$f"; k=$((k + 1)); done)`,
    BATCH_BODY,
    ...(after ? [after] : []),
  ]);
}

export type CertDirRead =
  | { kind: 'nodir' }
  | {
      kind: 'listed';
      /** Every entry of the directory, sorted. */
      names: string[];
      /**
       * The identity (inode:size:mtime:ctime, `stat -L` before the read) of each picked
       * name, when GNU stat gave one: what a later `stat` of the directory is compared with.
       */
      ids: Map<string, string>;
      /** The names the script read, in batch order (plain ASCII). */
      picked: string[];
      /** The batch result for `picked` (paths are the picked names). */
      batch: BatchReadResult;
      /**
       * The directory's identity lines (identityScript's, marked `K8OPS-<nonce>i`: parse
       * with parseIdentity and that nonce), taken by the same `stat` before the read, so a
       * PKI status of the same refresh needs no `stat` request of its own.
       */
      identity?: string;
    }
  /** Output that does not follow the protocol (cut off, garbage). */
  | { kind: 'garbled'; message: string };

/** Parse readCertDirScript output (raw bytes). Never throws. */
export function parseReadCertDir(output: Buffer, nonce: string): CertDirRead {
  const marker = `K8OPS-${nonce} `;
  const namesHead = Buffer.from(`${marker}names\n`);
  const at = output.indexOf(namesHead);
  if (at < 0) {
    return output.indexOf(`${marker}nodir\n`) >= 0
      ? { kind: 'nodir' }
      : { kind: 'garbled', message: 'no directory listing in the output' };
  }
  const pickedHead = Buffer.from(`\n${marker}picked\n`);
  const from = at + namesHead.length;
  const end = output.indexOf(pickedHead, from);
  if (end < 0) return { kind: 'garbled', message: 'truncated output (directory listing)' };
  const names = parseListDir(output.toString('utf8', from, end));
  const pickedFrom = end + pickedHead.length;
  const endPicked = Buffer.from(`${marker}endpicked\n`);
  const pickedEnd = output.indexOf(endPicked, pickedFrom);
  if (pickedEnd < 0) return { kind: 'garbled', message: 'truncated output (file list)' };
  const picked = output
    .toString('utf8', pickedFrom, pickedEnd)
    .split('\n')
    .filter((x) => x !== '');
  const rest = output.subarray(pickedEnd + endPicked.length);
  const ids = new Map<string, string>();
  const idLine = new RegExp(
    `^${marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}id (\\d+) (\\d+) (\\d+(?:\\.\\d+)?) (\\d+(?:\\.\\d+)?) ([A-Za-z0-9._-]+)$`,
  );
  // The id lines and the identity's (`K8OPS-Ni …`) come first, before the batch's frames.
  const identityMarker = `K8OPS-${nonce}i `;
  const idPrefix = `${marker}id `;
  const identity: string[] = [];
  for (let pos = 0; pos < rest.length; ) {
    const nl = rest.indexOf(0x0a, pos);
    if (nl < 0) break;
    const line = rest.toString('utf8', pos, nl);
    pos = nl + 1;
    if (line.startsWith(identityMarker)) {
      identity.push(line);
      continue;
    }
    if (!line.startsWith(idPrefix)) break;
    // Every entry has one (the identity's stat); only the picked ones are kept.
    const m = idLine.exec(line);
    if (m && picked.includes(m[5]!)) ids.set(m[5]!, `${m[1]}:${m[2]}:${m[3]}:${m[4]}`);
  }
  const batch = parseReadFilesBatch(rest, nonce, picked);
  return {
    kind: 'listed',
    names,
    ids,
    picked,
    batch,
    ...(identity.length > 0 ? { identity: `${identity.join('\n')}\n` } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// stat
// ---------------------------------------------------------------------------------------

/**
 * Per path: `K8OPS-N i missing` or `K8OPS-N i ok <octal mode> <user> <group> <size> <%F…>`
 * (or `K8OPS-N i error <message>`), then `K8OPS-N done`. The existing paths are stat'ed
 * by one `stat` process, whose lines come in argument order; if it fails (a path vanished
 * in between), every path is stat'ed on its own.
 */
export function statScript(paths: readonly string[], nonce: string): ShellCommand {
  const args = paths.map((p) => remotePath(p));
  const head = sh`M=K8OPS-${token(nonce)}
LC_ALL=C
export LC_ALL
K8OPS_L=
e() {
  if [ -e "$2" ] || [ -L "$2" ]; then printf '%s %s\\n' "$1" "$2"; return; fi
  printf '%s %s missing\\n' "$M" "$1" >&3
}
s() {
  if [ ! -e "$2" ] && [ ! -L "$2" ]; then printf '%s %s missing\\n' "$M" "$1"; return; fi
  if K8OPS_O=$(stat -c '%a %U %G %s %F' -- "$2" 2>&1); then
    printf '%s %s ok %s\\n' "$M" "$1" "$K8OPS_O"
  else
    printf '%s %s error %s\\n' "$M" "$1" "$(printf '%s' "$K8OPS_O" | tr '\\n' ' ')"
  fi
}
exec 3>&1`;
  const calls = args.map((a, i) => sh`e ${intArg(i)} ${a}`);
  // Linear: the existing paths are collected by one command substitution and split once,
  // and stat's lines are walked beside them with `for` + `read` (see BATCH_BODY).
  const body = sh`if [ -n "$K8OPS_L" ]; then
  IFS='
'
  set -f
  # shellcheck disable=SC2046 # split on newlines (IFS), no globbing (set -f): one path each
  set -- $(for l in $K8OPS_L; do printf '%s\\n' "\${l#* }"; done)
  if K8OPS_W=$(stat -c '%a %U %G %s %F' -- "$@" 2>/dev/null); then
    for l in $K8OPS_L; do
      IFS= read -r x <&4 || x=
      if [ -n "$x" ]; then printf '%s %s ok %s\\n' "$M" "\${l%% *}" "$x"; else s "\${l%% *}" "\${l#* }"; fi
    done 4<<K8OPS_EOF
$K8OPS_W
K8OPS_EOF
  else
    for l in $K8OPS_L; do s "\${l%% *}" "\${l#* }"; done
  fi
fi
printf '%s done\\n' "$M"`;
  return concat([head, ...substitution(calls), body]);
}

function kindOf(f: string): 'file' | 'dir' | 'link' | 'other' {
  if (f === 'regular file' || f === 'regular empty file') return 'file';
  if (f === 'directory') return 'dir';
  if (f === 'symbolic link') return 'link';
  return 'other';
}

export function parseStat(output: string, nonce: string, paths: readonly string[]): FileStat[] {
  const marker = `K8OPS-${nonce} `;
  const results: (FileStat | undefined)[] = paths.map(() => undefined);
  let sawDone = false;
  for (const line of output.split('\n')) {
    if (!line.startsWith(marker)) continue;
    const rest = line.slice(marker.length);
    if (rest === 'done') {
      sawDone = true;
      continue;
    }
    const m = /^(\d+) (missing|ok|error)(?: (.*))?$/.exec(rest);
    if (!m) continue;
    const idx = Number(m[1]);
    const path = paths[idx];
    if (path === undefined || results[idx] !== undefined) continue;
    if (m[2] === 'missing') {
      results[idx] = { path, ok: false, error: 'no such file', missing: true };
    } else if (m[2] === 'error') {
      results[idx] = { path, ok: false, error: (m[3] ?? 'stat failed').trim(), missing: false };
    } else {
      const f = /^([0-7]{1,4}) (\S+) (\S+) (\d+) (.+)$/.exec(m[3] ?? '');
      if (!f) {
        results[idx] = { path, ok: false, error: 'unparsable stat output', missing: false };
        continue;
      }
      results[idx] = {
        path,
        ok: true,
        mode: Number.parseInt(f[1]!, 8),
        owner: f[2]!,
        group: f[3]!,
        size: Number(f[4]),
        kind: kindOf(f[5]!),
      };
    }
  }
  return results.map(
    (r, i) =>
      r ?? {
        path: paths[i]!,
        ok: false,
        error: sawDone ? 'no result for this path' : 'truncated output',
        missing: false,
      },
  );
}

// ---------------------------------------------------------------------------------------
// listDir, unit states, os-release
// ---------------------------------------------------------------------------------------

/** NUL-separated entry names (dotfiles included, `.`/`..` not), or exit 3 if not a directory. */
export function listDirScript(path: string): ShellCommand {
  const p = remotePath(path);
  return sh`cd -- ${p} 2>/dev/null || { echo "not a directory or not accessible" >&2; exit 3; }
for f in * .[!.]* ..?*; do
  if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\\0' "$f"; fi
done`;
}

export function parseListDir(output: string): string[] {
  return output
    .split('\0')
    .filter((s) => s !== '' && s !== '.' && s !== '..')
    .sort();
}

export function unitStatesCommand(units: readonly string[]): ShellCommand {
  const args = units.map((u) => unitName(u));
  return sh`systemctl show -p Id,LoadState,ActiveState -- ${words(args)}`;
}

const ACTIVE_STATES: readonly UnitActiveState[] = [
  'active',
  'inactive',
  'failed',
  'activating',
  'deactivating',
];

/** `systemctl show` prints one `Key=Value` block per unit, in argument order, blank-line separated. */
export function parseUnitStates(output: string, units: readonly string[]): UnitState[] {
  const blocks = output
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter(Boolean)
    .map((b) => {
      const kv = new Map<string, string>();
      for (const line of b.split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      return kv;
    });
  return units.map((unit, i) => {
    const kv = blocks[i];
    const load = kv?.get('LoadState');
    const active = kv?.get('ActiveState') as UnitActiveState | undefined;
    if (!kv || load === 'not-found' || !active || !ACTIVE_STATES.includes(active)) {
      return { unit, state: 'unknown' };
    }
    return { unit, state: active };
  });
}

/** PRETTY_NAME (or NAME VERSION) from /etc/os-release text. */
export function parseOsRelease(text: string): string | undefined {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) {
      v = v.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    }
    kv.set(m[1]!, v);
  }
  const pretty = kv.get('PRETTY_NAME');
  if (pretty) return pretty;
  const name = kv.get('NAME');
  if (name) return [name, kv.get('VERSION')].filter(Boolean).join(' ');
  return undefined;
}
