#!/usr/bin/env bash
# issue-intermediate.sh: create an intermediate CA of the layout (key + CSR) and sign it
# with its parent (the root). Run where the root key is (offline), or copy the CSR there.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG --root-dir DIR --ca ID [--config FILE] [--layout FILE] OUTDIR
       $PROG --root-dir DIR --ca ID --csr FILE [--out FILE] [--config FILE] [--layout FILE]

Create intermediate CA ID (ECDSA P-521 key and CSR), sign it with its parent CA from
the layout (DIR/<parent>.pem and DIR/<parent>-key.pem) using the CA's cfssl profile
(CA:TRUE, pathlen 0), and write into OUTDIR (created 0700):
  OUTDIR/<ID>.pem       certificate (0644)
  OUTDIR/<ID>-key.pem   private key (0600)
  OUTDIR/<ID>.csr       CSR (0644)
  OUTDIR/<parent>.pem   copy of the parent certificate (public; used by sign.sh checks)
Refuses to overwrite an existing certificate or key of ID, and refuses an intermediate
that would outlive its parent.

With --csr (the rotation ceremony: the successor's key stays on the signer, only its CSR
comes here): sign FILE (from ca-rotate.sh stage) instead of making a key, after checking
that it is self-signed, ECDSA P-521 and asks for exactly the layout's subject of ID. The
certificate goes to --out (0644, atomic) or stdout; take it back to the signer
(ca-rotate.sh accept, or k8ops rotate --ca ID --successor FILE).

Options:
  --root-dir DIR  directory holding the parent (root) certificate and key
  --ca ID         intermediate CA id from the layout (kubernetes-ca, etcd-ca, front-proxy-ca)
  --csr FILE      sign this CSR (the successor's, from the signer) instead of making a key
  --out FILE      with --csr: where the certificate goes (default stdout)
  --config FILE   cfssl signing config (default: cfssl-config.json next to this script)
  --layout FILE   layout (default: layout.json next to this script)
  -h, --help      this help
EOF
}

layout=$DEFAULT_LAYOUT
config=$DEFAULT_CFSSL_CONFIG
root_dir=""
ca=""
outdir=""
csr_in=""
out=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --config) need_value "$1" "$#"; config=$(check_path "$1" "$2"); shift 2 ;;
    --root-dir) need_value "$1" "$#"; root_dir=$(check_path "$1" "$2"); shift 2 ;;
    --ca) need_value "$1" "$#"; check_id "$2"; ca=$2; shift 2 ;;
    --csr) need_value "$1" "$#"; csr_in=$(check_path "$1" "$2"); shift 2 ;;
    --out) need_value "$1" "$#"; out=$(check_path "$1" "$2"); shift 2 ;;
    --) shift; break ;;
    -*) usage_error "unknown option $1" ;;
    *) [[ -z $outdir ]] || usage_error "only one OUTDIR expected"; outdir=$(check_path OUTDIR "$1"); shift ;;
  esac
