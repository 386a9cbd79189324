#!/usr/bin/env bash
# Event notification across two hosts: two Linux network namespaces joined by a veth pair, each
# with its own address, the roles talking tcp between them. The Order service and the customer
# run on host A; billing, with its checkpoint file, on host B. The link is cut (the veth set
# down) for a few seconds while orders keep coming, then restored: billing must charge every
# order the customer saw accepted, each exactly once. Only the namespaces' own addresses are
# used; nothing of the machine's own network is touched.
#   hosts_test.sh PATH/TO/notification-demo
# Needs root (ip netns); without it, or without iproute2, it is skipped (exit 77) saying why.
set -euo pipefail
demo="$1"
skip() { echo "SKIPPED: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root (run the suite as root to include this test)"
command -v ip >/dev/null || skip "iproute2's 'ip' is not installed"

source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"

# Names unique to this run (interface names stay under 16 characters).
host_a="eda-a-$$"
host_b="eda-b-$$"
link_a="edaa$$"
link_b="edab$$"
addr_a=10.213.7.1
addr_b=10.213.7.2
remove_hosts() {
  ip netns del "$host_a" 2>/dev/null || true  # its end of the veth pair goes with it
  ip netns del "$host_b" 2>/dev/null || true
}
trap 'cleanup; remove_hosts' EXIT

ip netns add "$host_a" || skip "cannot create a network namespace here (a container without CAP_SYS_ADMIN?)"
ip netns add "$host_b"
ip link add "$link_a" type veth peer name "$link_b"
ip link set "$link_a" netns "$host_a"
ip link set "$link_b" netns "$host_b"
ip -n "$host_a" addr add "$addr_a/24" dev "$link_a"
ip -n "$host_b" addr add "$addr_b/24" dev "$link_b"
for host in "$host_a" "$host_b"; do ip -n "$host" link set lo up; done
ip -n "$host_a" link set "$link_a" up
ip -n "$host_b" link set "$link_b" up
on_a() { ip netns exec "$host_a" "$@"; }
on_b() { ip netns exec "$host_b" "$@"; }
on_b ping -c 1 -W 2 "$addr_a" >/dev/null 2>&1 || true  # (ping may be missing; tcp is what counts)

events="tcp://$addr_a:5556"
api="tcp://$addr_a:5557"

on_a "$demo" --role order --events "tcp://$addr_a:5556" --api "tcp://$addr_a:5557" --run-for 90 \
  >"$dir/order.log" 2>&1 &
pids+=($!)
wait_for "$dir/order.log" "publishes on" 1

on_b "$demo" --role billing --events "$events" --api "$api" --listen "tcp://$addr_b:5558" \
  --checkpoint "$dir/billing.checkpoint" --run-for 90 >"$dir/billing.log" 2>&1 &
pids+=($!)
wait_for "$dir/billing.log" "subscribed" 1

on_a "$demo" --role customer --api "$api" --count 5 >"$dir/customer-1.log"
wait_for "$dir/billing.log" "charged" 5
echo "hosts test: 5 orders charged across the link; cutting it"

ip -n "$host_b" link set "$link_b" down   # the cable is pulled on host B's side
on_a "$demo" --role customer --api "$api" --count 7 >"$dir/customer-2.log"   # orders 6..12
sleep 5   # longer than the heartbeat timeout (3 s): both ends close the connection
charged_during_cut=$(grep -c "charged" "$dir/billing.log" || true)
ip -n "$host_b" link set "$link_b" up     # and plugged in again
echo "hosts test: link restored after 7 orders ($charged_during_cut charges seen while it was down)"

wait_for "$dir/billing.log" "charged" 12
# The events queued for the closed connection went with it; billing caught up after reconnecting.
wait_for "$dir/billing.log" "reconnected to the Order service" 1
grep -E "gap|caught up|replay buffer|reconnect" "$dir/billing.log" || true   # how billing recovered
accepted=$(cat "$dir/customer-1.log" "$dir/customer-2.log" | grep -c "placed" || true)
charged=$(grep -o "for order [0-9]*" "$dir/billing.log" | sort | uniq -c)
echo "$charged"
[ "$accepted" -eq 12 ] || { echo "expected the customer to see 12 orders accepted, saw $accepted" >&2; exit 1; }
[ "$(echo "$charged" | wc -l)" -eq 12 ] || { echo "expected 12 distinct orders charged" >&2; exit 1; }
if echo "$charged" | grep -qv "^ *1 "; then echo "an order was charged twice" >&2; exit 1; fi
echo "hosts test: 12 orders accepted on host A, each charged exactly once on host B across a cut link"
