//! The Decode page's logic: hex in, every field out, through the core's stateless decoders.
//! The input (without any bind key) round-trips through the URL fragment.

use std::str::FromStr;

use bluehome_core::bthome::{self, Packet};
use bluehome_core::capture::MAX_DATA_BYTES;
use bluehome_core::shelly::manufacturer;
use bluehome_core::{Advertisement, MacAddress, Uuid, ad};

use super::hex;
use super::model::value_text;
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
            company: "0x0ba9".into(),
            hex: String::new(),
            mac: String::new(),
        }
    }
}

/// Keeps only characters that can appear in these fields (so nothing else reaches a link).
/// Nothing is cut: an input longer than any advertisement is reported as such by [`decode`].
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | ' '))
        .collect()
}

impl DecodeInput {
    /// The URL fragment (without `#`): `kind=svc&uuid=fcd2&hex=…&mac=…`. Never a key.
    pub fn to_fragment(&self) -> String {
        let mut parts = vec![format!("kind={}", self.kind.id())];
        match self.kind {
            InputKind::ServiceData => parts.push(format!("uuid={}", clean(&self.uuid))),
            InputKind::ManufacturerData => parts.push(format!("company={}", clean(&self.company))),
            InputKind::RawAd => {}
        }
        parts.push(format!("hex={}", clean(&self.hex).replace(' ', "")));
        if !self.mac.trim().is_empty() {
            parts.push(format!("mac={}", clean(&self.mac)));
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
            let value = clean(value);
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

/// One row of a decoded table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// What it is.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// A decoded BTHome block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BthomeView {
    /// Header fields and counters.
    pub header: Vec<Field>,
    /// `(id, name, value, unit)` per object.
    pub objects: Vec<(String, String, String, String)>,
    /// Why decoding stopped, with the byte offset.
    pub error: Option<String>,
}

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodeView {
    /// Problems with the input itself.
    pub input_error: Option<String>,
    /// AD structures of a raw payload.
    pub structures: Vec<Field>,
    /// The BTHome decode, if the data carries BTHome.
    pub bthome: Option<BthomeView>,
    /// The Shelly manufacturer data, if present.
    pub shelly: Vec<Field>,
    /// A note when nothing known was found.
    pub note: Option<String>,
}

fn bthome_view(packet: &Packet, settings: &Settings) -> BthomeView {
    let mut header = Vec::new();
    match packet.header {
        Some(h) => {
            header.push(Field {
                name: "version".into(),
                value: h.version.to_string(),
            });
            header.push(Field {
                name: "encrypted".into(),
                value: h.encrypted.to_string(),
            });
            header.push(Field {
                name: "MAC included".into(),
                value: h.mac_included.to_string(),
            });
            header.push(Field {
                name: "trigger based".into(),
                value: h.trigger_based.to_string(),
            });
        }
        None => header.push(Field {
            name: "header".into(),
            value: "unusable".into(),
        }),
    }
    if let Some(mac) = packet.payload_mac {
        header.push(Field {
            name: "payload MAC".into(),
            value: mac.to_string(),
        });
    }
    if let Some(counter) = packet.counter {
        header.push(Field {
            name: "counter".into(),
            value: counter.to_string(),
        });
    }
    let objects = packet
        .objects
        .iter()
        .map(|o| {
            (
                format!("{:#04x}", o.id),
                o.name().replace('_', " "),
                value_text(&o.value, None, settings),
                o.unit().unwrap_or("").to_owned(),
            )
        })
        .collect();
    BthomeView {
        header,
        objects,
        error: packet
            .error
            .as_ref()
            .map(|e| format!("{} at byte {}: {e}", e.kind(), e.offset())),
    }
}

fn shelly_fields(data: &[u8]) -> Vec<Field> {
    let parsed = manufacturer::parse(data);
    let mut out = Vec::new();
    if let Some(flags) = parsed.flags {
        let mut names = Vec::new();
        for (on, name) in [
            (flags.discoverable(), "discoverable"),
            (flags.auth(), "auth"),
            (flags.rpc_over_ble(), "RPC over BLE"),
            (flags.buzzer(), "buzzer"),
            (flags.pairing(), "pairing"),
        ] {
            if on {
                names.push(name);
            }
        }
        out.push(Field {
            name: "flags".into(),
            value: format!("{:#06x} {}", flags.0, names.join(", ")),
        });
    }
    if let Some(mac) = parsed.mac {
        out.push(Field {
            name: "MAC".into(),
            value: mac.to_string(),
        });
    }
    if let Some(id) = parsed.model_id {
        let model = parsed.model().map_or("unknown model".to_owned(), |m| {
            format!("{} ({})", m.name, m.code)
        });
        out.push(Field {
            name: "model".into(),
            value: format!("{id:#06x} {model}"),
        });
    }
    if let Some(beacon) = parsed.beacon {
        out.push(Field {
            name: "time beacon".into(),
            value: format!("{beacon:?}"),
        });
    }
    if let Some(error) = parsed.error {
        out.push(Field {
            name: "error".into(),
            value: error.to_string(),
        });
    }
    out
}

fn parse_company(text: &str) -> Option<u16> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u16::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    }
}

