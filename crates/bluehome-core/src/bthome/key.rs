//! The BTHome bind key: the 16-byte AES-CCM key of an encrypted device (bthome.io/encryption).

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hex;

/// A BTHome bind key. Its `Debug` never shows the key (logs, panics and `{:?}` of any struct
/// that holds one stay free of it); [`BindKey::to_hex`] is the one way to write it out.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BindKey([u8; 16]);

/// Why text is not a bind key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BindKeyError {
    /// The text is not hex.
    Hex(hex::Error),
    /// The hex is not 16 bytes long.
    Length {
        /// How many bytes it holds.
        bytes: usize,
    },
}

impl fmt::Display for BindKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hex(e) => write!(f, "{e}"),
            Self::Length { bytes } => write!(
                f,
                "expected a bind key of 32 hex digits (16 bytes); this one has {bytes} bytes"
            ),
        }
    }
}

impl core::error::Error for BindKeyError {}

impl BindKey {
    /// The key of these bytes.
    pub const fn new(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The key's bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The key as 32 lower-case hex digits (for storage and capture files only: never log it).
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Parses a key as people paste it: 32 hex digits with any spaces, colons or dashes between
    /// them and an optional `0x` ([`hex::decode_lenient`]). Files use [`str::parse`] (32 digits,
    /// nothing else).
    pub fn from_pasted(text: &str) -> Result<Self, BindKeyError> {
        Self::from_hex(hex::decode_lenient(text))
    }

    fn from_hex(bytes: Result<alloc::vec::Vec<u8>, hex::Error>) -> Result<Self, BindKeyError> {
        let bytes = bytes.map_err(BindKeyError::Hex)?;
        <[u8; 16]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| BindKeyError::Length { bytes: bytes.len() })
    }
}

impl FromStr for BindKey {
    type Err = BindKeyError;

    /// Exactly 32 hex digits, either case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_hex(hex::decode(text))
    }
}

impl From<[u8; 16]> for BindKey {
    fn from(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

/// As its 32 hex digits (a [`super::ReceiverState`] persisted with its key).
impl Serialize for BindKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for BindKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for BindKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BindKey(…)")
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;

    use super::*;

    const TEXT: &str = "231d39c1d7cc1ab1aee224cd096db932";

    #[test]
    fn parses_32_hex_digits_and_writes_them_back() {
        let key: BindKey = TEXT.parse().unwrap();
        assert_eq!(key.as_bytes()[0], 0x23);
        assert_eq!(key.to_hex(), TEXT);
        assert_eq!(
            TEXT.to_ascii_uppercase().parse::<BindKey>(),
            Ok(key),
            "either case"
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key: BindKey = TEXT.parse().unwrap();
        let shown = format!("{key:?} {:?}", Some(key));
        assert!(!shown.contains("23"), "{shown}");
        assert!(!shown.contains("231d"), "{shown}");
        assert_eq!(format!("{key:?}"), "BindKey(…)");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            "abcd".parse::<BindKey>(),
            Err(BindKeyError::Length { bytes: 2 })
        );
        assert_eq!(
            "zz".parse::<BindKey>(),
            Err(BindKeyError::Hex(hex::Error::BadDigit { offset: 0 }))
        );
        let short = BindKey::from_pasted("00").unwrap_err().to_string();
        assert!(short.contains("32 hex digits (16 bytes)"), "{short}");
        assert!(short.contains("has 1 bytes"), "{short}");
    }

    #[test]
    fn serde_writes_and_reads_the_hex() {
        let key: BindKey = TEXT.parse().unwrap();
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{TEXT}\""));
        assert_eq!(serde_json::from_str::<BindKey>(&json).unwrap(), key);
        assert!(serde_json::from_str::<BindKey>(r#""abcd""#).is_err());
    }

    #[test]
    fn pasted_keys_may_carry_separators_files_may_not() {
        let pasted = "0x23:1d:39:c1 d7cc1ab1-aee224cd096db932";
        assert_eq!(
            BindKey::from_pasted(pasted),
            Ok(TEXT.parse::<BindKey>().unwrap())
        );
        assert!(pasted.parse::<BindKey>().is_err());
    }
}
