//! The Decode page's logic: hex in, every field out, through the core's stateless decoders.
//! The input (without any bind key) round-trips through the URL fragment.

use std::str::FromStr;

use bluehome_core::advertisement::parse_company_id;
use bluehome_core::bthome::{self, BindKey};
use bluehome_core::capture::MAX_DATA_BYTES;
use bluehome_core::shelly::manufacturer;
use bluehome_core::{MacAddress, Uuid};

mod view;

use self::view::*;
pub use self::view::{BthomeView, ByteSpan, DecodeView, Field, ObjectRow};
use super::hex;
use super::settings::Settings;

/// What the hex is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputKind {
    /// Service data, with its UUID beside it.
    #[default]
    ServiceData,
    /// Manufacturer data (without the company id), with the company id beside it.
    ManufacturerData,
    /// A raw AD payload (advertising data, optionally followed by the scan response).
    RawAd,
}

impl InputKind {
    /// Every kind, in menu order.
    pub const ALL: [Self; 3] = [Self::ServiceData, Self::ManufacturerData, Self::RawAd];

    /// The fragment's name for it.
    pub fn id(self) -> &'static str {
        match self {
            Self::ServiceData => "svc",
            Self::ManufacturerData => "mfr",
            Self::RawAd => "ad",
        }
    }

    /// Menu text.
    pub fn label(self) -> &'static str {
        match self {
            Self::ServiceData => "Service data",
            Self::ManufacturerData => "Manufacturer data",
            Self::RawAd => "Raw AD payload",
        }
    }

    /// Reads [`InputKind::id`].
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.id() == id)
    }
}

/// The form (the bind key is separate: it never goes into the fragment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeInput {
    /// What the hex is.
    pub kind: InputKind,
    /// The service UUID (service data), 4, 8 or 36 characters.
    pub uuid: String,
    /// The company id (manufacturer data), decimal or `0x` hex.
    pub company: String,
    /// The bytes in hex.
    pub hex: String,
    /// The device MAC, for decryption.
    pub mac: String,
}

impl Default for DecodeInput {
    fn default() -> Self {
        Self {
            kind: InputKind::ServiceData,
            uuid: "fcd2".into(),
            company: format!("{:#06x}", manufacturer::COMPANY_ID),
            hex: String::new(),
            mac: String::new(),
        }
    }
}

/// Keeps only characters that can appear in these fields (so nothing else reaches a link).
/// Nothing is cut: an input longer than any advertisement is reported as such by [`decode`].
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | ' ' | ',' | '.'))
        .collect()
}

/// A field for the fragment: cleaned, without surrounding space, a space inside as `%20` (what a
/// browser would make of it anyway).
fn escaped(text: &str) -> String {
    clean(text.trim()).replace(' ', "%20")
}

