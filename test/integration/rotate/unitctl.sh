#!/bin/sh
# unitctl: the tests' stand-in for systemctl on a lab node (a network namespace has no
# systemd). A "unit" is a process this script supervises: DIR/UNIT.run is its program (an
# executable that execs the daemon), DIR/UNIT.pid its pid, DIR/UNIT.log its output.
#   unitctl DIR start|stop|restart|is-active|logs UNIT
# is-active: the process is alive (and not a zombie). The daemon is started in its own
# session with every inherited descriptor but 0-2 closed, so the SSH request that started it
# (k8ops' node-side deadline waits for its pipe's EOF) ends at once.
set -eu
dir=$1 verb=$2 unit=$3
case $unit in *[!A-Za-z0-9._@-]*) echo "unitctl: bad unit name" >&2; exit 2 ;; esac
pidf="$dir/$unit.pid"
alive() {
  [ -f "$pidf" ] || return 1
  p=$(cat "$pidf")
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$p/status" 2>/dev/null || true)
  [ "$st" != Z ]
}
stop() {
  if alive; then
    p=$(cat "$pidf")
    kill "$p" 2>/dev/null || true
    # Until it is gone or a zombie (reaped by whoever inherited it: not ours to wait for).
    i=0
    while alive && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    if alive; then kill -KILL "$p" 2>/dev/null || true; fi
  fi
  rm -f "$pidf"
}
start() {
  alive && return 0
  setsid "$dir/$unit.run" </dev/null >>"$dir/$unit.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  echo $! >"$pidf"
  # A daemon that refuses to start exits at once: give it a moment to do so.
  sleep 0.3
}
case $verb in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  is-active) alive ;;
  logs) tail -n 20 "$dir/$unit.log" 2>/dev/null || true ;;
  *) echo "unitctl: unknown verb $verb" >&2; exit 2 ;;
esac
