#!/usr/bin/env bash
# Runs the partitioned group as separate processes: a coordinator, two members and a producer.
# One member is killed (SIGKILL) while orders keep coming; its partitions move to the other
# after the session timeout, and the gateway's record shows every event charged once, in order.
#   roles_test.sh PATH/TO/scaling-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"

coordinator="ipc://$dir/coordinator"
files=(--log "$dir/orders.db" --checkpoints "$dir/checkpoints.db" --gateway "$dir/gateway.db")

"$demo" --role coordinator --coordinator "$coordinator" --checkpoints "$dir/checkpoints.db" \
  --run-for 60 >"$dir/coordinator.log" 2>&1 &
pids+=($!)
wait_for "$dir/coordinator.log" "serving at" 1

"$demo" --role member --coordinator "$coordinator" "${files[@]}" --gateway-ms 0 --run-for 60 \
  >"$dir/member-1.log" 2>&1 &
pids+=($!)
wait_for "$dir/member-1.log" "owns 16 partitions" 1
"$demo" --role member --coordinator "$coordinator" "${files[@]}" --gateway-ms 0 --run-for 60 \
  >"$dir/member-2.log" 2>&1 &
doomed=$!
pids+=($doomed)
wait_for "$dir/member-2.log" "owns 8 partitions" 1

"$demo" --role producer "${files[@]}" --count 300 --rate 100000 >"$dir/producer-1.log"
kill -9 "$doomed"                        # a member crashes
wait "$doomed" 2>/dev/null || true
"$demo" --role producer "${files[@]}" --count 300 --rate 100000 >"$dir/producer-2.log"
wait_for "$dir/member-1.log" "owns 16 partitions" 2   # its partitions came back to member 1

# Bounded: until all 1800 events are charged.
for _ in $(seq 1 300); do
  "$demo" --role report "${files[@]}" >"$dir/report.log" || { cat "$dir/report.log" >&2; exit 1; }
  grep -q "^gateway: 1800 charges of 600 orders" "$dir/report.log" && break
  sleep 0.1
done
cat "$dir/report.log"
grep -q "^gateway: 1800 charges of 600 orders, 0 double charges, 0 order violations" "$dir/report.log"
echo "roles test: 600 orders, every event charged once and in order across a member's crash"
