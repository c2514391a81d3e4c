/**
 * Argument parsing and dispatch only: each subcommand lives in commands/ (one file each,
 * built on its feature's model). The interactive console lives in views/ and is injected
 * by the entry point (views/main.tsx), so src/ never imports views/.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { certsCommand, certsPathCommand } from './commands/certs.js';
import { EXIT } from './commands/common.js';
import { infoCommand } from './commands/info.js';
import { nodesCommand } from './commands/nodes.js';
import { type OpenArgs, openSession, SESSION_OPTIONS } from './commands/open.js';
import { overviewCommand } from './commands/overview.js';
import { isRotateArgv, rotateCommand } from './commands/rotate.js';
import { overviewFeature } from './features/overview/model.js';
import { kubeSource } from './features/overview/sources.js';
import { pkiFeature } from './features/pki/model.js';
import type { SourceSet } from './features/types.js';
import type { Session } from './session/session.js';

export { EXIT } from './commands/common.js';
export { overviewExitCode } from './commands/overview.js';

export interface ConsoleOptions {
  color: boolean;
}
export type RunConsole = (session: Session, opts: ConsoleOptions) => Promise<number>;

export interface CliDeps {
  runConsole: RunConsole;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
  /** Whether stdin is a terminal (default: process.stdin.isTTY). */
  stdinIsTTY?: boolean;
}

const SUBCOMMANDS = ['overview', 'nodes', 'certs', 'rotate', 'info'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

/**
 * Exit codes, one line per subcommand: the help prints them, and the README's subcommands
 * table says the same words (test/e2e/cli.test.ts holds the two together).
 */
export const EXIT_CODES: Readonly<Record<Subcommand, string>> = {
  overview:
    '0 all good; 1 a node unreachable or NotReady, or a certificate expired; 2 usage/configuration error',
  nodes:
    '0 all reachable; 1 some unreachable, NotReady or the API failing; 2 usage, configuration, host-key or authentication error',
  certs:
    '0 ok; 1 warnings, or a --path scan that found no certificate; 2 critical (expired, broken chain, key mismatch) or a usage error (bad options, a missing or unreadable --path); 3 nodes unreachable; the highest that applies',
  rotate: '0 no conflict; 1 a conflict; 2 usage/configuration error; 3 nodes unreachable',
  info: '0; 2 usage error',
};

/** `text` wrapped to `width` columns, continuation lines indented by `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

const exitCodeTable = (): string =>
  SUBCOMMANDS.map((sub) => `  ${sub.padEnd(10)}${wrap(EXIT_CODES[sub], 92, ' '.repeat(12))}`).join(
    '\n',
  );

export const HELP = `k8ops — terminal ops console for a NixOS Kubernetes cluster

Usage:
  k8ops [--demo | --inventory FILE] [--context NAME] [--read-only]
  k8ops overview [--json]    one line per node: reachable, kube Ready, next certificate expiry
  k8ops nodes [--json] [--accept-new]
                             SSH view per node: reachable, route, host key, auth, latency, OS
  k8ops certs [--json | --prometheus] [--node NAME] [--path DIR]
                             the PKI tree and every check
  k8ops rotate plan [--json] [--days N]
                             the rotation schedule and its conflicts (k8ops rotate --help)
  k8ops info                 where k8ops looks for its files
  k8ops --help | --version

Options:
  --demo             run on the embedded demo lab (3 control-plane + 3 workers behind a bastion)
  --inventory FILE   inventory (default: $XDG_CONFIG_HOME/k8ops/k8ops.yaml, then ./k8ops.yaml)
  --context NAME     kube context (default: the inventory's, then the kubeconfig's current)
  --read-only        refuse every mutating action
  --ssh-config FILE  OpenSSH client config to resolve hosts with (like ssh -F)
  --accept-new       record unknown host keys in known_hosts (like StrictHostKeyChecking=accept-new);
                     a changed host key is always refused
  --json             machine-readable output (subcommands)
  --node NAME        certs: only this node (with --path: the node the directory belongs to, whose
                     file names are then checked against the layout)
  --path DIR         certs: scan a local PKI directory (and its subdirectories, 4 levels deep)
                     instead of the nodes; with --node and --inventory, that node's roles and
                     addresses are checked too
  --prometheus       certs: node-exporter textfile metrics
  -h, --help         this help
  -V, --version      print the version

Exit codes:
${exitCodeTable()}
The console (no subcommand): 0 quit; 2 usage or configuration error; 70 crashed; 128+N signal N.
Environment: NO_COLOR disables colour; XDG_CONFIG_HOME, XDG_CACHE_HOME, XDG_STATE_HOME.
`;

/** package.json's version; found from dist/src/cli.js (tsc) and from dist/k8ops.mjs (bundle). */
function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'k8ops' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return 'unknown';
}

