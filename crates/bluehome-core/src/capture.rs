//! Capture lines: one received advertisement as one JSON object, the format `bluehome replay`
//! reads, the app records and imports (specified with a JSON Schema in the CLI's README):
//!
//! ```text
//! {"time":1700000000.25,"address":"A4:C1:38:8D:18:B2","rssi":-60,"local_name":"ATC_8D18B2",
//!  "service_data":{"fcd2":"4002ca0903bf13"},"manufacturer_data":{"2985":"0102"},
//!  "source":"local","connectable":true}
//! ```
//!
//! [`parse_line`] reads one line into a [`Record`]; what is wrong comes back as an [`Error`] that
//! names the field. What a line may hold is bounded, so memory follows the size of a real
//! advertisement, never the size of the input: a line is at most [`MAX_LINE_BYTES`], a data
//! field at most [`MAX_DATA_BYTES`], a name at most [`MAX_NAME_BYTES`], and a time at most
//! [`MAX_TIME_MS`] (so the clock arithmetic downstream never nears `u64::MAX`). A `null` value is
//! the same as a missing key. Unknown keys are ignored.
//!
//! What to do with a line (how to order lines, whether a missing `time` is an error, which
//! source a line without one came from) is the reader's decision: the CLI stops at the first bad
//! line, the app skips it and reports a sample.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use core::cell::Cell;
use core::fmt;
use core::str::FromStr;

use serde::Serialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::advertisement::{Advertisement, Connectable, MacAddress, parse_company_id_decimal};
use crate::bthome::{BindKey, BindKeyError};
use crate::device::DeviceKey;
use crate::hex;
use crate::uuid::{self, Uuid};

/// The longest capture line read, in bytes. A record of the largest advertisement (255 bytes of
/// data, a 248-byte name, every key) is well under half of it.
pub const MAX_LINE_BYTES: usize = 8192;

/// The most bytes one service-data or manufacturer-data value may hold: an extended advertising
/// PDU carries at most 255 bytes of advertising data (Core Specification v5.4, Vol 6, Part B,
/// §2.3.4.9), and a legacy one 31.
pub const MAX_DATA_BYTES: usize = 255;

/// The longest local name, in bytes: a Bluetooth device name is at most 248 octets (Core
/// Specification v5.4, Vol 3, Part C, §12.1).
pub const MAX_NAME_BYTES: usize = 248;

/// The latest time a line may carry, in milliseconds since the Unix epoch: the end of
/// ECMAScript's time range (ECMA-262, §21.4.1.1 "Time Values and Time Range"), the largest time
/// a browser's clock can show. Far from `u64::MAX`, so adding any interval to it stays exact.
pub const MAX_TIME_MS: u64 = 8_640_000_000_000_000;

/// One capture line, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// When it was heard, in milliseconds since the Unix epoch (`time` is in seconds, kept to the
    /// millisecond). `None` for a `bluehome decode` line, which has no time.
    pub time_ms: Option<u64>,
    /// The device (the line's `address`: a MAC address or a browser's opaque device id).
    pub key: DeviceKey,
    /// The scanner that heard it, when the line says.
    pub source: Option<String>,
    /// Whether it was connectable, when the line says.
    pub connectable: Option<bool>,
    /// A BTHome bind key the line carries for the device.
    pub bindkey: Option<BindKey>,
    /// The advertisement. Its `address` is `mac` when given, else `address` when that is a MAC.
    pub advertisement: Advertisement,
}

