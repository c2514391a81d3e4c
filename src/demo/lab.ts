/**
 * The demo lab on disk: a real ECDSA P-521 / SHA-512 PKI (offline root, three intermediates,
 * per-node leaves) generated on first start into the cache directory and reused later.
 *
 * Layout of `dir`:
 *   meta.json                          {version, generatedAt, cluster}
 *   offline/k8s-root.pem, -key.pem     the root pair (never under nodes/)
 *   nodes/<node>/<absolute path>       each node's files, e.g. nodes/cp-1/etc/kubernetes/pki/…
 *   nodes/<node>/meta/owners.json      simulated owner/group of each node file
 *
 * Written atomically: generated into a sibling temp directory, then renamed into place.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Inventory } from '../config/types.js';
import { splitPem } from '../pki/pem.js';
import { parseCertFile } from '../pki/x509.js';
import { demoInventory } from './inventory.js';
import { type DemoFileSpec, demoLabFiles } from './pki-plan.js';

/** Bump when the lab's contents change: older labs are regenerated. (2: built from the layout.) */
export const DEMO_LAB_VERSION = 3;
/** A lab older than this is regenerated, so staggered ages and the renew-window fault stay true. */
export const DEMO_LAB_MAX_AGE_MS = 24 * 3_600_000;

export interface EnsureDemoLabOptions {
  /** Lab directory, normally `$XDG_CACHE_HOME/k8ops/demo-lab`. */
  dir: string;
  /** Epoch ms; defaults to Date.now(). */
  now?: number;
  log?: (message: string) => void;
  /** Defaults to demoInventory(). */
  inventory?: Inventory;
}

export interface DemoLab {
  dir: string;
  generatedAt: number;
  /** True when this call generated the lab, false when it reused an existing one. */
  fresh: boolean;
}

export interface DemoLabMeta {
  version: number;
  generatedAt: number;
  cluster: string;
  /** Wall time the generation took, ms (informational). */
  generationMs?: number;
}

const OWNERS_FILE = 'meta/owners.json';

/** Root directory of one node's files inside the lab. */
export function demoNodeRoot(dir: string, node: string): string {
  return join(dir, 'nodes', node);
}

/** Where a node-absolute path (or an offline file) lives in the lab. */
export function demoLabPath(dir: string, file: Pick<DemoFileSpec, 'node' | 'path'>): string {
  return file.node === undefined
    ? join(dir, 'offline', file.path)
    : join(demoNodeRoot(dir, file.node), file.path.replace(/^\/+/, ''));
}

/** The simulated ownership table written to `nodes/<node>/meta/owners.json`. */
export interface OwnersFile {
  version: 1;
  /** Node-absolute path → owner/group. Paths not listed are root:root. */
  files: Record<string, { owner: string; group: string }>;
}

export function demoOwnersPath(dir: string, node: string): string {
  return join(demoNodeRoot(dir, node), OWNERS_FILE);
}

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---------------------------------------------------------------------------------------
// Validation of an existing lab

/**
 * Whether the lab at `dir` can be reused at `now`: its meta when it can (version matches,
 * under 24 h old, every expected file present and parseable), otherwise the reason why not.
 */
