//! BTHome v2 (service data `0xFCD2`) and legacy v1 (`0x181C` plain, `0x181E` encrypted): decoding,
//! AES-CCM decryption, encoding, and the per-device receiver state (replay counter, packet-id
//! de-duplication, downgrade rule).
//!
//! Two entry points:
//! - [`decode`] is **stateless**: bytes (+ MAC and key when encrypted) in, [`Packet`] out. It never
//!   rejects a packet for being old or repeated; the command line's `decode` uses it.
//! - [`ReceiverState`] is the per-device state the caller owns (the manager keeps one per device);
//!   [`ReceiverState::receive`] decodes like [`decode`] and then applies bthome-ble 3.25's receiver
//!   rules, reporting a rejection as the packet's [`Error`].
//!
//! A [`Packet`] always comes back: on failure it carries the objects decoded before the problem
//! plus an [`Error`] naming what went wrong and at which byte offset of the service data.
//! Its `serde::Serialize` impl produces the `bthome` member of `bluehome decode`'s output
//! (crates/bluehome-cli/README.md), and [`Object`]'s produces one element of its `objects` list.
//! [`Packet::spans`] maps every byte of the service data to its field (the Decode page's byte map).
//!
//! Sources: the BTHome spec (bthome.io `format.html`, `encryption.html`) and what bthome-ble
//! 3.25 (`Bluetooth-Devices/bthome-ble`, `src/bthome_ble/parser.py`) does where the spec is silent.

mod crypto;
mod decode;
mod encode;
mod key;
mod receiver;
mod span;
pub mod table;
mod value;

use core::fmt;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

pub use decode::{decode, decode_v1, decode_v2};
pub use encode::{EncodeError, Encryption, encode_v1, encode_v2};
pub use key::{BindKey, BindKeyError};
pub use receiver::ReceiverState;
pub use span::{Field, Span, Spans};
pub use table::{Kind, OBJECTS, ObjectInfo, binary_words, info};
pub use value::{FirmwareVersion, Object, Value};

use crate::advertisement::{Advertisement, MacAddress};
use crate::uuid::Uuid;

/// The device-information header of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// BTHome version: 2 for `0xFCD2`, 1 for `0x181C`/`0x181E`.
    pub version: u8,
    /// Encrypted (v2: device-info bit 0; v1: UUID `0x181E`).
    pub encrypted: bool,
    /// v2 device-info bit 1 (legacy, bthome-ble only): a reversed MAC follows the info byte.
    pub mac_included: bool,
    /// v2 device-info bit 2: the device advertises on events, not at a regular interval.
    pub trigger_based: bool,
}

impl Header {
    /// Reads a v2 device-information byte; `None` when the version bits are not 2.
    pub fn from_v2_byte(info: u8) -> Option<Self> {
        (info >> 5 == 2).then_some(Self {
            version: 2,
            encrypted: info & 0x01 != 0,
            mac_included: info & 0x02 != 0,
            trigger_based: info & 0x04 != 0,
        })
    }

    /// The v2 device-information byte for this header (version bits 2, reserved bits 0).
    pub fn to_v2_byte(self) -> u8 {
        0x40 | u8::from(self.encrypted)
            | u8::from(self.mac_included) << 1
            | u8::from(self.trigger_based) << 2
    }
}

/// One decoded BTHome service-data block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Packet {
    /// The header; `None` when the device-info byte is missing or has an unsupported version.
    pub header: Option<Header>,
    /// The MAC carried in the payload (v2 device-info bit 1), most significant byte first.
    pub payload_mac: Option<MacAddress>,
    /// The encryption counter (encrypted packets long enough to carry one).
    pub counter: Option<u32>,
    /// The value of the first packet-id object (`0x00`), if any: a byte in v2, any width in v1.
    pub packet_id: Option<u64>,
    /// The objects, in the order they appear; those before an error are kept.
    pub objects: alloc::vec::Vec<Object>,
    /// What stopped the decode, if anything.
    pub error: Option<Error>,
}

