//! Hex text for bytes, the one place every part of bluehome reads and writes it: lower-case out;
//! any case in; [`decode_lenient`] also takes the separators people paste (`07 16 d2:fc`, `0x…`).
//! [`decode_base64`] reads the other form devices give bytes in.

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
    /// Of bytes written in groups (`40 02 ca`), a group with an odd number of digits, at this byte
    /// offset of the text: its digits are not paired with the next group's.
    OddGroup {
        /// Byte offset of the group's first character in the text.
        offset: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadDigit { offset } => write!(f, "not a hex digit at character {}", offset + 1),
            Self::OddLength => f.write_str("an odd number of hex digits"),
            Self::OddGroup { offset } => write!(
                f,
                "the group at character {} has an odd number of hex digits (a byte is two)",
                offset + 1
            ),
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

/// Decodes hex as people paste it: the digits run together (`4002ca`) or in groups, each of whole
/// bytes, between white space (a no-break space too), `:`, `-`, `,` or `.`; any group may start
/// with `0x` (`0x40, 0x02`). A group with an odd number of digits is an error rather than paired
/// with the next group (`40 1 64` is not `40 16 4…`). Error offsets refer to the original text.
pub fn decode_lenient(text: &str) -> Result<Vec<u8>, Error> {
    let separator = |c: char| c.is_whitespace() || matches!(c, ':' | '-' | ',' | '.');
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut groups = 0;
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| !separator(c)) {
        let group_len = rest[start..].find(separator).unwrap_or(rest.len() - start);
        let group = &rest[start..start + group_len];
        let offset = text.len() - rest.len() + start;
        rest = &rest[start + group_len..];
        groups += 1;
        let (offset, digits) = match group.get(..2) {
            Some("0x" | "0X") => (offset + 2, &group[2..]),
            _ => (offset, group),
        };
        if let Some(bad) = digits.bytes().position(|b| !b.is_ascii_hexdigit()) {
            return Err(Error::BadDigit {
                offset: offset + bad,
            });
        }
        if digits.len() % 2 == 1 {
            // One group is the whole text: then it is the text that is odd.
            let more = rest.contains(|c: char| !separator(c));
            return Err(if groups == 1 && !more {
                Error::OddLength
            } else {
                Error::OddGroup { offset }
            });
        }
        out.extend(decode(digits)?);
    }
    Ok(out)
}

/// Bytes from standard, padded base64 (RFC 4648, §4), the form Shelly's RPC gives advertisement
/// data in (`BLE.CloudRelay.ListInfos`); surrounding space is ignored. `None` when it is not that.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
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
        // One odd group is an odd text, with or without separators after it.
        assert_eq!(decode_lenient("071"), Err(Error::OddLength));
        assert_eq!(decode_lenient("071 \n"), Err(Error::OddLength));
        assert_eq!(
            decode_lenient("  0x07 zz"),
            Err(Error::BadDigit { offset: 7 })
        );
        assert_eq!(
            decode_lenient("0x07 1z"),
            Err(Error::BadDigit { offset: 6 })
        );
    }

    /// What people paste from C sources, web pages and tools: bytes with `0x` each, commas, dots,
    /// a no-break space.
    #[test]
    fn lenient_decoding_takes_pasted_forms() {
        let bytes = [0x40, 0x02, 0xca, 0x09];
        for text in [
            "0x40, 0x02, 0xCA, 0x09",
            "40.02.CA.09",
            "40\u{a0}02\u{a0}ca\u{a0}09",
            "0x4002ca09",
        ] {
            assert_eq!(decode_lenient(text), Ok(bytes.to_vec()), "{text:?}");
        }
    }

    #[test]
    fn base64_as_shelly_writes_it() {
        // Shelly's BLE component documentation, ListInfos example: a button press.
        assert_eq!(
            decode_base64(" RAAVAWQ6AQ== "),
            Some(vec![0x44, 0x00, 0x15, 0x01, 0x64, 0x3a, 0x01])
        );
        assert_eq!(decode_base64("RAAVAWQ6AQ"), None, "unpadded");
        assert_eq!(decode_base64("40 02"), None);
    }

    /// Digits are never paired across a separator: a lone digit is a mistake to show, not half of
    /// a byte to join with the next group.
    #[test]
    fn a_group_of_odd_digits_is_named() {
        assert_eq!(
            decode_lenient("40 1 64 2"),
            Err(Error::OddGroup { offset: 3 })
        );
        assert_eq!(decode_lenient("07 1"), Err(Error::OddGroup { offset: 3 }));
        assert_eq!(decode_lenient("0x4 02"), Err(Error::OddGroup { offset: 2 }));
        assert_eq!(
            Error::OddGroup { offset: 3 }.to_string(),
            "the group at character 4 has an odd number of hex digits (a byte is two)"
        );
    }
}
