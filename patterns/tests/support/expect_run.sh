#!/usr/bin/env bash
# Runs a program and checks how it ended and what it printed:
#   expect_run.sh [--fails] 'TEXT' ['!TEXT' ...] -- PROGRAM [ARGS...]
# Every TEXT (a fixed string, matched within a line) must appear in the output (stdout and
# stderr together), every !TEXT must not. The program must exit 0; with --fails it must exit
# with a non-zero status instead, and not by a signal (a crash is not the failure asked for).
# The output is shown whatever happens, for the test log. (CTest's PASS_REGULAR_EXPRESSION
# alone would ignore the exit status.)
set -u
usage="usage: expect_run.sh [--fails] 'TEXT' ['!TEXT' ...] -- PROGRAM [ARGS...]"
must_fail=0
if [ "${1:-}" = "--fails" ]; then
  must_fail=1
  shift
fi
expected=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  expected+=("$1")
  shift
done
if [ $# -lt 2 ] || [ ${#expected[@]} -eq 0 ]; then
  echo "$usage" >&2
  exit 2
fi
shift  # the --
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
failed=0
if [ "$status" -gt 128 ]; then
  echo "FAILED: $1 was killed by signal $((status - 128))" >&2
  failed=1
elif [ "$must_fail" -eq 1 ] && [ "$status" -eq 0 ]; then
  echo "FAILED: $1 exited with status 0; it had to fail" >&2
  failed=1
elif [ "$must_fail" -eq 0 ] && [ "$status" -ne 0 ]; then
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
