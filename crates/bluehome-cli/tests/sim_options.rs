//! The options of `bluehome sim shelly|blu|improv --stdio` as the README's option tables and
//! option lists document them, each seen through the line protocol: a test per option (or small
//! group) runs the built binary with it, and, where that makes the effect visible, without it.
//! The golden transcripts (`sim_golden.rs`) already walk `--mtu 23`, `--password`,
//! `--provisioning locked` with `--bond`, `--model`, `--undocumented`, `--without`,
//! `--no-authorization`, `--capabilities` and `--connect-timeout-ms`; this file covers the rest.
//! The expected values come from the README's words (frame layouts, names, numbers), not from
//! runs of the tool. `sim improv --identify-ms` is not pinned: identify answers nothing and no
//! characteristic or advertisement shows the blinking, so the line protocol cannot see it.

mod common;

use common::{bluehome, spawn_piped};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout};

/// A running `bluehome sim <device> --stdio …`, talked to one line at a time.
struct Sim {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Sim {
    /// `bluehome sim <device> --stdio --virtual-clock <args…>`.
    fn start(device: &str, args: &[&str]) -> Self {
        Self::start_raw(device, &[&["--virtual-clock"], args].concat())
    }

    /// [`Self::start`], with the client `phone` connected.
    fn connected(device: &str, args: &[&str]) -> Self {
        let mut sim = Self::start(device, args);
        sim.connect("phone");
        sim
    }

    /// `bluehome sim <device> --stdio <args…>` (no virtual clock unless `args` asks for it).
    fn start_raw(device: &str, args: &[&str]) -> Self {
        let mut child =
            spawn_piped(bluehome().args(["sim", device, "--stdio"]).args(args)).unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
            next_id: 0,
        }
    }

