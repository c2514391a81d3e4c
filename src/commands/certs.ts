/**
 * `k8ops certs [--json | --prometheus] [--node NAME] [--path DIR]`: the PKI report
 * headless. On the nodes of a session (demo or inventory), or on a local directory
 * (`--path`: on a node itself, or a PKI built by gen-lab, subdirectories included) read by
 * the file-system agent.
 * Exit code: 0 ok, 1 warnings (or a --path scan that found no certificate), 2 critical,
 * 3 nodes unreachable (the highest that applies);
 * 2 also for a usage error (bad options, a missing or unreadable --path).
 */

import { accessSync, constants, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { cacheDir, type Env } from '../config/paths.js';
import type { Inventory, NodeSpec, Role } from '../config/types.js';
import { acmeSettled } from '../features/nginx/acme.js';
import { buildPkiModel, pkiFeature } from '../features/pki/model.js';
import type { SnapshotReader, SourceSet } from '../features/types.js';
import { FsNodeAgent } from '../nodes/fs-agent.js';
import { PATH_SCAN_DEPTH, type WalkResult, type WalkSkip, walkDir } from '../pki/dir-walk.js';
import type { Layout } from '../pki/layout.js';
import { defaultLayout } from '../pki/layout-data.js';
import { prometheusText } from '../pki/prometheus.js';
import { type PkiExitCode, reportToJson } from '../pki/report.js';
import { formatReportText } from '../pki/text.js';
import { loadVerdictCache, saveVerdictCache, VERDICT_CACHE_FILE } from '../pki/verdict-cache.js';
import { createSession, type Session } from '../session/session.js';
import { safeJson, visible } from '../store/sanitise.js';
import { CLUSTER_SCOPE } from '../store/types.js';
import { EXIT, holdOpen } from './common.js';

/** Usage or configuration error (the CLI's shared code). */
const USAGE = EXIT.config;

export interface CertsArgs {
  json: boolean;
  prometheus: boolean;
  node?: string;
  path?: string;
  inventory?: string;
}

interface CertsRun {
  session: Session;
  layout: Layout;
  only?: string[];
  anonymous?: ReadonlySet<string>;
  addressesUnknown?: ReadonlySet<string>;
  source: 'demo' | 'nodes' | 'path';
  /** `--path`: what the walk of the directory found (the empty-scan verdict uses it). */
  scan?: PathScan;
  /** See PkiModelOptions.acmePendingAs. */
  acmePendingAs?: string;
}

/** `--path`: the directories searched, and what was not. */
interface PathScan {
  root: string;
  maxDepth: number;
  directories: number;
  skipped: WalkSkip[];
  truncated: number;
}

/** The one line an empty scan prints: nothing was checked, which is not "all good". */
function emptyScanMessage(scan: PathScan): string {
  const dirs = `${scan.directories} director${scan.directories === 1 ? 'y' : 'ies'}`;
  return `no certificate found under ${scan.root} (${dirs} searched, ${scan.maxDepth} levels deep): nothing was checked`;
}

/** The persistent signature-verdict cache, unless K8OPS_NO_VERDICT_CACHE is set. */
function verdictCacheFile(env: Env): string | undefined {
  const off = env.K8OPS_NO_VERDICT_CACHE;
  return off !== undefined && off !== '' && off !== '0'
    ? undefined
    : join(cacheDir(env), VERDICT_CACHE_FILE);
}

/** Run `body` with the verdict cache loaded before and saved after. */
async function withVerdictCache<T>(env: Env, body: () => Promise<T>): Promise<T> {
  const file = verdictCacheFile(env);
  if (file) await loadVerdictCache(file);
  const result = await body();
  if (file) await saveVerdictCache(file);
  return result;
}

/** First attempt of every source (of one node when `scope` is given). */
function settle(session: Session, scope?: string): Promise<void> {
  return holdOpen(async () => {
    if (scope !== undefined) await session.scheduler.refresh({ scope });
    else await session.settle();
  });
}

/** `k8ops certs` on the nodes of `session` (closed by the caller). */
export async function certsCommand(
  session: Session,
  a: CertsArgs,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: Env = process.env,
): Promise<number> {
  if (a.node !== undefined && !session.inventory.nodes.some((n) => n.name === a.node)) {
    err.write(
      `k8ops: no node named "${a.node}" (nodes: ${session.inventory.nodes.map((n) => n.name).join(', ')})\n`,
    );
    return USAGE;
  }
  await withVerdictCache(env, () => settle(session, a.node));
  // The ACME (cert-manager) branch: cluster-wide, so not with --node; only with a kube source.
  const acmePendingAs =
    a.node === undefined && session.hasKube ? await settleAcme(session) : undefined;
  return printCerts(
    {
      session,
      layout: defaultLayout(),
      ...(a.node !== undefined ? { only: [a.node] } : {}),
      ...(acmePendingAs !== undefined ? { acmePendingAs } : {}),
      source: session.mode === 'demo' ? 'demo' : 'nodes',
    },
    a,
    out,
  );
}

/** How long `certs` waits for the Certificates and their Secrets after the nodes answered. */
export const ACME_WAIT_MS = 10_000;

/**
 * Wait (bounded) until the kube watches have listed the Certificates (or cert-manager is
 * absent, or the API failed) and read every Secret. Returns what to report if they still
 * have not answered: the kube source's own error, or the wait that ran out.
 */
async function settleAcme(session: Session, waitMs = ACME_WAIT_MS): Promise<string> {
  const read: SnapshotReader = (scope, src) => session.store.get(scope, src);
  // A kube source that failed to open (bad kubeconfig, missing context) binds no watches.
  const openFailed = () =>
    read(CLUSTER_SCOPE, 'kube').error !== undefined &&
    read(CLUSTER_SCOPE, 'kube.api').attemptedAt === undefined;
  await holdOpen(async () => {
    const end = Date.now() + waitMs;
    while (Date.now() < end && !acmeSettled(read) && !openFailed()) {
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  return (
    read(CLUSTER_SCOPE, 'kube').error?.message ??
    `no answer from the kube API within ${Math.round(waitMs / 1000)} s`
  );
}

function printCerts(run: CertsRun, a: CertsArgs, out: NodeJS.WritableStream): number {
  const { session } = run;
  const now = Date.now();
  const report = buildPkiModel(session.inventory, (s, src) => session.store.get(s, src), now, {
    layout: run.layout,
    ...(run.only ? { only: run.only } : {}),
    ...(run.anonymous ? { anonymous: run.anonymous } : {}),
    ...(run.addressesUnknown ? { addressesUnknown: run.addressesUnknown } : {}),
    ...(run.acmePendingAs !== undefined ? { acmePendingAs: run.acmePendingAs } : {}),
  });
  const nodes = session.inventory.nodes.filter((n) => !run.only || run.only.includes(n.name));
  // A --path scan that found no certificate checked nothing: exit 1 (at least), and say so.
  const empty =
    run.scan !== undefined && report.certificates === 0 && report.unreachable.length === 0;
  const exitCode: PkiExitCode = empty && report.exitCode === 0 ? 1 : report.exitCode;
  if (a.prometheus) {
    // The exit-code gauge says what the process exits with (an empty scan: 1).
    out.write(prometheusText({ ...report, exitCode }, { nodes: nodes.map((n) => n.name) }));
    if (empty && run.scan) out.write(`# ${emptyScanMessage(run.scan)}\n`);
  } else if (a.json) {
    const renewBeforeMs = session.inventory.rotation.renewBeforeMs;
    const doc = reportToJson(report, {
      cluster: session.inventory.cluster,
      mode: session.mode,
      source: run.source,
      nodes,
      ...(renewBeforeMs !== undefined ? { renewBeforeMs } : {}),
    }) as Record<string, unknown>;
    if (run.scan) {
      doc.exitCode = exitCode;
      doc.scan = {
        root: run.scan.root,
        maxDepth: run.scan.maxDepth,
        directories: run.scan.directories,
        skipped: run.scan.skipped.map((k) => ({ path: k.rel, reason: k.why })),
        truncatedFiles: run.scan.truncated,
        empty,
        ...(empty ? { message: emptyScanMessage(run.scan) } : {}),
      };
    }
    out.write(`${safeJson(doc, 2)}\n`);
  } else {
    const title =
      run.source === 'path'
        ? `k8ops certs — ${session.inventory.pki.dir}`
        : `k8ops certs — ${session.inventory.cluster}${session.mode === 'demo' ? ' (demo)' : ''}`;
    out.write(formatReportText(report, { title, ...(run.scan ? { root: run.scan.root } : {}) }));
    if (run.scan) {
      for (const k of run.scan.skipped) out.write(`  not searched: ${k.rel}: ${k.why}\n`);
      if (run.scan.truncated > 0)
        out.write(`  not read: ${run.scan.truncated} files past the first 100000\n`);
      if (empty) out.write(`\n${emptyScanMessage(run.scan)}\n`);
    }
  }
  return exitCode;
}

/** Roles a directory's files imply: each certificate the layout gives to one role only. */
export function inferRoles(layout: Layout, names: readonly string[]): Role[] {
  const present = new Set(names);
  const roles = new Set<Role>();
  let shared = false;
  for (const c of layout.certs) {
    if (!c.enabled || !present.has(basename(c.cert))) continue;
    if (c.roles.length === 1) roles.add(c.roles[0]!);
    else shared = true;
  }
  if (roles.size === 0 && shared) roles.add('worker');
  return [...roles];
}

const HOUR_MS = 3_600_000;

/** A one-node inventory for a local directory. */
function localInventory(dir: string, node: NodeSpec, base?: Inventory): Inventory {
  return {
    source: '<path>',
    cluster: base?.cluster ?? 'local',
    nodes: [node],
    ssh: { jump: [], connectTimeoutMs: 10_000 },
    kube: { tunnel: false },
    pki: { dir, rootOffline: base?.pki.rootOffline ?? true },
    rotation: base?.rotation ?? {
      renewBeforeMs: undefined,
      spreadMs: 24 * HOUR_MS,
      cpGapMs: HOUR_MS / 2,
      minRemainingMs: 48 * HOUR_MS,
    },
    network: { targetMtu: 9216, bgpRouters: [] },
    ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache' },
    addons: {},
  };
}

/**
 * The PKI sources for a local scan: no node to wait for (the status scan starts at once,
 * not after the first screen), and a deadline that grows with the files found: a local
 * directory is never "unreachable", and 5,000 certificates on a loaded machine can take
 * longer than a node's 20 s budget.
 */
function pathSources(files: number): SourceSet {
  return {
    sources: pkiFeature.sources.map((s) => {
      const { initialDelayMs: _delay, ...rest } = s;
      return { ...rest, timeoutMs: s.timeoutMs + files * 50 };
    }),
  };
}

/** `k8ops certs --path DIR`: the directory as one node's PKI dir (`--node` names it). */
export async function certsPathCommand(
  a: CertsArgs & { path: string },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: Env = process.env,
): Promise<number> {
  const dir = resolve(a.path);
  // A directory that cannot be listed, or whose files cannot be reached, is a usage error
  // like a missing one (not a report of warnings about files nobody could read).
  let walk: WalkResult;
  try {
    if (!statSync(dir).isDirectory()) {
      err.write(`k8ops: --path ${dir} is not a directory\n`);
      return USAGE;
    }
    walk = await walkDir(dir, { maxDepth: PATH_SCAN_DEPTH });
    accessSync(dir, constants.R_OK | constants.X_OK);
  } catch (e) {
    err.write(`k8ops: --path ${dir}: ${(e as Error).message}\n`);
    return USAGE;
  }
  const names = walk.entries.map((e) => basename(e.rel));
  const layout = defaultLayout();
  let base: Inventory | undefined;
  if (a.inventory !== undefined) {
    // yaml + zod load only when an inventory is read (not for a bare --path scan).
    const { formatIssue, loadInventory } = await import('../config/load.js');
    const loaded = await loadInventory(a.inventory);
    if (!loaded.ok) {
      for (const issue of loaded.errors) err.write(`${formatIssue(issue)}\n`);
      return USAGE;
    }
    base = loaded.inventory;
  }
  const known = a.node !== undefined ? base?.nodes.find((n) => n.name === a.node) : undefined;
  if (a.node !== undefined && base && !known) {
    err.write(`k8ops: no node named "${a.node}" in ${a.inventory}\n`);
    return USAGE;
  }
  const name = a.node ?? 'local';
  const node: NodeSpec = {
    name,
    index: known?.index ?? 0,
    host: 'localhost',
    addresses: known?.addresses ?? [],
    roles: known?.roles ?? inferRoles(layout, names),
  };
  const session = createSession({
    mode: 'live',
    inventory: localInventory(dir, node, base),
    agents: new Map([[name, new FsNodeAgent(node, { maxDepth: PATH_SCAN_DEPTH })]]),
    features: [pathSources(walk.entries.length)],
    readOnly: true,
  });
  try {
    await withVerdictCache(env, () => settle(session));
    return printCerts(
      {
        session,
        layout,
        source: 'path',
        // Names from the directory are outside text: made visible like the report's paths.
        scan: {
          root: visible(dir),
          maxDepth: PATH_SCAN_DEPTH,
          directories: walk.dirs,
          skipped: walk.skipped.map((k) => ({ rel: visible(k.rel), why: visible(k.why) })),
          truncated: walk.truncated,
        },
        ...(a.node === undefined ? { anonymous: new Set([name]) } : {}),
        ...(a.node !== undefined && !known ? { addressesUnknown: new Set([name]) } : {}),
      },
      a,
      out,
    );
  } finally {
    await session.close();
  }
}
