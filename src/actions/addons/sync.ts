/**
 * Addon sync as a job: download each selected addon's release artefact (at its declared
 * version, or a new one given with `versions`), hash it as Nix does, and write the pins
 * (and bumped versions/URLs) back into the manifest, keeping its formatting. Nothing is
 * written unless every download of the run succeeded and the operator confirmed; a pin
 * that no longer matches its URL's content at the same version is reported, never silently
 * replaced. `verify` downloads and compares only.
 */
import { readFile } from 'node:fs/promises';
import { RebuildFailed } from '../rebuild/job.js';
import type { JobContext, JobSpec } from '../types.js';
import { type ApplyOutcome, type ApplyPlan, watchConvergence } from './apply.js';
import { type Fetched, type FetchOptions, fetchAndHash } from './fetch.js';
import { type AddonDecl, parseManifest, urlForVersion } from './manifest.js';
import { formatPin, pinDigest, pinStyle, samePin } from './nix-hash.js';
import { applyPinUpdates, lineDiff, type PinUpdate, writeManifestAtomically } from './pins.js';

export interface SyncRequest {
  manifestPath: string;
  /** Addons to sync (default: all). */
  names?: readonly string[];
  /** New versions, by name. */
  versions?: Readonly<Record<string, string>>;
  /** Download and compare only; never write. */
  verify?: boolean;
  /** Replace a pin whose URL's content changed at the same version (default: refuse). */
  acceptChanged?: boolean;
}

export interface PlannedSync {
  name: string;
  fromVersion: string;
  toVersion: string;
  url: string;
  oldPin: string;
}

export type SyncPlan =
  | { ok: true; text: string; entries: PlannedSync[] }
  | { ok: false; error: string };

/** What the run will fetch (pure, from the manifest's text). */
export function planSync(text: string, req: Omit<SyncRequest, 'manifestPath'>): SyncPlan {
  const m = parseManifest(text);
  if (!m.ok) return { ok: false, error: m.error };
  const byName = new Map(m.addons.map((a) => [a.name, a]));
  const names = req.names?.length ? [...req.names] : m.addons.map((a) => a.name);
  const unknown = names.filter((n) => !byName.has(n));
  const versions = req.versions ?? {};
  unknown.push(...Object.keys(versions).filter((n) => !byName.has(n)));
  if (unknown.length)
    return {
      ok: false,
      error: `not declared in the manifest: ${[...new Set(unknown)].join(', ')}`,
    };
  const entries: PlannedSync[] = [];
  for (const n of new Set([...names, ...Object.keys(versions)])) {
    const a = byName.get(n) as AddonDecl;
    const to = versions[n] ?? a.version;
    const url = to === a.version ? a.url : urlForVersion(a, to);
    if (!url)
      return {
        ok: false,
        error: `${n}: its url does not mention version ${a.version}, so it cannot be bumped to ${to}; edit the url by hand`,
      };
    if (!url.startsWith('https://')) return { ok: false, error: `${n}: url must be https://` };
    entries.push({ name: n, fromVersion: a.version, toVersion: to, url, oldPin: a.sha256 });
  }
  return { ok: true, text, entries };
}

export interface AddonResult {
  name: string;
  version: string;
  url: string;
  bytes?: number;
  pin?: string;
  status: 'pinned' | 'unchanged' | 'changed-upstream' | 'failed';
  error?: string;
}

export interface SyncOutcome {
  results: AddonResult[];
  diff: string;
  written: boolean;
  /** The apply after the write (rebuild of the addon-manager nodes, convergence), when asked. */
  apply?: ApplyOutcome;
}

export interface SyncDeps {
  fetch?: (url: string, opts: FetchOptions) => Promise<Fetched>;
  fetchOptions?: Omit<FetchOptions, 'signal' | 'onProgress'>;
  /** Asked with the diff before writing; false: nothing written. Default: write. */
  confirm?(diff: string): Promise<boolean>;
  /** Downloads at once (default 3). */
  parallel?: number;
  /**
   * Apply after a confirmed write: rebuild the addon-manager nodes, then watch the deployed
   * versions converge (apply.ts). Absent: the pins are written and the job ends.
   */
  apply?: ApplyPlan;
}

