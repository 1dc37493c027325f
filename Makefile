# Picscripterai: `make run` and `make test` are the two commands of the README. Each sets up
# what it needs on a fresh machine (wasm target, wasm-bindgen-cli, npm packages, Chromium,
# PostgreSQL/Redis for tests) and skips whatever is already there.
#
# The site is built here rather than by cargo-leptos (whose install costs ~25 min here, see
# README): cargo builds the wasm, wasm-split cuts the lazily loaded islands out of it,
# wasm-bindgen makes the JS glue, wasm-opt (npm binaryen) shrinks release wasm and
# style/group-chunks.mjs joins its shared chunks into fewer files, Tailwind (npm) makes the
# CSS. Site settings come from Leptos.toml.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

# Builds are cached outside the clone so that fresh clones (CI) start warm.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/picscripter/target
TOOLS_DIR := $(HOME)/.cache/picscripter/tools

leptos_setting = $(shell sed -n 's/^$(1) *= *"\(.*\)"/\1/p' Leptos.toml)
OUTPUT_NAME := $(call leptos_setting,output-name)
SITE_ROOT := $(call leptos_setting,site-root)
PKG := $(call leptos_setting,site-pkg-dir)
STYLE_FILE := $(call leptos_setting,style-file)
WASM_PROFILE := $(call leptos_setting,lib-profile-release)
# The version Cargo.toml pins; wasm-bindgen-cli must be exactly the same.
WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)".*/\1/p' Cargo.toml)
# The splitter must match the `wasm_split_helpers` that Leptos compiles into the app.
WASM_SPLIT_VERSION := $(shell sed -n '/^name = "wasm_split_helpers"/{n;s/^version = "\(.*\)"/\1/p}' Cargo.lock)
WASM_SPLIT := $(TOOLS_DIR)/wasm-split-$(WASM_SPLIT_VERSION)/bin/wasm-split-cli

# Development builds live beside the release site so that neither overwrites the other.
DEV_SITE := $(SITE_ROOT)-dev
BIN_DEBUG := $(CARGO_TARGET_DIR)/debug/picscripter
BIN_RELEASE := $(CARGO_TARGET_DIR)/release/picscripter
NODE_BIN := style/node_modules/.bin

.PHONY: run sandbox build test bench bench-calendar bench-youtube bench-voice bench-stores profile chaos setup tools ffmpeg services-start services-stop site-dev site-release \
        server-dev server-release test-rust test-e2e test-weight clean-site

## run: set up, build (debug) and serve on http://127.0.0.1:3000 with the embedded default.
run: tools site-dev server-dev
	LEPTOS_SITE_ROOT=$(DEV_SITE) $(BIN_DEBUG) serve

## sandbox: like `run`, with a fake X mounted in the app (no real account needed).
sandbox: tools site-dev server-dev
	LEPTOS_SITE_ROOT=$(DEV_SITE) $(BIN_DEBUG) serve --sandbox

## build: the release binary and site ($(SITE_ROOT)); then `$(BIN_RELEASE) serve` from here.
build: tools site-release server-release
	@echo "built $(BIN_RELEASE) and $(SITE_ROOT)/$(PKG)"

# The object-store emulators the direct-upload tests run against (moto's S3 server and
# gcp-storage-emulator, from PyPI): fixed ports, told to the tests through TEST_S3_ENDPOINT and
# TEST_GCS_ENDPOINT. Without those variables the tests skip, except under CI=true, where they
# fail.
S3_EMULATOR_PORT ?= 19100
GCS_EMULATOR_PORT ?= 19101
export S3_EMULATOR_PORT GCS_EMULATOR_PORT
test: export TEST_S3_ENDPOINT = http://127.0.0.1:$(S3_EMULATOR_PORT)
test: export TEST_GCS_ENDPOINT = http://127.0.0.1:$(GCS_EMULATOR_PORT)

## test: every test: unit and integration (SQLite + PostgreSQL + Redis, and the S3 and GCS
## emulators), the browser tests, then the page-weight check on the release site.
test: tools
	@.ci/services start
	@trap '.ci/services stop' EXIT; .ci/services emulators && \
	  $(MAKE) --no-print-directory test-rust && $(MAKE) --no-print-directory test-e2e && \
	  $(MAKE) --no-print-directory test-weight

# One feature set for the test build and the binary the browser tests run: building the
# binary alone would unify features without the dev-dependencies and recompile most crates.
RUST_TEST := cargo test --workspace --exclude frontend --locked

test-rust:
	$(RUST_TEST)

test-e2e: site-dev
	$(RUST_TEST) --no-run
	SERVER_BIN=$(BIN_DEBUG) LEPTOS_SITE_ROOT=$(abspath $(DEV_SITE)) bash end2end/run.sh

