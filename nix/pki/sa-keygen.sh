#!/usr/bin/env bash
# sa-keygen.sh: ON A CONTROL-PLANE NODE, create the service-account token signing key pair
# of the layout (sa-key.pem 0600, sa.pub 0644). Idempotent: an existing valid key is kept
# and its public key (re)written when missing or stale. Needs bash, coreutils, jq, openssl.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG [--id ID] [--pki-dir DIR] [--layout FILE]

Create every enabled key pair of the layout (or only ID): the private key (ECDSA, curve
from the layout's size; mode and owner from the layout) and its public key (0644). Every
API server and controller-manager must use the same pair: generate it on one
control-plane node and copy both files to the others (kubeadm does the same).

Options:
  --id ID         key pair id (default: all enabled ones, i.e. service-account)
  --pki-dir DIR   PKI directory (default: the layout's pkiDir)
  --layout FILE   layout (default: layout.json next to this script)
  -h, --help      this help
EOF
}

layout=$DEFAULT_LAYOUT
pki_dir=""
only=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --pki-dir) need_value "$1" "$#"; pki_dir=$(check_path "$1" "$2"); shift 2 ;;
    --id) need_value "$1" "$#"; check_id "$2"; only=$2; shift 2 ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done

need_tools jq openssl
load_layout "$layout"
[[ -n $pki_dir ]] || pki_dir=$LAYOUT_PKI_DIR
# shellcheck disable=SC2016 # a jq program: its $names are jq variables
rows=$(lq '.keypairs[] | select(if $only != "" then .id == $only else .enabled end)
  | [.id, .key, .pub, (.size | tostring), .keyOwner.owner, .keyOwner.group, .keyOwner.mode] | join("\u001f")' \
  --arg only "$only") || die "cannot read the key pairs from the layout"
[[ -n $rows ]] || die "no key pair ${only:+\"$only\" }in the layout"
make_dir 0755 "$pki_dir"
make_scratch

while IFS=$US read -r id keyrel pubrel size owner group mode; do
  [[ -n $id ]] || continue
  key=$(abspath "$pki_dir/$keyrel")
  pub=$(abspath "$pki_dir/$pubrel")
  case $size in 256) curve=prime256v1 ;; 384) curve=secp384r1 ;; *) curve=$EC_CURVE_521 ;; esac
  if [[ -e $key ]]; then
    [[ $(key_curve "$key" || true) == "$curve" ]] || die "$id: $key exists but is not a readable $curve key: refusing to replace it"
    info "$id: keeping the existing key $key"
  else
    t=$(tmp_beside "$key")
    gen_ec_key "$t" "$size"
    chmod -- "$mode" "$t"
    set_owner "$t" "$owner" "$group" "$key"
    commit "$t" "$key"
    info "$id: new key $key"
  fi
  openssl pkey -in "$key" -pubout -out "$SCRATCH/pub.pem" 2>/dev/null || die "$id: cannot derive the public key"
  # During a rotation (sa-rotate.sh) <pub> holds several keys (every control-plane node's):
  # one of them this key's is up to date.
  has_own=0
  if [[ -f $pub ]] && n=$(split_pubs "$pub" "$SCRATCH/have"); then
    own=$(spki_sha256_of_key "$key")
    for ((i = 0; i < n; i++)); do
      [[ $(spki_sha256_of_pub "$SCRATCH/have.$i.pem" || true) == "$own" ]] && has_own=1
    done
  fi
  if same_content "$SCRATCH/pub.pem" "$pub" || [[ $has_own -eq 1 ]]; then
    info "$id: $pub is up to date"
  else
    write_file "$SCRATCH/pub.pem" "$pub" 0644
    info "$id: wrote $pub"
  fi
done <<<"$rows"
