//! `bluehome decode`'s JSON Lines input as the README describes it: which lines are read, and the
//! error object (`invalid_json` or `invalid_field` with its field) a line that cannot be read gets.

use serde_json::Value;

mod common;

/// Each input line's output line from `bluehome decode`, which must exit 0.
fn decode_lines(input: &str) -> Vec<Value> {
    let out = common::run_with_input(common::bluehome().arg("decode"), input.as_bytes()).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = common::json_lines(&out.stdout);
    assert_eq!(lines.len(), input.lines().count(), "one line out per line");
    lines
}

fn decode_one(line: &str) -> Value {
    decode_lines(line).remove(0)
}

/// A cut-off line used to be reported as a wrong `service_data` (`"EOF while parsing an
/// object"`): a line that is not JSON is `invalid_json`, whichever field it breaks off in.
#[test]
fn a_line_that_is_not_json_is_invalid_json_even_inside_a_field() {
    for line in [
        r#"{"address":"x","service_data":{"fcd2":"40""#,
        r#"{"address":"x","service_data":{"fcd2":"40",}}"#,
        r#"{"address":"x","rssi":-6-0}"#,
        r#"{"address":"x","bindkey":"#,
        r#"{"address":"x"#,
    ] {
        let out = decode_one(line);
        assert_eq!(out["line"], 1, "{line}");
        assert_eq!(out["error"]["kind"], "invalid_json", "{line}: {out}");
        assert_eq!(out["error"]["field"], Value::Null, "{line}: {out}");
    }
    // A value of the wrong type in valid JSON is still the field's error.
    let wrong = decode_one(r#"{"address":"x","service_data":{"fcd2":40}}"#);
    assert_eq!(wrong["error"]["kind"], "invalid_field");
    assert_eq!(wrong["error"]["field"], "service_data");
}

/// An advertisement's RSSI is one signed octet in dBm (Core Specification v5.4, Vol 4, Part E,
/// §7.7.65.2, LE Advertising Report event), as a capture line's is: `-200` used to pass `decode`
/// and fail `replay`.
#[test]
fn rssi_is_a_signed_octet_as_in_a_capture_line() {
    for rssi in ["-128", "0", "127"] {
        let out = decode_one(&format!(r#"{{"address":"x","rssi":{rssi}}}"#));
        assert_eq!(out["address"], "x", "{rssi}: {out}");
    }
    for rssi in ["-129", "128", "-200", "32767", "1.5", "\"-60\""] {
        let out = decode_one(&format!(r#"{{"address":"x","rssi":{rssi}}}"#));
        assert_eq!(out["error"]["kind"], "invalid_field", "{rssi}: {out}");
        assert_eq!(out["error"]["field"], "rssi", "{rssi}: {out}");
    }
}

/// `address` is the one field a line must have (README: "All other fields are optional"); `null`
/// counts as absent. A line without it used to be decoded with `"address":null`.
#[test]
fn a_line_without_address_is_an_invalid_field() {
    for line in [
        r#"{"service_data":{"fcd2":"40015d"}}"#,
        r#"{"address":null,"service_data":{"fcd2":"40015d"}}"#,
        "{}",
    ] {
        let out = decode_one(line);
        assert_eq!(out["error"]["kind"], "invalid_field", "{line}: {out}");
        assert_eq!(out["error"]["field"], "address", "{line}: {out}");
    }
}

/// The BTHome v2 encryption example (bthome.io/encryption): key, MAC 54:48:E6:8F:80:A5, and the
/// payload after FCD2, decrypting to temperature 25.06 °C and humidity 50.55 %.
const ENCRYPTED: &str = r#""bindkey":"231d39c1d7cc1ab1aee224cd096db932","service_data":{"fcd2":"41e445f3c9962b332211006c7c4519"}"#;

/// README: `address` is the MAC "when it parses as `AA:BB:CC:DD:EE:FF` (any case, `-` also
/// accepted)", and so is `mac`.
#[test]
fn a_mac_may_be_written_with_dashes() {
    for line in [
        format!(r#"{{"address":"54-48-e6-8f-80-a5",{ENCRYPTED}}}"#),
        format!(r#"{{"address":"opaque","mac":"54-48-E6-8F-80-A5",{ENCRYPTED}}}"#),
    ] {
        let out = decode_one(&line);
        assert_eq!(out["bthome"]["error"], Value::Null, "{line}: {out}");
        assert_eq!(out["bthome"]["objects"][0]["value"], 25.06, "{line}: {out}");
        assert_eq!(out["bthome"]["objects"][1]["value"], 50.55, "{line}: {out}");
    }
}

/// README: "`null` counts as absent" for every optional field.
#[test]
fn null_fields_count_as_absent() {
    let nulls = decode_lines(concat!(
        r#"{"address":"x","mac":null,"rssi":null,"local_name":null,"service_data":null,"#,
        r#""manufacturer_data":null,"bindkey":null}"#,
        "\n",
        r#"{"address":"54:48:E6:8F:80:A5","mac":null,"bindkey":null,"service_data":{"fcd2":"40015d"}}"#,
        "\n",
    ));
    let absent = decode_lines(concat!(
        r#"{"address":"x"}"#,
        "\n",
        r#"{"address":"54:48:E6:8F:80:A5","service_data":{"fcd2":"40015d"}}"#,
        "\n",
    ));
    assert_eq!(nulls, absent);
    assert_eq!(absent[1]["bthome"]["objects"][0]["value"], 93);
}
