//! What the Scan page knows of one device: the app's own record of it (readings with their
//! history, the raw packets, the latest decode verdict) and [`DeviceEntry`], the view that joins
//! that record with what the core manager's device table says.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use bluehome_core::bthome::{self, Value};
use bluehome_core::manager::DeviceRef;
use bluehome_core::text::printable;
use bluehome_core::{Advertisement, DeviceKey, DeviceKind, LiteMap, MacAddress, Uuid};

use super::format::{object_text, reading_key};
use crate::state::settings::Settings;

/// One reading of a device: an object id and its position among objects with that id.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// BTHome object id.
    pub id: u8,
    /// 0 for the first object with this id in a packet, 1 for the second …
    pub index: u8,
    /// Name from the core's object table.
    pub name: &'static str,
    /// What the page calls it: the name, numbered as Home Assistant numbers it when the device
    /// sends more than one of its kind (`temperature 2`).
    pub label: String,
    /// Unit from the core's object table.
    pub unit: Option<&'static str>,
    /// The latest value.
    pub value: Value,
    /// When it arrived.
    pub at_ms: u64,
    /// Numeric history `(time, value)`, oldest first.
    pub history: VecDeque<(u64, f64)>,
}

impl Reading {
    /// The reading's stable key within its device (`"2"`, `"2.1"` for a second temperature).
    pub fn key(&self) -> String {
        reading_key(self.id, self.index)
    }

    /// The points to chart: the history, then the latest value when it came after the history's
    /// last point (the history keeps one point per step, so the newest reading is often not in
    /// it, and a chart without it would contradict the card).
    pub fn chart_points(&self) -> Vec<(u64, f64)> {
        let mut points: Vec<(u64, f64)> = self.history.iter().copied().collect();
        if let Some(value) = self.value.as_f64().filter(|v| v.is_finite())
            && points.last().is_none_or(|&(last, _)| self.at_ms > last)
        {
            points.push((self.at_ms, value));
        }
        points
    }

    /// The value as text: numbers in the user's unit (with it), binary sensors in the words of
    /// their object (`open`, `detected`).
    pub fn display(&self, settings: &Settings) -> String {
        object_text(self.id, &self.value, self.unit, settings)
    }

    /// How much a person looks at this reading, lowest first: the card and the chart start with
    /// temperature and humidity, then other measurements and states, battery last.
    pub fn prominence(&self) -> u8 {
        match self.name {
            "temperature" => 0,
            "humidity" => 1,
            "battery" | "voltage" => 4,
            _ if self.value.as_f64().is_some() => 2,
            _ => 3,
        }
    }
}

/// One received advertisement's data, for the raw view.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPacket {
    /// When it arrived.
    pub at_ms: u64,
    /// Its RSSI.
    pub rssi: Option<i8>,
    /// Manufacturer data by company id.
    pub manufacturer: Vec<(u16, Vec<u8>)>,
    /// Service data by UUID.
    pub service: Vec<(Uuid, Vec<u8>)>,
}

impl RawPacket {
    /// The data of one advertisement, heard at `at_ms`.
    pub fn of(at_ms: u64, adv: &Advertisement) -> Self {
        Self {
            at_ms,
            rssi: adv.rssi,
            manufacturer: adv
                .manufacturer_data
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            service: adv
                .service_data
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
        }
    }
}

/// Why the latest BTHome packet of a device could not be used: the core's error, said to a
/// person with what to do about it (the core's own words name bytes and fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeProblem(bthome::Error);

impl DecodeProblem {
    /// The problem of a packet the core refused or could not decode.
    pub fn new(error: bthome::Error) -> Self {
        Self(error)
    }

    /// The core's error.
    pub fn error(&self) -> &bthome::Error {
        &self.0
    }

    /// Whether entering the device's bind key (with the MAC the browser hides) would let its
    /// packets be read: none was given, or the one given does not decrypt them.
    pub fn needs_key(&self) -> bool {
        matches!(
            self.0,
            bthome::Error::MissingKey
                | bthome::Error::MissingMac
                | bthome::Error::MicFailure { .. }
        )
    }

