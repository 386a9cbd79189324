#!/usr/bin/env bash
# The main job: installs what is missing, builds the guided tour (and the demos it runs), and
# runs it. For each pattern in turn: what it is, a short live run of its demo, and a live
# measurement against its synchronous baseline; then a summary table of all four. About half
# a minute on a 2-core machine; running it again only rebuilds what changed.
#
#   bash scripts/tour.sh                      # the whole tour
#   bash scripts/tour.sh --pattern cqrs       # one stop (notification, state-transfer, sourcing, cqrs)
#   bash scripts/tour.sh --quick              # seconds: tiny runs, rough numbers (what CI runs)
#   bash scripts/tour.sh --help               # every flag
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
echo "== configure (default)"
cmake --preset default >/dev/null
echo "== build the tour and the demos"
cmake --build --preset default --target eda-tour
echo "== the tour"
exec build/default/tour/eda-tour "$@"
