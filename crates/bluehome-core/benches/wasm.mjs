// Runs a wasm32-wasip1 benchmark binary under Node's WASI (Node >= 20), passing its arguments on.
// Usage: node crates/bluehome-core/benches/wasm.mjs path/to/decode-*.wasm --bench
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import { argv } from "node:process";

const [file, ...args] = argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [file, ...args], env: {} });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
wasi.start(instance);