/// Why a capture line was not read. `Display` names the field (`service_data.fcd2: …`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The line is longer than [`MAX_LINE_BYTES`].
    LineTooLong {
        /// Its length in bytes.
        bytes: usize,
    },
    /// The line is not JSON.
    NotJson {
        /// serde_json's description, with the column.
        message: String,
    },
    /// The line is JSON but not an object.
    NotAnObject,
    /// A required key is missing.
    Missing {
        /// The key.
        field: &'static str,
    },
    /// A value of the wrong type or outside its range.
    Invalid {
        /// Path of the value (`rssi`, `manufacturer_data.2985`).
        field: String,
        /// What the format wants there.
        expected: &'static str,
    },
    /// A time that is negative, not a number, or later than [`MAX_TIME_MS`].
    BadTime {
        /// The time as written, in seconds.
        seconds: String,
    },
    /// A UUID key that does not parse.
    BadUuid {
        /// Path of the key.
        field: String,
        /// What is wrong with it.
        error: uuid::Error,
    },
    /// A bind key that does not parse.
    BadBindKey {
        /// Path of the value.
        field: String,
        /// What is wrong with it.
        error: BindKeyError,
    },
    /// Hex that does not parse.
    BadHex {
        /// Path of the value.
        field: String,
        /// What is wrong with it.
        error: hex::Error,
    },
    /// A value longer than the format allows.
    TooLong {
        /// Path of the value.
        field: String,
        /// Its length in bytes (decoded bytes for hex).
        bytes: usize,
        /// The most allowed.
        max: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { bytes } => write!(
                f,
                "the line is {bytes} bytes; a capture line is at most {MAX_LINE_BYTES}"
            ),
            Self::NotJson { message } => write!(f, "not JSON: {message}"),
            Self::NotAnObject => f.write_str("expected a JSON object"),
            Self::Missing { field } => write!(f, "{field}: required field is missing"),
            Self::Invalid { field, expected } => write!(f, "{field}: expected {expected}"),
            Self::BadTime { seconds } => write!(
                f,
                "time: {seconds} is not a time: expected seconds since 1970, from 0 to {} \
                 (the end of the time a browser can show)",
                MAX_TIME_MS / 1000
            ),
            Self::BadUuid { field, error } => write!(f, "{field}: {error}"),
            Self::BadHex { field, error } => write!(f, "{field}: {error}"),
            Self::BadBindKey { field, error } => write!(f, "{field}: {error}"),
            Self::TooLong { field, bytes, max } => {
                write!(
                    f,
                    "{field}: {bytes} bytes; at most {max} fit an advertisement"
                )
            }
        }
    }
}

impl core::error::Error for Error {}

fn invalid(field: &str, expected: &'static str) -> Error {
    Error::Invalid {
        field: String::from(field),
        expected,
    }
}

/// The value under `key`; `null` counts as absent.
fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn string<'a>(obj: &'a Map<String, Value>, key: &'static str) -> Result<Option<&'a str>, Error> {
    match get(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(key, "a string")),
    }
}

/// Hex of at most [`MAX_DATA_BYTES`] bytes.
fn data(value: &Value, field: &str) -> Result<alloc::vec::Vec<u8>, Error> {
    let text = value
        .as_str()
        .ok_or_else(|| invalid(field, "a hex string"))?;
    let bytes = hex::decode(text).map_err(|error| Error::BadHex {
        field: String::from(field),
        error,
    })?;
    if bytes.len() > MAX_DATA_BYTES {
        return Err(Error::TooLong {
            field: String::from(field),
            bytes: bytes.len(),
            max: MAX_DATA_BYTES,
        });
    }
    Ok(bytes)
}

fn object<'a>(
    obj: &'a Map<String, Value>,
    key: &'static str,
) -> Result<Option<&'a Map<String, Value>>, Error> {
    match get(obj, key) {
        None => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(invalid(key, "an object")),
    }
}

/// Milliseconds of a JSON time in seconds, when it is one this format allows.
fn time_ms(value: &Value) -> Result<u64, Error> {
    let bad = || Error::BadTime {
        seconds: value.to_string(),
    };
    let seconds = value.as_f64().ok_or_else(bad)?;
    // The range check comes before any conversion, which would otherwise saturate.
    if !(0.0..=(MAX_TIME_MS / 1000 + 1) as f64).contains(&seconds) {
        return Err(bad());
    }
    // Whole seconds and the fraction apart: `seconds - whole` is exact, and a double this size
    // still resolves a millisecond, so every time written by [`seconds`] reads back exactly
    // (`seconds * 1000` rounded would be off by one for some times near the end of the range).
    let whole = seconds as u64;
    let millis = (seconds - whole as f64) * 1000.0;
    let truncated = millis as u64;
    let millis = if millis - truncated as f64 >= 0.5 {
        truncated + 1
    } else {
        truncated
    };
    let ms = whole.saturating_mul(1000).saturating_add(millis);
    if ms > MAX_TIME_MS {
        return Err(bad());
    }
    Ok(ms)
}

