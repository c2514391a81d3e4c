#!/usr/bin/env bash
# sign.sh: AT THE SIGNER, sign a node's CSR with the intermediate CA and cfssl profile the
# layout names for the certificate id, after checking the CSR asks for exactly what the
# layout allows for that node. Outputs the chain (leaf + intermediate).
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG --csr FILE --id ID [--node NAME] [--roles R1,R2] [--addresses A,B]
         [--cluster-domain D] [--service-cidr CIDR] [--apiserver-address A]
         [--ca-dir DIR] [--config FILE] [--out FILE] [--layout FILE]

Sign FILE as certificate ID of the layout with its intermediate CA (<ca-dir>/<ca>.pem and
<ca>-key.pem) and cfssl profile. Refuses:
  - a disabled id, or (with --roles) an id the node's roles do not need;
  - a CSR that is not ECDSA P-521 or whose self-signature does not verify;
  - a CSR whose subject (CN, O) or SANs differ from the layout's, expanded for the node
    (--node is required when the CN or SANs use {node}, --addresses when they use
    {nodeAddresses}; pass the same cluster parameters as node-csr.sh got);
  - a leaf whose notAfter would pass its intermediate's (cfssl does not cap it).
The issued certificate's SANs are set to the expected list, and it is checked again after
signing. The chain (leaf, then intermediate) goes to --out FILE (0644, atomic) or stdout.

Options:
  --csr FILE               the CSR (from node-csr.sh); - reads it from stdin
  --id ID                  certificate id in the layout
  --node NAME              node the certificate is for
  --roles R1,R2            the node's roles (checked against the id's roles)
  --addresses A,B          the node's IP addresses
  --cluster-domain D       cluster domain (default: the layout's)
  --service-cidr CIDR      service CIDR (default: the layout's)
  --apiserver-address A    API server address or name (default: none)
  --ca-dir DIR             intermediate CAs (default: the layout's caDir)
  --config FILE            cfssl signing config (default: cfssl-config.json next to this script)
  --out FILE               write the chain here instead of stdout
  --layout FILE            layout (default: layout.json next to this script)
  -h, --help               this help
EOF
}

layout=$DEFAULT_LAYOUT
config=$DEFAULT_CFSSL_CONFIG
ca_dir=""
csr=""
id=""
out=""
roles_csv=""
addrs_csv=""
have_addrs=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --config) need_value "$1" "$#"; config=$(check_path "$1" "$2"); shift 2 ;;
    --ca-dir) need_value "$1" "$#"; ca_dir=$(check_path "$1" "$2"); shift 2 ;;
    --csr)
      need_value "$1" "$#"
      if [[ $2 == - ]]; then csr=-; else csr=$(check_path "$1" "$2"); fi
      shift 2
      ;;
    --out) need_value "$1" "$#"; out=$(check_path "$1" "$2"); shift 2 ;;
    --id) need_value "$1" "$#"; check_id "$2"; id=$2; shift 2 ;;
    --node) need_value "$1" "$#"; check_node "$2"; NODE_NAME=$2; shift 2 ;;
    --roles) need_value "$1" "$#"; roles_csv=$2; shift 2 ;;
    --addresses) need_value "$1" "$#"; addrs_csv=$2; have_addrs=1; shift 2 ;;
    --cluster-domain) need_value "$1" "$#"; check_cluster_domain "$2"; CLUSTER_DOMAIN=$2; shift 2 ;;
    --service-cidr) need_value "$1" "$#"; check_service_cidr "$2"; SERVICE_CIDR=$2; shift 2 ;;
    --apiserver-address) need_value "$1" "$#"; check_apiserver_address "$2"; APISERVER_ADDRESS=$2; shift 2 ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done
[[ -n $csr ]] || usage_error "--csr is required"
[[ -n $id ]] || usage_error "--id is required"
if [[ -n $roles_csv ]]; then
  split_csv "$roles_csv" NODE_ROLES
  check_roles "${NODE_ROLES[@]}"
