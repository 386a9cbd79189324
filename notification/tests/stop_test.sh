#!/usr/bin/env bash
# Every role of the notification demo stops cleanly on SIGTERM or SIGINT (Ctrl-C): it exits 0
# and its last line says that it stopped and what it leaves behind. Each role is started with
# the partners it needs, waited for until it says it is ready, then sent the signal.
#   stop_test.sh PATH/TO/notification-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"
source "$(dirname "$0")/../../patterns/tests/support/stop_lib.sh"

events="ipc://$dir/events"
api="ipc://$dir/api"

# All in one, stopped while the customer is still placing orders.
start_role all "customer *order 1 placed" "$demo" --count 100000
stop_role all INT "demo +stopped: [0-9]+ of 100000 orders placed; nothing kept"
start_role baseline "customer *order 1 placed" "$demo" --baseline --count 100000
stop_role baseline TERM "demo +stopped: [0-9]+ of 100000 orders placed, 0 failed; nothing kept"

# One role per process: the Order service, then each consumer and the customer against it.
start_role order "publishes on" "$demo" --role order --events "$events" --api "$api"
start_role billing "subscribed" "$demo" --role billing --events "$events" --api "$api" \
  --listen "ipc://$dir/billing" --checkpoint "$dir/billing.ckpt"
"$demo" --role customer --api "$api" --count 3 >"$dir/customer-3.log"
wait_for "$dir/billing.log" "charged" 3
stop_role billing TERM "billing +stopped: 3 orders handled; billing's checkpoint at sequence 3 in $dir/billing.ckpt$"
[ "$(cat "$dir/billing.ckpt")" = 3 ] || { echo "FAILED: billing.ckpt holds $(cat "$dir/billing.ckpt"), not 3" >&2; exit 1; }
start_role inventory "subscribed" "$demo" --role inventory --events "$events" --api "$api" \
  --listen "ipc://$dir/inventory"
wait_for "$dir/inventory.log" "reserved" 3   # the three orders, caught up from the replay buffer
stop_role inventory INT "inventory +stopped: 3 orders handled; its checkpoint \(#3\) lived in memory"
start_role shipping "subscribed" "$demo" --role shipping --events "$events" --api "$api" \
  --listen "ipc://$dir/shipping"
stop_role shipping TERM "shipping +stopped: [0-9]+ orders handled; its checkpoint \(#[0-9]+\) lived in memory"
start_role customer "order [0-9]* placed" "$demo" --role customer --api "$api" --count 100000
stop_role customer INT "customer +stopped: [0-9]+ of 100000 orders placed"
stop_role order TERM "order-service +stopped: [0-9]+ orders placed; nothing kept"

# The baseline's roles: the Order service calls the three downstream services.
for role in inventory shipping billing; do
  start_role "baseline-$role" "answers" "$demo" --baseline --role "$role" --listen "ipc://$dir/baseline-$role"
done
start_role baseline-order "API on" "$demo" --baseline --role order --api "ipc://$dir/baseline-api" \
  --inventory "ipc://$dir/baseline-inventory" --shipping "ipc://$dir/baseline-shipping" \
  --billing "ipc://$dir/baseline-billing"
"$demo" --role customer --api "ipc://$dir/baseline-api" --count 2 >"$dir/baseline-customer.log"
stop_role baseline-order TERM "order-service +stopped: 2 orders placed, 0 refused; nothing kept"
stop_role baseline-inventory INT "inventory +stopped: 2 calls answered; nothing kept"
stop_role baseline-shipping TERM "shipping +stopped: 2 calls answered; nothing kept"
stop_role baseline-billing TERM "billing +stopped: 2 calls answered; nothing kept"
echo "stop test: every notification-demo role stopped cleanly on SIGTERM or SIGINT"
