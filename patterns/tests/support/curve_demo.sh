#!/usr/bin/env bash
# Runs a demo with every socket on CURVE + ZAP: makes a fresh server and client key pair in a
# scratch folder (the --curve-keys layout), then runs the demo with --curve-keys.
#   curve_demo.sh PATH/TO/eda-keys PATH/TO/demo [demo args...]
# With EDA_CURVE_EXPECT_REFUSED=1 the client's key is left off the allow-list: the demo must
# then fail, its clients refused by the ZAP handler (proof that the keys are really checked).
set -euo pipefail
keys="$1"
demo="$2"
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$keys" generate "$dir" server >/dev/null
"$keys" generate "$dir/clients" client >/dev/null
[ "$(stat -c %a "$dir/server.key_secret")" = 600 ] || { echo "secret key file is not 0600" >&2; exit 1; }

if [ "${EDA_CURVE_EXPECT_REFUSED:-0}" = 1 ]; then
  mv "$dir/clients/client.key" "$dir/client.key.not-allowed"
  status=0
  "$demo" --curve-keys "$dir" "$@" >"$dir/demo.log" 2>&1 || status=$?
  if [ "$status" != 1 ]; then  # 0: let in; anything but 1: a crash, not a clean refusal
    cat "$dir/demo.log"
    echo "expected the demo to fail cleanly (exit 1) with its client key off the allow-list; it exited $status" >&2
    exit 1
  fi
  echo "refused as expected; the demo said:"
  tail -5 "$dir/demo.log"
  exit 0
fi
"$demo" --curve-keys "$dir" "$@"
