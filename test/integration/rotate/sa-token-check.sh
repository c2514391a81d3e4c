#!/bin/sh
# sa-token-check: the health gate of the test's API-server stand-in: a JWT-shaped payload
# signed (ES512: ECDSA P-521 over SHA-512) with the signing key the RUNNING stand-in loaded
# must verify against one of the public keys it loaded (its --service-account-key-file).
# BASE/<node address>/ is the node's unit directory (unitctl-node.sh), where the stand-in
# copied both at its start; the node is the address the SSH session came in on.
set -eu
base=$1
addr=$(printf '%s\n' "${SSH_CONNECTION:-}" | cut -d' ' -f3)
case $addr in '' | *[!0-9.]*) echo "sa-token-check: no SSH_CONNECTION" >&2; exit 2 ;; esac
u="$base/$addr"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
printf '%s' 'eyJhbGciOiJFUzUxMiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpnYXRlIn0' >"$t/data"
openssl dgst -sha512 -sign "$u/apiserver.key.loaded" -out "$t/sig" "$t/data"
awk -v dir="$t" '/-----BEGIN PUBLIC KEY-----/ { n++; f = dir "/pub." n ".pem" } f { print > f } /-----END PUBLIC KEY-----/ { f = "" }' "$u/apiserver.pub.loaded"
for p in "$t"/pub.*.pem; do
  [ -f "$p" ] || continue
  if openssl dgst -sha512 -verify "$p" -signature "$t/sig" "$t/data" >/dev/null 2>&1; then exit 0; fi
done
echo "sa-token-check: a token signed with the loaded key verifies against none of the loaded public keys" >&2
exit 1
