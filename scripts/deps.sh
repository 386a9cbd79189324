#!/usr/bin/env bash
# Installs the Debian 12 packages eda-patterns needs, and only those that are missing.
# This file owns the package list. Quiet when everything is already there.
#
#   bash scripts/deps.sh            # what building and testing need
#   bash scripts/deps.sh --plots    # that, and what bench/plot.py needs (scripts/bench.sh)
#   bash scripts/deps.sh --fuzz     # that, and clang with libFuzzer (scripts/fuzz.sh)
#   bash scripts/deps.sh --lint     # that, and clang-format and clang-tidy (scripts/lint.sh)
#
# Runs apt-get as root, or through sudo when not root.
set -euo pipefail

packages=(
  build-essential      # g++ 12, make
  cmake                # >= 3.25, with presets
  pkg-config
  libzmq3-dev          # libzmq 4.3.4
  cppzmq-dev           # cppzmq 4.9.0 (zmq.hpp)
  libmsgpack-cxx-dev   # msgpack-cxx 4.1 (the wire codec)
  nlohmann-json3-dev   # nlohmann/json 3.11 (the human form of events)
  libcli11-dev         # CLI11 2.1 (demo command lines)
  libsqlite3-dev       # SQLite 3.40 (event store, read models)
  libpq-dev            # libpq 15 (the PostgreSQL event store, found by pkg-config)
  postgresql           # PostgreSQL 15 server (sourcing-postgres tests start a throw-away cluster)
  catch2               # Catch2 2.13 (tests, v2 API)
  libbenchmark-dev     # Google Benchmark 1.7.1
  libnats-dev          # NATS C client 3.4 (bench-peers and the brokers module, pkg-config)
  nats-server          # NATS server 2.9 (bench-peers starts one; brokers tests start it with -js;
                       # in /usr/sbin)
  librabbitmq-dev      # RabbitMQ C client 0.11 (the brokers module's AMQP transport, pkg-config)
  rabbitmq-server      # RabbitMQ 3.10 (brokers tests start a throw-away node; its system service
                       # is stopped and disabled below: the tests never use it)
  doxygen              # the documentation site
  graphviz             # diagrams in the documentation site
  fonts-liberation2    # the diagrams' Helvetica/Arial: the committed SVGs were laid out with it,
                       # and without it text widths change (test docs-diagrams-current fails)
  chromium             # headless browser: the test docs-site-renders reads the site as a reader would
  python3              # the documentation checks (docs/check_*.py, standard library only)
)

# Optional groups, only on request: the test suite never needs them.
for arg in "$@"; do
  case "$arg" in
    --plots) packages+=(
      python3-matplotlib   # matplotlib 3.6 for bench/plot.py (run with /usr/bin/python3)
      strace               # bench-brokers counts the servers' fsync calls with it (bench.sh
                           # asks for this group; without it that row says "not measured")
    ) ;;
    --fuzz) packages+=(
      clang                # clang 14: builds the fuzz targets (fuzz/, preset "fuzz")
      libclang-rt-14-dev   # libFuzzer and the sanitizer runtimes for clang 14
    ) ;;
    --lint) packages+=(
      clang-format         # clang-format 14: the house style (.clang-format)
      clang-tidy           # clang-tidy 14: the static checks (.clang-tidy)
    ) ;;
    *) echo "deps.sh: unknown option '$arg' (known: --plots, --fuzz, --lint)" >&2; exit 2 ;;
  esac
done

missing=()
for package in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)" != "installed" ]; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "deps.sh: missing packages: ${missing[*]}" >&2
  echo "deps.sh: run this script as root (or install sudo) to install them" >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts rabbitmq-server as a system service when it is installed, listening on every
# interface, unless policy-rc.d forbids it (as it does in containers). The project never uses
# that service: the brokers tests start their own throw-away node on 127.0.0.1. Stop it if it ran.
if [[ " ${missing[*]} " == *" rabbitmq-server "* ]]; then
  if [ -d /run/systemd/system ]; then
    "${as_root[@]}" systemctl disable --now rabbitmq-server.service epmd.socket epmd.service \
      >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    "${as_root[@]}" service rabbitmq-server stop >/dev/null 2>&1 || true
  fi
  # The package's scripts also leave Erlang's port mapper (epmd) running on every interface
  # (seen on Debian 12 even with the service held back). Nothing of ours uses it: the tests run
  # their own on a loopback port. 'epmd -kill' refuses while a node is registered with it.
  if command -v epmd >/dev/null 2>&1; then
    "${as_root[@]}" epmd -kill >/dev/null 2>&1 || true
  fi
fi
echo "deps.sh: done"
