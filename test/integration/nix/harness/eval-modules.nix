# Evaluates nix/modules/{cluster,networking,addons,node-tools}.nix against a given final
# `config` (what nixpkgs' own modules would contribute, e.g. services.kubernetes.*.enable)
# plus the k8ops options: their defaults from the modules' own `options`, overlaid with
# `settings`. Returns every definition the modules make, flattened to
# { path; priority; order; value; } with mkIf/mkMerge/mkOverride/mkOrder resolved the way the
# NixOS module system does (mkIf false drops, mkMerge concatenates, priorities are kept:
# 100 normal, 900 our settings, 1000 mkDefault, 50 mkForce).
{
  # Final values of non-k8ops options the modules read.
  base,
  # k8ops.{cluster,networking,addons,nodeTools} values set by the "operator".
  settings,
  # Paths to select (lists of attribute names); [] = everything.
  select ? [ ],
}:
let
  lib = import ./stub-lib.nix;
  pkgs = import ./stub-pkgs.nix;
  inherit (builtins)
    attrNames
    filter
    genList
    isAttrs
    length
    elemAt
    ;

  modules = {
    cluster = ../../../../nix/modules/cluster.nix;
    networking = ../../../../nix/modules/networking.nix;
    addons = ../../../../nix/modules/addons.nix;
    nodeTools = ../../../../nix/modules/node-tools.nix;
  };
  evaluated = builtins.mapAttrs (_: m: import m { inherit config lib pkgs; }) modules;

  isOption = v: isAttrs v && (v._type or null) == "option";
  # Option tree → defaults tree (options without a default are left out).
  defaultsOf =
    tree:
    builtins.listToAttrs (
      lib.concatMap (
        n:
        let
          v = tree.${n};
        in
        if isOption v then
          (if v ? default then [ (lib.nameValuePair n v.default) ] else [ ])
        else if isAttrs v then
          [ (lib.nameValuePair n (defaultsOf v)) ]
        else
          [ ]
      ) (attrNames tree)
    );
  k8opsOptions = lib.foldl' lib.recursiveUpdate { } (
    map (m: (evaluated.${m}.options or { }).k8ops or { }) (attrNames evaluated)
  );
  config = lib.recursiveUpdate base {
    k8ops = lib.recursiveUpdate (defaultsOf k8opsOptions) settings;
  };

  # Like the module system, values outside the selected paths are never forced.
  relevant = path: select == [ ] || builtins.any (p: prefixOf p path || prefixOf path p) select;
  flatten =
    path: priority: order: v:
    let
      t = if isAttrs v then v._type or null else null;
    in
    if !(relevant path) then
      [ ]
    else if t == "if" then
      (if v.condition then flatten path priority order v.content else [ ])
    else if t == "merge" then
      lib.concatMap (flatten path priority order) v.contents
    else if t == "override" then
      flatten path v.priority order v.content
    else if t == "order" then
      flatten path priority v.priority v.content
    else if isAttrs v && t == null && !(v ? outPath) && v != { } then
      lib.concatMap (n: flatten (path ++ [ n ]) priority order v.${n}) (attrNames v)
    else
      [
        {
          inherit path priority order;
          value = if isAttrs v && v ? outPath then v.outPath else v;
        }
      ];

  defs = lib.concatMap (m: flatten [ ] 100 1000 (evaluated.${m}.config or { })) (attrNames evaluated);
  prefixOf =
    p: path: length path >= length p && genList (i: elemAt path i) (length p) == p;
  selected =
    if select == [ ] then defs else filter (d: builtins.any (p: prefixOf p d.path) select) defs;
  # (defs outside `select` are pruned while flattening; the filter drops the parents that
  # were kept on the way down.)
in
{
  inherit config;
  defs = selected;
  # Option names per module, for a sanity check.
  options = builtins.mapAttrs (_: m: attrNames ((m.options or { }).k8ops or { })) evaluated;
}