impl Packet {
    /// A packet that failed before any object was read.
    pub(crate) fn failed(header: Option<Header>, error: Error) -> Self {
        Self {
            header,
            error: Some(error),
            ..Self::default()
        }
    }

    /// `true` when the whole payload decoded without an error.
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

impl Serialize for Packet {
    /// `{"version":2,"encrypted":…,"mac_included":…,"trigger_based":…,"objects":[…],"error":…}`;
    /// the four header fields are `null` when there is no usable header.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(6))?;
        let h = self.header;
        map.serialize_entry("version", &h.map(|h| h.version))?;
        map.serialize_entry("encrypted", &h.map(|h| h.encrypted))?;
        map.serialize_entry("mac_included", &h.map(|h| h.mac_included))?;
        map.serialize_entry("trigger_based", &h.map(|h| h.trigger_based))?;
        map.serialize_entry("objects", &self.objects)?;
        map.serialize_entry("error", &self.error)?;
        map.end()
    }
}

/// Why a BTHome payload (or part of it) could not be used. Offsets count bytes of the service data
/// (after the UUID); for encrypted packets, object offsets are those of the ciphertext bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The service data ends before a required part (device-info byte, ciphertext+counter+MIC).
    TooShort {
        /// Where the missing part starts.
        offset: usize,
        /// Bytes needed from `offset`.
        needed: usize,
        /// Bytes present from `offset`.
        available: usize,
    },
    /// The v2 device-info byte's version bits (5–7) are not 2.
    UnsupportedVersion {
        /// The version found.
        version: u8,
    },
    /// An object (or the payload MAC / a v1 control byte) runs past the end of the data.
    Truncated {
        /// Where the object starts.
        offset: usize,
        /// The object id, `None` for the payload MAC or a v1 control byte without its id.
        id: Option<u8>,
        /// Bytes the object needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// An object id BTHome does not define: its length is unknown, so decoding stops there.
    UnknownObject {
        /// Where the object starts.
        offset: usize,
        /// The id.
        id: u8,
    },
    /// The packet is encrypted and no key was given.
    MissingKey,
    /// The packet is encrypted and neither the caller nor the payload gave the device's MAC
    /// (the nonce needs it; browsers hide addresses).
    MissingMac,
    /// The AES-CCM tag did not verify: wrong key, wrong MAC, or tampered data.
    MicFailure {
        /// Where the 4-byte MIC starts.
        offset: usize,
    },
    /// The service UUID is none of `0xFCD2`, `0x181C`, `0x181E`.
    NotBthome {
        /// The UUID given.
        uuid: Uuid,
    },
    /// Receiver state: the encryption counter went backwards (possible replay).
    Replayed {
        /// Where the counter starts.
        offset: usize,
        /// The counter received.
        counter: u32,
        /// The last counter accepted.
        last: u32,
    },
    /// Receiver state: a packet id equal to or older than the last one within 4 seconds.
    DuplicatePacketId {
        /// Where the packet-id object starts.
        offset: usize,
        /// The packet id received.
        packet_id: u64,
        /// The last packet id accepted.
        last: u64,
    },
    /// Receiver state: the same encrypted service data again, more than 4 seconds later.
    RepeatedAdvertisement,
    /// Receiver state: a plaintext packet from a device whose key is known.
    Downgrade,
    /// Receiver state: a remote scanner's late report of an advertisement already received, or
    /// of one older than the last ([`ReceiverState::receive_relayed`]).
    LateCopy,
}

