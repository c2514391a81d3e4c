#!/bin/sh
# unitctl-node: unitctl.sh (beside this file) with one unit directory per lab node,
# BASE/<the node's address>, for tests whose lab nodes share a file system and unit names
# (two control-plane nodes each with its kube-apiserver.service). The node is the address
# the SSH session came in on: the third field of SSH_CONNECTION.
#   unitctl-node BASE start|stop|restart|is-active|logs UNIT
set -eu
base=$1 verb=$2 unit=$3
addr=$(printf '%s\n' "${SSH_CONNECTION:-}" | cut -d' ' -f3)
case $addr in '' | *[!0-9.]*) echo "unitctl-node: no SSH_CONNECTION (run it over ssh)" >&2; exit 2 ;; esac
mkdir -p "$base/$addr"
exec "$(dirname "$0")/unitctl.sh" "$base/$addr" "$verb" "$unit"
