# Turns one entry of nix/addons/addons.json into the manifests k8nix's multiYamlAddons reads.
# Needs nixpkgs (fetchurl, helm, yq); the pure checks are in nix/lib/addons.nix.
#
#   render { addon; pin; values ? {}; configMapData ? {}; }
#     → { manifest = <store path of one multi-document YAML>;
#         crds = <store path> or null;   # CRDs split out for server-side apply
#         package = <derivation> or null; }  # format "cli": the unpacked binary
{
  pkgs,
  lib,
  kubeVersion,
  helm ? pkgs.kubernetes-helm,
  yq ? pkgs.yq-go,
}:
{
  addon,
  # The addon's sha256 from nix/lib/addons.nix `pinOf`: a throw with the "run the addon
  # sync" message when the manifest is not pinned, so nothing is fetched unpinned.
  pin,
  values ? { },
  configMapData ? { },
}:
let
  inherit (addon) name version format;
  hashArgs =
    if lib.hasPrefix "sha256-" pin then { hash = pin; } else { sha256 = lib.removePrefix "sha256:" pin; };
  fetched = pkgs.fetchurl (
    {
      inherit (addon) url;
      # Flat file hash, as `nix-prefetch-url <url>` prints it (no --unpack).
      name = "k8ops-addon-${name}-${version}-${baseNameOf addon.url}";
    }
    // hashArgs
  );

  namespace = addon.namespace or null;
  namespaceDoc = lib.optionalString (
    namespace != null
    && !(lib.elem namespace [
      "default"
      "kube-system"
      "kube-public"
    ])
  ) "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n---\n";
  valuesFile = pkgs.writeText "k8ops-${name}-values.json" (builtins.toJSON values);
  configMapFile = pkgs.writeText "k8ops-${name}-configmap-data.json" (builtins.toJSON configMapData);

  # Step 1: one multi-document YAML, whatever the format.
  raw =
    if format == "yaml" then
      fetched
    else if format == "helm" then
      pkgs.runCommand "k8ops-addon-${name}-${version}-rendered.yaml"
        {
          nativeBuildInputs = [ helm ];
          passAsFile = [ "namespaceDoc" ];
          inherit namespaceDoc;
        }
        ''
          export HOME="$TMPDIR"
          {
            cat "$namespaceDocPath"
            helm template ${lib.escapeShellArg (addon.release or name)} ${fetched} \
              --namespace ${lib.escapeShellArg namespace} \
              --kube-version ${lib.escapeShellArg kubeVersion} \
              --include-crds \
              --values ${valuesFile}
          } > "$out"
        ''
    else if format == "tarball" then
      pkgs.runCommand "k8ops-addon-${name}-${version}-manifests.yaml" { } ''
        mkdir src
        tar -xzf ${fetched} -C src --strip-components=1
        : > "$out"
        ${lib.concatMapStrings (dir: ''
          if [ ! -d src/${lib.escapeShellArg dir} ]; then
            echo "k8ops: ${name} ${version}: the archive has no ${dir}/" >&2
            exit 1
          fi
          find src/${lib.escapeShellArg dir} -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) \
            | LC_ALL=C sort | while IFS= read -r f; do
              cat "$f"
              printf '\n---\n'
            done >> "$out"
        '') addon.paths}
      ''
    else
      throw "k8ops: addon ${name} has format \"${format}\", which is not a cluster manifest";

  # Step 2: merge the ConfigMap data, split CRDs out for server-side apply.
  splitCrds = (addon.crds or "client-side") == "server-side";
  configMap = addon.configMap or null;
  post =
    pkgs.runCommand "k8ops-addon-${name}-${version}"
      {
        nativeBuildInputs = [ yq ];
      }
      ''
        mkdir -p "$out"
        cp ${raw} all.yaml
        ${lib.optionalString (configMap != null && configMapData != { }) ''
          CM_NAME=${lib.escapeShellArg configMap} CM_DATA=${configMapFile} \
            yq e -i '(select(.kind == "ConfigMap" and .metadata.name == strenv(CM_NAME)) | .data) |= ((. // {}) * load(strenv(CM_DATA)))' all.yaml
          if ! CM_NAME=${lib.escapeShellArg configMap} yq e 'select(.kind == "ConfigMap" and .metadata.name == strenv(CM_NAME)) | .metadata.name' all.yaml | grep -q .; then
            echo "k8ops: ${name} ${version} has no ConfigMap ${configMap} to merge the cache settings into" >&2
            exit 1
          fi
        ''}
        ${
          if splitCrds then
            ''
              yq e 'select(.kind == "CustomResourceDefinition")' all.yaml > "$out/crds.yaml"
              yq e 'select(.kind != "CustomResourceDefinition")' all.yaml > "$out/manifest.yaml"
            ''
          else
            ''
              cp all.yaml "$out/manifest.yaml"
            ''
        }
      '';

  cliPackage = pkgs.runCommand "${name}-${version}" { meta.mainProgram = addon.binary or name; } ''
    mkdir -p "$out/bin"
    tar -xzf ${fetched} -C "$out/bin" ${lib.escapeShellArg (addon.binary or name)}
    chmod 0755 "$out/bin/"*
  '';
in
# `values` and `configMapData` are returned as given, for inspection
# (config.k8ops.addons.rendered.<name>).
if format == "cli" then
  {
    manifest = null;
    crds = null;
    package = cliPackage;
    inherit values configMapData;
  }
else
  {
    manifest = "${post}/manifest.yaml";
    crds = if splitCrds then "${post}/crds.yaml" else null;
    package = null;
    inherit values configMapData;
  }
