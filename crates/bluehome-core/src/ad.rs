//! Raw advertising-data (AD) structures: parse and emit.
//!
//! An advertisement's payload is a sequence of `[length][type][data…]` structures, `length`
//! counting the type byte and the data (Core Specification Vol 3, Part C, 11). A length of 0 ends
//! the payload early (the rest is padding). [`iter`] walks the structures and stops for good at the
//! first malformed one, reporting its byte offset. [`Advertisement::from_ad_bytes`] builds the
//! normalized [`Advertisement`] from them.
//!
//! AD type numbers: Bluetooth Assigned Numbers, section 2.3 "Common Data Types".

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::iter::FusedIterator;
use core::ops::Range;

use crate::advertisement::Advertisement;
use crate::uuid::Uuid;

/// AD type numbers this module interprets.
pub mod types {
    /// Flags.
    pub const FLAGS: u8 = 0x01;
    /// Incomplete list of 16-bit service UUIDs.
    pub const INCOMPLETE_UUIDS_16: u8 = 0x02;
    /// Complete list of 16-bit service UUIDs.
    pub const COMPLETE_UUIDS_16: u8 = 0x03;
    /// Incomplete list of 32-bit service UUIDs.
    pub const INCOMPLETE_UUIDS_32: u8 = 0x04;
    /// Complete list of 32-bit service UUIDs.
    pub const COMPLETE_UUIDS_32: u8 = 0x05;
    /// Incomplete list of 128-bit service UUIDs.
    pub const INCOMPLETE_UUIDS_128: u8 = 0x06;
    /// Complete list of 128-bit service UUIDs.
    pub const COMPLETE_UUIDS_128: u8 = 0x07;
    /// Shortened local name.
    pub const SHORT_NAME: u8 = 0x08;
    /// Complete local name.
    pub const COMPLETE_NAME: u8 = 0x09;
    /// Tx power level (dBm, signed).
    pub const TX_POWER: u8 = 0x0A;
    /// Service data, 16-bit UUID.
    pub const SERVICE_DATA_16: u8 = 0x16;
    /// Appearance.
    pub const APPEARANCE: u8 = 0x19;
    /// Service data, 32-bit UUID.
    pub const SERVICE_DATA_32: u8 = 0x20;
    /// Service data, 128-bit UUID.
    pub const SERVICE_DATA_128: u8 = 0x21;
    /// Manufacturer specific data.
    pub const MANUFACTURER_DATA: u8 = 0xFF;
}

/// One AD structure, borrowing its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdStructure<'a> {
    /// `0x01` flags (LE Limited/General Discoverable, BR/EDR Not Supported, …).
    Flags(u8),
    /// `0x02`–`0x07`: a list of service UUIDs, little-endian, `width` bytes each (2, 4 or 16).
    ServiceUuids {
        /// Complete (`true`) or incomplete list.
        complete: bool,
        /// 2, 4 or 16.
        width: u8,
        /// The UUIDs, concatenated.
        data: &'a [u8],
    },
    /// `0x08` (shortened) or `0x09` (complete) local name, raw bytes (normally UTF-8).
    LocalName {
        /// Complete (`true`) or shortened name.
        complete: bool,
        /// The name bytes.
        name: &'a [u8],
    },
    /// `0x0A` tx power level in dBm.
    TxPower(i8),
    /// `0x16`, `0x20`, `0x21`: service data; `width` is the UUID's on-air size (2, 4, 16).
    ServiceData {
        /// The service UUID.
        uuid: Uuid,
        /// 2, 4 or 16.
        width: u8,
        /// The data after the UUID.
        data: &'a [u8],
    },
    /// `0xFF`: manufacturer data; `data` excludes the two company-id bytes.
    ManufacturerData {
        /// The company id (little-endian on air).
        company: u16,
        /// The data after the company id.
        data: &'a [u8],
    },
    /// `0x19` appearance.
    Appearance(u16),
    /// Any other type, kept raw.
    Unknown {
        /// The AD type.
        ad_type: u8,
        /// The data after the type byte.
        data: &'a [u8],
    },
}

