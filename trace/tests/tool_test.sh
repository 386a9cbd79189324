#!/usr/bin/env bash
# CTest tests of the eda-trace program: tool_test.sh CASE EDA_TRACE TRACE_SCENARIO
# Every case works in a fresh temporary directory over ipc:// and is bounded in time.
set -euo pipefail
case_name=$1 trace=$2 scenario=$3
dir=$(mktemp -d)
scenario_pid=
cleanup() {
  if [[ -n $scenario_pid ]]; then kill "$scenario_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
endpoints=("ipc://$dir/order-service" "ipc://$dir/warehouse" "ipc://$dir/payment-service")

fail() { echo "FAILED: $*" >&2; exit 1; }
expect_in() {  # expect_in FILE TEXT
  grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "expected '$2' in $1"; }
}

# Publishes the scenario (with any fault flags) while eda-trace taps it: live_run COUNT ARGS...
live_run() {
  local count=$1; shift
  "$scenario" --dir "$dir" "${scenario_flags[@]}" > "$dir/scenario.out" &
  scenario_pid=$!
  set +e
  "$trace" live "${endpoints[@]}" --count "$count" --duration 60 "$@" > "$dir/live.out" 2> "$dir/live.err"
  status=$?
  set -e
  wait "$scenario_pid" || fail "the scenario program failed: $(cat "$dir/scenario.out")"
  scenario_pid=
}

