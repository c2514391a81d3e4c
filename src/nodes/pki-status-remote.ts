/**
 * Run nix/pki/status.sh on a node through any exec function (SshNodeAgent's, a test's):
 * `bash -s -- --pki-dir '<pkiDir>' [--node '<name>']` with the script (lib.sh inlined) on
 * stdin, so nothing of k8ops needs to be installed on the node — only what the script uses
 * (bash, coreutils, jq, openssl; and read access to the keys, i.e. root). The script is read
 * from the k8ops package (nix/pki next to package.json), never from the node.
 *
 * The values in the command are pkiDir, validated with isSafeRemotePath (absolute,
 * `[A-Za-z0-9._/@+-]`, no `..`), and the node name (a DNS label); both single-quoted anyway.
 */
import { readFile } from 'node:fs/promises';
import { isSafeNodeName, isSafeRemotePath } from '../config/validate.js';
import { parsePkiStatus } from '../pki/status.js';
import type { PkiStatus } from '../pki/types.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when the command died by a signal. */
  code: number | null;
}

/** Runs one command on the node, with `stdin` piped to it. */
export type ExecFn = (command: string, stdin?: string) => Promise<ExecResult>;

export type PkiStatusErrorKind = 'refused' | 'script' | 'exit' | 'parse' | 'node';

/** What went wrong, what ran, and what came back (execa-style). */
export class PkiStatusError extends Error {
  override readonly name = 'PkiStatusError';
  constructor(
    readonly kind: PkiStatusErrorKind,
    message: string,
    readonly command?: string,
    readonly stderr?: string,
  ) {
    super(message);
  }
}

/** POSIX single quotes: one literal word. */
const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The command line for `pkiDir` (and the node name the JSON should carry). Throws
 * PkiStatusError `refused` for an unsafe path or name.
 */
export function pkiStatusCommand(pkiDir: string, node?: string): string {
  if (!isSafeRemotePath(pkiDir))
    throw new PkiStatusError('refused', `refused PKI directory ${JSON.stringify(pkiDir)}`);
  if (node !== undefined && !isSafeNodeName(node))
    throw new PkiStatusError('refused', `refused node name ${JSON.stringify(node)}`);
  const nodeArg = node !== undefined ? ` --node ${quote(node)}` : '';
  return `bash -s -- --pki-dir ${quote(pkiDir)}${nodeArg}`;
}

/** Where nix/pki may be relative to this module (source tree, tsc output, bundle). */
const PKI_DIR_CANDIDATES = ['../nix/pki/', '../../nix/pki/', '../../../nix/pki/'];

/** The line of status.sh that sources lib.sh (replaced by lib.sh itself). */
const SOURCE_LIB = /^\.\s+"\$\(dirname -- "\$\{BASH_SOURCE\[0\]\}"\)\/lib\.sh"\s*$/m;

/**
 * status.sh with lib.sh inlined where it sources it, so the script runs from stdin
 * (`bash -s`) on a node that has nothing of k8ops installed.
 */
export function inlineStatusScript(status: string, lib: string): string {
  if (!SOURCE_LIB.test(status))
    throw new PkiStatusError('script', 'status.sh no longer sources lib.sh the expected way');
  return status.replace(
    SOURCE_LIB,
    () => `# --- lib.sh (inlined by k8ops) ---\n${lib}\n# --- end of lib.sh ---`,
  );
}

let scriptCache: Promise<string> | undefined;

/** nix/pki/status.sh with lib.sh inlined, found from the package root (like cli.ts's version()). */
export function loadStatusScript(): Promise<string> {
  scriptCache ??= (async () => {
    for (const rel of PKI_DIR_CANDIDATES) {
      try {
        const [status, lib] = await Promise.all([
          readFile(new URL(`${rel}status.sh`, import.meta.url), 'utf8'),
          readFile(new URL(`${rel}lib.sh`, import.meta.url), 'utf8'),
        ]);
        return inlineStatusScript(status, lib);
      } catch (e) {
        if (e instanceof PkiStatusError) throw e;
        // next candidate
      }
    }
    throw new PkiStatusError(
      'script',
      'nix/pki/status.sh and lib.sh not found next to the k8ops package (is nix/ shipped with it?)',
    );
  })();
  scriptCache.catch(() => {
    scriptCache = undefined;
  });
  return scriptCache;
}

const lastLine = (s: string): string =>
  s
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .pop() ?? '';

/**
 * Run the status script for `pkiDir` through `exec` and parse its JSON. Rejects with a
 * PkiStatusError: `refused` (unsafe path), `script` (not shipped), `exit` (non-zero exit,
 * with the script's last stderr line), `parse` (garbage or truncated output), `node`
 * (the answer names another node or directory).
 */
export async function remotePkiStatus(
  exec: ExecFn,
  pkiDir: string,
  opts: { script?: string; node?: string } = {},
): Promise<PkiStatus> {
  const command = pkiStatusCommand(pkiDir, opts.node);
  const script = opts.script ?? (await loadStatusScript());
  const r = await exec(command, script);
  if (r.code !== 0) {
    const why = lastLine(r.stderr) || `exit status ${r.code ?? 'signal'}`;
    throw new PkiStatusError(
      'exit',
      `status script failed (${r.code === null ? 'killed' : `exit ${r.code}`}): ${why}`,
      command,
      r.stderr,
    );
  }
  const parsed = parsePkiStatus(r.stdout);
  if (!parsed.ok) throw new PkiStatusError('parse', parsed.error.message, command, r.stderr);
  const st = parsed.status;
  const norm = (p: string) => p.replace(/\/+$/, '') || '/';
  if (norm(st.pkiDir) !== norm(pkiDir)) {
    throw new PkiStatusError('node', `status answered for ${st.pkiDir}, not ${pkiDir}`, command);
  }
  return st;
}
