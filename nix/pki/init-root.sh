#!/usr/bin/env bash
# init-root.sh: create the offline root CA (key + self-signed certificate) from the layout.
# Run on the offline machine; refuses to overwrite an existing root.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG [--layout FILE] OUTDIR

Create the root CA of the layout (the CA whose parent is null: ECDSA P-521, self-signed,
lifetime and pathlen from the layout) in OUTDIR (created 0700):
  OUTDIR/<root>.pem       certificate (0644)
  OUTDIR/<root>-key.pem   private key (0600): keep it offline
  OUTDIR/<root>.csr       its CSR (0644)
Refuses to overwrite an existing root certificate or key.

Options:
  --layout FILE   layout (default: layout.json next to this script)
  -h, --help      this help
EOF
}

layout=$DEFAULT_LAYOUT
outdir=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
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

need_tools cfssl jq openssl
load_layout "$layout"

IFS=$US read -r root cn o lifetime pathlen < <(lq '[.cas[] | select(.parent == null)] |
  if length != 1 then error("the layout must have exactly one root CA (parent null)") else .[0] end
  | [.id, .cn, (.o | join(",")), .lifetime, (.pathlen | tostring)] | join("\u001f")') ||
  die "cannot read the root CA from the layout"
duration_seconds "$lifetime" >/dev/null || die "root lifetime '$lifetime' is not a duration like 350640h"
[[ $pathlen =~ ^[0-9]+$ ]] || die "root pathlen '$pathlen' is not a number"

cert="$outdir/$root.pem"
key="$outdir/$root-key.pem"
csr="$outdir/$root.csr"
for f in "$cert" "$key"; do
  [[ -e $f ]] && die "$f already exists: refusing to overwrite the root CA"
done
make_dir 0700 "$outdir"

make_scratch
orgs=()
split_csv "$o" orgs
jq -n --arg cn "$cn" --arg exp "$lifetime" --argjson pathlen "$pathlen" \
  --argjson o "$(json_array "${orgs[@]}")" \
  '{CN: $cn, names: [$o[] | {O: .}], key: {algo: "ecdsa", size: 521},
    ca: {expiry: $exp, pathlen: $pathlen}} | if ($o | length) == 0 then del(.names) else . end' \
  >"$SCRATCH/root-csr.json"
cfssl gencert -initca "$SCRATCH/root-csr.json" >"$SCRATCH/root.json" 2>"$SCRATCH/cfssl.log" ||
  die "cfssl gencert -initca failed: $(tail -n 3 "$SCRATCH/cfssl.log")"

# The key goes straight from cfssl's JSON into a 0600 temp file beside its final name.
tkey=$(tmp_beside "$key")
jq -r .key "$SCRATCH/root.json" >"$tkey"
jq -r .cert "$SCRATCH/root.json" >"$SCRATCH/root.pem"
jq -r .csr "$SCRATCH/root.json" >"$SCRATCH/root.csr"
rm -f -- "$SCRATCH/root.json"

[[ $(key_curve "$tkey") == "$EC_CURVE_521" ]] || die "cfssl did not produce a P-521 key"
[[ $(spki_sha256_of_key "$tkey") == "$(spki_sha256_of_cert "$SCRATCH/root.pem")" ]] ||
  die "the root certificate does not match its key"
chmod 0600 "$tkey"
# Key first: a root certificate on disk means the pair is complete.
commit "$tkey" "$key"
write_file "$SCRATCH/root.csr" "$csr" 0644
write_file "$SCRATCH/root.pem" "$cert" 0644
info "root CA $root: $cert ($(openssl x509 -in "$cert" -noout -enddate)); key $key: keep it offline"
