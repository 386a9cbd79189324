#!/usr/bin/env bash
# Heartbeats with really frozen processes: the roles run as separate processes, and each in
# turn is stopped with SIGSTOP (alive for the kernel, answering nothing) and continued.
#  1. The Customer service is frozen: Shipping notices the silence, then its heartbeats go
#     unanswered and the connection is closed; on SIGCONT it reconnects and re-synchronises.
#  2. Shipping is frozen: the Customer service cuts the replica off (its queue is freed) and
#     keeps publishing; on SIGCONT Shipping reconnects and re-synchronises.
#  3. Both stop; the replica's last sequence, record count and fingerprint equal the source's:
#     no gap is left.
#   heartbeat_test.sh PATH/TO/state-transfer-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"

updates="ipc://$dir/updates"
snapshots="ipc://$dir/snapshots"
roles=(--updates "$updates" --snapshots "$snapshots" --heartbeat-ms 100 --run-for 90)
shipping_log="$dir/shipping.log"
customer_log="$dir/customer.log"

"$demo" --role shipping "${roles[@]}" >"$shipping_log" 2>&1 &
shipping=$!
pids+=($shipping)
"$demo" --role customer "${roles[@]}" --customers 2000 --rate 100 >"$customer_log" 2>&1 &
customer=$!
pids+=($customer)
wait_for "$shipping_log" "synchronised (first synchronisation)" 1
wait_for "$shipping_log" ", live$" 3

echo "--- 1. the Customer service is frozen (SIGSTOP)"
kill -STOP "$customer"
wait_for "$shipping_log" "no word from the source" 1
wait_for "$shipping_log" "connection to the source was closed" 1
kill -CONT "$customer"
wait_for "$shipping_log" "synchronised (" 2
wait_for "$shipping_log" ", live$" $(( $(count_of "$shipping_log" ", live$") + 3 ))

echo "--- 2. Shipping is frozen (SIGSTOP)"
cut_off=$(count_of "$customer_log" "a replica's connection was closed")  # step 1 closed one too
synchronised=$(count_of "$shipping_log" "synchronised (")
kill -STOP "$shipping"
wait_for "$customer_log" "a replica's connection was closed" $(( cut_off + 1 ))
kill -CONT "$shipping"
wait_for "$shipping_log" "synchronised (" $(( synchronised + 1 ))
wait_for "$shipping_log" ", live$" $(( $(count_of "$shipping_log" ", live$") + 3 ))

echo "--- 3. both stop: the replica must equal the source"
silences=$(count_of "$shipping_log" "no word from the source")
kill -TERM "$customer"
wait "$customer"
wait_for "$shipping_log" "no word from the source" $(( silences + 1 ))  # all sent was read
kill -TERM "$shipping"
wait "$shipping"

source_line=$(grep "customer-service.*stopped: [0-9]* messages published" "$customer_log")
replica_line=$(grep "shipping.*stopped:" "$shipping_log")
source_sequence=$(sed -E 's/.*stopped: ([0-9]+) messages published.*/\1/' <<<"$source_line")
source_records=$(sed -E 's/.*; ([0-9]+) records, fingerprint.*/\1/' <<<"$source_line")
source_print=$(sed -E 's/.*fingerprint ([0-9a-f]+).*/\1/' <<<"$source_line")
replica_records=$(sed -E 's/.*stopped: ([0-9]+) records as of.*/\1/' <<<"$replica_line")
replica_sequence=$(sed -E 's/.*records as of #([0-9]+),.*/\1/' <<<"$replica_line")
replica_print=$(sed -E 's/.*fingerprint ([0-9a-f]+).*/\1/' <<<"$replica_line")
cat "$customer_log" "$shipping_log" | grep -v -- ", live$\|, source silent$" || true
echo "source:  #$source_sequence, $source_records records, fingerprint $source_print"
echo "replica: #$replica_sequence, $replica_records records, fingerprint $replica_print"
if [ "$source_sequence" != "$replica_sequence" ] || [ "$source_records" != "$replica_records" ] ||
   [ "$source_print" != "$replica_print" ]; then
  echo "FAILED: the replica does not equal its source" >&2
  exit 1
fi
echo "heartbeat test: both frozen peers noticed and cut off, both re-synchronised, no gap left"
