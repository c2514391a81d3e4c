#!/usr/bin/env bash
# install.sh: ON THE NODE, put a signed certificate (chain) and its pending key in place:
# verify first, keep the previous pair, then rename into place. Idempotent and safe to
# re-run after a crash at any step. Needs only bash, coreutils, jq and openssl.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG --node NAME --id ID --cert FILE [--pki-dir DIR] [--bundle FILE] [--layout FILE]
       $PROG --node NAME --id ID --rollback [--pki-dir DIR] [--layout FILE]

Install the chain FILE (leaf + intermediate, from sign.sh) as certificate ID:
  1. FILE must hold exactly the leaf and its issuing intermediate; the leaf's subject must
     be the layout's for NAME, it must not be a CA, and it must verify against the node's
     trust bundle of its CA (openssl verify -no-CApath -no-CAstore -partial_chain) for the profile's purpose;
  2. its public key must match <key>.new (from node-csr.sh) or, for a re-signed
     certificate, the current <key> (SHA-256 of the DER SubjectPublicKeyInfo);
  3. the current pair, when it matches, is copied to <cert>.prev and <key>.prev;
  4. <key>.new is renamed to <key>, then the chain is written to <cert> (0644).
Nothing is changed when a check fails. Installing the same certificate again is a no-op.
Prints "installed ID" or "unchanged ID" on stdout.

--rollback puts <cert>.prev and <key>.prev back in place (they must match each other).

Options:
  --node NAME     this node's name (the layout's CN templates use it)
  --id ID         certificate id in the layout
  --cert FILE     the chain to install
  --pki-dir DIR   PKI directory (default: the layout's pkiDir)
  --bundle FILE   trust bundle to verify against (default: the node's bundle of the CA)
  --rollback      restore the previous pair instead
  --layout FILE   layout (default: layout.json next to this script)
  -h, --help      this help
EOF
}

layout=$DEFAULT_LAYOUT
pki_dir=""
id=""
chain_in=""
bundle=""
rollback=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --pki-dir) need_value "$1" "$#"; pki_dir=$(check_path "$1" "$2"); shift 2 ;;
    --cert) need_value "$1" "$#"; chain_in=$(check_path "$1" "$2"); shift 2 ;;
    --bundle) need_value "$1" "$#"; bundle=$(check_path "$1" "$2"); shift 2 ;;
    --id) need_value "$1" "$#"; check_id "$2"; id=$2; shift 2 ;;
    --node) need_value "$1" "$#"; check_node "$2"; NODE_NAME=$2; shift 2 ;;
    --rollback) rollback=1; shift ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done
[[ -n $NODE_NAME ]] || usage_error "--node is required"
[[ -n $id ]] || usage_error "--id is required"
if [[ $rollback -eq 1 ]]; then
  [[ -z $chain_in ]] || usage_error "--rollback takes no --cert"
else
  [[ -n $chain_in ]] || usage_error "--cert is required"
fi

need_tools jq openssl
load_layout "$layout"
[[ -n $pki_dir ]] || pki_dir=$LAYOUT_PKI_DIR

row=$(plan_certs "$id") || die "cannot read certificate '$id' from the layout"
[[ -n $row ]] || die "certificate '$id' is not in the layout"
IFS=$US read -r _id certrel keyrel ca profile cn o _sans owner group mode _rest <<<"$row"
cert=$(abspath "$pki_dir/$certrel")
key=$(abspath "$pki_dir/$keyrel")
newkey="$key.new"

# pair_matches CERT KEY: both exist and carry the same public key.
pair_matches() {
  local c k
  [[ -f $1 && -f $2 ]] || return 1
  c=$(spki_sha256_of_cert "$1") || return 1
  k=$(spki_sha256_of_key "$2") || return 1
  [[ $c == "$k" ]]
}

if [[ $rollback -eq 1 ]]; then
  pair_matches "$cert.prev" "$key.prev" || die "no matching previous pair to roll back to ($cert.prev, $key.prev)"
  if same_content "$cert.prev" "$cert" && same_content "$key.prev" "$key"; then
    info "$id: the previous pair is already in place"
    printf 'unchanged %s\n' "$id"
    exit 0
  fi
  openssl x509 -in "$cert.prev" -noout -checkend 0 >/dev/null 2>&1 || warn "$id: the previous certificate has expired"
  copy_preserving "$key.prev" "$key"
  copy_preserving "$cert.prev" "$cert"
  info "$id: rolled back to the previous pair"
  printf 'installed %s\n' "$id"
  exit 0
