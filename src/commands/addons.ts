/**
 * `k8ops addons [--json]`: every declared addon (the manifest) beside what runs in the
 * cluster: version, pin, drift, the manifest's problems.
 * `k8ops addons sync [NAME…] [--version NAME=VER]… [--yes] [--accept-changed]`: download,
 * hash as Nix does, show the diff of the manifest, write it on confirmation.
 * `k8ops addons verify [NAME…]`: download and compare with the pins; writes nothing.
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { addonSyncJob, loadSyncPlan, type SyncOutcome } from '../actions/addons/sync.js';
import { resolveInventoryPath } from '../config/paths.js';
import { type AddonsModel, addonsFeature, buildAddonsModel } from '../features/addons/model.js';
import { safeJson, visible } from '../store/sanitise.js';
import { EXIT, formatTable, type Out, settleOnce } from './common.js';
import { runJobPrinting } from './job-print.js';
import { openSession, SESSION_OPTIONS, sessionArgs } from './open.js';

export const ADDONS_EXIT = { ok: 0, problem: 1, usage: 2, unreachable: 3 } as const;

const OPTIONS = {
  ...SESSION_OPTIONS,
  json: { type: 'boolean' },
  manifest: { type: 'string' },
  version: { type: 'string', multiple: true },
  yes: { type: 'boolean', short: 'y' },
  'accept-changed': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const ADDONS_HELP = `Usage:
  k8ops addons [--json] [--manifest FILE]
      every declared addon beside what runs: version, pin, drift, manifest problems
  k8ops addons sync [NAME…] [--version NAME=VER]… [--yes] [--accept-changed] [--manifest FILE]
      download each release artefact (https, streamed, size-capped), hash it as Nix does
      (nix-prefetch-url's flat sha256, written in the pin's style: base32 or SRI), show the
      diff of the manifest and write it (asked on a terminal; --yes to write without asking)
  k8ops addons verify [NAME…] [--manifest FILE]
      download and compare with the pins; writes nothing
The manifest: --manifest, else the inventory's addons.manifest. Nothing is written when a
download fails or an URL's content changed at the same version (a pin mismatch; accept it
with --accept-changed after checking upstream). Apply the new pins with a rebuild of the
node(s) running the addon manager.
Exit: addons — 0 every addon pinned and running its declared version; 1 a warning (unpinned,
drift, not running, a manifest problem); 2 usage or configuration; 3 the kube API unreachable.
sync/verify — 0 done (or nothing to change); 1 a download failed, a pin mismatch, or not
confirmed; 2 usage or configuration.
`;

export function isAddonsArgv(argv: readonly string[]): boolean {
  try {
    return (
      parseArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true })
        .positionals[0] === 'addons'
    );
  } catch {
    return false;
  }
}

export interface AddonsDeps {
  out: Out;
  err: Out;
  env: NodeJS.ProcessEnv;
  /** Whether stdin is a terminal (the sync asks before writing). */
  stdinIsTTY?: boolean;
  /** Download options (tests: a loopback server's CA). */
  fetchCa?: string;
}

export function addonsExitCode(m: AddonsModel): number {
  if (m.error) return ADDONS_EXIT.usage;
  if (m.manifestProblems.length || m.rows.some((r) => r.verdict === 'warning'))
    return ADDONS_EXIT.problem;
  if (m.kubeError) return ADDONS_EXIT.unreachable;
  return ADDONS_EXIT.ok;
}

export async function addonsCommand(argv: readonly string[], deps: AddonsDeps): Promise<number> {
  const { out, err, env } = deps;
  const usage = (msg: string) => {
    err.write(`k8ops addons: ${msg}\nTry 'k8ops addons --help'.\n`);
    return ADDONS_EXIT.usage;
  };
  let v: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    const p = parseArgs({
      args: [...argv],
      options: OPTIONS,
      strict: true,
      allowPositionals: true,
    });
    v = p.values as typeof v;
    positionals = p.positionals;
  } catch (e) {
    return usage((e as Error).message);
  }
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
  if (action !== 'sync' && (Object.keys(versions).length || v.yes || v['accept-changed']))
    return usage('--version, --yes and --accept-changed belong to `addons sync`');
  if (action === undefined && names.length)
    return usage(`unexpected argument "${visible(names[0]!)}"`);

  if (action === undefined) return listAddons(v, deps);
  if (v['read-only'] === true && action === 'sync')
    return usage('--read-only: addon sync writes the manifest; refused');
  const manifestPath =
    v.manifest !== undefined ? String(v.manifest) : await inventoryManifest(v, err, env);
  if (manifestPath === undefined) return ADDONS_EXIT.usage;
  const req = {
    manifestPath,
    names,
    versions,
    verify: action === 'verify',
    acceptChanged: v['accept-changed'] === true,
  };
  const plan = await loadSyncPlan(req);
  if (!plan.ok) return usage(plan.error);
  const interactive = (deps.stdinIsTTY ?? process.stdin.isTTY) === true;
  const job = addonSyncJob(req, plan, {
    ...(deps.fetchCa ? { fetchOptions: { ca: deps.fetchCa } } : {}),
    confirm: async (diff) => {
      out.write(diff);
      if (v.yes) return true;
      if (!interactive) {
        err.write('k8ops addons: not written (standard input is not a terminal; pass --yes)\n');
        return false;
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`write ${manifestPath}? [y/N] `)).trim());
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
  else if (outcome.written) out.write(`wrote ${manifestPath}; apply it with a rebuild\n`);
  return action === 'sync' && outcome.diff && !outcome.written
    ? ADDONS_EXIT.problem
    : ADDONS_EXIT.ok;
}

type Values = Record<string, string | boolean | string[] | undefined>;

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
