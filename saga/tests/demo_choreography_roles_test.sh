#!/usr/bin/env bash
# saga-demo's choreographed checkout as separate processes: the Order desk, Inventory, Payment
# and Shipping, each publishing its own events and hearing the other three (no orchestrator).
# First four orders end as they should (every 4th card is declined). Then Shipping is restarted
# with a carrier that hangs past the desk's deadline: the desk times the order out, every
# service undoes its step, the booking that comes late is cancelled, and the order is REJECTED.
#   demo_choreography_roles_test.sh PATH/TO/saga-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"

ends=(--style choreography --desk "ipc://$dir/desk" --inventory "ipc://$dir/inventory"
      --payment "ipc://$dir/payment" --shipping "ipc://$dir/shipping")
start_participant() {  # ROLE LOG [extra options...]
  local role=$1 log=$2
  shift 2
  "$demo" --role "$role" --dir "$dir" "${ends[@]}" --run-for 60 "$@" >"$log" 2>&1 &
  pids+=($!)
  last_pid=$!
}
for role in inventory payment shipping; do
  start_participant "$role" "$dir/$role.log"
  [ "$role" = shipping ] && shipping_pid=$last_pid
done
# The desk places nothing before all three have subscribed to it, and each subscribes to it only
# once it hears the other two (PUB/SUB drops what is published before a subscription is complete).

"$demo" --role desk --dir "$dir" "${ends[@]}" --count 4 >"$dir/desk-1.log" 2>&1 ||
  { cat "$dir"/*.log >&2; exit 1; }
cat "$dir/desk-1.log"
grep -q "order 4: REJECTED" "$dir/desk-1.log"
[ "$(grep -c ": APPROVED$" "$dir/desk-1.log")" -eq 3 ]
grep -q "^order-desk: 0 order(s) still PENDING" "$dir/desk-1.log"

# Shipping again, with a carrier that takes 2 s per booking; the desk's deadline is 500 ms.
kill "$shipping_pid"
wait "$shipping_pid" || true
start_participant shipping "$dir/shipping-2.log" --carrier-delay-ms 2000
wait_for "$dir/shipping-2.log" "publishes at" 1
"$demo" --role desk --dir "$dir" "${ends[@]}" --first-order 5 --count 1 --order-timeout-ms 500 \
  >"$dir/desk-2.log" 2>&1 || { cat "$dir"/*.log >&2; exit 1; }
cat "$dir/desk-2.log"
grep -q "past their deadline: OrderTimedOut announced" "$dir/desk-2.log"
grep -q "order 5: REJECTED (timed out; every service undid its step)" "$dir/desk-2.log"
grep -q "^order-desk: 0 order(s) still PENDING" "$dir/desk-2.log"
# Shipping booked late, then cancelled on the timeout (the desk announced it again at each
# deadline while Shipping hung, and each announcement was undone again, a no-op after the first):
# nothing stays booked, which the desk's REJECTED already required.
wait_for "$dir/shipping-2.log" "reacted to [2-9] event(s)" 1
echo "choreography roles test: four orders settled by four processes; a hung carrier timed out and undone"
