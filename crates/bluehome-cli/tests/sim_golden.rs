//! Golden transcripts for `bluehome sim <device> --stdio`: every directory under
//! tests/golden/sim/ holds `args` (after `sim <device> --stdio`), `input.jsonl` and
//! `expected.jsonl`, the exact answers, and optionally `device` (`blu` or `improv`; `shelly` when
//! absent). The expected files were written from the protocol rules in the README and the
//! documented frame formats; lengths, hex, digest hashes, Improv checksums, BLU keys (SHA-256) and
//! encrypted BTHome (AES-CCM, Python's `cryptography`) were computed with Python, not by this
//! tool.

mod common;
mod schema;

use common::{bluehome, json_lines, run_with_input, spawn_piped};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

/// The simulator a case runs: its `device` file, else `shelly`.
fn device(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("device"))
        .map_or_else(|_| "shelly".into(), |d| d.trim().to_string())
}

fn run_case(dir: &Path) -> Result<(), String> {
    let args = std::fs::read_to_string(dir.join("args")).map_err(|e| e.to_string())?;
    let input = std::fs::read(dir.join("input.jsonl")).map_err(|e| e.to_string())?;
    let out = run_with_input(
        bluehome()
            .args(["sim", &device(dir), "--stdio"])
            .args(args.split_whitespace()),
        &input,
    )
    .map_err(|e| e.to_string())?;
    let (got, want) = common::output_and_expected(&out, dir)?;
    let requests = input
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    if got.lines().count() != requests {
        return Err(format!(
            "{requests} requests but {} answers",
            got.lines().count()
        ));
    }
    common::same_output(&got, &want)
}

#[test]
fn sim_golden_transcripts_match() {
    common::assert_all_pass("sim", 7, run_case);
}

#[test]
fn every_simulator_has_golden_transcripts() {
    let dirs = common::case_dirs("sim", 6);
    for (name, min) in [("shelly", 6), ("blu", 3), ("improv", 3)] {
        let cases = dirs.iter().filter(|d| device(d) == name).count();
        assert!(cases >= min, "{cases} {name} transcripts");
    }
}

