#!/usr/bin/env bash
# The whole test suite: installs what is missing, then for each preset configures, builds and
# runs every test with CTest. The default preset (RelWithDebInfo) also builds the
# documentation site (warnings are errors) before its tests, which read it; then the same
# suite runs again under AddressSanitizer + UndefinedBehaviorSanitizer (the asan preset:
# Debug, no benchmarks). CTest's summary of the last run closes the output.
#
#   bash scripts/test.sh                      # default, then asan (what CI runs)
#   EDA_PRESETS=default bash scripts/test.sh  # only the default preset (quicker while iterating)
#   EDA_PRESETS=tsan bash scripts/test.sh     # ThreadSanitizer (tools/tsan.supp: libzmq only)
#
# Running it twice in a row is incremental: only what changed is rebuilt. It stops at the
# first preset whose build or tests fail.
set -euo pipefail
cd "$(dirname "$0")/.."

# EDA_PRESET (one name) is still understood, as earlier versions of this script took it.
read -r -a presets <<<"${EDA_PRESETS:-${EDA_PRESET:-default asan}}"
bash scripts/deps.sh

started=$SECONDS
for preset in "${presets[@]}"; do
  echo "== configure ($preset)"
  cmake --preset "$preset" >/dev/null
  echo "== build ($preset)"
  cmake --build --preset "$preset"
  if [ "$preset" = default ]; then
    echo "== documentation (warnings are errors)"
    cmake --build --preset default --target docs
  fi
  echo "== test ($preset), $(( (SECONDS - started) / 60 )) min in"
  ctest --preset "$preset"
done
