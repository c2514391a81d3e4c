#!/usr/bin/env bash
# gen-lab.sh: run the whole PKI chain locally, with the same scripts as a real cluster:
# root, intermediates, and for every node its bundles, keys + CSRs, signatures and
# installs, plus the service-account key pair. For tests, the demo and bootstrapping.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG [--cluster-domain D] [--service-cidr CIDR] [--apiserver-address A]
         [--config FILE] [--layout FILE] PKIDIR NODE:ROLES:ADDR[,ADDR] …

Example: $PROG /tmp/lab cp-1:control-plane,etcd:10.77.0.11 worker-1:worker:10.77.0.21

PKIDIR must not exist or be empty. It receives:
  PKIDIR/offline/   the root certificate and key (init-root.sh)
  PKIDIR/ca/        the intermediates' certificates and keys, and the root certificate
  PKIDIR/<node>/    what the node holds in its pkiDir: trust bundles, keys (0600), chains
                    (leaf + intermediate); the service-account pair on control-plane nodes
                    (generated on the first one and copied to the others)
  PKIDIR/spool/<node>/  the CSRs and signed chains that travelled between node and signer
Prints a JSON manifest of those paths on stdout.

Options:
  --cluster-domain D       cluster domain (default: the layout's)
  --service-cidr CIDR      service CIDR (default: the layout's)
  --apiserver-address A    API server address or name for {apiserverAddress}
  --config FILE            cfssl signing config (default: cfssl-config.json next to this script)
  --layout FILE            layout (default: layout.json next to this script)
  -h, --help               this help
EOF
}

layout=$DEFAULT_LAYOUT
config=$DEFAULT_CFSSL_CONFIG
cluster=()
lab=""
specs=()
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --config) need_value "$1" "$#"; config=$(check_path "$1" "$2"); shift 2 ;;
    --cluster-domain) need_value "$1" "$#"; check_cluster_domain "$2"; cluster+=("$1" "$2"); shift 2 ;;
    --service-cidr) need_value "$1" "$#"; check_service_cidr "$2"; cluster+=("$1" "$2"); shift 2 ;;
    --apiserver-address) need_value "$1" "$#"; check_apiserver_address "$2"; cluster+=("$1" "$2"); shift 2 ;;
    --) shift; break ;;
    -*) usage_error "unknown option $1" ;;
    *) if [[ -z $lab ]]; then lab=$(check_path PKIDIR "$1"); else specs+=("$1"); fi; shift ;;
  esac
done
for a in "$@"; do
  if [[ -z $lab ]]; then lab=$(check_path PKIDIR "$a"); else specs+=("$a"); fi