/// Every request and answer of every transcript follows schema/sim-request.schema.json and
/// schema/sim-answer.schema.json.
#[test]
fn sim_transcripts_follow_the_schemas() {
    let load = |name: &str| -> serde_json::Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schema")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let (request, answer) = (
        load("sim-request.schema.json"),
        load("sim-answer.schema.json"),
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in common::case_dirs("sim", 6) {
        let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
        let (input, expected) = (read("input.jsonl"), read("expected.jsonl"));
        for (i, (request_line, answer_line)) in input.lines().zip(expected.lines()).enumerate() {
            let at = format!("{}:{}", dir.display(), i + 1);
            let answer_value: serde_json::Value = serde_json::from_str(answer_line).unwrap();
            if let Err(e) = schema::check(&answer, &answer, &answer_value, &at) {
                failures.push(e);
            }
            // Requests the simulator refuses as malformed (with a detail) break the schema on
            // purpose.
            let malformed = answer_value["error"] == "request_not_supported"
                && answer_value.get("detail").is_some();
            match serde_json::from_str::<serde_json::Value>(request_line) {
                Ok(value) if !malformed => {
                    if let Err(e) = schema::check(&request, &request, &value, &at) {
                        failures.push(e);
                    }
                    checked += 1;
                }
                _ => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 100, "{checked} requests checked");
}

/// Each answer is flushed before the next request is read: a client can talk turn by turn.
#[test]
fn answers_are_flushed_line_by_line_and_eof_exits_0() {
    let mut child =
        spawn_piped(bluehome().args(["sim", "shelly", "--stdio", "--virtual-clock"])).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for (request, answer) in [
        (r#"{"op":"connect","client":"x"}"#, r#"{"ok":true}"#),
        (
            r#"{"op":"read","char":"RX_CTL"}"#,
            r#"{"ok":false,"att":10,"error":"attribute_not_found","detail":"unknown characteristic \"RX_CTL\""}"#,
        ),
        (
            r#"{"op":"read","char":"rx_ctl"}"#,
            r#"{"ok":true,"data":"00000000"}"#,
        ),
    ] {
        writeln!(stdin, "{request}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line.trim_end(), answer);
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn bad_command_lines_exit_2() {
    let out = bluehome().args(["sim", "shelly"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bluehome()
        .args(["sim", "shelly", "--stdio", "--mtu", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The simulator's advertisement records are `bluehome decode` input: every one decodes without an
/// error (encrypted ones with the `bindkey` the record carries) — a cross-check of the sensors
/// against the decoder.
#[test]
fn sim_advertisements_decode_cleanly() {
    let out = run_with_input(
        bluehome()
            .args(["sim", "shelly", "--stdio", "--virtual-clock", "--sensors"])
            .arg("button,ht,dw+enc,motion,rc4+enc,thermo"),
        b"{\"op\":\"advance\",\"ms\":61000}\n{\"op\":\"advertisements\"}\n",
    )
    .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let answer: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    let records = answer["advertisements"].as_array().unwrap();
    assert_eq!(records.len(), 6);
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let decoded = run_with_input(bluehome().arg("decode"), input.as_bytes()).unwrap();
    let lines = json_lines(&decoded.stdout);
    assert_eq!(lines.len(), 6);
    for line in &lines {
        assert!(line["bthome"]["error"].is_null(), "{line}");
        assert!(
            !line["bthome"]["objects"].as_array().unwrap().is_empty(),
            "{line}"
        );
    }
    assert_eq!(lines[2]["bthome"]["encrypted"], true);
    assert_eq!(lines[0]["shelly"]["model"], "SBBT-002C");
    assert!(
        lines[5]["shelly"].is_null(),
        "the generic thermometer has no Shelly data"
    );
}

/// Runs `bluehome sim <args…>` with `input` on stdin; returns stdout's lines as JSON.
fn converse(args: &[&str], input: &str) -> Vec<serde_json::Value> {
    let out = run_with_input(bluehome().arg("sim").args(args), input.as_bytes()).unwrap();
    assert!(out.status.success());
    json_lines(&out.stdout)
}

/// The key read over GATT from `sim blu` decrypts its next advertisement in `bluehome decode`:
/// the two commands agree. (The record's address is the MAC; taking it from the Shelly
/// manufacturer data instead is the core's test `sim::blu::tests::encryption_on_then_…`.)
#[test]
fn blu_key_read_over_gatt_decrypts_the_next_advertisement() {
    let answers = converse(
        &["blu", "--stdio", "--virtual-clock", "--model", "SBDW-002C"],
        concat!(
            "{\"op\":\"press\"}\n",
            "{\"op\":\"connect\",\"client\":\"phone\"}\n",
            "{\"op\":\"pair\"}\n",
            "{\"op\":\"write\",\"char\":\"passkey\",\"data\":\"39300000\"}\n",
            "{\"op\":\"read\",\"char\":\"encryption_key\"}\n",
            "{\"op\":\"press\",\"ms\":300}\n",
            "{\"op\":\"advertisements\"}\n",
        ),
    );
    assert!(answers.iter().all(|a| a["ok"] == true), "{answers:?}");
    let key = answers[4]["data"].as_str().unwrap();
    let mut record = answers[6]["advertisements"][0].clone();
    record["bindkey"] = key.into();
    let out = run_with_input(bluehome().arg("decode"), format!("{record}\n").as_bytes()).unwrap();
    let decoded: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decoded["bthome"]["encrypted"], true, "{decoded}");
    assert!(decoded["bthome"]["error"].is_null(), "{decoded}");
    assert_eq!(decoded["shelly"]["model"], "SBDW-002C");
    let button = decoded["bthome"]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "button")
        .cloned();
    assert_eq!(button.unwrap()["event"], "press");
}

#[test]
fn blu_and_improv_help_and_bad_command_lines() {
    let help = bluehome().args(["sim", "blu", "--help"]).output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for code in ["SBBT-002C", "SBMO-003Z", "SBDI-003E", "SBHT-203C"] {
        assert!(text.contains(code), "{code} missing from:\n{text}");
    }
    assert!(
        bluehome()
            .args(["sim", "improv", "--help"])
            .output()
            .unwrap()
            .status
            .success()
    );
    for args in [
        &["sim", "blu"][..],
        &["sim", "blu", "--stdio", "--model", "SBXX-000"],
        &["sim", "improv", "--stdio", "--capabilities", "300"],
    ] {
        let out = bluehome().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// A line that is not UTF-8, or too long, used to end the simulator ("stdin is not UTF-8 text",
/// status 1): now it gets an error answer like any malformed request, and the session goes on.
#[test]
fn bad_input_lines_get_an_error_answer_and_the_session_goes_on() {
    let mut input = b"{\"op\":\"connect\"}\n{\"op\":\"\xff\"}\n".to_vec();
    input.extend_from_slice(format!("{{\"op\":\"{}\"}}\n", "x".repeat(20_000)).as_bytes());
    input.extend_from_slice(b"{\"op\":123}\n{\"op\":\"read\",\"char\":\"rx_ctl\"}\n");
    let out = run_with_input(
        bluehome().args(["sim", "shelly", "--stdio", "--virtual-clock"]),
        &input,
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let answers = json_lines(&out.stdout);
    assert_eq!(answers.len(), 5, "{answers:?}");
    assert_eq!(answers[0]["ok"], true);
    for (answer, detail) in answers[1..4].iter().zip([
        "not UTF-8 text (byte 8 is not)",
        "the line is 20009 bytes; a request line is at most 16384",
        "\"op\" must be a string",
    ]) {
        assert_eq!(answer["error"], "request_not_supported");
        assert_eq!(answer["detail"], detail);
    }
    assert_eq!(answers[4]["data"], "00000000");
}
