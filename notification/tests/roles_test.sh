#!/usr/bin/env bash
# Runs event notification as separate processes: the Order service, a billing consumer with a
# checkpoint file, and a customer. Billing is killed (SIGKILL) and restarted while orders keep
# coming; it must catch up from the outbox and charge every order exactly once.
#   roles_test.sh PATH/TO/notification-demo
set -euo pipefail
demo="$1"
dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

events="ipc://$dir/events"
api="ipc://$dir/api"

# Waits (bounded) until FILE has at least N lines matching PATTERN.
wait_for() {
  local file=$1 pattern=$2 n=$3
  for _ in $(seq 1 300); do
    [ "$(grep -c -- "$pattern" "$file" 2>/dev/null || true)" -ge "$n" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $n x '$pattern' in $file:" >&2
  cat "$file" >&2
  return 1
}

"$demo" --role order --events "$events" --api "$api" --run-for 60 >"$dir/order.log" 2>&1 &
pids+=($!)
wait_for "$dir/order.log" "publishes on" 1

"$demo" --role billing --events "$events" --api "$api" --listen "ipc://$dir/billing" \
  --checkpoint "$dir/billing.checkpoint" --run-for 60 >"$dir/billing-1.log" 2>&1 &
billing=$!
pids+=($billing)
wait_for "$dir/billing-1.log" "subscribed" 1

"$demo" --role customer --api "$api" --count 5 >"$dir/customer-1.log"
wait_for "$dir/billing-1.log" "charged" 5

kill -9 "$billing"                       # billing crashes
wait "$billing" 2>/dev/null || true
"$demo" --role customer --api "$api" --count 7 >"$dir/customer-2.log"   # orders 6..12

"$demo" --role billing --events "$events" --api "$api" --listen "ipc://$dir/billing" \
  --checkpoint "$dir/billing.checkpoint" --run-for 60 >"$dir/billing-2.log" 2>&1 &
pids+=($!)
wait_for "$dir/billing-2.log" "charged" 7
grep -q "caught up 7 orders from the outbox" "$dir/billing-2.log"

charged=$(cat "$dir/billing-1.log" "$dir/billing-2.log" | grep -o "for order [0-9]*" | sort | uniq -c)
echo "$charged"
[ "$(echo "$charged" | wc -l)" -eq 12 ] || { echo "expected 12 distinct orders charged" >&2; exit 1; }
if echo "$charged" | grep -qv "^ *1 "; then echo "an order was charged twice" >&2; exit 1; fi
echo "roles test: 12 orders, each charged exactly once across a billing crash"
