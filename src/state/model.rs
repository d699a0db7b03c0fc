//! The Scan page's model: everything the page shows, built only from what the core manager says.
//!
//! Live advertisements enter through [`ScanModel::ingest`], which hands them to the core
//! [`Manager`]; the device rows come from the manager's merged service info and the readings from
//! its `Reading` events (decoded with each device's BTHome receiver state). Everything here is a
//! plain function of its inputs (time is an argument), so it is unit-tested natively.
//!
//! Memory is bounded: [`MAX_DEVICES`] devices, [`MAX_TIMELINE`] events, [`MAX_RAW`] raw packets per
//! device, one history point per reading per [`HISTORY_STEP_MS`] over [`HISTORY_WINDOW_MS`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bluehome_core::bthome::{self, Value};
use bluehome_core::filter::{FilterSet, normalize_address};
use bluehome_core::manager::{Config, Event, Manager};
use bluehome_core::shelly::manufacturer;
use bluehome_core::text::printable;
use bluehome_core::{Advertisement, MacAddress, Uuid};

use super::capture::Record;
use super::hex;
use super::settings::{Settings, SortKey};

/// Devices kept at most (the least recently heard is dropped for a new one).
pub const MAX_DEVICES: usize = 1000;
/// Timeline entries kept at most.
pub const MAX_TIMELINE: usize = 300;
/// Raw packets kept per device.
pub const MAX_RAW: usize = 12;
/// How far back histories reach.
pub const HISTORY_WINDOW_MS: u64 = 3_600_000;
/// At most one history point per reading in this time.
pub const HISTORY_STEP_MS: u64 = 5_000;
/// Lines a recording keeps at most (then it stops by itself).
pub const MAX_RECORDING: usize = 500_000;

/// What kind of device an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// BTHome v1 service data.
    BthomeV1,
    /// BTHome v2 service data.
    BthomeV2,
    /// A Shelly BLU device (Shelly manufacturer data with a known BLU model, or its BTHome data).
    ShellyBlu(&'static manufacturer::Model),
    /// A Shelly device (Shelly manufacturer data, not a BLU sensor).
    Shelly,
    /// Anything else.
    Other,
}

impl DeviceKind {
    /// The text shown in the list.
    pub fn label(&self) -> String {
        match self {
            Self::BthomeV1 => "BTHome v1".into(),
            Self::BthomeV2 => "BTHome v2".into(),
            // The model table's names already read "Shelly BLU …".
            Self::ShellyBlu(model) => format!("{} ({})", model.name, model.code),
            Self::Shelly => "Shelly device".into(),
            Self::Other => "Other".into(),
        }
    }

    /// A short class name for styling.
    pub fn class(&self) -> &'static str {
        match self {
            Self::BthomeV1 | Self::BthomeV2 => "bthome",
            Self::ShellyBlu(_) => "blu",
            Self::Shelly => "shelly",
            Self::Other => "other",
        }
    }
}

/// One reading of a device: an object id and its position among objects with that id.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// BTHome object id.
    pub id: u8,
    /// 0 for the first object with this id in a packet, 1 for the second …
    pub index: u8,
    /// Name from the core's object table.
    pub name: &'static str,
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

    /// The value as text (numbers in the user's unit, with it).
    pub fn display(&self, settings: &Settings) -> String {
        value_text(&self.value, self.unit, settings)
    }
}

/// A decoded value as text: numbers in the user's unit (with it), events by name.
pub fn value_text(value: &Value, unit: Option<&'static str>, settings: &Settings) -> String {
    match value {
        Value::Int(_) | Value::Float(_) => {
            let raw = value.as_f64().unwrap_or_default();
            let (value, unit) = settings.display_value(raw, unit);
            let text = format_number(value);
            match unit {
                Some(unit) => format!("{text} {unit}"),
                None => text,
            }
        }
        Value::Bool(on) => if *on { "on" } else { "off" }.to_owned(),
        Value::Text(text) => printable(text).into_owned(),
        Value::InvalidText(bytes) | Value::Raw(bytes) => hex::encode(bytes),
        Value::Timestamp(s) => super::settings::format_rfc3339(s.saturating_mul(1000)),
        Value::DeviceTypeId(id) => format!("{id:#06x}"),
        Value::Firmware(v) => v.to_string(),
        Value::Dimmer { steps, .. } => {
            format!("{} ({steps} steps)", value.event().unwrap_or("none"))
        }
        Value::Command { args, .. } if !args.is_empty() => {
            format!(
                "{} (args {})",
                value.event().unwrap_or("unknown"),
                hex::encode(args)
            )
        }
        other => other.event().unwrap_or("none").to_owned(),
    }
}