/// A bind key (32 hex digits) at `field`.
pub fn parse_bindkey(text: &str, field: &str) -> Result<BindKey, Error> {
    text.parse().map_err(|error| Error::BadBindKey {
        field: String::from(field),
        error,
    })
}

/// Reads one capture line (without its line break).
pub fn parse_line(text: &str) -> Result<Record, Error> {
    if text.len() > MAX_LINE_BYTES {
        return Err(Error::LineTooLong { bytes: text.len() });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| Error::NotJson {
        message: e.to_string(),
    })?;
    let obj = value.as_object().ok_or(Error::NotAnObject)?;
    let time_ms = get(obj, "time").map(time_ms).transpose()?;
    let key: DeviceKey = match string(obj, "address")? {
        Some(a) => a
            .parse()
            .map_err(|_| invalid("address", "a non-empty string"))?,
        None => return Err(Error::Missing { field: "address" }),
    };
    let source = match string(obj, "source")? {
        Some("") => return Err(invalid("source", "a non-empty string")),
        other => other.map(String::from),
    };
    let connectable = match get(obj, "connectable") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(invalid("connectable", "true or false")),
    };
    let mut adv = Advertisement {
        address: match string(obj, "mac")? {
            Some(text) => Some(
                MacAddress::from_str(text)
                    .map_err(|_| invalid("mac", "a MAC address like AA:BB:CC:DD:EE:FF"))?,
            ),
            None => key.mac(),
        },
        ..Advertisement::default()
    };
    if let Some(v) = get(obj, "rssi") {
        let rssi = v
            .as_i64()
            .and_then(|r| i8::try_from(r).ok())
            .ok_or_else(|| invalid("rssi", "an integer in -128..=127"))?;
        adv.rssi = Some(rssi);
    }
    if let Some(name) = string(obj, "local_name")? {
        if name.len() > MAX_NAME_BYTES {
            return Err(Error::TooLong {
                field: String::from("local_name"),
                bytes: name.len(),
                max: MAX_NAME_BYTES,
            });
        }
        adv.name = Some(String::from(name));
    }
    if let Some(map) = object(obj, "service_data")? {
        for (key, value) in map {
            let field = format!("service_data.{key}");
            let uuid = Uuid::from_str(key).map_err(|error| Error::BadUuid {
                field: field.clone(),
                error,
            })?;
            adv.service_data.insert(uuid, data(value, &field)?);
        }
    }
    if let Some(map) = object(obj, "manufacturer_data")? {
        for (key, value) in map {
            let field = format!("manufacturer_data.{key}");
            let company = parse_company_id_decimal(key)
                .map_err(|_| invalid(&field, "a decimal company id 0..=65535 as the key"))?;
            adv.manufacturer_data.insert(company, data(value, &field)?);
        }
    }
    let bindkey = match string(obj, "bindkey")? {
        None | Some("") => None,
        Some(text) => Some(parse_bindkey(text, "bindkey")?),
    };
    Ok(Record {
        time_ms,
        key,
        source,
        connectable,
        bindkey,
        advertisement: adv,
    })
}

/// The `time` of a line, read only as far as that value: what comes after it may be anything,
/// even cut off. `None` when the line goes wrong before a `time` with an allowed value (or has
/// none). For a reader that stops at a time (`bluehome replay --until`) and so must not judge the
/// rest of the line that tells it to stop. With the key repeated, the first counts here.
pub fn leading_time_ms(text: &str) -> Option<u64> {
    /// Reads map entries until `time`, whose value it leaves in the cell: serde_json turns an
    /// early return into an error (the rest of the object is unread), so the value goes aside.
    struct Seek<'c>(&'c Cell<Option<Value>>);

    impl<'de> Visitor<'de> for Seek<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                if key == "time" {
                    self.0.set(Some(map.next_value()?));
                    return Ok(());
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }

    let found = Cell::new(None);
    // Any error after the time is the part of the line this function does not read.
    let _ = serde_json::Deserializer::from_str(text).deserialize_map(Seek(&found));
    time_ms(&found.take()?).ok()
}

