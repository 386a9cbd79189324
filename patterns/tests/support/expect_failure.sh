#!/usr/bin/env bash
# Runs a program that must fail, and checks how: it must exit with a non-zero status (not by a
# signal: a crash is not the failure asked for) and print every TEXT (a fixed string, matched
# within a line). The output is shown whatever happens, for the test log.
#   expect_failure.sh 'TEXT' [...] -- PROGRAM [ARGS...]
set -u
expected=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  expected+=("$1")
  shift
done
if [ $# -lt 2 ] || [ ${#expected[@]} -eq 0 ]; then
  echo "usage: expect_failure.sh 'TEXT' [...] -- PROGRAM [ARGS...]" >&2
  exit 2
fi
shift  # the --
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
failed=0
if [ "$status" -eq 0 ]; then
  echo "FAILED: $1 exited with status 0; it had to fail" >&2
  failed=1
elif [ "$status" -gt 128 ]; then
  echo "FAILED: $1 was killed by signal $((status - 128)) instead of failing with a message" >&2
  failed=1
fi
for text in "${expected[@]}"; do
  if ! grep -qF -- "$text" <<<"$output"; then
    echo "FAILED: the output lacks: $text" >&2
    failed=1
  fi
done
exit "$failed"
