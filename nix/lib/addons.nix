# Validation of the addon manifest (nix/addons/addons.json), pure so that the refusal of
# unpinned addons can be evaluated without nixpkgs. nix/modules/addons.nix turns `message`
# into an assertion and into the `src` of every unpinned addon (a throw), so nothing is
# ever fetched without a pin. builtins only.
{
  manifest,
  # Names to check (null: every addon of the manifest).
  names ? null,
  manifestPath ? "nix/addons/addons.json",
}:
let
  u = import ./util.nix;
  inherit (builtins)
    elem
    filter
    length
    match
    concatStringsSep
    isString
    isList
    isAttrs
    ;

  formats = [
    "yaml"
    "helm"
    "tarball"
    "cli"
  ];
  # Nix base32 (no e, o, t, u), optionally prefixed "sha256:"; or SRI.
  isPin =
    h:
    match "(sha256:)?[0-9a-df-np-sv-z]{52}" h != null || match "sha256-[A-Za-z0-9+/]{43}=" h != null;

  # Plain substring test (versions contain regex metacharacters such as "." and "+").
  contains =
    needle: hay:
    let
      n = builtins.stringLength needle;
      h = builtins.stringLength hay;
    in
    n <= h
    && builtins.any (i: builtins.substring i n hay == needle) (builtins.genList (i: i) (h - n + 1));

  all' = manifest.addons or [ ];
  allNames = map (a: a.name or "?") all';
  selected = if names == null then all' else filter (a: elem (a.name or null) names) all';
  unknown = if names == null then [ ] else filter (n: !(elem n allNames)) names;

  problemsOf =
    a:
    let
      id = "${a.name or "?"} ${a.version or "?"}";
      sha = a.sha256 or null;
      fmt = a.format or null;
    in
    filter (x: x != null) [
      (if isString (a.name or null) && match "[a-z0-9][a-z0-9-]*" a.name != null then null else "${id}: name must be a lowercase id")
      (if isString (a.version or null) && a.version != "" then null else "${id}: version is missing")
      (if isString (a.url or null) && u.hasPrefix "https://" a.url then null else "${id}: url must be an https:// URL")
      (
        if isString (a.url or null) && isString (a.version or null) && !(contains a.version a.url) then
          "${id}: url does not mention version ${a.version} (bump both together)"
        else
          null
      )
      (if elem fmt formats then null else "${id}: format must be one of ${concatStringsSep ", " formats}")
      (
        if !(isString sha) || sha == "" then
          "${id}: sha256 is empty (not pinned yet)"
        else if !(isPin sha) then
          "${id}: sha256 \"${sha}\" is neither a Nix base32 sha256 nor an SRI sha256-… hash"
        else
          null
      )
      (if fmt == "helm" && !(isString (a.namespace or null)) then "${id}: a helm addon needs a namespace" else null)
      (if fmt == "helm" && !(isAttrs (a.values or { })) then "${id}: values must be an object" else null)
      (
        if fmt == "tarball" && !(isList (a.paths or null) && a.paths != [ ]) then
          "${id}: a tarball addon needs `paths` (directories holding its manifests)"
        else
          null
      )
      (if fmt == "cli" && !(isString (a.system or null)) then "${id}: a cli addon needs `system`" else null)
    ];

  duplicates = filter (n: length (filter (m: m == n) allNames) > 1) (u.unique allNames);
  manifestProblems =
    u.optional ((manifest.version or null) != 1) "manifest version must be 1"
    ++ u.optional (!(isList (manifest.addons or null))) "manifest has no `addons` list"
    ++ map (n: "addon \"${n}\" is declared more than once") duplicates
    ++ map (n: "addon \"${n}\" is selected but not declared") unknown;
  errors = manifestProblems ++ u.concatMap problemsOf selected;
  unpinned = map (a: a.name) (filter (a: !(isString (a.sha256 or null)) || a.sha256 == "") selected);

  message =
    "k8ops: the addon manifest ${manifestPath} is not ready to build:\n"
    + concatStringsSep "\n" (map (e: "  - ${e}") errors)
    + "\nRun the addon sync to prefetch each URL and pin its sha256 (`k8ops addons sync`, or"
    + " `nix-prefetch-url <url>` per addon with the base32 hash written into the manifest), then"
    + " rebuild. k8ops never builds an addon from an unpinned download.";
in
{
  ok = errors == [ ];
  inherit errors unpinned message;
  addons = selected;
  # Evaluates to true, or fails evaluation with `message`.
  check = if errors == [ ] then true else throw message;
  # One addon's pin, or a throw with the whole message (used as the fetch's hash).
  pinOf = a: if errors == [ ] then a.sha256 else throw message;
}
