//! Which advertisements to look at: Shelly scan filters and Home Assistant matchers.
//!
//! Two vocabularies for one job, each kept faithful to its source:
//!
//! - [`ScanFilter`] / [`FilterSet`] are the filter objects of Shelly's `BLE.Scanner.start`
//!   (`addrs`, `name` with `?`/`*`, `services`, `serviceData` and `manufacturerData` with
//!   `dataPrefix` + `mask`). A filter matches when all its conditions hold; a set matches when any of
//!   its filters does (an empty set matches everything). [`ScanOptions`] are the scan options that
//!   carry them (`duration_ms`, `active`, `interval_ms`, `window_ms`, `rssi_thr`, `filters`).
//! - [`Matcher`] is Home Assistant's callback matcher (`address`, `service_uuid`,
//!   `service_data_uuid`, `manufacturer_id`, `manufacturer_data_start`, `local_name` with `fnmatch`,
//!   `connectable` defaulting to true).
//!
//! Both parse from JSON (`from_json` / `from_value`) with an [`Error`] that names the bad field by
//! its path (`filters[1].manufacturerData.mask`). [`web`] turns a filter set into the filter
//! dictionaries of Web Bluetooth's `requestDevice` / `requestLEScan`, and says what it had to drop.
//!
//! Decisions where the Shelly documentation is silent, kept in one place:
//! - `addrs` and `services` match when *any* listed entry is present.
//! - A `serviceData` without `service` (or `manufacturerData` without `companyIdentifier`) matches
//!   every advertisement ("Required otherwise all data matches").
//! - A `name` condition fails for a device with no name.
//! - Addresses compare as [`DeviceKey`](crate::DeviceKey)s: a MAC in any case or with `-` is one key.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::uuid::{self, Uuid};

mod matcher;
mod pattern;
mod prefix;
mod scan;
pub mod web;

pub use matcher::{LOCAL_NAME_INDEX_CHARS, Matcher};
pub use pattern::{Dialect, MAX_PATTERN_CHARS, Pattern};
pub use prefix::DataPrefix;
pub use scan::{FilterSet, ManufacturerDataFilter, ScanFilter, ScanOptions, ServiceDataFilter};

/// Why a filter, matcher or scan-options document was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The text is not JSON at all.
    Json {
        /// serde_json's description, with line and column.
        message: String,
    },
    /// A key this format does not have (often a typo, such as `manufacturer_data_first_byte`).
    UnknownField {
        /// Path of the unknown key.
        field: String,
    },
    /// A required key is missing.
    MissingField {
        /// Path of the missing key.
        field: String,
    },
    /// A value of the wrong JSON type.
    WrongType {
        /// Path of the value.
        field: String,
        /// What the format wants there.
        expected: &'static str,
    },
    /// A number outside the range the field allows.
    OutOfRange {
        /// Path of the value.
        field: String,
        /// The allowed range, in words.
        allowed: &'static str,
    },
    /// A UUID string that does not parse.
    BadUuid {
        /// Path of the value.
        field: String,
        /// What is wrong with it.
        error: uuid::Error,
    },
    /// A hex string with an odd length or a non-hex character.
    BadHex {
        /// Path of the value.
        field: String,
        /// Character offset of the problem.
        offset: usize,
    },
    /// A `mask` whose length differs from its `dataPrefix`.
    MaskLength {
        /// Path of the mask.
        field: String,
        /// Bytes in `dataPrefix`.
        prefix: usize,
        /// Bytes in `mask`.
        mask: usize,
    },
    /// An empty string where a value is needed (an address, a name).
    Empty {
        /// Path of the value.
        field: String,
    },
    /// A `local_name` with a wildcard in its first three characters (Home Assistant refuses these:
    /// they would match too broadly and defeat the name index).
    WildcardInNamePrefix {
        /// Path of the value.
        field: String,
    },
    /// A name pattern longer than [`MAX_PATTERN_CHARS`] (no device name is that long).
    PatternTooLong {
        /// Path of the value.
        field: String,
        /// Its length in characters.
        chars: usize,
    },
    /// `window_ms` larger than `interval_ms` (a scan window lies inside its interval).
    WindowAboveInterval {
        /// The window.
        window_ms: u32,
        /// The interval.
        interval_ms: u32,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json { message } => write!(f, "not valid JSON: {message}"),
            Self::UnknownField { field } => write!(f, "{field}: unknown field"),
            Self::MissingField { field } => write!(f, "{field}: required field is missing"),
            Self::WrongType { field, expected } => write!(f, "{field}: expected {expected}"),
            Self::OutOfRange { field, allowed } => write!(f, "{field}: out of range ({allowed})"),
            Self::BadUuid { field, error } => write!(f, "{field}: {error}"),
            Self::BadHex { field, offset } => write!(
                f,
                "{field}: not an even number of hex digits (problem at character {offset})"
            ),
            Self::MaskLength {
                field,
                prefix,
                mask,
            } => write!(
                f,
                "{field}: mask has {mask} bytes but dataPrefix has {prefix}; they must be equal"
            ),
            Self::Empty { field } => write!(f, "{field}: must not be empty"),
            Self::WildcardInNamePrefix { field } => write!(
                f,
                "{field}: no wildcard (*, ? or [) allowed in the first three characters"
            ),
            Self::PatternTooLong { field, chars } => write!(
                f,
                "{field}: {chars} characters; a name pattern is at most {MAX_PATTERN_CHARS} \
                 (the longest Bluetooth device name)"
            ),
            Self::WindowAboveInterval {
                window_ms,
                interval_ms,
            } => write!(
                f,
                "window_ms ({window_ms}) must not be larger than interval_ms ({interval_ms})"
            ),
        }
    }
}

