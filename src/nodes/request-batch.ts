/**
 * Quick reads of one node asked for in the same moment share one request (issue 13): a
 * refresh starts every source of a node at once, and on an unchanged node those are the
 * reachability probe (shell builtins), the PKI directory's `stat` (shared by the certificate
 * read and the PKI status) and `ip -j -d link show`. Sent one by one they cost a round trip
 * each (two shells per connection: the third waits), a node-side deadline each (a watchdog
 * `sleep` and two subshells) and a subshell each; batched, a warm refresh of an unchanged
 * node is ONE request under one deadline.
 *
 * The pure part: the batch script and the parser of its output (never throws). Each part
 * runs in its own subshell (its `exit`, `cd`, variables stay there) with stdin from
 * /dev/null, one after another; on each stream it is framed by a marker carrying a fresh
 * nonce that no part's output can contain without knowing it:
 *
 *   stdout:  M i b\n <stdout of part i> \nM i e <exit status>\n
 *   stderr:  M i b\n <stderr of part i> \nM i e\n
 */
import { intArg, type ShellCommand, script, sh, token } from '../ssh/quote.js';

/**
 * How a part runs in the batch:
 * - `script`: an arbitrary script, in a subshell through `eval` (kept from the batch's
 *   syntax, its `exit`, `cd` and variables kept from the next part);
 * - `argv`: one command of quoted words (argvCommand's: validated, quoted words only) in a
 *   subshell without `eval`, which then execs the program itself (dash and bash do for a
 *   subshell's last command): one fork fewer than `script`;
 * - `program`: such a command whose first word is no shell builtin or keyword
 *   (isShellBuiltin), so it can only start a program: run by the batch shell itself (dash
 *   starts it with vfork), no subshell at all. On the bench's machine a fork costs ~1.4 ms,
 *   vfork + exec ~1.7 ms, fork + exec ~3.2 ms (dash, 300 in a row).
 */
export type PartMode = 'script' | 'argv' | 'program';

/**
 * Names a POSIX shell, dash or bash runs itself (builtins and reserved words): a command
 * starting with one could change the batch shell (`exit`, `cd`, `exec`, `set`, …), so it
 * runs in a subshell (`argv`), never as a `program`.
 */
const SHELL_OWN = new Set(
  (
    '. : [ [[ ]] ! { } alias bg bind break builtin caller case cd chdir command compgen ' +
    'complete compopt continue coproc declare dirs disown do done echo elif else enable esac eval ' +
    'exec exit export false fc fg fi for function getopts hash help history if in jobs kill ' +
    'let local logout mapfile popd printf pushd pwd read readarray readonly return select ' +
    'set shift shopt source suspend test then time times trap true type typeset ulimit ' +
    'umask unalias unset until wait while'
  ).split(' '),
);

/** Whether `argv0` names something the shell runs itself (see SHELL_OWN). */
export function isShellBuiltin(argv0: string): boolean {
  return SHELL_OWN.has(argv0);
}

/** The script that runs `parts` in order, each framed on stdout and stderr (see PartMode). */
export function batchScript(
  parts: readonly ShellCommand[],
  nonce: string,
  modes: readonly PartMode[] = [],
): ShellCommand {
  const m = token(`K8B-${nonce}`); // validates the nonce's alphabet
  const lines = parts.map((cmd, i) => {
    const n = intArg(i);
    const mode = modes[i] ?? 'script';
    const run =
      mode === 'program'
        ? `${cmd.text} </dev/null`
        : `( ${mode === 'argv' ? cmd.text : sh`eval ${script(cmd)}`.text} ) </dev/null`;
    return [
      sh`printf '%s ${n} b\\n' ${m}; printf '%s ${n} b\\n' ${m} >&2`.text,
      run,
      sh`K8B_RC=$?
printf '\\n%s ${n} e %d\\n' ${m} "$K8B_RC"; printf '\\n%s ${n} e\\n' ${m} >&2`.text,
    ].join('\n');
  });
  return { text: lines.join('\n') };
}

/** One part's answer, or why its frame could not be read. */
export type BatchPart =
  | { ok: true; stdout: Buffer; stderr: Buffer; exitCode: number }
  | { ok: false; error: string };

/**
 * Split the batch's stdout and stderr into its `count` parts. A part whose frame is missing
 * or broken (the batch cut short by its deadline, output that is not ours) gets an error;
 * the parts before it keep their answers.
 */
export function parseBatch(
  stdout: Buffer,
  stderr: Buffer,
  nonce: string,
  count: number,
): BatchPart[] {
  const out: BatchPart[] = [];
  let o = 0;
  let e = 0;
  for (let i = 0; i < count; i++) {
    const so = frame(stdout, o, nonce, i, true);
    const se = so.ok ? frame(stderr, e, nonce, i, false) : so;
    if (!so.ok || !se.ok) {
      const why = !so.ok ? so.error : !se.ok ? se.error : '';
      for (let k = i; k < count; k++)
        out.push({ ok: false, error: k === i ? why : 'an earlier part of the batch failed' });
      return out;
    }
    out.push({ ok: true, stdout: so.payload, stderr: se.payload, exitCode: so.status });
    o = so.next;
    e = se.next;
  }
  return out;
}

type Frame =
  | { ok: true; payload: Buffer; status: number; next: number }
  | { ok: false; error: string };

function frame(buf: Buffer, at: number, nonce: string, i: number, withStatus: boolean): Frame {
  const begin = Buffer.from(`K8B-${nonce} ${i} b\n`, 'latin1');
  if (buf.length - at < begin.length || !buf.subarray(at, at + begin.length).equals(begin))
    return { ok: false, error: `part ${i}: no answer (the batch ended before it)` };
  const start = at + begin.length;
  const endMark = Buffer.from(`\nK8B-${nonce} ${i} e`, 'latin1');
  const end = buf.indexOf(endMark, start);
  if (end < 0) return { ok: false, error: `part ${i}: answer cut short` };
  const nl = buf.indexOf(0x0a, end + endMark.length);
  if (nl < 0) return { ok: false, error: `part ${i}: answer cut short` };
  const trailer = buf.subarray(end + endMark.length, nl).toString('latin1');
  let status = 0;
  if (withStatus) {
    const m = /^ (\d{1,3})$/.exec(trailer);
    if (!m) return { ok: false, error: `part ${i}: garbled exit status` };
    status = Number(m[1]);
  } else if (trailer !== '') return { ok: false, error: `part ${i}: garbled frame end` };
  return { ok: true, payload: buf.subarray(start, end), status, next: nl + 1 };
}
