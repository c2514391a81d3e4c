#!/usr/bin/env bash
# bundles.sh: write a node's trust bundles (the intermediates of each trust domain, never
# the root) from the CA certificates. Only public certificates are read.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG --roles R1,R2 [--ca-dir DIR] [--pki-dir DIR] [--layout FILE]

For every bundle of the layout that the roles need, concatenate the certificates of its
CAs (DIR/<ca>.pem; during a rotation every version ca-rotate.sh keeps: current, next, old) into <pki-dir>/<bundle path> (mode from the layout, written
atomically). A control-plane node gets kubernetes-ca.pem, etcd-ca.pem and
front-proxy-ca.pem; a worker kubernetes-ca.pem; an etcd node etcd-ca.pem.
Prints the paths written, one per line.

Options:
  --roles R1,R2   the node's roles: control-plane, worker, etcd
  --ca-dir DIR    directory with the CA certificates (default: the layout's caDir)
  --pki-dir DIR   the node's PKI directory (default: the layout's pkiDir)
  --layout FILE   layout (default: layout.json next to this script)
  -h, --help      this help
EOF
}

layout=$DEFAULT_LAYOUT
ca_dir=""
pki_dir=""
roles_csv=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --ca-dir) need_value "$1" "$#"; ca_dir=$(check_path "$1" "$2"); shift 2 ;;
    --pki-dir) need_value "$1" "$#"; pki_dir=$(check_path "$1" "$2"); shift 2 ;;
    --roles) need_value "$1" "$#"; roles_csv=$2; shift 2 ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done
split_csv "$roles_csv" NODE_ROLES
check_roles "${NODE_ROLES[@]}"

need_tools jq openssl
load_layout "$layout"
[[ -n $ca_dir ]] || ca_dir=$LAYOUT_CA_DIR
[[ -n $pki_dir ]] || pki_dir=$LAYOUT_PKI_DIR
make_dir 0755 "$pki_dir"
make_scratch

# shellcheck disable=SC2016 # a jq program: its $names are jq variables
rows=$(lq '.bundles[] | select(applies($roles)) | [.id, .path, .mode, (.cas | join(","))] | join("\u001f")' \
  --argjson roles "$(json_array "${NODE_ROLES[@]}")") || die "cannot read the bundles from the layout"
while IFS=$US read -r id path mode cas; do
  [[ -n $id ]] || continue
  dest=$(abspath "$pki_dir/$path")
  : >"$SCRATCH/bundle.pem"
  cas_list=()
  split_csv "$cas" cas_list
  for ca in "${cas_list[@]}"; do
    # Every version the bundles trust (current, and during a rotation next and old:
    # ca-rotate.sh), or <ca>.pem.
    srcs=$(trusted_ca_certs "$ca_dir" "$ca")
    [[ -n $srcs ]] || die "bundle $id: CA certificate $ca_dir/$ca.pem not found"
    while IFS= read -r src; do
      bc=$(openssl x509 -in "$src" -noout -ext basicConstraints 2>/dev/null) || die "bundle $id: $src is not a certificate"
      [[ $bc == *CA:TRUE* ]] || die "bundle $id: $src is not a CA certificate"
      openssl x509 -in "$src" >>"$SCRATCH/bundle.pem" 2>/dev/null || die "bundle $id: cannot read $src"
    done <<<"$srcs"
  done
  make_dir 0755 "$(dirname -- "$dest")"
  write_file "$SCRATCH/bundle.pem" "$dest" "$mode"
  printf '%s\n' "$dest"
done <<<"$rows"
