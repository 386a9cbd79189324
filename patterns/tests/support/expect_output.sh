#!/usr/bin/env bash
# Runs a program and checks both its exit status and its output:
#   expect_output.sh 'TEXT' ['!TEXT' ...] -- PROGRAM [ARGS...]
# Every TEXT (a fixed string, matched within a line) must appear in the output, every !TEXT
# must not, and the program must exit 0. The output is shown whatever happens, for the test log.
# (CTest's PASS_REGULAR_EXPRESSION alone would ignore the exit status.)
set -u
expected=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  expected+=("$1")
  shift
done
if [ $# -lt 2 ] || [ ${#expected[@]} -eq 0 ]; then
  echo "usage: expect_output.sh 'TEXT' ['!TEXT' ...] -- PROGRAM [ARGS...]" >&2
  exit 2
fi
shift  # the --
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
failed=0
if [ "$status" -ne 0 ]; then
  echo "FAILED: $1 exited with status $status" >&2
  failed=1
fi
for text in "${expected[@]}"; do
  if [ "${text:0:1}" = "!" ]; then
    if grep -qF -- "${text:1}" <<<"$output"; then
      echo "FAILED: the output has: ${text:1}" >&2
      failed=1
    fi
  elif ! grep -qF -- "$text" <<<"$output"; then
    echo "FAILED: the output lacks: $text" >&2
    failed=1
  fi
done
exit "$failed"