/// `%XX` escapes undone: a browser keeps a space in a link as `%20` and may escape `:` as `%3A`
/// (URL Standard, percent-encoding).
fn unescape(text: &str) -> String {
    let mut rest = text.as_bytes();
    let mut out = Vec::with_capacity(rest.len());
    while let [first, after @ ..] = rest {
        let escaped = match after {
            [hi, lo, tail @ ..] if *first == b'%' => hex_byte(*hi, *lo).map(|byte| (byte, tail)),
            _ => None,
        };
        match escaped {
            Some((byte, tail)) => {
                out.push(byte);
                rest = tail;
            }
            None => {
                out.push(*first);
                rest = after;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte two hex digits spell, if both are hex digits.
fn hex_byte(hi: u8, lo: u8) -> Option<u8> {
    let digit = |d: u8| char::from(d).to_digit(16);
    u8::try_from(digit(hi)? << 4 | digit(lo)?).ok()
}

impl DecodeInput {
    /// The URL fragment (without `#`): `kind=svc&uuid=fcd2&hex=…&mac=…`. Never a key.
    pub fn to_fragment(&self) -> String {
        let mut parts = vec![format!("kind={}", self.kind.id())];
        match self.kind {
            InputKind::ServiceData => parts.push(format!("uuid={}", escaped(&self.uuid))),
            InputKind::ManufacturerData => {
                parts.push(format!("company={}", escaped(&self.company)));
            }
            InputKind::RawAd => {}
        }
        // Bytes as plain hex (however they were pasted); text that is not bytes as it is.
        let bytes = pasted_bytes(&self.hex).map(|(b, _)| hex::encode(&b));
        parts.push(format!(
            "hex={}",
            bytes.unwrap_or_else(|_| escaped(&self.hex))
        ));
        if !self.mac.trim().is_empty() {
            parts.push(format!("mac={}", escaped(&self.mac)));
        }
        parts.join("&")
    }

    /// Reads a fragment written by [`DecodeInput::to_fragment`] (unknown keys, such as a `key`
    /// someone typed into a link by hand, are ignored).
    pub fn from_fragment(fragment: &str) -> Self {
        let mut input = Self::default();
        for pair in fragment.trim_start_matches('#').split('&') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let value = clean(unescape(value).trim());
            match name {
                "kind" => input.kind = InputKind::from_id(&value).unwrap_or_default(),
                "uuid" => input.uuid = value,
                "company" => input.company = value,
                "hex" => input.hex = value,
                "mac" => input.mac = value,
                _ => {}
            }
        }
        input
    }
}

/// An input to try, from a public source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    /// Button text.
    pub label: &'static str,
    /// What the hex is.
    pub kind: InputKind,
    /// Service UUID or company id, as the form shows it.
    pub id: &'static str,
    /// The bytes.
    pub hex: &'static str,
    /// The device MAC (encrypted example only).
    pub mac: &'static str,
    /// The bind key (encrypted example only; goes into the key field, never into the link).
    pub key: &'static str,
}

impl Example {
    /// The form filled with this example.
    pub fn input(&self) -> DecodeInput {
        let mut input = DecodeInput {
            kind: self.kind,
            hex: self.hex.into(),
            mac: self.mac.into(),
            ..DecodeInput::default()
        };
        match self.kind {
            InputKind::ServiceData => input.uuid = self.id.into(),
            InputKind::ManufacturerData => input.company = self.id.into(),
            InputKind::RawAd => {}
        }
        input
    }
}

/// The examples offered above the form, one per kind of input.
pub const EXAMPLES: [Example; 4] = [
    // bthome.io `format.html`, the service-data example: temperature 25.06 °C, humidity 50.55 %.
    Example {
        label: "BTHome v2",
        kind: InputKind::ServiceData,
        id: "fcd2",
        hex: "40 02ca09 03bf13",
        mac: "",
        key: "",
    },
    // bthome.io `encryption.html`, the worked example (also bthome-ble's `test_parser_v2.py`):
    // key 231d39c1d7cc1ab1aee224cd096db932, MAC 54:48:E6:8F:80:A5, counter 1122867, plaintext
    // 02ca09 03bf13 = temperature 25.06 °C, humidity 50.55 %.
    Example {
        label: "Encrypted v2 (with its key)",
        kind: InputKind::ServiceData,
        id: "fcd2",
        hex: "41 e445f3c9962b 33221100 6c7c4519",
        mac: "54:48:E6:8F:80:A5",
        key: "231d39c1d7cc1ab1aee224cd096db932",
    },
    // theengs/decoder `tests/BLE/test_ble.cpp`, Shelly BLU Button1 (SBBT-002C) manufacturer data
    // after the company id a90b: flags 0x0009, model 0x0001, MAC BC:02:6E:AA:BB:CC.
    Example {
        label: "Shelly BLU manufacturer data",
        kind: InputKind::ManufacturerData,
        id: "0x0ba9",
        hex: "010900 0b0100 0accbbaa6e02bc",
        mac: "",
        key: "",
    },
    // bthome.io `format.html`, the full advertisement: flags 0x06, complete local name
    // "DIY-sensor", service data fcd2 40 02c409 03bf13 = temperature 25.00 °C, humidity 50.55 %.
    Example {
        label: "Raw AD payload",
        kind: InputKind::RawAd,
        id: "",
        hex: "020106 0b094449592d73656e736f72 0a16d2fc4002c40903bf13",
        mac: "",
        key: "",
    },
];

/// How pasted bytes were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pasted {
    Hex,
    Base64,
}

/// The pasted bytes: hex as people paste it, else padded base64; the hex error when neither.
fn pasted_bytes(text: &str) -> Result<(Vec<u8>, Pasted), hex::Error> {
    hex::decode(text)
        .map(|bytes| (bytes, Pasted::Hex))
        .or_else(|e| {
            bluehome_core::hex::decode_base64(text)
                .map(|bytes| (bytes, Pasted::Base64))
                .ok_or(e)
        })
}

/// AD types (Bluetooth Assigned Numbers, 2.3 "Common Data Types").
const AD_SERVICE_DATA_16: u8 = 0x16;
const AD_MANUFACTURER: u8 = 0xFF;

/// A hint when the pasted bytes start with what the form takes beside them: the UUID or company
/// id (little-endian, as on air), or a whole AD structure's header (length, type, id).
fn header_hint(bytes: &[u8], id: [u8; 2], ad_type: u8, name: &str) -> Option<String> {
    let whole = bytes.get(1) == Some(&ad_type) && bytes.get(2..4) == Some(&id[..]);
    let shown = hex::encode(&id);
    if whole {
        Some(format!(
            "These bytes start with an AD structure's length, type and {name} ({shown}): choose \
             \"Raw AD payload\", or paste only the data after them."
        ))
    } else if bytes.starts_with(&id) {
        Some(format!(
            "These bytes start with {shown}, the {name} itself (little-endian, as sent): paste \
             only the data after it."
        ))
    } else {
        None
    }
}

/// Decodes the form. `key` is the bind key text (may be empty).
pub fn decode(input: &DecodeInput, key: &str, settings: &Settings) -> DecodeView {
    let mut view = DecodeView::default();
    if input.hex.trim().is_empty() {
        return view;
    }
    // Measured before decoding, so a huge pasted text or link costs no more than reading it:
    // the longest advertisement written out as `0x40, ` bytes with some space to spare.
    if input.hex.len() > 8 * MAX_DATA_BYTES {
        view.input_error = Some(format!(
            "Hex: {} characters, longer than any advertisement written out (at most \
             {MAX_DATA_BYTES} bytes). Nothing was decoded.",
            input.hex.len()
        ));
        return view;
    }
    let (bytes, pasted) = match pasted_bytes(&input.hex) {
        Ok(read) => read,
        Err(e) => {
            view.input_error = Some(format!("Hex: {e}"));
            return view;
        }
    };
    if bytes.len() > MAX_DATA_BYTES {
        view.input_error = Some(format!(
            "Hex: {} bytes, longer than any advertisement (at most {MAX_DATA_BYTES} bytes). \
             Nothing was decoded.",
            bytes.len()
        ));
        return view;
    }
    // A MAC or key that does not read is said, and the data decoded without it: plaintext needs
    // neither.
    let mut problems = Vec::new();
    let mac = match input.mac.trim() {
        "" => None,
        text => MacAddress::from_str(text)
            .map_err(|e| problems.push(format!("MAC: {e} (decoded without it)")))
            .ok(),
    };
    let key = match key.trim() {
        "" => None,
        text => BindKey::from_pasted(text)
            .map_err(|e| problems.push(format!("bind key: {e} (decoded without it)")))
            .ok(),
    };
    if !problems.is_empty() {
        view.input_error = Some(problems.join("; "));
    }
    match input.kind {
        InputKind::ServiceData => {
            let text = input.uuid.trim();
            let text = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))
                .unwrap_or(text);
            let Ok(uuid) = Uuid::from_str(text) else {
                view.input_error = Some(format!(
                    "UUID: {:?} is not a 4, 8 or 36 character UUID",
                    input.uuid
                ));
                return view;
            };
            if let Some(id) = uuid.as_u16() {
                view.note = header_hint(&bytes, id.to_le_bytes(), AD_SERVICE_DATA_16, "UUID");
            }
            if [Uuid::BTHOME_V2, Uuid::BTHOME_V1, Uuid::BTHOME_V1_ENCRYPTED].contains(&uuid) {
                let packet = bthome::decode(uuid, &bytes, mac, key.as_ref());
                let (bthome, map) =
                    bthome_view(&packet, &bytes, 0, settings, &mut Links::default());
                view.bthome = Some(bthome);
                view.map = map;
            } else {
                view.note = Some(format!(
                    "Service data of {uuid}: {} bytes. Only BTHome UUIDs (fcd2, 181c, 181e) are decoded.",
                    bytes.len()
                ));
            }
        }
        InputKind::ManufacturerData => {
            let Ok(company) = parse_company_id(input.company.trim()) else {
                view.input_error = Some(format!(
                    "Company id: {:?} is not a number (decimal or 0x hex)",
                    input.company
                ));
                return view;
            };
            let hint = header_hint(&bytes, company.to_le_bytes(), AD_MANUFACTURER, "company id");
            view.note = hint;
            if [manufacturer::COMPANY_ID, manufacturer::BEACON_COMPANY_ID].contains(&company) {
                (view.shelly, view.map) = shelly_view(&bytes, 0, &mut Links::default());
            } else {
                view.note = Some(format!(
                    "Manufacturer data of company {company:#06x}: {} bytes; only Shelly ({:#06x}) is decoded.",
                    bytes.len(),
                    manufacturer::COMPANY_ID
                ));
            }
        }
        InputKind::RawAd => raw_ad_view(&bytes, mac, key.as_ref(), settings, &mut view),
    }
    if view.bthome.is_none() && view.shelly.is_empty() && view.note.is_none() {
        view.note = Some("No BTHome or Shelly data found.".into());
    }
    if pasted == Pasted::Base64 {
        let read = "Read as base64 (as Shelly's RPC gives data), not hex.";
        view.note = Some(
            view.note
                .map_or(read.into(), |note| format!("{read} {note}")),
        );
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `input` decoded with the bind key text `key` and the default settings.
    fn decoded_with(input: &DecodeInput, key: &str) -> DecodeView {
        decode(input, key, &Settings::default())
    }

    /// [`decoded_with`], checked to read the bthome.io example's temperature (25.06 °C) first.
    fn reads_25_06(input: &DecodeInput, key: &str) -> DecodeView {
        let view = decoded_with(input, key);
        let first = view.bthome.as_ref().and_then(|b| b.objects.first());
        assert_eq!(first.map(|o| o.value.as_str()), Some("25.06"), "{view:?}");
        view
    }

    /// `hex` of `kind` decoded with no key and the default settings.
    fn decoded(kind: InputKind, hex: &str) -> DecodeView {
        let input = DecodeInput {
            kind,
            hex: hex.into(),
            ..DecodeInput::default()
        };
        decoded_with(&input, "")
    }

    #[test]
    fn decodes_service_data_with_names_and_units() {
        // Temperature 25.06 °C, humidity 50.55 % (bthome.io/format example).
        let view = decoded(InputKind::ServiceData, "40 02 ca 09 03 bf 13");
        let bthome = view.bthome.unwrap();
        let o = &bthome.objects[0];
        assert_eq!(
            (
                o.id.as_str(),
                o.name.as_str(),
                o.value.as_str(),
                o.unit.as_str()
            ),
            ("0x02", "temperature", "25.06", "°C")
        );
        assert_eq!(bthome.objects[1].value, "50.55");
        assert_eq!(bthome.error, None);
    }

    #[test]
    fn raw_ad_payload_lists_structures_and_decodes_bthome() {
        // Flags 0x06, then service data 16-bit fcd2 with the same temperature/humidity payload.
        let view = decoded(InputKind::RawAd, "020106 0a16d2fc4002ca0903bf13");
        assert_eq!(view.structures.len(), 2, "{:?}", view.structures);
        assert_eq!(view.bthome.unwrap().objects.len(), 2);
    }

    /// Each kind of AD structure (Core Specification Supplement, part A) is read out in words,
    /// each row with a link of its own.
    #[test]
    fn every_kind_of_ad_structure_is_read_out() {
        let view = decoded(
            InputKind::RawAd,
            "020106 0303d2fc 0409415443 020af4 0516d2fc4000 04ff990401 0319c103 032a0102",
        );
        let rows: Vec<(&str, &str)> = view
            .structures
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("0x01", "flags 0x06"),
                ("0x03", "service UUIDs (complete): fcd2"),
                ("0x09", "complete local name \"ATC\""),
                ("0x0a", "tx power -12 dBm"),
                ("0x16", "service data of fcd2: 2 bytes"),
                ("0xff", "manufacturer data of company 0x0499: 1 byte"),
                ("0x19", "appearance 0x03c1"),
                ("0x2a", "data 01 02"),
            ]
        );
        let links: std::collections::BTreeSet<_> =
            view.structures.iter().filter_map(|f| f.link).collect();
        assert_eq!(links.len(), rows.len());
        assert!(view.shelly.is_empty(), "company 0x0499 is not Shelly's");
        // Service data of another UUID is no BTHome, whatever its bytes.
        assert_eq!(decoded(InputKind::RawAd, "05161a184000").bthome, None);
    }

    /// An advertisement keeps the last of two structures of one kind (a scan response's over
    /// the advertising data's): that is the one decoded, not the first.
    #[test]
    fn the_structure_the_advertisement_keeps_is_the_one_decoded() {
        let bthome = decoded(InputKind::RawAd, "0716d2fc4002ca09 0716d2fc4002f609");
        assert_eq!(bthome.bthome.unwrap().objects[0].value, "25.5");
        let shelly = decoded(InputKind::RawAd, "06ffa90b010100 06ffa90b010300");
        let flags: Vec<_> = shelly.shelly.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(flags, ["0x0003 discoverable, auth"]);
    }

    #[test]
    fn encrypted_payload_without_key_says_so() {
        let view = decoded(InputKind::ServiceData, "41a4c1dd0011223344556677");
        let (error, _) = view.bthome.unwrap().error.unwrap();
        assert!(error.starts_with("missing_key"), "{error}");
    }

    #[test]
    fn bad_input_is_reported_not_decoded() {
        let input = DecodeInput {
            hex: "4g".into(),
            ..DecodeInput::default()
        };
        assert!(
            decoded_with(&input, "")
                .input_error
                .unwrap()
                .contains("hex")
        );
        let input = DecodeInput {
            hex: "40".into(),
            ..DecodeInput::default()
        };
        assert!(
            decode(&input, "abc", &Settings::default())
                .input_error
                .unwrap()
                .contains("bind key")
        );
    }

    /// Data copied from Shelly's RPC (`BLE.CloudRelay.ListInfos` gives it in base64) decodes, and
    /// its link carries hex.
    #[test]
    fn base64_from_shelly_rpc_decodes() {
        let input = DecodeInput {
            hex: "RAAVAWQ6AQ==".into(),
            ..DecodeInput::default()
        };
        let view = decoded_with(&input, "");
        assert_eq!(view.input_error, None);
        assert!(view.note.unwrap().starts_with("Read as base64"));
        let rows: Vec<_> = view.bthome.unwrap().objects;
        assert_eq!(rows.last().map(|o| o.value.as_str()), Some("press"));
        assert!(input.to_fragment().ends_with("&hex=44001501643a01"));
    }

    /// A MAC or key that does not read is said beside the decode of data that needs neither.
    #[test]
    fn a_bad_mac_or_key_leaves_plaintext_decoded() {
        let input = DecodeInput {
            hex: "40 02ca09 03bf13".into(),
            mac: "54:48:E6:8F:80".into(),
            ..DecodeInput::default()
        };
        let error = reads_25_06(&input, "231d39c1").input_error.unwrap();
        assert!(
            error.starts_with("MAC:") && error.contains("; bind key:"),
            "{error}"
        );
    }

    /// What tools print, pasted as it is: nRF Connect's `0xFCD2`, C-style bytes, and the whole
    /// AD structure or the UUID pasted with the data (said, with what to do).
    #[test]
    fn pasted_forms_decode_or_say_what_to_change() {
        let input = DecodeInput {
            uuid: "0xFCD2".into(),
            hex: "0x40, 0x02, 0xCA, 0x09".into(),
            ..DecodeInput::default()
        };
        assert_eq!(reads_25_06(&input, "").input_error, None);
        let note = |hex: &str| {
            decoded(InputKind::ServiceData, hex)
                .note
                .unwrap_or_default()
        };
        assert!(note("d2fc4002ca09").contains("the UUID itself"));
        assert!(note("0a16d2fc4002ca0903bf13").contains("Raw AD payload"));
        assert!(note("4002ca09").is_empty());
        // A header needs both the type and the UUID: data that has only one of them is data.
        assert!(note("0a161a184002").is_empty() && note("0affd2fc4002").is_empty());
        let shelly = decoded(InputKind::ManufacturerData, "a90b0101000b0100");
        assert!(shelly.note.unwrap().contains("the company id itself"));
    }

    /// Advertising data padded to its 31 bytes, then the scan response: the walk goes on after
    /// the padding.
    #[test]
    fn a_scan_response_after_padding_is_decoded() {
        let view = decoded(
            InputKind::RawAd,
            "020106 000000000000 0a16d2fc4002ca0903bf13",
        );
        assert_eq!(view.bthome.unwrap().objects[0].value, "25.06");
        let labels: Vec<_> = view.map.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels[3], "padding (after a zero length byte)");
        assert_eq!(view.map[3].hex, "00 00 00 00 00 00");
    }

    /// A link whose fields a browser escaped (a space as `%20`, `:` as `%3A`) reads back as typed;
    /// a link written here has no stray spaces and plain hex however the bytes were pasted.
    #[test]
    fn escaped_links_read_back() {
        let back = DecodeInput::from_fragment(
            "kind=svc&uuid=181a%20&hex=4002ca09&mac=54%3A48%3AE6%3A8F%3A80%3AA5%20",
        );
        assert_eq!(
            (back.uuid.as_str(), back.mac.as_str()),
            ("181a", "54:48:E6:8F:80:A5")
        );
        let typed = DecodeInput {
            hex: "0x40, 0x02".into(),
            mac: " 54:48:E6:8F:80:A5 ".into(),
            ..DecodeInput::default()
        };
        assert_eq!(
            typed.to_fragment(),
            "kind=svc&uuid=fcd2&hex=4002&mac=54:48:E6:8F:80:A5"
        );
        // Only `%` and two hex digits is an escape; UTF-8 escaped byte by byte joins again.
        assert_eq!(
            unescape("a%20b%3a%zz%+1%E2%9C%93%4"),
            "a b:%zz%+1\u{2713}%4"
        );
        assert_eq!(
            DecodeInput::from_fragment("hex=40%2"),
            DecodeInput {
                hex: "402".into(),
                ..DecodeInput::default()
            }
        );
    }

    /// A Shelly gateway's date/time beacon (company id 0xFCD2, block 0x0D: Shelly's BLE
    /// documentation), on its own and in a raw payload, read out in words.
    #[test]
    fn the_time_beacon_is_read_out() {
        let beacon = "0d00f15365100e000010991f6490ae3d65100e0000";
        let input = DecodeInput {
            kind: InputKind::ManufacturerData,
            company: "64722".into(),
            hex: beacon.into(),
            ..DecodeInput::default()
        };
        let view = decoded_with(&input, "");
        assert_eq!(view.shelly[0].name, "time beacon");
        assert!(
            view.shelly[0]
                .value
                .starts_with("2023-11-14 22:13:20 UTC, UTC offset 3600 s;"),
            "{}",
            view.shelly[0].value
        );
        let raw = decoded(InputKind::RawAd, &format!("18ffd2fc{beacon}"));
        let words = |v: &DecodeView| -> Vec<(String, String)> {
            v.shelly
                .iter()
                .map(|f| (f.name.clone(), f.value.clone()))
                .collect()
        };
        assert_eq!(words(&raw), words(&view));
    }

    #[test]
    fn fragment_round_trips_and_never_carries_a_key() {
        let input = DecodeInput {
            kind: InputKind::ManufacturerData,
            company: "0x0499".into(),
            hex: "0101".into(),
            mac: "AA:BB:CC:DD:EE:FF".into(),
            ..DecodeInput::default()
        };
        let fragment = input.to_fragment();
        assert_eq!(
            fragment,
            "kind=mfr&company=0x0499&hex=0101&mac=AA:BB:CC:DD:EE:FF"
        );
        let back = DecodeInput::from_fragment(&format!("#{fragment}&key=00112233"));
        assert_eq!(back, input);
        assert!(!back.to_fragment().contains("key"));
        // Only safe characters survive into a link.
        let hostile = DecodeInput::from_fragment("hex=<script>");
        assert_eq!(hostile.hex, "script");
    }

    #[test]
    fn shelly_manufacturer_data_is_named() {
        // Flags 0x0001 (discoverable), model 0x0001 (BLU Button1), MAC block.
        let view = decoded(InputKind::ManufacturerData, "0101000b01000a112233445566");
        let names: Vec<_> = view.shelly.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["flags", "MAC", "model"]);
        assert_eq!(view.shelly[1].value, "66:55:44:33:22:11");
    }

    /// A link with more than 1,024 characters of hex was cut there without a word, and the cut
    /// payload was then decoded, reporting a truncation the user never made.
    #[test]
    fn input_longer_than_any_advertisement_is_reported_with_the_limit() {
        let long = "40".repeat(750);
        let input = DecodeInput::from_fragment(&format!("kind=svc&uuid=fcd2&hex={long}"));
        assert_eq!(input.hex.len(), 1500);
        let view = decoded_with(&input, "");
        let error = view.input_error.unwrap();
        assert!(
            error.contains("750 bytes, longer than any advertisement (at most 255 bytes)"),
            "{error}"
        );
        assert_eq!(view.bthome, None);
        // The longest advertisement still decodes.
        let most = DecodeInput {
            hex: format!("40{}", "00".repeat(254)),
            ..DecodeInput::default()
        };
        assert_eq!(decode(&most, "", &Settings::default()).input_error, None);
        // Text is refused by its length before it is read: 8 characters a byte at most.
        let text = |characters: usize| {
            let input = DecodeInput {
                hex: "0".repeat(characters),
                ..DecodeInput::default()
            };
            decode(&input, "", &Settings::default())
                .input_error
                .unwrap_or_default()
        };
        let limit = 8 * MAX_DATA_BYTES;
        assert!(text(limit).contains(&format!("{} bytes, longer", limit / 2)));
        assert!(
            text(limit + 1).starts_with(&format!("Hex: {} characters, longer", limit + 1)),
            "{}",
            text(limit + 1)
        );
    }

    fn example(label: &str) -> DecodeView {
        let e = EXAMPLES.iter().find(|e| e.label == label).unwrap();
        decode(&e.input(), e.key, &Settings::default())
    }

    fn objects(view: &DecodeView) -> Vec<(String, f64, String)> {
        view.bthome
            .as_ref()
            .unwrap()
            .objects
            .iter()
            .map(|o| (o.name.clone(), o.value.parse().unwrap(), o.unit.clone()))
            .collect()
    }

    fn value<'a>(fields: &'a [Field], name: &str) -> &'a str {
        &fields.iter().find(|f| f.name == name).unwrap().value
    }

    /// Each example decodes to what its source (cited at [`EXAMPLES`]) says it holds.
    #[test]
    fn examples_decode_to_the_values_their_sources_state() {
        let plain = example("BTHome v2");
        assert_eq!(
            objects(&plain),
            [
                ("temperature".into(), 25.06, "°C".into()),
                ("humidity".into(), 50.55, "%".into())
            ]
        );
        let sealed = example("Encrypted v2 (with its key)");
        assert_eq!(sealed.input_error, None);
        assert_eq!(sealed.bthome.as_ref().unwrap().error, None);
        assert_eq!(objects(&sealed), objects(&plain));
        assert_eq!(
            value(&sealed.bthome.as_ref().unwrap().header, "counter"),
            "1122867"
        );
        let shelly = example("Shelly BLU manufacturer data");
        assert_eq!(
            value(&shelly.shelly, "flags"),
            "0x0009 discoverable, buzzer"
        );
        assert_eq!(value(&shelly.shelly, "MAC"), "BC:02:6E:AA:BB:CC");
        assert_eq!(
            value(&shelly.shelly, "model"),
            "0x0001 Shelly BLU Button1 (SBBT-002C)"
        );
        let raw = example("Raw AD payload");
        let types: Vec<_> = raw.structures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(types, ["0x01", "0x09", "0x16"]);
        assert!(
            raw.structures[1].value.contains("DIY-sensor"),
            "{:?}",
            raw.structures
        );
        assert_eq!(
            objects(&raw),
            [
                ("temperature".into(), 25.0, "°C".into()),
                ("humidity".into(), 50.55, "%".into())
            ]
        );
    }

    /// The byte map covers each example's input exactly, in order, and every span's link is on
    /// a row (or the error) of the decoded tables.
    #[test]
    fn example_maps_tile_the_input_and_link_to_rows() {
        for e in EXAMPLES {
            let view = decode(&e.input(), e.key, &Settings::default());
            let bytes = hex::decode(e.hex).unwrap();
            let mut at = 0;
            for span in &view.map {
                assert_eq!(span.range.start, at, "{}: {:?}", e.label, view.map);
                at = span.range.end;
                assert_eq!(
                    span.hex,
                    spaced_hex(&bytes[span.range.clone()]),
                    "{}",
                    e.label
                );
            }
            assert_eq!(at, bytes.len(), "{}", e.label);
            let mut row_links: Vec<usize> = view
                .structures
                .iter()
                .chain(&view.shelly)
                .filter_map(|f| f.link)
                .collect();
            if let Some(b) = &view.bthome {
                row_links.extend(b.header.iter().filter_map(|f| f.link));
                row_links.extend(b.objects.iter().map(|o| o.link));
            }
            for span in &view.map {
                assert!(
                    row_links.contains(&span.link),
                    "{}: {span:?} links to no row",
                    e.label
                );
            }
        }
    }

    #[test]
    fn encrypted_example_maps_counter_and_mic() {
        let view = example("Encrypted v2 (with its key)");
        let fields: Vec<_> = view
            .map
            .iter()
            .map(|s| (s.label.as_str(), s.hex.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("BTHome device info", "41"),
                ("object 0x02 temperature", "e4 45 f3"),
                ("object 0x03 humidity", "c9 96 2b"),
                ("encryption counter", "33 22 11 00"),
                ("MIC (message integrity check)", "6c 7c 45 19"),
            ]
        );
        // Without the key the body is ciphertext.
        let e = EXAMPLES[1];
        let sealed = decode(&e.input(), "", &Settings::default());
        let labels: Vec<_> = sealed.map.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "BTHome device info",
                "ciphertext",
                "encryption counter",
                "MIC (message integrity check)"
            ]
        );
    }

    #[test]
    fn raw_ad_map_names_length_type_uuid_and_company() {
        // Flags, BTHome service data and Shelly manufacturer data of the theengs/decoder
        // SBBT-002C capture, then a zero length byte and padding.
        let view = decoded(
            InputKind::RawAd,
            "020106 0a16d2fc40001d01643a01 10ffa90b0109000b01000accbbaa6e02bc 00 0000",
        );
        let labels: Vec<_> = view.map.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "AD length",
                "AD type 0x01",
                "AD data",
                "AD length",
                "AD type 0x16",
                "service UUID fcd2",
                "BTHome device info",
                "object 0x00 packet id",
                "object 0x01 battery",
                "object 0x3a button",
                "AD length",
                "AD type 0xff",
                "company id 0x0ba9",
                "Shelly flags block",
                "Shelly model block",
                "Shelly MAC block (reversed)",
                "padding (after a zero length byte)",
            ]
        );
        assert_eq!(view.map[5].hex, "d2 fc");
        assert_eq!(view.map[12].hex, "a9 0b");
    }
}