case $case_name in
  record-replay)
    # A live run recorded to a file, replayed: the identical output, line for line.
    scenario_flags=()
    live_run 8 --record "$dir/run.capture"
    [[ $status == 0 ]] || fail "live exited $status: $(cat "$dir/live.err")"
    "$trace" replay "$dir/run.capture" > "$dir/replay.out"
    diff "$dir/live.out" "$dir/replay.out" || fail "replay differs from the live run"
    expect_in "$dir/live.out" "== Causal trees: 2 correlations"
    expect_in "$dir/live.out" "  shop.order.placed (order-service #1)  at "
    expect_in "$dir/live.out" "  ├─ shop.stock.reserved (warehouse #1)  +"
    expect_in "$dir/live.out" "  └─ shop.payment.charged (payment-service #1)  +"
    expect_in "$dir/live.out" "     └─ shop.parcel.shipped (warehouse #3)  +"
    expect_in "$dir/live.out" "== Problems: none =="
    expect_in "$dir/live.out" "== Summary: 8 messages, 8 events, 2 correlations; no problems =="
    expect_in "$dir/live.err" "recorded 8 messages to $dir/run.capture"
    # tree: the same analysis without the event lines; filters narrow it.
    "$trace" tree "$dir/run.capture" --source warehouse --type shop.parcel > "$dir/tree.out"
    expect_in "$dir/tree.out" "== Causal trees: 2 correlations"
    "$trace" replay "$dir/run.capture" --type shop.parcel --no-trees > "$dir/parcels.out"
    [[ $(wc -l < "$dir/parcels.out") == 2 ]] || fail "--type shop.parcel should list 2 events"
    ;;
  faults)
    # Every injected fault is reported, and --fail-on-problems turns them into exit status 3.
    scenario_flags=(--gap --duplicate --missing-cause --out-of-order)
    live_run 10 --fail-on-problems --record "$dir/run.capture"
    [[ $status == 3 ]] || fail "live with problems exited $status, expected 3"
    set +e
    "$trace" replay "$dir/run.capture" --fail-on-problems > "$dir/replay.out"
    set -e
    diff "$dir/live.out" "$dir/replay.out" || fail "replay differs from the live run"
    expect_in "$dir/live.out" "[1,1000]  (duplicate)"
    expect_in "$dir/live.out" "gap                     order-service jumped from #1 to #3: #2 never seen (1 event)"
    expect_in "$dir/live.out" "duplicate               event "
    expect_in "$dir/live.out" "missing_cause           shop.refund.issued (payment-service #3) names cause"
    expect_in "$dir/live.out" "out_of_order_reaction   warehouse reacted to order-service #1 (shop.order.placed) in its #2"
    expect_in "$dir/live.out" "1 duplicate, 1 gap, 1 missing_cause, 1 out_of_order_reaction =="
    set +e
    "$trace" tree "$dir/run.capture" --fail-on-problems > "$dir/tree.out"
    tree_status=$?
    set -e
    [[ $tree_status == 3 ]] || fail "tree --fail-on-problems exited $tree_status, expected 3"
    "$trace" tree "$dir/run.capture" > /dev/null || fail "without --fail-on-problems, problems are not an error"
    ;;
  interrupt)
    # Ctrl-C ends the tapping, not the program: the analysis still prints, exit 0.
    "$trace" live "${endpoints[@]}" --duration 60 > "$dir/live.out" 2> "$dir/live.err" &
    trace_pid=$!
    for _ in $(seq 100); do grep -q "tapping" "$dir/live.err" && break; sleep 0.1; done
    kill -INT "$trace_pid"
    wait "$trace_pid" || fail "eda-trace exited $? after Ctrl-C"
    expect_in "$dir/live.out" "== Summary: 0 messages, 0 events, 0 correlations; no problems =="
    ;;
  malformed-capture)
    # Damaged captures are refused with the file, the line and the problem; exit status 1.
    header='{"format":"eda-trace-capture","version":1,"started_ns":1,"endpoints":[],"topics":[]}'
    refused() {  # refused FILE TEXT
      set +e
      "$trace" replay "$1" > /dev/null 2> "$dir/err"
      local s=$?
      set -e
      [[ $s == 1 ]] || fail "replay of a malformed capture exited $s, expected 1"
      expect_in "$dir/err" "$2"
    }
    printf '%s\n{"received_ns":5,"frames":["61","6' "$header" > "$dir/truncated.capture"
    refused "$dir/truncated.capture" "eda-trace: error: not a usable capture: $dir/truncated.capture:2: line is cut short"
    printf 'PK\003\004 not a capture\n' > "$dir/zip.capture"
    refused "$dir/zip.capture" "$dir/zip.capture:1: not a JSON object"
    printf '%s\n' '{"format":"eda-trace-capture","version":9,"started_ns":1,"endpoints":[],"topics":[]}' > "$dir/future.capture"
    refused "$dir/future.capture" "capture format version 9 is not one this eda-trace reads"
    printf '%s\n{"received_ns":5,"frames":["zz"]}\n' "$header" > "$dir/hex.capture"
    refused "$dir/hex.capture" "$dir/hex.capture:2: frame 1 is not hexadecimal (at character 1)"
    : > "$dir/empty.capture"
    refused "$dir/empty.capture" "the file is empty"
    ;;
  dot)
    scenario_flags=(--missing-cause)
    live_run 9 --record "$dir/run.capture" --no-trees
    svg_args=()
    if command -v dot > /dev/null; then svg_args=(--svg "$dir/flow.svg"); fi
    "$trace" dot "$dir/run.capture" --out "$dir/flow.dot" "${svg_args[@]}" 2> "$dir/dot.err"
    expect_in "$dir/dot.err" "wrote 2 correlations to $dir/flow.dot"
    expect_in "$dir/flow.dot" 'label="shop.order.placed\norder-service #1\nat '
    expect_in "$dir/flow.dot" 'never seen", style=dashed]'
    if [[ ${#svg_args[@]} -gt 0 ]]; then expect_in "$dir/flow.svg" "shop.parcel.shipped"; fi
    # One correlation, by its short id as the listings show it.
    short=$(grep -o 'correlation [0-9a-f]*' <("$trace" tree "$dir/run.capture") | head -1 | cut -d' ' -f2)
    "$trace" dot "$dir/run.capture" --correlation "$short" --out "$dir/one.dot" 2> "$dir/dot.err"
    expect_in "$dir/dot.err" "wrote 1 correlation to $dir/one.dot"
    ;;
  bad-command-line)
    expect_status() {  # expect_status STATUS ARGS...
      local want=$1; shift
      set +e
      "$trace" "$@" > "$dir/out" 2>&1
      local s=$?
      set -e
      [[ $s == "$want" ]] || { cat "$dir/out" >&2; fail "eda-trace $* exited $s, expected $want"; }
    }
    expect_status 2                                # no subcommand
    expect_status 2 live                           # no endpoint
    expect_status 2 live http://example.com        # not a ZeroMQ endpoint
    expect_in "$dir/out" "http://example.com"
    expect_status 2 live tcp://127.0.0.1:1 --duration 0
    expect_status 2 replay "$dir/no-such.capture"  # the file must exist
    expect_status 2 record tcp://127.0.0.1:1       # --out is required
    expect_status 2 tree "$dir" --svg x.svg        # --svg needs --dot
    ;;
  help)
    "$trace" --help > "$dir/help.out"
    for word in live record replay tree dot "Exit status"; do expect_in "$dir/help.out" "$word"; done
    "$trace" live --help > "$dir/live-help.out"
    for word in --duration --count --record --type --source --correlation --curve-keys; do
      expect_in "$dir/live-help.out" "$word"
    done
    ;;
  *) fail "unknown case $case_name" ;;
esac
echo "ok: eda-trace $case_name"
