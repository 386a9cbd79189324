#!/usr/bin/env bash
# The all-in-one CQRS demo with its event store in PostgreSQL. Run it through with_postgres.sh,
# which starts a throw-away server and sets EDA_TEST_POSTGRES:
#
#   bash with_postgres.sh bash postgres_demo_test.sh CQRS_DEMO
#
# The first run (an empty database) must exit 0, name the PostgreSQL store, and end with the
# read models identical to a clean projection and the rebuilt projection identical to the live
# one — the projector child opened the same database by its spec. The second run, on the store
# the first one filled, must refuse with a clear message (the story needs an empty store)
# rather than tell a story that does not add up.
set -u
if [ $# -ne 1 ] || [ -z "${EDA_TEST_POSTGRES:-}" ]; then
  echo "usage: bash with_postgres.sh bash postgres_demo_test.sh CQRS_DEMO" >&2
  exit 2
fi
demo="$1"

# Fails (saying what is missing) unless every TEXT after the first argument is in it.
expect() {
  local output=$1
  shift
  for text in "$@"; do
    if ! grep -qF -- "$text" <<<"$output"; then
      echo "FAILED: '$text' is not in the output above" >&2
      return 1
    fi
  done
}

output=$("$demo" --count 3 --store "$EDA_TEST_POSTGRES" 2>&1)
status=$?
printf '%s\n' "$output"
[ "$status" -eq 0 ] || { echo "FAILED: the first run exited with status $status" >&2; exit 1; }
expect "$output" "event store postgresql://" \
  "read models compared with a clean projection of the same store: identical" \
  "the rebuilt read model is identical to the live one" || exit 1

output=$("$demo" --count 3 --store "$EDA_TEST_POSTGRES" 2>&1)
status=$?
printf '%s\n' "$output"
[ "$status" -ne 0 ] || { echo "FAILED: the second run accepted a store that is not empty" >&2; exit 1; }
expect "$output" "needs an empty event store" "already holds" || exit 1
echo "cqrs-demo on PostgreSQL: one story told, and a second refused on the filled store"
