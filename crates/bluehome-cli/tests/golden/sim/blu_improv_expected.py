# Writes tests/golden/sim/{blu_*,improv_*}: input lines, and the expected answers computed here
# from the rules in crates/bluehome-cli/README.md (frames and checksums by hand, BLU keys with
# hashlib, encrypted BTHome with the cryptography package), independently of bluehome.
# Run from crates/bluehome-cli: python3 tests/golden/sim/blu_improv_expected.py tests/golden/sim
import hashlib, json, os, struct, sys
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

ROOT = sys.argv[1]
REFUSED = ("the device accepts connections only from a bonded client or in pairing mode "
           "(hold its button for more than 10 s)")

def ok(**kw):
    d = {"ok": True}; d.update(kw); return d
def err(att, name, detail=None):
    d = {"ok": False, "att": att, "error": name}
    if detail is not None: d["detail"] = detail
    return d
def data(b): return ok(data=b.hex())
def jdump(o): return json.dumps(o, separators=(",", ":"), ensure_ascii=False)

def case(name, device, args, pairs):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "device"), "w") as f: f.write(device + "\n")
    with open(os.path.join(d, "args"), "w") as f: f.write(args + "\n")
    with open(os.path.join(d, "input.jsonl"), "w") as f:
        for req, _ in pairs: f.write(jdump(req) + "\n")
    with open(os.path.join(d, "expected.jsonl"), "w") as f:
        for _, ans in pairs: f.write(jdump(ans) + "\n")

# ---- Shelly BLU ----
def mfd(flags, model, mac):
    return (bytes([0x01]) + struct.pack("<H", flags) + bytes([0x0b]) + struct.pack("<H", model)
            + bytes([0x0a]) + bytes(reversed(mac)))
def key_for(mac, passkey, generation):
    h = hashlib.sha256(b"bluehome sim BLU key" + mac + struct.pack("<I", passkey)
                       + struct.pack("<I", generation)).digest()
    return h[:16]
def bthome(objects, key=None, mac=None, counter=None):
    body = b"".join(objects)
    if key is None:
        return bytes([0x44]) + body          # v2, trigger-based, plain
    info = 0x45                               # v2, trigger-based, encrypted
    nonce = mac + b"\xd2\xfc" + bytes([info]) + struct.pack("<I", counter)
    ct = AESCCM(key, tag_length=4).encrypt(nonce, body, None)
    return bytes([info]) + ct[:-4] + struct.pack("<I", counter) + ct[-4:]
def macstr(mac): return ":".join("%02X" % b for b in mac)
def record(t, mac, name, sd, md, rssi=-55):
    r = {"time": t, "address": macstr(mac), "rssi": rssi, "local_name": name,
         "service_data": {"fcd2": sd.hex()}, "manufacturer_data": {"2985": md.hex()}}
    return dict(sorted(r.items()))  # record keys are printed in sorted order

