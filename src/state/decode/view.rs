//! What the Decode page shows of a decode: the tables of fields and the byte map, each span
//! of bytes linked to the rows it encodes. The spans come from the core's decoders.

use std::ops::Range;

use bluehome_core::ad::AdStructure;
use bluehome_core::bthome::{self, BindKey, Packet};
use bluehome_core::shelly::manufacturer::{self, BlockKind, Flag};
use bluehome_core::text::printable;
use bluehome_core::{Advertisement, MacAddress, Uuid, ad};

use super::super::model::value_text;
use super::super::settings::{Settings, format_datetime};

/// One row of a decoded table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// What it is.
    pub name: String,
    /// Its value.
    pub value: String,
    /// The byte-map link it shares with its bytes ([`ByteSpan::link`]), if they are mapped.
    pub link: Option<usize>,
}

impl Field {
    pub(super) fn new(
        name: impl Into<String>,
        value: impl Into<String>,
        link: Option<usize>,
    ) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            link,
        }
    }
}

/// One decoded object, as a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    /// The object id, `0x02`.
    pub id: String,
    /// Its name, `temperature`.
    pub name: String,
    /// Its value as the app shows it.
    pub value: String,
    /// Its unit, or empty.
    pub unit: String,
    /// The byte-map link of its bytes.
    pub link: usize,
}

/// A run of input bytes on the byte map: one field, linked to the row that shows it decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteSpan {
    /// Where the bytes are in the input.
    pub range: Range<usize>,
    /// The bytes, as hex pairs separated by spaces.
    pub hex: String,
    /// What they are (`object 0x02 temperature`), for the tooltip and screen readers.
    pub label: String,
    /// Which colour family: `header`, `object`, `crypto`, `ad`, `shelly`, `undecoded`.
    pub class: &'static str,
    /// The number shared with the row (or rows) it links to.
    pub link: usize,
}

/// Hands out link numbers.
#[derive(Debug, Default)]
pub(super) struct Links(usize);

impl Links {
    pub(super) fn next(&mut self) -> usize {
        self.0 += 1;
        self.0
    }
}

/// `02 ca 09`.
pub(super) fn spaced_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds the span of `data[range]` (offsets shifted by `base`) to `map`, if it is not empty.
pub(super) fn push_span(
    map: &mut Vec<ByteSpan>,
    data: &[u8],
    base: usize,
    range: Range<usize>,
    (label, class, link): (String, &'static str, usize),
) {
    let bytes = data.get(range.clone()).unwrap_or_default();
    if bytes.is_empty() {
        return;
    }
    map.push(ByteSpan {
        range: base + range.start..base + range.end,
        hex: spaced_hex(bytes),
        label,
        class,
        link,
    });
}

/// A decoded BTHome block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BthomeView {
    /// Header fields and counters.
    pub header: Vec<Field>,
    /// One row per object.
    pub objects: Vec<ObjectRow>,
    /// Why decoding stopped, with the byte offset, and the link of the bytes not decoded.
    pub error: Option<(String, usize)>,
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
    /// The input bytes, field by field, in order.
    pub map: Vec<ByteSpan>,
}