interface Parsed extends OpenArgs {
  sub?: Subcommand;
  json: boolean;
  node?: string;
  path?: string;
  prometheus: boolean;
  help: boolean;
  version: boolean;
}

export function parseCli(
  argv: readonly string[],
): { ok: true; value: Parsed } | { ok: false; error: string } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...SESSION_OPTIONS,
        json: { type: 'boolean' },
        node: { type: 'string' },
        path: { type: 'string' },
        prometheus: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const [first, ...rest] = parsed.positionals;
  if (rest.length > 0) return { ok: false, error: `unexpected argument "${rest[0]}"` };
  if (first !== undefined && !(SUBCOMMANDS as readonly string[]).includes(first)) {
    return {
      ok: false,
      error: `unknown subcommand "${first}" (subcommands: ${SUBCOMMANDS.join(', ')})`,
    };
  }
  if (v.demo && v.inventory)
    return { ok: false, error: '--demo and --inventory exclude each other' };
  for (const flag of ['node', 'path', 'prometheus'] as const) {
    if (v[flag] !== undefined && first !== 'certs')
      return { ok: false, error: `--${flag} belongs to the certs subcommand` };
  }
  if (v.path !== undefined && v.demo)
    return { ok: false, error: '--path scans a local directory; it excludes --demo' };
  if (v.prometheus && v.json)
    return { ok: false, error: '--json and --prometheus exclude each other' };
  return {
    ok: true,
    value: {
      sub: first as Subcommand | undefined,
      demo: v.demo === true,
      inventory: v.inventory as string | undefined,
      context: v.context as string | undefined,
      readOnly: v['read-only'] === true,
      sshConfig: v['ssh-config'] as string | undefined,
      acceptNew: v['accept-new'] === true,
      json: v.json === true,
      node: v.node as string | undefined,
      path: v.path as string | undefined,
      prometheus: v.prometheus === true,
      help: v.help === true,
      version: v.version === true,
    },
  };
}

/**
 * What a subcommand's session runs: only the sources of what it shows (`nodes`: its own
 * probes, plus the kube watches for the API server's view); the console: every feature.
 */
export function commandSources(sub: Subcommand | undefined): readonly SourceSet[] | undefined {
  switch (sub) {
    case 'certs':
      return [pkiFeature];
    case 'overview':
      return [overviewFeature];
    case 'nodes':
      return [{ sources: [kubeSource] }];
    default:
      return undefined;
  }
}

export async function main(argv: readonly string[], deps: CliDeps): Promise<number> {
  const out = deps.stdout ?? process.stdout;
  const err = deps.stderr ?? process.stderr;
  const env = deps.env ?? process.env;
  if (isRotateArgv(argv)) return rotateCommand(argv, { out, err, env });
  const parsed = parseCli(argv);
  if (!parsed.ok) {
    err.write(`k8ops: ${parsed.error}\nTry 'k8ops --help'.\n`);
    return EXIT.config;
  }
  const a = parsed.value;
  if (a.help) {
    out.write(HELP);
    return EXIT.ok;
  }
  if (a.version) {
    out.write(`${version()}\n`);
    return EXIT.ok;
  }
  if (a.sub === 'info') return infoCommand(a, version(), out, env);

  if (!a.sub && !(deps.stdinIsTTY ?? process.stdin.isTTY)) {
    err.write(
      'k8ops: standard input is not a terminal, so the console cannot read keys.\n' +
        'For scripts use a subcommand with --json, e.g. `k8ops overview --json` (see `k8ops --help`).\n',
    );
    return EXIT.config;
  }
  if (!a.sub && !out.isTTY) {
    err.write(
      'k8ops: standard output is not a terminal, so the console cannot start.\n' +
        'For scripts use a subcommand with --json, e.g. `k8ops overview --json` (see `k8ops --help`).\n',
    );
    return EXIT.config;
  }

  if (a.sub === 'certs' && a.path !== undefined)
    return certsPathCommand({ ...a, path: a.path }, out, err, env);

  const opened = await openSession(a, err, env, commandSources(a.sub));
  if (!opened.ok) return EXIT.config;
  const session = opened.session;
  if (!a.sub) {
    const color = env.NO_COLOR === undefined || env.NO_COLOR === '';
    return deps.runConsole(session, { color });
  }
  try {
    if (a.sub === 'nodes') return await nodesCommand(session, a.json, out);
    if (a.sub === 'overview') return await overviewCommand(session, a.json, out);
    if (a.sub === 'certs') return await certsCommand(session, a, out, err, env);
    // `rotate` is parsed and run by commands/rotate.ts before this point.
    return EXIT.config;
  } finally {
    await session.close();
  }
}
