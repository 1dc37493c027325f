#!/usr/bin/env bash
# Flamegraphs of the two runs whose goals are missed (BENCHMARKS.md), recorded machine-wide with
# `perf` while they run, one graph per party: `GET /api/posts` (server/bench/api-posts.sh) and the
# publishing pipeline on PostgreSQL + Redis (server/benches/pipeline.rs). Written to
# $CARGO_TARGET_DIR/profiles/<run>-<party>.svg, with each party's hottest functions printed.
# Run by `make profile`, which builds the release binary and starts PostgreSQL and Redis.
# Needs: SERVER_BIN, perf (linux-perf), inferno (installed under $HOME/.cache/picscripter/tools).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${PROFILE_SECONDS:-8}"
out="${CARGO_TARGET_DIR:-target}/profiles"
tools="$HOME/.cache/picscripter/tools/inferno"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
command -v perf >/dev/null ||
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null
[ -x "$tools/bin/inferno-flamegraph" ] ||
  cargo install --locked --quiet inferno --version 0.12.8 --root "$tools"
mkdir -p "$out"

bench_pid=""
# The benches stop their own processes and drop their databases: they are left to finish.
finish_bench() {
  if [ -n "$bench_pid" ]; then wait "$bench_pid" || echo "the bench failed; see its log in $out" >&2; bench_pid=""; fi
}
trap finish_bench EXIT

# Waits until a process whose command line matches $1 runs, then `$2` seconds more.
wait_for_process() {
  for _ in $(seq 600); do
    pgrep -f "$1" >/dev/null && { sleep "$2"; return; }
    kill -0 "$bench_pid" 2>/dev/null || { echo "the bench ended before '$1' started" >&2; exit 1; }
    sleep 0.2
  done
  echo "'$1' did not start" >&2
  exit 1
}

# Records every CPU for $seconds into $out/$1.data, then draws one graph per party: the threads
# named $2 (our runtime's), PostgreSQL's processes and everything.
record() {
  local run="$1" ours="$2"
  perf record -q -e cpu-clock -F 499 -a -g -o "$out/$run.data" -- sleep "$seconds" 2>/dev/null
  perf script -i "$out/$run.data" 2>/dev/null | "$tools/bin/inferno-collapse-perf" >"$out/$run.folded"
  draw "$run" all "."
  draw "$run" ours "^$ours;"
  draw "$run" postgres "^postgres;"
}

# One flamegraph of the stacks of $run whose first frame (the thread's name) matches $3, and
# the party's share of the machine with its hottest functions (self time).
draw() {
  local run="$1" party="$2" pattern="$3"
  local total mine
  total=$(awk '{ n += $NF } END { printf "%.0f\n", n }' "$out/$run.folded")
  grep -E "$pattern" "$out/$run.folded" >"$out/$run-$party.folded" || true
  mine=$(awk '{ n += $NF } END { printf "%.0f\n", n }' "$out/$run-$party.folded")
  [ "$mine" -gt 0 ] || return 0
  "$tools/bin/inferno-flamegraph" --title "$run: $party" <"$out/$run-$party.folded" >"$out/$run-$party.svg"
  awk -v total="$total" -v mine="$mine" -v name="$run-$party" '
    { n = split($0, parts, ";"); leaf = parts[n]; sub(/ [0-9]+$/, "", leaf); self[leaf] += $NF }
    END {
      printf "%s: %.0f %% of the samples (%s.svg); hottest functions, share of its own samples:\n", name, 100 * mine / total, name
      for (f in self) printf "%8.1f %%  %s\n", 100 * self[f] / mine, f | "sort -rn | head -12"
    }' "$out/$run-$party.folded"
  rm -f "$out/$run-$party.folded"
}

echo "== GET /api/posts"
bash server/bench/api-posts.sh >"$out/api-posts.log" 2>&1 &
bench_pid=$!
wait_for_process "wrk -t2" 2
record api-posts tokio-rt-worker
finish_bench

echo "== the publishing pipeline (PostgreSQL + Redis)"
BENCH_SETUPS=postgres-redis cargo bench --locked -q -p server --bench pipeline >"$out/pipeline.log" 2>&1 &
bench_pid=$!
wait_for_process "picscripter worker" 2
record pipeline tokio-rt-worker
finish_bench
echo "flamegraphs: $out/*.svg"
