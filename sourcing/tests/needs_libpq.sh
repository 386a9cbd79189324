#!/usr/bin/env bash
# Which programs need libpq, read from the programs themselves (their ELF NEEDED entries):
#
#   bash needs_libpq.sh WITHOUT WITH
#
# Fails unless WITHOUT (linked with eda::sourcing alone) needs no libpq and WITH (linked with
# eda::sourcing_postgres) does; the second half shows that the check can see libpq at all.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: bash needs_libpq.sh PROGRAM_WITHOUT PROGRAM_WITH" >&2
  exit 2
fi
needs_libpq() {
  readelf --dynamic "$1" | grep -q 'NEEDED.*\[libpq\.so'
}
if needs_libpq "$1"; then
  echo "FAIL: $1 needs libpq, but it links only eda::sourcing:" >&2
  readelf --dynamic "$1" | grep NEEDED >&2
  exit 1
fi
if ! needs_libpq "$2"; then
  echo "FAIL: $2 links eda::sourcing_postgres but needs no libpq: is the check still right?" >&2
  exit 1
fi
echo "ok: $(basename "$1") needs no libpq; $(basename "$2") does"