fi

[[ -f $chain_in ]] || die "certificate file not found: $chain_in"
if [[ -z $bundle ]]; then
  # shellcheck disable=SC2016 # a jq program: its $names are jq variables
  rel=$(lq '[.bundles[] | select(any(.cas[]; . == $ca))][0].path // empty' --arg ca "$ca")
  [[ -n $rel ]] || die "the layout has no trust bundle for CA $ca: pass --bundle"
  bundle=$(abspath "$pki_dir/$rel")
fi
[[ -f $bundle ]] || die "trust bundle $bundle not found (write it first with bundles.sh)"

# --- 1. The chain: exactly leaf + issuing intermediate, right subject, verifies.
make_scratch
n=$(split_pem "$chain_in" "$SCRATCH/part") || die "$chain_in: unreadable PEM"
[[ $n -eq 2 ]] || die "$chain_in holds $n certificate(s): expected the leaf followed by its intermediate"
leaf="$SCRATCH/part.0.pem"
issuer="$SCRATCH/part.1.pem"
bc=$(openssl x509 -in "$leaf" -noout -ext basicConstraints 2>/dev/null || true)
[[ $bc != *CA:TRUE* ]] || die "$chain_in: the first certificate is a CA, not a leaf"
orgs=()
split_csv "$o" orgs
want_subject=$(subject_rfc2253 "$cn" "${orgs[@]}")
got_subject=$(openssl x509 -in "$leaf" -noout -subject -nameopt RFC2253)
got_subject=${got_subject#subject=}
[[ $got_subject == "$want_subject" ]] ||
  die "$chain_in: subject '$got_subject' is not the layout's '$want_subject' for $id on $NODE_NAME"
purposes=()
case $profile in
  server) purposes=(sslserver) ;;
  client) purposes=(sslclient) ;;
  peer) purposes=(sslserver sslclient) ;;
esac
for p in "${purposes[@]}"; do
  if ! msg=$(openssl verify -no-CApath -no-CAstore -partial_chain -purpose "$p" -CAfile "$bundle" -untrusted "$issuer" "$leaf" 2>&1); then
    die "$chain_in does not verify against $bundle (purpose $p): ${msg//$'\n'/; }"
  fi
done
openssl verify -no-CApath -no-CAstore -partial_chain -CAfile "$issuer" "$leaf" >/dev/null 2>&1 ||
  die "$chain_in: the second certificate is not the leaf's issuer"

# --- 2. The key: the pending one, or the current one for a re-signed certificate.
leaf_spki=$(spki_sha256_of_cert "$leaf") || die "cannot read the leaf's public key"
use_new=0
if [[ -f $newkey ]] && [[ $(spki_sha256_of_key "$newkey" || true) == "$leaf_spki" ]]; then
  use_new=1
elif [[ -f $key ]] && [[ $(spki_sha256_of_key "$key" || true) == "$leaf_spki" ]]; then
  use_new=0
else
  die "$chain_in does not match the pending key $newkey nor the current key $key: refusing"
fi

cat -- "$leaf" "$issuer" >"$SCRATCH/chain.pem"
if [[ $use_new -eq 0 ]] && same_content "$SCRATCH/chain.pem" "$cert"; then
  info "$id: already installed"
  printf 'unchanged %s\n' "$id"
  exit 0
fi

# --- 3. Keep the previous pair (only a consistent one: after a crash between the two
# renames below, the .prev files already hold it).
if ! same_content "$SCRATCH/chain.pem" "$cert" && pair_matches "$cert" "$key"; then
  copy_preserving "$key" "$key.prev"
  copy_preserving "$cert" "$cert.prev"
fi

# --- 4. Rename into place: key first, then the certificate.
if [[ $use_new -eq 1 ]]; then
  chmod -- "$mode" "$newkey"
  # node-csr.sh already warned when the owner could not be set.
  set_owner "$newkey" "$owner" "$group" "$key" quiet
  commit "$newkey" "$key"
fi
write_file "$SCRATCH/chain.pem" "$cert" 0644
info "$id: installed $cert ($(openssl x509 -in "$leaf" -noout -enddate))"
printf 'installed %s\n' "$id"