impl Error {
    /// The `kind` string of the JSON error object (`too_short`, `unsupported_version`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::Truncated { .. } => "truncated",
            Self::UnknownObject { .. } => "unknown_object",
            Self::MissingKey => "missing_key",
            Self::MissingMac => "missing_mac",
            Self::MicFailure { .. } => "mic_failure",
            Self::NotBthome { .. } => "not_bthome",
            Self::Replayed { .. } => "replayed",
            Self::DuplicatePacketId { .. } => "duplicate_packet_id",
            Self::RepeatedAdvertisement => "repeated_advertisement",
            Self::Downgrade => "downgrade",
            Self::LateCopy => "late_copy",
        }
    }

    /// The byte offset in the service data the error is about (0 when it concerns the whole).
    pub fn offset(&self) -> usize {
        match *self {
            Self::TooShort { offset, .. }
            | Self::Truncated { offset, .. }
            | Self::UnknownObject { offset, .. }
            | Self::MicFailure { offset }
            | Self::Replayed { offset, .. }
            | Self::DuplicatePacketId { offset, .. } => offset,
            _ => 0,
        }
    }

    /// Whether the error is a receiver-state rejection (replay, duplicate, repeat, downgrade, late
    /// copy)
    /// rather than a problem with the bytes themselves.
    pub fn is_rejection(&self) -> bool {
        matches!(
            self,
            Self::Replayed { .. }
                | Self::DuplicatePacketId { .. }
                | Self::RepeatedAdvertisement
                | Self::Downgrade
                | Self::LateCopy
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { offset, needed, available } => write!(
                f,
                "service data too short: byte {offset} onwards needs {needed} byte(s), has {available}"
            ),
            Self::UnsupportedVersion { version } => write!(
                f,
                "device-info byte says BTHome version {version}; only version 2 is defined"
            ),
            Self::Truncated { offset, id: Some(id), needed, available } => write!(
                f,
                "object {id:#04x} at byte {offset} needs {needed} bytes, only {available} left"
            ),
            Self::Truncated { offset, id: None, needed, available } => write!(
                f,
                "data ends inside the {needed}-byte field at byte {offset} ({available} bytes left)"
            ),
            Self::UnknownObject { offset, id } => write!(
                f,
                "unknown object id {id:#04x} at byte {offset}; its length is unknown, decoding stops"
            ),
            Self::MissingKey => f.write_str("the packet is encrypted and no bind key was given"),
            Self::MissingMac => f.write_str(
                "the packet is encrypted and the device's MAC address (needed for the nonce) is unknown",
            ),
            Self::MicFailure { offset } => write!(
                f,
                "decryption failed: the MIC at byte {offset} does not verify (wrong key or MAC, or tampered data)"
            ),
            Self::NotBthome { uuid } => write!(f, "service UUID {uuid} is not a BTHome UUID"),
            Self::Replayed { counter, last, .. } => write!(
                f,
                "encryption counter {counter} is below the last accepted {last}: possible replay, ignored"
            ),
            Self::DuplicatePacketId { packet_id, last, .. } => write!(
                f,
                "packet id {packet_id} is not newer than the last one ({last}) within 4 s: duplicate, ignored"
            ),
            Self::RepeatedAdvertisement => f.write_str(
                "the same encrypted service data again more than 4 s later: repeated, ignored",
            ),
            Self::Downgrade => f.write_str(
                "plaintext packet from a device whose bind key is known: possible downgrade, ignored",
            ),
            Self::LateCopy => f.write_str(
                "a remote scanner's late report of an advertisement already received, or older than the last: ignored",
            ),
        }
    }
}

impl core::error::Error for Error {}

/// Serializes an error as `{"kind":…,"offset":…,"message":…}` (the shape every decode error uses).
pub(crate) fn serialize_error<S: Serializer>(
    serializer: S,
    kind: &str,
    offset: usize,
    message: &dyn fmt::Display,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(3))?;
    map.serialize_entry("kind", kind)?;
    map.serialize_entry("offset", &offset)?;
    map.serialize_entry("message", &alloc::format!("{message}"))?;
    map.end()
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_error(serializer, self.kind(), self.offset(), self)
    }
}

/// What makes two objects "the same measurement" for naming: sensor / binary / event, name, unit.
fn description(object: &Object) -> Option<(u8, &'static str, Option<&'static str>)> {
    let info = object.info()?;
    let class = match info.kind {
        Kind::DeviceTypeId | Kind::Firmware => return None,
        Kind::Binary => 1,
        Kind::Button | Kind::Dimmer | Kind::Command => 2,
        _ => 0,
    };
    Some((class, info.name, info.unit))
}

