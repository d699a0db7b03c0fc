#!/bin/sh
# Builds the decode benchmark for wasm32-wasip1 and runs it under Node's WASI.
# Needs: rustup target add wasm32-wasip1; Node >= 20. Run from the repository root.
set -eu
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
out=$(cargo bench -p bluehome-core --bench decode --target wasm32-wasip1 --no-run --message-format=json 2>/dev/null \
  | sed -n 's/.*"executable":"\([^"]*decode[^"]*\.wasm\)".*/\1/p' | tail -n 1)
[ -n "$out" ] || { echo "wasm bench build failed" >&2; exit 1; }
exec node --no-warnings "$(dirname "$0")/wasm.mjs" "$out" "${@:---bench}"
