/**
 * nix/package.nix builds k8ops with nixpkgs' default `nodejs` (a supported LTS line), not a
 * pinned, end-of-life `nodejs_NN`. Evaluated by the real nix-instantiate with stand-ins for
 * buildNpmPackage and the few nixpkgs pieces it touches (no nixpkgs here), so the test sees
 * exactly which Node the package hands to buildNpmPackage.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWith, nixEval, ROOT } from './helpers.js';

const STUBS = `{
  lib = {
    importJSON = p: builtins.fromJSON (builtins.readFile p);
    makeBinPath = ps: builtins.concatStringsSep ":" (map (p: "\${p}/bin") ps);
    licenses.mit = "mit";
    platforms = { linux = [ "x86_64-linux" ]; darwin = [ ]; };
  };
  buildNpmPackage = attrs: attrs;
  importNpmLock = { __functor = _: _: "npm-deps"; npmConfigHook = "npm-config-hook"; };
  nodejs = "nixpkgs-default-nodejs";
  openssh = "/openssh";
  openssl = "/openssl";
  src = ./.;
}`;

describeWith(['nix-instantiate'], 'nix/package.nix: the Node.js it builds with', () => {
  it("takes nixpkgs' default nodejs, and no pinned nodejs_NN", () => {
    const r = nixEval<{ args: string[]; nodejs: string; version: string }>(
      `let f = import ./nix/package.nix; r = f ${STUBS}; in {
        args = builtins.attrNames (builtins.functionArgs f);
        inherit (r) nodejs version;
      }`,
    );
    expect(r.args).toContain('nodejs');
    expect(r.args.filter((a) => /^nodejs_/.test(a))).toEqual([]);
    expect(r.nodejs).toBe('nixpkgs-default-nodejs');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(r.version).toBe(pkg.version);
  });
});
