# A stand-in for `pkgs`: every builder returns a fake store path that names what it built,
# and keeps the inputs that tests want to read (text, values) in attributes. Like a real
# derivation, its out path is only known once every input is evaluated (deepSeq), so a
# throw in an input (an unpinned addon's hash) surfaces wherever the path is used.
let
  path = name: "/nix/store/00000000000000000000000000000000-${name}";
  drv = name: extra: {
    outPath = builtins.deepSeq extra (path name);
    inherit name;
  }
  // extra;
in
{
  writeText = name: text: drv name { inherit text; };
  writeShellScript = name: text: drv name { inherit text; };
  writeShellApplication =
    {
      name,
      text,
      runtimeInputs ? [ ],
    }:
    drv name {
      inherit text runtimeInputs;
      meta.mainProgram = name;
    };
  runCommand = name: env: script: drv name { inherit env script; };
  fetchurl = args: drv (args.name or "fetched") { inherit args; };
  callPackage = f: args: drv "callPackage" { inherit args; };
  coreutils = drv "coreutils" { };
  openssh = drv "openssh" { };
  jq = drv "jq" { };
  openssl = drv "openssl" { };
  util-linux = drv "util-linux" { };
  kubernetes-helm = drv "helm" { };
  yq-go = drv "yq-go" { };
}