/// The key of a reading within its device.
pub fn reading_key(id: u8, index: u8) -> String {
    if index == 0 {
        id.to_string()
    } else {
        format!("{id}.{index}")
    }
}

/// A number with at most 3 decimals and no trailing zeros.
pub fn format_number(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
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

/// Why the latest BTHome packet of a device could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeProblem {
    /// The core error's kind (`mic_failure`, `missing_key`, …).
    pub kind: &'static str,
    /// The core error's message.
    pub message: String,
}

/// A device as the list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceEntry {
    /// The manager's key: an upper-case MAC, or the browser's device id.
    pub key: String,
    /// The advertised name.
    pub name: Option<String>,
    /// The MAC, when anything told it (the address, Shelly data, the BTHome payload, the user).
    pub mac: Option<MacAddress>,
    /// The latest RSSI.
    pub rssi: Option<i8>,
    /// When it was first heard.
    pub first_seen_ms: u64,
    /// When it was last heard.
    pub last_seen_ms: u64,
    /// The source that heard it best.
    pub source: String,
    /// What it is.
    pub kind: DeviceKind,
    /// Its BTHome data is encrypted.
    pub encrypted: bool,
    /// Readings by [`Reading::key`].
    pub readings: BTreeMap<(u8, u8), Reading>,
    /// Why the latest BTHome packet failed, until one decodes.
    pub problem: Option<DecodeProblem>,
    /// The latest packets, newest last.
    pub raw: VecDeque<RawPacket>,
    /// Advertisements received.
    pub packets: u64,
    /// The merged advertisement data (for filters).
    pub data: Arc<Advertisement>,
}

impl DeviceEntry {
    /// The label if the user gave one, else the name, else the key.
    pub fn title<'a>(&'a self, labels: &'a BTreeMap<String, String>) -> &'a str {
        labels
            .get(&self.key)
            .map(String::as_str)
            .or(self.name.as_deref())
            .unwrap_or(&self.key)
    }

    /// [`DeviceEntry::title`] as the page shows it: control characters and bidirectional
    /// overrides as visible escapes (a device picks its own name).
    pub fn shown_title(&self, labels: &BTreeMap<String, String>) -> String {
        printable(self.title(labels)).into_owned()
    }
}

/// A button, dimmer or command event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// When it arrived.
    pub at_ms: u64,
    /// The device key.
    pub key: String,
    /// The object (`button`, `dimmer`, …).
    pub object: &'static str,
    /// The event (`press`, `rotate_left`, `toggle`, …).
    pub event: &'static str,
    /// Steps or arguments, if any.
    pub detail: String,
}

/// What became of a bind key an imported capture carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKey {
    /// Used to decode the replay (the user has no key for the device).
    Used,
    /// The user's own key is the same one.
    Same,
    /// The user's own, different key is kept; the capture's is not used.
    OwnKept,
}

/// A bind key the user entered, with the MAC the browser cannot know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEntry {
    /// The 16-byte key.
    pub bindkey: [u8; 16],
    /// The device's MAC, for devices the browser names by an opaque id.
    pub mac: Option<MacAddress>,
}

/// The model. See the module documentation.
#[derive(Debug)]
pub struct ScanModel {
    manager: Manager,
    /// Devices by key.
    pub devices: BTreeMap<String, DeviceEntry>,
    /// Events, oldest first.
    pub timeline: VecDeque<TimelineEntry>,
    /// Bind keys by device key.
    pub keys: BTreeMap<String, KeyEntry>,
    /// User labels by device key.
    pub labels: BTreeMap<String, String>,
    /// Capture lines while recording.
    pub recording: Option<Vec<String>>,
    /// Live input is ignored while paused.
    pub paused: bool,
    /// Devices decoding with a bind key an imported capture carried (never saved).
    capture_keys: std::collections::BTreeSet<String>,
    /// Advertisements received in total (including while paused).
    pub received: u64,
    dirty: bool,
}

impl Default for ScanModel {
    fn default() -> Self {
        Self::new()
    }
}

/// The key the manager files a device under.
pub fn canonical_key(key: &str) -> String {
    normalize_address(key)
}

