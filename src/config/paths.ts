/**
 * XDG base directories for k8ops and the search for the inventory file.
 * Every function takes its environment and home directory as arguments (defaulting to the
 * process's) so tests never depend on the machine they run on.
 */

import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

export const APP_DIR_NAME = 'k8ops';
export const INVENTORY_FILE_NAME = 'k8ops.yaml';

/**
 * `$<name>` if set to an absolute path, else `<home>/<fallback>`. The XDG Base Directory
 * spec says relative values are invalid and must be ignored.
 */
function xdgBase(env: Env, name: string, home: string, fallback: string): string {
  const value = env[name];
  if (value !== undefined && value !== '' && isAbsolute(value)) return value;
  return join(home, fallback);
}

/** `$XDG_CONFIG_HOME/k8ops`, default `~/.config/k8ops`. */
export function configDir(env: Env = process.env, home: string = homedir()): string {
  return join(xdgBase(env, 'XDG_CONFIG_HOME', home, '.config'), APP_DIR_NAME);
}

/** `$XDG_CACHE_HOME/k8ops`, default `~/.cache/k8ops`. */
export function cacheDir(env: Env = process.env, home: string = homedir()): string {
  return join(xdgBase(env, 'XDG_CACHE_HOME', home, '.cache'), APP_DIR_NAME);
}

/** `$XDG_STATE_HOME/k8ops`, default `~/.local/state/k8ops` (audit log, job history). */
export function stateDir(env: Env = process.env, home: string = homedir()): string {
  return join(xdgBase(env, 'XDG_STATE_HOME', home, join('.local', 'state')), APP_DIR_NAME);
}

/**
 * Expands a leading `~` or `~/` to `home`, then resolves relative paths against `baseDir`.
 * `~user/…` is left alone (validate.ts rejects it in the inventory).
 */
export function expandPath(path: string, home: string, baseDir: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return resolve(baseDir, path);
}

export type InventorySource = 'flag' | 'config-dir' | 'cwd';

export type InventoryPathResult =
  | { found: true; path: string; source: InventorySource }
  | {
      found: false;
      /** Every place looked at, in order. */
      searched: string[];
      /** One line for the user, naming the places and how to choose a file. */
      message: string;
    };

export interface ResolveInventoryOptions {
  /** Value of `--inventory FILE`, as typed (may be relative or start with `~`). */
  flag?: string | undefined;
  env?: Env;
  cwd?: string;
  home?: string;
  /** Test seam; default: a regular file exists at the path. */
  isFile?: (path: string) => boolean;
}

function defaultIsFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Which inventory file to load:
 * 1. `--inventory FILE` if given (returned even if it does not exist: an explicit choice
 *    never falls back, and loading it reports the missing file);
 * 2. `$XDG_CONFIG_HOME/k8ops/k8ops.yaml` (default `~/.config/k8ops/k8ops.yaml`) if it exists;
 * 3. `./k8ops.yaml` if it exists;
 * else `found: false` with the places looked at.
 */
export function resolveInventoryPath(options: ResolveInventoryOptions = {}): InventoryPathResult {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const home = options.home ?? homedir();
  const isFile = options.isFile ?? defaultIsFile;

  if (options.flag !== undefined && options.flag !== '') {
    return { found: true, path: expandPath(options.flag, home, cwd), source: 'flag' };
  }
  const candidates: Array<[string, InventorySource]> = [
    [join(configDir(env, home), INVENTORY_FILE_NAME), 'config-dir'],
    [join(cwd, INVENTORY_FILE_NAME), 'cwd'],
  ];
  for (const [path, source] of candidates) {
    if (isFile(path)) return { found: true, path, source };
  }
  const searched = candidates.map(([p]) => p);
  return {
    found: false,
    searched,
    message: `no inventory file found; looked at ${searched.join(', ')}. Pass --inventory FILE, or run k8ops --demo`,
  };
}
