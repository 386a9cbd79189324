#!/usr/bin/env bash
# The all-in-one run's projector is a child process (cqrs-demo --role projector) that never
# outlives the demo: after a normal run both projector processes (the first, SIGKILLed in the
# story, and the restarted one) are gone; and when the demo itself is killed with SIGKILL, so
# that nothing of it runs to clean up, its projector ends too (the parent-death signal).
#   projector_child_test.sh PATH/TO/cqrs-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"

# Whether process PID still runs (a zombie waiting to be reaped has ended).
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ "$state" != Z* ]]
}
# Waits (bounded: 10 s) until process PID has ended; fails, killing it, if it has not.
expect_ended() {
  for _ in $(seq 1 100); do
    running "$1" || return 0
    sleep 0.1
  done
  echo "FAILED: the projector process $1 outlived the demo ($2)" >&2
  kill -9 "$1" 2>/dev/null || true
  exit 1
}
projector_pids() {
  grep -o "(pid [0-9]*" "$1" | grep -o "[0-9]*$"
}

# 1. A normal run: the story kills and restarts its projector; both are reaped by the end.
"$demo" --count 3 >"$dir/normal.log" 2>&1
[ "$(projector_pids "$dir/normal.log" | wc -l)" -eq 2 ] || { cat "$dir/normal.log" >&2; exit 1; }
for pid in $(projector_pids "$dir/normal.log"); do expect_ended "$pid" "normal run"; done

# 2. The demo killed with SIGKILL while its projector runs.
"$demo" --count 10000 >"$dir/killed.log" 2>&1 &
demo_pid=$!
pids+=("$demo_pid")
wait_for "$dir/killed.log" "stored at position" 1
projector=$(projector_pids "$dir/killed.log" | head -1)
running "$projector" || { echo "FAILED: no projector process $projector while the demo runs" >&2; exit 1; }
kill -9 "$demo_pid"
wait "$demo_pid" 2>/dev/null || true
expect_ended "$projector" "the demo was killed with SIGKILL"
echo "projector child test: the projector ended with the demo, also when the demo was SIGKILLed"