impl ScanModel {
    /// An empty model.
    pub fn new() -> Self {
        Self {
            manager: Manager::new(Config {
                max_devices: MAX_DEVICES * 2,
                max_events: 4096,
                ..Config::default()
            }),
            devices: BTreeMap::new(),
            timeline: VecDeque::new(),
            keys: BTreeMap::new(),
            labels: BTreeMap::new(),
            recording: None,
            paused: false,
            capture_keys: std::collections::BTreeSet::new(),
            received: 0,
            dirty: false,
        }
    }

    /// Whether anything changed since the last call (and clears the flag).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// Marks the model changed (for edits made from outside).
    pub fn touch(&mut self) {
        self.dirty = true;
    }

    /// One advertisement from a source: recorded if recording, then through the manager.
    pub fn ingest(
        &mut self,
        now_ms: u64,
        source: &str,
        key: &str,
        connectable: bool,
        mut adv: Advertisement,
    ) {
        self.received += 1;
        if self.paused {
            return;
        }
        if let Some(lines) = &mut self.recording
            && lines.len() < MAX_RECORDING
        {
            lines
                .push(Record::from_advertisement(now_ms, key, &adv, source, connectable).to_line());
        }
        let canonical = canonical_key(key);
        if adv.address.is_none()
            && let Some(mac) = self.keys.get(&canonical).and_then(|k| k.mac)
        {
            adv.address = Some(mac);
        }
        let raw = RawPacket {
            at_ms: now_ms,
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
        };
        let address = adv.address;
        if self
            .manager
            .ingest(now_ms, source, key, connectable, adv)
            .is_err()
        {
            return;
        }
        self.update_device(now_ms, &canonical, raw, address);
        self.drain(now_ms);
        self.dirty = true;
    }

    /// Runs the manager's timers.
    pub fn advance(&mut self, now_ms: u64) {
        self.manager.advance(now_ms);
        self.drain(now_ms);
    }

    fn update_device(
        &mut self,
        now_ms: u64,
        key: &str,
        raw: RawPacket,
        address: Option<MacAddress>,
    ) {
        let announced = self.manager.announced_mac(key);
        let Some(info) = self.manager.last_service_info(key, false) else {
            return;
        };
        let data = Arc::clone(&info.data);
        let (rssi, source) = (info.rssi, info.source.to_string());
        if !self.devices.contains_key(key) && self.devices.len() >= MAX_DEVICES {
            let oldest = self
                .devices
                .values()
                .min_by_key(|d| d.last_seen_ms)
                .map(|d| d.key.clone());
            if let Some(oldest) = oldest {
                self.devices.remove(&oldest);
            }
        }
        let entry = self
            .devices
            .entry(key.to_owned())
            .or_insert_with(|| DeviceEntry {
                key: key.to_owned(),
                name: None,
                mac: None,
                rssi: None,
                first_seen_ms: now_ms,
                last_seen_ms: now_ms,
                source: String::new(),
                kind: DeviceKind::Other,
                encrypted: false,
                readings: BTreeMap::new(),
                problem: None,
                raw: VecDeque::new(),
                packets: 0,
                data: Arc::clone(&data),
            });
        entry.name.clone_from(&data.name);
        entry.rssi = rssi;
        entry.last_seen_ms = now_ms;
        entry.source = source;
        entry.packets += 1;
        let shelly = data
            .manufacturer_data
            .get(&crate::ble::SHELLY_COMPANY_ID)
            .map(|bytes| manufacturer::parse(bytes));
        entry.mac = address
            .or(announced)
            .or(entry.mac)
            .or_else(|| key.parse().ok());
        entry.kind = classify(&data, shelly.as_ref());
        if entry.raw.len() >= MAX_RAW {
            entry.raw.pop_front();
        }
        entry.raw.push_back(raw);
        entry.data = data;
    }

    fn drain(&mut self, now_ms: u64) {
        let events: Vec<_> = self.manager.drain().collect();
        for output in events {
            if let Event::Reading { key, packet, .. } = output.event {
                self.apply_reading(output.at_ms.max(now_ms), &key, packet);
            }
        }
    }

