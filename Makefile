# The two commands of README.md. Both install whatever is missing first (.ci/setup).
SHELL := /bin/bash
.PHONY: serve test build bench fuzz

## Set up, build and serve the app at http://127.0.0.1:8080 (demo mode: http://127.0.0.1:8080/?demo).
serve:
	bash .ci/setup
	. .ci/env && trunk serve

## Set up and run every check and test suite; the last line is "N passed, N failed".
test:
	bash .ci/test

## The release build alone, into dist/ (host it anywhere, at any sub-path).
build:
	bash .ci/setup
	bash .ci/release-build && bash .ci/dist-size dist

## Benchmarks (figures printed; not part of `make test`): core decode, manager and Shelly RPC,
## decode as wasm under Node's WASI, `bluehome decode` against bthome-ble (needs PyPI), the Scan page
## under a flood of advertisements, and the release build's load on a slow phone (Slow 4G, CPU 4x slower).
bench:
	bash .ci/setup
	. .ci/env && cargo bench -p bluehome-core --features sim
	. .ci/env && bash crates/bluehome-core/benches/wasm.sh
	. .ci/env && python3 crates/bluehome-cli/bench/compare_bthome_ble.py
	# The flood runs 65 s (5 s warm-up, 60 s measured): past .ci/env's 60 s limit per test binary.
	. .ci/env && WASM_BINDGEN_TEST_TIMEOUT=180 cargo test --release -p bluehome --target wasm32-unknown-unknown --test bench_scan -- --include-ignored --nocapture
	bash .ci/release-build && bash .ci/dist-size dist
	node tests/e2e/bench_load.mjs dist

## Every fuzz target for SECONDS seconds each (default 60), then runs, execs/s and coverage per
## target (`make fuzz SECONDS=3600` for an hour each). Not part of `make test`, which runs a few
## seconds of each.
SECONDS ?= 60
fuzz:
	bash .ci/setup
	bash .ci/fuzz $(SECONDS)
