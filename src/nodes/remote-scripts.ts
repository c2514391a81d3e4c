/**
 * The remote POSIX sh scripts SshNodeAgent runs (built only from validated, quoted values)
 * and the pure parsers of their output. Parsers never throw: every requested item comes
 * back, as a value or a per-item error (truncated output, garbage, missing frames).
 *
 * The builders return plain POSIX sh scripts: SshHost.run evaluates them in a persistent
 * shell, or runs them with `sh -c` over exec.
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

export function newNonce(): string {
  return randomBytes(9).toString('base64url');
}

function concat(cmds: ShellCommand[]): ShellCommand {
  return { text: cmds.map((c) => c.text).join('\n') };
}

// ---------------------------------------------------------------------------------------
// readFiles
// ---------------------------------------------------------------------------------------

/** `r <index> <path>`: one per-file frame (base64 of the content). */
const PER_FILE_READER = sh`r() {
  if [ ! -e "$2" ]; then printf '%s %s missing\\n' "$M" "$1"; return; fi
  if [ -d "$2" ]; then printf '%s %s isdir\\n' "$M" "$1"; return; fi
  if [ ! -r "$2" ]; then printf '%s %s denied\\n' "$M" "$1"; return; fi
  printf '%s %s data\\n' "$M" "$1"
  { base64 < "$2" || printf '!'; } 2>/dev/null | tr -d '\\n'
  printf '\\n%s %s end\\n' "$M" "$1"
}`;

/**
 * One script that emits, per path i (two processes per file: the race-free fallback):
 *   K8OPS-N i missing | K8OPS-N i isdir | K8OPS-N i denied
 * or
 *   K8OPS-N i data \n <base64 on one line> \n K8OPS-N i end
 * and finally `K8OPS-N done`.
 */
export function readFilesScript(paths: readonly string[], nonce: string): ShellCommand {
  const args = paths.map((p) => remotePath(p)); // validates all before anything is built
  const n = token(nonce);
  const head = concat([sh`M=K8OPS-${n}`, PER_FILE_READER]);
  const calls = args.map((a: ShellArg, i) => sh`r ${intArg(i)} ${a}`);
  return concat([head, ...calls, sh`printf '%s done\\n' "$M"`]);
}

/**
 * readFiles in two remote processes for any number of files: the readable ones are sized
 * with one `wc -c` and sent raw with one `cat`. Emits the per-path status lines of
 * readFilesScript for missing/isdir/denied paths, then
 *   K8OPS-N sizes <i> <j> …      (indices of the files that follow, in order)
 *   <wc -c output: one `<size> <name>` line per file, then a total line>
 *   K8OPS-N data
 *   <the files' bytes, concatenated>
 *   \nK8OPS-N end <cat's exit status>
 *   K8OPS-N done
 * The parser splits the bytes by the sizes and checks that the end marker sits exactly
 * after them; a file that changed size between `wc` and `cat` makes the batch
 * inconsistent and its files are reported for a per-file retry (parseReadFilesBatch).
 * If `wc` itself fails, the script falls back to per-file frames on its own.
 */
export function readFilesBatchScript(paths: readonly string[], nonce: string): ShellCommand {
  const args = paths.map((p) => remotePath(p)); // validates all before anything is built
  const n = token(nonce);
  const head = concat([
    sh`M=K8OPS-${n}
I=
set --`,
    PER_FILE_READER,
    sh`k() {
  if [ ! -e "$2" ]; then printf '%s %s missing\\n' "$M" "$1"; return 1; fi
  if [ -d "$2" ]; then printf '%s %s isdir\\n' "$M" "$1"; return 1; fi
  if [ ! -r "$2" ]; then printf '%s %s denied\\n' "$M" "$1"; return 1; fi
}`,
  ]);
  const calls = args.map(
    (a: ShellArg, i) => sh`k ${intArg(i)} ${a} && { I="$I ${intArg(i)}"; set -- "$@" ${a}; }`,
  );
  return concat([head, ...calls, BATCH_BODY]);
}

/**
 * The files in "$@" (their indices in $I) in one `wc -c` + one `cat`, else per file; then
 * `K8OPS-N done`. Shared by readFilesBatchScript and readCertDirScript.
 */
const BATCH_BODY = sh`if [ -n "$I" ]; then
  if w=$(wc -c -- "$@" 2>/dev/null); then
    printf '%s sizes%s\\n%s\\n%s data\\n' "$M" "$I" "$w" "$M"
    cat -- "$@" 2>/dev/null
    printf '\\n%s end %s\\n' "$M" "$?"
  else
    for i in $I; do r "$i" "$1"; shift; done
  fi
fi
printf '%s done\\n' "$M"`;

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

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
    const m = /^(\d+) (missing|isdir|denied|data)$/.exec(rest);
    if (!m) continue;
    const idx = Number(m[1]);
    const path = paths[idx];
    if (path === undefined || results[idx] !== undefined) continue;
    switch (m[2]) {
      case 'missing':
        results[idx] = err(path, 'no such file', true);
        break;
      case 'isdir':
        results[idx] = err(path, 'is a directory');
        break;
      case 'denied':
        results[idx] = err(path, 'permission denied');
        break;
      case 'data': {
        const body = lines[i + 1];
        const end = lines[i + 2];
        if (body === undefined || end === undefined) {
          results[idx] = err(path, 'truncated output');
          i = lines.length;
          break;
        }
        if (end !== `${marker}${idx} end`) {
          results[idx] = err(path, 'corrupt frame (no end marker)');
          break;
        }
        i += 2;
        if (body.endsWith('!')) {
          results[idx] = err(path, 'read error');
          break;
        }
        if (!B64.test(body) || body.length % 4 !== 0) {
          results[idx] = err(path, 'corrupt frame (bad base64)');
          break;
        }
        results[idx] = { path, ok: true, content: Buffer.from(body, 'base64').toString('utf8') };
        break;
      }
    }
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
    const status = /^(\d+) (missing|isdir|denied|data)$/.exec(rest);
    if (status) {
      const idx = Number(status[1]);
      if (!fresh(idx)) continue;
      const path = paths[idx]!;
      if (status[2] === 'missing') results[idx] = err(path, 'no such file', true);
      else if (status[2] === 'isdir') results[idx] = err(path, 'is a directory');
      else if (status[2] === 'denied') results[idx] = err(path, 'permission denied');
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
        results[idx] = {
          path: paths[idx]!,
          ok: true,
          content: output.toString('utf8', at, at + len),
        };
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
  return { path, ok: true, content: Buffer.from(body, 'base64').toString('utf8') };
}