done
[[ -n $lab ]] || usage_error "PKIDIR is required"
[[ ${#specs[@]} -gt 0 ]] || usage_error "at least one NODE:ROLES:ADDR[,ADDR] is required"

# Parse and validate every node before touching the disk.
names=()
node_roles=()
node_addrs=()
for spec in "${specs[@]}"; do
  [[ $spec =~ ^([^:]+):([^:]+):(.*)$ ]] || usage_error "invalid node '$spec': expected NODE:ROLES:ADDR[,ADDR]"
  name=${BASH_REMATCH[1]}
  roles=${BASH_REMATCH[2]}
  addrs=${BASH_REMATCH[3]}
  check_node "$name"
  case $name in ca | offline | spool) usage_error "node name '$name' is reserved in a lab directory" ;; esac
  for n in "${names[@]}"; do [[ $n != "$name" ]] || usage_error "node '$name' given twice"; done
  r=()
  split_csv "$roles" r
  check_roles "${r[@]}"
  ad=()
  split_csv "$addrs" ad
  [[ ${#ad[@]} -gt 0 ]] || usage_error "node '$name' has no address"
  check_addresses "${ad[@]}"
  names+=("$name")
  node_roles+=("$roles")
  node_addrs+=("$addrs")
done

need_tools cfssl jq openssl
load_layout "$layout"
[[ -f $config ]] || die "cfssl config not found: $config"
if [[ -e $lab ]]; then
  [[ -d $lab ]] || die "$lab exists and is not a directory"
  shopt -s nullglob dotglob
  existing=("$lab"/*)
  shopt -u nullglob dotglob
  [[ ${#existing[@]} -eq 0 ]] || die "$lab is not empty: refusing to mix labs"
fi
make_dir 0755 "$lab"

S=$PKI_LIB_DIR
common=(--layout "$layout")
root=$LAYOUT_ROOT_ID

"$S/init-root.sh" "${common[@]}" "$lab/offline"
mapfile -t intermediates < <(lq '.cas[] | select(.parent != null) | .id')
for ca in "${intermediates[@]}"; do
  "$S/issue-intermediate.sh" "${common[@]}" --config "$config" --root-dir "$lab/offline" --ca "$ca" "$lab/ca"
done

# One node: bundles, keys + CSRs, signatures, installs: what a rotation does, in order.
node_job() {
  local i=$1 name dir spool csr_list csr id
  local -a node_args csrs
  name=${names[$i]}
  dir="$lab/$name"
  spool="$lab/spool/$name"
  "$S/bundles.sh" "${common[@]}" --roles "${node_roles[$i]}" --ca-dir "$lab/ca" --pki-dir "$dir" >/dev/null
  node_args=(--node "$name" --roles "${node_roles[$i]}" --addresses "${node_addrs[$i]}" "${cluster[@]}")
  csr_list=$("$S/node-csr.sh" "${common[@]}" "${node_args[@]}" --pki-dir "$dir" --spool "$spool")
  mapfile -t csrs <<<"$csr_list"
  for csr in "${csrs[@]}"; do
    id=$(basename -- "$csr" .csr)
    "$S/sign.sh" "${common[@]}" "${node_args[@]}" --config "$config" --ca-dir "$lab/ca" \
      --id "$id" --csr "$csr" --out "$spool/$id.pem"
    "$S/install.sh" "${common[@]}" --node "$name" --id "$id" --cert "$spool/$id.pem" --pki-dir "$dir" >/dev/null
  done
  : >"$spool/.done"
}

# Nodes are independent: run them in parallel, at most one per CPU; each one's messages go
# to its log, shown once it is finished.
max_jobs=$(nproc 2>/dev/null || echo 2)
for i in "${!names[@]}"; do
  make_dir 0755 "$lab/${names[$i]}"
  make_dir 0700 "$lab/spool/${names[$i]}"
  while [[ $(jobs -rp | wc -l) -ge $max_jobs ]]; do wait -n || true; done
  (node_job "$i") >"$lab/spool/${names[$i]}/gen-lab.log" 2>&1 &
done
wait || true
failed=()
for name in "${names[@]}"; do
  cat -- "$lab/spool/$name/gen-lab.log" >&2
  if [[ -e $lab/spool/$name/.done ]]; then rm -f -- "$lab/spool/$name/.done"; else failed+=("$name"); fi
done
[[ ${#failed[@]} -eq 0 ]] || die "the chain failed for node(s): ${failed[*]} (see the messages above)"

# The service-account pair: generated once, on the first control-plane node, and copied to
# the other control-plane nodes (every API server must trust the one signing key).
sa_source=""
for i in "${!names[@]}"; do
  [[ ,${node_roles[$i]}, == *,control-plane,* ]] || continue
  dir="$lab/${names[$i]}"
  if [[ -z $sa_source ]]; then
    "$S/sa-keygen.sh" "${common[@]}" --pki-dir "$dir"
    sa_source=$dir
  else
    while IFS=$US read -r keyrel pubrel; do
      [[ -n $keyrel ]] || continue
      copy_preserving "$sa_source/$keyrel" "$dir/$keyrel"
      copy_preserving "$sa_source/$pubrel" "$dir/$pubrel"
    done <<<"$(lq '.keypairs[] | select(.enabled) | [.key, .pub] | join("\u001f")')"
  fi
done

# The manifest: where everything is.
nodes_json=$(
  for i in "${!names[@]}"; do
    r=()
    ad=()
    split_csv "${node_roles[$i]}" r
    split_csv "${node_addrs[$i]}" ad
    jq -cn --arg name "${names[$i]}" --arg dir "$lab/${names[$i]}" --arg spool "$lab/spool/${names[$i]}" \
      --argjson roles "$(json_array "${r[@]}")" --argjson addrs "$(json_array "${ad[@]}")" \
      '{name: $name, roles: $roles, addresses: $addrs, dir: $dir, spool: $spool}'
  done | jq -cs .
)
jq -n --arg lab "$lab" --arg root "$root" --argjson nodes "$nodes_json" \
  --argjson cas "$(json_array "${intermediates[@]}")" '
  {pkiDir: $lab,
   root: {id: $root, cert: "\($lab)/offline/\($root).pem", key: "\($lab)/offline/\($root)-key.pem"},
   caDir: "\($lab)/ca",
   intermediates: [$cas[] | {id: ., cert: "\($lab)/ca/\(.).pem", key: "\($lab)/ca/\(.)-key.pem"}],
   nodes: $nodes}'
info "lab ready in $lab: ${#names[@]} node(s)"
