#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the guided tour.
# Until the tour program lands, the tour is the demos in order: the shared kit, then each
# pattern that exists, run against its synchronous baseline.
#
#   bash scripts/tour.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target eda-kit-demo notification-demo

demos=build/default
stop() { printf '\n##### %s\n' "$1"; }

stop "1. The shared kit: events, a subscription handshake, RPC"
"$demos/patterns/eda-kit-demo" --transport tcp --count 3

stop "2. Event notification, billing slow (200 ms per order): the producer does not wait"
"$demos/notification/notification-demo" --transport tcp --count 4 --slow billing
stop "2. ... and the synchronous baseline with the same slow billing: every order waits"
"$demos/notification/notification-demo" --baseline --transport tcp --count 4 --slow billing

stop "3. Event notification, billing down for the first orders: it catches up from the outbox"
"$demos/notification/notification-demo" --transport tcp --count 4 --down billing
stop "3. ... and the synchronous baseline with billing down: orders fail"
"$demos/notification/notification-demo" --baseline --transport tcp --count 4 --down billing

printf '\nEach demo has --help; the pattern pages (notification/README.md) explain what you saw.\n'
