//! Hex text for bytes (lower-case out, any case and spaces/colons in).

use std::fmt::Write;

/// Lower-case hex of the bytes.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Why hex text did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A character that is not a hex digit, at this character position.
    BadDigit(usize),
    /// An odd number of digits.
    OddLength,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadDigit(at) => write!(f, "not a hex digit at character {}", at + 1),
            Self::OddLength => f.write_str("an odd number of hex digits"),
        }
    }
}

impl std::error::Error for Error {}

/// Parses hex, ignoring spaces, colons, dashes and a leading `0x`.
pub fn decode(text: &str) -> Result<Vec<u8>, Error> {
    let text = text.trim();
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<u8> = None;
    for (at, c) in text.chars().enumerate() {
        if matches!(c, ' ' | ':' | '-' | '\n' | '\r' | '\t') {
            continue;
        }
        let digit = c.to_digit(16).ok_or(Error::BadDigit(at))? as u8;
        match high.take() {
            Some(h) => out.push(h << 4 | digit),
            None => high = Some(digit),
        }
    }
    if high.is_some() {
        return Err(Error::OddLength);
    }
    Ok(out)
}

/// Parses a 16-byte BTHome bind key (32 hex digits).
pub fn decode_key(text: &str) -> Result<[u8; 16], String> {
    let bytes = decode(text).map_err(|e| format!("bind key: {e}"))?;
    <[u8; 16]>::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "a bind key is 16 bytes (32 hex digits); this one has {} bytes",
            bytes.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_accepts_separators() {
        assert_eq!(encode(&[0x40, 0x02, 0xCA]), "4002ca");
        assert_eq!(decode("40 02:CA").unwrap(), [0x40, 0x02, 0xCA]);
        assert_eq!(decode("0x4002").unwrap(), [0x40, 0x02]);
    }

    #[test]
    fn rejects_bad_digits_and_odd_length() {
        assert_eq!(decode("4g"), Err(Error::BadDigit(1)));
        assert_eq!(decode("400"), Err(Error::OddLength));
        assert!(decode_key("00").unwrap_err().contains("16 bytes"));
    }
}