// ---------------------------------------------------------------------------------------
// readCertDir: list a PKI directory and read its certificate files in one round trip
// ---------------------------------------------------------------------------------------

/**
 * List `dir` and read its certificate files, in one script (one round trip):
 *   K8OPS-N nodir                         (not a directory, or not accessible), or
 *   K8OPS-N names \n <every entry name, each followed by NUL> \n K8OPS-N picked
 *   <the names read below, one per line: their order is the batch's indices>
 *   K8OPS-N endpicked
 *   <the readFilesBatchScript frames for those files, indices into the picked list>
 *   K8OPS-N done
 * Only names of plain ASCII characters (`A-Za-z0-9._-`) that the sh patterns below take
 * for certificate files are read here: the same rules as isCertFileName
 * (src/pki/file-names.ts), which, for such names, agree with it exactly (a test runs both).
 * The caller reads any other certificate file name it finds in the listing with readFiles,
 * and never a key file: a name the patterns are unsure of is not read by this script.
 */
export function readCertDirScript(dir: string, nonce: string): ShellCommand {
  const p = remotePath(dir);
  const n = token(nonce);
  return concat([
    sh`M=K8OPS-${n}
I=
LC_ALL=C
export LC_ALL
set --`,
    PER_FILE_READER,
    sh`cd -- ${p} 2>/dev/null || { printf '%s nodir\\n' "$M"; exit 0; }
printf '%s names\\n' "$M"
for f in * .[!.]* ..?*; do
  if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\\0' "$f"; fi
done
printf '\\n%s picked\\n' "$M"
k=0
for f in *; do
  case $f in
    .* | *[!A-Za-z0-9._-]*) continue ;;
    [Kk][Ee][Yy].[Pp][Ee][Mm] | *[-_.][Kk][Ee][Yy].[Pp][Ee][Mm]) continue ;;
    *.[Pp][Ee][Mm] | *.[Cc][Rr][Tt]) ;;
    *) continue ;;
  esac
  if [ -f "$f" ] && [ -r "$f" ]; then
    printf '%s\\n' "$f"
    I="$I $k"
    k=$((k + 1))
    set -- "$@" "$f"
  fi
done
printf '%s endpicked\\n' "$M"`,
    BATCH_BODY,
  ]);
}

export type CertDirRead =
  | { kind: 'nodir' }
  | {
      kind: 'listed';
      /** Every entry of the directory, sorted. */
      names: string[];
      /** The names the script read, in batch order (plain ASCII). */
      picked: string[];
      /** The batch result for `picked` (paths are the picked names). */
      batch: BatchReadResult;
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
  const batch = parseReadFilesBatch(output.subarray(pickedEnd + endPicked.length), nonce, picked);
  return { kind: 'listed', names, picked, batch };
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
  const n = token(nonce);
  const head = sh`M=K8OPS-${n}
LC_ALL=C
export LC_ALL
I=
set --
e() {
  if [ -e "$2" ] || [ -L "$2" ]; then return 0; fi
  printf '%s %s missing\\n' "$M" "$1"
  return 1
}
s() {
  if [ ! -e "$2" ] && [ ! -L "$2" ]; then printf '%s %s missing\\n' "$M" "$1"; return; fi
  if o=$(stat -c '%a %U %G %s %F' -- "$2" 2>&1); then
    printf '%s %s ok %s\\n' "$M" "$1" "$o"
  else
    printf '%s %s error %s\\n' "$M" "$1" "$(printf '%s' "$o" | tr '\\n' ' ')"
  fi
}`;
  const calls = args.map(
    (a, i) => sh`e ${intArg(i)} ${a} && { I="$I ${intArg(i)}"; set -- "$@" ${a}; }`,
  );
  const body = sh`if [ -n "$I" ]; then
  if o=$(stat -c '%a %U %G %s %F' -- "$@" 2>/dev/null); then
    for i in $I; do
      IFS= read -r l || l=
      if [ -n "$l" ]; then printf '%s %s ok %s\\n' "$M" "$i" "$l"; else s "$i" "$1"; fi
      shift
    done <<K8OPS_EOF
$o
K8OPS_EOF
  else
    for i in $I; do s "$i" "$1"; shift; done
  fi
fi
printf '%s done\\n' "$M"`;
  return concat([head, ...calls, body]);
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
