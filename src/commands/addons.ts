/**
 * `k8ops addons [--json]`: every declared addon (the manifest) beside what runs in the
 * cluster: version, pin, drift, the manifest's problems.
 * `k8ops addons sync [NAME…] [--version NAME=VER]… [--yes] [--accept-changed]`: download,
 * hash as Nix does, show the diff of the manifest, write it on confirmation.
 * `k8ops addons verify [NAME…]`: download and compare with the pins; writes nothing.
 */
import { createInterface } from 'node:readline/promises';
import { type ApplyPlan, buildAddonApply } from '../actions/addons/apply.js';
import { addonSyncJob, loadSyncPlan, type SyncOutcome } from '../actions/addons/sync.js';
import { formatDuration, parseDuration } from '../config/duration.js';
import { resolveInventoryPath } from '../config/paths.js';
import { type AddonsModel, addonsFeature, buildAddonsModel } from '../features/addons/model.js';
import type { Session } from '../session/session.js';
import { safeJson, visible } from '../store/sanitise.js';
import {
  EXIT,
  formatTable,
  isSubcommand,
  type Out,
  parseSubcommand,
  settleOnce,
  usageWriter,
} from './common.js';
import { runJobPrinting } from './job-print.js';
import { openSession, SESSION_OPTIONS, sessionArgs } from './open.js';
import { rebuildCommandText } from './rebuild.js';

export const ADDONS_EXIT = { ok: 0, problem: 1, usage: 2, unreachable: 3 } as const;

