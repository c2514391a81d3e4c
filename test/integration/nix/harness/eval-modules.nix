# What nix/modules/{cluster,networking,addons,node-tools}.nix define, with priorities: the
# modules are evaluated in the stand-in NixOS (./nixos/eval-config.nix, the module system of
# ./lib/modules.nix) with the k8ops options set to `settings`; then each module is called
# again with the final config, and its definitions are flattened to
# { path; priority; order; value; } the way the module system reads them:
#   - while a path is a set of options, mkMerge is flattened and mkIf / mkOverride are pushed
#     into the body's attributes (pushDownProperties): the body's names are read even when the
#     condition is false, so a false mkIf around a missing attribute fails here too;
#   - at an option (and inside its value), a false mkIf drops its content unread, mkOverride
#     sets the priority (100 plain, 900 our settings, 1000 mkDefault, 50 mkForce), mkOrder the
#     order (1000, mkBefore 500, mkAfter 1500). Inside an option's value (attrsOf, submodule)
#     the view keeps splitting attribute sets into leaves.
# `config` is the evaluated configuration (for values the modules compute, e.g.
# k8ops.addons.rendered). Building the whole node (types, assertions) is roles.test.ts's job.
{
  # k8ops.{cluster,networking,addons,nodeTools} values set by the "operator".
  settings,
  # networking.hostName (default: the cluster's nodeName, else "nixos").
  hostName ? settings.cluster.nodeName or "nixos",
  # Other NixOS definitions of the "operator" (a module).
  extra ? { },
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
  sys = import ./nixos/eval-config.nix {
    inherit lib pkgs;
    modules = builtins.attrValues modules ++ [
      ./nixos/k8nix.nix
      {
        networking.hostName = hostName;
        k8ops = settings;
      }
      extra
    ];
  };
  inherit (sys) config options;
  evaluated = builtins.mapAttrs (_: m: import m { inherit config lib pkgs options; }) modules;

  # The option tree at `path`: "option", "set" (a set of options) or "none" (undeclared, or
  # inside an option's value).
  kindAt =
    path:
    let
      go =
        tree: p:
        if lib.isOption tree then
          "option"
        else if p == [ ] then
          "set"
        else if isAttrs tree && tree ? ${builtins.head p} then
          go tree.${builtins.head p} (builtins.tail p)
        else
          "none";
    in
    go options path;

  relevant = path: select == [ ] || builtins.any (p: prefixOf p path || prefixOf path p) select;
  # `cond`: the conjunction of the mkIf conditions pushed down so far (evaluated only where
  # the module system evaluates them: at an option).
  flatten =
    path: cond: priority: order: v:
    let
      t = if isAttrs v then v._type or null else null;
      atSet = kindAt path == "set";
    in
    if !(relevant path) then
      [ ]
    else if !atSet && !cond then
      # At an option under a false mkIf: dropped unread.
      [ ]
    else if t == "if" then
      (
        if atSet then
          flatten path (cond && v.condition) priority order v.content
        else if cond && v.condition then
          flatten path true priority order v.content
        else
          [ ]
      )
    else if t == "merge" then
      lib.concatMap (flatten path cond priority order) v.contents
    else if t == "override" then
      flatten path cond v.priority order v.content
    else if t == "order" then
      flatten path cond priority v.priority v.content
    else if atSet then
      (
        if isAttrs v then
          lib.concatMap (n: flatten (path ++ [ n ]) cond priority order v.${n}) (attrNames v)
        else
          throw "eval-modules: a ${builtins.typeOf v} where `${lib.showOption path}' is a set of options"
      )
    else if isAttrs v && t == null && !(v ? outPath) && v != { } then
      lib.concatMap (n: flatten (path ++ [ n ]) true priority order v.${n}) (attrNames v)
    else
      [
        {
          inherit path priority order;
          value = if isAttrs v && v ? outPath then v.outPath else v;
        }
      ];

  defs = lib.concatMap (m: flatten [ ] true 100 1000 (evaluated.${m}.config or { })) (attrNames evaluated);
  prefixOf = p: path: length path >= length p && genList (i: elemAt path i) (length p) == p;
  selected =
    if select == [ ] then defs else filter (d: builtins.any (p: prefixOf p d.path) select) defs;
in
{
  inherit config;
  defs = selected;
  # Option names per module, for a sanity check.
  options = builtins.mapAttrs (_: m: attrNames ((m.options or { }).k8ops or { })) evaluated;
}
