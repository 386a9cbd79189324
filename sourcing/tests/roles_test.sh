#!/usr/bin/env bash
# Runs event sourcing as separate processes: a reader starts first and waits for the store; the
# store service starts; two writers change orders through it at the same time; the reader shows
# every event once, in position order. The store is killed (SIGKILL) and restarted on the same
# file: nothing acknowledged is lost, the reader waits and goes on, a third writer is served.
#   roles_test.sh [--curve-keys DIR] PATH/TO/sourcing-demo
# With --curve-keys (patterns/tests/support/curve_demo.sh passes it), every process runs every
# socket on CURVE + ZAP with the keys of DIR.
set -euo pipefail
security=()
if [ "${1:-}" = "--curve-keys" ]; then
  security=(--curve-keys "$2")
  shift 2
fi
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"

listen="ipc://$dir/store"
notify="ipc://$dir/appended"
db="$dir/orders.db"
store() { exec "$demo" "${security[@]}" --role store --db "$db" --listen "$listen" --notify "$notify" --run-for 60; }

# 2 writers x 3 orders: 14 events each (every third order pays wrong: 4 events, not 5);
# then orders 200 and 201: 9 more, 37 in all.
"$demo" "${security[@]}" --role reader --store "$listen" --notify "$notify" --run-for 60 --until-position 37 \
  >"$dir/reader.log" 2>&1 &
reader=$!
pids+=($reader)
wait_for "$dir/reader.log" "does not answer" 1

store >"$dir/store-1.log" 2>&1 &
first_store=$!
pids+=($first_store)
wait_for "$dir/store-1.log" "serving on" 1

"$demo" "${security[@]}" --role writer --store "$listen" --count 3 --first-order 1 >"$dir/writer-1.log" 2>&1 &
w1=$!
"$demo" "${security[@]}" --role writer --store "$listen" --count 3 --first-order 100 >"$dir/writer-2.log" 2>&1 &
w2=$!
wait "$w1"
wait "$w2"
wait_for "$dir/reader.log" "^ *[0-9.]* ms  reader  *#" 28

kill -9 "$first_store"                     # the store crashes
wait "$first_store" 2>/dev/null || true
store >"$dir/store-2.log" 2>&1 &
second_store=$!
pids+=($second_store)
wait_for "$dir/store-2.log" "28 events in it" 1   # everything acknowledged survived

"$demo" "${security[@]}" --role writer --store "$listen" --count 2 --first-order 200 >"$dir/writer-3.log" 2>&1
wait "$reader"                             # exits by itself at position 37
kill -TERM "$second_store"
wait "$second_store" || { echo "the store did not stop cleanly on SIGTERM:" >&2; cat "$dir/store-2.log" >&2; exit 1; }

# Every position 1..37 shown exactly once, in order.
grep -o ' #[0-9]* ' "$dir/reader.log" | tr -d ' #' >"$dir/positions"
if ! diff -q <(seq 1 37) "$dir/positions" >/dev/null; then
  echo "the reader did not show positions 1..37 exactly once, in order:" >&2
  cat "$dir/reader.log" >&2
  exit 1
fi
grep -q "stopped: the store keeps 37 events, every acknowledged append, in" "$dir/store-2.log"
cat "$dir/reader.log"
echo "roles test: two writers served together, the store restarted with nothing lost, the"
echo "reader saw positions 1..37 once each"