/// Seconds for milliseconds: an integer when whole (`5`), else a fraction (`5.25`).
pub fn seconds(ms: u64) -> Value {
    if ms.is_multiple_of(1000) {
        Value::from(ms / 1000)
    } else {
        Value::from(ms as f64 / 1000.0)
    }
}

impl Record {
    /// The record of one received advertisement (no bind key: recordings never carry one).
    pub fn from_advertisement(
        time_ms: u64,
        key: &DeviceKey,
        adv: &Advertisement,
        source: &str,
        connectable: Connectable,
    ) -> Self {
        Self {
            time_ms: Some(time_ms),
            key: key.clone(),
            source: Some(String::from(source)),
            connectable: Some(connectable.is_yes()),
            bindkey: None,
            advertisement: adv.clone(),
        }
    }

    /// The line as written to a capture file (keys in the README's order; UUIDs in their
    /// shortest form; no `bindkey`, whatever the record holds).
    pub fn to_line(&self) -> String {
        serde_json::to_string(&Line(self)).unwrap_or_default()
    }
}

/// Serializes a record as a capture line.
struct Line<'a>(&'a Record);

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let adv = &r.advertisement;
        let mut map = serializer.serialize_map(None)?;
        if let Some(t) = r.time_ms {
            map.serialize_entry("time", &seconds(t))?;
        }
        map.serialize_entry("address", r.key.as_str())?;
        if let Some(mac) = adv.address
            && r.key.mac() != Some(mac)
        {
            map.serialize_entry("mac", &mac.to_string())?;
        }
        if let Some(rssi) = adv.rssi {
            map.serialize_entry("rssi", &rssi)?;
        }
        if let Some(name) = &adv.name {
            map.serialize_entry("local_name", name)?;
        }
        if !adv.service_data.is_empty() {
            let service: BTreeMap<String, String> = adv
                .service_data
                .iter()
                .map(|(uuid, data)| (short_uuid(*uuid), hex::encode(data)))
                .collect();
            map.serialize_entry("service_data", &service)?;
        }
        if !adv.manufacturer_data.is_empty() {
            let manufacturer: BTreeMap<String, String> = adv
                .manufacturer_data
                .iter()
                .map(|(id, data)| (id.to_string(), hex::encode(data)))
                .collect();
            map.serialize_entry("manufacturer_data", &manufacturer)?;
        }
        if let Some(source) = &r.source {
            map.serialize_entry("source", source)?;
        }
        if let Some(connectable) = r.connectable {
            map.serialize_entry("connectable", &connectable)?;
        }
        map.end()
    }
}

