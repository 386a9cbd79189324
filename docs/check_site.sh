#!/usr/bin/env bash
# The reader's check of the documentation site: renders the main pages of the generated site in
# headless Chromium and fails when a page is missing, a local link or its #anchor is broken, or
# an image (or a script or style sheet) does not load. The work is done by check_site.py
# (Python standard library only); this wrapper finds the tools and says what is missing.
#
#   bash docs/check_site.sh build/default/docs/html index catalogue glossary notification ...
#
# Exit status: 0 all good; 1 problems found; 2 the site is not built; 77 skipped, because
# Chromium (or python3) is not installed (CTest reports it as skipped, with this reason).
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 <site html folder> <page> [<page> ...]" >&2
  exit 2
fi
html_dir="$1"
shift

if [ ! -f "$html_dir/index.html" ]; then
  echo "check_site: the documentation site is not built: $html_dir/index.html is missing."
  echo "check_site: build it first with 'cmake --build <build dir> --target docs'" \
       "(scripts/test.sh does this before running ctest)."
  exit 2
fi

chromium="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$chromium" ]; then
  echo "check_site: SKIPPED: Chromium is not installed, so the site cannot be rendered."
  echo "check_site: 'bash scripts/deps.sh' installs it (Debian package 'chromium')."
  exit 77
fi
python="$(command -v python3 || true)"
if [ -z "$python" ]; then
  echo "check_site: SKIPPED: python3 is not installed (the check's driver needs it)."
  exit 77
fi

exec "$python" "$(dirname "$0")/check_site.py" --html "$html_dir" --chromium "$chromium" "$@"
