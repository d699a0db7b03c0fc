//! The app's saved scan documents, as versioned JSON, read so that nothing is lost silently:
//!
//! - `bluehome.scan` ([`ScanDocument`]): `{"version":1,"settings":{…},"labels":{key:label},
//!   "history":{key:{"name":…,"readings":[{"id":2,"index":0,"points":[[ms,value],…]}]}}}`;
//! - `bluehome.keys` ([`KeysDocument`]): `{"version":1,"keys":{key:{"bindkey":"<32 hex>",
//!   "mac":"AA:…"|null}}}`, bind keys kept apart so nothing else ever carries them.
//!
//! Loading never fails. What it can use comes back; what it cannot is reported as a
//! [`LoadIssue`], part by part (one label, one device's history, one bind key), and whenever
//! anything but a point that is not a number was dropped, the whole original text comes back in
//! `kept_aside` for the app to keep under another key and offer for download. A document without
//! a version this code knows (0, missing, or newer) is not read at all and kept aside whole.
//!
//! History points are always finite numbers: BTHome v1 floats can be NaN or infinite, and JSON has
//! no such numbers (serde_json writes `null`), so [`ScanDocument::to_json`] leaves them out and
//! loading drops a `null` point with a count, not the document.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::advertisement::MacAddress;
use crate::bthome::BindKey;
use crate::device::DeviceKey;

/// The schema version this code writes and reads.
pub const VERSION: u64 = 1;

/// One problem found while loading a saved document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadIssue {
    /// Not JSON, or not an object: nothing could be read.
    Unreadable {
        /// What the parser said.
        message: String,
    },
    /// Written by a newer bluehome (a version above [`VERSION`]).
    Newer {
        /// The version in the document.
        version: u64,
    },
    /// No version this code knows (missing, not a number, or 0).
    UnknownVersion {
        /// The version member as written (`missing` when there is none).
        version: String,
    },
    /// One part was not of the expected shape and was left out.
    Dropped {
        /// Where in the document (`labels.AA:BB:…`, `history.dev.readings[2]`, `keys.dev`).
        part: String,
        /// What was wrong.
        problem: String,
    },
    /// History points that were not numbers (non-finite readings saved by older versions as
    /// `null`) were left out.
    NotNumbers {
        /// How many.
        points: usize,
    },
}

impl fmt::Display for LoadIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable { message } => write!(f, "could not be read ({message})"),
            Self::Newer { version } => write!(
                f,
                "was written by a newer bluehome (schema {version}; this one reads {VERSION})"
            ),
            Self::UnknownVersion { version } => write!(
                f,
                "has no schema version this bluehome knows (version {version}; this one reads \
                 {VERSION})"
            ),
            Self::Dropped { part, problem } => write!(f, "{part} was left out: {problem}"),
            Self::NotNumbers { points } => write!(
                f,
                "{points} history point(s) that were not numbers (NaN or infinite readings) were \
                 left out"
            ),
        }
    }
}

/// What loading found.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T> {
    /// What could be used (`None` when nothing was stored, or nothing could be read).
    pub value: Option<T>,
    /// What could not, for a notice.
    pub issues: Vec<LoadIssue>,
    /// The original text whenever data was left out: keep it and let the user download it.
    pub kept_aside: Option<String>,
}

impl<T> Loaded<T> {
    fn nothing() -> Self {
        Self {
            value: None,
            issues: Vec::new(),
            kept_aside: None,
        }
    }
}

/// The object of a stored document in a version this code reads, or the answer instead:
/// nothing stored, or the document refused (unreadable, not an object, another version) and
/// kept aside whole.
fn open<T>(text: Option<&str>) -> Result<Map<String, Value>, Loaded<T>> {
    let Some(text) = text else {
        return Err(Loaded::nothing());
    };
    let refuse = |issue| Loaded {
        value: None,
        issues: alloc::vec![issue],
        kept_aside: Some(String::from(text)),
    };
    let value: Value = serde_json::from_str(text).map_err(|e| {
        refuse(LoadIssue::Unreadable {
            message: e.to_string(),
        })
    })?;
    let Value::Object(obj) = value else {
        return Err(refuse(LoadIssue::Unreadable {
            message: String::from("not a JSON object"),
        }));
    };
    match obj.get("version") {
        Some(v) if v.as_u64() == Some(VERSION) => Ok(obj),
        Some(v) => match v.as_u64() {
            Some(version) if version > VERSION => Err(refuse(LoadIssue::Newer { version })),
            _ => Err(refuse(LoadIssue::UnknownVersion {
                version: v.to_string(),
            })),
        },
        None => Err(refuse(LoadIssue::UnknownVersion {
            version: String::from("missing"),
        })),
    }
}

