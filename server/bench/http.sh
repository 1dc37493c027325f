#!/usr/bin/env bash
# Figures for the release binary (run by `make bench`, which builds it and starts PostgreSQL):
#   start-up to ready on an existing database (median of 5), idle RSS, RSS after load,
#   GET /api/me with a Bearer token under wrk (2 threads, 50 connections, 15 s): requests/s
#   and p99, on SQLite and on PostgreSQL. (Page weights: end2end/weight, also run by `make bench`.)
# Needs: SERVER_BIN (the Makefile sets it), wrk, curl.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v wrk >/dev/null || {
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
}

duration="${BENCH_SECONDS:-15}"
pg_admin="postgres://picscripter:picscripter@127.0.0.1:5432/postgres"
work=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi
}
cleanup() {
  stop_server
  [ -n "${pg_db:-}" ] && psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

# Starts the server with the given DATABASE_URL (empty: SQLite in $work) and sets
# `server_pid` and `startup_secs` (seconds to ready). Not run in a subshell: it sets globals.
start_server() {
  local database_url="$1"
  local started
  started=$(date +%s.%N)
  DATA_DIR="$work/data" DATABASE_URL="$database_url" PICSCRIPTER_ADDR="127.0.0.1:$port" \
    RATE_LIMIT_API=1000000/s RATE_LIMIT_AUTH=1000000/s RUST_LOG=warn \
    "$SERVER_BIN" serve >>"$work/server.log" 2>&1 &
  server_pid=$!
  until curl -fsS "$base/readyz" >/dev/null 2>&1; do
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.01
  done
  startup_secs=$(python3 -c "print(round($(date +%s.%N) - $started, 3))")
}

rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }

measure() {
  local name="$1" database_url="$2"
  start_server "$database_url"   # the first start creates and migrates the database
  local email="bench-$RANDOM@example.com"
  curl -fsS -H 'content-type: application/json' -d "{\"email\":\"$email\",\"password\":\"bench password 1\"}" "$base/api/auth/register" >/dev/null
  stop_server

  local startups=()
  for _ in 1 2 3 4 5; do
    start_server "$database_url"
    startups+=("$startup_secs")
    stop_server
  done
  local startup
  startup=$(printf '%s\n' "${startups[@]}" | sort -n | sed -n 3p)

  start_server "$database_url"
  local idle
  idle=$(rss_mib)
  local token
  token=$(curl -fsS -H 'content-type: application/json' -d "{\"email\":\"$email\",\"password\":\"bench password 1\"}" "$base/api/auth/login" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  wrk -t2 -c50 -d"${duration}s" --latency -H "Authorization: Bearer $token" "$base/api/me" >"$work/wrk.txt"
  local rps p99 non2xx loaded
  rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.txt")
  p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.txt")
  non2xx=$(awk '/Non-2xx/ { print $NF }' "$work/wrk.txt")
  loaded=$(rss_mib)
  stop_server
  printf '%-10s  start-up to ready %6.3f s   idle RSS %6s MiB   GET /api/me %9s req/s   p99 %8s   RSS after load %6s MiB   non-2xx %s\n' \
    "$name" "$startup" "$idle" "$rps" "$p99" "$loaded" "${non2xx:-0}"
}

echo "picscripter $($SERVER_BIN --version | cut -d' ' -f2), $(nproc) cores, wrk -t2 -c50 -d${duration}s"
measure sqlite ""
pg_db="picscripter_bench_$RANDOM"
psql -q "$pg_admin" -c "CREATE DATABASE $pg_db" >/dev/null
measure postgres "postgres://picscripter:picscripter@127.0.0.1:5432/$pg_db?sslmode=disable"
