import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cacheDir,
  configDir,
  expandPath,
  resolveInventoryPath,
  stateDir,
} from '../../../src/config/paths.js';

describe('XDG directories', () => {
  const home = '/home/op';

  it('use the XDG variables when set', () => {
    const env = {
      XDG_CONFIG_HOME: '/x/config',
      XDG_CACHE_HOME: '/x/cache',
      XDG_STATE_HOME: '/x/state',
    };
    expect(configDir(env, home)).toBe('/x/config/k8ops');
    expect(cacheDir(env, home)).toBe('/x/cache/k8ops');
    expect(stateDir(env, home)).toBe('/x/state/k8ops');
  });

  it('fall back to the home directory defaults', () => {
    expect(configDir({}, home)).toBe('/home/op/.config/k8ops');
    expect(cacheDir({}, home)).toBe('/home/op/.cache/k8ops');
    expect(stateDir({}, home)).toBe('/home/op/.local/state/k8ops');
  });

  it('ignore empty and relative values, as the XDG spec requires', () => {
    expect(configDir({ XDG_CONFIG_HOME: '' }, home)).toBe('/home/op/.config/k8ops');
    expect(stateDir({ XDG_STATE_HOME: 'relative/state' }, home)).toBe(
      '/home/op/.local/state/k8ops',
    );
  });
});

describe('expandPath', () => {
  it('expands ~ and resolves relative paths against the base directory', () => {
    expect(expandPath('~', '/home/op', '/etc/k8ops')).toBe('/home/op');
    expect(expandPath('~/.ssh/id', '/home/op', '/etc/k8ops')).toBe('/home/op/.ssh/id');
    expect(expandPath('addons.json', '/home/op', '/etc/k8ops')).toBe('/etc/k8ops/addons.json');
    expect(expandPath('/abs/x', '/home/op', '/etc/k8ops')).toBe('/abs/x');
  });
});

describe('resolveInventoryPath', () => {
  let root: string;
  let xdg: string;
  let cwd: string;
  let home: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'k8ops-paths-'));
    xdg = join(root, 'xdg');
    cwd = join(root, 'work');
    home = join(root, 'home');
    mkdirSync(join(xdg, 'k8ops'), { recursive: true });
    mkdirSync(cwd);
    mkdirSync(home);
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const env = () => ({ XDG_CONFIG_HOME: xdg });

  it('reports every place looked at when there is no file', () => {
    const r = resolveInventoryPath({ env: env(), cwd, home });
    expect(r.found).toBe(false);
    if (r.found) return;
    expect(r.searched).toEqual([join(xdg, 'k8ops', 'k8ops.yaml'), join(cwd, 'k8ops.yaml')]);
    expect(r.message).toContain(join(xdg, 'k8ops', 'k8ops.yaml'));
    expect(r.message).toContain('--inventory');
  });

  it('finds ./k8ops.yaml when the config dir has none', () => {
    writeFileSync(join(cwd, 'k8ops.yaml'), 'cluster: a\n');
    expect(resolveInventoryPath({ env: env(), cwd, home })).toEqual({
      found: true,
      path: join(cwd, 'k8ops.yaml'),
      source: 'cwd',
    });
  });

  it('prefers $XDG_CONFIG_HOME/k8ops/k8ops.yaml over ./k8ops.yaml', () => {
    writeFileSync(join(cwd, 'k8ops.yaml'), 'cluster: a\n');
    writeFileSync(join(xdg, 'k8ops', 'k8ops.yaml'), 'cluster: b\n');
    expect(resolveInventoryPath({ env: env(), cwd, home })).toEqual({
      found: true,
      path: join(xdg, 'k8ops', 'k8ops.yaml'),
      source: 'config-dir',
    });
  });

  it('uses ~/.config when XDG_CONFIG_HOME is unset', () => {
    mkdirSync(join(home, '.config', 'k8ops'), { recursive: true });
    writeFileSync(join(home, '.config', 'k8ops', 'k8ops.yaml'), 'cluster: c\n');
    const r = resolveInventoryPath({ env: {}, cwd, home });
    expect(r).toEqual({
      found: true,
      path: join(home, '.config', 'k8ops', 'k8ops.yaml'),
      source: 'config-dir',
    });
  });

  it('ignores a directory named k8ops.yaml', () => {
    mkdirSync(join(cwd, 'k8ops.yaml'));
    expect(resolveInventoryPath({ env: env(), cwd, home }).found).toBe(false);
  });

  it('the --inventory flag wins over both, relative to cwd, ~ expanded, even if missing', () => {
    writeFileSync(join(cwd, 'k8ops.yaml'), 'cluster: a\n');
    writeFileSync(join(xdg, 'k8ops', 'k8ops.yaml'), 'cluster: b\n');
    expect(resolveInventoryPath({ flag: 'other.yaml', env: env(), cwd, home })).toEqual({
      found: true,
      path: join(cwd, 'other.yaml'),
      source: 'flag',
    });
    expect(resolveInventoryPath({ flag: '~/inv.yaml', env: env(), cwd, home })).toEqual({
      found: true,
      path: join(home, 'inv.yaml'),
      source: 'flag',
    });
  });
});
