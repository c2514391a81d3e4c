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

Create intermediate CA ID (ECDSA P-521 key and CSR), sign it with its parent CA from
the layout (DIR/<parent>.pem and DIR/<parent>-key.pem) using the CA's cfssl profile
(CA:TRUE, pathlen 0), and write into OUTDIR (created 0700):
  OUTDIR/<ID>.pem       certificate (0644)
  OUTDIR/<ID>-key.pem   private key (0600)
  OUTDIR/<ID>.csr       CSR (0644)
  OUTDIR/<parent>.pem   copy of the parent certificate (public; used by sign.sh checks)
Refuses to overwrite an existing certificate or key of ID, and refuses an intermediate
that would outlive its parent.

Options:
  --root-dir DIR  directory holding the parent (root) certificate and key
  --ca ID         intermediate CA id from the layout (kubernetes-ca, etcd-ca, front-proxy-ca)
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
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --config) need_value "$1" "$#"; config=$(check_path "$1" "$2"); shift 2 ;;
    --root-dir) need_value "$1" "$#"; root_dir=$(check_path "$1" "$2"); shift 2 ;;
    --ca) need_value "$1" "$#"; check_id "$2"; ca=$2; shift 2 ;;
    --) shift; break ;;
    -*) usage_error "unknown option $1" ;;
    *) [[ -z $outdir ]] || usage_error "only one OUTDIR expected"; outdir=$(check_path OUTDIR "$1"); shift ;;
  esac
done
if [[ $# -gt 0 ]]; then
  [[ -z $outdir && $# -eq 1 ]] || usage_error "only one OUTDIR expected"
  outdir=$(check_path OUTDIR "$1")
fi
[[ -n $outdir ]] || usage_error "OUTDIR is required"
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