fn dropped(part: String, problem: &str) -> LoadIssue {
    LoadIssue::Dropped {
        part,
        problem: String::from(problem),
    }
}

/// One saved reading: object id, its index among same-id objects, `(ms, value)` points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedReading {
    /// BTHome object id.
    pub id: u8,
    /// 0 for the first object with this id in a packet, 1 for the second …
    pub index: u8,
    /// `(unix ms, value)`, oldest first; always finite values.
    pub points: Vec<(u64, f64)>,
}

/// One device's saved history.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SavedDevice {
    /// Its advertised name.
    pub name: Option<String>,
    /// Its readings.
    pub readings: Vec<SavedReading>,
}

/// `bluehome.scan`: settings, labels and the thinned last hour of history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanDocument {
    /// The app's settings object, as saved (the app reads it; `None` when absent).
    pub settings: Option<Value>,
    /// User labels by device.
    pub labels: BTreeMap<DeviceKey, String>,
    /// History by device.
    pub history: BTreeMap<DeviceKey, SavedDevice>,
}

#[derive(Serialize)]
struct ScanOut<'a> {
    version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    settings: Option<&'a Value>,
    labels: &'a BTreeMap<DeviceKey, String>,
    history: BTreeMap<&'a str, SavedDevice>,
}

impl ScanDocument {
    /// The document's JSON text. Points that are not finite numbers are left out.
    pub fn to_json(&self) -> String {
        let history = self
            .history
            .iter()
            .map(|(key, device)| {
                let readings = device
                    .readings
                    .iter()
                    .map(|r| SavedReading {
                        id: r.id,
                        index: r.index,
                        points: r
                            .points
                            .iter()
                            .copied()
                            .filter(|p| p.1.is_finite())
                            .collect(),
                    })
                    .collect();
                let name = device.name.clone();
                (key.as_str(), SavedDevice { name, readings })
            })
            .collect();
        let out = ScanOut {
            version: VERSION,
            settings: self.settings.as_ref(),
            labels: &self.labels,
            history,
        };
        serde_json::to_string(&out).unwrap_or_default()
    }

    /// Reads the document (`None`: nothing stored). See the module documentation.
    pub fn load(text: Option<&str>) -> Loaded<Self> {
        let obj = match open(text) {
            Ok(obj) => obj,
            Err(answer) => return answer,
        };
        let mut issues = Vec::new();
        let mut doc = Self {
            settings: obj.get("settings").filter(|v| !v.is_null()).cloned(),
            ..Self::default()
        };
        match obj.get("labels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) => {
                for (key, label) in labels {
                    let part = format!("labels.{key}");
                    match (device_key(key, &part, &mut issues), label) {
                        (None, _) => {}
                        (Some(key), Value::String(l)) => {
                            doc.labels.insert(key, l.clone());
                        }
                        (Some(_), _) => issues.push(dropped(part, "not a string")),
                    }
                }
            }
            Some(_) => issues.push(dropped(String::from("labels"), "not an object")),
        }
        let mut not_numbers = 0;
        match obj.get("history") {
            None | Some(Value::Null) => {}
            Some(Value::Object(history)) => {
                for (key, device) in history {
                    let part = format!("history.{key}");
                    let Some(key) = device_key(key, &part, &mut issues) else {
                        continue;
                    };
                    match load_device(device, &part, &mut issues, &mut not_numbers) {
                        Some(d) => {
                            doc.history.insert(key, d);
                        }
                        None => issues.push(dropped(part, "not a device's history")),
                    }
                }
            }
            Some(_) => issues.push(dropped(String::from("history"), "not an object")),
        }
        let keep = !issues.is_empty();
        if not_numbers > 0 {
            issues.push(LoadIssue::NotNumbers {
                points: not_numbers,
            });
        }
        Loaded {
            value: Some(doc),
            issues,
            kept_aside: text.filter(|_| keep).map(String::from),
        }
    }
}

