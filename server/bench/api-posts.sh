#!/usr/bin/env bash
# GET /api/posts side by side with the Node design (Express, one process, a pg pool of 10): both
# on the same PostgreSQL, each with 1,000 users of 100 posts, each request a different user's
# Bearer token (wrk -t2 -c50, 15 s, BENCH_SECONDS to change), each answering that user's 20
# newest posts. Ours also checks the session is not revoked and returns each post's targets.
# Prints requests/s, p50, p99 and RSS after load for both, and the ratios.
# Needs: SERVER_BIN (the Makefile sets it), wrk, psql, node; PostgreSQL and Redis up.
set -euo pipefail
cd "$(dirname "$0")/../.."

duration="${BENCH_SECONDS:-15}"
anchors=$(bash server/bench/anchors.sh)
pg_admin="postgres://picscripter:picscripter@127.0.0.1:5432/postgres"
db="picscripter_bench_posts_$RANDOM"
work=$(mktemp -d)
pid=""
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=""; fi; }
cleanup() {
  stop
  psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
wait_for() { until curl -fsS "$1" >/dev/null 2>&1; do kill -0 "$pid" 2>/dev/null || { cat "$work"/*.log >&2; exit 1; }; sleep 0.05; done; }

# wrk's figures: requests/s, p50 and p99 (as wrk prints them), non-2xx answers.
run_wrk() {
  wrk -t2 -c50 -d"${duration}s" --latency -s "$1" "$2" >"$work/wrk.txt"
  awk '/Requests\/sec/ { rps = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
       /Non-2xx/ { bad = $NF } END { print rps, p50, p99, (bad ? bad : 0) }' "$work/wrk.txt"
}

# --- ours -----------------------------------------------------------------------------------
psql -q "$pg_admin" -c "CREATE DATABASE $db" >/dev/null
# Without TLS, as the anchor's `pg` client connects (Debian's PostgreSQL offers TLS, which sqlx
# takes by default: on 127.0.0.1 it only costs CPU on both ends).
url="postgres://picscripter:picscripter@127.0.0.1:5432/$db?sslmode=disable"
DATABASE_URL="$url" DATA_DIR="$work/data" "$SERVER_BIN" migrate >/dev/null
# The same shape as the anchor's seed: 100 posts a user, times spread over two weeks, a quarter
# in each state; one X account per user, one target per post, one live session per user.
psql -q "$url" <<'SQL'
INSERT INTO users (id, email, password_hash, display_name, time_zone, created_at, updated_at)
SELECT md5('user' || g)::uuid, 'user' || g || '@example.com', 'unused', NULL, 'UTC', now(), now()
FROM generate_series(1, 1000) g;
INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at)
SELECT md5('session' || g)::uuid, md5('user' || g)::uuid, now(), now() + interval '1 day', NULL
FROM generate_series(1, 1000) g;
INSERT INTO connections (id, user_id, platform, account_id, handle, display_name, avatar_url, status,
  access_key_id, access_nonce, access_ciphertext, refresh_key_id, refresh_nonce, refresh_ciphertext,
  token_expires_at, token_version, refresh_claimed_until, scopes, created_at, updated_at)
SELECT md5('connection' || g)::uuid, md5('user' || g)::uuid, 'x', 'account' || g, 'shop' || g, NULL,
  NULL, 'active', 'unused', '\x00', '\x00', NULL, NULL, NULL, NULL, 0, NULL, 'tweet.read', now(), now()
FROM generate_series(1, 1000) g;
INSERT INTO posts (id, user_id, text, scheduled_at, created_at, updated_at)
SELECT md5('post' || g)::uuid, md5('user' || (1 + g % 1000))::uuid,
  'Post #' || g || ': ' || repeat('lorem ipsum dolor sit amet ', 1 + g % 8),
  now() + ((g % 20000) - 10000) * interval '1 minute', now() - g * interval '1 second', now()
FROM generate_series(1, 100000) g;
INSERT INTO post_targets (id, post_id, user_id, connection_id, platform, account_handle, text, status,
  external_id, url, error, attempts, due_at, next_attempt_at, sent_at, lease_token, published_at,
  position, created_at, updated_at)
SELECT md5('target' || g)::uuid, md5('post' || g)::uuid, md5('user' || (1 + g % 1000))::uuid,
  md5('connection' || (1 + g % 1000))::uuid, 'x', 'shop' || (1 + g % 1000), NULL,
  (ARRAY['scheduled', 'published', 'failed', 'draft'])[1 + g % 4], NULL, NULL, NULL, 0,
  now() + ((g % 20000) - 10000) * interval '1 minute', NULL, NULL, NULL, NULL, 0, now(), now()
FROM generate_series(1, 100000) g;
ANALYZE users, sessions, connections, posts, post_targets;
SQL

# 32 random bytes in hex: a fixed length the configuration accepts on every run.
secret="bench-secret-$(od -An -tx1 -N32 /dev/urandom | tr -d " \n")"
python3 - "$secret" "$work/ours.lua" <<'PY'
import base64, hashlib, hmac, json, sys, time, uuid
secret, out = sys.argv[1].encode(), sys.argv[2]
b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
now = int(time.time())
tokens = []
for g in range(1, 1001):
    ident = lambda name: str(uuid.UUID(hashlib.md5(f"{name}{g}".encode()).hexdigest()))
    claims = b64(json.dumps({"sub": ident("user"), "sid": ident("session"), "iat": now, "exp": now + 86400}).encode())
    signature = b64(hmac.new(secret, f"{header}.{claims}".encode(), hashlib.sha256).digest())
    tokens.append(f'  "{header}.{claims}.{signature}",')
with open(out, "w") as lua:
    lua.write("local tokens = {\n" + "\n".join(tokens) + "\n}\nlocal i = 0\n")
    lua.write('request = function()\n  i = i + 1\n  return wrk.format("GET", "/api/posts?limit=20", '
              '{ ["Authorization"] = "Bearer " .. tokens[(i % #tokens) + 1] })\nend\n')
PY

port=$(free_port)
DATABASE_URL="$url" DATA_DIR="$work/data" JWT_SECRET="$secret" PICSCRIPTER_ADDR="127.0.0.1:$port" \
  RATE_LIMIT_API=100000000/min RUST_LOG=warn "$SERVER_BIN" serve --no-workers >"$work/ours.log" 2>&1 &
pid=$!
wait_for "http://127.0.0.1:$port/readyz"
first=$(curl -fsS -H "Authorization: Bearer $(sed -n 2p "$work/ours.lua" | cut -d'"' -f2)" \
  "http://127.0.0.1:$port/api/posts?limit=20" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$first" = 20 ] || { echo "ours answered $first posts, not 20" >&2; exit 1; }
read -r ours_rps ours_p50 ours_p99 ours_bad < <(run_wrk "$work/ours.lua" "http://127.0.0.1:$port")
ours_rss=$(rss_mib "$pid")
stop

# --- the Node design ------------------------------------------------------------------------
(cd "$anchors" && node api/seed.js >/dev/null && node api/make-tokens.js 1000 >/dev/null)
port=$(free_port)
(cd "$anchors" && PORT=$port exec node api/server.js) >"$work/node.log" 2>&1 &
pid=$!
wait_for "http://127.0.0.1:$port/healthz"
read -r node_rps node_p50 node_p99 node_bad < <(run_wrk "$anchors/api/tokens.lua" "http://127.0.0.1:$port")
node_rss=$(rss_mib "$pid")
stop

ms() { awk -v t="$1" 'BEGIN { if (t ~ /us$/) print t / 1000; else if (t ~ /ms$/) print t + 0; else print t * 1000 }'; }
printf 'GET /api/posts (20 newest of 100, 1,000 users, wrk -t2 -c50 -d%ss)\n' "$duration"
printf '  %-22s %9s req/s   p50 %8s   p99 %8s   RSS after load %6s MiB   non-2xx %s\n' \
  "picscripter" "$ours_rps" "$ours_p50" "$ours_p99" "$ours_rss" "$ours_bad" \
  "Node design (Express)" "$node_rps" "$node_p50" "$node_p99" "$node_rss" "$node_bad"
awk -v a="$ours_rps" -v b="$node_rps" -v pa="$(ms "$ours_p99")" -v pb="$(ms "$node_p99")" \
  -v ra="$ours_rss" -v rb="$node_rss" 'BEGIN {
  printf "  ratios: requests/s %.2fx (goal >= 4x), p99 %.2f of Node'"'"'s (goal <= 0.25), RSS %.2f of Node'"'"'s\n", a / b, pa / pb, ra / rb }'
