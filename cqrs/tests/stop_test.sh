#!/usr/bin/env bash
# Every role of the CQRS demo stops cleanly on SIGTERM or SIGINT (Ctrl-C): it exits 0 and its
# last line says that it stopped and what it leaves behind. Each role is started with the
# partners it needs, waited for until it says it is ready, then sent the signal.
#   stop_test.sh PATH/TO/cqrs-demo
set -euo pipefail
demo="$1"
source "$(dirname "$0")/../../patterns/tests/support/roles_lib.sh"
source "$(dirname "$0")/../../patterns/tests/support/stop_lib.sh"

# All in one (its projector a child process, stopped with it), stopped while commands go in.
start_role all "stored at position" "$demo" --count 10000
stop_role all TERM "demo +stopped: nothing kept \(the run's event store and read models were in a temporary folder, now removed\)"
projector_pid=$(grep -o "a separate process (pid [0-9]*" "$dir/all.log" | grep -o "[0-9]*$")
if kill -0 "$projector_pid" 2>/dev/null; then
  echo "FAILED: the all-in-one run's projector process ($projector_pid) outlived it" >&2
  kill "$projector_pid"
  exit 1
fi
start_role baseline "-> done" "$demo" --baseline --count 10000
stop_role baseline INT "demo +stopped: nothing kept"

# One role per process: command side, projector, query side, and a client sending commands.
store="$dir/store.db"
read="$dir/read.db"
commands="ipc://$dir/commands"
appends="ipc://$dir/appends"
progress="ipc://$dir/progress"
queries="ipc://$dir/queries"
start_role command "serving commands" "$demo" --role command --store "$store" --commands "$commands" --appends "$appends"
start_role projector "following the store" "$demo" --role projector --store "$store" --read "$read" \
  --appends "$appends" --progress "$progress"
start_role query "answering queries" "$demo" --role query --read "$read" --queries "$queries" --progress "$progress"
start_role client "client *order 1: .* -> position" "$demo" --role client --commands "$commands" --queries "$queries" --count 10000
stop_role client TERM "client +stopped: [0-9]+ of [0-9]+ commands answered"
stop_role projector TERM "projector +stopped: the read models in $read are at position [0-9]+"
stop_role query INT "query-side +stopped: [0-9]+ queries answered; nothing kept"
stop_role command TERM "command-side +stopped: the store keeps [0-9]+ events in SQLite file $store$"
echo "stop test: every cqrs-demo role stopped cleanly on SIGTERM or SIGINT"