/// The BTHome rows of service data `data` and its byte map (offsets shifted by `base`, where
/// the service data starts in the input).
pub(super) fn bthome_view(
    packet: &Packet,
    data: &[u8],
    base: usize,
    settings: &Settings,
    links: &mut Links,
) -> (BthomeView, Vec<ByteSpan>) {
    let [info, mac, counter, mic, rest] = [(); 5].map(|()| links.next());
    let object_links: Vec<usize> = packet.objects.iter().map(|_| links.next()).collect();
    let mut map = Vec::new();
    let mut mic_hex = None;
    for span in packet.spans(data.len()) {
        let described = match span.field {
            bthome::Field::DeviceInfo => ("BTHome device info".to_owned(), "header", info),
            bthome::Field::PayloadMac => ("payload MAC (reversed)".to_owned(), "header", mac),
            bthome::Field::Object(i) => match (packet.objects.get(i), object_links.get(i)) {
                (Some(o), Some(&link)) => (
                    format!("object {:#04x} {}", o.id, o.name().replace('_', " ")),
                    "object",
                    link,
                ),
                _ => ("not decoded".to_owned(), "undecoded", rest),
            },
            bthome::Field::Ciphertext => ("ciphertext".to_owned(), "crypto", rest),
            bthome::Field::Counter => ("encryption counter".to_owned(), "crypto", counter),
            bthome::Field::Mic => {
                mic_hex = data.get(span.range.clone()).map(spaced_hex);
                ("MIC (message integrity check)".to_owned(), "crypto", mic)
            }
            bthome::Field::Undecoded => ("not decoded".to_owned(), "undecoded", rest),
        };
        push_span(&mut map, data, base, span.range, described);
    }
    let mut header = Vec::new();
    match packet.header {
        Some(h) => {
            // The v2 flags come from the device-info byte; v1 has none (its UUID says it all).
            let link = (h.version == 2).then_some(info);
            header.push(Field::new("version", h.version.to_string(), link));
            header.push(Field::new("encrypted", h.encrypted.to_string(), link));
            header.push(Field::new("MAC included", h.mac_included.to_string(), link));
            header.push(Field::new(
                "trigger based",
                h.trigger_based.to_string(),
                link,
            ));
        }
        None => header.push(Field::new("header", "unusable", Some(info))),
    }
    if let Some(payload_mac) = packet.payload_mac {
        header.push(Field::new(
            "payload MAC",
            payload_mac.to_string(),
            Some(mac),
        ));
    }
    if let Some(value) = packet.counter {
        header.push(Field::new("counter", value.to_string(), Some(counter)));
    }
    if let Some(hex) = mic_hex {
        header.push(Field::new("MIC", hex, Some(mic)));
    }
    let objects = packet
        .objects
        .iter()
        .zip(object_links)
        .map(|(o, link)| ObjectRow {
            id: format!("{:#04x}", o.id),
            name: o.name().replace('_', " "),
            value: value_text(&o.value, None, settings),
            unit: o.unit().unwrap_or("").to_owned(),
            link,
        })
        .collect();
    let view = BthomeView {
        header,
        objects,
        error: packet.error.as_ref().map(|e| {
            (
                format!("{} at byte {}: {e}", e.kind(), base + e.offset()),
                rest,
            )
        }),
    };
    (view, map)
}

/// The Shelly rows of manufacturer data `data` (after the company id) and its byte map (offsets
/// shifted by `base`).
pub(super) fn shelly_view(
    data: &[u8],
    base: usize,
    links: &mut Links,
) -> (Vec<Field>, Vec<ByteSpan>) {
    let parsed = manufacturer::parse(data);
    let [flags_link, mac_link, model_link, beacon_link, error_link] =
        [(); 5].map(|()| links.next());
    let mut map = Vec::new();
    let mut end = 0;
    for block in manufacturer::blocks(data) {
        let Ok(block) = block else { break };
        let described = match block.kind {
            BlockKind::Flags => ("Shelly flags block", flags_link),
            BlockKind::Mac => ("Shelly MAC block (reversed)", mac_link),
            BlockKind::Model => ("Shelly model block", model_link),
            BlockKind::Beacon => ("Shelly time beacon block", beacon_link),
        };
        end = block.range.end;
        push_span(
            &mut map,
            data,
            base,
            block.range,
            (described.0.to_owned(), "shelly", described.1),
        );
    }
    push_span(
        &mut map,
        data,
        base,
        end..data.len(),
        ("not decoded".to_owned(), "undecoded", error_link),
    );
    let mut out = Vec::new();
    if let Some(flags) = parsed.flags {
        let names: Vec<&str> = flags.set().map(Flag::label).collect();
        out.push(Field::new(
            "flags",
            format!("{:#06x} {}", flags.0, names.join(", ")),
            Some(flags_link),
        ));
    }
    if let Some(mac) = parsed.mac {
        out.push(Field::new("MAC", mac.to_string(), Some(mac_link)));
    }
    if let Some(id) = parsed.model_id {
        let model = parsed.model().map_or("unknown model".to_owned(), |m| {
            format!("{} ({})", m.name, m.code)
        });
        out.push(Field::new(
            "model",
            format!("{id:#06x} {model}"),
            Some(model_link),
        ));
    }
    if let Some(b) = parsed.beacon {
        let utc = |t: u32| format!("{} UTC", format_datetime(u64::from(t) * 1000, 0));
        out.push(Field::new(
            "time beacon",
            format!(
                "{}, UTC offset {} s; daylight saving time {} to {}, shift {} s",
                utc(b.unix_time),
                b.utc_offset,
                utc(b.dst_start),
                utc(b.dst_end),
                b.dst_shift
            ),
            Some(beacon_link),
        ));
    }
    if let Some(error) = parsed.error {
        out.push(Field::new("error", error.to_string(), Some(error_link)));
    }
    (out, map)
}

