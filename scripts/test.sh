#!/usr/bin/env bash
# The whole test suite: installs what is missing, configures, builds the code and the
# documentation site (warnings are errors), then runs every test with CTest, whose summary
# closes the output.
#
#   bash scripts/test.sh                 # the default preset (RelWithDebInfo)
#   EDA_PRESET=asan bash scripts/test.sh # the same under AddressSanitizer + UBSan
#
# Running it twice in a row is incremental: only what changed is rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."

preset="${EDA_PRESET:-default}"
bash scripts/deps.sh

echo "== configure ($preset)"
cmake --preset "$preset" >/dev/null
echo "== build ($preset)"
cmake --build --preset "$preset"
if [ "$preset" = default ]; then
  echo "== documentation (warnings are errors)"
  cmake --build --preset default --target docs
fi
# Last, so that CTest's summary closes the output.
echo "== test ($preset)"
ctest --preset "$preset"
