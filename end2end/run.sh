#!/usr/bin/env bash
# Runs the browser tests against the real built server: starts `picscripter serve` on a free
# port with a fresh data directory, waits until /readyz answers, runs Playwright, and stops
# the server by its PID whatever happens.
#   SERVER_BIN   the server binary (the Makefile passes the debug build)
#   LEPTOS_SITE_ROOT  the built site it serves
# Arguments go to Playwright: the page-weight check passes `--config weight.config.ts`.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null; then
  echo "installing Debian's Chromium for the browser tests"
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
[ -f node_modules/.ok ] && [ node_modules/.ok -nt package-lock.json ] || { npm ci --no-audit --no-fund; touch node_modules/.ok; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data_dir=$(mktemp -d)
log="$data_dir/server.log"
mkdir -p artifacts

# The sandbox: X is the built-in fake, so the publishing tests need no real account. Retries
# come quickly so a test can watch one.
DATA_DIR="$data_dir" PICSCRIPTER_ADDR="127.0.0.1:$port" PUBLISH_BACKOFF_BASE_MS=500 POST_METRICS_SECS=2 \
  "$SERVER_BIN" serve --sandbox --leptos-config ../Leptos.toml >"$log" 2>&1 &
server_pid=$!
cleanup() {
  kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$data_dir"
}
trap cleanup EXIT

ready=""
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=yes; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "the server did not become ready; its log:" >&2
  cat "$log" >&2
  exit 1
fi

# On failure the server's warnings come first and Playwright's summary last, so the tail of a CI
# log names the failing test; the whole server log is kept in artifacts/.
report="$data_dir/playwright.txt"
if ! E2E_BASE_URL="http://127.0.0.1:$port" npx playwright test "$@" 2>&1 | tee "$report"; then
  cp "$log" artifacts/server.log
  echo "server warnings and errors (whole log: end2end/artifacts/server.log):" >&2
  grep -v ' INFO ' "$log" | tail -n 40 >&2 || true
  echo "Playwright's summary:" >&2
  sed -n '/^  [0-9]*) /,$p' "$report" | tail -n 80 >&2
  exit 1
fi
