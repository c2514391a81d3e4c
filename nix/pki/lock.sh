#!/usr/bin/env bash
# lock.sh: ON THE NODE, the rotation lock of this node, shared by the console, `k8ops rotate
# --due` and the node timer's hook, so that one node is never rotated twice at once.
# The lock is a directory (<pki-dir>/.rotate.lock) made with one mkdir(2): atomic, on the
# node itself, whoever asks. Its `holder` file says who holds it (owner, host, pid, time,
# token). A lock is never taken over because it looks old: `break` is an explicit command.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
Usage: $PROG acquire --owner WHO --host HOST --pid PID [--resume-pid OLD] [--pki-dir DIR]
       $PROG note --token TOKEN --id ID [--pki-dir DIR]
       $PROG release --token TOKEN [--pki-dir DIR] [--layout FILE]
       $PROG show [--pki-dir DIR] [--layout FILE]
       $PROG break [--pki-dir DIR] [--layout FILE]

acquire  take the lock: prints {"token": "…"} (pass it to release); when another holds
         it, exits 3 and prints the holder as JSON {"held": true, "owner", "host", "pid",
         "since", "ageSeconds"} (since/owner empty when the holder died while taking it)
         With --resume-pid OLD: a lock held by WHO on HOST with pid OLD (a run of the same
         owner on the same host that died, which only that host can tell) is taken over:
         prints {"token", "resumed": true, "installed": [ids it had installed]}
note     record that certificate ID was installed under this lock (what a resumed run skips)
release  give the lock back; only with the token acquire printed (exit 3 otherwise)
show     print the holder as JSON, or {"held": false}
break    remove the lock whoever holds it (the operator's explicit decision)

WHO and HOST: letters, digits and . _ @ : - (at most 64); PID: a number.
Exit: 0 done, 2 usage, 3 held by another (acquire) or not ours (release), 1 other errors.
EOF
}

[[ $# -gt 0 ]] || usage_error "what to do? (acquire, release, show, break)"
verb=$1
shift
case $verb in
  acquire | note | release | show | break) ;;
  -h | --help) usage; exit 0 ;;
  *) usage_error "unknown action '$verb'" ;;
esac

layout=$DEFAULT_LAYOUT
pki_dir=""
owner=""
host=""
pid=""
token=""
resume_pid=""
note_id=""
WHO_RE='^[A-Za-z0-9._@:-]{1,64}$'
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --layout) need_value "$1" "$#"; layout=$(check_path "$1" "$2"); shift 2 ;;
    --pki-dir) need_value "$1" "$#"; pki_dir=$(check_path "$1" "$2"); shift 2 ;;
    --owner) need_value "$1" "$#"; [[ $2 =~ $WHO_RE ]] || usage_error "invalid owner '$2'"; owner=$2; shift 2 ;;
    --host) need_value "$1" "$#"; [[ $2 =~ $WHO_RE ]] || usage_error "invalid host '$2'"; host=$2; shift 2 ;;
    --pid) need_value "$1" "$#"; [[ $2 =~ ^[0-9]{1,10}$ ]] || usage_error "invalid pid '$2'"; pid=$2; shift 2 ;;
    --resume-pid) need_value "$1" "$#"; [[ $2 =~ ^[0-9]{1,10}$ ]] || usage_error "invalid pid '$2'"; resume_pid=$2; shift 2 ;;
    --id) need_value "$1" "$#"; check_id "$2"; note_id=$2; shift 2 ;;
    --token) need_value "$1" "$#"; [[ $2 =~ ^[0-9a-f]{32}$ ]] || usage_error "invalid token"; token=$2; shift 2 ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done
if [[ $verb == acquire ]]; then
  [[ -n $owner && -n $host && -n $pid ]] || usage_error "acquire needs --owner, --host and --pid"
fi
if [[ $verb == release || $verb == note ]]; then
  [[ -n $token ]] || usage_error "$verb needs --token"
fi
if [[ $verb == note ]]; then
  [[ -n $note_id ]] || usage_error "note needs --id"