/// Entity keys as bthome-ble (and so Home Assistant) names them, one per object: the object's
/// name, plus `_1`, `_2`, … when several objects of the packet share a measurement description
/// (kind + name + unit: `0x02` and `0x45` are both `temperature` in °C, so `temperature_1`,
/// `temperature_2`; `0x06` kg and `0x07` lb stay `mass`). Objects that carry no event still count
/// (a Shelly RC Button 4 sends `button_1` … `button_4`), and so do values bthome-ble reads but
/// drops ([`Value::InvalidText`], [`Value::Unreadable`]); empty text/raw objects do not (bthome-ble
/// skips them). Device-information objects keep their plain name.
pub fn entity_keys(objects: &[Object]) -> alloc::vec::Vec<alloc::string::String> {
    let counted = |o: &&Object| match &o.value {
        Value::Text(t) => !t.is_empty(),
        Value::Raw(r) => !r.is_empty(),
        _ => true,
    };
    let mut seen: alloc::vec::Vec<(u8, &str, Option<&str>)> = alloc::vec::Vec::new();
    let mut shared: alloc::vec::Vec<(u8, &str, Option<&str>)> = alloc::vec::Vec::new();
    for d in objects.iter().filter(counted).filter_map(description) {
        if seen.contains(&d) {
            if !shared.contains(&d) {
                shared.push(d);
            }
        } else {
            seen.push(d);
        }
    }
    let mut counters = alloc::vec![0usize; shared.len()];
    objects
        .iter()
        .map(|o| {
            let name = o.name();
            let position = description(o)
                .filter(|_| counted(&o))
                .and_then(|d| shared.iter().position(|s| *s == d));
            match (position, counters.get_mut(position.unwrap_or(usize::MAX))) {
                (Some(_), Some(n)) => {
                    *n += 1;
                    alloc::format!("{name}_{n}")
                }
                _ => alloc::string::String::from(name),
            }
        })
        .collect()
}

/// Picks the BTHome service data of an advertisement: `0xFCD2`, else `0x181E`, else `0x181C`.
/// A device sends only one of them (Bluetooth-Devices/bthome-ble `parser.py`,
/// `find_bthome_uuid`, takes whichever comes first); service data here is keyed by UUID, without
/// arrival order, so the choice is a fixed one, newest format first.
pub fn service_data(adv: &Advertisement) -> Option<(Uuid, &[u8])> {
    [Uuid::BTHOME_V2, Uuid::BTHOME_V1_ENCRYPTED, Uuid::BTHOME_V1]
        .into_iter()
        .find_map(|uuid| {
            adv.service_data
                .get(&uuid)
                .map(|data| (uuid, data.as_slice()))
        })
}

/// The bind key and MAC of the bthome.io encryption example (bthome.io `encryption.html`), which
/// bthome-ble's tests use too.
#[cfg(test)]
pub(crate) mod spec_example {
    use super::BindKey;
    use crate::advertisement::MacAddress;

