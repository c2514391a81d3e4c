/**
 * A real P-521 lab PKI built by the project's own scripts (nix/pki/gen-lab.sh → init-root,
 * issue-intermediate, bundles, node-csr, sign, install, sa-keygen), for tests that need
 * real certificate files. Build it once per test file (in `beforeAll`): a 3-node lab takes
 * a few seconds of CPU.
 *
 *   const lab = await buildLab(dir);            // DEFAULT_LAB_NODES
 *   lab.nodes['cp-1'].dir                       // what cp-1 holds in its pkiDir
 *   lab.root.cert, lab.intermediates['etcd-ca'] // CA material (root key under offline/)
 *
 * `describePki` skips a suite with a visible reason when cfssl/openssl/jq are missing, and
 * fails it under CI=true (CI must run these tests).
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import type { Role } from '../../src/config/types.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const PKI_SCRIPTS = join(REPO_ROOT, 'nix', 'pki');
export const LAYOUT_PATH = join(PKI_SCRIPTS, 'layout.json');
export const CFSSL_CONFIG_PATH = join(PKI_SCRIPTS, 'cfssl-config.json');

export interface LabNode {
  name: string;
  roles: Role[];
  addresses: string[];
}

/** The lab of the PKI tests: two control-plane+etcd nodes and a dual-stack worker. */
export const DEFAULT_LAB_NODES: readonly LabNode[] = [
  { name: 'cp-1', roles: ['control-plane', 'etcd'], addresses: ['10.77.0.11'] },
  { name: 'cp-2', roles: ['control-plane', 'etcd'], addresses: ['10.77.0.12'] },
  { name: 'worker-1', roles: ['worker'], addresses: ['10.77.0.21', 'fd00:77::21'] },
];

export interface LabOptions {
  clusterDomain?: string;
  serviceCIDR?: string;
  apiserverAddress?: string;
}

export interface LabPaths {
  cert: string;
  key: string;
}
export interface LabNodePaths extends LabNode {
  /** The node's pkiDir: bundles, keys, chains, service-account pair. */
  dir: string;
  /** CSRs and signed chains that travelled between this node and the signer. */
  spool: string;
}
export interface Lab {
  /** The lab directory (PKIDIR). */
  dir: string;
  root: LabPaths & { id: string };
  /** Intermediates' certificates and keys, plus a copy of the root certificate. */
  caDir: string;
  intermediates: Record<string, LabPaths>;
  nodes: Record<string, LabNodePaths>;
  options: LabOptions;
  /** gen-lab's messages (warnings about owners that do not exist here, progress). */
  log: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program; never throws for a non-zero exit (the result says what happened). */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      [...args],
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code =
          error == null ? 0 : typeof error.code === 'number' ? error.code : error.killed ? 124 : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Run one of nix/pki/*.sh (name without ".sh"). */
export function runScript(
  name: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return run(join(PKI_SCRIPTS, `${name}.sh`), args, opts);
}

/** Every script of nix/pki (the sourced lib.sh included). */
export const PKI_SCRIPT_NAMES = [
  'lib',
  'init-root',
  'issue-intermediate',
  'bundles',
  'node-csr',
  'sign',
  'install',
  'sa-keygen',
  'status',
  'gen-lab',
  'lock',
  'ca-rotate',
  'bundle-install',
  'sa-rotate',
] as const;

function installed(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', bin], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Are the tools the PKI scripts need installed? (`extra`: e.g. shellcheck.) */
export function pkiToolSupport(
  extra: readonly string[] = [],
): { ok: true } | { ok: false; reason: string } {
  const missing = ['bash', 'cfssl', 'cfssljson', 'openssl', 'jq', ...extra].filter(
    (b) => !installed(b),
  );
  if (missing.length === 0) return { ok: true };
  return {
    ok: false,
    reason: `${missing.join(', ')} not installed (Debian: golang-cfssl, openssl, jq, shellcheck)`,
  };
}

/**
 * A describe block that needs the PKI tools. Missing tools: skipped with the reason in its
 * title (and on stderr) — except under CI=true, where it is a failing test.
 */
export function describePki(
  name: string,
  body: () => void,
  opts: { extraTools?: readonly string[] } = {},
): void {
  const support = pkiToolSupport(opts.extraTools ?? []);
  if (support.ok) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has its prerequisites (CI must run the PKI script tests)', () => {
        throw new Error(`PKI tools unavailable under CI: ${support.reason}`);
      });
    });
    return;
  }
  process.stderr.write(`[skip] ${name}: ${support.reason}\n`);
  describe.skip(`${name} [skipped: ${support.reason}]`, body);
}

interface Manifest {
  pkiDir: string;
  root: { id: string; cert: string; key: string };
  caDir: string;
  intermediates: { id: string; cert: string; key: string }[];
  nodes: {
    name: string;
    roles: Role[];
    addresses: string[];
    dir: string;
    spool: string;
  }[];
}

/**
 * Run gen-lab.sh into `dir` (which must not exist or be empty) and return the paths.
 * Throws with gen-lab's messages when it fails.
 */
export async function buildLab(
  dir: string,
  nodes: readonly LabNode[] = DEFAULT_LAB_NODES,
  options: LabOptions = {},
): Promise<Lab> {
  const args: string[] = [];
  if (options.clusterDomain) args.push('--cluster-domain', options.clusterDomain);
  if (options.serviceCIDR) args.push('--service-cidr', options.serviceCIDR);
  if (options.apiserverAddress) args.push('--apiserver-address', options.apiserverAddress);
  args.push(dir, ...nodes.map((n) => `${n.name}:${n.roles.join(',')}:${n.addresses.join(',')}`));
  const r = await runScript('gen-lab', args, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`gen-lab.sh failed (exit ${r.code}):\n${r.stderr}`);
  const m = JSON.parse(r.stdout) as Manifest;
  return {
    dir: m.pkiDir,
    root: m.root,
    caDir: m.caDir,
    intermediates: Object.fromEntries(
      m.intermediates.map((i) => [i.id, { cert: i.cert, key: i.key }]),
    ),
    nodes: Object.fromEntries(m.nodes.map((n) => [n.name, n])),
    options,
    log: r.stderr,
  };
}
