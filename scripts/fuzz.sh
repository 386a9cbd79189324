#!/usr/bin/env bash
# Builds the libFuzzer programs (clang, ASan + UBSan; preset "fuzz", build/fuzz) and runs each
# for a fixed time. Installs clang and libclang-rt-14-dev first when they are missing.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]        # default: 60 s each, every target
#   bash scripts/fuzz.sh --merge 300 envelope          # also merge new inputs into fuzz/corpus
#   bash scripts/fuzz.sh --list                        # the targets
#
# Each fuzzer starts from the committed seeds (fuzz/corpus/<target>, read only) and writes what
# it finds to build/fuzz/runs/<target>/. Inputs that add coverage are merged afterwards into
# build/fuzz/new-inputs/<target>/ (into fuzz/corpus/<target>/ itself with --merge). Exits
# non-zero, naming the reproducer, when any fuzzer finds a crash, a leak, a timeout or runs out
# of memory. Replay a reproducer with: build/fuzz/fuzz/fuzz-<target, dashed> <file>
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

all_targets=(envelope wire_frames codec rpc_server store_service stored_events command_service
             query_service read_model_lines notification_api snapshot_service replica_input
             group_protocol)

seconds=60
merge=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --merge) merge=1 ;;
    --list) printf '%s\n' "${all_targets[@]}"; exit 0 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    ''|*[!0-9]*)
      if [[ " ${all_targets[*]} " != *" $arg "* ]]; then
        echo "fuzz.sh: unknown target '$arg' (see --list)" >&2
        exit 2
      fi
      targets+=("$arg") ;;
    *) seconds="$arg" ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")

bash scripts/deps.sh --fuzz

echo "fuzz.sh: configuring and building build/fuzz (clang, libFuzzer, ASan + UBSan)"
cmake --preset fuzz >/dev/null
programs=()
for t in "${targets[@]}"; do programs+=("fuzz-${t//_/-}"); done
cmake --build build/fuzz -j2 --target "${programs[@]}" >/dev/null

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
index=0
for t in "${targets[@]}"; do
  index=$((index + 1))
  program="build/fuzz/fuzz/fuzz-${t//_/-}"
  run="build/fuzz/runs/$t"
  mkdir -p "$run/corpus" "$run/artifacts"
  rm -f "$run/artifacts/"*
  dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
  printf '[%d/%d] %-17s fuzzing for %s s ...\n' "$index" "${#targets[@]}" "$t" "$seconds"
  status=0
  "$program" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$run/artifacts/" "${dict[@]}" "$run/corpus" "fuzz/corpus/$t" \
    >"$run/log.txt" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log.txt" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/log.txt" | tail -1)
  coverage=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$run/log.txt" | tail -1 || true)
  artifact=$(ls "$run/artifacts/" 2>/dev/null | head -1 || true)
  if [ "$status" -ne 0 ] || [ -n "$artifact" ]; then
    where="see $run/log.txt"
    [ -n "$artifact" ] && where="$run/artifacts/$artifact"
    printf '      %-17s FAILED (exit %d): %s\n' "$t" "$status" "$where"
    grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|property violated' \
      "$run/log.txt" | sed 's/^/      /' || true
    failed+=("$t: ${artifact:+$run/artifacts/$artifact} (log: $run/log.txt)")
    continue
  fi
  # Keep the inputs that add coverage over the committed seeds: merged into a copy of them
  # (or, with --merge, into them), and the new ones listed in build/fuzz/new-inputs/<target>.
  if [ "$merge" -eq 1 ]; then
    merged="fuzz/corpus/$t"
  else
    merged="$run/merged"
    rm -rf "$merged"
    mkdir -p "$merged"
    cp "fuzz/corpus/$t/"* "$merged/"
  fi
  before=$(ls "$merged" | wc -l)
  "$program" -merge=1 -timeout=10 -rss_limit_mb=2048 "$merged" "$run/corpus" >"$run/merge.txt" 2>&1 || true
  added=$(( $(ls "$merged" | wc -l) - before ))
  destination="$merged"
  if [ "$merge" -eq 0 ]; then
    destination="build/fuzz/new-inputs/$t"
    rm -rf "$destination"
    mkdir -p "$destination"
    for file in "$merged/"*; do
      [ -e "fuzz/corpus/$t/$(basename "$file")" ] || cp "$file" "$destination/"
    done
  fi
  printf '      %-17s ok: %s runs, %s exec/s, %s, %d new input(s) in %s\n' \
    "$t" "${execs:-?}" "${rate:-?}" "${coverage:-cov: ?}" "$added" "$destination"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} fuzzer(s) found a problem:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "fuzz.sh: no crash, leak, timeout or out-of-memory in ${#targets[@]} target(s), $seconds s each"
