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
cmake --build --preset default --target eda-kit-demo notification-demo state-transfer-demo sourcing-demo \
  cqrs-demo

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

stop "4. Event-carried state transfer: Shipping reads its own replica; a late joiner, lost updates"
"$demos/state-transfer/state-transfer-demo" --count 4 --late-joiner --lose 3
stop "5. Event-carried state transfer, the Customer service down: Shipping keeps shipping"
"$demos/state-transfer/state-transfer-demo" --count 2 --down
stop "5. ... and the synchronous baseline with the Customer service down: labels fail"
"$demos/state-transfer/state-transfer-demo" --baseline --count 2 --down

stop "6. Event sourcing: history, temporal queries, a conflict, an old event, snapshots"
"$demos/sourcing/sourcing-demo" --count 2 --long-stream 1000
stop "6. ... and the CRUD baseline: the same commands, only the present is kept"
"$demos/sourcing/sourcing-demo" --baseline --count 2

stop "7. CQRS: commands in, queries out, the lag between them, a projector killed and resumed"
"$demos/cqrs/cqrs-demo" --count 3
stop "7. ... and the single-model baseline: the same queries, joined at read time"
"$demos/cqrs/cqrs-demo" --baseline --count 3

printf '\nEach demo has --help; the pattern pages (notification/README.md,\n'
printf 'state-transfer/README.md, sourcing/README.md, cqrs/README.md) explain what you saw.\n'
