#!/usr/bin/env bash
# node-csr.sh: ON THE NODE, create the private keys (<key>.new, never leaving the node) and
# the CSRs of every certificate the node's roles need. Needs only bash, coreutils, jq and
# openssl.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG --node NAME --roles R1,R2 --addresses A,B [--cluster-domain D]
         [--service-cidr CIDR] [--apiserver-address A] [--pki-dir DIR] [--spool DIR]
         [--only ID] [--new-key] [--layout FILE]

For every enabled certificate of the layout that the roles need (or only ID), create a
P-521 private key <pki-dir>/<key>.new (mode and owner from the layout) and a CSR with the
layout's CN, O and SANs expanded for this node, written to <spool>/<id>.csr. Prints the
CSR paths, one per line. Copy the CSRs to the signer (sign.sh); the keys stay here.

An existing valid <key>.new is reused (a re-run after a crash converges on the same key);
--new-key replaces it.

Options:
  --node NAME              node name (the kubelet's registered name)
  --roles R1,R2            control-plane, worker, etcd
  --addresses A,B          the node's IP addresses ({nodeAddresses} in SAN templates)
  --cluster-domain D       cluster domain (default: the layout's, cluster.local)
  --service-cidr CIDR      service CIDR; its first address is {serviceIP} (default: the layout's)
  --apiserver-address A    API server address or name, {apiserverAddress} (default: none)
  --pki-dir DIR            PKI directory (default: the layout's pkiDir)
  --spool DIR              where CSRs are written (default: <pki-dir>/csr)
  --only ID                only this certificate id
  --new-key                always generate a new key, even when <key>.new exists
  --layout FILE            layout (default: layout.json next to this script)
  -h, --help               this help
EOF
}

layout=$DEFAULT_LAYOUT
pki_dir=""
spool=""
only=""
new_key=0
roles_csv=""
addrs_csv=""
have_addrs=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --node) need_value "$1" "$#"; check_node "$2"; NODE_NAME=$2; shift 2 ;;
    --roles) need_value "$1" "$#"; roles_csv=$2; shift 2 ;;
    --addresses) need_value "$1" "$#"; addrs_csv=$2; have_addrs=1; shift 2 ;;
    --cluster-domain) need_value "$1" "$#"; check_cluster_domain "$2"; CLUSTER_DOMAIN=$2; shift 2 ;;
    --service-cidr) need_value "$1" "$#"; check_service_cidr "$2"; SERVICE_CIDR=$2; shift 2 ;;
    --apiserver-address) need_value "$1" "$#"; check_apiserver_address "$2"; APISERVER_ADDRESS=$2; shift 2 ;;
    --pki-dir) need_value "$1" "$#"; pki_dir=$(check_path "$1" "$2"); shift 2 ;;
    --spool) need_value "$1" "$#"; spool=$(check_path "$1" "$2"); shift 2 ;;
    --only) need_value "$1" "$#"; check_id "$2"; only=$2; shift 2 ;;
    --new-key) new_key=1; shift ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done
[[ -n $NODE_NAME ]] || usage_error "--node is required"
[[ $have_addrs -eq 1 ]] || usage_error "--addresses is required (the node's IP addresses, comma-separated)"
split_csv "$roles_csv" NODE_ROLES
check_roles "${NODE_ROLES[@]}"
split_csv "$addrs_csv" NODE_ADDRESSES
check_addresses "${NODE_ADDRESSES[@]}"

need_tools jq openssl
load_layout "$layout"
[[ -n $pki_dir ]] || pki_dir=$LAYOUT_PKI_DIR
[[ -n $spool ]] || spool="$pki_dir/csr"

plan=$(plan_certs "") || die "cannot plan the node's certificates"
if [[ -n $only ]]; then
  plan=$(
    while IFS=$US read -r id rest; do
      [[ $id == "$only" ]] && printf '%s%s%s\n' "$id" "$US" "$rest"
    done <<<"$plan"
    true
  )
  [[ -n $plan ]] || die "certificate '$only' is not one this node's roles (${roles_csv}) need, or it is disabled"
fi
[[ -n $plan ]] || die "the layout has no enabled certificate for roles ${roles_csv}"

make_dir 0755 "$pki_dir"
make_dir 0700 "$spool"
make_scratch
printf '[req]\ndistinguished_name = dn\nutf8 = yes\nstring_mask = utf8only\n[dn]\n' >"$SCRATCH/req.cnf"

while IFS=$US read -r id _cert keyrel _ca _profile cn o sans owner group mode _rest; do
  [[ -n $id ]] || continue
  orgs=()
  san_list=()
  split_csv "$o" orgs
  split_csv "$sans" san_list
  ext=()
  for s in "${san_list[@]}"; do
    if is_ip "$s"; then
      ext+=("IP:$s")
    elif is_dns_san "$s"; then
      ext+=("DNS:$s")
    else
      die "$id: SAN '$s' is neither an IP address nor a DNS name"
    fi
  done

  key=$(abspath "$pki_dir/$keyrel")
  new="$key.new"
  make_dir 0755 "$(dirname -- "$new")"
  if [[ $new_key -eq 0 && -f $new ]] && [[ $(key_curve "$new" || true) == "$EC_CURVE_521" ]]; then
    info "$id: reusing the pending key $new"
  else
    [[ -e $new ]] && warn "$id: replacing the pending key $new"
    t=$(tmp_beside "$new")
    gen_ec_key "$t" 521
    chmod -- "$mode" "$t"
    set_owner "$t" "$owner" "$group" "$new"
    commit "$t" "$new"
  fi

  args=(req -new -config "$SCRATCH/req.cnf" -key "$new" -sha512 -subj "$(subj_arg "$cn" "${orgs[@]}")"
    -out "$SCRATCH/$id.csr")
  if [[ ${#ext[@]} -gt 0 ]]; then
    args+=(-addext "subjectAltName=$(IFS=, && printf '%s' "${ext[*]}")")
  fi
  openssl "${args[@]}" 2>"$SCRATCH/openssl.log" || die "$id: openssl req failed: $(tail -n 2 "$SCRATCH/openssl.log")"
  write_file "$SCRATCH/$id.csr" "$spool/$id.csr" 0644
  printf '%s\n' "$spool/$id.csr"
done <<<"$plan"
