/**
 * The remote POSIX sh scripts SshNodeAgent runs (built only from validated, quoted values)
 * and the pure parsers of their output. Parsers never throw: every requested item comes
 * back, as a value or a per-item error (truncated output, garbage, missing frames).
 *
 * Framing: every line the scripts emit for an item starts with `K8OPS-<nonce> <index> `,
 * where the nonce is random per call and the index points into the caller's list, so no
 * file content or path (content is base64; paths are never echoed) can forge a frame.
 */
import { randomBytes } from 'node:crypto';
import type { FileRead, FileStat, UnitActiveState, UnitState } from '../nodes/agent.js';
import {
  intArg,
  posixSh,
  remotePath,
  type ShellArg,
  type ShellCommand,
  sh,
  token,
  unitName,
  words,
} from './quote.js';

export function newNonce(): string {
  return randomBytes(9).toString('base64url');
}

function concat(cmds: ShellCommand[]): ShellCommand {
  return { text: cmds.map((c) => c.text).join('\n') };
}

// ---------------------------------------------------------------------------------------
// readFiles
// ---------------------------------------------------------------------------------------

/**
 * One script that emits, per path i:
 *   K8OPS-N i missing | K8OPS-N i isdir | K8OPS-N i denied
 * or
 *   K8OPS-N i data \n <base64 on one line> \n K8OPS-N i end
 * and finally `K8OPS-N done`.
 */
export function readFilesScript(paths: readonly string[], nonce: string): ShellCommand {
  const args = paths.map((p) => remotePath(p)); // validates all before anything is built
  const n = token(nonce);
  const head = sh`M=K8OPS-${n}
r() {
  if [ ! -e "$2" ]; then printf '%s %s missing\\n' "$M" "$1"; return; fi
  if [ -d "$2" ]; then printf '%s %s isdir\\n' "$M" "$1"; return; fi
  if [ ! -r "$2" ]; then printf '%s %s denied\\n' "$M" "$1"; return; fi
  printf '%s %s data\\n' "$M" "$1"
  { base64 < "$2" || printf '!'; } 2>/dev/null | tr -d '\\n'
  printf '\\n%s %s end\\n' "$M" "$1"
}`;
  const calls = args.map((a: ShellArg, i) => sh`r ${intArg(i)} ${a}`);
  return posixSh(concat([head, ...calls, sh`printf '%s done\\n' "$M"`]));
}

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

// ---------------------------------------------------------------------------------------
// stat
// ---------------------------------------------------------------------------------------

/** Per path: `K8OPS-N i missing` or `K8OPS-N i ok <octal mode> <user> <group> <size> <%F…>`. */
export function statScript(paths: readonly string[], nonce: string): ShellCommand {
  const args = paths.map((p) => remotePath(p));
  const n = token(nonce);
  const head = sh`M=K8OPS-${n}
s() {
  if [ ! -e "$2" ] && [ ! -L "$2" ]; then printf '%s %s missing\\n' "$M" "$1"; return; fi
  if o=$(stat -c '%a %U %G %s %F' -- "$2" 2>&1); then
    printf '%s %s ok %s\\n' "$M" "$1" "$o"
  else
    printf '%s %s error %s\\n' "$M" "$1" "$(printf '%s' "$o" | tr '\\n' ' ')"
  fi
}`;
  const calls = args.map((a, i) => sh`s ${intArg(i)} ${a}`);
  return posixSh(concat([head, ...calls, sh`printf '%s done\\n' "$M"`]));
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
  return posixSh(sh`cd -- ${p} 2>/dev/null || { echo "not a directory or not accessible" >&2; exit 3; }
for f in * .[!.]* ..?*; do
  if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\\0' "$f"; fi
done`);
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