/** The sync as a JobSpec for the job runner. */
export function addonSyncJob(
  req: SyncRequest,
  plan: Extract<SyncPlan, { ok: true }>,
  deps: SyncDeps = {},
): JobSpec<SyncOutcome> {
  const verb = req.verify ? 'verify' : 'sync';
  return {
    action: 'addon-sync',
    title: `addons ${verb}: ${plan.entries.map((e) => `${e.name} ${e.toVersion}`).join(', ')}`,
    targets: plan.entries.map((e) => e.name),
    plan: {
      manifest: req.manifestPath,
      verify: !!req.verify,
      entries: plan.entries,
      ...(deps.apply && !req.verify
        ? {
            apply: {
              rebuild: deps.apply.nodes.map((n) => n.name),
              convergeTimeoutMs: deps.apply.timeoutMs,
            },
          }
        : {}),
    },
    run: (ctx) => runSync(ctx, req, plan, deps),
    // The Addons view shows the pins written at once (features/addons/sources.ts); an apply
    // rebuilt nodes (their reachability read again).
    refresh: deps.apply && !req.verify ? ['addons.manifest', 'reach'] : ['addons.manifest'],
  };
}

async function runSync(
  ctx: JobContext,
  req: SyncRequest,
  plan: Extract<SyncPlan, { ok: true }>,
  deps: SyncDeps,
): Promise<SyncOutcome> {
  const fetch = deps.fetch ?? fetchAndHash;
  const results: AddonResult[] = new Array(plan.entries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.entries.length) {
      const i = next++;
      const e = plan.entries[i]!;
      const base = { name: e.name, version: e.toVersion, url: e.url };
      ctx.progress?.(e.name, `downloading ${e.toVersion}`);
      try {
        const got = await ctx.step(`${e.name} ${e.toVersion}: download and hash`, () =>
          fetch(e.url, {
            ...deps.fetchOptions,
            signal: ctx.signal,
            onProgress: progressLogger(ctx, e.name),
          }),
        );
        const pin = formatPin(got.digest, pinStyle(e.oldPin));
        const sameVersion = e.toVersion === e.fromVersion;
        let status: AddonResult['status'] = 'pinned';
        if (e.oldPin && samePin(e.oldPin, pin)) status = 'unchanged';
        else if (e.oldPin && sameVersion && pinDigest(e.oldPin)) status = 'changed-upstream';
        ctx.log(`${e.name} ${e.toVersion}: ${got.bytes} bytes, sha256 ${pin} (${status})`);
        ctx.progress?.(
          e.name,
          status === 'changed-upstream'
            ? `pin mismatch: ${e.url} now serves other bytes at ${e.toVersion} (sha256 ${pin})`
            : status === 'unchanged'
              ? `pin matches (${got.bytes} bytes)`
              : `hashed: sha256 ${pin} (${got.bytes} bytes)`,
        );
        results[i] = { ...base, bytes: got.bytes, pin, status };
      } catch (err) {
        ctx.progress?.(e.name, `download failed: ${(err as Error).message}`);
        results[i] = { ...base, status: 'failed', error: (err as Error).message };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.parallel ?? 3) }, worker));

  const failed = results.filter((r) => r.status === 'failed');
  const changed = results.filter((r) => r.status === 'changed-upstream');
  for (const c of changed)
    ctx.log(
      `${c.name} ${c.version}: the pin in the manifest no longer matches the content of ${c.url}`,
    );
  const updates: PinUpdate[] = [];
  for (const [i, r] of results.entries()) {
    const e = plan.entries[i]!;
    if (r.status === 'pinned' || (r.status === 'changed-upstream' && req.acceptChanged)) {
      const u: PinUpdate = { name: r.name, sha256: r.pin! };
      if (e.toVersion !== e.fromVersion) {
        u.version = e.toVersion;
        u.url = e.url;
      }
      updates.push(u);
    }
  }
  const after = updates.length ? applyPinUpdates(plan.text, updates) : plan.text;
  const diff = lineDiff(plan.text, after, req.manifestPath);
  const outcome: SyncOutcome = { results, diff, written: false };
  if (failed.length) {
    throw Object.assign(
      new Error(
        `${failed.map((f) => `${f.name}: ${f.error}`).join('; ')} — nothing written to ${req.manifestPath}`,
      ),
      { outcome },
    );
  }
  if (changed.length && !req.acceptChanged) {
    throw Object.assign(
      new Error(
        `pin mismatch: ${changed.map((c) => c.name).join(', ')} (the URL's content changed at the same version) — nothing written; check upstream, then sync with --accept-changed`,
      ),
      { outcome },
    );
  }
  if (req.verify || !diff) {
    if (!diff) ctx.log('every pin matches its URL: nothing to change');
    return outcome;
  }
  const ok = (await deps.confirm?.(diff)) ?? true;
  if (!ok) {
    ctx.log('not confirmed: nothing written');
    return outcome;
  }
  await ctx.step(`write ${req.manifestPath}`, () =>
    writeManifestAtomically(req.manifestPath, plan.text, after),
  );
  // The diff of the pins written, in the job's log (the Jobs pane shows it).
  for (const l of diff.replace(/\n$/, '').split('\n')) ctx.log(l);
  for (const u of updates) ctx.progress?.(u.name, `pinned: sha256 ${u.sha256} (written)`);
  outcome.written = true;
  if (deps.apply) await applyPins(ctx, req, plan, after, deps.apply, outcome);
  return outcome;
}