    /// Whether this is the refusal of plaintext from a device with a bind key (the core's
    /// `downgrade` rejection).
    pub fn is_downgrade(&self) -> bool {
        self.0 == bthome::Error::Downgrade
    }
}

impl fmt::Display for DecodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            bthome::Error::Downgrade => f.write_str(
                "Unencrypted data refused: a bind key is set for this device. If its encryption \
                 was turned off, forget the key.",
            ),
            bthome::Error::MissingKey => f.write_str("Encrypted: needs its bind key."),
            bthome::Error::MissingMac => f.write_str(
                "Encrypted, and the browser hides the device's address: enter its MAC with the key.",
            ),
            bthome::Error::MicFailure { .. } => {
                f.write_str("Decryption failed: the bind key or the MAC is wrong.")
            }
            other => write!(f, "Not readable: {other}."),
        }
    }
}

/// What the app keeps of a device itself (the manager's table has the rest).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceRecord {
    /// Readings by `(object id, index)`, in that order (a device sends a handful).
    pub readings: LiteMap<(u8, u8), Reading>,
    /// Its BTHome data is encrypted.
    pub encrypted: bool,
    /// Why the latest BTHome packet failed, until one decodes.
    pub problem: Option<DecodeProblem>,
    /// The latest packets, newest last.
    pub raw: VecDeque<RawPacket>,
    /// The name saved with its history (for a device not heard since the page loaded).
    pub saved_name: Option<String>,
}

/// The record of a device the app has kept nothing of yet.
static NO_RECORD: DeviceRecord = DeviceRecord {
    readings: LiteMap::new(),
    encrypted: false,
    problem: None,
    raw: VecDeque::new(),
    saved_name: None,
};

impl DeviceRecord {
    /// Takes in the record of an entry that turned out to be this device (a gateway's row under
    /// the MAC the device announced): its readings and their history, joined with this record's
    /// in time order, and its raw packets.
    pub(super) fn take_in(&mut self, other: DeviceRecord) {
        for (key, theirs) in other.readings {
            let Some(mine) = self.readings.get_mut(&key) else {
                self.readings.insert(key, theirs);
                continue;
            };
            let mut points: Vec<(u64, f64)> = theirs
                .history
                .into_iter()
                .chain(mine.history.drain(..))
                .collect();
            points.sort_by_key(|&(at_ms, _)| at_ms);
            for (at_ms, value) in points {
                super::push_point(&mut mine.history, at_ms, value);
            }
            if theirs.at_ms > mine.at_ms {
                mine.value = theirs.value;
                mine.at_ms = theirs.at_ms;
            }
        }
        let mut raw: Vec<RawPacket> = other.raw.into_iter().chain(self.raw.drain(..)).collect();
        raw.sort_by_key(|p| p.at_ms);
        let keep = raw.len().saturating_sub(super::MAX_RAW);
        self.raw = raw.into_iter().skip(keep).collect();
        self.saved_name = self.saved_name.take().or(other.saved_name);
    }

    /// The first and last time of its readings' history, when it has any.
    fn span(&self) -> Option<(u64, u64)> {
        let first = self
            .readings
            .values()
            .filter_map(|r| r.history.front().map(|p| p.0))
            .min()?;
        let last = self.readings.values().map(|r| r.at_ms).max()?;
        Some((first, last))
    }
}

/// No data (a device known only from saved history).
static NO_DATA: Advertisement = Advertisement {
    address: None,
    name: None,
    rssi: None,
    tx_power: None,
    manufacturer_data: LiteMap::new(),
    service_data: LiteMap::new(),
    service_uuids: Vec::new(),
};