done
if [[ $# -gt 0 ]]; then
  [[ -z $outdir && $# -eq 1 ]] || usage_error "only one OUTDIR expected"
  outdir=$(check_path OUTDIR "$1")
fi
if [[ -n $csr_in ]]; then
  [[ -z $outdir ]] || usage_error "--csr writes one certificate (--out), not an OUTDIR"
else
  [[ -n $outdir ]] || usage_error "OUTDIR is required"
  [[ -z $out ]] || usage_error "--out goes with --csr"
fi
[[ -n $root_dir ]] || usage_error "--root-dir is required"
[[ -n $ca ]] || usage_error "--ca is required"

need_tools cfssl jq openssl
load_layout "$layout"
[[ -f $config ]] || die "cfssl config not found: $config"

# shellcheck disable=SC2016 # a jq program: its $names are jq variables
IFS=$US read -r cn o parent profile < <(lq '[.cas[] | select(.id == $id)] | .[0] // empty
  | [.cn, (.o | join(",")), (.parent // ""), .profile] | join("\u001f")' --arg id "$ca") ||
  die "CA '$ca' is not in the layout"
[[ -n $parent ]] || die "CA '$ca' is the root: create it with init-root.sh"
jq -e --arg p "$profile" '.signing.profiles[$p].ca_constraint.is_ca == true' "$config" >/dev/null ||
  die "profile '$profile' is missing from $config or is not a CA profile (cfssl would silently use its default profile)"

pcert="$root_dir/$parent.pem"
pkey="$root_dir/$parent-key.pem"
[[ -f $pcert && -f $pkey ]] || die "parent CA files not found: $pcert and $pkey"
openssl x509 -in "$pcert" -noout -checkend 0 >/dev/null 2>&1 || die "parent CA $pcert is expired or unreadable"

# --- The ceremony: sign the successor's CSR from the signer (no key is made here).
if [[ -n $csr_in ]]; then
  [[ -f $csr_in ]] || die "CSR not found: $csr_in"
  make_scratch
  openssl req -in "$csr_in" -noout -verify >/dev/null 2>&1 || die "$csr_in is not a CSR or its self-signature does not verify"
  text=$(openssl req -in "$csr_in" -noout -text 2>/dev/null) || die "cannot read $csr_in"
  [[ $text == *"ASN1 OID: $EC_CURVE_521"* ]] || die "$csr_in: the key is not ECDSA P-521: refusing"
  orgs=()
  split_csv "$o" orgs
  want=$(subject_rfc2253 "$cn" "${orgs[@]}")
  got=$(openssl req -in "$csr_in" -noout -subject -nameopt RFC2253 2>/dev/null) || die "cannot read the subject of $csr_in"
  got=${got#subject=}
  [[ $got == "$want" ]] || die "$csr_in: subject '$got' is not intermediate $ca's ('$want'): refusing"
  cfssl sign -ca "$pcert" -ca-key "$pkey" -config "$config" -profile "$profile" "$csr_in" \
    >"$SCRATCH/sign.json" 2>"$SCRATCH/cfssl.log" || die "cfssl sign failed: $(tail -n 3 "$SCRATCH/cfssl.log")"
  jq -r .cert "$SCRATCH/sign.json" >"$SCRATCH/int.pem"
  openssl x509 -in "$SCRATCH/int.pem" -noout 2>/dev/null || die "cfssl returned no certificate"
  [[ $(spki_sha256_of_cert "$SCRATCH/int.pem") == "$(openssl req -in "$csr_in" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)" ]] ||
    die "the signed certificate does not carry the CSR's key"
  openssl verify -no-CApath -no-CAstore -CAfile "$pcert" "$SCRATCH/int.pem" >/dev/null 2>&1 || die "the signed intermediate does not verify against $pcert"
  bc=$(openssl x509 -in "$SCRATCH/int.pem" -noout -ext basicConstraints 2>/dev/null)
  [[ $bc == *"CA:TRUE, pathlen:0"* ]] || die "the signed intermediate is not CA:TRUE pathlen:0 (profile $profile)"
  [[ $(enddate_epoch "$SCRATCH/int.pem") -le $(enddate_epoch "$pcert") ]] ||
    die "intermediate $ca would outlive its parent $parent: refusing"
  if [[ -n $out ]]; then
    write_file "$SCRATCH/int.pem" "$out" 0644
  else
    cat -- "$SCRATCH/int.pem"
  fi
  info "signed the successor of $ca with $parent: $(openssl x509 -in "$SCRATCH/int.pem" -noout -enddate)${out:+ → $out}"
  exit 0
fi

cert="$outdir/$ca.pem"
key="$outdir/$ca-key.pem"
csr="$outdir/$ca.csr"
for f in "$cert" "$key"; do
  [[ -e $f ]] && die "$f already exists: refusing to overwrite intermediate $ca (issue a successor into another directory)"
done
make_dir 0700 "$outdir"

make_scratch
orgs=()
split_csv "$o" orgs
jq -n --arg cn "$cn" --argjson o "$(json_array "${orgs[@]}")" \
  '{CN: $cn, names: [$o[] | {O: .}], key: {algo: "ecdsa", size: 521}}
   | if ($o | length) == 0 then del(.names) else . end' >"$SCRATCH/csr.json"
cfssl genkey "$SCRATCH/csr.json" >"$SCRATCH/genkey.json" 2>"$SCRATCH/cfssl.log" ||
  die "cfssl genkey failed: $(tail -n 3 "$SCRATCH/cfssl.log")"
tkey=$(tmp_beside "$key")
jq -r .key "$SCRATCH/genkey.json" >"$tkey"
jq -r .csr "$SCRATCH/genkey.json" >"$SCRATCH/int.csr"
rm -f -- "$SCRATCH/genkey.json"
[[ $(key_curve "$tkey") == "$EC_CURVE_521" ]] || die "cfssl did not produce a P-521 key"

cfssl sign -ca "$pcert" -ca-key "$pkey" -config "$config" -profile "$profile" "$SCRATCH/int.csr" \
  >"$SCRATCH/sign.json" 2>"$SCRATCH/cfssl.log" || die "cfssl sign failed: $(tail -n 3 "$SCRATCH/cfssl.log")"
jq -r .cert "$SCRATCH/sign.json" >"$SCRATCH/int.pem"

# Check what cfssl produced before anything is written.
[[ $(spki_sha256_of_key "$tkey") == "$(spki_sha256_of_cert "$SCRATCH/int.pem")" ]] ||
  die "the signed certificate does not match the new key"
openssl verify -no-CApath -no-CAstore -CAfile "$pcert" "$SCRATCH/int.pem" >/dev/null 2>&1 || die "the signed intermediate does not verify against $pcert"
bc=$(openssl x509 -in "$SCRATCH/int.pem" -noout -ext basicConstraints 2>/dev/null)
[[ $bc == *"CA:TRUE, pathlen:0"* ]] || die "the signed intermediate is not CA:TRUE pathlen:0 (profile $profile)"
[[ $(enddate_epoch "$SCRATCH/int.pem") -le $(enddate_epoch "$pcert") ]] ||
  die "intermediate $ca would outlive its parent $parent: refusing"

chmod 0600 "$tkey"
commit "$tkey" "$key"
write_file "$SCRATCH/int.csr" "$csr" 0644
write_file "$SCRATCH/int.pem" "$cert" 0644
if [[ ! -e $outdir/$parent.pem ]]; then
  write_file "$pcert" "$outdir/$parent.pem" 0644
fi
info "intermediate $ca: $cert ($(openssl x509 -in "$cert" -noout -enddate)); key $key"
