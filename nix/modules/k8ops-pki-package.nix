# The PKI scripts of nix/pki/ as a package: the directory is kept together under
# share/k8ops/pki (the scripts find layout.json and the cfssl config beside themselves), and
# each script of nix/lib/node-tools.nix's list becomes bin/k8ops-pki-<command>, with the
# tools it needs on PATH (the node's own PATH follows, for systemctl and the like).
# Only scripts, JSON and docs are copied: never a key that a lab run left in the tree.
# They share lib.sh and default to layout.json and cfssl-config.json beside themselves;
# makeWrapper (not wrapProgram) keeps each script at its own path, so that still holds.
{
  lib,
  stdenvNoCC,
  makeWrapper,
  bash,
  cfssl,
  jq,
  openssl,
  coreutils,
  findutils,
  gnugrep,
  gnused,
  gawk,
  util-linux,
  pkiDir ? ../pki,
  # A layout other than nix/pki/layout.json (k8ops.cluster.layoutFile): the scripts read
  # the layout.json beside them.
  layoutFile ? null,
}:
let
  tools = import ../lib/node-tools.nix { entries = builtins.readDir pkiDir; };
  src = lib.fileset.toSource {
    root = pkiDir;
    fileset = lib.fileset.fileFilter (
      f: f.hasExt "sh" || f.hasExt "json" || f.hasExt "md" || lib.elem f.name (map (s: s.file) tools.scripts)
    ) pkiDir;
  };
  runtimePath = lib.makeBinPath [
    cfssl
    jq
    openssl
    coreutils
    findutils
    gnugrep
    gnused
    gawk
    util-linux
  ];
in
stdenvNoCC.mkDerivation {
  pname = "k8ops-pki";
  version = (lib.importJSON ../../package.json).version;
  inherit src;
  nativeBuildInputs = [ makeWrapper ];
  buildInputs = [ bash ];
  dontConfigure = true;
  dontBuild = true;
  installPhase = ''
    runHook preInstall
    mkdir -p "$out/share/k8ops/pki" "$out/bin"
    cp -r . "$out/share/k8ops/pki/"
    ${lib.optionalString (layoutFile != null) ''
      install -m 0644 ${layoutFile} "$out/share/k8ops/pki/layout.json"
    ''}
    ${lib.concatMapStrings (s: ''
      chmod 0755 "$out/share/k8ops/pki/${s.file}"
    '') tools.scripts}
    patchShebangs --host "$out/share/k8ops/pki"
    ${lib.concatMapStrings (s: ''
      makeWrapper "$out/share/k8ops/pki/${s.file}" "$out/bin/${s.bin}" \
        --prefix PATH : ${lib.escapeShellArg runtimePath}
    '') tools.scripts}
    runHook postInstall
  '';
  passthru = {
    inherit (tools) scripts missing;
  };
  meta = {
    description = "k8ops PKI scripts (ECDSA P-521, cfssl): node-csr, sign, install, status, …";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
  };
}
