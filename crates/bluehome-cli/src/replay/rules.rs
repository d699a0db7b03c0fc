//! The rules file of `bluehome replay` (crates/bluehome-cli/README.md, "Rules"): what the
//! manager is told before the capture runs. Every error names its field.

use bluehome_core::capture;
use bluehome_core::filter::{Matcher, ScanOptions};
use bluehome_core::manager::History;
use bluehome_core::{BindKey, DeviceKey};
use serde_json::{Map, Value};

use super::ReplayError;

/// The parsed rules file.
#[derive(Debug, Default)]
pub struct Rules {
    pub(super) callbacks: Vec<(String, Matcher)>,
    pub(super) track_unavailable: Vec<(DeviceKey, History)>,
    pub(super) scan_requests: Vec<(String, ScanOptions)>,
    pub(super) bindkeys: Vec<(DeviceKey, BindKey)>,
}

fn rules_err(field: &str, what: &str) -> ReplayError {
    ReplayError::Rules(format!("{field}: {what}"))
}

fn check_keys(obj: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), ReplayError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(rules_err(&join(path, k), "unknown field")),
        None => Ok(()),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn list<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], ReplayError> {
    match obj.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(rules_err(key, "expected an array")),
    }
}

/// The member `key` of the object at `path`: present, a string, and one that `accept`s (else
/// "`expected`").
fn string_field<'a>(
    obj: &'a Map<String, Value>,
    path: &str,
    key: &str,
    accept: fn(&str) -> bool,
    expected: &str,
) -> Result<&'a str, ReplayError> {
    match obj.get(key) {
        Some(Value::String(s)) if accept(s) => Ok(s),
        Some(_) => Err(rules_err(&join(path, key), expected)),
        None => Err(rules_err(&join(path, key), "required field is missing")),
    }
}

fn non_empty(text: &str) -> bool {
    !text.is_empty()
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ReplayError> {
    value
        .as_object()
        .ok_or_else(|| rules_err(path, "expected an object"))
}

impl Rules {
    /// Parses the rules JSON; errors name the field (`callbacks[1].matcher.local_name`).
    pub fn parse(text: &str) -> Result<Self, ReplayError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ReplayError::Rules(format!("not JSON: {e}")))?;
        let top = object(&value, "(top level)")?;
        check_keys(
            top,
            "",
            &[
                "callbacks",
                "track_unavailable",
                "scan_requests",
                "bindkeys",
            ],
        )?;
        let mut rules = Self::default();
        for (i, item) in list(top, "callbacks")?.iter().enumerate() {
            let path = format!("callbacks[{i}]");
            let obj = object(item, &path)?;
            check_keys(obj, &path, &["name", "matcher"])?;
            let name = string_field(obj, &path, "name", |_| true, "expected a string")?.to_owned();
            let matcher = match obj.get("matcher") {
                Some(m) => Matcher::from_value(m, &join(&path, "matcher"))
                    .map_err(|e| ReplayError::Rules(e.to_string()))?,
                None => Matcher::default(),
            };
            rules.callbacks.push((name, matcher));
        }
        for (i, item) in list(top, "track_unavailable")?.iter().enumerate() {
            let path = format!("track_unavailable[{i}]");
            let obj = object(item, &path)?;
            check_keys(obj, &path, &["address", "connectable"])?;
            let address: DeviceKey = string_field(
                obj,
                &path,
                "address",
                non_empty,
                "expected a non-empty string",
            )?
            .parse()
            .map_err(|e| rules_err(&join(&path, "address"), &format!("{e}")))?;
            let history = match obj.get("connectable") {
                None | Some(Value::Bool(true)) => History::Connectable,
                Some(Value::Bool(false)) => History::All,
                Some(_) => {
                    return Err(rules_err(
                        &join(&path, "connectable"),
                        "expected true or false",
                    ));
                }
            };
            rules.track_unavailable.push((address, history));
        }
        for (i, item) in list(top, "scan_requests")?.iter().enumerate() {
            let path = format!("scan_requests[{i}]");
            let obj = object(item, &path)?;
            let client = string_field(
                obj,
                &path,
                "client",
                non_empty,
                "expected a non-empty string",
            )?
            .to_owned();
            if rules.scan_requests.iter().any(|(c, _)| *c == client) {
                return Err(rules_err(&join(&path, "client"), "duplicate client name"));
            }
            let options = ScanOptions::from_value(item, &path, &["client"])
                .map_err(|e| ReplayError::Rules(e.to_string()))?;
            rules.scan_requests.push((client, options));
        }
        match top.get("bindkeys") {
            None => {}
            Some(Value::Object(keys)) => {
                for (address, key) in keys {
                    let field = format!("bindkeys.{address}");
                    let text = key
                        .as_str()
                        .ok_or_else(|| rules_err(&field, "expected a hex string"))?;
                    let key = capture::parse_bindkey(text, &field)
                        .map_err(|e| ReplayError::Rules(e.to_string()))?;
                    let device: DeviceKey = address
                        .parse()
                        .map_err(|e| rules_err(&field, &format!("{e}")))?;
                    rules.bindkeys.push((device, key));
                }
            }
            Some(_) => return Err(rules_err("bindkeys", "expected an object")),
        }
        Ok(rules)
    }
}