    fn apply_reading(&mut self, at_ms: u64, key: &str, packet: bthome::Packet) {
        let Some(entry) = self.devices.get_mut(key) else {
            return;
        };
        if let Some(header) = packet.header {
            entry.encrypted = header.encrypted;
        }
        if let Some(mac) = packet.payload_mac {
            entry.mac = Some(mac);
        }
        match &packet.error {
            // Repeats of the same packet are normal (devices send each one several times).
            Some(e) if e.is_rejection() => {}
            Some(e) => {
                entry.problem = Some(DecodeProblem {
                    kind: e.kind(),
                    message: e.to_string(),
                })
            }
            None => entry.problem = None,
        }
        let mut seen: BTreeMap<u8, u8> = BTreeMap::new();
        for object in packet.objects {
            let index = {
                let count = seen.entry(object.id).or_insert(0);
                let index = *count;
                *count = count.saturating_add(1);
                index
            };
            if object.id == 0x00 {
                continue; // packet id: bookkeeping, not a reading
            }
            if object.value.is_event() {
                if let Some(event) = object.value.event() {
                    let detail = match &object.value {
                        Value::Dimmer { steps, .. } => format!("{steps} steps"),
                        Value::Command { args, .. } if !args.is_empty() => {
                            format!("args {}", hex::encode(args))
                        }
                        _ => String::new(),
                    };
                    if self.timeline.len() >= MAX_TIMELINE {
                        self.timeline.pop_front();
                    }
                    self.timeline.push_back(TimelineEntry {
                        at_ms,
                        key: key.to_owned(),
                        object: object.name(),
                        event,
                        detail,
                    });
                }
                continue;
            }
            let reading = entry
                .readings
                .entry((object.id, index))
                .or_insert_with(|| Reading {
                    id: object.id,
                    index,
                    name: object.name(),
                    unit: object.unit(),
                    value: object.value.clone(),
                    at_ms,
                    history: VecDeque::new(),
                });
            if let Some(number) = object.value.as_f64() {
                push_point(&mut reading.history, at_ms, number);
            }
            reading.value = object.value;
            reading.at_ms = at_ms;
        }
    }

    /// Sets (or with `None` removes) a device's bind key and MAC; the next packet uses them.
    pub fn set_key(&mut self, key: &str, entry: Option<KeyEntry>) {
        let key = canonical_key(key);
        self.capture_keys.remove(&key);
        self.manager.set_bindkey(&key, entry.map(|e| e.bindkey));
        match entry {
            Some(e) => {
                if let (Some(mac), Some(device)) = (e.mac, self.devices.get_mut(&key)) {
                    device.mac = Some(mac);
                }
                self.keys.insert(key, e);
            }
            None => {
                self.keys.remove(&key);
            }
        }
        self.dirty = true;
    }

    /// Decodes a replayed device with the bind key its capture carries: for the replay only (never
    /// saved, gone with [`ScanModel::end_capture_keys`]) and never in place of the user's own key.
    pub fn use_capture_key(&mut self, key: &str, bindkey: [u8; 16]) -> CaptureKey {
        let key = canonical_key(key);
        match self.keys.get(&key) {
            Some(own) if own.bindkey == bindkey => CaptureKey::Same,
            Some(_) => CaptureKey::OwnKept,
            None => {
                self.manager.set_bindkey(&key, Some(bindkey));
                self.capture_keys.insert(key);
                CaptureKey::Used
            }
        }
    }

    /// Stops using the bind keys a capture carried (its replay ended or was replaced).
    pub fn end_capture_keys(&mut self) {
        for key in std::mem::take(&mut self.capture_keys) {
            if !self.keys.contains_key(&key) {
                self.manager.set_bindkey(&key, None);
            }
        }
    }

    /// Sets (or with an empty text removes) a device's label.
    pub fn set_label(&mut self, key: &str, label: &str) {
        let label = label.trim();
        if label.is_empty() {
            self.labels.remove(key);
        } else {
            self.labels.insert(key.to_owned(), label.to_owned());
        }
        self.dirty = true;
    }

    /// Starts recording a capture.
    pub fn start_recording(&mut self) {
        self.recording = Some(Vec::new());
        self.dirty = true;
    }

    /// Stops recording and returns the capture file's text.
    pub fn stop_recording(&mut self) -> Option<String> {
        self.dirty = true;
        self.recording.take().map(|lines| {
            let mut text = lines.join("\n");
            text.push('\n');
            text
        })
    }

    /// Forgets every device, reading and event (labels and keys stay).
    pub fn clear(&mut self) {
        let keys: Vec<_> = self.devices.keys().cloned().collect();
        for key in keys {
            self.manager.clear_history(&key);
        }
        self.devices.clear();
        self.timeline.clear();
        self.dirty = true;
    }