# What each page's first visit downloads, as the browser receives it, against the 250 KB
# budget. The release site is what users download; the debug server serves it just the same.
test-weight: site-release
	$(RUST_TEST) --no-run
	SERVER_BIN=$(BIN_DEBUG) LEPTOS_SITE_ROOT=$(abspath $(SITE_ROOT)) bash end2end/run.sh --config weight.config.ts

## bench: release build, then start-up, idle RSS, /api/me load (SQLite, PostgreSQL), GET /api/posts
## and the publishing pipeline (server/benches/pipeline.rs), each beside the Node design run in
## the same session (../shared/bench-anchors, or BENCH_ANCHORS), then page weights. BENCHMARKS.md
## says what each figure means.
# `cargo bench` builds the binary too, with the bench's feature set: building it apart would
# unify features differently and compile most crates twice.
BENCH := cargo bench --locked -p server --bench pipeline

bench: tools site-release
	$(BENCH) --no-run
	@.ci/services start
	@trap '.ci/services stop' EXIT; anchors=$$(bash server/bench/anchors.sh) && \
	  SERVER_BIN=$(BIN_RELEASE) bash server/bench/http.sh && \
	  SERVER_BIN=$(BIN_RELEASE) bash server/bench/api-posts.sh && \
	  SERVER_BIN=$(BIN_RELEASE) BENCH_ANCHORS_DIR=$$anchors $(BENCH)
	SERVER_BIN=$(BIN_RELEASE) LEPTOS_SITE_ROOT=$(abspath $(SITE_ROOT)) bash end2end/run.sh --config weight.config.ts

## bench-calendar: the calendar's month view with 2,000 posts in the month (release site and
## binary, in Chromium): the server's answer time, the browser's time to show it, and a drag's
## latency from the drop to the post settled in its new day (end2end/perf/calendar.spec.ts).
bench-calendar: tools site-release server-release
	RATE_LIMIT_POST=1000000/min RATE_LIMIT_API=1000000/min SERVER_BIN=$(BIN_RELEASE) \
	  LEPTOS_SITE_ROOT=$(abspath $(SITE_ROOT)) bash end2end/run.sh --config perf.config.ts

## bench-youtube: a 50 MB and a 500 MB video through YouTube's resumable upload to the fake
## (server/benches/youtube_upload.rs): wall time, peak RSS, bytes re-sent after a break at 50 %.
## BENCH_VIDEO_MB=50,500,1000 picks the sizes.
bench-youtube: tools
	cargo bench --locked -p server --bench youtube_upload

## bench-voice: the Human Authenticity Engine's pass and score, the proofreader and emoji
## suggestions on a 2,000-character caption, p50 and p99 (server/benches/voice.rs).
bench-voice:
	cargo bench --locked -p server --bench voice

## bench-stores: full syncs of 10,000 products from each store fake (Shopify under its cost
## bucket, Etsy, Squarespace), a second sync of the unchanged catalogues, the Products page's
## first page and a search at 30,000 products, peak RSS (server/benches/store_sync.rs).
## BENCH_PRODUCTS and BENCH_DATABASE_URL change the size and the database.
bench-stores:
	cargo bench --locked -p server --bench store_sync

## profile: flamegraphs (perf + inferno) of GET /api/posts and of the publishing pipeline on
## PostgreSQL + Redis, one per party, in $(CARGO_TARGET_DIR)/profiles, with each party's hottest
## functions printed (server/bench/profile.sh).
profile: tools site-release
	$(BENCH) --no-run
	@.ci/services start
	@trap '.ci/services stop' EXIT; SERVER_BIN=$(BIN_RELEASE) bash server/bench/profile.sh

## chaos: the full fault campaign (server/tests/campaign) on the release binary: two web
## processes behind nginx, two workers, PostgreSQL and Redis of its own, 1,000 faults and 2,000
## posts due in one second. CHAOS_SEED=n replays a run; `make test` runs a short seeded form.
## The binary is built as `make bench` builds it (one feature set, one build for both).
chaos:
	$(BENCH) --no-run
	@.ci/services start
	@trap '.ci/services stop' EXIT; CHAOS_BIN=$(BIN_RELEASE) $(RUST_TEST) --test chaos -- \
	  --ignored --nocapture the_full_campaign

setup: tools

# --- tools -------------------------------------------------------------------------------

tools: $(TOOLS_DIR)/wasm-target.ok $(TOOLS_DIR)/wasm-bindgen-$(WASM_BINDGEN_VERSION).ok $(WASM_SPLIT) \
       style/node_modules/.ok ffmpeg