/// The device key a member name holds, or an issue.
fn device_key(text: &str, part: &str, issues: &mut Vec<LoadIssue>) -> Option<DeviceKey> {
    match text.parse() {
        Ok(key) => Some(key),
        Err(e) => {
            issues.push(dropped(String::from(part), &e.to_string()));
            None
        }
    }
}

fn load_device(
    value: &Value,
    part: &str,
    issues: &mut Vec<LoadIssue>,
    not_numbers: &mut usize,
) -> Option<SavedDevice> {
    let obj = value.as_object()?;
    let name = match obj.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) => Some(n.clone()),
        Some(_) => {
            issues.push(dropped(format!("{part}.name"), "not a string"));
            None
        }
    };
    let readings = match obj.get("readings") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(list)) => list.as_slice(),
        Some(_) => {
            issues.push(dropped(format!("{part}.readings"), "not a list"));
            &[][..]
        }
    };
    let mut device = SavedDevice {
        name,
        readings: Vec::new(),
    };
    for (i, reading) in readings.iter().enumerate() {
        let at = format!("{part}.readings[{i}]");
        let byte = |key: &str| {
            reading
                .get(key)
                .and_then(Value::as_u64)
                .and_then(|n| u8::try_from(n).ok())
        };
        let (Some(id), Some(points)) =
            (byte("id"), reading.get("points").and_then(Value::as_array))
        else {
            issues.push(dropped(at, "not a reading with an id and points"));
            continue;
        };
        let index = match reading.get("index") {
            None => 0,
            Some(_) => match byte("index") {
                Some(index) => index,
                None => {
                    issues.push(dropped(at, "its index is not 0..=255"));
                    continue;
                }
            },
        };
        let mut kept = Vec::with_capacity(points.len());
        let mut shapeless = 0;
        for point in points {
            match point.as_array().map(Vec::as_slice) {
                Some([t, v]) if t.is_u64() && v.is_null() => *not_numbers += 1,
                Some([t, v]) => match (t.as_u64(), v.as_f64()) {
                    (Some(t), Some(v)) => kept.push((t, v)),
                    _ => shapeless += 1,
                },
                _ => shapeless += 1,
            }
        }
        if shapeless > 0 {
            issues.push(dropped(
                at,
                &format!("{shapeless} point(s) were not [time, value]"),
            ));
        }
        device.readings.push(SavedReading {
            id,
            index,
            points: kept,
        });
    }
    Some(device)
}

/// A saved bind key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedKey {
    /// The key.
    pub bindkey: BindKey,
    /// The device's MAC, for devices the browser names by an opaque id.
    pub mac: Option<MacAddress>,
}

/// `bluehome.keys`: bind keys by device key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeysDocument {
    /// The keys, by device.
    pub keys: BTreeMap<DeviceKey, SavedKey>,
}

#[derive(Serialize)]
struct KeyOut {
    bindkey: String,
    mac: Option<String>,
}

#[derive(Serialize)]
struct KeysOut<'a> {
    version: u64,
    keys: BTreeMap<&'a str, KeyOut>,
}

impl KeysDocument {
    /// The document's JSON text.
    pub fn to_json(&self) -> String {
        let keys = self
            .keys
            .iter()
            .map(|(k, e)| {
                (
                    k.as_str(),
                    KeyOut {
                        bindkey: e.bindkey.to_hex(),
                        mac: e.mac.map(|m| m.to_string()),
                    },
                )
            })
            .collect();
        serde_json::to_string(&KeysOut {
            version: VERSION,
            keys,
        })
        .unwrap_or_default()
    }