/// Why AD bytes could not be parsed or emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A structure's length byte points past the end of the data.
    Truncated {
        /// Offset of the length byte.
        offset: usize,
        /// The length byte's value.
        length: u8,
        /// Bytes present after the length byte.
        available: usize,
    },
    /// A structure whose data size is wrong for its type (flags with no byte, a UUID list that is
    /// not a multiple of the UUID size, service data shorter than its UUID, …).
    BadLength {
        /// Offset of the length byte.
        offset: usize,
        /// The AD type.
        ad_type: u8,
        /// The data size found (after the type byte).
        len: usize,
    },
    /// Emitting: the structure's data is longer than the 254 bytes a length byte can describe.
    TooLong {
        /// The AD type.
        ad_type: u8,
        /// The data size.
        len: usize,
    },
    /// Emitting: the output buffer is too small.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated {
                offset,
                length,
                available,
            } => write!(
                f,
                "AD structure at byte {offset} says {length} bytes follow, only {available} do"
            ),
            Self::BadLength {
                offset,
                ad_type,
                len,
            } => write!(
                f,
                "AD structure at byte {offset} (type {ad_type:#04x}) has {len} data bytes, which is not a valid size for its type"
            ),
            Self::TooLong { ad_type, len } => {
                write!(
                    f,
                    "AD type {ad_type:#04x} with {len} data bytes does not fit one AD structure"
                )
            }
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for Error {}

impl Error {
    /// The JSON `kind` string for this error.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Truncated { .. } => "truncated",
            Self::BadLength { .. } => "bad_length",
            Self::TooLong { .. } => "too_long",
            Self::BufferTooSmall { .. } => "buffer_too_small",
        }
    }

    /// The byte offset the error is about (0 for emit errors).
    pub fn offset(&self) -> usize {
        match *self {
            Self::Truncated { offset, .. } | Self::BadLength { offset, .. } => offset,
            _ => 0,
        }
    }
}

impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::bthome::serialize_error(serializer, self.kind(), self.offset(), self)
    }
}

impl<'a> AdStructure<'a> {
    /// Interprets one structure's type and data (`offset` = where its length byte is, for errors).
    pub fn parse(ad_type: u8, data: &'a [u8], offset: usize) -> Result<Self, Error> {
        use types::*;
        let bad = || Error::BadLength {
            offset,
            ad_type,
            len: data.len(),
        };
        Ok(match ad_type {
            FLAGS => Self::Flags(*data.first().ok_or_else(bad)?),
            INCOMPLETE_UUIDS_16..=COMPLETE_UUIDS_128 => {
                let width = match ad_type {
                    INCOMPLETE_UUIDS_16 | COMPLETE_UUIDS_16 => 2,
                    INCOMPLETE_UUIDS_32 | COMPLETE_UUIDS_32 => 4,
                    _ => 16,
                };
                if !data.len().is_multiple_of(usize::from(width)) {
                    return Err(bad());
                }
                Self::ServiceUuids {
                    complete: ad_type & 1 == 1,
                    width,
                    data,
                }
            }
            SHORT_NAME | COMPLETE_NAME => Self::LocalName {
                complete: ad_type == COMPLETE_NAME,
                name: data,
            },
            TX_POWER => match *data {
                [p] => Self::TxPower(p as i8),
                _ => return Err(bad()),
            },
            SERVICE_DATA_16 | SERVICE_DATA_32 | SERVICE_DATA_128 => {
                let width: u8 = match ad_type {
                    SERVICE_DATA_16 => 2,
                    SERVICE_DATA_32 => 4,
                    _ => 16,
                };
                let (uuid, rest) = data.split_at_checked(usize::from(width)).ok_or_else(bad)?;
                let uuid = Uuid::from_le_bytes(uuid).ok_or_else(bad)?;
                Self::ServiceData {
                    uuid,
                    width,
                    data: rest,
                }
            }
            APPEARANCE => match *data {
                [a, b] => Self::Appearance(u16::from_le_bytes([a, b])),
                _ => return Err(bad()),
            },
            MANUFACTURER_DATA => match data {
                [a, b, rest @ ..] => Self::ManufacturerData {
                    company: u16::from_le_bytes([*a, *b]),
                    data: rest,
                },
                _ => return Err(bad()),
            },
            _ => Self::Unknown { ad_type, data },
        })
    }

