/**
 * Argument parsing and the scriptable subcommands. The interactive console lives in
 * views/ and is injected by the entry point (views/main.tsx), so src/ never imports views/.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cacheDir, configDir, resolveInventoryPath, stateDir } from './config/paths.js';
import type { KubeNodeStatus } from './kube/types.js';
import { buildOverview, formatAge, type Overview } from './model/overview.js';
import { certsCommand, certsPathCommand } from './pki/certs-command.js';
import { formatCountdown } from './pki/expiry.js';
import { openDemoSession } from './session/demo.js';
import type { LiveSession } from './session/live.js';
import type { Session } from './session/session.js';
import { CLUSTER_SCOPE } from './store/types.js';

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

/** Exit codes shared by every subcommand. */
export const EXIT = { ok: 0, problem: 1, config: 2 } as const;

const SUBCOMMANDS = ['overview', 'nodes', 'certs', 'info'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export const HELP = `k8ops — terminal ops console for a NixOS Kubernetes cluster

Usage:
  k8ops [--demo | --inventory FILE] [--context NAME] [--read-only]
  k8ops overview [--json]    one line per node: reachable, kube Ready, next certificate expiry
  k8ops nodes [--json] [--accept-new]
                             SSH view per node: reachable, route, host key, auth, latency, OS
  k8ops certs [--json | --prometheus] [--node NAME] [--path DIR]
                             the PKI tree and every check; exit 0 ok, 1 warnings,
                             2 critical, 3 nodes unreachable (the highest that applies)
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
  --node NAME        certs: only this node (with --path: the node the directory belongs to)
  --path DIR         certs: scan a local PKI directory instead of the nodes; with --node and
                     --inventory, that node's roles and addresses are checked too
  --prometheus       certs: node-exporter textfile metrics
  -h, --help         this help
  -V, --version      print the version

Exit codes: 0 all good; 1 a node unreachable, NotReady or a certificate expired; 2 usage,
configuration, host-key or authentication error.
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

interface Parsed {
  sub?: Subcommand;
  demo: boolean;
  inventory?: string;
  context?: string;
  readOnly: boolean;
  sshConfig?: string;
  acceptNew: boolean;
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
        demo: { type: 'boolean' },
        inventory: { type: 'string', short: 'i' },
        context: { type: 'string' },
        'read-only': { type: 'boolean' },
        'ssh-config': { type: 'string' },
        'accept-new': { type: 'boolean' },
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

export async function main(argv: readonly string[], deps: CliDeps): Promise<number> {
  const out = deps.stdout ?? process.stdout;
  const err = deps.stderr ?? process.stderr;
  const env = deps.env ?? process.env;
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
  if (a.sub === 'info') return info(a, out, env);

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

  const opened = await openFromArgs(a, err, env);
  if (!opened.ok) return EXIT.config;
  const session = opened.session;

  if (a.sub === 'nodes') {
    try {
      return await nodesCommand(session, a, out);
    } finally {
      await session.close();
    }
  }
  if (a.sub === 'overview') {
    try {
      return await overviewCommand(session, a.json, out);
    } finally {
      await session.close();
    }
  }
  if (a.sub === 'certs') {
    try {
      return await certsCommand(session, a, out, err, env);
    } finally {
      await session.close();
    }
  }
  const color = env.NO_COLOR === undefined || env.NO_COLOR === '';
  return deps.runConsole(session, { color });
}

async function openFromArgs(
  a: Parsed,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): Promise<{ ok: true; session: Session } | { ok: false }> {
  if (a.demo) {
    // Progress goes to stderr for subcommands only: the console owns the screen.
    const log = a.sub ? (line: string) => err.write(`k8ops: ${line}\n`) : undefined;
    return { ok: true, session: openDemoSession({ readOnly: a.readOnly, log }) };
  }
  const where = resolveInventoryPath({ flag: a.inventory, env, cwd: process.cwd() });
  if (!where.found) {
    err.write(
      `k8ops: no inventory found (looked at ${where.searched.join(', ')}).\n` +
        'Write one (see k8ops.example.yaml), pass --inventory FILE, or try the demo lab with --demo.\n',
    );
    return { ok: false };
  }
  // The live path (yaml + zod, ssh2, the kube client) is loaded only when it is used.
  const { formatIssue, loadInventory } = await import('./config/load.js');
  const { openLiveSession } = await import('./session/live.js');
  const loaded = await loadInventory(where.path);
  if (!loaded.ok) {
    for (const issue of loaded.errors) err.write(`${formatIssue(issue)}\n`);
    err.write(`k8ops: ${loaded.errors.length} error(s) in the inventory; nothing was contacted.\n`);
    return { ok: false };
  }
  for (const w of loaded.warnings) err.write(`warning: ${formatIssue(w)}\n`);
  const session = await openLiveSession({
    inventory: loaded.inventory,
    readOnly: a.readOnly,
    sshConfigFile: a.sshConfig,
    acceptNew: a.acceptNew,
    context: a.context,
  });
  return { ok: true, session };
}

function info(a: Parsed, out: NodeJS.WritableStream, env: NodeJS.ProcessEnv): number {
  const where = resolveInventoryPath({ flag: a.inventory, env, cwd: process.cwd() });
  const lines = [
    `version     ${version()}`,
    `inventory   ${where.found ? where.path : `none (looked at ${where.searched.join(', ')})`}`,
    `config dir  ${configDir(env)}`,
    `cache dir   ${cacheDir(env)} (demo lab: demo-lab/)`,
    `state dir   ${stateDir(env)} (audit log)`,
  ];
  out.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/**
 * Wait for the first attempt of every source (each bounded by its own timeout). The
 * scheduler's timers do not hold the process open, so a ref'd timer does until then.
 */
async function settleOnce(session: Session): Promise<void> {
  const hold = setInterval(() => {}, 1000);
  try {
    await session.settle();
  } finally {
    clearInterval(hold);
  }
}

export function overviewExitCode(o: Overview): number {
  const bad = o.rows.some(
    (r) => r.reach !== 'up' || r.kube === 'NotReady' || r.worst?.urgency === 'expired',
  );
  return bad ? EXIT.problem : EXIT.ok;
}

async function overviewCommand(
  session: Session,
  json: boolean,
  out: NodeJS.WritableStream,
): Promise<number> {
  await settleOnce(session);
  const now = Date.now();
  const o = buildOverview(session.inventory, (s, src) => session.store.get(s, src), now, {
    hasKube: session.hasKube,
    renewBeforeMs: session.inventory.rotation.renewBeforeMs,
  });
  if (json) {
    const doc = {
      cluster: session.inventory.cluster,
      mode: session.mode,
      context: session.context ?? null,
      generatedAt: new Date(now).toISOString(),
      totals: {
        ...o.totals,
        worst: o.totals.worst
          ? { ...o.totals.worst, notAfter: new Date(o.totals.worst.notAfter).toISOString() }
          : null,
      },
      nodes: o.rows.map((r) => ({
        ...r,
        worst: r.worst
          ? {
              ...r.worst,
              notAfter: new Date(r.worst.notAfter).toISOString(),
              remainingSeconds: Math.floor((r.worst.notAfter - now) / 1000),
            }
          : null,
        lastRefresh: r.lastRefresh ? new Date(r.lastRefresh).toISOString() : null,
      })),
    };
    out.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const header = ['NAME', 'ROLES', 'SSH', 'KUBE', 'NEXT EXPIRY', 'CERT', 'AGE'];
    const rows = o.rows.map((r) => [
      r.name,
      r.roles.join(','),
      r.reach === 'up'
        ? `up ${Math.round(r.rttMs ?? 0)}ms`
        : r.reach === 'down'
          ? `down: ${r.reachError ?? ''}`
          : 'pending',
      r.kube,
      r.worst ? formatCountdown(r.worst.notAfter - now) : (r.certError ?? '-'),
      r.worst ? (r.worst.path.split('/').pop() ?? '') : '',
      r.lastRefresh ? formatAge(now - r.lastRefresh) : '-',
    ]);
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
    );
    const fmt = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
    out.write(`${[fmt(header), ...rows.map(fmt)].join('\n')}\n`);
  }
  return overviewExitCode(o);
}

async function nodesCommand(
  session: Session,
  a: Parsed,
  out: NodeJS.WritableStream,
): Promise<number> {
  const { agentsReport, formatNodesTable, nodesReport } = await import('./nodes/report.js');
  const hold = setInterval(() => {}, 1000);
  try {
    const [ssh] = await Promise.all([
      session.mode === 'demo'
        ? agentsReport(session.inventory, session.agents)
        : nodesReport(session.inventory, { pool: (session as LiveSession).pool }),
      session.settleKube(10_000),
    ]);
    const kube = kubeNodesView(session);
    const rows = ssh.rows.map((r) => ({ ...r, kube: kube.byNode.get(r.node) ?? null }));
    const exitCode = Math.max(ssh.exitCode, kube.error || kube.notReady ? EXIT.problem : EXIT.ok);
    if (a.json) {
      const doc = {
        cluster: session.inventory.cluster,
        context: session.context ?? null,
        kubeError: kube.error ?? null,
        nodes: rows,
      };
      out.write(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      out.write(`${formatNodesTable(ssh.rows).trimEnd()}\n\n${formatKubeNodes(session, kube)}\n`);
    }
    return exitCode;
  } finally {
    clearInterval(hold);
  }
}

interface KubeNodesView {
  byNode: Map<
    string,
    {
      ready: boolean;
      reason: string | null;
      kubeletVersion: string | null;
      internalIP: string | null;
    }
  >;
  error?: string;
  notReady: boolean;
}

/** The API server's view of the inventory's nodes, from the store's `kube` snapshot. */
function kubeNodesView(session: Session): KubeNodesView {
  if (!session.hasKube) return { byNode: new Map(), notReady: false };
  const snap = session.store.get<KubeNodeStatus[]>(CLUSTER_SCOPE, 'kube');
  const byNode: KubeNodesView['byNode'] = new Map();
  for (const n of snap.value ?? []) {
    byNode.set(n.name, {
      ready: n.ready,
      reason: n.reason ?? null,
      kubeletVersion: n.kubeletVersion ?? null,
      internalIP: n.internalIP ?? null,
    });
  }
  const names = new Set(session.inventory.nodes.map((n) => n.name));
  const notReady = [...names].some((n) => byNode.get(n)?.ready === false);
  const error =
    snap.error?.message ?? (snap.value ? undefined : 'no answer from the API server yet');
  return error === undefined ? { byNode, notReady } : { byNode, notReady, error };
}

function formatKubeNodes(session: Session, v: KubeNodesView): string {
  if (!session.hasKube)
    return 'kube: no Kubernetes API source configured (kubeconfig / kube.context)';
  const head = `kube (${session.context ?? 'no context'})`;
  if (v.error && v.byNode.size === 0) return `${head}: ${v.error}`;
  const rows = session.inventory.nodes.map((n) => {
    const k = v.byNode.get(n.name);
    return [
      n.name,
      k ? (k.ready ? 'Ready' : `NotReady${k.reason ? ` (${k.reason})` : ''}`) : 'not registered',
      k?.kubeletVersion ?? '-',
      k?.internalIP ?? '-',
    ];
  });
  const header = ['NODE', 'KUBE', 'KUBELET', 'INTERNAL-IP'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [head + (v.error ? ` — ${v.error}` : ''), fmt(header), ...rows.map(fmt)].join('\n');
}
