# Pure part of nix/modules/node-tools.nix: which PKI scripts of nix/pki/ become commands, and
# the rotation plan the timer's k8ops-rotate-due reads. builtins only.
{
  # builtins.readDir of nix/pki (file name → "regular" | "directory" | "symlink" | …).
  entries ? { },
  # The scripts of the PKI issue; each is installed as k8ops-pki-<command> when present as
  # <command>.sh or <command>.
  commands ? [
    "init-root"
    "issue-intermediate"
    "bundles"
    "node-csr"
    "sign"
    "install"
    "sa-keygen"
    "status"
    "gen-lab"
    "lock"
    "ca-rotate"
    "bundle-install"
    "sa-rotate"
  ],
  # For the rotation plan (all optional).
  pkiPlan ? null,
  rotation ? null,
  renewBeforeSeconds ? null,
}:
let
  inherit (builtins) filter head;
  # How each component picks up a rotated pair (nix/pki/reload.json, the table k8ops' rotate
  # action reads too): the hook restarts a unit only for a certificate that needs it.
  reload = builtins.fromJSON (builtins.readFile ../pki/reload.json);
  restartFor = id: ((reload.certs.${id} or { pickup = "restart"; }).pickup) == "restart";
  isFile = name: (entries.${name} or null) == "regular" || (entries.${name} or null) == "symlink";
  fileFor =
    command:
    let
      found = filter isFile [
        "${command}.sh"
        command
      ];
    in
    if found == [ ] then null else head found;
  resolved = map (command: {
    inherit command;
    file = fileFor command;
    bin = "k8ops-pki-${command}";
  }) commands;
in
{
  scripts = filter (s: s.file != null) resolved;
  missing = map (s: s.command) (filter (s: s.file == null) resolved);
  rotationPlan =
    if pkiPlan == null || rotation == null then
      null
    else
      {
        node = pkiPlan.node;
        inherit (rotation) offsetSeconds;
        inherit renewBeforeSeconds;
        inherit (reload) unitOrder;
        certs = map (c: {
          inherit (c) id certPath units;
          restart = restartFor c.id;
        }) pkiPlan.certs;
      };
}