fi

need_tools jq
if [[ -z $pki_dir ]]; then
  load_layout "$layout"
  pki_dir=$LAYOUT_PKI_DIR
fi
lock="$pki_dir/.rotate.lock"

# installed_json: the ids noted under the lock, as a JSON array.
installed_json() {
  if [[ -f $lock/installed ]]; then
    jq -Rsc 'split("\n") | map(select(test("^[a-z0-9][a-z0-9-]{0,63}$"))) | unique' <"$lock/installed"
  else
    printf '[]\n'
  fi
}
# holder_token: the token of the holder (empty when none was written).
holder_token() {
  local t=""
  if [[ -f $lock/holder ]]; then
    IFS=$'\t' read -r _ _ _ _ t <"$lock/holder" || true
  fi
  printf '%s\n' "$t"
}
# write_holder: a new holder record with a new token (one rename); prints the token.
write_holder() {
  local t tok
  tok=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  t="$lock/.holder.$$"
  printf '%s\t%s\t%s\t%s\t%s\n' "$owner" "$host" "$pid" "$(date -u +%s)" "$tok" >"$t"
  mv -f -T -- "$t" "$lock/holder"
  printf '%s\n' "$tok"
}
# holder_json: the lock's holder as JSON (fields empty when it died before writing them).
holder_json() {
  local o="" h="" p="" since="" now age mt
  if [[ -f $lock/holder ]]; then
    IFS=$'\t' read -r o h p since _ <"$lock/holder" || true
  fi
  now=$(date -u +%s)
  if [[ ! $since =~ ^[0-9]{1,12}$ ]]; then
    mt=$(stat -c %Y -- "$lock" 2>/dev/null || printf '%s' "$now")
    since=$mt
  fi
  age=$((now - since))
  jq -cn --arg o "$o" --arg h "$h" --arg p "$p" --argjson since "$since" --argjson age "$age" \
    --argjson installed "$(installed_json)" \
    '{held: true, owner: $o, host: $h, pid: ($p | tonumber? // null), since: $since, ageSeconds: $age,
      installed: $installed}'
}

case $verb in
  acquire)
    make_dir 0755 "$pki_dir"
    if ! mkdir -m 0700 -- "$lock" 2>/dev/null; then
      [[ -d $lock ]] || die "cannot create $lock"
      o="" h="" p=""
      if [[ -f $lock/holder ]]; then
        IFS=$'\t' read -r o h p _ <"$lock/holder" || true
      fi
      if [[ -n $resume_pid && $o == "$owner" && $h == "$host" && $p == "$resume_pid" ]]; then
        token=$(write_holder)
        jq -cn --arg t "$token" --argjson installed "$(installed_json)" \
          '{token: $t, resumed: true, installed: $installed}'
        exit 0
      fi
      holder_json
      exit 3
    fi
    token=$(write_holder)
    jq -cn --arg t "$token" '{token: $t, resumed: false, installed: []}'
    ;;
  note)
    [[ -d $lock && $(holder_token) == "$token" ]] || { holder_json 2>/dev/null || printf '{"held":false}\n'; exit 3; }
    printf '%s\n' "$note_id" >>"$lock/installed"
    printf '{"noted":"%s"}\n' "$note_id"
    ;;
  release)
    if [[ ! -d $lock ]]; then
      printf '{"released":false,"held":false}\n'
      exit 0
    fi
    if [[ $(holder_token) != "$token" ]]; then
      holder_json
      exit 3
    fi
    rm -rf -- "$lock"
    printf '{"released":true}\n'
    ;;
  show)
    if [[ -d $lock ]]; then holder_json; else printf '{"held":false}\n'; fi
    ;;
  break)
    if [[ -d $lock ]]; then
      h=$(holder_json)
      rm -rf -- "$lock"
      info "broke the lock held by $h"
      printf '{"broken":true,"was":%s}\n' "$h"
    else
      printf '{"broken":false,"held":false}\n'
    fi
    ;;
esac
