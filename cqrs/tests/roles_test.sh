#!/usr/bin/env bash
# Runs CQRS as separate processes: the query side starts first, then the command side and the
# projector; a client sends commands and reads its own writes. The projector is killed with
# SIGKILL and restarted while a second client writes: its reads wait for their token and are
# answered once the projector is back, and nothing is counted twice.
#   roles_test.sh PATH/TO/cqrs-demo
# The event store is a SQLite file in the scratch folder, or the store spec in
# CQRS_ROLES_STORE (e.g. postgresql://...: a fresh database, the roles share it).
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"

store="${CQRS_ROLES_STORE:-$dir/store.db}"
read="$dir/read.db"
commands="ipc://$dir/commands"
appends="ipc://$dir/appends"
progress="ipc://$dir/progress"
queries="ipc://$dir/queries"
projector() {
  exec "$demo" --role projector --store "$store" --read "$read" --appends "$appends" \
    --progress "$progress" --run-for 60
}

"$demo" --role query --read "$read" --queries "$queries" --progress "$progress" --run-for 60 \
  >"$dir/query.log" 2>&1 &
query=$!
pids+=($query)
"$demo" --role command --store "$store" --commands "$commands" --appends "$appends" --run-for 60 \
  >"$dir/command.log" 2>&1 &
command=$!
pids+=($command)
wait_for "$dir/command.log" "serving commands" 1
projector >"$dir/projector-1.log" 2>&1 &
first_projector=$!
pids+=($first_projector)
wait_for "$dir/projector-1.log" "following the store" 1

"$demo" --role client --commands "$commands" --queries "$queries" --count 4 >"$dir/client-1.log" 2>&1
grep -q "alice's orders, as of position" "$dir/client-1.log"
grep -q "order 1: shipped, 2 items, 22.49" "$dir/client-1.log"

kill -9 "$first_projector"                 # the projector crashes
wait "$first_projector" 2>/dev/null || true
"$demo" --role client --commands "$commands" --queries "$queries" --count 4 --first-order 100 \
  >"$dir/client-2.log" 2>&1 &
client=$!
wait_for "$dir/client-2.log" "order 103: Ship by post -> position" 1   # writes go on without it
wait_for "$dir/query.log" " [1-9][0-9]* waiting now" 1   # its reads wait for their token
projector >"$dir/projector-2.log" 2>&1 &
second_projector=$!
pids+=($second_projector)
wait "$client"                             # its reads waited for the projector to come back

# Alice's first order is unchanged (nothing applied twice), her new one is there.
grep -q "order 1: shipped, 2 items, 22.49" "$dir/client-2.log"
grep -q "order 100: shipped, 2 items, 22.49" "$dir/client-2.log"
for pid in "$second_projector" "$command" "$query"; do
  kill -TERM "$pid"
  wait "$pid" || { echo "a role did not stop cleanly on SIGTERM" >&2; cat "$dir"/*.log >&2; exit 1; }
done
# The query side's last report: some reads were answered only after waiting for their token.
grep -E "answered \([1-9][0-9]* after waiting for their token" "$dir/query.log"
cat "$dir/client-2.log"
echo "roles test: commands, projector and queries as separate processes; the projector killed"
echo "and restarted, reads waited for their tokens, nothing counted twice"
