# Shared by the separate-process tests (each module's tests/roles_test.sh), sourced, not run:
# a scratch folder, background processes that are always cleaned up, and a bounded wait on a
# process's log.
#
#   source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"
#   "$demo" --role ... >"$dir/role.log" 2>&1 &
#   pids+=($!)
#   wait_for "$dir/role.log" "subscribed" 1

dir=$(mktemp -d)
pids=()
cleanup() {
  # CONT too: a process a test froze with SIGSTOP would not act on the TERM before it.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; kill -CONT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP_ROLES_DIR:-}" ] && echo "kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT

# Waits (bounded: 30 s) until FILE has at least N lines matching PATTERN; prints FILE if not.
wait_for() {
  local file=$1 pattern=$2 n=$3
  for _ in $(seq 1 300); do
    local count
    count=$(grep -c -- "$pattern" "$file" 2>/dev/null) || count=${count:-0}  # (no file yet: 0)
    [ "$count" -ge "$n" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $n x '$pattern' in $file:" >&2
  cat "$file" >&2
  return 1
}

# How many lines of FILE match PATTERN now (0 when none, or no file yet).
count_of() {
  grep -c -- "$2" "$1" 2>/dev/null || true
}