/// `fcd2` for a 16-bit UUID, the 36-character form otherwise.
fn short_uuid(uuid: Uuid) -> String {
    match uuid.as_u16() {
        Some(short) => format!("{short:04x}"),
        None => uuid.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;

    /// Temperature 25.06 °C and humidity 50.55 % (the bthome.io/format example payload).
    const LINE: &str = r#"{"time":100.5,"address":"a4:c1:38:00:00:01","rssi":-60,"local_name":"ATC","service_data":{"fcd2":"4002ca0903bf13"},"manufacturer_data":{"2985":"01"},"source":"gw","connectable":false,"bindkey":"231d39c1d7cc1ab1aee224cd096db932","extra":1}"#;

    #[test]
    fn reads_every_field() {
        let r = parse_line(LINE).unwrap();
        assert_eq!(r.time_ms, Some(100_500));
        assert_eq!(r.key.as_str(), "A4:C1:38:00:00:01");
        assert_eq!(r.source.as_deref(), Some("gw"));
        assert_eq!(r.connectable, Some(false));
        assert_eq!(r.bindkey.map(|k| k.as_bytes()[0]), Some(0x23));
        let adv = &r.advertisement;
        assert_eq!(adv.address, Some(MacAddress([0xa4, 0xc1, 0x38, 0, 0, 1])));
        assert_eq!(adv.rssi, Some(-60));
        assert_eq!(adv.name.as_deref(), Some("ATC"));
        assert_eq!(adv.service_data[&Uuid::BTHOME_V2].len(), 7);
        assert_eq!(adv.manufacturer_data[&2985], [1]);
    }

    #[test]
    fn a_decode_line_has_no_time_and_nulls_are_absent() {
        let r = parse_line(r#"{"address":"x","rssi":null,"bindkey":null,"mac":null}"#).unwrap();
        assert_eq!(r.time_ms, None);
        assert_eq!(r.advertisement, Advertisement::default());
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("[1]", "expected a JSON object"),
            ("{nope", "not JSON"),
            (r#"{"time":1}"#, "address: required field is missing"),
            (r#"{"address":""}"#, "address: expected a non-empty string"),
            (
                r#"{"address":"x","rssi":"loud"}"#,
                "rssi: expected an integer",
            ),
            (r#"{"address":"x","rssi":200}"#, "rssi: expected an integer"),
            (r#"{"address":"x","mac":"nope"}"#, "mac: expected a MAC"),
            (
                r#"{"address":"x","service_data":{"fc":"40"}}"#,
                "service_data.fc: a UUID",
            ),
            (
                r#"{"address":"x","service_data":{"fcd2":"4"}}"#,
                "service_data.fcd2: an odd number",
            ),
            (
                r#"{"address":"x","manufacturer_data":{"70000":"40"}}"#,
                "manufacturer_data.70000: expected a decimal company id",
            ),
            (
                r#"{"address":"x","bindkey":"abcd"}"#,
                "bindkey: expected a bind key",
            ),
            (
                r#"{"address":"x","connectable":1}"#,
                "connectable: expected true or false",
            ),
        ];
        for (line, want) in cases {
            let err = parse_line(line).unwrap_err().to_string();
            assert!(err.starts_with(want), "{line}: {err}");
        }
    }

    /// 1.8e16 s and 1e300 s used to saturate to `u64::MAX` ms; the manager then added to it.
    #[test]
    fn times_that_do_not_fit_the_clock_are_refused() {
        for time in ["1.8e16", "1e300", "-1", "18446744073709551615"] {
            let err = parse_line(&format!(r#"{{"time":{time},"address":"x"}}"#)).unwrap_err();
            assert!(matches!(err, Error::BadTime { .. }), "{time}: {err:?}");
            assert!(err.to_string().starts_with("time: "), "{err}");
        }
        let last = format!(r#"{{"time":{},"address":"x"}}"#, MAX_TIME_MS / 1000);
        assert_eq!(parse_line(&last).unwrap().time_ms, Some(MAX_TIME_MS));
        let after = format!(r#"{{"time":{}.001,"address":"x"}}"#, MAX_TIME_MS / 1000);
        assert!(matches!(parse_line(&after), Err(Error::BadTime { .. })));
    }

    #[test]
    fn the_leading_time_is_read_without_the_rest_of_the_line() {
        for (line, want) in [
            (r#"{"time":12.5,"address":"x"}"#, Some(12_500)),
            (r#"{"time":12.5,"address":"#, Some(12_500)),
            (
                r#"{"address":"","rssi":-200,"time":3,"service_data":7"#,
                Some(3_000),
            ),
            (r#"{"address":"x","servi"#, None),
            (r#"{"address":"x","time":"soon"}"#, None),
            (r#"{"time":-1}"#, None),
            (r#"[{"time":1}]"#, None),
            ("not json", None),
        ] {
            assert_eq!(leading_time_ms(line), want, "{line}");
        }
    }

    /// Times written by `seconds` read back to the millisecond over the whole range (multiplying
    /// by 1000 and rounding was off by one for some times near the end).
    #[test]
    fn written_times_read_back_exactly() {
        let mut rng = crate::test_rng::XorShift64::new(0x2545_f491_4f6c_dd1d);
        for i in 0..100_000u64 {
            let random = rng.next_u64();
            let ms = match i {
                0 => MAX_TIME_MS,
                1 => MAX_TIME_MS - 1,
                _ => random % (MAX_TIME_MS + 1),
            };
            let line = format!(r#"{{"time":{},"address":"x"}}"#, seconds(ms));
            assert_eq!(parse_line(&line).unwrap().time_ms, Some(ms), "{line}");
        }
    }

    /// A 50 MB line cost the app 476 MB and the CLI 1.78 GB; now it is refused by its length,
    /// before any of it is parsed.
    #[test]
    fn lines_and_fields_are_capped() {
        let long = format!(r#"{{"address":"x","local_name":"{}"}}"#, "a".repeat(9000));
        assert_eq!(
            parse_line(&long),
            Err(Error::LineTooLong { bytes: long.len() })
        );
        assert!(
            parse_line(&long)
                .unwrap_err()
                .to_string()
                .contains("at most 8192")
        );
        let data = format!(
            r#"{{"address":"x","service_data":{{"fcd2":"{}"}}}}"#,
            "00".repeat(256)
        );
        let err = parse_line(&data).unwrap_err();
        assert_eq!(
            err,
            Error::TooLong {
                field: "service_data.fcd2".into(),
                bytes: 256,
                max: 255
            }
        );
        let max = format!(
            r#"{{"address":"x","manufacturer_data":{{"2985":"{}"}}}}"#,
            "00".repeat(255)
        );
        assert!(parse_line(&max).is_ok());
        // The caps themselves are allowed: a line of exactly 8192 bytes, a name of 248.
        let name = format!(
            r#"{{"address":"x","local_name":"{}"}}"#,
            "a".repeat(MAX_NAME_BYTES)
        );
        assert!(parse_line(&name).is_ok());
        let pad = MAX_LINE_BYTES - r#"{"address":"x","source":""}"#.len();
        let full = format!(r#"{{"address":"x","source":"{}"}}"#, "s".repeat(pad));
        assert_eq!(full.len(), MAX_LINE_BYTES);
        assert!(parse_line(&full).is_ok());
        let name = format!(r#"{{"address":"x","local_name":"{}"}}"#, "é".repeat(125));
        assert!(matches!(
            parse_line(&name),
            Err(Error::TooLong { bytes: 250, .. })
        ));
    }

    #[test]
    fn a_recorded_line_reads_back_the_same() {
        let mut adv = Advertisement {
            address: Some(MacAddress([1, 2, 3, 4, 5, 6])),
            name: Some("n".into()),
            rssi: Some(-70),
            ..Advertisement::default()
        };
        adv.service_data.insert(Uuid::BTHOME_V2, vec![0x40, 1]);
        adv.service_data
            .insert(Uuid::from_u32(0x1234_5678), vec![2]);
        adv.manufacturer_data.insert(2985, vec![3]);
        // The advertisement as the local scanner heard it at `time_ms` from the device `key`.
        let heard = |time_ms: u64, key: &str| {
            Record::from_advertisement(
                time_ms,
                &key.parse().unwrap(),
                &adv,
                "local",
                Connectable::Yes,
            )
        };
        let record = heard(1_500, "browser-id");
        let line = record.to_line();
        assert_eq!(
            line,
            r#"{"time":1.5,"address":"browser-id","mac":"01:02:03:04:05:06","rssi":-70,"local_name":"n","service_data":{"12345678-0000-1000-8000-00805f9b34fb":"02","fcd2":"4001"},"manufacturer_data":{"2985":"03"},"source":"local","connectable":true}"#
        );
        assert_eq!(parse_line(&line).unwrap(), record);
        // The address as MAC is not written twice.
        let same = heard(2_000, "01:02:03:04:05:06");
        assert!(!same.to_line().contains("\"mac\""));
        assert!(same.to_line().starts_with(r#"{"time":2,"#));
    }
}