    /// The AD type byte this structure is emitted with.
    pub fn ad_type(&self) -> u8 {
        use types::*;
        match *self {
            Self::Flags(_) => FLAGS,
            Self::ServiceUuids {
                complete, width, ..
            } => {
                let base = match width {
                    2 => INCOMPLETE_UUIDS_16,
                    4 => INCOMPLETE_UUIDS_32,
                    _ => INCOMPLETE_UUIDS_128,
                };
                base + u8::from(complete)
            }
            Self::LocalName { complete: true, .. } => COMPLETE_NAME,
            Self::LocalName {
                complete: false, ..
            } => SHORT_NAME,
            Self::TxPower(_) => TX_POWER,
            Self::ServiceData { width: 2, .. } => SERVICE_DATA_16,
            Self::ServiceData { width: 4, .. } => SERVICE_DATA_32,
            Self::ServiceData { .. } => SERVICE_DATA_128,
            Self::ManufacturerData { .. } => MANUFACTURER_DATA,
            Self::Appearance(_) => APPEARANCE,
            Self::Unknown { ad_type, .. } => ad_type,
        }
    }

    /// Bytes after the type byte.
    fn data_len(&self) -> usize {
        match *self {
            Self::Flags(_) | Self::TxPower(_) => 1,
            Self::Appearance(_) => 2,
            Self::ServiceUuids { data, .. } | Self::Unknown { data, .. } => data.len(),
            Self::LocalName { name, .. } => name.len(),
            Self::ServiceData { width, data, .. } => usize::from(width) + data.len(),
            Self::ManufacturerData { data, .. } => 2 + data.len(),
        }
    }

    /// Bytes before the structure's data as parsed: the length and type bytes, plus the service
    /// UUID (service data) or the company id (manufacturer data).
    pub fn header_len(&self) -> usize {
        match *self {
            Self::ServiceData { width, .. } => 2 + usize::from(width),
            Self::ManufacturerData { .. } => 4,
            _ => 2,
        }
    }

    /// Bytes [`Self::encode`] writes: length byte + type byte + data.
    pub fn encoded_len(&self) -> usize {
        2 + self.data_len()
    }

    /// Writes `[length][type][data]` into `out`; returns the bytes written.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.encoded_len();
        let ad_type = self.ad_type();
        let length = u8::try_from(len - 1).ok().ok_or(Error::TooLong {
            ad_type,
            len: self.data_len(),
        })?;
        let dest = out
            .get_mut(..len)
            .ok_or(Error::BufferTooSmall { needed: len })?;
        let mut bytes = Vec::with_capacity(len);
        bytes.push(length);
        bytes.push(ad_type);
        match *self {
            Self::Flags(f) => bytes.push(f),
            Self::TxPower(p) => bytes.push(p as u8),
            Self::Appearance(a) => bytes.extend_from_slice(&a.to_le_bytes()),
            Self::ServiceUuids { data, .. } | Self::Unknown { data, .. } => {
                bytes.extend_from_slice(data)
            }
            Self::LocalName { name, .. } => bytes.extend_from_slice(name),
            Self::ServiceData { uuid, width, data } => {
                let le = uuid_le_bytes(uuid, width);
                bytes.extend_from_slice(le.get(..usize::from(width)).unwrap_or_default());
                bytes.extend_from_slice(data);
            }
            Self::ManufacturerData { company, data } => {
                bytes.extend_from_slice(&company.to_le_bytes());
                bytes.extend_from_slice(data);
            }
        }
        dest.copy_from_slice(&bytes);
        Ok(len)
    }

    /// Appends the encoded structure to `out`.
    pub fn encode_to_vec(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        out.resize(start + self.encoded_len(), 0);
        let written = self.encode(out.get_mut(start..).unwrap_or_default());
        if written.is_err() {
            out.truncate(start);
        }
        written.map(|_| ())
    }

    /// The UUIDs of a [`Self::ServiceUuids`] structure (empty for other structures).
    pub fn uuids(&self) -> impl Iterator<Item = Uuid> + 'a {
        let (data, width) = match *self {
            Self::ServiceUuids { data, width, .. } => (data, usize::from(width)),
            _ => (&[][..], 2),
        };
        data.chunks_exact(width).filter_map(Uuid::from_le_bytes)
    }
}

