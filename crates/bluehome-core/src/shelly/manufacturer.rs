//! Shelly manufacturer data (company `0x0BA9`): type-prefixed blocks with implicit sizes —
//! `0x01` flags (u16), `0x0A` MAC (6 bytes, reversed), `0x0B` model id (u16), `0x0D` date/time
//! beacon (20 bytes); all little-endian. An unknown block type ends the parse (its size is
//! unknown), as in aioshelly. Sources: aioshelly `aioshelly/ble/manufacturer_data.py` and its tests,
//! the Theengs decoder's Shelly BLU definitions, and Shelly's BLE component documentation
//! ("Date/Time Broadcast").

use alloc::vec::Vec;
use core::fmt;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::advertisement::MacAddress;
use crate::filter::DataPrefix;
use crate::shelly::models::{self, Model};

/// Allterco Robotics (Shelly), Bluetooth SIG company id 2985.
pub const COMPANY_ID: u16 = 0x0BA9;
/// The manufacturer id Shelly gateways use for the date/time beacon (Shelly's BLE docs).
pub const BEACON_COMPANY_ID: u16 = 0xFCD2;

/// Block types.
const BLOCK_FLAGS: u8 = 0x01;
const BLOCK_MAC: u8 = 0x0A;
const BLOCK_MODEL: u8 = 0x0B;
const BLOCK_BEACON: u8 = 0x0D;

/// Size of the date/time beacon block after its type byte.
const BEACON_LEN: usize = 20;

/// The flags block (aioshelly's constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(pub u16);

/// One bit of [`Flags`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// Bit 0: discoverable.
    Discoverable,
    /// Bit 1: authentication enabled.
    Auth,
    /// Bit 2: RPC over BLE enabled.
    RpcOverBle,
    /// Bit 3: buzzer enabled.
    Buzzer,
    /// Bit 4: in pairing mode.
    Pairing,
}

impl Flag {
    /// Every flag, lowest bit first.
    pub const ALL: [Self; 5] = [
        Self::Discoverable,
        Self::Auth,
        Self::RpcOverBle,
        Self::Buzzer,
        Self::Pairing,
    ];

    /// Its bit in the block.
    pub const fn bit(self) -> u16 {
        1 << self as u16
    }

    /// Its name as a JSON member (`rpc_over_ble`).
    pub const fn key(self) -> &'static str {
        match self {
            Self::Discoverable => "discoverable",
            Self::Auth => "auth",
            Self::RpcOverBle => "rpc_over_ble",
            Self::Buzzer => "buzzer",
            Self::Pairing => "pairing",
        }
    }

    /// Its name for people (`RPC over BLE`).
    pub const fn label(self) -> &'static str {
        match self {
            Self::RpcOverBle => "RPC over BLE",
            other => other.key(),
        }
    }
}

impl Flags {
    /// Whether `flag` is set.
    pub const fn has(self, flag: Flag) -> bool {
        self.0 & flag.bit() != 0
    }

    /// The flags set, lowest bit first.
    pub fn set(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |f| self.has(*f))
    }
}

impl Serialize for Flags {
    /// `{"raw":N,"discoverable":…,"auth":…,"rpc_over_ble":…,"buzzer":…,"pairing":…}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1 + Flag::ALL.len()))?;
        map.serialize_entry("raw", &self.0)?;
        for flag in Flag::ALL {
            map.serialize_entry(flag.key(), &self.has(flag))?;
        }
        map.end()
    }
}

/// The date/time beacon block (`0x0D`) Shelly gateways broadcast so BLU devices can set their
/// clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeBeacon {
    /// Current unix time, seconds.
    pub unix_time: u32,
    /// Standard time zone offset from UTC, seconds.
    pub utc_offset: i32,
    /// Unix time when DST starts this year.
    pub dst_start: u32,
    /// Unix time when DST ends this year.
    pub dst_end: u32,
    /// DST shift, seconds.
    pub dst_shift: i32,
}