/// A service UUID as the structure sends it: the 16-bit alias when it is 2 bytes on air.
pub(super) fn uuid_text(uuid: Uuid, width: u8) -> String {
    match (width, uuid.as_u16()) {
        (2, Some(short)) => format!("{short:04x}"),
        _ => uuid.to_string(),
    }
}

/// An AD structure's content in words (a device's name shown, never obeyed).
pub(super) fn structure_text(structure: &AdStructure<'_>) -> String {
    match *structure {
        AdStructure::Flags(flags) => format!("flags {flags:#04x}"),
        AdStructure::ServiceUuids {
            complete, width, ..
        } => {
            let list: Vec<String> = structure.uuids().map(|u| uuid_text(u, width)).collect();
            let which = if complete { "complete" } else { "incomplete" };
            format!("service UUIDs ({which}): {}", list.join(", "))
        }
        AdStructure::LocalName { complete, name } => {
            let which = if complete { "complete" } else { "shortened" };
            format!(
                "{which} local name \"{}\"",
                printable(&String::from_utf8_lossy(name))
            )
        }
        AdStructure::TxPower(dbm) => format!("tx power {dbm} dBm"),
        AdStructure::ServiceData { uuid, width, data } => format!(
            "service data of {}: {}",
            uuid_text(uuid, width),
            byte_count(data)
        ),
        AdStructure::ManufacturerData { company, data } => format!(
            "manufacturer data of company {company:#06x}: {}",
            byte_count(data)
        ),
        AdStructure::Appearance(appearance) => format!("appearance {appearance:#06x}"),
        AdStructure::Unknown { data, .. } => format!("data {}", spaced_hex(data)),
        _ => format!("{structure:?}"),
    }
}

/// `1 byte`, `2 bytes`.
fn byte_count(data: &[u8]) -> String {
    match data.len() {
        1 => "1 byte".to_owned(),
        n => format!("{n} bytes"),
    }
}

/// What an AD structure's length, type and UUID/company bytes are called on the byte map.
pub(super) fn structure_header_spans(
    map: &mut Vec<ByteSpan>,
    bytes: &[u8],
    start: usize,
    structure: &AdStructure<'_>,
    link: usize,
) {
    let ad_type = structure.ad_type();
    push_span(
        map,
        bytes,
        0,
        start..start + 1,
        ("AD length".into(), "ad", link),
    );
    push_span(
        map,
        bytes,
        0,
        start + 1..start + 2,
        (format!("AD type {ad_type:#04x}"), "ad", link),
    );
    let extra = match structure {
        AdStructure::ServiceData { uuid, width, .. } => {
            format!("service UUID {}", uuid_text(*uuid, *width))
        }
        AdStructure::ManufacturerData { company, .. } => format!("company id {company:#06x}"),
        _ => String::new(),
    };
    push_span(
        map,
        bytes,
        0,
        start + 2..start + structure.header_len(),
        (extra, "ad", link),
    );
}

