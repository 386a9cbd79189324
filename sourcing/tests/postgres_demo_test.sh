#!/usr/bin/env bash
# The sourcing demo keeping its events in PostgreSQL between runs. Run it through
# with_postgres.sh, which starts a throw-away server and sets EDA_TEST_POSTGRES:
#
#   bash with_postgres.sh bash postgres_demo_test.sh SOURCING_DEMO
#
# Runs the demo twice with --db "$EDA_TEST_POSTGRES" (the server's database is new for each
# with_postgres.sh run, so both runs happen here): each must exit 0 and print its summary, the
# first must find the store empty and the second must find every event the first stored.
set -u
if [ $# -ne 1 ] || [ -z "${EDA_TEST_POSTGRES:-}" ]; then
  echo "usage: bash with_postgres.sh bash postgres_demo_test.sh SOURCING_DEMO" >&2
  exit 2
fi
demo="$1"

# Runs the demo once; prints its output; fails (naming the run) unless it exits 0 with its
# summary and names the store as it was found ("N events already in it").
run() {
  local output status
  output=$("$demo" --count 2 --long-stream 100 --db "$EDA_TEST_POSTGRES" 2>&1)
  status=$?
  printf '%s\n' "$output"
  if [ "$status" -ne 0 ]; then
    echo "FAILED: the $1 run exited with status $status" >&2
    return 1
  fi
  for text in "== Summary ==" "events stored; every state above was computed from them" \
              "postgresql://" "($2 events already in it)"; do
    if ! grep -qF -- "$text" <<<"$output"; then
      echo "FAILED: the $1 run's output lacks: $text" >&2
      return 1
    fi
  done
  stored=$(sed -n 's/.*event-store *\([0-9][0-9]*\) events stored;.*/\1/p' <<<"$output" | tail -1)
  if [ -z "$stored" ] || [ "$stored" -eq 0 ]; then
    echo "FAILED: the $1 run stored no events" >&2
    return 1
  fi
}

stored=""
run first 0 || exit 1
after_first="$stored"
run second "$after_first" || exit 1
if [ "$stored" -le "$after_first" ]; then
  echo "FAILED: the second run stored nothing more ($stored events after it, $after_first before)" >&2
  exit 1
fi
echo "kept in PostgreSQL: $after_first events after the first run, $stored after the second"
