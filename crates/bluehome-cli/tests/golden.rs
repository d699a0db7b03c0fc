//! Golden files for `bluehome decode` (tests/golden/decode-*.jsonl) and a check of every output
//! line against schema/decode-output.schema.json (and every golden input line that is valid JSON
//! against schema/decode-input.schema.json).
//!
//! The expected outputs were checked by hand against independent sources before being committed:
//! line by line, the values are the ones bthome_objects.md §6/§9, shelly_blu.md §5 and the public
//! vectors give for the same bytes (see the README's "Golden files" section).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(crate_dir().join(rel)).unwrap()
}

fn run(args: &[&str], stdin: &str) -> (String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bluehome"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

/// A small JSON Schema checker: type, enum, required, properties, additionalProperties (false or
/// a schema), items, oneOf, $ref to #/$defs, minimum, maximum, minLength. (Patterns are not
/// checked.) Returns the first violation.
fn check(root: &Value, schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.strip_prefix("#/$defs/").unwrap();
        return check(root, &root["$defs"][name], value, path);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let matching = options
            .iter()
            .filter(|o| check(root, o, value, path).is_ok())
            .count();
        if matching != 1 {
            return Err(format!("{path}: {matching} oneOf branches match {value}"));
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !ok {
            return Err(format!("{path}: {value} is not {types:?}"));
        }
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        return Err(format!("{path}: {value} not in {options:?}"));
    }
    if let (Some(min), Some(v)) = (schema["minimum"].as_f64(), value.as_f64())
        && v < min
    {
        return Err(format!("{path}: {v} < {min}"));
    }
    if let (Some(max), Some(v)) = (schema["maximum"].as_f64(), value.as_f64())
        && v > max
    {
        return Err(format!("{path}: {v} > {max}"));
    }
    if let (Some(min), Some(s)) = (schema["minLength"].as_u64(), value.as_str())
        && (s.chars().count() as u64) < min
    {
        return Err(format!("{path}: shorter than {min}"));
    }
    if let Some(object) = value.as_object() {
        for req in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(req.as_str().unwrap()) {
                return Err(format!("{path}: missing {req}"));
            }
        }
        for (key, v) in object {
            let sub = format!("{path}.{key}");
            match schema["properties"].get(key) {
                Some(s) => check(root, s, v, &sub)?,
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => return Err(format!("{path}: unexpected {key}")),
                    s @ Value::Object(_) => check(root, s, v, &sub)?,
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            check(root, items, v, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
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