/// The packets of a raw AD payload: advertising data padded to its length (a zero length byte,
/// then zeros: Core Specification v5.4, Vol 3, Part C, §11) may be followed by the scan response
/// pasted after it. Each packet's structures, by byte range.
fn packets(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut packets = Vec::new();
    let mut from = 0;
    while let Some(rest) = bytes.get(from..).filter(|rest| !rest.is_empty()) {
        let walked = ad::iter(rest)
            .with_ranges()
            .last()
            .map_or(0, |(range, _)| range.end);
        packets.push(from..from + walked);
        let zeros = rest.iter().skip(walked).take_while(|b| **b == 0).count();
        if zeros == 0 {
            break;
        }
        from += walked + zeros;
    }
    packets
}

/// The rows and byte map of a raw AD payload: a row per structure; the BTHome service data and
/// the Shelly manufacturer data the advertisement is decoded from get their own fields.
pub(super) fn raw_ad_view(
    bytes: &[u8],
    mac: Option<MacAddress>,
    key: Option<&BindKey>,
    settings: &Settings,
    view: &mut DecodeView,
) {
    let mut links = Links::default();
    let packets = packets(bytes);
    let significant: Vec<u8> = packets
        .iter()
        .flat_map(|p| bytes.get(p.clone()).unwrap_or_default().iter().copied())
        .collect();
    let (adv, _) = Advertisement::from_ad_bytes_lossy(&significant);
    // The service data and manufacturer data the advertisement keeps (the first structure
    // with those bytes is the one mapped).
    let mut bthome_data = bthome::service_data(&adv);
    let mut shelly_data = adv
        .manufacturer_data
        .get(&manufacturer::COMPANY_ID)
        .map(Vec::as_slice);
    let mut end = 0;
    let structures = packets.iter().flat_map(|packet| {
        let at = packet.start;
        ad::iter(bytes.get(packet.clone()).unwrap_or_default())
            .with_ranges()
            .map(move |(range, item)| (at + range.start..at + range.end, item))
    });
    for (range, item) in structures {
        if range.start > end {
            push_span(
                &mut view.map,
                bytes,
                0,
                end..range.start,
                (
                    "padding (after a zero length byte)".into(),
                    "undecoded",
                    links.next(),
                ),
            );
        }
        let link = links.next();
        end = range.end;
        let structure = match item {
            Ok(structure) => structure,
            Err(e) => {
                view.structures
                    .push(Field::new("error", e.to_string(), Some(link)));
                push_span(
                    &mut view.map,
                    bytes,
                    0,
                    range,
                    ("malformed AD structure".into(), "undecoded", link),
                );
                continue;
            }
        };
        view.structures.push(Field::new(
            format!("{:#04x}", structure.ad_type()),
            structure_text(&structure),
            Some(link),
        ));
        structure_header_spans(&mut view.map, bytes, range.start, &structure, link);
        let data_range = range.start + structure.header_len()..range.end;
        match structure {
            AdStructure::ServiceData { uuid, data, .. }
                if bthome_data.is_some_and(|(u, d)| u == uuid && d == data) =>
            {
                bthome_data = None;
                let packet = bthome::decode(uuid, data, mac, key);
                let (bthome, map) =
                    bthome_view(&packet, data, data_range.start, settings, &mut links);
                view.bthome = Some(bthome);
                view.map.extend(map);
            }
            AdStructure::ManufacturerData { company, data }
                if company == manufacturer::COMPANY_ID && shelly_data == Some(data) =>
            {
                shelly_data = None;
                let (shelly, map) = shelly_view(data, data_range.start, &mut links);
                view.shelly.extend(shelly);
                view.map.extend(map);
            }
            // A gateway's date/time beacon: Shelly's blocks under another company id.
            AdStructure::ManufacturerData { company, data }
                if company == manufacturer::BEACON_COMPANY_ID =>
            {
                let (beacon, map) = shelly_view(data, data_range.start, &mut links);
                view.shelly.extend(beacon);
                view.map.extend(map);
            }
            _ => push_span(
                &mut view.map,
                bytes,
                0,
                data_range,
                ("AD data".into(), "ad", link),
            ),
        }
    }
    push_span(
        &mut view.map,
        bytes,
        0,
        end..bytes.len(),
        (
            "padding (after a zero length byte)".into(),
            "undecoded",
            links.next(),
        ),
    );
}
