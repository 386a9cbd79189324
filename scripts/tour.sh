#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the guided tour.
# (Until the pattern modules land, the tour is the shared kit's own demo.)
#
#   bash scripts/tour.sh [flags for the tour, e.g. --help, --transport tcp]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target eda-kit-demo
exec build/default/patterns/eda-kit-demo "$@"
