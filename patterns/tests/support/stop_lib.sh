# Shared by the demos' stop tests (each module's tests/stop_test.sh), sourced after
# roles_lib.sh: every role, stopped by SIGTERM or SIGINT (Ctrl-C), must stop cleanly, say so
# on its last line together with what it leaves behind, and exit 0.
#
#   source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"
#   source "$(dirname "$0")/../../patterns/tests/support/stop_lib.sh"
#   start_role order "publishes on" "$demo" --role order --events "ipc://$dir/events" ...
#   stop_role order TERM "order-service +stopped: [0-9]+ orders placed"
#
# Readiness is a line the role prints (bounded wait, 30 s), never a sleep; the stop is bounded
# too (20 s): a role that does not stop is killed and the test fails.

declare -A role_pid=()

# Starts COMMAND... in the background as role NAME (its output in $dir/NAME.log) and waits
# until a line of it matches READY (a grep pattern).
start_role() {
  local name=$1 ready=$2
  shift 2
  "$@" >"$dir/$name.log" 2>&1 &
  role_pid[$name]=$!
  pids+=($!)
  wait_for "$dir/$name.log" "$ready" 1
}

# Sends SIG (TERM or INT) to role NAME, waits for it to end, and checks that it exited 0 and
# that its last line matches LAST (an extended regular expression).
stop_role() {
  local name=$1 sig=$2 last=$3
  local pid=${role_pid[$name]} log="$dir/$name.log"
  kill -"$sig" "$pid"
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
    echo "FAILED: $name did not stop within 20 s of SIG$sig; its last lines:" >&2
    tail -n 5 "$log" >&2
    exit 1
  fi
  local status=0
  wait "$pid" || status=$?
  local line
  line=$(tail -n 1 "$log")
  if [ "$status" -ne 0 ]; then
    echo "FAILED: $name exited with status $status on SIG$sig; its last lines:" >&2
    tail -n 5 "$log" >&2
    exit 1
  fi
  if ! grep -Eq -- "$last" <<<"$line"; then
    echo "FAILED: $name's last line after SIG$sig does not match '$last':" >&2
    echo "  $line" >&2
    exit 1
  fi
  echo "SIG$sig $name: exit 0, last line: ${line#"${line%%[![:space:]]*}"}"
}
