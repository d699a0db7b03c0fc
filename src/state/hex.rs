//! Hex text in the app: the core's one codec (lower-case out; as people paste it in: any case,
//! bytes in groups between spaces, colons, dashes, commas or dots, `0x` before any group). Bind
//! keys are the core's `BindKey::from_pasted`.

pub use bluehome_core::hex::{Error, encode};

/// Parses hex as people type or paste it.
pub fn decode(text: &str) -> Result<Vec<u8>, Error> {
    bluehome_core::hex::decode_lenient(text)
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
        assert_eq!(decode("4g"), Err(Error::BadDigit { offset: 1 }));
        assert_eq!(decode("400"), Err(Error::OddLength));
    }
}
