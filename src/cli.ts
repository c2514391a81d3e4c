/**
 * Argument parsing and dispatch only: each subcommand lives in commands/ (one file each,
 * built on its feature's model). The interactive console lives in views/ and is injected
 * by the entry point (views/main.tsx), so src/ never imports views/.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { addonsCommand, isAddonsArgv } from './commands/addons.js';
import { auditCommand, isAuditArgv } from './commands/audit.js';
import { bgpCommand } from './commands/bgp.js';
import { certsCommand, certsPathCommand } from './commands/certs.js';
import { EXIT } from './commands/common.js';
import { flowsCommand, isFlowsArgv } from './commands/flows.js';
import { infoCommand } from './commands/info.js';
import { mtuCommand } from './commands/mtu.js';
import { nginxCommand } from './commands/nginx.js';
import { nodesCommand } from './commands/nodes.js';
import { type OpenArgs, openSession, SESSION_OPTIONS } from './commands/open.js';
import { overviewCommand } from './commands/overview.js';
import { isRebuildArgv, rebuildCommand } from './commands/rebuild.js';
import { isRotateArgv, rotateCommand } from './commands/rotate.js';
import { bgpFeature } from './features/bgp/model.js';
import { mtuFeature } from './features/mtu/model.js';
import { nginxFeature } from './features/nginx/model.js';
import { overviewFeature } from './features/overview/model.js';
import { kubeSource } from './features/overview/sources.js';
import { pkiFeature } from './features/pki/model.js';
import type { SourceSet } from './features/types.js';
import type { Session } from './session/session.js';
import { trace } from './store/trace.js';

export { EXIT } from './commands/common.js';
export { overviewExitCode } from './commands/overview.js';

export interface ConsoleOptions {
  color: boolean;
}
export type RunConsole = (session: Session, opts: ConsoleOptions) => Promise<number>;

export interface CliDeps {
  runConsole: RunConsole;
  /**
   * Called once it is known that the console will run, when its session is open and before
   * its first refresh, with the inventory's node count (the console's V8 heap settings:
   * views/heap.ts). Not called for a subcommand.
   */
  beforeConsole?: (nodeCount: number) => void;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
  /** Whether stdin is a terminal (default: process.stdin.isTTY). */
  stdinIsTTY?: boolean;
}

