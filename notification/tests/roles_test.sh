#!/usr/bin/env bash
# Runs event notification as separate processes: the Order service, a billing consumer with a
# checkpoint file, and a customer. Billing is killed (SIGKILL) and restarted while orders keep
# coming; it must catch up from the replay buffer and charge every order exactly once.
#   roles_test.sh PATH/TO/notification-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"

events="ipc://$dir/events"
api="ipc://$dir/api"

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
grep -q "caught up 7 orders from the replay buffer" "$dir/billing-2.log"

charged=$(cat "$dir/billing-1.log" "$dir/billing-2.log" | grep -o "for order [0-9]*" | sort | uniq -c)
echo "$charged"
[ "$(echo "$charged" | wc -l)" -eq 12 ] || { echo "expected 12 distinct orders charged" >&2; exit 1; }
if echo "$charged" | grep -qv "^ *1 "; then echo "an order was charged twice" >&2; exit 1; fi
echo "roles test: 12 orders, each charged exactly once across a billing crash"
