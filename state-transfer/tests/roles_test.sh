#!/usr/bin/env bash
# Runs event-carried state transfer as separate processes. Shipping starts first and waits;
# the Customer service starts and Shipping synchronises; the Customer service is killed
# (SIGKILL) and Shipping keeps shipping from its replica, saying how stale it is; a new Customer
# service starts and Shipping re-synchronises with it by itself.
#   roles_test.sh PATH/TO/state-transfer-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"

updates="ipc://$dir/updates"
snapshots="ipc://$dir/snapshots"

"$demo" --role shipping --updates "$updates" --snapshots "$snapshots" --run-for 60 \
  >"$dir/shipping.log" 2>&1 &
pids+=($!)
wait_for "$dir/shipping.log" "waiting for the Customer service" 1

"$demo" --role customer --updates "$updates" --snapshots "$snapshots" --customers 5000 \
  --rate 200 --run-for 60 >"$dir/customer-1.log" 2>&1 &
customer=$!
pids+=($customer)
wait_for "$dir/shipping.log" "synchronised (first synchronisation)" 1
wait_for "$dir/shipping.log" ", live$" 3

kill -9 "$customer"                       # the Customer service crashes
wait "$customer" 2>/dev/null || true
wait_for "$dir/shipping.log" "no word from the source" 1
wait_for "$dir/shipping.log" ", source silent$" 3   # still shipping, from the replica

"$demo" --role customer --updates "$updates" --snapshots "$snapshots" --customers 3000 \
  --rate 200 --run-for 60 >"$dir/customer-2.log" 2>&1 &
pids+=($!)
wait_for "$dir/shipping.log" "synchronised (the source" 1
wait_for "$dir/shipping.log" ", live$" 6

cat "$dir/shipping.log"
echo "roles test: shipping waited, synchronised, shipped through a crash, re-synchronised"