    /// Sends one request line; the answer line exactly as printed.
    fn line(&mut self, request: &str) -> String {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).unwrap();
        assert!(answer.ends_with('\n'), "no answer to {request}");
        answer.trim_end().to_string()
    }

    /// Sends `request`; the answer as JSON.
    fn ask(&mut self, request: &Value) -> Value {
        let answer = self.line(&request.to_string());
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"))
    }

    /// Sends `request`, which must answer `{"ok":true}`.
    fn ok(&mut self, request: &Value) {
        assert_eq!(
            self.line(&request.to_string()),
            r#"{"ok":true}"#,
            "{request}"
        );
    }

    fn advance(&mut self, ms: u64) {
        self.ok(&json!({"op": "advance", "ms": ms}));
    }

    fn connect(&mut self, client: &str) -> String {
        self.line(&json!({"op": "connect", "client": client}).to_string())
    }

    /// The answer line of a read of `char`.
    fn read(&mut self, char: &str) -> String {
        self.line(&json!({"op": "read", "char": char}).to_string())
    }

    /// The data of a read of `char`, which must succeed.
    fn read_data(&mut self, char: &str) -> String {
        let answer = self.ask(&json!({"op": "read", "char": char}));
        assert_eq!(answer["ok"], true, "read {char}: {answer}");
        answer["data"].as_str().unwrap().to_string()
    }

    /// The answer line of a write of `bytes` to `char`.
    fn write(&mut self, char: &str, bytes: &[u8]) -> String {
        self.line(&json!({"op": "write", "char": char, "data": hex(bytes)}).to_string())
    }

    /// The advertisement records of `{"op":"advertisements"}`.
    fn advertisements(&mut self) -> Vec<Value> {
        let answer = self.ask(&json!({"op": "advertisements"}));
        assert_eq!(answer["ok"], true, "{answer}");
        answer["advertisements"].as_array().unwrap().clone()
    }

    /// The next request frame: `{"id":N,"src":"t","method":…,"params":…}` and its id.
    fn request(&mut self, method: &str, params: &Value) -> (Vec<u8>, u64) {
        self.next_id += 1;
        let mut frame = json!({"id": self.next_id, "src": "t", "method": method});
        if !params.is_null() {
            frame["params"] = params.clone();
        }
        (frame.to_string().into_bytes(), self.next_id)
    }

    /// Sends one request (its length on `tx_ctl`, then the frame on `data`, both accepted);
    /// returns its id.
    fn send(&mut self, method: &str, params: &Value) -> u64 {
        let (frame, id) = self.request(method, params);
        self.announce(&frame);
        assert_eq!(self.write("data", &frame), r#"{"ok":true}"#);
        id
    }

    /// Announces `frame`'s length on `tx_ctl` (4 bytes, big-endian).
    fn announce(&mut self, frame: &[u8]) {
        let len = u32::try_from(frame.len()).unwrap().to_be_bytes();
        assert_eq!(self.write("tx_ctl", &len), r#"{"ok":true}"#);
    }

    /// Reads `rx_ctl`'s length, which must not be 0, then the frame's data reads until it is all
    /// there.
    fn read_frame(&mut self) -> Value {
        let len = u32::from_str_radix(&self.read_data("rx_ctl"), 16).unwrap();
        assert_ne!(len, 0, "no frame pending");
        self.read_frame_of(len as usize)
    }

    /// Data reads until `len` bytes have come.
    fn read_frame_of(&mut self, len: usize) -> Value {
        let mut bytes = Vec::new();
        while bytes.len() < len {
            let chunk = unhex(&self.read_data("data"));
            assert!(!chunk.is_empty(), "empty read after {} bytes", bytes.len());
            bytes.extend(chunk);
        }
        assert_eq!(bytes.len(), len);
        serde_json::from_slice(&bytes).unwrap()
    }

    /// A whole RPC call: the frame written in one piece, the answer read back; its id checked.
    fn call(&mut self, method: &str, params: &Value) -> Value {
        let (frame, id) = self.request(method, params);
        self.announce(&frame);
        assert_eq!(self.write("data", &frame), r#"{"ok":true}"#);
        let answer = self.read_frame();
        assert_eq!(answer["id"], id, "{answer}");
        answer
    }

    /// The `result` of a call that must succeed.
    fn result(&mut self, method: &str, params: &Value) -> Value {
        let answer = self.call(method, params);
        assert!(answer.get("error").is_none(), "{method}: {answer}");
        answer["result"].clone()
    }

    /// Ends the input; the simulator must exit 0.
    fn finish(self) {
        let Self {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        assert!(child.wait().unwrap().success());
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

const NO_PARAMS: Value = Value::Null;

/// The ATT error answers, keys in the README's order.
const WRITE_NOT_PERMITTED: &str = r#"{"ok":false,"att":3,"error":"write_not_permitted"}"#;
const INSUFFICIENT_AUTHENTICATION: &str =
    r#"{"ok":false,"att":5,"error":"insufficient_authentication"}"#;
const REQUEST_NOT_SUPPORTED: &str = r#"{"ok":false,"att":6,"error":"request_not_supported"}"#;
const DISCONNECTED: &str = r#"{"ok":false,"att":14,"error":"disconnected"}"#;

// ---------------------------------------------------------------------------------------------
// sim shelly: options that set the initial state
// ---------------------------------------------------------------------------------------------

/// "`--mac AA:BB:CC:DD:EE:FF` | `CC:BA:97:0D:5E:01` (device id `shellyblugwg3-ccba970d5e01`)":
/// the device id (`Shelly.GetDeviceInfo`, every frame's `src`) and the gateway's own
/// advertisement follow the option.
#[test]
fn shelly_mac_sets_the_device_id_and_the_gateway_advertisement() {
    for (args, mac, id) in [
        (&[][..], "CC:BA:97:0D:5E:01", "shellyblugwg3-ccba970d5e01"),
        (
            &["--mac", "aa:bb:cc:dd:ee:0f"],
            "AA:BB:CC:DD:EE:0F",
            "shellyblugwg3-aabbccddee0f",
        ),
    ] {
        let mut sim = Sim::connected("shelly", args);
        let answer = sim.call("Shelly.GetDeviceInfo", &NO_PARAMS);
        assert_eq!(answer["src"], id, "{args:?}");
        assert_eq!(answer["result"]["id"], id, "{args:?}");
        assert_eq!(answer["result"]["mac"], mac.replace(':', ""), "{args:?}");
        let own = sim.ask(&json!({"op": "advertisements", "include_gateway": true}));
        let gateway = &own["advertisements"][0];
        assert_eq!(gateway["address"], mac, "{args:?}");
        // Its Shelly manufacturer data carries the MAC (block 0x0A, little-endian) and model 0x1817.
        let decoded = decode_record(gateway);
        assert_eq!(decoded["shelly"]["mac"], mac, "{args:?}: {decoded}");
        assert_eq!(decoded["shelly"]["model_id"], 0x1817);
        sim.finish();
    }
}

/// `record` through `bluehome decode`.
fn decode_record(record: &Value) -> Value {
    let out =
        common::run_with_input(bluehome().arg("decode"), format!("{record}\n").as_bytes()).unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// "The nonce is the device clock in seconds (see `--clock-synced`)": the 401 challenge's nonce.
fn nonce(sim: &mut Sim) -> u64 {
    let answer = sim.call("Sys.GetStatus", &NO_PARAMS);
    assert_eq!(answer["error"]["code"], 401, "{answer}");
    let challenge: Value =
        serde_json::from_str(answer["error"]["message"].as_str().unwrap()).unwrap();
    challenge["nonce"].as_u64().unwrap()
}

/// The challenge in a 401 answer's message.
fn challenge_in(answer: &Value) -> Value {
    assert_eq!(answer["error"]["code"], 401, "{answer}");
    serde_json::from_str(answer["error"]["message"].as_str().unwrap()).unwrap()
}

/// A signed `Sys.GetStatus` frame answering `challenge` with `password` and count `nc`, the way
/// aioshelly signs (a base64 `cnonce`); the answer.
fn signed_call(sim: &mut Sim, challenge: &Value, password: &str, nc: u64) -> Value {
    use bluehome_core::shelly::auth::{Nonce, ha1, response_hash};
    let realm = challenge["realm"].as_str().unwrap();
    let nonce = Nonce::Text(challenge["nonce"].as_str().unwrap().into());
    let cnonce = Nonce::Text("q83vEjRWeJA=".into());
    let response = response_hash(&ha1(realm, password), &nonce, nc, &cnonce);
    let (frame, id) = sim.request("Sys.GetStatus", &NO_PARAMS);
    let mut frame: Value = serde_json::from_slice(&frame).unwrap();
    frame["auth"] = json!({"realm": realm, "username": "admin", "nonce": nonce,
        "cnonce": cnonce, "response": response, "algorithm": "SHA-256", "nc": nc});
    let frame = frame.to_string().into_bytes();
    sim.announce(&frame);
    assert_eq!(sim.write("data", &frame), r#"{"ok":true}"#);
    let answer = sim.read_frame();
    assert_eq!(answer["id"], id, "{answer}");
    answer
}

/// "`--firmware-2-auth`": "the nonce is 16 bytes in base64 (a string) and the challenge has no
/// `nc`", "a `cnonce` may be a number or a string", "from the fifth failed answer within ten
/// minutes … whatever needs a new nonce is answered `{"code":429,…}`; answers to a kept nonce
/// still pass".
#[test]
fn firmware_2_auth_hands_out_text_nonces_and_pauses_sign_ins() {
    let mut sim = Sim::connected("shelly", &["--password", "pw", "--firmware-2-auth"]);
    let challenge = challenge_in(&sim.call("Sys.GetStatus", &NO_PARAMS));
    let nonce = challenge["nonce"].as_str().unwrap();
    assert_eq!(nonce.len(), 24, "{challenge}");
    assert_eq!(challenge.get("nc"), None, "{challenge}");
    for nc in 1..=2 {
        let answer = signed_call(&mut sim, &challenge, "pw", nc);
        assert!(answer.get("result").is_some(), "nc {nc}: {answer}");
    }
    let codes: Vec<Value> = (3..8)
        .map(|nc| signed_call(&mut sim, &challenge, "wrong", nc)["error"]["code"].clone())
        .collect();
    assert_eq!(codes, [401, 401, 401, 401, 429]);
    let paused = sim.call("Sys.GetStatus", &NO_PARAMS);
    assert_eq!(
        paused["error"],
        json!({"code": 429, "message": "Too many failed authentication attempts"})
    );
    let answer = signed_call(&mut sim, &challenge, "pw", 8);
    assert!(answer.get("result").is_some(), "a kept nonce: {answer}");
    sim.finish();
}

/// "`--clock-synced` | the device clock is Unix time from the start (`--epoch` + elapsed),
/// instead of seconds since boot until Wi-Fi first gets an IP" and "`--epoch UNIX_SECONDS` |
/// `1700000000`: Unix time at clock 0", seen as the digest challenge's nonce (the device clock).
#[test]
fn clock_synced_counts_from_epoch_instead_of_from_boot() {
    for (args, at_2_5_s) in [
        (&["--password", "pw"][..], 2),
        (&["--password", "pw", "--clock-synced"], 1_700_000_002),
        (
            &[
                "--password",
                "pw",
                "--clock-synced",
                "--epoch",
                "1234567890",
            ],
            1_234_567_892,
        ),
        (&["--password", "pw", "--epoch", "1234567890"], 2),
    ] {
        let mut sim = Sim::connected("shelly", args);
        sim.advance(2_500);
        assert_eq!(nonce(&mut sim), at_2_5_s, "{args:?}");
        sim.finish();
    }
}

/// Joins `HomeNet` with the right password (`correct horse`); the answer's `result`.
fn join_home_net(sim: &mut Sim) -> Value {
    sim.result(
        "WiFi.SetConfig",
        &json!({"config": {"sta": {"ssid": "HomeNet", "pass": "correct horse", "enable": true}}}),
    )
}

fn wifi_status(sim: &mut Sim) -> Value {
    sim.result("WiFi.GetStatus", &NO_PARAMS)
}

/// The `WiFi.GetStatus` status at each of `times` (ms after the call that started the join).
fn statuses_at(sim: &mut Sim, times: &[u64]) -> Vec<String> {
    let mut now = 0;
    times
        .iter()
        .map(|&t| {
            sim.advance(t - now);
            now = t;
            wifi_status(sim)["status"].as_str().unwrap().to_string()
        })
        .collect()
}

/// "`--wifi-connect-ms N` | 3000: from `WiFi.SetConfig` to `got ip` (`sta_ip` `192.168.1.42`)",
/// with "`connected` (still no address) for the last quarter of `--wifi-connect-ms`"; "When it
/// gets its address the clock is set to real time (as SNTP would) and a `NotifyStatus` with the
/// new `wifi` status goes out" — real time being `--epoch` + elapsed.
#[test]
fn wifi_connect_ms_sets_the_time_to_got_ip_and_epoch_the_clock_it_sets() {
    // The default: got ip at 3000 ms, connected from 2250 ms.
    let mut sim = Sim::connected("shelly", &[]);
    join_home_net(&mut sim);
    assert_eq!(
        statuses_at(&mut sim, &[2_249, 2_250, 2_999, 3_000]),
        ["connecting", "connected", "connected", "got ip"]
    );
    sim.finish();

    let mut sim = Sim::connected(
        "shelly",
        &["--wifi-connect-ms", "8000", "--epoch", "1234567890"],
    );
    assert_eq!(join_home_net(&mut sim), json!({"restart_required": false}));
    assert_eq!(
        statuses_at(&mut sim, &[3_000, 5_999, 6_000, 7_999]),
        ["disconnected", "disconnected", "connected", "connected"],
        "still joining at 3 s (the default's end); the last quarter is 6000..8000"
    );
    let before = wifi_status(&mut sim);
    assert_eq!(before["sta_ip"], Value::Null, "{before}");
    sim.advance(1);
    let status = wifi_status(&mut sim);
    assert_eq!(status["status"], "got ip", "{status}");
    assert_eq!(status["sta_ip"], "192.168.1.42");
    // Behind the answer: the NotifyStatus sent when the address came, stamped with real time.
    let notify = sim.read_frame();
    assert_eq!(notify["method"], "NotifyStatus", "{notify}");
    assert_eq!(notify["params"]["wifi"]["status"], "got ip");
    assert_eq!(notify["params"]["ts"], 1_234_567_898, "epoch + 8 s");
    sim.finish();
}

/// `WiFi.GetStatus`'s `status` at each of `times` (ms after the call) once a Shelly started with
/// `args` was given HomeNet with a wrong password.
fn statuses_with_a_wrong_password(args: &[&str], times: &[u64]) -> Vec<String> {
    let wrong = json!({"config": {"sta": {"ssid": "HomeNet", "pass": "wrong", "enable": true}}});
    let mut sim = Sim::connected("shelly", args);
    sim.result("WiFi.SetConfig", &wrong);
    let statuses = statuses_at(&mut sim, times);
    sim.finish();
    statuses
}

/// "`--wifi-steady` | `WiFi.GetStatus` stays `connecting` until the join ends (a wrong password:
/// `disconnected` after `--wifi-connect-ms`), instead of swinging" — the default swings:
/// "`connecting` for a second, then `disconnected` for a second between attempts", and "With a
/// wrong password the station makes two attempts and then stays `disconnected`".
#[test]
fn wifi_steady_stays_connecting_instead_of_swinging() {
    let times = [500, 1_500, 2_500, 3_500, 4_999, 5_000, 9_000];
    assert_eq!(
        statuses_with_a_wrong_password(&["--wifi-connect-ms", "5000"], &times),
        [
            "connecting",
            "disconnected",
            "connecting",
            "disconnected",
            "disconnected",
            "disconnected",
            "disconnected"
        ]
    );
    assert_eq!(
        statuses_with_a_wrong_password(&["--wifi-connect-ms", "5000", "--wifi-steady"], &times),
        [
            "connecting",
            "connecting",
            "connecting",
            "connecting",
            "connecting",
            "disconnected",
            "disconnected"
        ]
    );

    // The right password: no swing either (1.5 s is between the default's attempts).
    let mut sim = Sim::connected("shelly", &["--wifi-steady"]);
    join_home_net(&mut sim);
    assert_eq!(
        statuses_at(&mut sim, &[500, 1_500, 3_000]),
        ["connecting", "connecting", "got ip"]
    );
    sim.finish();
}

/// "`--wifi-restart-required` | off. `WiFi.SetConfig` with station settings answers
/// `{"restart_required":true}` and the station joins only after `Shelly.Reboot`"; the reboot
/// drops the link after `delay_ms` (default 1000).
#[test]
fn wifi_restart_required_joins_only_after_a_reboot() {
    let mut sim = Sim::connected("shelly", &["--wifi-restart-required"]);
    assert_eq!(join_home_net(&mut sim), json!({"restart_required": true}));
    sim.advance(10_000);
    assert_eq!(wifi_status(&mut sim)["status"], "disconnected");
    sim.result("Shelly.Reboot", &NO_PARAMS);
    sim.advance(1_000);
    assert_eq!(
        sim.read("rx_ctl"),
        DISCONNECTED,
        "the reboot dropped the link"
    );
    assert_eq!(sim.connect("phone"), r#"{"ok":true}"#);
    sim.advance(3_000);
    assert_eq!(wifi_status(&mut sim)["status"], "got ip");
    sim.finish();
}

/// "`--provisioning pending|confirmed|complete|locked` | `pending`" and "`--bond ADDR`
/// (repeatable) | no bonds": in `complete` an unbonded client is refused every read and write and
/// cannot pair; a client named by `--bond` gets in. `pending` and `confirmed` (the set-up window)
/// let anyone in and pair. `--report-provisioning` shows each state by name.
#[test]
fn provisioning_sets_who_gets_in_and_bond_lets_a_client_in() {
    for state in ["pending", "confirmed"] {
        let mut sim = Sim::start(
            "shelly",
            &["--provisioning", state, "--report-provisioning"],
        );
        sim.connect("stranger");
        assert_eq!(sim.read("rx_ctl"), r#"{"ok":true,"data":"00000000"}"#);
        assert_eq!(sim.line(r#"{"op":"pair"}"#), r#"{"ok":true}"#, "{state}");
        let status = sim.result("BLE.GetStatus", &NO_PARAMS);
        assert_eq!(status["provisioning"], state);
        sim.finish();
    }
    for state in ["complete", "locked"] {
        let mut sim = Sim::start(
            "shelly",
            &[
                "--provisioning",
                state,
                "--report-provisioning",
                "--bond",
                "AA:00:00:00:00:01",
                "--bond",
                "AA:00:00:00:00:02",
            ],
        );
        sim.connect("stranger");
        assert_eq!(sim.read("rx_ctl"), INSUFFICIENT_AUTHENTICATION, "{state}");
        assert_eq!(
            sim.write("tx_ctl", &[0, 0, 0, 9]),
            INSUFFICIENT_AUTHENTICATION
        );
        assert_eq!(sim.line(r#"{"op":"pair"}"#), INSUFFICIENT_AUTHENTICATION);
        for bonded in ["AA:00:00:00:00:01", "AA:00:00:00:00:02"] {
            sim.connect(bonded);
            let status = sim.result("BLE.GetStatus", &NO_PARAMS);
            assert_eq!(status["provisioning"], state, "{bonded}");
        }
        sim.finish();
    }
}

/// "`--report-provisioning` | `BLE.GetStatus` carries the provisioning state as `provisioning`
/// (firmware documents no such member)": without it, no such member.
#[test]
fn report_provisioning_adds_the_member_to_ble_get_status() {
    let mut sim = Sim::connected("shelly", &[]);
    let status = sim.result("BLE.GetStatus", &NO_PARAMS);
    assert!(status.get("provisioning").is_none(), "{status}");
    sim.finish();
    let mut sim = Sim::connected("shelly", &["--report-provisioning"]);
    let status = sim.result("BLE.GetStatus", &NO_PARAMS);
    assert_eq!(status["provisioning"], "pending", "the default state");
    sim.finish();
}

/// "`--rpc-disabled` | RPC enabled" with "`write_not_permitted` | 3 | … writing `tx_ctl`/`data`
/// while `BLE.SetConfig` has turned `rpc.enable` off (`--rpc-disabled`)".
#[test]
fn rpc_disabled_refuses_writes_to_tx_ctl_and_data() {
    let mut sim = Sim::connected("shelly", &["--rpc-disabled"]);
    let (frame, _) = sim.request("Sys.GetStatus", &NO_PARAMS);
    let len = u32::try_from(frame.len()).unwrap().to_be_bytes();
    assert_eq!(sim.write("tx_ctl", &len), WRITE_NOT_PERMITTED);
    assert_eq!(sim.write("data", &frame), WRITE_NOT_PERMITTED);
    assert_eq!(sim.read("rx_ctl"), r#"{"ok":true,"data":"00000000"}"#);
    sim.finish();

    assert_plain_shelly_answers();
}

/// The default: "`BLE.SetConfig` … saving the switch (`BLE.GetConfig` shows it), answering
/// `{"restart_required":true}` … and applying it at the next `Shelly.Reboot`"; with
/// "`--ble-rpc-at-once` | `BLE.SetConfig` turning `rpc.enable` on or off applies at once and
/// answers `{"restart_required":false}`".
#[test]
fn ble_rpc_at_once_applies_the_rpc_switch_without_a_reboot() {
    let off = json!({"config": {"rpc": {"enable": false}}});
    let mut sim = Sim::connected("shelly", &[]);
    assert_eq!(
        sim.result("BLE.SetConfig", &off),
        json!({"restart_required": true})
    );
    assert_eq!(
        sim.result("BLE.GetConfig", &NO_PARAMS)["rpc"]["enable"],
        false,
        "saved"
    );
    // Still on until the restart: this call goes through.
    sim.result("Shelly.Reboot", &NO_PARAMS);
    sim.advance(1_000);
    assert_eq!(sim.connect("phone"), r#"{"ok":true}"#);
    assert_eq!(sim.write("tx_ctl", &[0, 0, 0, 9]), WRITE_NOT_PERMITTED);
    sim.finish();

    let mut sim = Sim::connected("shelly", &["--ble-rpc-at-once"]);
    assert_eq!(
        sim.result("BLE.SetConfig", &off),
        json!({"restart_required": false})
    );
    assert_eq!(sim.write("tx_ctl", &[0, 0, 0, 9]), WRITE_NOT_PERMITTED);
    sim.finish();
}

/// `BLE.CloudRelay.ListInfos` from `offset`: (`offset`, `count`, `total`, the listed MACs).
fn relay_page(sim: &mut Sim, offset: u64) -> (u64, u64, u64, Vec<String>) {
    let page = sim.result("BLE.CloudRelay.ListInfos", &json!({"offset": offset}));
    let macs = page["devices"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d.as_object().unwrap().keys().cloned())
        .collect();
    let n = |k: &str| page[k].as_u64().unwrap();
    (n("offset"), n("count"), n("total"), macs)
}

/// "`--relay-page-size N`, `--object-page-size N` | 5 items per `BLE.CloudRelay.ListInfos` /
/// `BTHome.GetObjectInfos` (and `Shelly.GetComponents`) page". The default fleet has five Shelly
/// BLU sensors ("`BLE.CloudRelay.List`/`ListInfos` list the Shelly BLU sensors (not the generic
/// thermometer)").
#[test]
fn relay_page_size_sets_the_list_infos_page() {
    let mut sim = Sim::connected("shelly", &[]);
    let (_, count, total, macs) = relay_page(&mut sim, 0);
    assert_eq!((count, total), (5, 5));
    assert_eq!(
        macs,
        [
            "3c:2e:f5:5b:00:01",
            "3c:2e:f5:5b:01:02",
            "3c:2e:f5:5b:02:03",
            "3c:2e:f5:5b:03:04",
            "3c:2e:f5:5b:04:05"
        ]
    );
    sim.finish();

    let mut sim = Sim::connected("shelly", &["--relay-page-size", "2"]);
    let pages: Vec<_> = [0, 2, 4].map(|o| relay_page(&mut sim, o)).into();
    assert_eq!(
        pages.iter().map(|p| (p.0, p.1, p.2)).collect::<Vec<_>>(),
        [(0, 2, 5), (2, 2, 5), (4, 1, 5)]
    );
    let all: Vec<String> = pages.into_iter().flat_map(|p| p.3).collect();
    assert_eq!(all, macs, "the same devices, two at a time");
    sim.finish();
}

/// "a BTHome device whose simulated sensor is a Shelly BLU model has `attrs`
/// `{"flags":17,"model_id":N}` […]; the thermometer's device […] and every other component have
/// none": the default fleet's Button1 (model 1) and thermometer.
#[test]
fn get_components_gives_blu_devices_their_model_in_attrs() {
    let mut sim = Sim::connected("shelly", &[]);
    for addr in ["3c:2e:f5:5b:00:01", "3c:2e:f5:5b:05:06"] {
        sim.result("BTHome.AddDevice", &json!({"config": {"addr": addr}}));
    }
    let page = sim.result("Shelly.GetComponents", &json!({"dynamic_only": true}));
    assert_eq!(
        page["components"],
        json!([
            {"key": "bthomedevice:200", "attrs": {"flags": 17, "model_id": 1}},
            {"key": "bthomedevice:201"}
        ])
    );
    let all = sim.result("Shelly.GetComponents", &json!({}));
    for c in all["components"].as_array().unwrap() {
        assert_eq!(
            c.get("attrs").is_some(),
            c["key"] == "bthomedevice:200",
            "{c}"
        );
    }
    sim.finish();
}

/// The object page: `BTHome.GetObjectInfos` (object ids asked → `count` of `total`) and
/// `Shelly.GetComponents` ("lists every component in key order"): `ble`,
/// `bthome`, `sys`, `wifi` and, here, three BTHome devices.
#[test]
fn object_page_size_sets_the_object_infos_and_components_pages() {
    let ids = [1, 2, 3, 4, 5, 46, 69];
    let object_page = |sim: &mut Sim, offset: u64| {
        let page = sim.result(
            "BTHome.GetObjectInfos",
            &json!({"obj_ids": ids, "offset": offset}),
        );
        let listed: Vec<u64> = page["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["obj_id"].as_u64().unwrap())
            .collect();
        assert_eq!(page["count"], listed.len(), "{page}");
        assert_eq!(page["total"], 7, "{page}");
        listed
    };
    let components_page = |sim: &mut Sim, offset: u64| {
        let page = sim.result("Shelly.GetComponents", &json!({"offset": offset}));
        assert_eq!(page["total"], 7, "{page}");
        page["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["key"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let start = |args: &[&str]| {
        let mut sim = Sim::connected("shelly", args);
        for addr in [
            "3c:2e:f5:5b:00:01",
            "3c:2e:f5:5b:01:02",
            "3c:2e:f5:5b:02:03",
        ] {
            sim.result("BTHome.AddDevice", &json!({"config": {"addr": addr}}));
        }
        sim
    };
    let mut sim = start(&[]);
    assert_eq!(object_page(&mut sim, 0), [1, 2, 3, 4, 5]);
    assert_eq!(object_page(&mut sim, 5), [46, 69]);
    assert_eq!(
        components_page(&mut sim, 0),
        [
            "ble",
            "bthome",
            "bthomedevice:200",
            "bthomedevice:201",
            "bthomedevice:202"
        ]
    );
    assert_eq!(components_page(&mut sim, 5), ["sys", "wifi"]);
    sim.finish();

    let mut sim = start(&["--object-page-size", "2"]);
    assert_eq!(object_page(&mut sim, 0), [1, 2]);
    assert_eq!(object_page(&mut sim, 2), [3, 4]);
    assert_eq!(object_page(&mut sim, 6), [69]);
    assert_eq!(components_page(&mut sim, 0), ["ble", "bthome"]);
    assert_eq!(
        components_page(&mut sim, 2),
        ["bthomedevice:200", "bthomedevice:201"]
    );
    sim.finish();
}

/// "`--sensors LIST` | `button,ht,dw,motion,rc4,thermo`: comma-separated kinds …, `+enc` for
/// encrypted (key `90bffd73cb6b26ef58a7a8eba9232036`). Sensor *i* (0-based) of kind *k*
/// (position in that list) has MAC `3C:2E:F5:5B:0k:(i+1)`, RSSI −50 − *i*, first emission at
/// 250·(*i*+1) ms, then every 30 s (buttons), 45 s (door, motion) or 60 s (H&T, thermometer)",
/// and "encrypted sensors' records carry their `bindkey`".
#[test]
fn sensors_sets_the_fleet_macs_rssi_keys_and_schedule() {
    let mut sim = Sim::start("shelly", &["--sensors", "ht,button+enc,dw,thermo"]);
    sim.advance(249);
    assert!(sim.advertisements().is_empty(), "nothing before 250 ms");
    sim.advance(1);
    let first = sim.advertisements();
    assert_eq!(first.len(), 1, "only sensor 0 at 250 ms: {first:?}");
    sim.advance(750);
    let records = sim.advertisements();
    let row = |r: &Value| {
        (
            r["address"].as_str().unwrap().to_string(),
            r["rssi"].as_i64().unwrap(),
            r["bindkey"].as_str().map(str::to_string),
        )
    };
    let key = Some("90bffd73cb6b26ef58a7a8eba9232036".to_string());
    assert_eq!(
        records.iter().map(row).collect::<Vec<_>>(),
        [
            ("3C:2E:F5:5B:01:01".into(), -50, None),
            ("3C:2E:F5:5B:00:02".into(), -51, key),
            ("3C:2E:F5:5B:02:03".into(), -52, None),
            ("3C:2E:F5:5B:05:04".into(), -53, None),
        ]
    );
    // Kinds: the models (the thermometer is no Shelly device) and encryption, as decoded.
    let decoded: Vec<Value> = records.iter().map(decode_record).collect();
    let models: Vec<&Value> = decoded.iter().map(|d| &d["shelly"]["model"]).collect();
    assert_eq!(
        models,
        [
            &json!("SBHT-003C"),
            &json!("SBBT-002C"),
            &json!("SBDW-002C"),
            &Value::Null
        ]
    );
    let encrypted: Vec<&Value> = decoded.iter().map(|d| &d["bthome"]["encrypted"]).collect();
    assert_eq!(
        encrypted,
        [&json!(false), &json!(true), &json!(false), &json!(false)]
    );
    for d in &decoded {
        assert!(d["bthome"]["error"].is_null(), "{d}");
    }

    // The schedule: sensor i sends again one period after its first emission, not before.
    let packets = |sim: &mut Sim| -> Vec<String> {
        sim.advertisements()
            .iter()
            .map(|r| r["service_data"]["fcd2"].as_str().unwrap().to_string())
            .collect()
    };
    let at_1s = packets(&mut sim);
    let mut now = 1_000;
    let mut changed_at = [None; 4];
    // Every 250 ms from 1 s to 61 s; a sensor's first change is its second emission.
    while now < 61_000 {
        sim.advance(250);
        now += 250;
        for (i, p) in packets(&mut sim).iter().enumerate() {
            if changed_at[i].is_none() && *p != at_1s[i] {
                changed_at[i] = Some(now);
            }
        }
    }
    assert_eq!(
        changed_at,
        [
            Some(250 + 60_000),
            Some(500 + 30_000),
            Some(750 + 45_000),
            Some(1_000 + 60_000)
        ]
    );
    sim.finish();
}

/// The default fleet, `button,ht,dw,motion,rc4,thermo`: one sensor of each kind, kind *k* at
/// position *i* = *k*.
#[test]
fn sensors_default_is_one_of_each_kind() {
    let mut sim = Sim::start("shelly", &[]);
    sim.advance(1_500);
    let addresses: Vec<String> = sim
        .advertisements()
        .iter()
        .map(|r| r["address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        addresses,
        (0..6)
            .map(|k| format!("3C:2E:F5:5B:0{k}:0{}", k + 1))
            .collect::<Vec<_>>()
    );
    sim.finish();
}

// ---------------------------------------------------------------------------------------------
// sim shelly: the kinder behaviours
// ---------------------------------------------------------------------------------------------

/// "`--add-answer-key` | `BTHome.AddDevice` / `AddSensor` answer `{"key":"bthomedevice:200"}`
/// (the document's table) instead of `{"added":"bthomedevice:200"}`".
#[test]
fn add_answer_key_names_the_new_component_under_key() {
    for (args, member) in [(&[][..], "added"), (&["--add-answer-key"], "key")] {
        let mut sim = Sim::connected("shelly", &[&["--sensors", "ht"], args].concat());
        let device = sim.result(
            "BTHome.AddDevice",
            &json!({"config": {"addr": "3c:2e:f5:5b:01:01"}}),
        );
        assert_eq!(device, json!({member: "bthomedevice:200"}), "{args:?}");
        let sensor = sim.result(
            "BTHome.AddSensor",
            &json!({"config": {"addr": "3c:2e:f5:5b:01:01", "obj_id": 69, "obj_idx": 0}}),
        );
        assert_eq!(sensor, json!({member: "bthomesensor:200"}), "{args:?}");
        sim.finish();
    }
}

/// "`--objects-known-at-once` | a BTHome device's objects are known as soon as it is added (if
/// its sensor ever sent), instead of after its next packet": `BTHomeDevice.GetKnownObjects`
/// answers `"objects":[]` by default. An H&T sends packet id, battery, humidity, temperature.
#[test]
fn objects_known_at_once_lists_a_new_devices_objects_at_once() {
    let known = |sim: &mut Sim| -> Vec<u64> {
        let answer = sim.result("BTHomeDevice.GetKnownObjects", &json!({"id": 200}));
        answer["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["obj_id"].as_u64().unwrap())
            .collect()
    };
    let add = json!({"config": {"addr": "3c:2e:f5:5b:01:01"}});
    for (args, at_once) in [
        (&["--sensors", "ht"][..], false),
        (&["--sensors", "ht", "--objects-known-at-once"], true),
    ] {
        let mut sim = Sim::connected("shelly", args);
        sim.advance(1_000); // The H&T has sent (at 250 ms).
        sim.result("BTHome.AddDevice", &add);
        let objects = known(&mut sim);
        if at_once {
            for id in [0x01, 0x2e, 0x45] {
                assert!(objects.contains(&id), "{id:#x} missing: {objects:?}");
            }
        } else {
            assert_eq!(objects, [0u64; 0], "{args:?}");
        }
        sim.finish();
    }
    // "if its sensor ever sent": added before the first emission, nothing is known yet.
    let mut sim = Sim::connected("shelly", &["--sensors", "ht", "--objects-known-at-once"]);
    sim.result("BTHome.AddDevice", &add);
    assert_eq!(known(&mut sim), [0u64; 0]);
    sim.finish();
}

// ---------------------------------------------------------------------------------------------
// sim shelly: faults
// ---------------------------------------------------------------------------------------------

/// "`--empty-reads N` (for every answer the first N data reads after `rx_ctl` are empty)".
#[test]
fn empty_reads_come_before_every_answer() {
    let mut sim = Sim::connected("shelly", &["--empty-reads", "2"]);
    for _ in 0..2 {
        let id = sim.send("Sys.GetStatus", &NO_PARAMS);
        let len = u32::from_str_radix(&sim.read_data("rx_ctl"), 16).unwrap();
        assert_ne!(len, 0);
        assert_eq!(sim.read("data"), r#"{"ok":true,"data":""}"#);
        assert_eq!(sim.read("data"), r#"{"ok":true,"data":""}"#);
        assert_eq!(sim.read_frame_of(len as usize)["id"], id);
    }
    sim.finish();

    let mut sim = Sim::connected("shelly", &[]);
    sim.send("Sys.GetStatus", &NO_PARAMS);
    sim.read_data("rx_ctl");
    assert_ne!(sim.read_data("data"), "", "no empty read by default");
    sim.finish();
}

/// "`--garbage-length` (`rx_ctl` reports `3213005f` for every pending frame, as a Shelly 1PM
/// Mini Gen4 did)": the frame itself is still readable; with nothing pending `rx_ctl` is 0.
#[test]
fn garbage_length_reports_3213005f_for_every_pending_frame() {
    let mut sim = Sim::connected("shelly", &["--garbage-length"]);
    assert_eq!(sim.read_data("rx_ctl"), "00000000");
    for _ in 0..2 {
        let id = sim.send("Sys.GetStatus", &NO_PARAMS);
        assert_eq!(sim.read_data("rx_ctl"), "3213005f");
        // The answer, read up to its end (the first empty read).
        let mut bytes = Vec::new();
        loop {
            let chunk = unhex(&sim.read_data("data"));
            if chunk.is_empty() {
                break;
            }
            bytes.extend(chunk);
        }
        let answer: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(answer["id"], id);
    }
    assert_eq!(sim.read_data("rx_ctl"), "00000000");
    sim.finish();
}

/// "`--slow-ms N` (answers become readable N ms after the request; `rx_ctl` reads 0
/// meanwhile)".
#[test]
fn slow_ms_delays_answers_and_rx_ctl_reads_0_meanwhile() {
    let mut sim = Sim::connected("shelly", &["--slow-ms", "500"]);
    let id = sim.send("Sys.GetStatus", &NO_PARAMS);
    assert_eq!(sim.read_data("rx_ctl"), "00000000");
    sim.advance(499);
    assert_eq!(sim.read_data("rx_ctl"), "00000000");
    sim.advance(1);
    assert_eq!(sim.read_frame()["id"], id);
    sim.finish();

    let mut sim = Sim::connected("shelly", &[]);
    sim.send("Sys.GetStatus", &NO_PARAMS);
    assert_ne!(sim.read_data("rx_ctl"), "00000000", "at once by default");
    sim.finish();
}

/// "`--wrong-ids N` (the next N answers are preceded by a copy with a foreign id)".
#[test]
fn wrong_ids_precede_the_next_answers_with_a_foreign_copy() {
    let mut sim = Sim::connected("shelly", &["--wrong-ids", "2"]);
    for _ in 0..2 {
        let id = sim.send("Sys.GetStatus", &NO_PARAMS);
        let mut copy = sim.read_frame();
        let answer = sim.read_frame();
        assert_eq!(answer["id"], id, "{answer}");
        assert_ne!(copy["id"], id, "{copy}");
        copy["id"] = id.into();
        assert_eq!(copy, answer, "a copy but for the id");
        assert_eq!(sim.read_data("rx_ctl"), "00000000");
    }
    // The third answer comes alone.
    let id = sim.send("Sys.GetStatus", &NO_PARAMS);
    assert_eq!(sim.read_frame()["id"], id);
    assert_eq!(sim.read_data("rx_ctl"), "00000000");
    sim.finish();
}

/// "`--disconnect-after BYTES` (once: the link drops when more than BYTES data bytes have been
/// written since connecting, in the middle of a frame)", answered "`disconnected` | 14 | … the
/// `--disconnect-after` fault".
#[test]
fn disconnect_after_drops_the_link_once_mid_frame() {
    let mut sim = Sim::connected("shelly", &["--disconnect-after", "30"]);
    let (frame, id) = sim.request("Sys.GetStatus", &NO_PARAMS);
    assert!(frame.len() > 31, "{} bytes", frame.len());
    sim.announce(&frame);
    assert_eq!(sim.write("data", &frame[..15]), r#"{"ok":true}"#);
    assert_eq!(
        sim.write("data", &frame[15..30]),
        r#"{"ok":true}"#,
        "30 bytes are not more than 30"
    );
    assert_eq!(sim.write("data", &frame[30..31]), DISCONNECTED);
    assert_eq!(sim.read("rx_ctl"), DISCONNECTED, "the link is down");
    // Once: a new connection writes the whole frame, more than 30 bytes.
    assert_eq!(sim.connect("phone"), r#"{"ok":true}"#);
    sim.announce(&frame);
    for chunk in frame.chunks(15) {
        assert_eq!(sim.write("data", chunk), r#"{"ok":true}"#);
    }
    assert_eq!(sim.read_frame()["id"], id);
    sim.finish();
}

/// Without options, the Shelly simulator answers a call as usual (the control for an option that
/// refuses something).
fn assert_plain_shelly_answers() {
    let mut sim = Sim::connected("shelly", &[]);
    sim.result("Sys.GetStatus", &NO_PARAMS);
    sim.finish();
}

/// "`--max-write N` (longer data writes fail with `request_not_supported`)": N bytes are fine,
/// N + 1 are not; without the option a whole frame goes in one write (as `Sim::call` does).
#[test]
fn max_write_refuses_longer_data_writes() {
    let mut sim = Sim::connected("shelly", &["--max-write", "20"]);
    let (frame, id) = sim.request("Sys.GetStatus", &NO_PARAMS);
    sim.announce(&frame);
    assert_eq!(sim.write("data", &frame[..21]), REQUEST_NOT_SUPPORTED);
    for chunk in frame.chunks(20) {
        assert_eq!(sim.write("data", chunk), r#"{"ok":true}"#);
    }
    assert_eq!(sim.read_frame()["id"], id, "the refused write took nothing");
    sim.finish();

    assert_plain_shelly_answers();
}

// ---------------------------------------------------------------------------------------------
// sim shelly: --mtu and --virtual-clock
// ---------------------------------------------------------------------------------------------

/// "each data read returns the next at most MTU − 2 bytes (`--mtu`, default 247, 23..=517)".
#[test]
fn mtu_sets_the_data_read_size_within_23_to_517() {
    for (args, chunk) in [
        (&[][..], 245),
        (&["--mtu", "100"], 98),
        (&["--mtu", "517"], 515),
    ] {
        let mut sim = Sim::connected("shelly", args);
        // An answer longer than any chunk: the five relayed sensors' infos.
        sim.send("BLE.CloudRelay.ListInfos", &NO_PARAMS);
        let len = u32::from_str_radix(&sim.read_data("rx_ctl"), 16).unwrap() as usize;
        assert!(len > 515, "{len}");
        assert_eq!(sim.read_data("data").len() / 2, chunk, "{args:?}");
        sim.finish();
    }
    for bad in ["22", "518"] {
        let out = bluehome()
            .args(["sim", "shelly", "--stdio", "--mtu", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--mtu {bad}");
    }
}

/// "`{"op":"advance","ms":N}` | moves the virtual clock (only with `--virtual-clock`; otherwise
/// the clock is real milliseconds since start)": refused as a malformed request without it.
#[test]
fn advance_needs_the_virtual_clock() {
    for device in ["shelly", "blu", "improv"] {
        let mut sim = Sim::start_raw(device, &[]);
        let answer = sim.ask(&json!({"op": "advance", "ms": 5}));
        assert_eq!(answer["ok"], false, "{device}: {answer}");
        assert_eq!(answer["error"], "request_not_supported");
        assert!(answer["detail"].is_string(), "{answer}");
        sim.finish();
        let mut sim = Sim::start(device, &[]);
        sim.advance(5);
        sim.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// sim blu
// ---------------------------------------------------------------------------------------------

/// "`firmware_revision` | … | open / — | UTF-8 text (`--firmware`, default `1.0.23`)".
#[test]
fn blu_firmware_sets_the_firmware_revision() {
    for (args, text) in [
        (&[][..], "1.0.23"),
        (&["--firmware", "2.1.0-beta"], "2.1.0-beta"),
    ] {
        let mut sim = Sim::start("blu", args);
        sim.ok(&json!({"op": "press"})); // Pairing mode, so that anyone may connect.
        assert_eq!(sim.connect("phone"), r#"{"ok":true}"#);
        assert_eq!(sim.read_data("firmware_revision"), hex(text.as_bytes()));
        sim.finish();
    }
}

/// "`connect` succeeds only for a bonded client or while pairing mode is on; otherwise
/// `{"ok":false,"att":14,"error":"disconnected","detail":"…"}`", with "`--bond ADDR`
/// (repeatable)" bonding clients from the start; "Reading `encryption_key` and every write need
/// a bond" ("all zero before the first passkey").
#[test]
fn blu_bond_lets_a_client_connect_without_pairing_mode() {
    let refused = |answer: &str| {
        let answer: Value = serde_json::from_str(answer).unwrap();
        answer["ok"] == false
            && answer["att"] == 14
            && answer["error"] == "disconnected"
            && answer["detail"].is_string()
    };
    let mut sim = Sim::start("blu", &[]);
    assert!(refused(&sim.connect("phone")));
    sim.finish();

    let mut sim = Sim::start("blu", &["--bond", "phone", "--bond", "tablet"]);
    assert!(refused(&sim.connect("stranger")));
    for client in ["phone", "tablet"] {
        assert_eq!(sim.connect(client), r#"{"ok":true}"#, "{client}");
        assert_eq!(sim.read_data("encryption_key"), "00".repeat(16));
        assert_eq!(sim.write("buzzer_enabled", &[0]), r#"{"ok":true}"#);
    }
    sim.finish();
}

/// "`--beacon` (beacon mode on at start)": `beacon_mode` reads `01` (else `00`), and "beacons
/// every 30 s while beacon mode is on", the first 1 s after start; a Button1 without beacon mode
/// advertises nothing until pressed. The manufacturer flags: `0x01` discoverable, `0x08` buzzer
/// enabled (on by default), no pairing.
#[test]
fn blu_beacon_starts_in_beacon_mode_sending_every_30_s() {
    let mut sim = Sim::connected("blu", &["--bond", "phone"]);
    assert_eq!(sim.read_data("beacon_mode"), "00");
    sim.advance(100_000);
    assert!(
        sim.advertisements().is_empty(),
        "no beacons without --beacon"
    );
    sim.finish();

    let mut sim = Sim::connected("blu", &["--bond", "phone", "--beacon"]);
    assert_eq!(sim.read_data("beacon_mode"), "01");
    sim.advance(999);
    assert!(sim.advertisements().is_empty());
    let packet_id = |sim: &mut Sim| {
        let records = sim.advertisements();
        assert_eq!(records.len(), 1, "{records:?}");
        let decoded = decode_record(&records[0]);
        assert_eq!(decoded["shelly"]["flags"]["raw"], 0x09, "{decoded}");
        assert!(decoded["bthome"]["error"].is_null(), "{decoded}");
        decoded["bthome"]["objects"][0]["value"].as_u64().unwrap()
    };
    sim.advance(1);
    let first = packet_id(&mut sim);
    sim.advance(29_999);
    assert_eq!(packet_id(&mut sim), first);
    sim.advance(1);
    assert_eq!(
        packet_id(&mut sim),
        (first + 1) % 256,
        "a beacon 30 s later"
    );
    sim.advance(30_000);
    assert_eq!(packet_id(&mut sim), (first + 2) % 256);
    sim.finish();
}

/// "Options: `--mac AA:BB:CC:DD:EE:FF`" and "the default MAC is `3C:2E:F5:B1:00:<model id>`":
/// the record's address and the MAC in its Shelly manufacturer data.
#[test]
fn blu_mac_sets_the_advertised_address() {
    for (args, mac) in [
        (&[][..], "3C:2E:F5:B1:00:01"),
        (&["--model", "SBHT-003C"], "3C:2E:F5:B1:00:03"),
        (&["--mac", "11:22:33:44:55:66"], "11:22:33:44:55:66"),
    ] {
        let mut sim = Sim::start("blu", args);
        // "A shorter press (`"ms"` ≤ 10000) is a button event, advertised at once."
        sim.ok(&json!({"op": "press", "ms": 100}));
        let records = sim.advertisements();
        assert_eq!(records.len(), 1, "{args:?}: {records:?}");
        assert_eq!(records[0]["address"], mac, "{args:?}");
        assert_eq!(decode_record(&records[0])["shelly"]["mac"], mac, "{args:?}");
        sim.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// sim improv
// ---------------------------------------------------------------------------------------------

/// An Improv frame: command, data length, the strings each with its length, checksum (the sum of
/// the bytes before it, modulo 256).
fn improv_frame(command: u8, strings: &[&str]) -> Vec<u8> {
    let mut data = Vec::new();
    for s in strings {
        data.push(u8::try_from(s.len()).unwrap());
        data.extend_from_slice(s.as_bytes());
    }
    let mut frame = vec![command, u8::try_from(data.len()).unwrap()];
    frame.extend(data);
    let sum = frame.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    frame.push(sum);
    frame
}

/// "`{"op":"press"}` authorizes (`02`) for `--authorization-ms` (60 s), after which it asks
/// again" (`01`).
#[test]
fn improv_authorization_ms_sets_how_long_a_press_authorizes() {
    let mut sim = Sim::start("improv", &["--authorization-ms", "5000"]);
    sim.connect("browser");
    assert_eq!(sim.read_data("state"), "01");
    sim.ok(&json!({"op": "press"}));
    assert_eq!(sim.read_data("state"), "02");
    sim.advance(4_999);
    assert_eq!(sim.read_data("state"), "02");
    sim.advance(1);
    assert_eq!(sim.read_data("state"), "01");
    sim.finish();
}

/// "Wi-Fi settings (`01`): state `03`; after `--connect-ms` (3000) on a known network … the
/// result `01` with the redirect URL (`--redirect URL`, default `http://192.168.1.43/`;
/// `--no-redirect`: no strings) and then state `04`".
#[test]
fn improv_connect_ms_and_redirect_set_when_and_what_provisioning_answers() {
    for (args, result) in [
        (
            &["--connect-ms", "500"][..],
            improv_frame(1, &["http://192.168.1.43/"]),
        ),
        (
            &[
                "--connect-ms",
                "500",
                "--redirect",
                "https://example.org/setup?x=1",
            ],
            improv_frame(1, &["https://example.org/setup?x=1"]),
        ),
        (
            &["--connect-ms", "500", "--no-redirect"],
            vec![0x01, 0x00, 0x01],
        ),
    ] {
        let mut sim = Sim::start("improv", &[&["--no-authorization"], args].concat());
        sim.connect("browser");
        let settings = improv_frame(1, &["HomeNet", "correct horse"]);
        assert_eq!(sim.write("rpc_command", &settings), r#"{"ok":true}"#);
        assert_eq!(sim.read_data("state"), "03");
        sim.advance(499);
        assert_eq!(sim.read_data("state"), "03", "{args:?}");
        assert_eq!(sim.read_data("rpc_result"), "");
        sim.advance(1);
        assert_eq!(sim.read_data("state"), "04", "{args:?}");
        assert_eq!(sim.read_data("rpc_result"), hex(&result), "{args:?}");
        sim.finish();
    }
}

/// "a scan (`04`) answers after `--scan-ms` (2000) with `HomeNet` −48 `WPA2` …, `Guest` −61
/// `NO`, `Neighbour` −80 `WPA`".
#[test]
fn improv_scan_ms_sets_when_the_scan_answers() {
    let networks = improv_frame(
        4,
        &[
            "HomeNet",
            "-48",
            "WPA2",
            "Guest",
            "-61",
            "NO",
            "Neighbour",
            "-80",
            "WPA",
        ],
    );
    for (args, after) in [(&[][..], 2_000), (&["--scan-ms", "100"], 100)] {
        let mut sim = Sim::start("improv", &[&["--no-authorization"], args].concat());
        sim.connect("browser");
        assert_eq!(
            sim.write("rpc_command", &improv_frame(4, &[])),
            r#"{"ok":true}"#
        );
        sim.advance(after - 1);
        assert_eq!(sim.read_data("rpc_result"), "", "{args:?}");
        sim.advance(1);
        assert_eq!(sim.read_data("rpc_result"), hex(&networks), "{args:?}");
        sim.finish();
    }
}

/// "device info (`03`) answers at once with `ESPHome`, `2026.1.0`, `ESP32-C3`, `bluehome Improv
/// sim` (`--device-info-strings N`: only the first N of them …)".
#[test]
fn improv_device_info_strings_cuts_the_device_info_answer() {
    let all = ["ESPHome", "2026.1.0", "ESP32-C3", "bluehome Improv sim"];
    for (args, strings) in [
        (&[][..], &all[..]),
        (&["--device-info-strings", "3"], &all[..3]),
    ] {
        let mut sim = Sim::start("improv", &[&["--no-authorization"], args].concat());
        sim.connect("browser");
        assert_eq!(
            sim.write("rpc_command", &improv_frame(3, &[])),
            r#"{"ok":true}"#
        );
        let answer = hex(&improv_frame(3, strings));
        assert_eq!(sim.read_data("rpc_result"), answer, "{args:?}");
        sim.finish();
    }
}
