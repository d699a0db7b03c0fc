//! Hex text for bytes, the one place every part of bluehome reads and writes it: lower-case out;
//! any case in; [`decode_lenient`] also takes the separators people paste (`07 16 d2:fc`, `0x…`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why hex text did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A character that is not a hex digit, at this byte offset of the text.
    BadDigit {
        /// Byte offset of the character in the text.
        offset: usize,
    },
    /// An odd number of hex digits.
    OddLength,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadDigit { offset } => write!(f, "not a hex digit at character {}", offset + 1),
            Self::OddLength => f.write_str("an odd number of hex digits"),
        }
    }
}

impl core::error::Error for Error {}

impl From<::hex::FromHexError> for Error {
    fn from(error: ::hex::FromHexError) -> Self {
        match error {
            ::hex::FromHexError::InvalidHexCharacter { index, .. } => {
                Self::BadDigit { offset: index }
            }
            ::hex::FromHexError::OddLength | ::hex::FromHexError::InvalidStringLength => {
                Self::OddLength
            }
        }
    }
}

/// Lower-case hex of the bytes.
pub fn encode(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// Decodes an even number of hex digits of any case, nothing else. A character that is not a hex
/// digit is reported as such (with its offset) even when the length is odd too: `4é` is a bad
/// digit, not an odd count of bytes.
pub fn decode(text: &str) -> Result<Vec<u8>, Error> {
    if let Some(offset) = text.bytes().position(|b| !b.is_ascii_hexdigit()) {
        return Err(Error::BadDigit { offset });
    }
    Ok(::hex::decode(text)?)
}

/// Test fixtures: hex the test itself wrote (a typo there fails the test at once).
#[cfg(test)]
pub(crate) fn fixture(text: &str) -> Vec<u8> {
    decode(text).unwrap_or_else(|e| panic!("bad hex fixture {text:?}: {e}"))
}

/// Decodes hex as people paste it: surrounding space, a leading `0x`, and spaces, tabs, line breaks,
/// colons and dashes between digits are ignored. Error offsets refer to the original text.
pub fn decode_lenient(text: &str) -> Result<Vec<u8>, Error> {
    let start = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    let (skipped, body) = match trimmed.get(..2) {
        Some("0x" | "0X") => (start + 2, trimmed.get(2..).unwrap_or_default()),
        _ => (start, trimmed),
    };
    let mut out = Vec::with_capacity(body.len() / 2);
    let mut high: Option<u8> = None;
    for (at, c) in body.char_indices() {
        if matches!(c, ' ' | ':' | '-' | '\n' | '\r' | '\t') {
            continue;
        }
        let digit = c.to_digit(16).ok_or(Error::BadDigit {
            offset: skipped + at,
        })?;
        // A hex digit is below 16, so it fits a byte.
        let digit = digit as u8;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_lower_case() {
        let bytes = [0x40, 0x02, 0xca, 0x09, 0xff];
        assert_eq!(encode(&bytes), "4002ca09ff");
        assert_eq!(decode("4002CA09ff").unwrap(), bytes);
    }

    #[test]
    fn strict_decoding_names_what_is_wrong() {
        assert_eq!(decode("40 002"), Err(Error::BadDigit { offset: 2 }));
        assert_eq!(decode("4g"), Err(Error::BadDigit { offset: 1 }));
        assert_eq!(decode("400"), Err(Error::OddLength));
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
    }

    /// `é` is two bytes of UTF-8, so "4é" has an odd byte count: it used to be reported as an odd
    /// number of digits.
    #[test]
    fn non_ascii_is_a_bad_digit_not_an_odd_length() {
        assert_eq!(decode("4é"), Err(Error::BadDigit { offset: 1 }));
        assert_eq!(decode("40ü0"), Err(Error::BadDigit { offset: 2 }));
    }

    #[test]
    fn lenient_decoding_skips_separators_and_prefix() {
        assert_eq!(
            decode_lenient(" 0x07 16:d2-FC\n").unwrap(),
            [0x07, 0x16, 0xd2, 0xfc]
        );
        assert_eq!(decode_lenient("07 1"), Err(Error::OddLength));
        assert_eq!(
            decode_lenient("  0x07 zz"),
            Err(Error::BadDigit { offset: 7 })
        );
    }
}
