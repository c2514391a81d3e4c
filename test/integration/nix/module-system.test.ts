/**
 * The stand-in module system (harness/lib/modules.nix, harness/lib/types.nix) against
 * nixpkgs' semantics (lib/modules.nix, lib/types.nix), one minimal example per behaviour.
 * Each expected result or message is what nixpkgs' module system gives for the same input;
 * the first case is the pattern of issue 12, which the previous stand-in let through.
 */
import { expect, it } from 'vitest';
import { describeWith, type NixRun, nixEvalRaw } from './helpers.js';

const LIB = 'import ./test/integration/nix/harness/stub-lib.nix';

/** evalModules over `modules` (a Nix list, `lib` in scope), then `attr` of the result. */
function evalModules(modules: string, attr = 'config'): NixRun {
  return nixEvalRaw(`let lib = ${LIB}; in (lib.evalModules { modules = ${modules}; }).${attr}`);
}
function value(modules: string, attr = 'config'): unknown {
  const r = evalModules(modules, attr);
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}
function error(modules: string, attr = 'config'): string {
  const r = evalModules(modules, attr);
  expect(r.status, `expected an evaluation error, got ${r.stdout}`).not.toBe(0);
  return r.stderr.replace(/^warning: .*\n/gm, '').replace(/\s+/g, ' ');
}

/** A set of options (services.etcd.*) and an option of type attrs (services.opaque). */
const DECLS = `({ lib, ... }: {
  options.services.etcd.enable = lib.mkOption { type = lib.types.bool; default = false; };
  options.services.etcd.certFile = lib.mkOption { type = lib.types.nullOr lib.types.str; default = null; };
  options.services.opaque = lib.mkOption { type = lib.types.attrs; default = { }; };
})`;

