#!/usr/bin/env bash
# Every role of the sourcing demo stops cleanly on SIGTERM or SIGINT (Ctrl-C): it exits 0 and
# its last line says that it stopped and what it leaves behind. Each role is started with the
# partners it needs, waited for until it says it is ready, then sent the signal.
#   stop_test.sh PATH/TO/sourcing-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"
source "$(dirname "$0")/../../patterns/tests/support/stop_lib.sh"

# All in one, stopped while orders are being changed: in memory, then in a kept SQLite file.
start_role all "placed by" "$demo" --count 10000
stop_role all TERM "event-store +stopped: [0-9]+ events were in memory; nothing kept$"
start_role all-kept "placed by" "$demo" --count 10000 --db "$dir/all.db"
stop_role all-kept INT "event-store +stopped: the store keeps [0-9]+ events in SQLite file $dir/all.db$"
start_role baseline "order 1:" "$demo" --baseline --count 10000
stop_role baseline TERM "database +stopped: nothing kept"

# One role per process: the store service, a reader following it, a writer changing orders.
listen="ipc://$dir/store"
notify="ipc://$dir/appended"
start_role store "serving on" "$demo" --role store --db "$dir/orders.db" --listen "$listen" --notify "$notify"
start_role reader "following" "$demo" --role reader --store "$listen" --notify "$notify"
start_role writer "writer *order" "$demo" --role writer --store "$listen" --count 10000
stop_role writer TERM "writer +stopped: [0-9]+ of [0-9]+ commands answered by $listen"
stop_role reader TERM "reader +stopped: [0-9]+ events followed, up to position [0-9]+; nothing kept"
stop_role store INT "store +stopped: the store keeps [0-9]+ events, every acknowledged append, in SQLite file $dir/orders.db$"
echo "stop test: every sourcing-demo role stopped cleanly on SIGTERM or SIGINT"