/**
 * The written pins applied: the rebuild roll-out of the addon-manager nodes (its steps and
 * per-node lines in this job), then the watch of the deployed versions. A failure leaves
 * the pins written — the manifest is the declared state — and says how to apply them again.
 */
async function applyPins(
  ctx: JobContext,
  req: SyncRequest,
  plan: Extract<SyncPlan, { ok: true }>,
  after: string,
  ap: ApplyPlan,
  outcome: SyncOutcome,
): Promise<void> {
  const nodes = ap.nodes.map((n) => n.name);
  const applied: ApplyOutcome = { nodes };
  outcome.apply = applied;
  const names = plan.entries.map((e) => e.name);
  const again = `apply them with k8ops rebuild ${nodes.join(' ')} (B in the console)`;
  ctx.log(
    `apply: nixos-rebuild switch of ${nodes.join(', ')} (the node${nodes.length > 1 ? 's' : ''} running the addon manager)`,
  );
  for (const n of names) ctx.progress?.(n, `written; applying: rebuilding ${nodes.join(', ')}`);
  try {
    applied.rebuild = await ap.rebuild.run(ctx);
  } catch (e) {
    if (e instanceof RebuildFailed) applied.rebuild = e.summary;
    for (const n of names) ctx.progress?.(n, 'written, not applied: the rebuild failed');
    throw Object.assign(
      new Error(
        `the pins are written to ${req.manifestPath} (the file is the declared state) but applying them failed: ${(e as Error).message}\nonce fixed, ${again}`,
      ),
      { outcome },
    );
  }
  const m = parseManifest(after);
  const decls = m.ok ? m.addons.filter((a) => names.includes(a.name)) : [];
  for (const n of names) ctx.progress?.(n, 'applied; watching the deployed version');
  let converge: Awaited<ReturnType<typeof watchConvergence>> | undefined;
  try {
    await ctx.step('watch the deployed versions converge', async () => {
      converge = await watchConvergence(ctx, decls, ap);
      applied.converge = converge;
      if (converge.converged) return;
      const left = converge.rows.filter(
        (r) => r.state === 'old-version' || r.state === 'not-found',
      );
      throw new Error(
        converge.error && !left.length
          ? `convergence not confirmed: ${converge.error}`
          : `not converged after ${Math.round(converge.ms / 1000)} s: ${left
              .map((r) => `${r.name} ${r.detail}`)
              .join('; ')}${converge.error ? ` (kube: ${converge.error})` : ''}`,
      );
    });
  } catch (e) {
    throw Object.assign(
      new Error(
        `${(e as Error).message} — the pins are written to ${req.manifestPath} and ${nodes.join(', ')} rebuilt`,
      ),
      { outcome },
    );
  }
}

/** One log line per 10 % (or per 8 MiB without a length) — never a line per chunk. */
function progressLogger(ctx: JobContext, name: string) {
  let shown = -1;
  return (got: number, total: number | undefined): void => {
    const mark = total ? Math.floor((got / total) * 10) : Math.floor(got / (8 << 20));
    if (mark === shown) return;
    shown = mark;
    ctx.log(
      total
        ? `${name}: ${Math.round((got / total) * 100)} % of ${total} bytes`
        : `${name}: ${got} bytes`,
    );
  };
}

/** Read the manifest and plan (the CLI's and the console's entry). */
export async function loadSyncPlan(req: SyncRequest): Promise<SyncPlan> {
  let text: string;
  try {
    text = await readFile(req.manifestPath, 'utf8');
  } catch (e) {
    return { ok: false, error: `${req.manifestPath}: ${(e as Error).message}` };
  }
  const { manifestPath: _, ...rest } = req;
  return planSync(text, rest);
}