/// The little-endian on-air bytes of a UUID in its 2-, 4- or 16-byte form.
fn uuid_le_bytes(uuid: Uuid, width: u8) -> [u8; 16] {
    match width {
        2 | 4 => {
            let short = uuid.as_u32().unwrap_or_default().to_le_bytes();
            let mut out = [0u8; 16];
            for (slot, b) in out.iter_mut().zip(short) {
                *slot = b;
            }
            out
        }
        _ => uuid.0.to_le_bytes(),
    }
}

/// Iterator over the AD structures of a payload; see [`iter`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    rest: &'a [u8],
    offset: usize,
}

/// Walks the AD structures of `payload`. Ends at the end of the data or at a zero length byte;
/// after an error it returns `None` forever.
pub fn iter(payload: &[u8]) -> Iter<'_> {
    Iter {
        rest: payload,
        offset: 0,
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<AdStructure<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&length, rest) = self.rest.split_first()?;
        let offset = self.offset;
        if length == 0 {
            self.rest = &[]; // early terminator: the rest is padding
            return None;
        }
        let Some((body, tail)) = rest.split_at_checked(usize::from(length)) else {
            self.rest = &[];
            return Some(Err(Error::Truncated {
                offset,
                length,
                available: rest.len(),
            }));
        };
        self.rest = tail;
        self.offset = offset + 1 + usize::from(length);
        let Some((&ad_type, data)) = body.split_first() else {
            self.rest = &[];
            return None;
        };
        let parsed = AdStructure::parse(ad_type, data, offset);
        if parsed.is_err() {
            self.rest = &[];
        }
        Some(parsed)
    }
}

impl FusedIterator for Iter<'_> {}

impl<'a> Iter<'a> {
    /// The same walk, each item with the bytes it came from: a structure's length byte to its
    /// last byte, or for a malformed one, its length byte to the end of the payload. Bytes after
    /// a zero length byte (padding) are in no item.
    pub fn with_ranges(
        mut self,
    ) -> impl Iterator<Item = (Range<usize>, Result<AdStructure<'a>, Error>)> + 'a {
        core::iter::from_fn(move || {
            let start = self.offset;
            let end_of_data = start + self.rest.len();
            let item = self.next()?;
            let end = if item.is_ok() {
                self.offset
            } else {
                end_of_data
            };
            Some((start..end, item))
        })
    }
}

impl Advertisement {
    /// Builds an advertisement from raw AD bytes (advertising data, optionally followed by the
    /// scan response). Fails at the first malformed structure.
    pub fn from_ad_bytes(payload: &[u8]) -> Result<Self, Error> {
        match Self::from_ad_bytes_lossy(payload) {
            (adv, None) => Ok(adv),
            (_, Some(error)) => Err(error),
        }
    }

