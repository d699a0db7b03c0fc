//! Golden files for `bluehome decode` (tests/golden/decode-*.jsonl) and a check of every output
//! line against schema/decode-output.schema.json (and every golden input line that is valid JSON
//! against schema/decode-input.schema.json).
//!
//! The expected outputs were checked by hand against independent sources before being committed:
//! line by line, the values are the ones bthome.io's worked examples (`format.html`,
//! `encryption.html`), aioshelly's BLU tests (`tests/ble/test_manufacturer_data.py`) and the public
//! vectors give for the same bytes (see the README's "Golden files" section).

use std::path::PathBuf;

use schema::check;
use serde_json::Value;

mod common;
mod schema;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(crate_dir().join(rel)).unwrap()
}

fn run(args: &[&str], stdin: &str) -> (String, i32) {
    let out = common::run_with_input(common::bluehome().args(args), stdin.as_bytes()).unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

#[test]
fn json_lines_match_the_golden_output() {
    let input = read("tests/golden/decode-input.jsonl");
    let (out, code) = run(&["decode"], &input);
    assert_eq!(code, 0);
    assert_eq!(out, read("tests/golden/decode-output.jsonl"));
    assert_eq!(
        out.lines().count(),
        input.lines().count(),
        "one output line per input line"
    );
}

#[test]
fn argument_form_matches_the_golden_output() {
    let (out, code) = run(
        &[
            "decode",
            "--key",
            "90bffd73cb6b26ef58a7a8eba9232036",
            "--mac",
            "B4:35:22:F5:3D:A4",
            "fcd2:450aeb84467f85ba0100003188788c",
            "mfr:2985:0109000b01000accbbaa6e02bc",
        ],
        "",
    );
    assert_eq!(code, 0);
    assert_eq!(out, read("tests/golden/decode-args.jsonl"));
}

#[test]
fn golden_lines_follow_the_schemas() {
    let output_schema: Value =
        serde_json::from_str(&read("schema/decode-output.schema.json")).unwrap();
    let input_schema: Value =
        serde_json::from_str(&read("schema/decode-input.schema.json")).unwrap();
    for file in [
        "tests/golden/decode-output.jsonl",
        "tests/golden/decode-args.jsonl",
    ] {
        for (i, line) in read(file).lines().enumerate() {
            let value: Value = serde_json::from_str(line).unwrap();
            check(
                &output_schema,
                &output_schema,
                &value,
                &format!("{file}:{}", i + 1),
            )
            .unwrap();
        }
    }
    let mut valid_inputs = 0;
    for (i, line) in read("tests/golden/decode-input.jsonl").lines().enumerate() {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let result = check(
            &input_schema,
            &input_schema,
            &value,
            &format!("input:{}", i + 1),
        );
        if value["rssi"].is_string() {
            assert!(result.is_err(), "the schema must reject line {}", i + 1);
        } else {
            result.unwrap();
            valid_inputs += 1;
        }
    }
    assert!(valid_inputs >= 17);
}

#[test]
fn the_schema_checker_rejects_wrong_shapes() {
    let schema: Value = serde_json::from_str(&read("schema/decode-output.schema.json")).unwrap();
    for bad in [
        r#"{"address":null,"bthome":null}"#,
        r#"{"address":null,"bthome":null,"shelly":null,"extra":1}"#,
        r#"{"address":null,"bthome":{"version":3,"encrypted":false,"mac_included":false,"trigger_based":false,"objects":[],"error":null},"shelly":null}"#,
        r#"{"line":0,"error":{"kind":"invalid_json","field":null,"message":""}}"#,
    ] {
        let value: Value = serde_json::from_str(bad).unwrap();
        assert!(check(&schema, &schema, &value, "bad").is_err(), "{bad}");
    }
}