const OPTIONS = {
  ...SESSION_OPTIONS,
  json: { type: 'boolean' },
  manifest: { type: 'string' },
  version: { type: 'string', multiple: true },
  yes: { type: 'boolean', short: 'y' },
  'accept-changed': { type: 'boolean' },
  'no-apply': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'converge-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const ADDONS_HELP = `Usage:
  k8ops addons [--json] [--manifest FILE]
      every declared addon beside what runs: version, pin, drift, manifest problems
  k8ops addons sync [NAME…] [--version NAME=VER]… [--yes] [--accept-changed] [--manifest FILE]
                    [--no-apply] [--converge-timeout DUR] [--dry-run] [--json]
      download each release artefact (https, streamed, size-capped), hash it as Nix does
      (nix-prefetch-url's flat sha256, written in the pin's style: base32 or SRI), show the
      diff of the manifest and write it (asked on a terminal; --yes to write without asking);
      then apply it: nixos-rebuild switch of the node(s) running the addon manager
      (addons.applyOn, default the control-plane nodes; the rebuild roll-out with its gate),
      and watch the deployed versions until every synced addon runs its declared version
      (at most --converge-timeout, default addons.convergeTimeout, else 10m)
  k8ops addons verify [NAME…] [--manifest FILE]
      download and compare with the pins; writes nothing
  --no-apply          only write the pins (no rebuild, no watch; no inventory needed)
  --dry-run           print the downloads, the file written and the rebuild commands; run nothing
The manifest: --manifest, else the inventory's addons.manifest. Nothing is written when a
download fails or an URL's content changed at the same version (a pin mismatch; accept it
with --accept-changed after checking upstream). A failed rebuild leaves the pins written
(the file is the declared state): apply them with k8ops rebuild NODE once fixed.
Exit: addons — 0 every addon pinned and running its declared version; 1 a warning (unpinned,
drift, not running, a manifest problem); 2 usage or configuration; 3 the kube API unreachable.
sync/verify — 0 done (or nothing to change; after an apply: every synced addon converged);
1 a download failed, a pin mismatch, not confirmed, the rebuild failed, or not converged in
time (or no kube API to watch it); 2 usage or configuration.
`;

/** Whether argv's subcommand (first positional) is `addons`: cli.ts hands it here. */
export const isAddonsArgv = (argv: readonly string[]): boolean =>
  isSubcommand('addons', argv, OPTIONS);

export interface AddonsDeps {
  out: Out;
  err: Out;
  env: NodeJS.ProcessEnv;
  /** Whether stdin is a terminal (the sync asks before writing). */
  stdinIsTTY?: boolean;
  /** Download options (tests: a loopback server's CA). */
  fetchCa?: string;
  /** Between two looks at the deployed versions (default 2 s). */
  convergeIntervalMs?: number;
}

export function addonsExitCode(m: AddonsModel): number {
  if (m.error) return ADDONS_EXIT.usage;
  if (m.manifestProblems.length || m.rows.some((r) => r.verdict === 'warning'))
    return ADDONS_EXIT.problem;
  if (m.kubeError) return ADDONS_EXIT.unreachable;
  return ADDONS_EXIT.ok;
}

type Values = Record<string, string | boolean | string[] | undefined>;

export async function addonsCommand(argv: readonly string[], deps: AddonsDeps): Promise<number> {
  const { out, err } = deps;
  const parsed = parseSubcommand('addons', argv, OPTIONS, err, ADDONS_EXIT.usage);
  if (!parsed.ok) return parsed.exit;
  const { usage, positionals } = parsed;
  const v = parsed.values;
  if (v.help) {
    out.write(ADDONS_HELP);
    return EXIT.ok;
  }
  if (v.demo && v.inventory) return usage('--demo and --inventory exclude each other');
  const [, action, ...names] = positionals;
  if (action !== undefined && action !== 'sync' && action !== 'verify')
    return usage(`unknown action "${action}" (actions: sync, verify)`);
  const versions: Record<string, string> = {};
  for (const nv of (v.version as string[] | undefined) ?? []) {
    const m = /^([a-z0-9][a-z0-9-]*)=([0-9A-Za-z.+_-]+)$/.exec(nv);
    if (!m) return usage(`--version wants NAME=VERSION, not "${visible(nv)}"`);
    versions[m[1]!] = m[2]!;
  }
  if (
    action !== 'sync' &&
    (Object.keys(versions).length ||
      v.yes ||
      v['accept-changed'] ||
      v['no-apply'] ||
      v['dry-run'] ||
      v['converge-timeout'] !== undefined)
  )
    return usage(
      '--version, --yes, --accept-changed, --no-apply, --dry-run and --converge-timeout belong to `addons sync`',
    );
  let convergeMs: number | undefined;
  if (v['converge-timeout'] !== undefined) {
    const d = parseDuration(String(v['converge-timeout']));
    if (!d.ok || d.ms < 1000)
      return usage('--converge-timeout is a duration of at least 1s, e.g. 10m');
    convergeMs = d.ms;
  }
  if (v['no-apply'] && v['converge-timeout'] !== undefined)
    return usage('--converge-timeout goes with the apply; drop --no-apply');
  if (action === undefined && names.length)
    return usage(`unexpected argument "${visible(names[0]!)}"`);

  if (action === undefined) return listAddons(v, deps);
  if (v['read-only'] === true && action === 'sync' && !v['dry-run'])
    return usage('--read-only: addon sync writes the manifest and rebuilds nodes; refused');
  const applying = action === 'sync' && v['no-apply'] !== true;
  if (applying) {
    if (v.demo)
      return usage(
        'the demo lab downloads nothing and applies nothing: pass --manifest FILE (your nix/addons/addons.json) and --no-apply',
      );
    return withSession(v, deps, (session) =>
      runSync(action, names, versions, v, deps, session, convergeMs),
    );
  }
  return runSync(action ?? 'sync', names, versions, v, deps, undefined, undefined);
}

/** A live session for the apply (nodes, rebuild.flake, the kube watches). */
async function withSession(
  v: Values,
  deps: AddonsDeps,
  body: (s: Session) => Promise<number>,
): Promise<number> {
  const opened = await openSession(sessionArgs(v, 'addons'), deps.err, deps.env, [addonsFeature]);
  if (!opened.ok) {
    deps.err.write(
      'k8ops addons: applying the pins needs the inventory (its nodes and rebuild.flake); pass --no-apply to only write them\n',
    );
    return ADDONS_EXIT.usage;
  }
  try {
    return await body(opened.session);
  } finally {
    await opened.session.close();
  }
}

async function runSync(
  action: 'sync' | 'verify',
  names: string[],
  versions: Record<string, string>,
  v: Values,
  deps: AddonsDeps,
  session: Session | undefined,
  convergeMs: number | undefined,
): Promise<number> {
  const { out, err, env } = deps;
  const usage = usageWriter('addons', err, ADDONS_EXIT.usage);
  let manifestPath: string | undefined;
  if (v.manifest !== undefined) manifestPath = String(v.manifest);
  else if (!session) manifestPath = await inventoryManifest(v, err, env);
  else if (session.inventory.addons.manifest) manifestPath = session.inventory.addons.manifest;
  else err.write('k8ops addons: the inventory sets no addons.manifest; pass --manifest FILE\n');
  if (manifestPath === undefined) return ADDONS_EXIT.usage;
  let apply: ApplyPlan | undefined;
  if (session) {
    const sshConfig = v['ssh-config'] as string | undefined;
    const built = buildAddonApply({
      inventory: session.inventory,
      agents: session.agents,
      read: (scope, src) => session.store.get(scope, src),
      hasKube: session.hasKube,
      ...(sshConfig ? { sshConfig } : {}),
      ...(convergeMs !== undefined ? { timeoutMs: convergeMs } : {}),
      ...(deps.convergeIntervalMs !== undefined ? { intervalMs: deps.convergeIntervalMs } : {}),
    });
    if (!built.ok) return usage(`${built.error} (or pass --no-apply to only write the pins)`);
    apply = built.plan;
  }
  const req = {
    manifestPath,
    names,
    versions,
    verify: action === 'verify',
    acceptChanged: v['accept-changed'] === true,
  };
  const plan = await loadSyncPlan(req);
  if (!plan.ok) return usage(plan.error);
  if (v['dry-run']) {
    for (const e of plan.entries)
      out.write(
        `download ${visible(e.url)} (${visible(e.name)} ${visible(e.toVersion)}), hash it as Nix does\n`,
      );
    out.write(`write the changed pins into ${manifestPath} (jsonc edit, atomic rename)\n`);
    if (apply && session) {
      const sshConfig = v['ssh-config'] as string | undefined;
      out.write('then apply, one node at a time, each gated:\n');
      try {
        for (const n of apply.nodes)
          out.write(`  ${rebuildCommandText(session.inventory, n, 'switch', {}, sshConfig)}\n`);
      } catch (e) {
        return usage((e as Error).message);
      }
      out.write(
        `then watch the deployed versions (kube API: Deployments, DaemonSets) for at most ${formatDuration(apply.timeoutMs)}\n`,
      );
    }
    return ADDONS_EXIT.ok;
  }
  const interactive = (deps.stdinIsTTY ?? process.stdin.isTTY) === true;
  if (apply && session) session.start();
  const applyText = apply
    ? ` and apply it (nixos-rebuild switch of ${apply.nodes.map((n) => n.name).join(', ')})`
    : '';
  const job = addonSyncJob(req, plan, {
    ...(deps.fetchCa ? { fetchOptions: { ca: deps.fetchCa } } : {}),
    ...(apply ? { apply } : {}),
    confirm: async (diff) => {
      // With --json, stdout carries only the document.
      (v.json ? err : out).write(diff);
      if (v.yes) return true;
      if (!interactive) {
        err.write('k8ops addons: not written (standard input is not a terminal; pass --yes)\n');
        return false;
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test(
          (await rl.question(`write ${manifestPath}${applyText}? [y/N] `)).trim(),
        );
      } finally {
        rl.close();
      }
    },
  });
  let outcome: SyncOutcome;
  try {
    outcome = await runJobPrinting(job, err, { env });
  } catch (e) {
    const o = (e as { outcome?: SyncOutcome }).outcome;
    if (o && v.json) out.write(`${safeJson(o, 2)}\n`);
    err.write(`k8ops addons: ${visible((e as Error).message)}\n`);
    return ADDONS_EXIT.problem;
  }
  if (v.json) out.write(`${safeJson(outcome, 2)}\n`);
  else if (!outcome.diff) out.write('every pin matches its URL: nothing to change\n');
  else if (outcome.written && outcome.apply?.converge) {
    out.write(`wrote ${manifestPath}; rebuilt ${outcome.apply.nodes.join(', ')}\n`);
    for (const r of outcome.apply.converge.rows) out.write(`${r.name}: ${r.detail}\n`);
  } else if (outcome.written)
    out.write(`wrote ${manifestPath}; apply it with a rebuild of the addon-manager node(s)\n`);
  return action === 'sync' && outcome.diff && !outcome.written
    ? ADDONS_EXIT.problem
    : ADDONS_EXIT.ok;
}

/** The inventory's addons.manifest (sync and verify need no session, only the path). */
async function inventoryManifest(
  v: Values,
  err: Out,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const fail = (msg: string) => {
    err.write(`k8ops addons: ${msg}\n`);
    return undefined;
  };
  if (v.demo)
    return fail(
      'the demo lab downloads nothing: pass --manifest FILE (your nix/addons/addons.json)',
    );
  const where = resolveInventoryPath({
    flag: v.inventory as string | undefined,
    env,
    cwd: process.cwd(),
  });
  if (!where.found)
    return fail('no manifest: pass --manifest FILE, or an inventory with addons.manifest');
  const { formatIssue, loadInventory } = await import('../config/load.js');
  const loaded = await loadInventory(where.path);
  if (!loaded.ok) return fail(loaded.errors.map((i) => formatIssue(i)).join('\n'));
  return (
    loaded.inventory.addons.manifest ??
    fail(`${where.path} sets no addons.manifest; pass --manifest FILE`)
  );
}

async function listAddons(v: Values, deps: AddonsDeps): Promise<number> {
  const { out, err, env } = deps;
  const opened = await openSession(sessionArgs(v, 'addons'), err, env, [addonsFeature]);
  if (!opened.ok) return EXIT.config;
  const session = opened.session;
  try {
    if (v.manifest !== undefined) session.inventory.addons.manifest = String(v.manifest);
    await settleOnce(session);
    const m = buildAddonsModel({
      inventory: session.inventory,
      read: (s, src) => session.store.get(s, src),
      now: Date.now(),
      hasKube: session.hasKube,
    });
    const code = addonsExitCode(m);
    if (v.json) out.write(`${safeJson({ ...m, exitCode: code }, 2)}\n`);
    else out.write(formatAddons(m));
    if (m.error) err.write(`k8ops addons: ${m.error}\n`);
    return code;
  } finally {
    await session.close();
  }
}

export function formatAddons(m: AddonsModel): string {
  if (m.error) return `addons: ${m.error}\n`;
  const header = ['ADDON', 'DECLARED', 'FORMAT', 'PIN', 'RUNNING', 'STATE', 'DETAIL'];
  const rows = m.rows.map((r) => [
    r.name,
    r.version,
    r.format,
    r.pinned ? `${r.pin.slice(0, 14)}…` : 'unpinned',
    r.state === 'version-unknown'
      ? 'runs (?)'
      : [...new Set(r.running.map((x) => x.version))].join(',') || '-',
    r.state,
    r.detail,
  ]);
  const lines = formatTable(header, rows);
  for (const p of m.manifestProblems) lines.push(`manifest: ${p}`);
  if (m.kubeError) lines.push(`kube: ${m.kubeError}`);
  lines.push(
    `${m.rows.length} addons: ${m.totals.ok} ok, ${m.totals.warning} warning, ${m.totals.unknown} unknown (${m.manifestPath})`,
  );
  return `${lines.join('\n')}\n`;
}