    /// Like [`Self::from_ad_bytes`], but keeps what was read before the first malformed structure
    /// and returns the error beside it.
    pub fn from_ad_bytes_lossy(payload: &[u8]) -> (Self, Option<Error>) {
        let mut adv = Self::default();
        let mut short_name = None;
        for item in iter(payload) {
            let structure = match item {
                Ok(s) => s,
                Err(e) => {
                    if adv.name.is_none() {
                        adv.name = short_name;
                    }
                    return (adv, Some(e));
                }
            };
            match structure {
                AdStructure::ServiceUuids { .. } => {
                    for uuid in structure.uuids() {
                        adv.add_service_uuid(uuid);
                    }
                }
                AdStructure::LocalName {
                    complete: true,
                    name,
                } => {
                    adv.name = Some(String::from_utf8_lossy(name).into_owned());
                }
                AdStructure::LocalName {
                    complete: false,
                    name,
                } => {
                    short_name = Some(String::from_utf8_lossy(name).into_owned());
                }
                AdStructure::TxPower(p) => adv.tx_power = Some(p),
                AdStructure::ServiceData { uuid, data, .. } => {
                    adv.service_data.insert(uuid, data.to_vec());
                }
                AdStructure::ManufacturerData { company, data } => {
                    adv.manufacturer_data.insert(company, data.to_vec());
                }
                _ => {}
            }
        }
        if adv.name.is_none() {
            adv.name = short_name;
        }
        (adv, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::fixture as hex;

    /// The spec's full example advertisement (bthome.io `format.html`, "Advertisement format"): flags, complete local name
    /// "DIY-sensor", service data FCD2 `40 02C409 03BF13`.
    const SPEC_ADV: &str = "0201060b094449592d73656e736f720a16d2fc4002c40903bf13";

    #[test]
    fn ranges_cover_each_structure_and_a_malformed_tail() {
        let bytes = hex(SPEC_ADV);
        let found: Vec<_> = iter(&bytes)
            .with_ranges()
            .map(|(range, item)| (range, item.map(|s| s.header_len())))
            .collect();
        assert_eq!(found, [(0..3, Ok(2)), (3..15, Ok(2)), (15..26, Ok(4))]);
        // A length byte pointing past the end: the error covers the rest of the payload.
        let cut = hex("0201060a16d2fc40");
        let found: Vec<_> = iter(&cut)
            .with_ranges()
            .map(|(r, i)| (r, i.is_ok()))
            .collect();
        assert_eq!(found, [(0..3, true), (3..8, false)]);
    }

    #[test]
    fn parses_the_bthome_spec_advertisement() {
        let bytes = hex(SPEC_ADV);
        let items: Vec<_> = iter(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(items[0], AdStructure::Flags(0x06));
        assert_eq!(
            items[1],
            AdStructure::LocalName {
                complete: true,
                name: b"DIY-sensor"
            }
        );
        assert_eq!(
            items[2],
            AdStructure::ServiceData {
                uuid: Uuid::BTHOME_V2,
                width: 2,
                data: &hex("4002c40903bf13")
            }
        );
        let adv = Advertisement::from_ad_bytes(&bytes).unwrap();
        assert_eq!(adv.name.as_deref(), Some("DIY-sensor"));
        assert_eq!(
            adv.service_data.get(&Uuid::BTHOME_V2),
            Some(&hex("4002c40903bf13"))
        );
    }

    /// Flags, a 16-bit UUID list, TX power, manufacturer data and a short name, then a structure
    /// cut short: the lossy reading keeps all before the cut, the strict one refuses it.
    #[test]
    fn an_advertisement_keeps_what_came_before_a_cut_structure() {
        let bytes = hex("0201060503d2fc1c18020af805ffa90b0102030841420a16d2fc40");
        let cut = Error::Truncated {
            offset: 22,
            length: 10,
            available: 4,
        };
        let (adv, error) = Advertisement::from_ad_bytes_lossy(&bytes);
        assert_eq!(error, Some(cut.clone()));
        assert_eq!(adv.service_uuids, [Uuid::BTHOME_V2, Uuid::from_u16(0x181C)]);
        assert_eq!(adv.tx_power, Some(-8));
        assert_eq!(adv.manufacturer_data.get(&0x0BA9), Some(&hex("0102")));
        assert_eq!(adv.name.as_deref(), Some("AB"));
        assert!(adv.service_data.is_empty());
        assert_eq!(Advertisement::from_ad_bytes(&bytes), Err(cut));
    }

    #[test]
    fn stops_at_zero_length_structure() {
        let bytes = hex("020106000000ffff");
        assert_eq!(iter(&bytes).count(), 1);
    }

    #[test]
    fn truncated_structure_fuses_the_iterator() {
        let bytes = hex("0201060509414243");
        let mut it = iter(&bytes);
        assert!(matches!(it.next(), Some(Ok(AdStructure::Flags(6)))));
        assert_eq!(
            it.next(),
            Some(Err(Error::Truncated {
                offset: 3,
                length: 5,
                available: 4
            }))
        );
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn bad_lengths_are_errors_with_offsets() {
        // flags, then: a 16-bit UUID list of 3 bytes; tx power of 2 bytes; manufacturer data of
        // 1 byte; service data 16 shorter than its UUID.
        for (ad, ad_type, len) in [
            ("0201060403d2fc01", 0x03, 3),
            ("020106030a0102", 0x0A, 2),
            ("02010602ffa9", 0xFF, 1),
            ("0201060216d2", 0x16, 1),
        ] {
            let bytes = hex(ad);
            let result: Result<Vec<_>, _> = iter(&bytes).collect();
            assert_eq!(
                result,
                Err(Error::BadLength {
                    offset: 3,
                    ad_type,
                    len
                }),
                "{ad}"
            );
        }
    }

    /// The CLI and the Decode page show these words; `offset` is 0 for the errors of emitting.
    #[test]
    fn errors_serialize_with_kind_offset_and_words() {
        let cases = [
            (
                Error::Truncated {
                    offset: 3,
                    length: 5,
                    available: 4,
                },
                r#"{"kind":"truncated","offset":3,"message":"AD structure at byte 3 says 5 bytes follow, only 4 do"}"#,
            ),
            (
                Error::BadLength {
                    offset: 7,
                    ad_type: 0x16,
                    len: 1,
                },
                r#"{"kind":"bad_length","offset":7,"message":"AD structure at byte 7 (type 0x16) has 1 data bytes, which is not a valid size for its type"}"#,
            ),
            (
                Error::TooLong {
                    ad_type: 0x2A,
                    len: 255,
                },
                r#"{"kind":"too_long","offset":0,"message":"AD type 0x2a with 255 data bytes does not fit one AD structure"}"#,
            ),
            (
                Error::BufferTooSmall { needed: 3 },
                r#"{"kind":"buffer_too_small","offset":0,"message":"output buffer too small: 3 bytes needed"}"#,
            ),
        ];
        for (error, json) in cases {
            assert_eq!(serde_json::to_string(&error).unwrap(), json);
        }
    }

    #[test]
    fn every_structure_round_trips() {
        let name = b"SBBT-002C";
        let structures = [
            AdStructure::Flags(6),
            AdStructure::ServiceUuids {
                complete: true,
                width: 2,
                data: &[0xD2, 0xFC, 0x1C, 0x18],
            },
            AdStructure::ServiceUuids {
                complete: false,
                width: 4,
                data: &[1, 2, 3, 4],
            },
            AdStructure::ServiceUuids {
                complete: true,
                width: 16,
                data: &[7; 16],
            },
            AdStructure::LocalName {
                complete: false,
                name,
            },
            AdStructure::TxPower(-8),
            AdStructure::ServiceData {
                uuid: Uuid::BTHOME_V2,
                width: 2,
                data: &[0x40, 0x01, 0x64],
            },
            AdStructure::ServiceData {
                uuid: Uuid::from_u32(0x1234_5678),
                width: 4,
                data: &[9],
            },
            AdStructure::ServiceData {
                uuid: Uuid(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10),
                width: 16,
                data: &[],
            },
            AdStructure::ManufacturerData {
                company: 0x0BA9,
                data: &[1, 2],
            },
            AdStructure::Appearance(0x0540),
            AdStructure::Unknown {
                ad_type: 0x2A,
                data: &[1, 2, 3],
            },
        ];
        let mut out = Vec::new();
        for s in &structures {
            s.encode_to_vec(&mut out).unwrap();
        }
        let back: Vec<_> = iter(&out).collect::<Result<_, _>>().unwrap();
        assert_eq!(back, structures);
        // Length and type bytes, and the service data's UUID or the manufacturer's company id.
        let headers: Vec<_> = structures.iter().map(AdStructure::header_len).collect();
        assert_eq!(headers, [2, 2, 2, 2, 2, 2, 4, 6, 18, 4, 2, 2]);
    }

    #[test]
    fn emit_rejects_oversized_data() {
        // 254 data bytes + the type byte is the largest length byte (255).
        let max = [0u8; 254];
        let fits = AdStructure::Unknown {
            ad_type: 0x2A,
            data: &max,
        };
        let mut out = Vec::new();
        fits.encode_to_vec(&mut out).unwrap();
        assert_eq!(out.len(), 256);
        assert_eq!(iter(&out).next(), Some(Ok(fits)));
        let big = [0u8; 255];
        let s = AdStructure::Unknown {
            ad_type: 0x2A,
            data: &big,
        };
        assert_eq!(
            s.encode_to_vec(&mut Vec::new()),
            Err(Error::TooLong {
                ad_type: 0x2A,
                len: 255
            })
        );
        let mut small = [0u8; 2];
        assert_eq!(
            AdStructure::Flags(6).encode(&mut small),
            Err(Error::BufferTooSmall { needed: 3 })
        );
    }

    #[test]
    fn complete_name_wins_over_short_name() {
        let bytes = hex("03084142050941424344");
        let adv = Advertisement::from_ad_bytes(&bytes).unwrap();
        assert_eq!(adv.name.as_deref(), Some("ABCD"));
        let short_only = Advertisement::from_ad_bytes(&hex("03084142")).unwrap();
        assert_eq!(short_only.name.as_deref(), Some("AB"));
    }
}
