/**
 * Helpers for the NixOS-side tests: run the real `nix-instantiate` (Debian nix-bin) on the
 * pure core under nix/lib/, and `shellcheck` on scripts. A missing tool skips the block with
 * the reason in its title — except under CI=true, where it is a failing test (.ci/run
 * installs both).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'vitest';
import { type Layout, parseLayout } from '../../../src/pki/layout.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const NIX_DIR = join(ROOT, 'nix');
export const LAYOUT_TEXT = readFileSync(join(NIX_DIR, 'pki', 'layout.json'), 'utf8');

export function loadLayout(text = LAYOUT_TEXT): Layout {
  const parsed = parseLayout(text);
  if (!parsed.ok) throw new Error(`layout.json: ${parsed.error}`);
  return parsed.layout;
}

/** Absolute path of a program on PATH, or undefined. */
export function which(bin: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', bin], { encoding: 'utf8' });
  const out = r.stdout.trim();
  return r.status === 0 && out ? out : undefined;
}

/** describe() that needs programs; skipped (reason in the title) or failing under CI=true. */
export function describeWith(bins: string[], name: string, body: () => void): void {
  const missing = bins.filter((b) => !which(b));
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = `${missing.join(', ')} not installed`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has its prerequisites (CI must run the Nix tests)', () => {
        throw new Error(`${reason}; .ci/run installs nix-bin and shellcheck`);
      });
    });
    return;
  }
  process.stderr.write(`[skip] ${name}: ${reason}\n`);
  describe.skip(`${name} [skipped: ${reason}]`, body);
}

// The Debian build warns about its missing `nixbld` group on every run; nothing here builds.
const NIX_ENV = { ...process.env, NIX_CONFIG: 'build-users-group =' };

export interface NixRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs nix-instantiate with `args` from the repository root (relative paths resolve there). */
export function nixInstantiate(args: string[]): NixRun {
  const r = spawnSync('nix-instantiate', args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: NIX_ENV,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `nix-instantiate --eval --strict --json` of `expr`. `json` values are passed as strings
 * (`--argstr name '<json>'`) and appear in `expr` as `args.<name>`, already decoded.
 */
export function nixEval<T = unknown>(expr: string, json: Record<string, unknown> = {}): T {
  const r = nixEvalRaw(expr, json);
  if (r.status !== 0) throw new Error(`nix-instantiate failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export function nixEvalRaw(expr: string, json: Record<string, unknown> = {}): NixRun {
  const names = Object.keys(json);
  const argv = ['--eval', '--strict', '--json'];
  for (const n of names) argv.push('--argstr', n, JSON.stringify(json[n]));
  // nix-instantiate calls a top-level function with the --argstr values (only if any).
  const wrapped = names.length
    ? `{ ${names.join(', ')}, ... }: let args = { ${names
        .map((n) => `${n} = builtins.fromJSON ${n};`)
        .join(' ')} }; in (${expr})`
    : `let args = { }; in (${expr})`;
  return nixInstantiate([...argv, '--expr', wrapped]);
}

/** The pure core for one node: import ./nix/lib/pki-options.nix { layout; node; cluster; }. */
export function evalCore<T = CoreResult>(
  node: { name: string; roles: readonly string[]; addresses: readonly string[] },
  cluster: Record<string, unknown> = {},
  opts: { layoutText?: string; attr?: string } = {},
): T {
  return nixEval<T>(
    `let r = import ./nix/lib/pki-options.nix { layout = builtins.fromJSON args.layoutText; node = args.node; cluster = args.cluster; }; in ${
      opts.attr ? `r.${opts.attr}` : 'r'
    }`,
    { layoutText: opts.layoutText ?? LAYOUT_TEXT, node, cluster },
  );
}

/** Every file under `dir` (recursively) whose name matches `re`, relative to ROOT. */
export function filesUnder(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (re.test(e.name)) out.push(relative(ROOT, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Any JSON value read back from Nix, for tests that walk into it (`t.a?.b`). */
export type Tree = { readonly [key: string]: Tree };

/** Reads a dotted path (`kubernetes.apiserver.tlsCertFile`) out of an object. */
export function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(key in cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export interface Kubeconfig {
  clusters: { name: string; cluster: { 'certificate-authority': string; server: string } }[];
  users: { name: string; user: { 'client-certificate': string; 'client-key': string } }[];
  'current-context': string;
}

/** The shape of nix/lib/pki-options.nix's result that the tests read. */
export interface CoreResult {
  node: string;
  pkiDir: string;
  plan: unknown;
  roles: { controlPlane: boolean; worker: boolean; etcd: boolean; kubernetes: boolean };
  components: Record<
    | 'apiserver'
    | 'controllerManager'
    | 'scheduler'
    | 'addonManager'
    | 'kubelet'
    | 'proxy'
    | 'flannel'
    | 'etcd',
    boolean
  >;
  kubernetesRoles: string[];
  /** `kubernetes.{apiserver,controllerManager,scheduler,kubelet}` and `etcd` exist for every
   * role (empty where they do not apply), and so do `settings.{kubernetes,etcd}`. */
  services: { kubernetes: Record<string, unknown>; etcd: Record<string, unknown> };
  settings: { kubernetes: Record<string, unknown>; etcd: Record<string, unknown> };
  apiserverExtraOpts: string[];
  kubeconfigs: Partial<Record<'addonManager' | 'clusterAdmin' | 'flannel', Kubeconfig>>;
  tmpfiles: string[];
  units: Record<string, string[]>;
  unitFiles: Record<string, string[]>;
  bootstrapAddons: Record<string, Record<string, unknown>>;
  optionTable: { option: string; value: unknown; flag: string; ref: string | null }[];
  etcdMembers: string[];
  apiserverURL: string | null;
  dnsIP: string;
  storeFree: boolean;
}