export async function checkDemoLab(
  dir: string,
  now: number,
  inv: Inventory = demoInventory(),
): Promise<{ reason: string } | { meta: DemoLabMeta }> {
  let meta: DemoLabMeta;
  try {
    const raw: unknown = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    if (typeof raw !== 'object' || raw === null) return { reason: 'meta.json is not an object' };
    meta = raw as DemoLabMeta;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { reason: code === 'ENOENT' ? 'no lab yet' : `meta.json unreadable: ${errMsg(e)}` };
  }
  if (meta.version !== DEMO_LAB_VERSION) {
    return { reason: `lab version ${String(meta.version)} ≠ ${DEMO_LAB_VERSION}` };
  }
  if (typeof meta.generatedAt !== 'number' || !Number.isFinite(meta.generatedAt)) {
    return { reason: 'meta.json has no generatedAt' };
  }
  if (meta.cluster !== inv.cluster) return { reason: `lab is for cluster ${String(meta.cluster)}` };
  const age = now - meta.generatedAt;
  if (age > DEMO_LAB_MAX_AGE_MS) return { reason: 'lab is older than 24 h' };
  if (age < -5 * 60_000) return { reason: 'lab was generated in the future' };

  const files = demoLabFiles(inv);
  const problems = await Promise.all(
    files.map(async (f): Promise<string | undefined> => {
      const p = demoLabPath(dir, f);
      let text: string;
      try {
        text = await readFile(p, 'utf8');
      } catch (e) {
        return `${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : errMsg(e)}`;
      }
      if (f.kind === 'key' || f.kind === 'public-key') {
        const s = splitPem(text);
        const want = f.kind === 'key' ? /PRIVATE KEY$/ : /^PUBLIC KEY$/;
        const ok = s.errors.length === 0 && s.blocks.length === 1 && want.test(s.blocks[0]!.label);
        return ok ? undefined : `${p}: not a single ${f.kind}`;
      }
      const cf = parseCertFile(f.node ?? 'offline', f.path, text);
      const want = f.kind === 'chain' ? 2 : 1;
      if (cf.errors.length > 0) return `${p}: ${cf.errors[0]!.message}`;
      return cf.certs.length === want
        ? undefined
        : `${p}: ${cf.certs.length} certificates, want ${want}`;
    }),
  );
  const bad = problems.filter((x): x is string => x !== undefined);
  if (bad.length > 0) return { reason: `${bad.length} damaged file(s), e.g. ${bad[0]}` };
  for (const n of inv.nodes) {
    try {
      JSON.parse(await readFile(demoOwnersPath(dir, n.name), 'utf8'));
    } catch (e) {
      return { reason: `owners.json of ${n.name}: ${errMsg(e)}` };
    }
  }
  return { meta };
}

/**
 * Generate the whole lab into `target` (which must not exist). Returns generation ms. The
 * generator (and @peculiar/x509 with it) is loaded only here: a reused lab never needs it.
 */
export async function generateDemoLab(
  target: string,
  now: number,
  inv: Inventory,
): Promise<number> {
  const { writeDemoLab } = await import('./lab-generate.js');
  return writeDemoLab(target, now, inv);
}

// ---------------------------------------------------------------------------------------
// ensureDemoLab

const SCRATCH_RE = /^(.*)\.(tmp|old)-(\d+)-[0-9a-f]+$/;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove temp/old directories left by interrupted runs of dead processes. */
async function sweepScratch(dir: string): Promise<void> {
  const parent = dirname(dir);
  const base = basename(dir);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  await Promise.all(
    names.map(async (n) => {
      const m = SCRATCH_RE.exec(n);
      if (!m || m[1] !== base) return;
      // Keep scratch of live processes (including this one: a concurrent call may own it).
      if (pidAlive(Number(m[3]))) return;
      await rm(join(parent, n), { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}

const scratchName = (dir: string, kind: 'tmp' | 'old'): string =>
  `${dir}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Make sure a usable demo lab exists in `dir`: reuse it when its meta version matches, it is
 * complete and parses, and it is less than 24 h old; otherwise generate a fresh one.
 */
export async function ensureDemoLab(opts: EnsureDemoLabOptions): Promise<DemoLab> {
  const { dir } = opts;
  const now = opts.now ?? Date.now();
  const inv = opts.inventory ?? demoInventory();
  const log = opts.log ?? (() => undefined);

  const existing = await checkDemoLab(dir, now, inv);
  if ('meta' in existing) return { dir, generatedAt: existing.meta.generatedAt, fresh: false };

  log(`demo lab: generating a P-521 PKI in ${dir} (${existing.reason})`);
  await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
  await sweepScratch(dir);
  const tmp = scratchName(dir, 'tmp');
  try {
    const ms = await generateDemoLab(tmp, now, inv);
    log(`demo lab: generated in ${ms} ms`);
    const winner = await install(tmp, dir, now, inv);
    if (winner) return { dir, generatedAt: winner.generatedAt, fresh: false };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  return { dir, generatedAt: now, fresh: true };
}

/**
 * Move the generated `tmp` into place at `dir`, replacing an unusable lab. Returns the meta
 * of a good lab another process installed meanwhile (ours is then discarded).
 */
async function install(
  tmp: string,
  dir: string,
  now: number,
  inv: Inventory,
): Promise<DemoLabMeta | undefined> {
  try {
    await rename(tmp, dir);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw e;
  }
  const again = await checkDemoLab(dir, now, inv);
  if ('meta' in again) {
    await rm(tmp, { recursive: true, force: true });
    return again.meta;
  }
  const old = scratchName(dir, 'old');
  await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
  return undefined;
}