# Uploaded videos are probed with ffprobe and get a poster frame from ffmpeg (Debian's
# package, about 25 s to install once).
ffmpeg:
	@command -v ffprobe >/dev/null && command -v ffmpeg >/dev/null || { \
	  echo "installing Debian's ffmpeg (video probing and poster frames)"; \
	  if [ "$$(id -u)" = 0 ]; then root=; else root=sudo; fi; \
	  $$root apt-get update -qq && \
	  $$root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null; }

$(TOOLS_DIR)/wasm-target.ok:
	@mkdir -p $(TOOLS_DIR)
	rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@touch $@

# Not --locked: the crate mirror here lacks a version its lock file names (see BUILD notes).
$(TOOLS_DIR)/wasm-bindgen-$(WASM_BINDGEN_VERSION).ok:
	@mkdir -p $(TOOLS_DIR)
	@if [ "$$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 7 minutes, once)"; \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); fi
	@touch $@

$(WASM_SPLIT):
	@echo "installing wasm-split $(WASM_SPLIT_VERSION) (about a minute, once)"
	cargo install --locked wasm_split_cli_support --version $(WASM_SPLIT_VERSION) --features build-binary \
	  --root $(TOOLS_DIR)/wasm-split-$(WASM_SPLIT_VERSION) --target-dir $(TOOLS_DIR)/build

style/node_modules/.ok: style/package-lock.json
	npm ci --prefix style --no-audit --no-fund
	@touch $@

# --- site --------------------------------------------------------------------------------

WASM_DEBUG := $(CARGO_TARGET_DIR)/wasm32-unknown-unknown/debug/frontend.wasm
WASM_RELEASE := $(CARGO_TARGET_DIR)/wasm32-unknown-unknown/$(WASM_PROFILE)/frontend.wasm

# Splitting needs the linker's relocations; only the browser build gets the flag.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS := -Clink-args=--emit-relocs

# $(call split_and_bind,WASM,PKG DIR): each `#[island(lazy)]` becomes a chunk of its own in
# PKG DIR, loaded when a page shows that island; wasm-bindgen then makes the main module and its
# JS glue. Chunk names change between builds, so the old ones go first.
define split_and_bind
	@mkdir -p $(2)/fonts
	rm -f $(2)/*.wasm $(2)/*.wasm.br $(2)/*.wasm.gz $(2)/__wasm_split*
	$(WASM_SPLIT) --target web --out-name $(OUTPUT_NAME) $(1) $(2)
	wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
	  --out-dir $(2) --out-name $(OUTPUT_NAME) $(2)/$(OUTPUT_NAME).wasm
	rm $(2)/$(OUTPUT_NAME).wasm
endef

site-dev: tools
	cargo build --locked -p frontend --lib --target wasm32-unknown-unknown
	$(call split_and_bind,$(WASM_DEBUG),$(DEV_SITE)/$(PKG))
	$(NODE_BIN)/tailwindcss --input $(STYLE_FILE) --output $(DEV_SITE)/$(PKG)/$(OUTPUT_NAME).css
	cp style/node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2 $(DEV_SITE)/$(PKG)/fonts/

# wasm-opt warns once per chunk about the splitter's name subsections (the names go anyway):
# those lines are dropped from its output. The chunks are optimised, then joined into groups
# (style/group-chunks.mjs, sized as they will be sent), and the groups optimised once more.
wasm_opt = $(NODE_BIN)/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
	--strip-producers --strip-target-features -o $(1) $(1) \
	2> >(grep -v '^warning: unknown name subsection' >&2)

site-release: tools
	cargo build --locked -p frontend --lib --target wasm32-unknown-unknown --profile $(WASM_PROFILE)
	$(call split_and_bind,$(WASM_RELEASE),$(SITE_ROOT)/$(PKG))
	for wasm in $(SITE_ROOT)/$(PKG)/*.wasm; do $(call wasm_opt,$$wasm); done
	node style/group-chunks.mjs $(SITE_ROOT)/$(PKG) $(NODE_BIN)
	for wasm in $(SITE_ROOT)/$(PKG)/group_*.wasm; do $(call wasm_opt,$$wasm); done
	$(NODE_BIN)/tailwindcss --minify --input $(STYLE_FILE) --output $(SITE_ROOT)/$(PKG)/$(OUTPUT_NAME).css
	cp style/node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2 $(SITE_ROOT)/$(PKG)/fonts/
	node style/precompress.mjs $(SITE_ROOT)/$(PKG)

server-dev:
	cargo build --locked -p server --bin picscripter

server-release:
	cargo build --locked -p server --bin picscripter --release

clean-site:
	rm -rf $(SITE_ROOT) $(DEV_SITE)