/// A device as the list shows it: the manager's view of it joined with the app's record.
#[derive(Debug, Clone, Copy)]
pub struct DeviceEntry<'a> {
    /// The device.
    pub key: &'a DeviceKey,
    /// The advertised name (or the one saved with its history).
    pub name: Option<&'a str>,
    /// The MAC, when anything told it (the address, the BTHome payload, the user, Shelly data).
    pub mac: Option<MacAddress>,
    /// The latest RSSI of the source that hears it best.
    pub rssi: Option<i8>,
    /// When it was first heard (or its saved history starts).
    pub first_seen_ms: u64,
    /// When it was last heard.
    pub last_seen_ms: u64,
    /// The source that hears it best (`saved` for a device known only from saved history).
    pub source: &'a str,
    /// What it is.
    pub kind: DeviceKind,
    /// Advertisements received from it.
    pub packets: u64,
    /// The merged advertisement data (for filters).
    pub data: &'a Advertisement,
    /// Readings by `(object id, index)`, in that order (a device sends a handful).
    pub readings: &'a LiteMap<(u8, u8), Reading>,
    /// Its BTHome data is encrypted.
    pub encrypted: bool,
    /// Why the latest BTHome packet failed, until one decodes.
    pub problem: Option<&'a DecodeProblem>,
    /// The latest packets, newest last.
    pub raw: &'a VecDeque<RawPacket>,
}

impl<'a> DeviceEntry<'a> {
    /// The entry of a device the manager has data for and/or the app has a record of; `None`
    /// when neither.
    pub(super) fn join(
        key: &'a DeviceKey,
        heard: Option<DeviceRef<'a>>,
        record: Option<&'a DeviceRecord>,
        given_mac: Option<MacAddress>,
    ) -> Option<Self> {
        let heard = heard.and_then(|d| Some((d, d.info()?)));
        if heard.is_none() && record.is_none() {
            return None;
        }
        let own = record.unwrap_or(&NO_RECORD);
        let span = own.span();
        let (first, last) = match (heard, span) {
            (Some((d, _)), Some((a, b))) => (d.first_seen_ms().min(a), d.last_seen_ms().max(b)),
            (Some((d, _)), None) => (d.first_seen_ms(), d.last_seen_ms()),
            (None, Some(span)) => span,
            (None, None) => (0, 0),
        };
        Some(Self {
            key,
            name: heard
                .and_then(|(d, info)| d.kind().shown_name(info.data.name.as_deref()))
                .or(own.saved_name.as_deref()),
            mac: heard.and_then(|(d, _)| d.mac()).or(given_mac).or(key.mac()),
            rssi: heard.and_then(|(_, info)| info.rssi),
            first_seen_ms: first,
            last_seen_ms: last,
            source: heard.map_or("saved", |(_, info)| &info.source),
            kind: heard.map_or(DeviceKind::Other, |(d, _)| d.kind()),
            packets: heard.map_or(0, |(d, _)| d.packets()),
            data: heard.map_or(&NO_DATA, |(_, info)| &info.data),
            readings: &own.readings,
            encrypted: own.encrypted,
            problem: own.problem.as_ref(),
            raw: &own.raw,
        })
    }

    /// The label if the user gave one, else the name, else the key.
    pub fn title<'b>(&'b self, labels: &'b BTreeMap<DeviceKey, String>) -> &'b str {
        labels
            .get(self.key)
            .map(String::as_str)
            .or(self.name)
            .unwrap_or(self.key.as_str())
    }

    /// [`DeviceEntry::title`] as the page shows it: control characters and bidirectional
    /// overrides as visible escapes (a device picks its own name).
    pub fn shown_title(&self, labels: &BTreeMap<DeviceKey, String>) -> String {
        printable(self.title(labels)).into_owned()
    }
}

/// A button, dimmer or command event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// When it arrived.
    pub at_ms: u64,
    /// The device.
    pub key: DeviceKey,
    /// The object (`button`, `dimmer`, …).
    pub object: &'static str,
    /// What the page calls it: the object, numbered when the packet has more than one of its
    /// kind (`button 2` of a four-button remote).
    pub label: String,
    /// The event (`press`, `rotate_left`, `toggle`, …).
    pub event: &'static str,
    /// Steps or arguments, if any.
    pub detail: String,
}