impl core::error::Error for Error {}

/// Parses JSON text into a value, mapping the error.
pub(crate) fn parse_json(text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::Json {
        message: e.to_string(),
    })
}

/// Joins a path and a key: `""` + `"a"` → `"a"`, `"x"` + `"a"` → `"x.a"`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        String::from(key)
    } else {
        format!("{path}.{key}")
    }
}

/// `path[i]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Refuses a name pattern longer than [`MAX_PATTERN_CHARS`].
pub(crate) fn check_pattern_length(pattern: &str, field: &str) -> Result<(), Error> {
    let chars = pattern.chars().count();
    if chars > MAX_PATTERN_CHARS {
        return Err(Error::PatternTooLong {
            field: String::from(field),
            chars,
        });
    }
    Ok(())
}

/// The value as an object whose keys are all in `allowed`: otherwise a type error, or the first
/// other key as an unknown field.
pub(crate) fn as_object_with_keys<'a>(
    value: &'a Value,
    path: &str,
    allowed: &[&str],
) -> Result<&'a Map<String, Value>, Error> {
    let object = value.as_object().ok_or_else(|| Error::WrongType {
        field: if path.is_empty() {
            String::from("(top level)")
        } else {
            String::from(path)
        },
        expected: "an object",
    })?;
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(Error::UnknownField {
            field: join(path, key),
        }),
        None => Ok(object),
    }
}

pub(crate) fn as_str<'a>(value: &'a Value, field: &str) -> Result<&'a str, Error> {
    value.as_str().ok_or_else(|| Error::WrongType {
        field: String::from(field),
        expected: "a string",
    })
}

pub(crate) fn as_bool(value: &Value, field: &str) -> Result<bool, Error> {
    value.as_bool().ok_or_else(|| Error::WrongType {
        field: String::from(field),
        expected: "true or false",
    })
}

pub(crate) fn as_array<'a>(value: &'a Value, field: &str) -> Result<&'a [Value], Error> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| Error::WrongType {
            field: String::from(field),
            expected: "an array",
        })
}

/// An integer within `lo..=hi`.
pub(crate) fn as_int(
    value: &Value,
    field: &str,
    lo: i64,
    hi: i64,
    allowed: &'static str,
) -> Result<i64, Error> {
    let n = value.as_i64().ok_or_else(|| Error::WrongType {
        field: String::from(field),
        expected: "an integer",
    })?;
    if n < lo || n > hi {
        return Err(Error::OutOfRange {
            field: String::from(field),
            allowed,
        });
    }
    Ok(n)
}

/// A Bluetooth company id (a manufacturer-data key).
pub(crate) fn as_company_id(value: &Value, field: &str) -> Result<u16, Error> {
    Ok(as_int(value, field, 0, 0xFFFF, "0..=65535")? as u16)
}

pub(crate) fn as_uuid(value: &Value, field: &str) -> Result<Uuid, Error> {
    as_str(value, field)?
        .parse()
        .map_err(|error| Error::BadUuid {
            field: String::from(field),
            error,
        })
}

/// Decodes a hex string (any case, even length).
pub(crate) fn as_hex(value: &Value, field: &str) -> Result<Vec<u8>, Error> {
    let text = as_str(value, field)?;
    crate::hex::decode(text).map_err(|error| Error::BadHex {
        field: String::from(field),
        offset: match error {
            crate::hex::Error::BadDigit { offset } => offset,
            // An odd length: the missing digit would stand at the end.
            _ => text.len(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_errors_give_the_character_offset() {
        let err = as_hex(&Value::from("0a1"), "f").unwrap_err();
        assert_eq!(
            err,
            Error::BadHex {
                field: "f".into(),
                offset: 3
            }
        );
        let err = as_hex(&Value::from("0aZ1"), "f").unwrap_err();
        assert_eq!(
            err,
            Error::BadHex {
                field: "f".into(),
                offset: 2
            }
        );
        assert_eq!(as_hex(&Value::from("0aFf"), "f").unwrap(), [0x0a, 0xff]);
    }

    #[test]
    fn integers_are_taken_up_to_both_ends_of_their_range() {
        assert_eq!(as_company_id(&Value::from(0), "c"), Ok(0));
        assert_eq!(as_company_id(&Value::from(0xFFFF), "c"), Ok(0xFFFF));
        for outside in [-1, 0x1_0000] {
            assert_eq!(
                as_company_id(&Value::from(outside), "c"),
                Err(Error::OutOfRange {
                    field: "c".into(),
                    allowed: "0..=65535"
                })
            );
        }
    }
}
