/**
 * Every .nix file of nix/ parses (`nix-instantiate --parse`, the real Nix 2.8 parser), and
 * every shell script of the NixOS modules is shellcheck-clean. The modules and package
 * files need nixpkgs and can only be parsed here; the pure core under nix/lib/ is also
 * evaluated in full by the other tests of this folder.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWith, filesUnder, NIX_DIR, nixInstantiate, ROOT } from './helpers.js';

const nixFiles = filesUnder(NIX_DIR, /\.nix$/);
const moduleScripts = filesUnder(join(NIX_DIR, 'modules'), /\.sh$/);

describeWith(['nix-instantiate'], 'nix/: every .nix file parses', () => {
  it('finds the files this issue promises', () => {
    for (const f of [
      'nix/flake.nix',
      'nix/package.nix',
      'nix/lib/pki-options.nix',
      'nix/lib/util.nix',
      'nix/lib/rbac.nix',
      'nix/lib/networking.nix',
      'nix/lib/addons.nix',
      'nix/lib/rotation.nix',
      'nix/lib/node-tools.nix',
      'nix/modules/cluster.nix',
      'nix/modules/networking.nix',
      'nix/modules/addons.nix',
      'nix/modules/node-tools.nix',
      'nix/modules/k8ops-pki-package.nix',
      'nix/addons/render.nix',
      'nix/example/default.nix',
      'nix/example/common.nix',
      'nix/example/inventory.nix',
    ])
      expect(nixFiles).toContain(f);
  });

  it.each(nixFiles)('%s', (file) => {
    const r = nixInstantiate(['--parse', file]);
    expect(r.stderr.replace(/^warning: .*\n/gm, '')).toBe('');
    expect(r.status).toBe(0);
  });
});

describeWith(['shellcheck'], 'nix/modules: scripts are shellcheck-clean', () => {
  it('has scripts to check', () => {
    expect(moduleScripts).toContain('nix/modules/scripts/k8ops-rotate-due.sh');
    expect(moduleScripts).toContain('nix/modules/scripts/k8ops-rotate-hook.sh');
  });
  it.each(moduleScripts)('%s', (file) => {
    const r = spawnSync('shellcheck', ['--shell=bash', '--severity=style', file], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