describeWith(['nix-instantiate'], 'stand-in module system (nixpkgs semantics)', () => {
  it('mkIf false whose body is a missing attribute fails where the path is a set of options (pushDownProperties)', () => {
    // cluster.nix before the fix: `services.etcd = core.services.etcd;` inside `mkIf c.etcd`.
    const e = error(`[ ${DECLS} ({ lib, ... }: let core.services = { }; in {
      config = lib.mkIf false { services.etcd = core.services.etcd; };
    }) ]`);
    expect(e).toMatch(/attribute 'etcd' missing/);
    // Also when the mkIf sits inside mkMerge, as in cluster.nix.
    expect(
      error(`[ ${DECLS} ({ lib, ... }: let core.services = { }; in {
        config = lib.mkMerge [ { } (lib.mkIf false { services.etcd = core.services.etcd; }) ];
      }) ]`),
    ).toMatch(/attribute 'etcd' missing/);
    // An empty set in its place is fine: the names exist, the options stay untouched.
    expect(
      value(`[ ${DECLS} ({ lib, ... }: let core.services.etcd = { }; in {
        config = lib.mkIf false { services.etcd = core.services.etcd; };
      }) ]`),
    ).toEqual({ services: { etcd: { enable: false, certFile: null }, opaque: {} } });
  });

  it('at an option, a false mkIf is dropped without looking inside (dischargeProperties)', () => {
    expect(
      value(`[ ${DECLS} ({ lib, ... }: let core.services = { }; in {
        config = lib.mkIf false { services.opaque = core.services.etcd; services.etcd.certFile = throw "never read"; };
      }) ]`),
    ).toEqual({ services: { etcd: { enable: false, certFile: null }, opaque: {} } });
  });

  it('a definition of an undeclared option is an error, even under a false mkIf', () => {
    expect(
      error(`[ ${DECLS} ({ lib, ... }: { config = lib.mkIf false { services.nope = 1; }; }) ]`),
    ).toMatch(/The option `services\.nope' does not exist\. Definition values: - In `.*':/);
    expect(error(`[ ${DECLS} { services.etcd.certFiles = "/x"; } ]`)).toMatch(
      /The option `services\.etcd\.certFiles' does not exist/,
    );
  });

  it('mkIf conditions may read config (that is what the push-down is for); a non-boolean one is an error', () => {
    expect(
      value(
        `[ ${DECLS} ({ config, lib, ... }: { config = lib.mkIf config.services.etcd.enable { services.etcd.certFile = "/c"; }; }) { services.etcd.enable = true; } ]`,
      ),
    ).toMatchObject({ services: { etcd: { enable: true, certFile: '/c' } } });
    expect(
      error(
        `[ ${DECLS} ({ lib, ... }: { config.services.etcd = lib.mkIf "yes" { enable = true; }; }) ]`,
      ),
    ).toMatch(/‘mkIf’ called with a non-Boolean condition/);
  });

  it('priorities: the default (1500) < mkDefault (1000) < plain (100) < mkForce (50); mkOverride is pushed down', () => {
    const opt = `({ lib, ... }: { options.x = lib.mkOption { type = lib.types.str; default = "default"; }; options.s.a = lib.mkOption { type = lib.types.int; }; options.s.b = lib.mkOption { type = lib.types.int; }; })`;
    expect(value(`[ ${opt} { s = { a = 1; b = 1; }; } ]`, 'config.x')).toBe('default');
    expect(
      value(
        `[ ${opt} ({ lib, ... }: { x = lib.mkDefault "mkDefault"; s = { a = 1; b = 1; }; }) ]`,
        'config.x',
      ),
    ).toBe('mkDefault');
    expect(
      value(
        `[ ${opt} ({ lib, ... }: { x = lib.mkDefault "mkDefault"; }) { x = "plain"; s = { a = 1; b = 1; }; } ]`,
        'config.x',
      ),
    ).toBe('plain');
    expect(
      value(
        `[ ${opt} ({ lib, ... }: { x = lib.mkForce "forced"; }) { x = "plain"; s = { a = 1; b = 1; }; } ]`,
        'config.x',
      ),
    ).toBe('forced');
    expect(
      value(
        `[ ${opt} ({ lib, ... }: { x = lib.mkOverride 900 "900"; }) ({ lib, ... }: { x = lib.mkDefault "1000"; }) ]`,
        'config.x',
      ),
    ).toBe('900');
    // mkForce on a set of options reaches each of them.
    expect(
      value(
        `[ ${opt} ({ lib, ... }: { s = lib.mkForce { a = 2; b = 3; }; }) { s.a = 1; s.b = 1; } ]`,
        'config.s',
      ),
    ).toEqual({ a: 2, b: 3 });
    // Two different values at the same priority: a conflict, with nixpkgs' hint.
    expect(error(`[ ${opt} { x = "one"; } { x = "two"; } ]`, 'config.x')).toMatch(
      /The option `x' has conflicting definition values: - In .*"(one|two)" - In .*"(one|two)" Use `lib\.mkForce value` or `lib\.mkDefault value`/,
    );
    expect(value(`[ ${opt} { x = "same"; } { x = "same"; } ]`, 'config.x')).toBe('same');
    // The highest priority and its definitions are on the option.
    expect(
      value(
        `[ ${opt} ({ lib, ... }: { x = lib.mkOverride 900 "900"; }) ]`,
        'options.x.highestPrio',
      ),
    ).toBe(900);
  });

  it('mkMerge concatenates, mkIf false drops, mkBefore/mkAfter order list and lines definitions', () => {
    const opt = `({ lib, ... }: { options.l = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; }; options.t = lib.mkOption { type = lib.types.lines; default = ""; }; })`;
    expect(
      value(
        `[ ${opt} ({ lib, ... }: { l = lib.mkMerge [ [ "a" ] (lib.mkIf false [ "never" ]) (lib.mkIf true [ "b" ]) ]; }) ]`,
        'config.l',
      ),
    ).toEqual(['a', 'b']);
    expect(
      value(
        `[ ${opt} ({ lib, ... }: { l = lib.mkAfter [ "last" ]; t = lib.mkAfter "after"; }) { l = [ "middle" ]; t = "middle"; } ({ lib, ... }: { l = lib.mkBefore [ "first" ]; t = lib.mkBefore "before"; }) ]`,
      ),
    ).toEqual({ l: ['first', 'middle', 'last'], t: 'before\nmiddle\nafter' });
    // A list element that is a false mkIf is dropped too (listOf merges each element).
    expect(
      value(`[ ${opt} ({ lib, ... }: { l = [ "a" (lib.mkIf false "b") ]; }) ]`, 'config.l'),
    ).toEqual(['a']);
  });

  it('types: a wrong definition "is not of type", an unset option "was accessed but has no value defined", null mixed with a value', () => {
    const opt = `({ lib, ... }: { options.b = lib.mkOption { type = lib.types.bool; }; options.p = lib.mkOption { type = lib.types.nullOr lib.types.path; default = null; }; })`;
    expect(error(`[ ${opt} { b = "yes"; } ]`, 'config.b')).toMatch(
      /A definition for option `b' is not of type `boolean'\. Definition values: - In .*"yes"/,
    );
    expect(error(`[ ${opt} ]`, 'config.b')).toMatch(
      /The option `b' was accessed but has no value defined\. Try setting the option\./,
    );
    expect(error(`[ ${opt} { b = true; p = "relative/path"; } ]`, 'config.p')).toMatch(
      /A definition for option `p' is not of type `null or absolute path'/,
    );
    expect(error(`[ ${opt} { b = true; p = null; } { p = "/x"; } ]`, 'config.p')).toMatch(
      /The option `p' is defined both null and not null/,
    );
  });

  it('attrsOf merges attribute by attribute; submodules get defaults, `name`, and their own undeclared-option check', () => {
    const opt = `({ lib, ... }: {
      options.a = lib.mkOption { type = lib.types.attrsOf lib.types.int; default = { }; };
      options.units = lib.mkOption {
        default = { };
        type = lib.types.attrsOf (lib.types.submodule ({ name, ... }: {
          options.description = lib.mkOption { type = lib.types.str; default = "unit " + name; };
          options.after = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; };
        }));
      };
    })`;
    expect(
      value(
        `[ ${opt} ({ lib, ... }: { a = { x = 1; y = lib.mkIf false 2; z = lib.mkDefault 3; }; units.k.after = [ "n" ]; }) { a.z = 4; units.k.after = [ "m" ]; units.e = { }; } ]`,
      ),
    ).toEqual({
      a: { x: 1, z: 4 },
      // Both definitions of the list, in the module system's definition order.
      units: {
        k: { description: 'unit k', after: ['n', 'm'] },
        e: { description: 'unit e', after: [] },
      },
    });
    expect(error(`[ ${opt} { units.k.afterr = [ "n" ]; } ]`)).toMatch(
      /The option `units\.k\.afterr' does not exist/,
    );
  });

  it('module syntax: shorthand vs config, imports closed once per key, readOnly set twice, an option declared twice', () => {
    const opt = `({ lib, ... }: { options.l = lib.mkOption { type = lib.types.listOf lib.types.int; default = [ ]; }; options.r = lib.mkOption { type = lib.types.int; default = 1; readOnly = true; }; })`;
    expect(error(`[ ${opt} { config.l = [ 1 ]; r = 2; } ]`)).toMatch(
      /has an unsupported attribute `r'\. This is caused by introducing a top-level `config' or `options' attribute/,
    );
    // The same file imported twice is one module: its definition counts once.
    expect(
      value(
        `[ ${opt} { imports = [ ./test/integration/nix/harness/fixtures/one.nix ./test/integration/nix/harness/fixtures/one.nix ]; } { imports = [ ./test/integration/nix/harness/fixtures/one.nix ]; } ]`,
        'config.l',
      ),
    ).toEqual([1]);
    expect(error(`[ ${opt} { r = 2; } ]`, 'config.r')).toMatch(
      /The option `r' is read-only, but it's set multiple times/,
    );
    expect(error(`[ ${opt} ${opt.replace('options.r', 'options.r2')} ]`)).toMatch(
      /The option `l' in `.*' is already declared in/,
    );
  });

  it('NixOS: the system build checks assertions ("Failed assertions:" and one line per message)', () => {
    const sys = (mods: string) =>
      nixEvalRaw(
        `(import ./test/integration/nix/harness/nixos/eval-config.nix { modules = ${mods}; }).config.system.build.toplevel.outPath`,
      );
    const ok = sys(
      '[ { networking.hostName = "n1"; assertions = [ { assertion = true; message = "fine"; } ]; } ]',
    );
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatch(/-nixos-system-n1$/);
    const bad = sys(
      '[ { assertions = [ { assertion = false; message = "first problem"; } { assertion = true; message = "fine"; } { assertion = false; message = "second problem"; } ]; } ]',
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/Failed assertions:\n\s*- first problem\n\s*- second problem\n/);
    // An undeclared NixOS option is reported as such, as nixpkgs does.
    const typo = sys('[ { services.etcd.enabled = true; } ]');
    expect(typo.stderr).toMatch(/The option `services\.etcd\.enabled' does not exist/);
  });
});
