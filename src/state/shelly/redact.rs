//! Secrets out of everything a person or a file can see.
//!
//! Wi-Fi passwords, device passwords, HA1 digests, digest-auth answers and BTHome bind keys are
//! replaced by [`MASK`] in the console history, the progress log, error messages and exports. The
//! rule is by field name (anything that names a password, a key or an auth answer) plus a value
//! check for `key`, because `key` also names harmless component keys such as `bthomedevice:200`.

use serde_json::Value;

/// What a secret is replaced with.
pub const MASK: &str = "«redacted»";

/// Field names whose string values are always secret, wherever they sit.
const SECRET_FIELDS: [&str; 6] = ["pass", "password", "ha1", "cnonce", "response", "bindkey"];

/// Returns a copy of `value` with every secret replaced by [`MASK`].
pub fn redact_value(value: &Value) -> Value {
    let mut copy = value.clone();
    redact_in_place(&mut copy);
    copy
}

/// Replaces every secret in `value` by [`MASK`].
pub fn redact_in_place(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, field) in map.iter_mut() {
                let lower = name.to_ascii_lowercase();
                let secret = (lower == "auth" && field.is_object())
                    || (SECRET_FIELDS.contains(&lower.as_str()) && !field.is_null())
                    || (lower == "key" && field.as_str().is_some_and(is_hex_key));
                if secret {
                    *field = Value::String(MASK.to_owned());
                } else {
                    redact_in_place(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_in_place),
        _ => {}
    }
}

/// A BTHome bind key: 32 hex digits (AES-128), possibly with separators removed.
fn is_hex_key(text: &str) -> bool {
    text.len() >= 32 && text.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Replaces every occurrence of each known secret in free text (an error message, a log line).
/// Empty and one-character "secrets" are ignored: masking them would mangle the text.
pub fn redact_text(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.chars().count() > 1) {
        out = out.replace(secret.as_str(), MASK);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn wifi_password_is_masked_in_set_config_params() {
        let params =
            json!({"config": {"sta": {"ssid": "home", "pass": "hunter22", "enable": true}}});
        let shown = redact_value(&params);
        assert_eq!(shown["config"]["sta"]["pass"], MASK);
        assert_eq!(shown["config"]["sta"]["ssid"], "home");
    }

    #[test]
    fn set_auth_ha1_and_auth_answer_are_masked() {
        let frame = json!({"method": "Shelly.SetAuth", "params": {"user": "admin", "realm": "r",
            "ha1": "e7321a38e256c665fb8fe807d3fb54d8db23a8e90186a71b382949a84e3816c4"},
            "auth": {"realm": "r", "response": "ab", "cnonce": 5}});
        let shown = redact_value(&frame);
        assert_eq!(shown["params"]["ha1"], MASK);
        assert_eq!(shown["auth"], MASK);
        assert_eq!(shown["params"]["realm"], "r");
    }

    #[test]
    fn turning_auth_off_keeps_the_null() {
        let shown = redact_value(&json!({"ha1": null}));
        assert_eq!(shown["ha1"], Value::Null);
    }

    #[test]
    fn bind_keys_are_masked_but_component_keys_are_not() {
        let add = json!({"config": {"addr": "aa:bb:cc:dd:ee:ff",
            "key": "231d39c1d7cc1ab1aee224cd096db932"}});
        assert_eq!(redact_value(&add)["config"]["key"], MASK);
        let result = json!({"key": "bthomedevice:200"});
        assert_eq!(redact_value(&result)["key"], "bthomedevice:200");
        // Too short for a key though hex, and long enough though not hex: neither is one.
        for other in ["cafe", "a name of thirty-two characters or more"] {
            let shown = redact_value(&json!({"key": other}));
            assert_eq!(shown["key"], other);
        }
    }

    #[test]
    fn secrets_inside_arrays_are_masked() {
        let shown = redact_value(&json!([{"pass": "x1"}, {"ssid": "y"}]));
        assert_eq!(shown, json!([{"pass": MASK}, {"ssid": "y"}]));
    }

    #[test]
    fn known_secrets_are_masked_in_free_text() {
        let text = redact_text(
            "bad value 'hunter22' for pass",
            &["hunter22".to_owned(), "".to_owned(), "a".to_owned()],
        );
        assert_eq!(text, format!("bad value '{MASK}' for pass"));
    }
}
