#!/usr/bin/env bash
# Fails when a committed diagram (docs/diagrams/*.svg, what the repository page shows) is not
# what its Graphviz source renders to now, or when a source or an SVG lacks its partner.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT

bash "$here/render_diagrams.sh" "$fresh"
status=0
for source in "$here"/diagrams/*.dot; do
  name="$(basename "$source" .dot)"
  if [ ! -f "$here/diagrams/$name.svg" ]; then
    echo "check_diagrams: docs/diagrams/$name.svg is missing"
    status=1
  elif ! cmp -s "$fresh/$name.svg" "$here/diagrams/$name.svg"; then
    echo "check_diagrams: docs/diagrams/$name.svg is not what $name.dot renders to now"
    diff "$here/diagrams/$name.svg" "$fresh/$name.svg" | head -n 10 || true
    status=1
  fi
done
for svg in "$here"/diagrams/*.svg; do
  name="$(basename "$svg" .svg)"
  if [ ! -f "$here/diagrams/$name.dot" ]; then
    echo "check_diagrams: docs/diagrams/$name.svg has no source $name.dot"
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "check_diagrams: run 'bash docs/render_diagrams.sh' and commit docs/diagrams/*.svg"
else
  echo "check_diagrams: every committed diagram matches its source"
fi
exit "$status"