impl TimeBeacon {
    fn from_bytes(bytes: &[u8; BEACON_LEN]) -> Self {
        let word = |i: usize| {
            let mut w = [0u8; 4];
            if let Some(src) = bytes.get(i..i + 4) {
                w.copy_from_slice(src);
            }
            w
        };
        Self {
            unix_time: u32::from_le_bytes(word(0)),
            utc_offset: i32::from_le_bytes(word(4)),
            dst_start: u32::from_le_bytes(word(8)),
            dst_end: u32::from_le_bytes(word(12)),
            dst_shift: i32::from_le_bytes(word(16)),
        }
    }

    /// The block as it goes on air: `0x0D` then the five little-endian fields (21 bytes).
    pub fn to_block(&self) -> [u8; 1 + BEACON_LEN] {
        let mut out = [0u8; 1 + BEACON_LEN];
        let fields = [
            self.unix_time.to_le_bytes(),
            self.utc_offset.to_le_bytes(),
            self.dst_start.to_le_bytes(),
            self.dst_end.to_le_bytes(),
            self.dst_shift.to_le_bytes(),
        ];
        let mut parts = core::iter::once(BLOCK_BEACON).chain(fields.into_iter().flatten());
        for slot in &mut out {
            *slot = parts.next().unwrap_or_default();
        }
        out
    }
}

/// Why parsing stopped before the end of the data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No bytes at all.
    Empty,
    /// A block type whose size is unknown: parsing stops there.
    UnknownBlock {
        /// Where the block starts.
        offset: usize,
        /// Its type byte.
        block: u8,
    },
    /// A known block cut short.
    Truncated {
        /// Where the block starts.
        offset: usize,
        /// Its type byte.
        block: u8,
        /// Bytes the block needs after its type byte.
        needed: usize,
        /// Bytes left after its type byte.
        available: usize,
    },
}

impl Error {
    /// The JSON `kind` string.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Empty => "too_short",
            Self::UnknownBlock { .. } => "unknown_block",
            Self::Truncated { .. } => "truncated",
        }
    }

    /// Byte offset in the manufacturer data (after the company id).
    pub fn offset(&self) -> usize {
        match *self {
            Self::Empty => 0,
            Self::UnknownBlock { offset, .. } | Self::Truncated { offset, .. } => offset,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Empty => f.write_str("manufacturer data is empty"),
            Self::UnknownBlock { offset, block } => write!(
                f,
                "unknown block type {block:#04x} at byte {offset}; its size is unknown, parsing stops"
            ),
            Self::Truncated {
                offset,
                block,
                needed,
                available,
            } => write!(
                f,
                "block {block:#04x} at byte {offset} needs {needed} bytes, only {available} left"
            ),
        }
    }
}

impl core::error::Error for Error {}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::bthome::serialize_error(serializer, self.kind(), self.offset(), self)
    }
}

/// Parsed Shelly manufacturer data. Fields are `None` when their block is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManufacturerData {
    /// Block `0x01`.
    pub flags: Option<Flags>,
    /// Block `0x0A`, turned back to most-significant-byte-first.
    pub mac: Option<MacAddress>,
    /// Block `0x0B`.
    pub model_id: Option<u16>,
    /// Block `0x0D`.
    pub beacon: Option<TimeBeacon>,
    /// Why parsing stopped early, if it did; blocks before it are kept.
    pub error: Option<Error>,
}

/// What a block of manufacturer data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// `0x01`: flags (u16).
    Flags,
    /// `0x0A`: the device MAC (6 bytes, reversed).
    Mac,
    /// `0x0B`: model id (u16).
    Model,
    /// `0x0D`: date/time beacon (20 bytes).
    Beacon,
}

impl BlockKind {
    fn from_type(block: u8) -> Option<Self> {
        Some(match block {
            BLOCK_FLAGS => Self::Flags,
            BLOCK_MAC => Self::Mac,
            BLOCK_MODEL => Self::Model,
            BLOCK_BEACON => Self::Beacon,
            _ => return None,
        })
    }

    /// Bytes after the type byte.
    fn body_len(self) -> usize {
        match self {
            Self::Flags | Self::Model => 2,
            Self::Mac => 6,
            Self::Beacon => BEACON_LEN,
        }
    }
}

/// One block and where it lies in the manufacturer data (after the company id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    /// What it is.
    pub kind: BlockKind,
    /// Its bytes, type byte included.
    pub range: core::ops::Range<usize>,
    /// The bytes after the type byte.
    pub body: &'a [u8],
}