# Case: Button1 encryption, key, factory reset.
mac = bytes.fromhex("3C2EF5B10001")
c1 = "AA:BB:CC:00:00:01"
key1 = key_for(mac, 123456, 1)
pkt = lambda n: bytes([0x00, n % 256]) + bytes([0x01, 100 - (n // 50) % 10])
adv1 = record(0, mac, "SBBT-002C", bthome([pkt(1), b"\x3a\x00"]), mfd(0x19, 1, mac))
adv2 = record(1.5, mac, "SBBT-002C",
              bthome([pkt(2), b"\x3a\x01"], key1, mac, 2), mfd(0x09, 1, mac))
adv3 = record(1.5, mac, "SBBT-002C", bthome([pkt(3), b"\x3a\x01"]), mfd(0x09, 1, mac))
case("blu_encryption_key_reset", "blu", "--virtual-clock --model SBBT-002C", [
    ({"op": "connect", "client": c1}, err(14, "disconnected", REFUSED)),
    ({"op": "advertisements"}, ok(advertisements=[])),
    ({"op": "press"}, ok()),
    ({"op": "advertisements"}, ok(advertisements=[adv1])),
    ({"op": "connect", "client": c1}, ok()),
    ({"op": "read", "char": "firmware_revision"}, data(b"1.0.23")),
    ({"op": "read", "char": "beacon_mode"}, data(b"\x00")),
    ({"op": "read", "char": "encryption_key"}, err(5, "insufficient_authentication")),
    ({"op": "write", "char": "beacon_mode", "data": "01"}, err(5, "insufficient_authentication")),
    ({"op": "pair"}, ok()),
    ({"op": "read", "char": "eb0fb41b-af4b-4724-a6f9-974f55aba81a"}, data(bytes(16))),
    ({"op": "read", "char": "passkey"}, err(2, "read_not_permitted")),
    ({"op": "write", "char": "passkey", "data": struct.pack("<I", 1000000).hex()},
     err(0x13, "value_not_allowed")),
    ({"op": "write", "char": "passkey", "data": "40e201"}, err(0x0d, "invalid_attribute_value_length")),
    ({"op": "write", "char": "passkey", "data": struct.pack("<I", 123456).hex()}, ok()),
    ({"op": "read", "char": "encryption_key"}, data(key1)),
    ({"op": "write", "char": "encryption_key", "data": key1.hex()}, err(3, "write_not_permitted")),
    ({"op": "advance", "ms": 1500}, ok()),
    ({"op": "press", "ms": 200}, ok()),
    ({"op": "advertisements"}, ok(advertisements=[adv2])),
    ({"op": "write", "char": "factory_reset", "data": "01"}, ok()),
    ({"op": "read", "char": "beacon_mode"}, err(14, "disconnected")),
    ({"op": "connect", "client": c1}, err(14, "disconnected", REFUSED)),
    ({"op": "press", "ms": 200}, ok()),
    ({"op": "advertisements"}, ok(advertisements=[adv3])),
])

# Case: Motion settings, ranges, optional characteristics, four bonds.
mac5 = bytes.fromhex("3C2EF5B10005")
sample = bthome([pkt(1), b"\x05" + struct.pack("<I", 911)[:3], b"\x21\x01"])
bond_steps = []
for i, t in [(2, 1000), (3, 2000), (4, 3000)]:
    bond_steps += [({"op": "advance", "ms": 1000}, ok()), ({"op": "press"}, ok()),
                   ({"op": "connect", "client": "AA:BB:CC:00:00:0%d" % i}, ok()),
                   ({"op": "pair"}, ok())]
case("blu_motion_settings_bonds", "blu",
     "--virtual-clock --model SBMO-003Z --without motion_led --undocumented", [
    ({"op": "press"}, ok()),
    ({"op": "connect", "client": c1}, ok()),
    ({"op": "pair"}, ok()),
    ({"op": "read", "char": "motion_sensitivity"}, data(b"\x01")),
    ({"op": "write", "char": "motion_sensitivity", "data": "02"}, ok()),
    ({"op": "read", "char": "21b5b57b-da8d-4ea4-baf8-7654a2214650"}, data(b"\x02")),
    ({"op": "write", "char": "motion_sensitivity", "data": "03"}, err(0x13, "value_not_allowed")),
    ({"op": "write", "char": "motion_sensitivity", "data": "0102"},
     err(0x0d, "invalid_attribute_value_length")),
    ({"op": "read", "char": "motion_pulse_count"}, data(b"\x02")),
    ({"op": "write", "char": "motion_pulse_count", "data": "00"}, err(0x13, "value_not_allowed")),
    ({"op": "read", "char": "motion_led"}, err(10, "attribute_not_found")),
    ({"op": "read", "char": "time_sync"}, err(10, "attribute_not_found")),
    ({"op": "read", "char": "pin"}, err(10, "attribute_not_found", 'unknown characteristic "pin"')),
    ({"op": "read", "char": "motion_blind_time"}, data(struct.pack("<H", 60))),
    ({"op": "write", "char": "motion_blind_time", "data": struct.pack("<H", 29).hex()},
     err(0x13, "value_not_allowed")),
    ({"op": "write", "char": "motion_blind_time", "data": struct.pack("<H", 300).hex()}, ok()),
    ({"op": "read", "char": "sample_bthome"}, data(sample)),
    ({"op": "write", "char": "beacon_mode", "data": "01"}, ok()),
    ({"op": "read", "char": "beacon_mode"}, data(b"\x01")),
] + bond_steps + [
    ({"op": "advance", "ms": 1000}, ok()),
    ({"op": "connect", "client": c1}, ok()),            # c1 used again at 4 s: c2 is now least used
    ({"op": "press"}, ok()),
    ({"op": "connect", "client": "AA:BB:CC:00:00:05"}, ok()),
    ({"op": "pair"}, ok()),                              # the fifth bond replaces c2
    ({"op": "disconnect"}, ok()),
    ({"op": "connect", "client": "AA:BB:CC:00:00:02"}, err(14, "disconnected", REFUSED)),
    ({"op": "connect", "client": "AA:BB:CC:00:00:03"}, ok()),
    ({"op": "read", "char": "motion_blind_time"}, data(struct.pack("<H", 300))),
])

# Case: H&T ZB periodic readings and its temperature offset.
mac11 = bytes.fromhex("3C2EF5B10011")
def ht(n, offset_tenths=0):
    hum = 40 + (n * 3) % 30
    temp = 200 + (n * 7) % 50 + offset_tenths
    return bthome([pkt(n), bytes([0x2e, hum]), b"\x45" + struct.pack("<h", temp)])
case("blu_ht_zb_offset", "blu", "--virtual-clock --model SBHT-203C", [
    ({"op": "advertisements"}, ok(advertisements=[])),
    ({"op": "advance", "ms": 1000}, ok()),
    ({"op": "advertisements"}, ok(advertisements=[
        record(1, mac11, "SBHT-203C", ht(1), mfd(0x01, 0x11, mac11))])),
    ({"op": "press"}, ok()),
    ({"op": "advertisements"}, ok(advertisements=[
        record(1, mac11, "SBHT-203C", ht(2), mfd(0x11, 0x11, mac11))])),
    ({"op": "connect", "client": c1}, ok()),
    ({"op": "pair"}, ok()),
    ({"op": "read", "char": "beacon_mode"}, err(10, "attribute_not_found")),
    ({"op": "read", "char": "temperature_offset"}, data(b"\x00\x00")),
    ({"op": "write", "char": "temperature_offset", "data": "e7"},
     err(0x0d, "invalid_attribute_value_length")),
    ({"op": "write", "char": "temperature_offset", "data": struct.pack("<h", -25).hex()}, ok()),
    ({"op": "advance", "ms": 60000}, ok()),
    ({"op": "advertisements"}, ok(advertisements=[
        record(61, mac11, "SBHT-203C", ht(3, -25), mfd(0x01, 0x11, mac11))])),
])

# ---- Improv ----
def cs(b): return bytes([sum(b) & 0xff])
def frame(cmd, payload):
    f = bytes([cmd, len(payload)]) + payload
    return f + cs(f)
def strings(*ss):
    return b"".join(bytes([len(s)]) + s for s in ss)
def wifi(ssid, pw): return frame(1, strings(ssid, pw))
info = frame(3, strings(b"ESPHome", b"2026.1.0", b"ESP32-C3", b"bluehome Improv sim"))
scan = frame(4, strings(b"HomeNet", b"-48", b"WPA2", b"Guest", b"-61", b"NO",
                        b"Neighbour", b"-80", b"WPA"))
redirect = frame(1, strings(b"http://192.168.1.43/"))
improv_mac = "24:58:7C:1D:2E:3F"
def improv_adv(t, state, caps):
    # What an active scan hears: the advertising data (UUID, service data) and the scan
    # response (name). Until 1 s after the start (and for 1 s every 60 s) ESPHome advertises
    # its name without the service data (esphome/esphome#10918); state is None then.
    r = {"time": t, "address": improv_mac, "local_name": "improv-sim"}
    if state is not None:
        r["service_data"] = {"4677": bytes([state, caps, 0, 0, 0, 0]).hex()}
    return dict(sorted(r.items()))
W = lambda b: {"op": "write", "char": "rpc_command", "data": b.hex()}
R = lambda c: {"op": "read", "char": c}
case("improv_provisioning", "improv", "--virtual-clock", [
    (R("state"), err(14, "disconnected")),
    ({"op": "connect", "client": "browser"}, ok()),
    (R("capabilities"), data(b"\x07")),
    (R("state"), data(b"\x01")),
    (R("error"), data(b"\x00")),
    (R("rpc_result"), data(b"")),
    ({"op": "advertisements"}, ok(advertisements=[improv_adv(0, None, None)])),
    (W(wifi(b"HomeNet", b"correct horse")), ok()),
    (R("error"), data(b"\x04")),
    ({"op": "press"}, ok()),
    (R("00467768-6228-2272-4663-277478268001"), data(b"\x02")),
    (W(frame(3, b"")), ok()),
    (R("error"), data(b"\x00")),
    (R("rpc_result"), data(info)),
    (W(frame(4, b"")), ok()),
    (R("rpc_result"), data(info)),
    ({"op": "advance", "ms": 2000}, ok()),
    (R("rpc_result"), data(scan)),
    (W(frame(2, b"")), ok()),
    (W(wifi(b"HomeNet", b"correct horse")), ok()),
    (R("state"), data(b"\x03")),
    ({"op": "advance", "ms": 2999}, ok()),
    (R("state"), data(b"\x03")),
    ({"op": "advance", "ms": 1}, ok()),
    (R("state"), data(b"\x04")),
    (R("rpc_result"), data(redirect)),
    ({"op": "advertisements"}, ok(advertisements=[improv_adv(5, 4, 7)])),
    (W(frame(3, b"")), ok()),
    (R("rpc_result"), data(redirect)),
])
case("improv_errors_and_failure", "improv",
     "--virtual-clock --no-authorization --connect-timeout-ms 5000 --capabilities 1", [
    ({"op": "connect"}, ok()),
    (R("capabilities"), data(b"\x01")),
    (R("state"), data(b"\x02")),
    (W(bytes.fromhex("020005")), ok()),
    (R("error"), data(b"\x01")),
    (W(frame(9, b"")), ok()),
    (R("error"), data(b"\x02")),
    (W(frame(3, b"")), ok()),
    (R("error"), data(b"\x02")),
    (W(bytes.fromhex("02")), ok()),
    (W(bytes.fromhex("0002")), ok()),
    (R("error"), data(b"\x00")),
    (W(bytes.fromhex("0400040000")), ok()),
    (R("error"), data(b"\x00")),
    ({"op": "write", "char": "state", "data": "02"}, err(3, "write_not_permitted")),
    (R("rpc_command"), err(2, "read_not_permitted")),
    (W(wifi(b"HomeNet", b"wrong")), ok()),
    (R("state"), data(b"\x03")),
    ({"op": "advance", "ms": 4999}, ok()),
    (R("error"), data(b"\x00")),
    ({"op": "advance", "ms": 1}, ok()),
    (R("error"), data(b"\x03")),
    (R("state"), data(b"\x02")),
    ({"op": "disconnect"}, ok()),
    (R("error"), err(14, "disconnected")),
    ({"op": "connect"}, ok()),
    (R("error"), data(b"\x00")),
    (W(wifi(b"Guest", b"anything")), ok()),
    ({"op": "advance", "ms": 3000}, ok()),
    (R("state"), data(b"\x04")),
    (R("rpc_result"), data(redirect)),
])
case("improv_authorization_lapses", "improv", "--virtual-clock", [
    ({"op": "connect"}, ok()),
    ({"op": "press"}, ok()),
    ({"op": "advance", "ms": 59999}, ok()),
    (R("state"), data(b"\x02")),
    ({"op": "advance", "ms": 1}, ok()),
    (R("state"), data(b"\x01")),
    (W(wifi(b"HomeNet", b"correct horse")), ok()),
    (R("error"), data(b"\x04")),
    ({"op": "press", "ms": 500}, ok()),
    (W(wifi(b"HomeNet", b"correct horse")), ok()),
    (R("error"), data(b"\x00")),
    (R("state"), data(b"\x03")),
])
print("written")
