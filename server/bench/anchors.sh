#!/usr/bin/env bash
# The Node design's anchor workloads (Express + BullMQ, `../shared/bench-anchors` beside the
# repository, or BENCH_ANCHORS), made ready to run beside ours: copied under
# $HOME/.cache/picscripter/anchors (their scripts write files; the shared copy stays as it is),
# their npm packages installed, and their PostgreSQL role and database `bench` created.
# Prints the copy's path. Needs PostgreSQL and Redis up (`.ci/services start`).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="${BENCH_ANCHORS:-$root/../shared/bench-anchors}"
dest="$HOME/.cache/picscripter/anchors"

[ -f "$src/package.json" ] || { echo "the anchors are not at $src (set BENCH_ANCHORS)" >&2; exit 1; }
mkdir -p "$dest"
# Their files, not their installed packages or generated tokens; times kept, so that an
# unchanged lock file does not reinstall the packages.
(cd "$src" && find . -path ./node_modules -prune -o -type f -print0) |
  (cd "$src" && xargs -0 cp -p --parents -t "$dest")
if [ ! -f "$dest/node_modules/.ok" ] || [ "$dest/package-lock.json" -nt "$dest/node_modules/.ok" ]; then
  npm ci --prefix "$dest" --no-audit --no-fund >&2
  touch "$dest/node_modules/.ok"
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { as_root su postgres -c "psql -q -h /var/run/postgresql $*"; }
as_postgres "-tc \"SELECT 1 FROM pg_roles WHERE rolname='bench'\"" | grep -q 1 ||
  as_postgres "-c \"CREATE ROLE bench LOGIN PASSWORD 'bench'\"" >&2
as_postgres "-tc \"SELECT 1 FROM pg_database WHERE datname='bench'\"" | grep -q 1 ||
  as_postgres "-c \"CREATE DATABASE bench OWNER bench\"" >&2
echo "$dest"