const SUBCOMMANDS = [
  'overview',
  'nodes',
  'certs',
  'rotate',
  'mtu',
  'rebuild',
  'addons',
  'info',
  'audit',
  'bgp',
  'nginx',
  'flows',
] as const;
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
    '0 ok; 1 warnings, or a --path scan that found no certificate; 2 critical (expired, broken chain, key mismatch, an ACME certificate expired or not covering its Ingress host) or a usage error (bad options, a missing or unreadable --path); 3 nodes unreachable; the highest that applies',
  rebuild:
    '0 done; 1 a node failed (its run or its health gate) or not confirmed; 2 usage/configuration error; 4 switched, but units failed',
  addons:
    '0 every addon pinned and running its declared version; 1 a warning (unpinned, drift, not running); 2 usage/configuration error; 3 kube API unreachable. sync/verify: 0 done (after an apply: every synced addon converged); 1 a download failed, a pin mismatch, not confirmed, the rebuild failed, or not converged in time; 2 usage error (incl. applying without an inventory)',
  mtu: '0 ok; 1 warnings; 2 critical (a link or path below the target MTU, a route MTU too big for the tunnel) or a usage error; 3 nodes unreachable; the highest that applies',
  rotate:
    '0 ok (no conflict, or rotated); 1 a conflict; 2 usage/configuration error; 3 nodes unreachable; 4 rotation failed (previous pair back); 5 node locked by another run; 6 refused; 7 an intermediate waits for the root (offline ceremony)',
  nginx:
    '0 ok; 1 an ACME certificate has a finding (not Ready, expiring within 7 days, renewal overdue, an Ingress host not covered, Secret missing); 2 usage/configuration error; 3 no access log could be read',
  flows:
    "0 ok; 1 a node's Hubble did not answer (the others' flows are printed), or relay reports agents it cannot reach (named on stderr); 2 usage/configuration error; 3 no node's Hubble answered, or relay did not answer (one stderr line: relay, the node, gRPC's and sshd's reason)",
  info: '0; 2 usage error',
  audit: '0 listed; 1 a malformed line in the log (skipped); 2 usage error or an unreadable log',
  bgp: "0 ok; 1 warnings (a VIP not in a router's RIB, a router not answering, a kube configuration finding); 2 critical (a session down or disagreeing, an ASN mismatch) or a usage error; 3 nodes unreachable",
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
  k8ops rebuild [NODE…|--role R] [--action A] [--parallel N] [--yes]
                             rolling nixos-rebuild with health gates (k8ops rebuild --help)
  k8ops addons [sync|verify] [NAME…] [--json]
                             declared addons vs the cluster; pin them (k8ops addons --help)
  k8ops mtu [--json]         every link's MTU and role against the target, Cilium's device/route
                             MTU, and the node × node path-MTU matrix (ping -M do, bisection)
  k8ops rotate NODE… [--only ID]… [--dry-run] [--yes] | --due | --break-lock NODE
                             rotate a node's certificates (lock, CSR on the node, signer, install,
                             restart/gates, rollback)
  k8ops rotate --ca ID [--successor FILE] [--retire-now] | --sa-key [--dry-run] [--yes]
                             rotate an intermediate (ceremony, bundle lead, switch, retire) or the
                             service-account keys (trust, switch one node at a time, overlap)
  k8ops nginx [--json]       the ingress cache per host (hit ratio, cache statuses, rate) and the
                             ACME certificates of the ingress
  k8ops flows [--json] [--follow] [--last N] [--node NAME] [FILTER…]
                             Hubble flows, filtered server-side (k8ops flows --help)
  k8ops info                 where k8ops looks for its files
  k8ops audit [--json] [--since DUR] [--action A] [--demo]
                             the audit log of actions: who, when, targets, plan, result
  k8ops bgp [--json]         both sides of every BGP session (Cilium per node, the routers)
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
      // The kube watches too, for the ACME (cert-manager) branch: bound only when a kube
      // source exists (kubeSource.enabled), which the session opens only when a kubeconfig
      // is configured or found, so a cluster without one loads no kube code.
      return [pkiFeature, { sources: [kubeSource] }];
    case 'overview':
      return [overviewFeature];
    case 'mtu':
      return [mtuFeature];
    case 'nodes':
      return [{ sources: [kubeSource] }];
    case 'bgp':
      return [bgpFeature];
    case 'nginx':
      return [nginxFeature, { sources: [kubeSource] }];
    default:
      return undefined;
  }
}

export async function main(argv: readonly string[], deps: CliDeps): Promise<number> {
  const out = deps.stdout ?? process.stdout;
  const err = deps.stderr ?? process.stderr;
  const env = deps.env ?? process.env;
  trace('cli:main', { sub: argv[0] ?? '' });
  if (isRotateArgv(argv)) return rotateCommand(argv, { out, err, env });
  if (isAddonsArgv(argv)) return addonsCommand(argv, { out, err, env });
  if (isRebuildArgv(argv)) return rebuildCommand(argv, { out, err, env });
  if (isAuditArgv(argv)) return auditCommand(argv, { out, err, env });
  if (isFlowsArgv(argv)) return flowsCommand(argv, { out, err, env });
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
  if (!a.sub) deps.beforeConsole?.(session.inventory.nodes.length);
  trace('cli:session');
  if (!a.sub) {
    const color = env.NO_COLOR === undefined || env.NO_COLOR === '';
    return deps.runConsole(session, { color });
  }
  try {
    if (a.sub === 'nodes') return await nodesCommand(session, a.json, out);
    if (a.sub === 'overview') return await overviewCommand(session, a.json, out);
    if (a.sub === 'certs') return await certsCommand(session, a, out, err, env);
    if (a.sub === 'mtu') return await mtuCommand(session, a.json, out);
    if (a.sub === 'bgp') return await bgpCommand(session, a.json, out);
    if (a.sub === 'nginx') return await nginxCommand(session, a.json, out);
    // `rotate` is parsed and run by commands/rotate.ts before this point.
    // `rotate` and `flows` are parsed and run by their commands/ files before this point.
    return EXIT.config;
  } finally {
    trace('cli:output');
    await session.close();
    trace('cli:closed');
  }
}
