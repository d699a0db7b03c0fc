#!/usr/bin/env python3
"""Times `bluehome decode` against bthome-ble 3.25.0 (the decoder Home Assistant uses) doing the
same JSON Lines work, and prints the ratio (issue 3 target: bluehome at least 40x faster).

Both sides read the same 100,000 lines (advertisements taken from the public vectors: plain,
encrypted with a key, v1, Shelly manufacturer data, errors), and for every line: parse the JSON,
decode it with a fresh parser (bthome-ble: a new `BTHomeBluetoothDeviceData` per line, as the
issue asks), write one JSON line.

Usage (from the repository root):
    python3 crates/bluehome-cli/bench/compare_bthome_ble.py [--lines N] [--bluehome PATH]

It makes its own virtualenv (default /tmp/bluehome-bench-venv, override with BLUEHOME_BENCH_VENV)
with bthome-ble==3.25.0, and builds `bluehome` in release mode unless --bluehome is given.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
VECTORS = REPO / "crates/bluehome-core/tests/data/bthome_public.json"
VENV = Path(os.environ.get("BLUEHOME_BENCH_VENV", "/tmp/bluehome-bench-venv"))
BTHOME_BLE = "bthome-ble==3.25.0"


def ensure_venv():
    """Re-runs this script inside a virtualenv that has bthome-ble 3.25.0."""
    if os.environ.get("BLUEHOME_BENCH_IN_VENV") == "1":
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating virtualenv {VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    check = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('bthome-ble'))"],
        capture_output=True, text=True)
    if check.stdout.strip() != "3.25.0":
        print(f"installing {BTHOME_BLE} ...", file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "-q", BTHOME_BLE], check=True)
    env = dict(os.environ, BLUEHOME_BENCH_IN_VENV="1")
    os.execve(str(python), [str(python), __file__, *sys.argv[1:]], env)


def records():
    """One input record per public vector that has service data."""
    data = json.loads(VECTORS.read_text())
    out = []
    for section in ("test_vectors", "spec_vectors", "shelly_vectors", "edge_vectors"):
        for v in data[section]:
            if v.get("service_data_hex") is None:
                continue
            rec = {"address": v["mac"], "rssi": -60,
                   "service_data": {v["service_uuid"]: v["service_data_hex"]}}
            if v.get("local_name"):
                rec["local_name"] = v["local_name"]
            key = v.get("bindkey_hex")
            if key and len(key) == 32:
                rec["bindkey"] = key
            mfd = v.get("manufacturer_data_hex")
            if mfd:
                # The vectors include the company id (a90b); the input format does not.
                rec["manufacturer_data"] = {"2985": mfd[4:]}
            out.append(json.dumps(rec, separators=(",", ":")))
    return out


PYTHON_SIDE = r'''
import json, sys
from bleak.backends.device import BLEDevice
from bthome_ble import BTHomeBluetoothDeviceData
from habluetooth import BluetoothServiceInfoBleak

def main():
    write = sys.stdout.write
    for line in sys.stdin:
        rec = json.loads(line)
        key = rec.get("bindkey")
        parser = BTHomeBluetoothDeviceData(bindkey=bytes.fromhex(key) if key else None)
        service_data = {u: bytes.fromhex(h) for u, h in rec.get("service_data", {}).items()}
        mfd = {int(c): bytes.fromhex(h) for c, h in rec.get("manufacturer_data", {}).items()}
        address = rec.get("mac") or rec["address"]
        info = BluetoothServiceInfoBleak(
            name=rec.get("local_name") or address, address=address, rssi=rec.get("rssi", -60),
            manufacturer_data=mfd, service_data=service_data, service_uuids=list(service_data),
            source="local", device=BLEDevice(address, None, {}), advertisement=None,
            connectable=False, time=0.0, tx_power=None)
        try:
            update = parser.update(info)
            values = {k.key: v.native_value for k, v in update.entity_values.items()}
            values.update({k.key: v.native_value for k, v in update.binary_entity_values.items()})
            events = {k.key: v.event_type for k, v in update.events.items()}
            out = {"address": rec["address"], "values": values, "events": events}
        except Exception as e:  # bthome-ble raises on some malformed input
            out = {"address": rec["address"], "error": repr(e)}
        write(json.dumps(out, default=str, ensure_ascii=False))
        write("\n")

main()
'''


def timed(cmd, stdin_path, stdout_path):
    with open(stdin_path, "rb") as src, open(stdout_path, "wb") as dst:
        start = time.perf_counter()
        subprocess.run(cmd, stdin=src, stdout=dst, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start


def main():
    ensure_venv()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--bluehome", help="path to a built bluehome binary")
    ap.add_argument("--rust-runs", type=int, default=5, help="bluehome runs (best is kept)")
    ap.add_argument("--python-runs", type=int, default=2, help="bthome-ble runs (best is kept)")
    args = ap.parse_args()

    bluehome = args.bluehome
    if not bluehome:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "bluehome-cli"], cwd=REPO, check=True)
        target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
        bluehome = str(target / "release" / "bluehome")

    pool = records()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lines = tmp / "in.jsonl"
        with lines.open("w") as f:
            for i in range(args.lines):
                f.write(pool[i % len(pool)])
                f.write("\n")
        script = tmp / "bthome_ble_side.py"
        script.write_text(PYTHON_SIDE)

        # Best of several runs on both sides: the machine may be shared, and the minimum is the
        # least disturbed measurement (bluehome is cheap to repeat, bthome-ble is not).
        rust = min(timed([bluehome, "decode"], lines, tmp / "rust.jsonl") for _ in range(args.rust_runs))
        python = min(timed([sys.executable, str(script)], lines, tmp / "python.jsonl")
                     for _ in range(args.python_runs))
        rust_out = (tmp / "rust.jsonl").read_text().count("\n")
        python_out = (tmp / "python.jsonl").read_text().count("\n")

    assert rust_out == args.lines, f"bluehome wrote {rust_out} lines for {args.lines}"
    assert python_out == args.lines, f"bthome-ble wrote {python_out} lines for {args.lines}"
    print(f"lines:                 {args.lines} ({len(pool)} distinct advertisements from the public vectors)")
    print(f"bluehome decode:       {rust:8.3f} s  ({rust / args.lines * 1e9:8.0f} ns/line, best of {args.rust_runs})")
    print(f"bthome-ble 3.25.0:     {python:8.3f} s  ({python / args.lines * 1e9:8.0f} ns/line, best of {args.python_runs})")
    print(f"ratio:                 {python / rust:8.1f}x faster (target: at least 40x)")


if __name__ == "__main__":
    main()
