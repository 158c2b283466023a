#!/usr/bin/env bash
# A throwaway PostgreSQL server for drawdown's database source: tests, demos, benchmarks.
#
#   scripts/postgres.sh start    initdb into $DRAWDOWN_PG_DIR, start on 127.0.0.1, print the URI
#   scripts/postgres.sh status   print the URI and exit 0 while it runs; exit 3 when it does not
#   scripts/postgres.sh stop     stop the server and remove $DRAWDOWN_PG_DIR
#
# Exit status 69 from start: PostgreSQL is missing and could not be installed.
#
# Environment:
#   DRAWDOWN_PG_DIR       the server's folder [${TMPDIR:-/tmp}/drawdown-pg]; one server per folder
#   DRAWDOWN_PG_PORT      the port to listen on [a free port picked at start]
#   DRAWDOWN_PG_PASSWORD  the password of the user `drawdown` [drawdown]
#
# The server listens only on 127.0.0.1 (and a Unix socket inside its folder), needs a password
# (scram-sha-256) for the user `drawdown`, owns the database `drawdown`, and is no system service.
# The printed URI never holds the password: export PGPASSWORD to connect. PostgreSQL itself comes
# from scripts/system-deps.sh when no initdb is found. Run as root, the server runs as the
# `postgres` user (initdb and postgres refuse root).
set -euo pipefail

dir=${DRAWDOWN_PG_DIR:-${TMPDIR:-/tmp}/drawdown-pg}
password=${DRAWDOWN_PG_PASSWORD:-drawdown}
user=drawdown

find_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [[ -z $bin ]] && command -v pg_ctl >/dev/null 2>&1; then
    bin=$(dirname "$(command -v pg_ctl)")
  fi
  echo "$bin"
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

uri() {
  echo "postgresql://$user@127.0.0.1:$(cat "$dir/port")/drawdown"
}

running() {
  [[ -f $dir/port ]] && as_owner "$(find_bin)/pg_ctl" status -D "$dir/data" >/dev/null 2>&1
}

start() {
  if running; then
    uri
    return
  fi
  local bin
  bin=$(find_bin)
  if [[ -z $bin ]]; then
    "$(dirname "$0")/system-deps.sh" || true
    bin=$(find_bin)
  fi
  if [[ -z $bin ]]; then
    echo "drawdown: PostgreSQL is not installed and could not be installed (no initdb)" >&2
    exit 69
  fi
  local port=${DRAWDOWN_PG_PORT:-$(free_port)}
  rm -rf "$dir/data"
  mkdir -p "$dir"
  chmod 700 "$dir"
  echo "$password" >"$dir/pwfile"
  echo "$port" >"$dir/port"
  [[ $(id -u) -ne 0 ]] || chown -R postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U "$user" --pwfile="$dir/pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  as_owner "$bin/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c fsync=off" \
    >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  PGPASSWORD=$password "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U "$user" -d postgres \
    -c "CREATE DATABASE drawdown OWNER $user" >/dev/null
  uri
}

stop() {
  if [[ -d $dir/data ]]; then
    as_owner "$(find_bin)/pg_ctl" stop -D "$dir/data" -m fast -w >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

status() {
  if running; then
    uri
  else
    echo "drawdown: no server running in $dir" >&2
    exit 3
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 64
    ;;
esac
