#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL server:
#
#   bash with_postgres.sh [--optional] PROGRAM [ARGS...]
#
# Creates a temporary directory, makes a new cluster there with initdb, starts it listening on
# 127.0.0.1 only (a free port, its Unix socket in the temporary directory), exports
# EDA_TEST_POSTGRES=postgresql://eda@127.0.0.1:PORT/postgres, runs the command, then stops the
# server and removes the directory, on every way out (failure, Ctrl-C, SIGTERM). No system
# service is touched. Exits with the command's status, or 77 (CTest's "skipped") when no
# server can be started here: PostgreSQL is not installed, initdb or the start failed.
#
# --optional: when no server can be started, run the command anyway, without
# EDA_TEST_POSTGRES and with EDA_POSTGRES_UNAVAILABLE set to the reason, and exit with its
# status (for programs that measure PostgreSQL among other things, such as a benchmark).
#
# initdb refuses to run as root; as root (CI) the cluster belongs to an unprivileged user
# (EDA_POSTGRES_OS_USER, default nobody). PostgreSQL's binaries are taken from PG_BINDIR,
# else /usr/lib/postgresql/15/bin, else `pg_config --bindir`.
set -uo pipefail

optional=0
if [ "${1:-}" = "--optional" ]; then
  optional=1
  shift
fi
if [ $# -lt 1 ]; then
  echo "usage: bash with_postgres.sh [--optional] PROGRAM [ARGS...]" >&2
  exit 2
fi
here="$PWD"
command=("$@")

skip() {
  if [ "$optional" -eq 1 ]; then
    echo "with_postgres.sh: cannot start PostgreSQL: $*; running without it" >&2
    cd "$here" || exit 1
    export EDA_POSTGRES_UNAVAILABLE="$*"
    # In the background, as below, so that a signal to this script reaches the command; the
    # trap still removes what was made so far.
    "${command[@]}" <&0 &
    command_pid=$!
    wait "$command_pid"
    exit $?
  fi
  echo "with_postgres.sh: cannot start PostgreSQL: $*; skipping" >&2
  exit 77
}

# ---- Where PostgreSQL is ----------------------------------------------------------------
bindir="${PG_BINDIR:-}"
if [ -z "$bindir" ]; then
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    bindir=/usr/lib/postgresql/15/bin
  elif command -v pg_config >/dev/null 2>&1; then
    bindir="$(pg_config --bindir 2>/dev/null || true)"
  fi
fi
for tool in initdb pg_ctl postgres; do
  if [ -z "$bindir" ] || [ ! -x "$bindir/$tool" ]; then
    skip "$tool not found (install the Debian package postgresql, or set PG_BINDIR)"
  fi
done

# ---- As whom it runs ----------------------------------------------------------------------
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  owner="${EDA_POSTGRES_OS_USER:-nobody}"
  id "$owner" >/dev/null 2>&1 ||
    skip "running as root and there is no user '$owner' to own the cluster"
  if command -v runuser >/dev/null 2>&1; then
    as_owner=(runuser -u "$owner" --)
  elif command -v setpriv >/dev/null 2>&1; then
    as_owner=(setpriv --reuid="$(id -u "$owner")" --regid="$(id -g "$owner")" --clear-groups --)
  else
    skip "running as root and neither runuser nor setpriv is there to drop privileges"
  fi
fi

# ---- Cleanup, on every way out ------------------------------------------------------------
dir=""
started=0
server_pid=""
# Stops the server (fast: no new sessions, open ones ended) and waits for it to be gone.
stop_server() {
  [ "$started" -eq 1 ] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
      kill -QUIT "$(head -1 "$dir/data/postmaster.pid" 2>/dev/null)" 2>/dev/null
  fi
  wait "$server_pid" 2>/dev/null
  started=0
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  cd / || true
  stop_server
  [ -n "$dir" ] && rm -rf -- "$dir"
  exit "$status"
}
# On a signal: stop the command (TERM: a background command ignores INT), then clean up.
command_pid=""
on_signal() {
  if [ -n "$command_pid" ]; then
    kill -TERM "$command_pid" 2>/dev/null
    wait "$command_pid" 2>/dev/null
  fi
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

dir="$(mktemp -d "${TMPDIR:-/tmp}/eda-postgres.XXXXXX")" || skip "cannot make a temporary directory"
if [ ${#as_owner[@]} -gt 0 ]; then
  chown "$owner" "$dir" || skip "cannot hand $dir to $owner"
fi

# ---- A new cluster --------------------------------------------------------------------------
# From inside the temporary directory: the owner may not be allowed into the current one.
cd "$dir" || skip "cannot enter $dir"
# trust on loopback only: a throw-away server for tests, reachable from this machine alone.
if ! "${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U eda --auth=trust --encoding=UTF8 \
    --no-locale --no-instructions >"$dir/initdb.log" 2>&1; then
  tail -5 "$dir/initdb.log" >&2
  skip "initdb failed"
fi

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
  else
    local port
    for _ in $(seq 1 50); do
      port=$((20000 + RANDOM % 40000))
      # Nothing answers there: free (a connection refused is what we hope for).
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "$port"
        return 0
      fi
    done
    return 1
  fi
}

# Whether the server answers on 127.0.0.1:$port.
accepting() {
  if [ -x "$bindir/pg_isready" ]; then
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U eda -t 1
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# The server runs as this script's child (not daemonised by pg_ctl), so that this script, not
# init, collects it when it stops. Another program may take the port between our look and the
# server's bind: then the server exits at once, and we try another port.
for _ in 1 2 3; do
  port="$(free_port)" || skip "no free loopback port"
  "${as_owner[@]}" "$bindir/postgres" -D "$dir/data" -c listen_addresses=127.0.0.1 -p "$port" \
    -k "$dir" >>"$dir/server.log" 2>&1 &
  server_pid=$!
  started=1
  for _ in $(seq 1 600); do  # up to a minute
    accepting && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  accepting && break
  stop_server
done
if ! accepting; then
  tail -5 "$dir/server.log" >&2 2>/dev/null
  skip "the server did not start (see the log lines above)"
fi

export EDA_TEST_POSTGRES="postgresql://eda@127.0.0.1:$port/postgres"
echo "with_postgres.sh: PostgreSQL $("$bindir/postgres" -V | awk '{print $3}') at 127.0.0.1:$port"

# Not exec: the trap must still stop the server afterwards. In the background, so that a
# signal to this script runs its trap at once instead of after the command (the explicit
# stdin keeps the command's input, which a background command would lose).
cd "$here" || exit 1
"$@" <&0 &
command_pid=$!
wait "$command_pid"
status=$?
command_pid=""
if [ "$status" -ne 0 ]; then
  echo "with_postgres.sh: the command failed ($status); the server's last log lines:" >&2
  tail -20 "$dir/server.log" >&2
fi
exit "$status"