/// Iterator over the blocks of manufacturer data; see [`blocks`].
#[derive(Debug, Clone)]
pub struct Blocks<'a> {
    data: &'a [u8],
    at: usize,
}

/// Walks the blocks of manufacturer data **without** the company id, in order; after an error
/// (unknown or truncated block, or no data at all) it returns `None` forever.
pub fn blocks(data: &[u8]) -> Blocks<'_> {
    Blocks { data, at: 0 }
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Result<Block<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.at;
        if self.data.is_empty() && at == 0 {
            self.at = usize::MAX;
            return Some(Err(Error::Empty));
        }
        let &block = self.data.get(at)?;
        self.at = usize::MAX; // fused on error; set again below on success
        let Some(kind) = BlockKind::from_type(block) else {
            return Some(Err(Error::UnknownBlock { offset: at, block }));
        };
        let needed = kind.body_len();
        let end = at + 1 + needed;
        let Some(body) = self.data.get(at + 1..end) else {
            return Some(Err(Error::Truncated {
                offset: at,
                block,
                needed,
                available: self.data.len() - at - 1,
            }));
        };
        self.at = end;
        Some(Ok(Block {
            kind,
            range: at..end,
            body,
        }))
    }
}

impl core::iter::FusedIterator for Blocks<'_> {}

/// Parses manufacturer data **without** the two company-id bytes (as Web Bluetooth and Home
/// Assistant hand it over).
pub fn parse(data: &[u8]) -> ManufacturerData {
    let mut out = ManufacturerData::default();
    for block in blocks(data) {
        let block = match block {
            Ok(block) => block,
            Err(error) => {
                out.error = Some(error);
                break;
            }
        };
        match (block.kind, block.body) {
            (BlockKind::Flags, &[a, b]) => out.flags = Some(Flags(u16::from_le_bytes([a, b]))),
            (BlockKind::Model, &[a, b]) => out.model_id = Some(u16::from_le_bytes([a, b])),
            (BlockKind::Mac, &[a, b, c, d, e, f]) => {
                out.mac = Some(MacAddress([f, e, d, c, b, a]));
            }
            (BlockKind::Beacon, body) => {
                if let Ok(bytes) = <&[u8; BEACON_LEN]>::try_from(body) {
                    out.beacon = Some(TimeBeacon::from_bytes(bytes));
                }
            }
            _ => {}
        }
    }
    out
}

/// Builds manufacturer data (without the company id) from the given blocks, in the order Shelly
/// devices send them: flags, model, MAC, beacon.
pub fn encode(data: &ManufacturerData) -> Vec<u8> {
    let mut out = Vec::with_capacity(40);
    if let Some(flags) = data.flags {
        out.push(BLOCK_FLAGS);
        out.extend_from_slice(&flags.0.to_le_bytes());
    }
    if let Some(model) = data.model_id {
        out.push(BLOCK_MODEL);
        out.extend_from_slice(&model.to_le_bytes());
    }
    if let Some(mac) = data.mac {
        out.push(BLOCK_MAC);
        out.extend(mac.0.iter().rev());
    }
    if let Some(beacon) = data.beacon {
        out.extend_from_slice(&beacon.to_block());
    }
    out
}

/// The prefixes that pick one device by its MAC block, whatever its flags and model, in the two
/// layouts seen from firmware: flags, MAC, model (aioshelly's `tests/ble/test_manufacturer_data.py`)
/// and flags, model, MAC (Home Assistant's Shelly config-flow test capture, and [`encode`]).
/// Gen3/Gen4 devices advertise no name that says which device they are; this does.
pub fn mac_prefixes(mac: MacAddress) -> [DataPrefix; 2] {
    // Flags block type exact, its value any; then the MAC block, reversed as it is sent.
    let flags = [(BLOCK_FLAGS, 0xFF), (0, 0), (0, 0)];
    let mac_block =
        || core::iter::once((BLOCK_MAC, 0xFF)).chain(mac.0.iter().rev().map(|&b| (b, 0xFF)));
    let model = [(BLOCK_MODEL, 0xFF), (0, 0), (0, 0)];
    [
        DataPrefix::masked(flags.into_iter().chain(mac_block())),
        DataPrefix::masked(flags.into_iter().chain(model).chain(mac_block())),
    ]
}