fi
split_csv "$addrs_csv" NODE_ADDRESSES
check_addresses "${NODE_ADDRESSES[@]}"

need_tools cfssl cfssljson jq openssl
load_layout "$layout"
[[ -n $ca_dir ]] || ca_dir=$LAYOUT_CA_DIR
[[ -f $config ]] || die "cfssl config not found: $config"
if [[ $csr == - ]]; then
  # The CSR on stdin (k8ops carries it from the node; nothing is written outside scratch).
  make_scratch
  head -c 65536 >"$SCRATCH/stdin.csr"
  csr="$SCRATCH/stdin.csr"
fi
[[ -f $csr ]] || die "CSR not found: $csr"

row=$(plan_certs "$id") || die "cannot read certificate '$id' from the layout"
[[ -n $row ]] || die "certificate '$id' is not in the layout"
IFS=$US read -r _id _cert _key ca profile cn o sans _owner _group _mode needs_node needs_addrs enabled id_roles <<<"$row"
[[ $enabled == true ]] || die "certificate '$id' is disabled in the layout: refusing to sign it"
if [[ ${#NODE_ROLES[@]} -gt 0 ]]; then
  ok=0
  for r in "${NODE_ROLES[@]}"; do [[ ,$id_roles, == *",$r,"* ]] && ok=1; done
  [[ $ok -eq 1 ]] || die "certificate '$id' is for roles $id_roles, not for a node with roles $roles_csv: refusing"
fi
[[ $needs_node == false || -n $NODE_NAME ]] || usage_error "certificate '$id' names its node (CN or SANs use {node}): --node is required"
[[ $needs_addrs == false || $have_addrs -eq 1 ]] || usage_error "certificate '$id' carries the node's addresses: --addresses is required"

orgs=()
san_list=()
split_csv "$o" orgs
split_csv "$sans" san_list
want_subject=$(subject_rfc2253 "$cn" "${orgs[@]}")
want_sans=$(expected_san_keys "${san_list[@]}")
for s in "${san_list[@]}"; do
  is_ip "$s" || is_dns_san "$s" || die "$id: expected SAN '$s' is neither an IP address nor a DNS name"
done

# The profile must exist: cfssl 1.2 silently signs with its default profile otherwise.
expiry=$(jq -r --arg p "$profile" '.signing.profiles[$p].expiry // empty' "$config") || die "cannot read $config"
[[ -n $expiry ]] || die "profile '$profile' is missing from $config (cfssl would silently use its default profile)"
lifetime=$(duration_seconds "$expiry") || die "profile '$profile': expiry '$expiry' is not a duration like 336h"

ca_cert="$ca_dir/$ca.pem"
ca_key="$ca_dir/$ca-key.pem"
[[ -f $ca_cert && -f $ca_key ]] || die "intermediate CA files not found: $ca_cert and $ca_key"
openssl x509 -in "$ca_cert" -noout -checkend 0 >/dev/null 2>&1 || die "intermediate $ca ($ca_cert) has expired"

# --- The CSR: well-formed, self-signed, P-521, exactly the layout's subject and SANs.
make_scratch
openssl req -in "$csr" -noout -verify >/dev/null 2>&1 || die "$csr is not a CSR or its self-signature does not verify"
text=$(openssl req -in "$csr" -noout -text 2>/dev/null) || die "cannot read $csr"
[[ $text == *"Public Key Algorithm: id-ecPublicKey"* && $text == *"ASN1 OID: $EC_CURVE_521"* ]] ||
  die "$csr: the key is not ECDSA P-521: refusing"
got_subject=$(openssl req -in "$csr" -noout -subject -nameopt RFC2253 2>/dev/null) || die "cannot read the subject of $csr"
got_subject=${got_subject#subject=}
[[ $got_subject == "$want_subject" ]] ||
  die "$csr: subject '$got_subject' is not what the layout allows for $id${NODE_NAME:+ on $NODE_NAME} ('$want_subject'): refusing"
got_sans=$(sans_from_text <<<"$text")
if [[ $got_sans != "$want_sans" ]]; then
  die "$csr: SANs [${got_sans//$'\n'/ }] are not what the layout allows for $id${NODE_NAME:+ on $NODE_NAME} ([${want_sans//$'\n'/ }]): refusing"
fi

# --- Lifetime: the leaf must not outlive its intermediate (cfssl does not cap notAfter).
now=$(date -u +%s)
ca_end=$(enddate_epoch "$ca_cert") || die "cannot read notAfter of $ca_cert"
if ((now + lifetime > ca_end)); then
  die "a $expiry leaf signed now would outlive intermediate $ca (notAfter $(date -u -d "@$ca_end" '+%Y-%m-%d %H:%M:%S UTC')): refusing; rotate the intermediate first"
fi
if ((now + lifetime + 2 * 86400 > ca_end)); then
  warn "intermediate $ca expires $(date -u -d "@$ca_end" '+%Y-%m-%d %H:%M UTC'), less than one leaf lifetime plus 2 days from now: rotate it"
fi

# --- Sign. -hostname pins the SANs to the expected list (empty: the CSR's, checked empty).
hosts=$(IFS=, && printf '%s' "${san_list[*]}")
cfssl sign -ca "$ca_cert" -ca-key "$ca_key" -config "$config" -profile "$profile" -hostname "$hosts" "$csr" \
  >"$SCRATCH/sign.json" 2>"$SCRATCH/cfssl.log" || die "cfssl sign failed: $(tail -n 3 "$SCRATCH/cfssl.log")"
cfssljson -f "$SCRATCH/sign.json" -bare "$SCRATCH/leaf" 2>/dev/null || die "cfssl returned no certificate"
openssl x509 -in "$SCRATCH/leaf.pem" -noout 2>/dev/null || die "cfssl returned no certificate"

# --- Check the result before handing it out.
leaf_subject=$(openssl x509 -in "$SCRATCH/leaf.pem" -noout -subject -nameopt RFC2253)
[[ ${leaf_subject#subject=} == "$want_subject" ]] || die "issued subject '${leaf_subject#subject=}' differs from '$want_subject'"
leaf_sans=$(openssl x509 -in "$SCRATCH/leaf.pem" -noout -ext subjectAltName 2>/dev/null | sans_from_text)
[[ $leaf_sans == "$want_sans" ]] || die "issued SANs differ from the layout's"
[[ $(spki_sha256_of_cert "$SCRATCH/leaf.pem") == "$(openssl req -in "$csr" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)" ]] ||
  die "issued certificate does not carry the CSR's public key"
leaf_end=$(enddate_epoch "$SCRATCH/leaf.pem")
((leaf_end <= ca_end)) || die "issued leaf outlives intermediate $ca: refusing to hand it out"
leaf_text=$(openssl x509 -in "$SCRATCH/leaf.pem" -noout -text)
[[ $leaf_text == *"Signature Algorithm: ecdsa-with-SHA512"* ]] || die "issued certificate is not signed with ecdsa-with-SHA512"
openssl verify -no-CApath -no-CAstore -partial_chain -CAfile "$ca_cert" "$SCRATCH/leaf.pem" >/dev/null 2>&1 ||
  die "issued certificate does not verify against $ca_cert"

openssl x509 -in "$SCRATCH/leaf.pem" >"$SCRATCH/chain.pem"
openssl x509 -in "$ca_cert" >>"$SCRATCH/chain.pem"
if [[ -n $out ]]; then
  write_file "$SCRATCH/chain.pem" "$out" 0644
else
  cat -- "$SCRATCH/chain.pem"
fi
info "signed $id${NODE_NAME:+ for $NODE_NAME} with $ca (profile $profile): $(openssl x509 -in "$SCRATCH/leaf.pem" -noout -enddate)${out:+ → $out}"
