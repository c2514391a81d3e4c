# k8ops itself: the Ink console and its subcommands, built from the repository root with
# buildNpmPackage + importNpmLock. importNpmLock reads package-lock.json's `resolved` and
# `integrity` fields and fetches every tarball as its own fixed-output derivation, so there
# is no npmDepsHash to compute (and none to keep in sync with the lock file).
{
  lib,
  buildNpmPackage,
  importNpmLock,
  # nixpkgs' default Node.js (an LTS line: 22, 24 or 26; package.json `engines` >= 22).
  nodejs,
  openssh,
  openssl,
  src ? null,
}:
let
  root = ../.;
  # Only what the build reads: a change to nix/, test/ or docs does not rebuild k8ops.
  source =
    if src != null then
      src
    else
      lib.fileset.toSource {
        inherit root;
        fileset = lib.fileset.unions [
          (root + "/package.json")
          (root + "/package-lock.json")
          (root + "/tsconfig.json")
          (root + "/tsconfig.build.json")
          (root + "/esbuild.config.mjs")
          (root + "/bin")
          (root + "/src")
          (root + "/views")
          (root + "/k8ops.example.yaml")
          # the access log format, shared with nix/lib/networking.nix (src/features/nginx/format.ts)
          (root + "/nix/lib/ingress-log-format.json")
        ];
      };
  pkgJson = lib.importJSON (root + "/package.json");
in
buildNpmPackage {
  pname = "k8ops";
  inherit (pkgJson) version;
  src = source;

  inherit nodejs;
  npmDeps = importNpmLock { npmRoot = source; };
  npmConfigHook = importNpmLock.npmConfigHook;

  # `npm run build`: tsc into dist/, then esbuild bundles dist/k8ops.mjs, which bin/k8ops.js
  # loads. No install scripts: ssh2's optional native addons (its sshcrypto cipher binding,
  # cpu-features) are not built, so ssh2 runs its JavaScript ciphers, as it does on Node 26
  # in any case (the binding does not compile there); k8ops' SSH transport is made for
  # that (src/ssh/socket.ts). esbuild finds its platform binary without its postinstall.
  npmBuildScript = "build";
  npmRebuildFlags = [ "--ignore-scripts" ];

  # ssh for `ssh -G` (OpenSSH config resolution), openssl for batched signature checks
  # (src/pki/verify-openssl.ts; k8ops falls back to node:crypto without it); appended, so
  # the node's or user's own ssh, openssl, nixos-rebuild and kubectl come first.
  makeWrapperArgs = [
    "--suffix"
    "PATH"
    ":"
    (lib.makeBinPath [
      openssh
      openssl
    ])
  ];

  meta = {
    description = pkgJson.description;
    license = lib.licenses.mit;
    mainProgram = "k8ops";
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
  };
}
