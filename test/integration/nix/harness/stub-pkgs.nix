# A stand-in for `pkgs`: every builder returns a fake store path that names what it built,
# and keeps the inputs that tests want to read (text, values) in attributes. Like a real
# derivation, its out path is only known once every input is evaluated (deepSeq), so a
# throw in an input (an unpinned addon's hash) surfaces wherever the path is used; and like
# one, it has `type = "derivation"` (what types.package checks).
let
  path = name: "/nix/store/00000000000000000000000000000000-${name}";
  drv = name: extra: {
    type = "derivation";
    outPath = builtins.deepSeq extra (path name);
    inherit name;
  }
  // extra;
  pkg = name: drv name { };
in
{
  stubDrv = drv;
  writeText = name: text: drv name { inherit text; };
  writeTextDir = p: text: drv (baseNameOf p) { inherit text; };
  writeShellScript = name: text: drv name { inherit text; };
  writeScriptBin = name: text: drv name { inherit text; };
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
  buildEnv = { name, paths, ... }: drv name { inherit paths; };
  fetchurl = args: drv (args.name or "fetched") { inherit args; };
  callPackage = f: args: drv "callPackage" { inherit args; };
  dockerTools = {
    buildImage = args: drv "docker-image-${args.name}.tar.gz" { };
    pullImage = args: drv "docker-image-${args.imageName or "pulled"}" { };
  };
  kubernetes = drv "kubernetes-1.33.1" {
    version = "1.33.1";
    pause = pkg "kubernetes-pause";
  };
  systemd = pkg "systemd";
  etcd = pkg "etcd";
  flannel = pkg "flannel";
  kubectl = pkg "kubectl";
  containerd = pkg "containerd";
  cni-plugins = pkg "cni-plugins";
  cni-plugin-flannel = pkg "cni-plugin-flannel";
  gzip = pkg "gzip";
  gawk = pkg "gawk";
  iptables = pkg "iptables";
  conntrack-tools = pkg "conntrack-tools";
  coreutils = pkg "coreutils";
  openssh = pkg "openssh";
  jq = pkg "jq";
  openssl = pkg "openssl";
  util-linux = pkg "util-linux";
  kubernetes-helm = pkg "helm";
  yq-go = pkg "yq-go";
}