impl ManufacturerData {
    /// The model table entry for `model_id`.
    pub fn model(&self) -> Option<&'static Model> {
        self.model_id.and_then(models::model)
    }
}

impl Serialize for ManufacturerData {
    /// `{"flags":…|null,"mac":"AA:BB:…"|null,"model_id":N|null,"model":"SBBT-002C"|null,
    /// "beacon":…|null,"error":…|null}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(6))?;
        map.serialize_entry("flags", &self.flags)?;
        map.serialize_entry("mac", &self.mac.map(|m| alloc::format!("{m}")))?;
        map.serialize_entry("model_id", &self.model_id)?;
        map.serialize_entry("model", &self.model().map(|m| m.code))?;
        map.serialize_entry("beacon", &self.beacon)?;
        map.serialize_entry("error", &self.error)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::fixture as hex;
    use serde_json::json;

    /// theengs/decoder `tests/BLE/test_ble.cpp`, Shelly BLU Button1 (SBBT-002C): flags 0x0009,
    /// model 0x0001, MAC BC:02:6E:AA:BB:CC; then the blocks tile the data, and an unknown block
    /// ends the walk.
    #[test]
    fn blocks_tile_the_data_in_order() {
        let data = [
            0x01, 0x09, 0x00, 0x0B, 0x01, 0x00, 0x0A, 0xCC, 0xBB, 0xAA, 0x6E, 0x02, 0xBC,
        ];
        let found: alloc::vec::Vec<_> = blocks(&data)
            .map(|b| b.map(|b| (b.kind, b.range)))
            .collect();
        assert_eq!(
            found,
            [
                Ok((BlockKind::Flags, 0..3)),
                Ok((BlockKind::Model, 3..6)),
                Ok((BlockKind::Mac, 6..13)),
            ]
        );
        let parsed = parse(&data);
        assert_eq!(parsed.flags, Some(Flags(9)));
        assert_eq!(parsed.model_id, Some(1));
        assert_eq!(
            parsed.mac,
            Some(MacAddress([0xBC, 0x02, 0x6E, 0xAA, 0xBB, 0xCC]))
        );
        let mut odd = blocks(&[0x01, 0x09, 0x00, 0x7F, 0x00]);
        assert!(odd.next().unwrap().is_ok());
        assert_eq!(
            odd.next(),
            Some(Err(Error::UnknownBlock {
                offset: 3,
                block: 0x7F
            }))
        );
        assert_eq!(odd.next(), None);
        assert_eq!(
            blocks(&[]).collect::<alloc::vec::Vec<_>>(),
            [Err(Error::Empty)]
        );
    }

    /// The MAC prefixes find a device in both layouts, whatever its flags and model, and never
    /// another MAC. Bytes: Home Assistant's capture `01 05 00 0B 30 10 0A 70 D6 C2 97 BA CC`
    /// (MAC CC:BA:97:C2:D6:70) and the same blocks in aioshelly's order.
    #[test]
    fn mac_prefixes_pick_one_device_in_either_layout() {
        let mac = MacAddress([0xCC, 0xBA, 0x97, 0xC2, 0xD6, 0x70]);
        let ha = [
            0x01, 0x05, 0x00, 0x0B, 0x30, 0x10, 0x0A, 0x70, 0xD6, 0xC2, 0x97, 0xBA, 0xCC,
        ];
        let aioshelly = [
            0x01, 0x15, 0x00, 0x0A, 0x70, 0xD6, 0xC2, 0x97, 0xBA, 0xCC, 0x0B, 0x30, 0x10,
        ];
        let [mac_first, model_first] = mac_prefixes(mac);
        assert!(model_first.matches(&ha) && !mac_first.matches(&ha));
        assert!(mac_first.matches(&aioshelly) && !model_first.matches(&aioshelly));
        let other = MacAddress([0xCC, 0xBA, 0x97, 0xC2, 0xD6, 0x71]);
        assert!(
            mac_prefixes(other)
                .iter()
                .all(|p| !p.matches(&ha) && !p.matches(&aioshelly))
        );
        let encoded = encode(&ManufacturerData {
            flags: Some(Flags(0x0007)),
            model_id: Some(0x1817),
            mac: Some(mac),
            ..ManufacturerData::default()
        });
        assert!(model_first.matches(&encoded));
        assert!(!mac_first.matches(&ha[..5]), "too short");
    }

