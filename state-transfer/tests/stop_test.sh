#!/usr/bin/env bash
# Every role of the state-transfer demo stops cleanly on SIGTERM or SIGINT (Ctrl-C): it exits
# 0 and its last line says that it stopped and what it leaves behind. Each role is started with
# the partners it needs, waited for until it says it is ready, then sent the signal.
#   stop_test.sh PATH/TO/state-transfer-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"
source "$(dirname "$0")/../../patterns/tests/support/stop_lib.sh"

# All in one, stopped while customers keep changing.
start_role all "published #" "$demo" --count 100000
stop_role all TERM "demo +stopped: [0-9]+ changes made; Shipping's replica held [0-9]+ records as of #[0-9]+; nothing kept"
start_role baseline "asked the Customer service" "$demo" --baseline --count 100000
stop_role baseline INT "demo +stopped: [0-9]+ labels printed, 0 orders could not ship; nothing kept"

# One role per process: Shipping waits for the Customer service, synchronises, ships.
updates="ipc://$dir/updates"
snapshots="ipc://$dir/snapshots"
start_role shipping "waiting for the Customer service" "$demo" --role shipping --updates "$updates" --snapshots "$snapshots"
start_role customer "owns 1000 customers" "$demo" --role customer --updates "$updates" --snapshots "$snapshots"
wait_for "$dir/shipping.log" ", live$" 2
stop_role shipping TERM "shipping +stopped: [0-9]+ records as of #[0-9]+, live, fingerprint [0-9a-f]+; nothing kept"
stop_role customer INT "customer-service +stopped: [0-9]+ messages published \(.*\); [0-9]+ records, fingerprint [0-9a-f]+; nothing kept"
echo "stop test: every state-transfer-demo role stopped cleanly on SIGTERM or SIGINT"