/// Decodes the form. `key` is the bind key text (may be empty).
pub fn decode(input: &DecodeInput, key: &str, settings: &Settings) -> DecodeView {
    let mut view = DecodeView::default();
    if input.hex.trim().is_empty() {
        return view;
    }
    // Counted before decoding, so a huge pasted text or link costs no more than reading it.
    let digits = input.hex.chars().filter(char::is_ascii_hexdigit).count();
    if digits > 2 * MAX_DATA_BYTES + 1 {
        view.input_error = Some(format!(
            "Hex: about {} bytes, longer than any advertisement (at most {MAX_DATA_BYTES} bytes). \
             Nothing was decoded.",
            digits / 2
        ));
        return view;
    }
    let bytes = match hex::decode(&input.hex) {
        Ok(b) => b,
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
    let mac = if input.mac.trim().is_empty() {
        None
    } else {
        match MacAddress::from_str(input.mac.trim()) {
            Ok(m) => Some(m),
            Err(e) => {
                view.input_error = Some(format!("MAC: {e}"));
                return view;
            }
        }
    };
    let key = if key.trim().is_empty() {
        None
    } else {
        match hex::decode_key(key) {
            Ok(k) => Some(k),
            Err(e) => {
                view.input_error = Some(e);
                return view;
            }
        }
    };
    match input.kind {
        InputKind::ServiceData => {
            let Ok(uuid) = Uuid::from_str(input.uuid.trim()) else {
                view.input_error = Some(format!(
                    "UUID: {:?} is not a 4, 8 or 36 character UUID",
                    input.uuid
                ));
                return view;
            };
            if [Uuid::BTHOME_V2, Uuid::BTHOME_V1, Uuid::BTHOME_V1_ENCRYPTED].contains(&uuid) {
                let packet = bthome::decode(uuid, &bytes, mac, key.as_ref());
                view.bthome = Some(bthome_view(&packet, settings));
            } else {
                view.note = Some(format!(
                    "Service data of {uuid}: {} bytes. Only BTHome UUIDs (fcd2, 181c, 181e) are decoded.",
                    bytes.len()
                ));
            }
        }
        InputKind::ManufacturerData => {
            let Some(company) = parse_company(&input.company) else {
                view.input_error = Some(format!(
                    "Company id: {:?} is not a number (decimal or 0x hex)",
                    input.company
                ));
                return view;
            };
            if company == manufacturer::COMPANY_ID {
                view.shelly = shelly_fields(&bytes);
            } else {
                view.note = Some(format!(
                    "Manufacturer data of company {company:#06x}: {} bytes; only Shelly (0x0ba9) is decoded.",
                    bytes.len()
                ));
            }
        }
        InputKind::RawAd => {
            for item in ad::iter(&bytes) {
                match item {
                    Ok(structure) => view.structures.push(Field {
                        name: format!("{:#04x}", structure.ad_type()),
                        value: format!("{structure:?}"),
                    }),
                    Err(e) => view.structures.push(Field {
                        name: "error".into(),
                        value: e.to_string(),
                    }),
                }
            }
            let (adv, _) = Advertisement::from_ad_bytes_lossy(&bytes);
            if let Some(packet) = bthome::decode_advertisement(&adv, mac, key.as_ref()) {
                view.bthome = Some(bthome_view(&packet, settings));
            }
            if let Some(data) = adv.manufacturer_data.get(&manufacturer::COMPANY_ID) {
                view.shelly = shelly_fields(data);
            }
        }
    }
    if view.bthome.is_none() && view.shelly.is_empty() && view.note.is_none() {
        view.note = Some("No BTHome or Shelly data found.".into());
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_service_data_with_names_and_units() {
        let input = DecodeInput {
            // Temperature 25.06 °C, humidity 50.55 % (bthome.io/format example).
            hex: "40 02 ca 09 03 bf 13".into(),
            ..DecodeInput::default()
        };
        let view = decode(&input, "", &Settings::default());
        let bthome = view.bthome.unwrap();
        assert_eq!(
            bthome.objects[0],
            (
                "0x02".into(),
                "temperature".into(),
                "25.06".into(),
                "°C".into()
            )
        );
        assert_eq!(bthome.objects[1].2, "50.55");
        assert_eq!(bthome.error, None);
    }

    #[test]
    fn raw_ad_payload_lists_structures_and_decodes_bthome() {
        // Flags 0x06, then service data 16-bit fcd2 with the same temperature/humidity payload.
        let input = DecodeInput {
            kind: InputKind::RawAd,
            hex: "020106 0a16d2fc4002ca0903bf13".into(),
            ..DecodeInput::default()
        };
        let view = decode(&input, "", &Settings::default());
        assert_eq!(view.structures.len(), 2, "{:?}", view.structures);
        assert_eq!(view.bthome.unwrap().objects.len(), 2);
    }

    #[test]
    fn encrypted_payload_without_key_says_so() {
        let input = DecodeInput {
            hex: "41a4c1dd0011223344556677".into(),
            ..DecodeInput::default()
        };
        let view = decode(&input, "", &Settings::default());
        let error = view.bthome.unwrap().error.unwrap();
        assert!(error.starts_with("missing_key"), "{error}");
    }

    #[test]
    fn bad_input_is_reported_not_decoded() {
        let input = DecodeInput {
            hex: "4g".into(),
            ..DecodeInput::default()
        };
        assert!(
            decode(&input, "", &Settings::default())
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

    #[test]
    fn fragment_round_trips_and_never_carries_a_key() {
        let input = DecodeInput {
            kind: InputKind::ManufacturerData,
            company: "0x0ba9".into(),
            hex: "0101".into(),
            mac: "AA:BB:CC:DD:EE:FF".into(),
            ..DecodeInput::default()
        };
        let fragment = input.to_fragment();
        assert_eq!(
            fragment,
            "kind=mfr&company=0x0ba9&hex=0101&mac=AA:BB:CC:DD:EE:FF"
        );
        let back = DecodeInput::from_fragment(&format!("#{fragment}&key=00112233"));
        assert_eq!(back.kind, InputKind::ManufacturerData);
        assert_eq!(back.hex, "0101");
        assert_eq!(back.mac, "AA:BB:CC:DD:EE:FF");
        assert!(!back.to_fragment().contains("key"));
        // Only safe characters survive into a link.
        let hostile = DecodeInput::from_fragment("hex=<script>");
        assert_eq!(hostile.hex, "script");
    }

    #[test]
    fn shelly_manufacturer_data_is_named() {
        // Flags 0x0001 (discoverable), model 0x0001 (BLU Button1), MAC block.
        let input = DecodeInput {
            kind: InputKind::ManufacturerData,
            hex: "0101000b01000a112233445566".into(),
            ..DecodeInput::default()
        };
        let view = decode(&input, "", &Settings::default());
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
        let view = decode(&input, "", &Settings::default());
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
    }
}