    /// Reads the document (`None`: nothing stored). A malformed key is left out, reported, and
    /// the original kept aside, so the next save cannot lose it.
    pub fn load(text: Option<&str>) -> Loaded<Self> {
        let obj = match open(text) {
            Ok(obj) => obj,
            Err(answer) => return answer,
        };
        let mut issues = Vec::new();
        let mut doc = Self::default();
        match obj.get("keys") {
            None | Some(Value::Null) => {}
            Some(Value::Object(keys)) => {
                for (device, entry) in keys {
                    let part = format!("keys.{device}");
                    let Some(device) = device_key(device, &part, &mut issues) else {
                        continue;
                    };
                    match load_key(entry) {
                        Ok(key) => {
                            doc.keys.insert(device, key);
                        }
                        Err(problem) => issues.push(dropped(part, &problem)),
                    }
                }
            }
            Some(_) => issues.push(dropped(String::from("keys"), "not an object")),
        }
        let kept_aside = text.filter(|_| !issues.is_empty()).map(String::from);
        Loaded {
            value: Some(doc),
            issues,
            kept_aside,
        }
    }
}

fn load_key(entry: &Value) -> Result<SavedKey, String> {
    let bindkey = entry
        .get("bindkey")
        .and_then(Value::as_str)
        .ok_or_else(|| String::from("no bindkey text"))?;
    let bindkey: BindKey = bindkey
        .parse()
        .map_err(|e| alloc::format!("bindkey: {e}"))?;
    let mac = match entry.get("mac") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) => Some(
            MacAddress::from_str(m).map_err(|_| String::from("its mac is not a MAC address"))?,
        ),
        Some(_) => return Err(String::from("its mac is not a string")),
    };
    Ok(SavedKey { bindkey, mac })
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;

    fn scan(text: &str) -> Loaded<ScanDocument> {
        ScanDocument::load(Some(text))
    }

    #[test]
    fn a_document_round_trips() {
        let mut doc = ScanDocument {
            settings: Some(serde_json::json!({"fahrenheit": true})),
            ..ScanDocument::default()
        };
        doc.labels.insert("dev".parse().unwrap(), "Kitchen".into());
        doc.history.insert(
            "dev".parse().unwrap(),
            SavedDevice {
                name: Some("ATC".into()),
                readings: vec![SavedReading {
                    id: 2,
                    index: 1,
                    points: vec![(1_000, 25.06), (31_000, -1.5)],
                }],
            },
        );
        let back = scan(&doc.to_json());
        assert_eq!(back.issues, []);
        assert_eq!(back.kept_aside, None);
        assert_eq!(back.value, Some(doc));
    }

    /// A NaN reading was written as `null`, and the next load refused the whole store: settings,
    /// labels and history gone for the session.
    #[test]
    fn non_finite_points_are_never_written_and_a_null_point_costs_only_itself() {
        let mut doc = ScanDocument::default();
        doc.labels.insert("dev".parse().unwrap(), "Kitchen".into());
        doc.history.insert(
            "dev".parse().unwrap(),
            SavedDevice {
                name: None,
                readings: vec![SavedReading {
                    id: 2,
                    index: 0,
                    points: vec![(1, f64::NAN), (2, 20.0), (3, f64::INFINITY)],
                }],
            },
        );
        let text = doc.to_json();
        assert!(!text.contains("null]"), "{text}");
        assert_eq!(
            scan(&text).value.unwrap().history["dev"].readings[0].points,
            [(2, 20.0)]
        );

        let old = r#"{"version":1,"labels":{"dev":"Kitchen"},"history":{"dev":{"readings":[{"id":2,"points":[[1,null],[2,20.0]]}]}}}"#;
        let loaded = scan(old);
        assert_eq!(loaded.issues, [LoadIssue::NotNumbers { points: 1 }]);
        assert_eq!(loaded.kept_aside, None);
        let doc = loaded.value.unwrap();
        assert_eq!(doc.labels["dev"], "Kitchen");
        assert_eq!(doc.history["dev"].readings[0].points, [(2, 20.0)]);
    }

    #[test]
    fn a_bad_part_is_left_out_reported_and_the_original_kept() {
        let text = r#"{"version":1,"labels":{"a":"A","b":7},"history":{"x":3,"y":{"readings":[{"id":999,"points":[]},{"id":1,"points":[[1,2],"z",[-3,4],[5,"6"]]}]}}}"#;
        let loaded = scan(text);
        let doc = loaded.value.unwrap();
        assert_eq!(doc.labels.len(), 1);
        assert_eq!(doc.history["y"].readings.len(), 1);
        assert_eq!(doc.history["y"].readings[0].points, [(1, 2.0)]);
        let parts: Vec<String> = loaded
            .issues
            .iter()
            .map(|i| match i {
                LoadIssue::Dropped { part, .. } => part.clone(),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(
            parts,
            [
                "labels.b",
                "history.x",
                "history.y.readings[0]",
                "history.y.readings[1]"
            ]
        );
        let Some(LoadIssue::Dropped { problem, .. }) = loaded.issues.last() else {
            panic!("{:?}", loaded.issues)
        };
        assert_eq!(problem, "3 point(s) were not [time, value]");
        assert_eq!(loaded.kept_aside.as_deref(), Some(text));
    }

    /// A store with `"version": 0` was accepted without a notice.
    #[test]
    fn unknown_missing_and_newer_versions_are_not_read() {
        for (text, issue) in [
            (
                r#"{"version":0,"labels":{"a":"A"}}"#,
                LoadIssue::UnknownVersion {
                    version: "0".into(),
                },
            ),
            (
                r#"{"labels":{}}"#,
                LoadIssue::UnknownVersion {
                    version: "missing".into(),
                },
            ),
            (r#"{"version":9}"#, LoadIssue::Newer { version: 9 }),
        ] {
            let loaded = scan(text);
            assert_eq!(loaded.value, None, "{text}");
            assert_eq!(loaded.issues, [issue]);
            assert_eq!(loaded.kept_aside.as_deref(), Some(text));
            let keys = KeysDocument::load(Some(text));
            assert_eq!(keys.value, None, "{text}");
        }
        let corrupt = scan("{not json");
        assert!(matches!(corrupt.issues[..], [LoadIssue::Unreadable { .. }]));
        assert_eq!(scan("[]").value, None);
        assert_eq!(ScanDocument::load(None), Loaded::nothing());
    }

    /// The notice the app shows names what was wrong and, for a version, both versions.
    #[test]
    fn issues_read_as_sentences() {
        let cases = [
            (
                LoadIssue::Unreadable {
                    message: "EOF at line 1".into(),
                },
                "could not be read (EOF at line 1)",
            ),
            (
                LoadIssue::Newer { version: 9 },
                "was written by a newer bluehome (schema 9; this one reads 1)",
            ),
            (
                LoadIssue::UnknownVersion {
                    version: "missing".into(),
                },
                "has no schema version this bluehome knows (version missing; this one reads 1)",
            ),
            (
                LoadIssue::Dropped {
                    part: "keys.bad".into(),
                    problem: "not 32 hex digits".into(),
                },
                "keys.bad was left out: not 32 hex digits",
            ),
            (
                LoadIssue::NotNumbers { points: 2 },
                "2 history point(s) that were not numbers (NaN or infinite readings) were left out",
            ),
        ];
        for (issue, words) in cases {
            assert_eq!(issue.to_string(), words);
        }
    }

    #[test]
    fn keys_round_trip_and_a_malformed_key_is_kept_aside() {
        let mut doc = KeysDocument::default();
        doc.keys.insert(
            "dev".parse().unwrap(),
            SavedKey {
                bindkey: BindKey::new([7; 16]),
                mac: Some(MacAddress([1, 2, 3, 4, 5, 6])),
            },
        );
        let back = KeysDocument::load(Some(&doc.to_json()));
        assert_eq!(back.value, Some(doc));
        assert_eq!(back.kept_aside, None);

        let text = r#"{"version":1,"keys":{"good":{"bindkey":"00112233445566778899aabbccddeeff"},"bad":{"bindkey":"0011"}}}"#;
        let loaded = KeysDocument::load(Some(text));
        assert_eq!(loaded.value.unwrap().keys.len(), 1);
        assert!(
            matches!(&loaded.issues[..], [LoadIssue::Dropped { part, .. }] if part == "keys.bad")
        );
        assert_eq!(loaded.kept_aside.as_deref(), Some(text));
    }
}