    /// `231d39c1d7cc1ab1aee224cd096db932`.
    pub const KEY: BindKey = BindKey::new([
        0x23, 0x1d, 0x39, 0xc1, 0xd7, 0xcc, 0x1a, 0xb1, 0xae, 0xe2, 0x24, 0xcd, 0x09, 0x6d, 0xb9,
        0x32,
    ]);
    /// `54:48:E6:8F:80:A5`.
    pub const MAC: MacAddress = MacAddress([0x54, 0x48, 0xE6, 0x8F, 0x80, 0xA5]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key naming as bthome-ble's `parser.py` does it for several measurements of one kind.
    #[test]
    fn entity_keys_number_shared_descriptions() {
        let keys = entity_keys(&[
            Object::new(0x02, Value::Float(25.06)),
            Object::new(0x45, Value::Float(27.3)),
            Object::new(0x06, Value::Float(80.3)),
            Object::new(0x07, Value::Float(74.86)),
            Object::new(0x0B, Value::Float(69.14)),
            Object::new(0x10, Value::Bool(true)),
            Object::new(0x3A, Value::Button(0)),
            Object::new(0x3A, Value::Button(1)),
            Object::new(
                0xF1,
                Value::Firmware(FirmwareVersion {
                    parts: [1, 2, 3, 4],
                    len: 4,
                }),
            ),
            Object::new(
                0xF2,
                Value::Firmware(FirmwareVersion {
                    parts: [1, 2, 3, 0],
                    len: 3,
                }),
            ),
            Object::new(0x53, Value::Text(alloc::string::String::new())),
            Object::new(0x53, Value::Text("x".into())),
            Object::new(0x53, Value::Text("y".into())),
            Object::new(0x54, Value::Raw(alloc::vec::Vec::new())),
            Object::new(0x54, Value::Raw(alloc::vec![1])),
            Object::new(0x54, Value::Raw(alloc::vec![2])),
        ]);
        assert_eq!(
            keys,
            [
                "temperature_1",
                "temperature_2",
                "mass",
                "mass",
                "power",
                "power",
                "button_1",
                "button_2",
                "firmware_version",
                "firmware_version",
                "text",
                "text_1",
                "text_2",
                "raw",
                "raw_1",
                "raw_2"
            ]
        );
    }

    #[test]
    fn header_byte_round_trips() {
        for byte in [0x40, 0x41, 0x42, 0x44, 0x45, 0x47] {
            let h = Header::from_v2_byte(byte).unwrap();
            assert_eq!(h.to_v2_byte(), byte);
        }
        assert_eq!(Header::from_v2_byte(0x20), None);
        assert_eq!(Header::from_v2_byte(0x60), None);
        // Reserved bits 3-4 are ignored, as bthome-ble does.
        assert_eq!(Header::from_v2_byte(0x58), Header::from_v2_byte(0x40));
    }

    #[test]
    fn service_data_prefers_fcd2_then_181e_then_181c() {
        let mut adv = Advertisement::default();
        adv.service_data.insert(Uuid::BTHOME_V1, alloc::vec![1]);
        assert_eq!(service_data(&adv), Some((Uuid::BTHOME_V1, &[1u8][..])));
        adv.service_data
            .insert(Uuid::BTHOME_V1_ENCRYPTED, alloc::vec![2]);
        assert_eq!(
            service_data(&adv),
            Some((Uuid::BTHOME_V1_ENCRYPTED, &[2u8][..]))
        );
        adv.service_data.insert(Uuid::BTHOME_V2, alloc::vec![3]);
        adv.service_data
            .insert(Uuid::from_u16(0x181A), alloc::vec![4]);
        assert_eq!(service_data(&adv), Some((Uuid::BTHOME_V2, &[3u8][..])));
    }

    /// Rejections are about the receiver's state, every other error about the bytes.
    #[test]
    fn rejections_are_the_receiver_state_errors() {
        let rejections = [
            Error::Replayed {
                offset: 7,
                counter: 1,
                last: 2,
            },
            Error::DuplicatePacketId {
                offset: 1,
                packet_id: 1,
                last: 1,
            },
            Error::RepeatedAdvertisement,
            Error::Downgrade,
            Error::LateCopy,
        ];
        assert!(rejections.iter().all(Error::is_rejection));
        let faults = [
            Error::TooShort {
                offset: 0,
                needed: 1,
                available: 0,
            },
            Error::MissingKey,
            Error::MissingMac,
            Error::MicFailure { offset: 11 },
            Error::UnknownObject {
                offset: 1,
                id: 0xFE,
            },
        ];
        assert!(!faults.iter().any(Error::is_rejection));
    }

    #[test]
    fn errors_serialize_as_kind_offset_message() {
        let e = Error::UnknownObject {
            offset: 4,
            id: 0xFE,
        };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"unknown_object","offset":4,"message":"unknown object id 0xfe at byte 4; its length is unknown, decoding stops"}"#
        );
    }
}
