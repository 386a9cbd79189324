#!/usr/bin/env bash
# saga-demo's services as separate processes: Inventory, Payment and Shipping, and the
# orchestrator. Payment frozen (SIGSTOP), the orchestrator starts four checkouts and, told to
# (--die-mid-saga, a test hook), kills itself (SIGKILL) as soon as a running saga holds its
# stock; Payment thawed, a new orchestrator finds the sagas still running in its event store and
# finishes them.
#   demo_roles_test.sh PATH/TO/saga-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"

ends=(--commands "ipc://$dir/commands" --inventory "ipc://$dir/inventory"
      --payment "ipc://$dir/payment" --shipping "ipc://$dir/shipping")
for role in inventory payment shipping; do
  "$demo" --role "$role" --dir "$dir" "${ends[@]}" --run-for 60 >"$dir/$role.log" 2>&1 &
  pids+=($!)
  [ "$role" = payment ] && payment_pid=$!
  wait_for "$dir/$role.log" "takes commands from" 1
done

# The first orchestrator connects; Payment is frozen (SIGSTOP), so each saga stops at its
# charge; the orchestrator kills itself (SIGKILL) as soon as a running saga holds its stock.
"$demo" --role orchestrator --dir "$dir" "${ends[@]}" --count 4 --die-mid-saga \
  >"$dir/orchestrator-1.log" 2>&1 &
doomed=$!
pids+=($doomed)
wait_for "$dir/orchestrator-1.log" "connected to inventory, payment and shipping" 1
kill -STOP "$payment_pid"
touch "$dir/go.db"
status=0
wait "$doomed" || status=$?
[ "$status" -eq 137 ] || { echo "the first orchestrator ended with $status, not SIGKILL" >&2; exit 1; }
kill -CONT "$payment_pid"

"$demo" --role orchestrator --dir "$dir" "${ends[@]}" --first-order 5 --count 1 \
  >"$dir/orchestrator-2.log" 2>&1 || { cat "$dir/orchestrator-2.log" >&2; exit 1; }
cat "$dir/orchestrator-1.log" "$dir/orchestrator-2.log"
grep -Eq "found [1-4] saga\(s\) running" "$dir/orchestrator-2.log"
grep -q "order 4: .*rolled back" "$dir/orchestrator-2.log"   # every 4th card is declined
[ "$(grep -c ": .*completed$" "$dir/orchestrator-2.log")" -eq 4 ]   # orders 1, 2, 3 and 5
grep -q "^order-saga: 0 saga(s) still running" "$dir/orchestrator-2.log"
echo "roles test: four sagas resumed by a new orchestrator after a SIGKILL, all ended"