    /// Drops history points older than the window.
    pub fn prune(&mut self, now_ms: u64) {
        let cutoff = now_ms.saturating_sub(HISTORY_WINDOW_MS);
        for device in self.devices.values_mut() {
            for reading in device.readings.values_mut() {
                while reading.history.front().is_some_and(|(t, _)| *t < cutoff) {
                    reading.history.pop_front();
                }
            }
        }
    }

    /// The devices to show: matching the filters, the RSSI threshold and the quick search, sorted.
    pub fn visible<'a>(
        &'a self,
        settings: &Settings,
        filters: &FilterSet,
        search: &str,
    ) -> Vec<&'a DeviceEntry> {
        let search = search.trim().to_lowercase();
        let mut list: Vec<&DeviceEntry> = self
            .devices
            .values()
            .filter(|d| filters.matches(&d.key, &d.data))
            .filter(|d| match settings.rssi_threshold {
                Some(min) => d.rssi.is_some_and(|r| r >= min),
                None => true,
            })
            .filter(|d| search.is_empty() || self.search_text(d).contains(&search))
            .collect();
        match settings.sort {
            SortKey::LastSeen => list.sort_by(|a, b| {
                b.last_seen_ms
                    .cmp(&a.last_seen_ms)
                    .then_with(|| a.key.cmp(&b.key))
            }),
            SortKey::Rssi => list.sort_by(|a, b| {
                b.rssi
                    .unwrap_or(i8::MIN)
                    .cmp(&a.rssi.unwrap_or(i8::MIN))
                    .then_with(|| a.key.cmp(&b.key))
            }),
            SortKey::Name => {
                list.sort_by_cached_key(|d| (d.title(&self.labels).to_lowercase(), d.key.clone()))
            }
            SortKey::FirstSeen => list.sort_by(|a, b| {
                a.first_seen_ms
                    .cmp(&b.first_seen_ms)
                    .then_with(|| a.key.cmp(&b.key))
            }),
        }
        list
    }

    fn search_text(&self, d: &DeviceEntry) -> String {
        let mut text = String::new();
        for part in [
            self.labels.get(&d.key).map(String::as_str),
            d.name.as_deref(),
            Some(d.key.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            text.push_str(part);
            text.push(' ');
        }
        if let Some(mac) = d.mac {
            text.push_str(&mac.to_string());
        }
        text.push(' ');
        text.push_str(&d.kind.label());
        text.to_lowercase()
    }

    /// The manager (read-only), for views that show its state.
    pub fn manager(&self) -> &Manager {
        &self.manager
    }

    /// Restores a reading's saved history (after a reload) unless the device already has newer data.
    pub fn restore_history(
        &mut self,
        key: &str,
        name: Option<String>,
        readings: Vec<SavedReading>,
    ) {
        let entry = self
            .devices
            .entry(key.to_owned())
            .or_insert_with(|| DeviceEntry {
                key: key.to_owned(),
                name,
                mac: key.parse().ok(),
                rssi: None,
                first_seen_ms: 0,
                last_seen_ms: 0,
                source: "saved".to_owned(),
                kind: DeviceKind::Other,
                encrypted: false,
                readings: BTreeMap::new(),
                problem: None,
                raw: VecDeque::new(),
                packets: 0,
                data: Arc::new(Advertisement::default()),
            });
        for (id, index, points) in readings {
            let Some(info) = bthome::info(id) else {
                continue;
            };
            let Some(&(at_ms, last)) = points.last() else {
                continue;
            };
            entry.first_seen_ms = if entry.first_seen_ms == 0 {
                points.first().map_or(at_ms, |p| p.0)
            } else {
                entry.first_seen_ms
            };
            entry.last_seen_ms = entry.last_seen_ms.max(at_ms);
            entry
                .readings
                .entry((id, index))
                .or_insert_with(|| Reading {
                    id,
                    index,
                    name: info.name,
                    unit: info.unit,
                    value: Value::Float(last),
                    at_ms,
                    history: points.into_iter().collect(),
                });
        }
        self.dirty = true;
    }
}

/// A saved reading: object id, index among same-id objects, `(time, value)` points.
pub type SavedReading = (u8, u8, Vec<(u64, f64)>);