    /// BLU Button1 capture (theengs/decoder `tests/BLE/test_ble.cpp`), company id stripped:
    /// `01 0900 0b 0100 0a ccbbaa6e02bc`.
    #[test]
    fn parses_a_blu_button() {
        let m = parse(&hex("0109000b01000accbbaa6e02bc"));
        assert_eq!(m.error, None);
        assert_eq!(m.flags, Some(Flags(0x0009)));
        assert!(m.flags.unwrap().has(Flag::Discoverable) && m.flags.unwrap().has(Flag::Buzzer));
        assert_eq!(m.model_id, Some(1));
        assert_eq!(m.model().map(|m| m.code), Some("SBBT-002C"));
        assert_eq!(
            m.mac,
            Some(MacAddress([0xBC, 0x02, 0x6E, 0xAA, 0xBB, 0xCC]))
        );
    }

    /// aioshelly's tests: `01 04` → nothing; `01 04 00 0A C0 49` → flags 4;
    /// `01 04 00 FF 01 02` → flags 4.
    #[test]
    fn stops_at_truncated_or_unknown_blocks() {
        let m = parse(&hex("0104"));
        assert_eq!(m.flags, None);
        assert_eq!(
            m.error,
            Some(Error::Truncated {
                offset: 0,
                block: 1,
                needed: 2,
                available: 1
            })
        );
        let m = parse(&hex("0104000ac049"));
        assert_eq!(m.flags, Some(Flags(4)));
        assert_eq!(
            m.error,
            Some(Error::Truncated {
                offset: 3,
                block: 0x0A,
                needed: 6,
                available: 2
            })
        );
        let m = parse(&hex("010400ff0102"));
        assert_eq!(m.flags, Some(Flags(4)));
        assert_eq!(
            m.error,
            Some(Error::UnknownBlock {
                offset: 3,
                block: 0xFF
            })
        );
        assert_eq!(parse(&[]).error, Some(Error::Empty));
    }

    #[test]
    fn beacon_round_trips() {
        let beacon = TimeBeacon {
            unix_time: 1_700_000_000,
            utc_offset: 3600,
            dst_start: 1_679_792_400,
            dst_end: 1_698_541_200,
            dst_shift: 3600,
        };
        let block = beacon.to_block();
        assert_eq!(block[0], 0x0D);
        // 1_700_000_000 = 0x6553F100, little-endian.
        assert_eq!(&block[1..5], &[0x00, 0xF1, 0x53, 0x65]);
        let m = parse(&block);
        assert_eq!(m.beacon, Some(beacon));
        let full = ManufacturerData {
            flags: Some(Flags(0x11)),
            mac: Some(MacAddress([1, 2, 3, 4, 5, 6])),
            model_id: Some(3),
            beacon: Some(beacon),
            error: None,
        };
        assert_eq!(parse(&encode(&full)), full);
    }

    #[test]
    fn serializes_in_the_decode_schema() {
        let m = parse(&hex("0111000b03000affeeddccbbaa"));
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"flags":{"raw":17,"discoverable":true,"auth":false,"rpc_over_ble":false,"buzzer":false,"pairing":true},"mac":"AA:BB:CC:DD:EE:FF","model_id":3,"model":"SBHT-003C","beacon":null,"error":null}"#
        );
        assert_eq!(Flag::RpcOverBle.label(), "RPC over BLE");
        assert_eq!(Flag::Pairing.label(), "pairing");
        for (bytes, error) in [
            (
                "",
                json!({"kind": "too_short", "offset": 0, "message": "manufacturer data is empty"}),
            ),
            (
                "0104000ac049",
                json!({"kind": "truncated", "offset": 3,
                    "message": "block 0x0a at byte 3 needs 6 bytes, only 2 left"}),
            ),
            (
                "010400ff0102",
                json!({"kind": "unknown_block", "offset": 3,
                    "message": "unknown block type 0xff at byte 3; its size is unknown, parsing stops"}),
            ),
        ] {
            assert_eq!(
                serde_json::to_value(parse(&hex(bytes))).unwrap()["error"],
                error
            );
        }
    }
}
