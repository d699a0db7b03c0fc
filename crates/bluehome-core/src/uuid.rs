//! Bluetooth UUIDs.
//!
//! Every UUID is kept in its 128-bit form. 16- and 32-bit UUIDs are aliases inside the Bluetooth
//! base UUID `0000xxxx-0000-1000-8000-00805f9b34fb` (Core Specification, Vol 3, Part B, 2.5.1), so
//! `0xFCD2` and `0000fcd2-0000-1000-8000-00805f9b34fb` compare equal.

use core::fmt;
use core::str::FromStr;

/// The Bluetooth base UUID with the 32-bit alias field zeroed.
const BASE: u128 = 0x0000_0000_0000_1000_8000_0080_5f9b_34fb;
/// The bits of the base UUID outside the 32-bit alias field.
const BASE_MASK: u128 = (1u128 << 96) - 1;

/// A 128-bit Bluetooth UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid(pub u128);

impl Uuid {
    /// BTHome v2 service data (`0xFCD2`).
    pub const BTHOME_V2: Self = Self::from_u16(0xFCD2);
    /// BTHome v1, not encrypted (`0x181C`).
    pub const BTHOME_V1: Self = Self::from_u16(0x181C);
    /// BTHome v1, encrypted (`0x181E`).
    pub const BTHOME_V1_ENCRYPTED: Self = Self::from_u16(0x181E);

    /// Expands a 16-bit UUID alias.
    pub const fn from_u16(short: u16) -> Self {
        Self::from_u32(short as u32)
    }

    /// Expands a 32-bit UUID alias.
    pub const fn from_u32(short: u32) -> Self {
        Self(BASE | ((short as u128) << 96))
    }

    /// Reads a UUID from its little-endian on-air form of 2, 4 or 16 bytes.
    pub fn from_le_bytes(bytes: &[u8]) -> Option<Self> {
        match *bytes {
            [a, b] => Some(Self::from_u16(u16::from_le_bytes([a, b]))),
            [a, b, c, d] => Some(Self::from_u32(u32::from_le_bytes([a, b, c, d]))),
            _ => {
                let array: [u8; 16] = bytes.try_into().ok()?;
                Some(Self(u128::from_le_bytes(array)))
            }
        }
    }

    /// The 16-bit alias, when this UUID has one.
    pub const fn as_u16(self) -> Option<u16> {
        match self.as_u32() {
            Some(short) if short <= 0xFFFF => Some(short as u16),
            _ => None,
        }
    }

    /// The 32-bit alias, when this UUID lies in the Bluetooth base range.
    pub const fn as_u32(self) -> Option<u32> {
        if self.0 & BASE_MASK == BASE {
            Some((self.0 >> 96) as u32)
        } else {
            None
        }
    }
}

impl From<u16> for Uuid {
    fn from(short: u16) -> Self {
        Self::from_u16(short)
    }
}

/// Why a UUID string did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Not 4, 8 or 36 characters long.
    BadLength(usize),
    /// A character that is not a hex digit (or a dash out of place) at this position.
    BadCharacter(usize),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadLength(len) => write!(
                f,
                "a UUID has 4, 8 or 36 characters (like fcd2 or 0000fcd2-0000-1000-8000-00805f9b34fb), not {len}"
            ),
            Self::BadCharacter(at) => {
                write!(f, "unexpected character at position {at} of the UUID")
            }
        }
    }
}

impl core::error::Error for Error {}

impl FromStr for Uuid {
    type Err = Error;

    /// Parses `fcd2`, `0000fcd2` or `0000fcd2-0000-1000-8000-00805f9b34fb`, in any case.
    fn from_str(text: &str) -> Result<Self, Error> {
        let bytes = text.as_bytes();
        let mut value: u128 = 0;
        let mut push_hex = |at: usize, c: u8| -> Result<(), Error> {
            let digit = (c as char).to_digit(16).ok_or(Error::BadCharacter(at))?;
            value = (value << 4) | u128::from(digit);
            Ok(())
        };
        match bytes.len() {
            4 | 8 => {
                for (at, &c) in bytes.iter().enumerate() {
                    push_hex(at, c)?;
                }
                // At most 32 bits were read, so the cast is lossless.
                Ok(Self::from_u32(value as u32))
            }
            36 => {
                for (at, &c) in bytes.iter().enumerate() {
                    if matches!(at, 8 | 13 | 18 | 23) {
                        if c != b'-' {
                            return Err(Error::BadCharacter(at));
                        }
                    } else {
                        push_hex(at, c)?;
                    }
                }
                Ok(Self(value))
            }
            len => Err(Error::BadLength(len)),
        }
    }
}

impl fmt::Display for Uuid {
    /// The lower-case 36-character form, as Home Assistant and Web Bluetooth print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (v >> 96) as u32,
            (v >> 80) as u16,
            (v >> 64) as u16,
            (v >> 48) as u16,
            v & 0xFFFF_FFFF_FFFF
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_forms_are_the_same_uuid() {
        let long: Uuid = "0000FCD2-0000-1000-8000-00805F9B34FB".parse().unwrap();
        assert_eq!(long, Uuid::BTHOME_V2);
        assert_eq!("fcd2".parse::<Uuid>().unwrap(), Uuid::BTHOME_V2);
        assert_eq!("0000fcd2".parse::<Uuid>().unwrap(), Uuid::BTHOME_V2);
        assert_eq!(long.as_u16(), Some(0xFCD2));
    }

    #[test]
    fn prints_lower_case_128_bit_form() {
        assert_eq!(
            Uuid::from_u16(0x181C).to_string(),
            "0000181c-0000-1000-8000-00805f9b34fb"
        );
        let shelly: Uuid = "5f6d4f53-5f52-5043-5f53-56435f49445f".parse().unwrap();
        assert_eq!(shelly.to_string(), "5f6d4f53-5f52-5043-5f53-56435f49445f");
        assert_eq!(shelly.as_u32(), None);
    }

    #[test]
    fn reads_little_endian_on_air_forms() {
        assert_eq!(Uuid::from_le_bytes(&[0xD2, 0xFC]), Some(Uuid::BTHOME_V2));
        assert_eq!(
            Uuid::from_le_bytes(&[0x78, 0x56, 0x34, 0x12]),
            Some(Uuid::from_u32(0x1234_5678))
        );
        assert_eq!(Uuid::from_le_bytes(&[1, 2, 3]), None);
    }

    #[test]
    fn rejects_bad_text_with_its_position() {
        assert_eq!("fcd".parse::<Uuid>(), Err(Error::BadLength(3)));
        assert_eq!("fcx2".parse::<Uuid>(), Err(Error::BadCharacter(2)));
        assert_eq!(
            "0000fcd2_0000-1000-8000-00805f9b34fb".parse::<Uuid>(),
            Err(Error::BadCharacter(8))
        );
    }
}