/// Appends a point unless the last one is within [`HISTORY_STEP_MS`]. Only finite values are
/// history: a NaN or infinite reading (BTHome v1 floats can be) is shown as the latest value but
/// never charted nor saved.
fn push_point(history: &mut VecDeque<(u64, f64)>, at_ms: u64, value: f64) {
    if !value.is_finite() {
        return;
    }
    if history
        .back()
        .is_some_and(|(t, _)| at_ms < t.saturating_add(HISTORY_STEP_MS))
    {
        return;
    }
    let cap = (HISTORY_WINDOW_MS / HISTORY_STEP_MS) as usize + 1;
    if history.len() >= cap {
        history.pop_front();
    }
    history.push_back((at_ms, value));
}

/// What kind of device the merged data says this is.
fn classify(data: &Advertisement, shelly: Option<&manufacturer::ManufacturerData>) -> DeviceKind {
    if let Some(model) = shelly.and_then(|s| s.model())
        && (model.code.starts_with("SB") || bthome::service_data(data).is_some())
    {
        return DeviceKind::ShellyBlu(model);
    }
    match bthome::service_data(data) {
        Some((uuid, _)) if uuid == Uuid::BTHOME_V2 => DeviceKind::BthomeV2,
        Some(_) => DeviceKind::BthomeV1,
        None if shelly.is_some() => DeviceKind::Shelly,
        None if data
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with("Shelly")) =>
        {
            DeviceKind::Shelly
        }
        None => DeviceKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BTHome v2, unencrypted: temperature 25.06 °C, humidity 50.55 % (bthome.io/format example;
    /// also bthome-ble's `test_bthome_temperature_humidity`).
    pub(crate) const TEMP_HUMIDITY: &[u8] = &[0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13];

    fn adv(name: &str, service: &[u8], rssi: i8) -> Advertisement {
        let mut adv = Advertisement {
            name: Some(name.to_owned()),
            rssi: Some(rssi),
            ..Advertisement::default()
        };
        adv.service_data.insert(Uuid::BTHOME_V2, service.to_vec());
        adv
    }

    #[test]
    fn an_advertisement_becomes_a_device_with_decoded_readings() {
        let mut model = ScanModel::new();
        model.ingest(
            1_000,
            "local",
            "dev-1",
            true,
            adv("ATC_1", TEMP_HUMIDITY, -60),
        );
        let device = &model.devices["dev-1"];
        assert_eq!(device.kind, DeviceKind::BthomeV2);
        assert_eq!(device.rssi, Some(-60));
        let temp = &device.readings[&(0x02, 0)];
        assert_eq!(temp.name, "temperature");
        assert_eq!(temp.display(&Settings::default()), "25.06 °C");
        assert_eq!(
            device.readings[&(0x03, 0)].display(&Settings::default()),
            "50.55 %"
        );
        assert!(model.take_dirty());
        assert!(!model.take_dirty());
    }

    #[test]
    fn button_events_go_to_the_timeline_not_the_readings() {
        let mut model = ScanModel::new();
        // 0x00 packet id 1, 0x3A button 0x02 double press (bthome.io/format event objects).
        model.ingest(
            1_000,
            "local",
            "btn",
            true,
            adv("BTN", &[0x44, 0x00, 0x01, 0x3a, 0x02], -50),
        );
        assert_eq!(model.timeline.len(), 1);
        assert_eq!(model.timeline[0].event, "double_press");
        assert!(model.devices["btn"].readings.is_empty());
    }

    #[test]
    fn history_keeps_one_point_per_step() {
        let mut model = ScanModel::new();
        for t in [0u64, 1_000, 5_000, 9_000, 10_000] {
            model.ingest(t + 1, "local", "d", true, adv("d", TEMP_HUMIDITY, -60));
        }
        let history = &model.devices["d"].readings[&(0x02, 0)].history;
        let times: Vec<u64> = history.iter().map(|p| p.0).collect();
        assert_eq!(times, [1, 5_001, 10_001]);
    }

    /// An imported capture's key replaced the user's saved one for that device.
    #[test]
    fn a_capture_key_never_replaces_the_users_key() {
        let mut model = ScanModel::new();
        let own = KeyEntry {
            bindkey: [1; 16],
            mac: None,
        };
        model.set_key("AA:BB:CC:DD:EE:01", Some(own));
        assert_eq!(
            model.use_capture_key("aa:bb:cc:dd:ee:01", [2; 16]),
            CaptureKey::OwnKept
        );
        assert_eq!(model.keys["AA:BB:CC:DD:EE:01"], own);
        assert_eq!(model.manager().bindkey("AA:BB:CC:DD:EE:01"), Some(&[1; 16]));

        // Without a key of the user's, the capture's decodes the replay, and only the replay.
        assert_eq!(
            model.use_capture_key("AA:BB:CC:DD:EE:02", [2; 16]),
            CaptureKey::Used
        );
        assert!(!model.keys.contains_key("AA:BB:CC:DD:EE:02"));
        assert_eq!(model.manager().bindkey("AA:BB:CC:DD:EE:02"), Some(&[2; 16]));
        model.end_capture_keys();
        assert_eq!(model.manager().bindkey("AA:BB:CC:DD:EE:02"), None);
        assert_eq!(model.manager().bindkey("AA:BB:CC:DD:EE:01"), Some(&[1; 16]));
    }

    /// A NaN reading is shown as such but never enters the history (it cannot be saved as JSON).
    #[test]
    fn non_finite_readings_are_shown_not_charted() {
        let mut model = ScanModel::new();
        let mut adv = Advertisement::default();
        // v1 (0x181C): control 0x45 = float, 5 bytes with the id; 0x02 temperature; f32 NaN.
        adv.service_data
            .insert(Uuid::BTHOME_V1, vec![0x45, 0x02, 0x00, 0x00, 0xc0, 0x7f]);
        model.ingest(1_000, "local", "v1", true, adv);
        let reading = &model.devices["v1"].readings[&(0x02, 0)];
        assert_eq!(reading.display(&Settings::default()), "NaN °C");
        assert!(reading.history.is_empty());
    }

    #[test]
    fn paused_model_ignores_input_but_counts_it() {
        let mut model = ScanModel::new();
        model.paused = true;
        model.ingest(1, "local", "d", true, adv("d", TEMP_HUMIDITY, -60));
        assert!(model.devices.is_empty());
        assert_eq!(model.received, 1);
    }

    #[test]
    fn filters_search_and_rssi_threshold_narrow_the_list() {
        let mut model = ScanModel::new();
        model.ingest(1, "local", "a", true, adv("SBHT-003C", TEMP_HUMIDITY, -40));
        model.ingest(2, "local", "b", true, adv("ATC_9", TEMP_HUMIDITY, -90));
        let all = FilterSet::default();
        let mut settings = Settings::default();
        assert_eq!(model.visible(&settings, &all, "").len(), 2);
        let sb = FilterSet::from_json(r#"[{"name":"SB*"}]"#).unwrap();
        let keys: Vec<_> = model
            .visible(&settings, &sb, "")
            .iter()
            .map(|d| d.key.clone())
            .collect();
        assert_eq!(keys, ["a"]);
        assert_eq!(model.visible(&settings, &all, "atc").len(), 1);
        settings.rssi_threshold = Some(-70);
        assert_eq!(model.visible(&settings, &all, "").len(), 1);
    }

    #[test]
    fn sorting_by_rssi_puts_the_strongest_first() {
        let mut model = ScanModel::new();
        model.ingest(1, "local", "weak", true, adv("w", TEMP_HUMIDITY, -90));
        model.ingest(2, "local", "strong", true, adv("s", TEMP_HUMIDITY, -30));
        let settings = Settings {
            sort: SortKey::Rssi,
            ..Settings::default()
        };
        let keys: Vec<_> = model
            .visible(&settings, &FilterSet::default(), "")
            .iter()
            .map(|d| d.key.as_str())
            .collect();
        assert_eq!(keys, ["strong", "weak"]);
    }

    #[test]
    fn the_device_table_is_bounded() {
        let mut model = ScanModel::new();
        for i in 0..(MAX_DEVICES as u64 + 5) {
            model.ingest(
                i + 1,
                "local",
                &format!("d{i}"),
                true,
                adv("x", TEMP_HUMIDITY, -60),
            );
        }
        assert_eq!(model.devices.len(), MAX_DEVICES);
        assert!(!model.devices.contains_key("d0"));
    }

    #[test]
    fn recording_writes_capture_lines_that_parse_back() {
        let mut model = ScanModel::new();
        model.start_recording();
        model.ingest(1_500, "local", "dev", true, adv("n", TEMP_HUMIDITY, -60));
        let text = model.stop_recording().unwrap();
        let capture = super::super::capture::parse(&text, "capture");
        assert_eq!(capture.records.len(), 1);
        assert_eq!(capture.records[0].key, "dev");
        assert!(capture.timed);
    }
}
