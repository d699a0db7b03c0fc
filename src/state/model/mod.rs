//! The Scan page's model: everything the page shows, built from what the core manager says.
//!
//! Live advertisements enter through [`ScanModel::ingest`], which hands them to the core
//! [`Manager`]. The manager's device table is the one record of the devices (name, data, RSSI,
//! best source, times, MAC, kind, bind keys); the model keeps only what is the page's own: each
//! device's readings with their history (from the manager's `Reading` events), its latest raw
//! packets and decode verdict ([`DeviceRecord`]), the timeline of events, labels, and a
//! recording. [`DeviceEntry`] joins the two for the views ([`query`]). Everything here is a plain
//! function of its inputs (time is an argument), so it is unit-tested natively.
//!
//! Memory is bounded: [`MAX_DEVICES`] devices (the manager evicts the least recently heard, and
//! its record goes with it), [`MAX_TIMELINE`] events, [`MAX_RAW`] raw packets per device, one
//! history point per reading per [`HISTORY_STEP_MS`] over [`HISTORY_WINDOW_MS`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bluehome_core::bthome::{self, BindKey, Value};
use bluehome_core::capture::Record;
use bluehome_core::manager::{Config, Event, Manager, ScannerKind};
use bluehome_core::{Advertisement, Connectable, DeviceKey, MacAddress};

mod entry;
pub mod format;
pub mod query;

pub use entry::{DecodeProblem, DeviceEntry, DeviceRecord, RawPacket, Reading, TimelineEntry};
pub use format::{format_number, kind_class, object_text, reading_key, value_text};

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
    /// The key.
    pub bindkey: BindKey,
    /// The device's MAC, for devices the browser names by an opaque id.
    pub mac: Option<MacAddress>,
}

/// The model. See the module documentation.
#[derive(Debug)]
pub struct ScanModel {
    manager: Manager,
    /// What the page keeps of each device itself.
    records: BTreeMap<DeviceKey, DeviceRecord>,
    /// Events, oldest first.
    pub timeline: VecDeque<TimelineEntry>,
    /// User labels by device.
    pub labels: BTreeMap<DeviceKey, String>,
    /// Capture lines while recording.
    pub recording: Option<Vec<String>>,
    /// Live input is ignored while paused.
    pub paused: bool,
    /// Devices decoding with a bind key an imported capture carried (never saved).
    capture_keys: BTreeSet<DeviceKey>,
    /// Advertisements received in total (including while paused).
    pub received: u64,
    dirty: bool,
}

impl Default for ScanModel {
    fn default() -> Self {
        Self::new()
    }
}

impl ScanModel {
    /// An empty model.
    pub fn new() -> Self {
        Self {
            manager: Manager::new(Config {
                max_devices: MAX_DEVICES,
                max_events: 4096,
                ..Config::default()
            }),
            records: BTreeMap::new(),
            timeline: VecDeque::new(),
            labels: BTreeMap::new(),
            recording: None,
            paused: false,
            capture_keys: BTreeSet::new(),
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

    /// The manager (read-only), for views that show its state.
    pub fn manager(&self) -> &Manager {
        &self.manager
    }

    /// One advertisement from a source: recorded if recording, then through the manager.
    pub fn ingest(
        &mut self,
        now_ms: u64,
        source: &str,
        key: &DeviceKey,
        connectable: Connectable,
        adv: Advertisement,
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
        let raw = RawPacket::of(now_ms, &adv);
        self.manager.ingest(now_ms, source, key, connectable, adv);
        let record = self
            .records
            .entry(self.manager.device_key(key))
            .or_default();
        if record.raw.len() >= MAX_RAW {
            record.raw.pop_front();
        }
        record.raw.push_back(raw);
        self.drain(now_ms);
        self.dirty = true;
    }

    /// Names `source` a polled scanner (a Shelly gateway's relay list) before its first packet:
    /// its advertisements are late reports ([`ScannerKind::Polled`]). A source registered
    /// already stays as it is (the manager refuses it twice).
    pub fn polled_source(&mut self, now_ms: u64, source: &str) {
        let _ = self
            .manager
            .register_scanner(now_ms, source, Connectable::No, ScannerKind::Polled);
    }

    /// BTHome objects a remote scanner decoded itself (a Shelly gateway's sensor values): a
    /// reading like any other, without a packet to record or show raw.
    pub fn ingest_objects(
        &mut self,
        now_ms: u64,
        source: &str,
        key: &DeviceKey,
        objects: Vec<bthome::Object>,
    ) {
        self.received += 1;
        if self.paused {
            return;
        }
        self.manager.ingest_objects(now_ms, source, key, objects);
        self.drain(now_ms);
        self.dirty = true;
    }

    /// Runs the manager's timers.
    pub fn advance(&mut self, now_ms: u64) {
        self.manager.advance(now_ms);
        self.drain(now_ms);
    }

    fn drain(&mut self, now_ms: u64) {
        let events: Vec<_> = self.manager.drain().collect();
        for output in events {
            match output.event {
                Event::Reading { key, packet, .. } => {
                    self.apply_reading(output.at_ms.max(now_ms), key, packet);
                }
                Event::Evicted { key } => {
                    self.records.remove(&key);
                }
                // The row of a gateway's report joins the device's own with its history, raw
                // packets and events; a label given to it goes along where the device has none.
                Event::Merged { from, into } => {
                    if let Some(earlier) = self.records.remove(&from) {
                        self.records
                            .entry(into.clone())
                            .or_default()
                            .take_in(earlier);
                    }
                    for event in self.timeline.iter_mut().filter(|e| e.key == from) {
                        event.key = into.clone();
                    }
                    if let Some(label) = self.labels.get(&from).cloned() {
                        self.labels.entry(into).or_insert(label);
                    }
                }
                _ => {}
            }
        }
    }

    fn apply_reading(&mut self, at_ms: u64, key: DeviceKey, packet: bthome::Packet) {
        let entry = self.records.entry(key.clone()).or_default();
        if let Some(header) = packet.header {
            entry.encrypted = header.encrypted;
        }
        match &packet.error {
            // Repeats of the same packet are normal (devices send each one several times). A
            // downgrade's refusal stands too (the security rule: bthome-ble ignores plaintext from
            // a device with a key and sets `downgrade_detected`), but the device's readings stop
            // with it, so the page says why and what to do.
            Some(e) if e.is_rejection() && *e != bthome::Error::Downgrade => {}
            Some(e) => entry.problem = Some(DecodeProblem::new(e.clone())),
            None => entry.problem = None,
        }
        // Home Assistant's names (bthome-ble's keys): `temperature_2` when the packet has more
        // than one temperature in °C, `temperature` when it has one.
        let labels = bthome::entity_keys(&packet.objects);
        let mut seen: BTreeMap<u8, u8> = BTreeMap::new();
        for (object, label) in packet.objects.into_iter().zip(labels) {
            let label = label.replace('_', " ");
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
                    if self.timeline.len() >= MAX_TIMELINE {
                        self.timeline.pop_front();
                    }
                    self.timeline.push_back(TimelineEntry {
                        at_ms,
                        key: key.clone(),
                        object: object.name(),
                        label,
                        event,
                        detail: format::event_detail(&object.value),
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
                    label: String::new(),
                    unit: object.unit(),
                    value: object.value.clone(),
                    at_ms,
                    history: VecDeque::new(),
                });
            reading.label = label;
            if let Some(number) = object.value.as_f64() {
                push_point(&mut reading.history, at_ms, number);
            }
            reading.value = object.value;
            reading.at_ms = at_ms;
        }
    }

    /// The user's bind key (and MAC) for a device, when there is one.
    pub fn key_entry(&self, key: &DeviceKey) -> Option<KeyEntry> {
        if self.capture_keys.contains(key) {
            return None;
        }
        let bindkey = *self.manager.bindkey(key)?;
        Some(KeyEntry {
            bindkey,
            mac: self.manager.given_mac(key),
        })
    }

    /// Every bind key the user entered, by device (never those a capture carried).
    pub fn key_entries(&self) -> impl Iterator<Item = (&DeviceKey, KeyEntry)> {
        self.manager
            .bindkeys()
            .filter(|(key, _)| !self.capture_keys.contains(*key))
            .map(|(key, bindkey)| {
                let mac = self.manager.given_mac(key);
                (
                    key,
                    KeyEntry {
                        bindkey: *bindkey,
                        mac,
                    },
                )
            })
    }

    /// Sets (or with `None` removes) a device's bind key and MAC; the next packet uses them.
    pub fn set_key(&mut self, key: &DeviceKey, entry: Option<KeyEntry>) {
        self.capture_keys.remove(key);
        // Without a key, plaintext is no longer refused: the explanation goes with the key.
        if entry.is_none()
            && let Some(record) = self.records.get_mut(key)
            && record
                .problem
                .as_ref()
                .is_some_and(DecodeProblem::is_downgrade)
        {
            record.problem = None;
        }
        self.manager.set_bindkey(key, entry.map(|e| e.bindkey));
        self.manager.set_mac(key, entry.and_then(|e| e.mac));
        self.dirty = true;
    }

    /// Decodes a replayed device with the bind key its capture carries: for the replay only (never
    /// saved, gone with [`ScanModel::end_capture_keys`]) and never in place of the user's own key.
    pub fn use_capture_key(&mut self, key: &DeviceKey, bindkey: BindKey) -> CaptureKey {
        match self.key_entry(key) {
            Some(own) if own.bindkey == bindkey => CaptureKey::Same,
            Some(_) => CaptureKey::OwnKept,
            None => {
                self.manager.set_bindkey(key, Some(bindkey));
                self.capture_keys.insert(key.clone());
                CaptureKey::Used
            }
        }
    }

    /// Stops using the bind keys a capture carried (its replay ended or was replaced).
    pub fn end_capture_keys(&mut self) {
        for key in std::mem::take(&mut self.capture_keys) {
            self.manager.set_bindkey(&key, None);
        }
    }

    /// Sets (or with an empty text removes) a device's label.
    pub fn set_label(&mut self, key: &DeviceKey, label: &str) {
        let label = label.trim();
        if label.is_empty() {
            self.labels.remove(key);
        } else {
            self.labels.insert(key.clone(), label.to_owned());
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
        let keys: Vec<DeviceKey> = self.manager.devices().map(|d| d.key().clone()).collect();
        for key in keys {
            self.manager.clear_history(&key);
        }
        self.records.clear();
        self.timeline.clear();
        self.dirty = true;
    }

    /// Drops history points older than the window.
    pub fn prune(&mut self, now_ms: u64) {
        let cutoff = now_ms.saturating_sub(HISTORY_WINDOW_MS);
        for record in self.records.values_mut() {
            for (_, reading) in record.readings.iter_mut() {
                while reading.history.front().is_some_and(|(t, _)| *t < cutoff) {
                    reading.history.pop_front();
                }
            }
        }
    }

    /// Restores a device's saved history (after a reload), reading by reading, unless the device
    /// already has that reading. Readings without points are not restored.
    pub fn restore_history(
        &mut self,
        key: &DeviceKey,
        name: Option<String>,
        mut readings: Vec<SavedReading>,
    ) {
        // Named as the packet that sent them named them: in id order, the order BTHome asks
        // devices to send objects in (bthome.io/format).
        readings.sort_by_key(|(id, index, _)| (*id, *index));
        let objects: Vec<bthome::Object> = readings
            .iter()
            .map(|(id, _, _)| bthome::Object::new(*id, Value::Float(0.0)))
            .collect();
        let labels = bthome::entity_keys(&objects);
        for ((id, index, points), label) in readings.into_iter().zip(labels) {
            let Some(info) = bthome::info(id) else {
                continue;
            };
            let Some(&(at_ms, last)) = points.last() else {
                continue;
            };
            let record = self.records.entry(key.clone()).or_default();
            if record.saved_name.is_none() {
                record.saved_name.clone_from(&name);
            }
            record
                .readings
                .entry((id, index))
                .or_insert_with(|| Reading {
                    id,
                    index,
                    name: info.name,
                    label: label.replace('_', " "),
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

#[cfg(test)]
mod tests {
    use bluehome_core::filter::FilterSet;
    use bluehome_core::{DeviceKind, Uuid};

    use super::*;
    use crate::ble::mock::bthome_sensor as adv;
    use crate::state::settings::{Settings, SortKey};

    fn key(text: &str) -> DeviceKey {
        text.parse().unwrap()
    }

    /// BTHome v2, unencrypted: temperature 25.06 °C, humidity 50.55 % (bthome.io/format example;
    /// also bthome-ble's `test_bthome_temperature_humidity`).
    pub(crate) const TEMP_HUMIDITY: &[u8] = &[0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13];

    /// The user sets `device`'s bind key to sixteen `byte`s (no MAC); returns the entry.
    fn user_key(model: &mut ScanModel, device: &str, byte: u8) -> KeyEntry {
        let entry = KeyEntry {
            bindkey: BindKey::new([byte; 16]),
            mac: None,
        };
        model.set_key(&key(device), Some(entry));
        entry
    }

    /// `model` hears `adv` from the device `id` at `t`, through the local (connectable) scanner.
    fn hear(model: &mut ScanModel, t: u64, id: &str, adv: Advertisement) {
        model.ingest(t, "local", &key(id), Connectable::Yes, adv);
    }

    #[test]
    fn an_advertisement_becomes_a_device_with_decoded_readings() {
        let mut model = ScanModel::new();
        hear(&mut model, 1_000, "dev-1", adv("ATC_1", TEMP_HUMIDITY, -60));
        let device = model.device(&key("dev-1")).unwrap();
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
        model.touch();
        assert!(model.take_dirty(), "an edit from outside");
    }

    #[test]
    fn button_events_go_to_the_timeline_not_the_readings() {
        let mut model = ScanModel::new();
        // 0x00 packet id 1, 0x3A button 0x02 double press (bthome.io/format event objects).
        hear(
            &mut model,
            1_000,
            "btn",
            adv("BTN", &[0x44, 0x00, 0x01, 0x3a, 0x02], -50),
        );
        assert_eq!(model.timeline.len(), 1);
        assert_eq!(model.timeline[0].event, "double_press");
        assert!(model.device(&key("btn")).unwrap().readings.is_empty());
    }

    /// A gateway reports a sensor by MAC before the browser hears it under its own id: once the
    /// sensor announces its MAC (Shelly manufacturer data), the two rows are one, and what the
    /// gateway's row had goes along: its label, its readings' history, raw packets and events.
    #[test]
    fn a_gateway_row_joins_the_sensor_that_announces_its_mac() {
        let mut model = ScanModel::new();
        let mac = key("66:55:44:33:22:11");
        let report = adv("", TEMP_HUMIDITY, -70);
        model.polled_source(0, "shelly:gw");
        model.ingest(1_000, "shelly:gw", &mac, Connectable::No, report.clone());
        let press = adv("", &[0x40, 0x3a, 0x01], -70);
        model.ingest(1_500, "shelly:gw", &mac, Connectable::No, press);
        model.set_label(&mac, "Hall");
        let mut announcing = adv("SBHT-003C", TEMP_HUMIDITY, -50);
        // Flags, model and MAC blocks (the MAC block least significant byte first).
        announcing.manufacturer_data.insert(
            bluehome_core::shelly::COMPANY_ID,
            vec![0x01, 0x01, 0x00, 0x0a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66],
        );
        hear(&mut model, 2_000, "bRoWsErId==", announcing);
        let browser = key("bRoWsErId==");
        assert_eq!(model.manager().device_count(), 1);
        assert!(model.device(&mac).is_none());
        assert_eq!(model.labels.get(&browser).map(String::as_str), Some("Hall"));
        // What the gateway's row had heard goes along: the history, the raw packets, the press.
        let joined = model.device(&browser).unwrap();
        let temperature = joined.readings.get(&(0x02, 0)).unwrap();
        assert_eq!(temperature.history.front().map(|p| p.0), Some(1_000));
        assert_eq!(joined.raw.len(), 3);
        assert_eq!(model.timeline.back().map(|e| &e.key), Some(&browser));
        model.ingest(8_000, "shelly:gw", &mac, Connectable::No, report);
        assert_eq!(model.device(&browser).unwrap().packets, 2);
    }

    /// A polled gateway lists the last advertisement it heard of each device, so a press can come
    /// back after a newer packet: past bthome-ble's 4 s window, it is a late copy, neither a
    /// second press nor a problem to show. Heard straight from a remote scanner, it would count
    /// again (bthome-ble takes an older packet id once 4 s have passed).
    #[test]
    fn a_polled_gateways_late_copy_is_no_second_press_and_no_problem() {
        let press = adv("", &[0x44, 0x00, 0x07, 0x3a, 0x01], -70);
        let newer = adv("", &[0x44, 0x00, 0x08, 0x02, 0xca, 0x09], -70);
        let presses = |polled: bool| {
            let mut model = ScanModel::new();
            if polled {
                model.polled_source(0, "shelly:gw");
            }
            let mac = key("66:55:44:33:22:11");
            for (t, packet) in [(1_000, &press), (3_000, &newer), (8_000, &press)] {
                model.ingest(t, "shelly:gw", &mac, Connectable::No, packet.clone());
            }
            let problem = model.device(&mac).and_then(|d| d.problem.cloned());
            (model.timeline.len(), problem)
        };
        assert_eq!(presses(true), (1, None));
        assert_eq!(presses(false).0, 2);
    }

    /// Values a gateway decoded itself are readings like any other, counted as received.
    #[test]
    fn a_gateways_decoded_values_are_readings() {
        let mut model = ScanModel::new();
        let mac = key("66:55:44:33:22:11");
        let objects = bthome::decode_v2(TEMP_HUMIDITY, None, None).objects;
        model.ingest_objects(1_000, "shelly:gw", &mac, objects);
        assert_eq!(model.received, 1);
        assert!(model.take_dirty());
        let device = model.device(&mac).unwrap();
        assert_eq!(
            device.readings[&(0x02, 0)].display(&Settings::default()),
            "25.06 °C"
        );
        assert!(device.raw.is_empty(), "no packet to show raw");
    }

    /// A button without packet ids sends each press several times with the same data; Home
    /// Assistant's manager passes an unchanged advertisement to nobody (home-assistant/core PR
    /// #78609), so it is one press.
    #[test]
    fn a_repeated_advertisement_is_one_event() {
        let mut model = ScanModel::new();
        // BTHome v2, 0x3A button 0x01 press, no packet id.
        for t in [1_000, 1_100, 1_200] {
            hear(&mut model, t, "btn", adv("BTN", &[0x40, 0x3a, 0x01], -50));
        }
        assert_eq!(model.timeline.len(), 1, "{:?}", model.timeline);
        let device = model.device(&key("btn")).unwrap();
        assert_eq!((device.packets, device.last_seen_ms), (3, 1_200));
    }

    /// A Shelly BLU RC Button 4 sends four button objects, `3A 00` ("none") for the keys not
    /// pressed; BTHome numbers repeated objects by order, placeholders included (bthome.io/format,
    /// "Multiple measurements of the same type"; bthome-ble's test
    /// `test_bthome_event_triple_button_device`: `3A00 3A01 3A03` is `button_2` press and
    /// `button_3` triple press). A press on key 1 and one on key 2 must not look alike.
    #[test]
    fn each_key_of_a_four_button_remote_is_named() {
        let mut model = ScanModel::new();
        let key1 = [
            0x44, 0x00, 0x01, 0x3a, 0x01, 0x3a, 0x00, 0x3a, 0x00, 0x3a, 0x00,
        ];
        let key2 = [
            0x44, 0x00, 0x02, 0x3a, 0x00, 0x3a, 0x01, 0x3a, 0x00, 0x3a, 0x00,
        ];
        hear(&mut model, 1_000, "rc4", adv("SBBT-004CUS", &key1, -50));
        hear(&mut model, 2_000, "rc4", adv("SBBT-004CUS", &key2, -50));
        let shown: Vec<String> = model
            .timeline
            .iter()
            .map(|e| format!("{} {}", e.label, e.event))
            .collect();
        assert_eq!(shown, ["button 1 press", "button 2 press"]);
    }

    /// A BLU TRV sends three 0x45 temperatures. Two objects of different ids that measure the
    /// same thing in the same unit are numbered too, as bthome-ble numbers them (its test
    /// `test_bthome_double_voltage_different_object_id`: 0x0C and 0x4A are `voltage_1`,
    /// `voltage_2`); a single one keeps its plain name.
    #[test]
    fn repeated_readings_are_numbered_and_single_ones_are_not() {
        let labels = |model: &ScanModel, id: &str| -> Vec<String> {
            model
                .device(&key(id))
                .unwrap()
                .readings
                .values()
                .map(|r| format!("{} {}", r.label, r.display(&Settings::default())))
                .collect()
        };
        let mut model = ScanModel::new();
        // Battery 90 %, then 0x45 temperatures 21.0, 19.5 and -2.0 °C.
        let trv = [
            0x40, 0x01, 0x5a, 0x45, 0xd2, 0x00, 0x45, 0xc3, 0x00, 0x45, 0xec, 0xff,
        ];
        hear(&mut model, 1_000, "trv", adv("SBTR-001AEU", &trv, -60));
        assert_eq!(
            labels(&model, "trv"),
            [
                "battery 90 %",
                "temperature 1 21 °C",
                "temperature 2 19.5 °C",
                "temperature 3 -2 °C"
            ]
        );
        // 0x02 and 0x45 are both a temperature in °C.
        hear(
            &mut model,
            1_000,
            "two",
            adv("two", &[0x40, 0x02, 0xca, 0x09, 0x45, 0x11, 0x01], -60),
        );
        assert_eq!(
            labels(&model, "two"),
            ["temperature 1 25.06 °C", "temperature 2 27.3 °C"]
        );
        hear(&mut model, 1_000, "one", adv("one", TEMP_HUMIDITY, -60));
        assert_eq!(
            labels(&model, "one"),
            ["temperature 25.06 °C", "humidity 50.55 %"]
        );

        // Readings restored from saved history are named the same way.
        let mut restored = ScanModel::new();
        let point = |v: f64| vec![(1_000, v)];
        restored.restore_history(
            &key("trv"),
            None,
            vec![
                (0x01, 0, point(90.0)),
                (0x45, 0, point(21.0)),
                (0x45, 1, point(19.5)),
                (0x45, 2, point(-2.0)),
            ],
        );
        assert_eq!(labels(&restored, "trv"), labels(&model, "trv"));
    }

    #[test]
    fn history_keeps_one_point_per_step() {
        let mut model = ScanModel::new();
        for t in [0u64, 1_000, 5_000, 9_000, 10_000] {
            hear(&mut model, t + 1, "d", adv("d", TEMP_HUMIDITY, -60));
        }
        let history = &model.device(&key("d")).unwrap().readings[&(0x02, 0)].history;
        let times: Vec<u64> = history.iter().map(|p| p.0).collect();
        assert_eq!(times, [1, 5_001, 10_001]);
        // The window holds one point per step, both ends included, and no more.
        let per_window = HISTORY_WINDOW_MS / HISTORY_STEP_MS + 1;
        for step in 3..per_window + 10 {
            let t = step * HISTORY_STEP_MS + 1;
            hear(&mut model, t, "d", adv("d", TEMP_HUMIDITY, -60));
        }
        let history = &model.device(&key("d")).unwrap().readings[&(0x02, 0)].history;
        assert_eq!(history.len() as u64, per_window);
    }

    /// Pruning drops the points older than the window; one exactly at its start stays.
    #[test]
    fn pruning_drops_points_older_than_the_window() {
        let mut model = ScanModel::new();
        for t in [1, 5_001, 10_001] {
            hear(&mut model, t, "d", adv("d", TEMP_HUMIDITY, -60));
        }
        model.prune(HISTORY_WINDOW_MS + 5_001);
        let history = &model.device(&key("d")).unwrap().readings[&(0x02, 0)].history;
        let times: Vec<u64> = history.iter().map(|p| p.0).collect();
        assert_eq!(times, [5_001, 10_001]);
    }

    #[test]
    fn the_chart_ends_on_the_latest_reading_between_history_points() {
        let mut model = ScanModel::new();
        hear(&mut model, 1, "d", adv("d", TEMP_HUMIDITY, -60));
        // 2 s later, within the history's step: 25.50 °C instead of 25.06 °C.
        hear(
            &mut model,
            2_001,
            "d",
            adv("d", &[0x40, 0x02, 0xf6, 0x09], -60),
        );
        let reading = &model.device(&key("d")).unwrap().readings[&(0x02, 0)];
        assert_eq!(reading.history, [(1, 25.06)]);
        assert_eq!(reading.chart_points(), [(1, 25.06), (2_001, 25.5)]);
        // A latest reading that is the history's last point is charted once.
        let humidity = &model.device(&key("d")).unwrap().readings[&(0x03, 0)];
        assert_eq!(humidity.chart_points(), [(1, 50.55)]);
    }

    /// A device is called by the user's label, else by its own name, else by its key; a name's
    /// control characters and direction overrides are shown as escapes, never obeyed.
    #[test]
    fn a_device_is_called_by_label_then_name_then_key() {
        let mut model = ScanModel::new();
        hear(
            &mut model,
            1,
            "named",
            adv("ATC\u{202e}1", TEMP_HUMIDITY, -60),
        );
        hear(&mut model, 1, "nameless", adv("", TEMP_HUMIDITY, -60));
        let title = |model: &ScanModel, id: &str| {
            let device = model.device(&key(id)).unwrap();
            (
                device.title(&model.labels).to_owned(),
                device.shown_title(&model.labels),
            )
        };
        let (plain, shown) = title(&model, "named");
        assert_eq!(plain, "ATC\u{202e}1");
        assert!(
            !shown.contains('\u{202e}') && shown.starts_with("ATC"),
            "{shown}"
        );
        assert_eq!(title(&model, "nameless").0, "nameless");
        model.set_label(&key("named"), "Hall");
        assert_eq!(title(&model, "named"), ("Hall".into(), "Hall".into()));
    }

    /// A device known only from saved history was first and last seen at its points' ends.
    #[test]
    fn a_restored_device_spans_its_saved_points() {
        let mut model = ScanModel::new();
        let points = vec![(1_000, 20.0), (6_000, 21.0)];
        model.restore_history(&key("d"), Some("Hall".into()), vec![(0x02, 0, points)]);
        let device = model.device(&key("d")).unwrap();
        assert_eq!((device.first_seen_ms, device.last_seen_ms), (1_000, 6_000));
        assert_eq!((device.source, device.name), ("saved", Some("Hall")));
    }

    /// Records joined (a gateway's row and the device's own) keep a reading's newer latest
    /// value, whichever record has it, and both histories.
    #[test]
    fn a_joined_reading_keeps_the_newer_latest_value() {
        let reading = |at_ms, value| Reading {
            id: 0x02,
            index: 0,
            name: "temperature",
            label: "temperature".into(),
            unit: Some("°C"),
            value: Value::Float(value),
            at_ms,
            history: VecDeque::from([(at_ms, value)]),
        };
        let joined = |mine: Reading, theirs: Reading| {
            let record = |r: Reading| {
                let mut record = DeviceRecord::default();
                record.readings.insert((r.id, r.index), r);
                record
            };
            let mut mine = record(mine);
            mine.take_in(record(theirs));
            let r = &mine.readings[&(0x02, 0)];
            (r.value.clone(), r.at_ms, r.history.len())
        };
        let newer = (Value::Float(21.0), 9_000, 2);
        assert_eq!(joined(reading(1_000, 20.0), reading(9_000, 21.0)), newer);
        assert_eq!(joined(reading(9_000, 21.0), reading(1_000, 20.0)), newer);
    }

    /// The card and the chart start with temperature and humidity, then other measurements,
    /// then states that are no number, battery and voltage last.
    #[test]
    fn readings_are_ordered_by_how_much_people_look_at_them() {
        let mut model = ScanModel::new();
        // Battery 0x01, temperature 0x02, illuminance 0x05, voltage 0x0C, humidity 0x2E (the
        // 1-byte one), text 0x53 and conductivity 0x56 (bthome.io/format object ids).
        let packet = [
            0x40, 0x01, 0x5d, 0x02, 0xca, 0x09, 0x05, 0x13, 0x8a, 0x14, 0x0c, 0x02, 0x0c, 0x2e,
            0x32, 0x53, 0x02, 0x68, 0x69, 0x56, 0xe8, 0x03,
        ];
        hear(&mut model, 1, "d", adv("d", &packet, -60));
        let device = model.device(&key("d")).unwrap();
        let mut readings: Vec<_> = device.readings.values().collect();
        readings.sort_by_key(|r| (r.prominence(), r.id));
        let names: Vec<&str> = readings.iter().map(|r| r.name).collect();
        assert_eq!(
            names,
            [
                "temperature",
                "humidity",
                "illuminance",
                "conductivity",
                "text",
                "battery",
                "voltage"
            ]
        );
    }

    /// An imported capture's key replaced the user's saved one for that device.
    #[test]
    fn a_capture_key_never_replaces_the_users_key() {
        let mut model = ScanModel::new();
        let own = user_key(&mut model, "AA:BB:CC:DD:EE:01", 1);
        assert_eq!(
            model.use_capture_key(&key("aa:bb:cc:dd:ee:01"), BindKey::new([2; 16])),
            CaptureKey::OwnKept
        );
        assert_eq!(model.key_entry(&key("AA:BB:CC:DD:EE:01")).unwrap(), own);
        assert_eq!(
            model.use_capture_key(&key("AA:BB:CC:DD:EE:01"), own.bindkey),
            CaptureKey::Same
        );
        assert_eq!(
            model.manager().bindkey(&key("AA:BB:CC:DD:EE:01")),
            Some(&BindKey::new([1; 16]))
        );

        // Without a key of the user's, the capture's decodes the replay, and only the replay.
        assert_eq!(
            model.use_capture_key(&key("AA:BB:CC:DD:EE:02"), BindKey::new([2; 16])),
            CaptureKey::Used
        );
        assert!(model.key_entry(&key("AA:BB:CC:DD:EE:02")).is_none());
        assert_eq!(
            model.manager().bindkey(&key("AA:BB:CC:DD:EE:02")),
            Some(&BindKey::new([2; 16]))
        );
        model.end_capture_keys();
        assert_eq!(model.manager().bindkey(&key("AA:BB:CC:DD:EE:02")), None);
        assert_eq!(
            model.manager().bindkey(&key("AA:BB:CC:DD:EE:01")),
            Some(&BindKey::new([1; 16]))
        );
    }

    /// With a bind key set, plaintext is refused as a possible downgrade (bthome-ble's
    /// `downgrade_detected`): the device's readings stop, and the page says why.
    #[test]
    fn plaintext_refused_for_a_keyed_device_is_explained() {
        const DEVICE: &str = "AA:BB:CC:DD:EE:07";
        let mut model = ScanModel::new();
        user_key(&mut model, DEVICE, 7);
        // BTHome v2, unencrypted: temperature 0x09NN × 0.01 °C (25.06 °C for 0xca).
        let plaintext = |model: &mut ScanModel, t, low: u8| {
            hear(model, t, DEVICE, adv("t", &[0x40, 0x02, low, 0x09], -60));
        };
        plaintext(&mut model, 1_000, 0xca);
        let device = model.device(&key(DEVICE)).unwrap();
        assert!(device.readings.is_empty());
        let problem = device.problem.expect("the refusal is explained");
        assert!(problem.is_downgrade());
        let said = problem.to_string();
        assert!(said.contains("bind key"), "{said}");
        assert!(said.starts_with("Unencrypted data refused"), "{said}");

        // Forgetting the key (as the message advises) takes the explanation away at once, and
        // the next packet decodes.
        model.set_key(&key(DEVICE), None);
        assert!(model.device(&key(DEVICE)).unwrap().problem.is_none());
        plaintext(&mut model, 2_000, 0xcb);
        let device = model.device(&key(DEVICE)).unwrap();
        assert_eq!(device.readings.len(), 1);
        assert!(device.problem.is_none());

        // Only that explanation goes with the key: a packet's own fault stays said.
        hear(
            &mut model,
            3_000,
            DEVICE,
            adv("t", &[0x40, 0x02, 0xcc], -60),
        );
        model.set_key(&key(DEVICE), None);
        let problem = model.device(&key(DEVICE)).unwrap().problem;
        assert!(problem.is_some_and(|p| !p.is_downgrade()), "{problem:?}");
    }

    /// A problem is said in words with what to do, never as the core's code; the ones a key
    /// (and MAC) would solve say so, so the card can offer to enter one.
    #[test]
    fn decode_problems_are_said_in_words_with_what_to_do() {
        use bthome::Error;
        let cases = [
            (Error::MissingKey, true, "Encrypted: needs its bind key."),
            (Error::MissingMac, true, "enter its MAC with the key"),
            (
                Error::MicFailure { offset: 9 },
                true,
                "the bind key or the MAC is wrong",
            ),
            (Error::Downgrade, false, "forget the key"),
            (
                Error::UnknownObject {
                    offset: 3,
                    id: 0xfe,
                },
                false,
                "Not readable: unknown object id 0xfe at byte 3",
            ),
        ];
        for (error, needs_key, words) in cases {
            let problem = DecodeProblem::new(error.clone());
            let said = problem.to_string();
            assert_eq!(problem.needs_key(), needs_key, "{error:?}");
            assert!(said.contains(words), "{error:?}: {said}");
            assert!(!said.contains(error.kind()), "{error:?} in words: {said}");
            assert_eq!(problem.error(), &error);
        }
    }

    /// A NaN reading is shown as such but never enters the history (it cannot be saved as JSON).
    #[test]
    fn non_finite_readings_are_shown_not_charted() {
        let mut model = ScanModel::new();
        let mut adv = Advertisement::default();
        // v1 (0x181C): control 0x45 = float, 5 bytes with the id; 0x02 temperature; f32 NaN.
        adv.service_data
            .insert(Uuid::BTHOME_V1, vec![0x45, 0x02, 0x00, 0x00, 0xc0, 0x7f]);
        hear(&mut model, 1_000, "v1", adv);
        let reading = &model.device(&key("v1")).unwrap().readings[&(0x02, 0)];
        assert_eq!(reading.display(&Settings::default()), "NaN °C");
        assert!(reading.history.is_empty());
    }

    /// "Clear" forgets what was heard (devices, readings, events) and keeps what the user gave
    /// (labels, keys).
    #[test]
    fn clearing_forgets_what_was_heard_and_keeps_labels_and_keys() {
        let mut model = ScanModel::new();
        let entry = user_key(&mut model, "keyed", 1);
        hear(
            &mut model,
            1_000,
            "btn",
            adv("BTN", &[0x40, 0x3a, 0x01], -50),
        );
        hear(&mut model, 1_000, "d", adv("d", TEMP_HUMIDITY, -60));
        model.set_label(&key("d"), "Hall");
        assert_eq!(model.timeline.len(), 1);
        model.take_dirty();
        model.clear();
        assert!(model.take_dirty());
        assert!(model.device(&key("d")).is_none() && model.timeline.is_empty());
        assert_eq!(model.labels["d"], "Hall");
        assert_eq!(model.key_entry(&key("keyed")), Some(entry));
    }

    #[test]
    fn paused_model_ignores_input_but_counts_it() {
        let mut model = ScanModel::new();
        model.paused = true;
        hear(&mut model, 1, "d", adv("d", TEMP_HUMIDITY, -60));
        assert!((model.device_count() == 0));
        assert_eq!(model.received, 1);
    }

    #[test]
    fn filters_search_and_rssi_threshold_narrow_the_list() {
        let mut model = ScanModel::new();
        hear(&mut model, 1, "a", adv("SBHT-003C", TEMP_HUMIDITY, -40));
        hear(&mut model, 2, "b", adv("ATC_9", TEMP_HUMIDITY, -90));
        let all = FilterSet::default();
        let mut settings = Settings::default();
        assert_eq!(model.visible(&settings, &all, "").len(), 2);
        let sb = FilterSet::from_json(r#"[{"name":"SB*"}]"#).unwrap();
        let keys: Vec<_> = model
            .visible(&settings, &sb, "")
            .iter()
            .map(|d| d.key.to_string())
            .collect();
        assert_eq!(keys, ["a"]);
        assert_eq!(model.visible(&settings, &all, "atc").len(), 1);
        settings.rssi_threshold = Some(-70);
        assert_eq!(model.visible(&settings, &all, "").len(), 1);
    }

    #[test]
    fn sorting_by_rssi_puts_the_strongest_first() {
        let mut model = ScanModel::new();
        hear(&mut model, 1, "weak", adv("w", TEMP_HUMIDITY, -90));
        hear(&mut model, 2, "strong", adv("s", TEMP_HUMIDITY, -30));
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
    fn sorting_by_rssi_keeps_devices_of_one_10_db_step_in_name_order() {
        let mut model = ScanModel::new();
        let settings = Settings {
            sort: SortKey::Rssi,
            ..Settings::default()
        };
        let order = |model: &ScanModel| -> Vec<String> {
            model
                .visible(&settings, &FilterSet::default(), "")
                .iter()
                .map(|d| d.key.as_str().to_owned())
                .collect()
        };
        hear(&mut model, 1, "b", adv("b", TEMP_HUMIDITY, -52));
        hear(&mut model, 2, "a", adv("a", TEMP_HUMIDITY, -58));
        assert_eq!(order(&model), ["a", "b"]);
        // b's next packet is a little stronger, a's a little weaker: same step, same order.
        hear(&mut model, 3, "b", adv("b", TEMP_HUMIDITY, -51));
        hear(&mut model, 4, "a", adv("a", TEMP_HUMIDITY, -59));
        assert_eq!(order(&model), ["a", "b"]);
        hear(&mut model, 5, "b", adv("b", TEMP_HUMIDITY, -48));
        assert_eq!(order(&model), ["b", "a"]);
    }

    #[test]
    fn binary_sensors_read_as_the_words_of_their_object() {
        let mut model = ScanModel::new();
        // BTHome v2: window (0x2D) open, motion (0x21) clear, generic boolean (0x0F) on.
        let service = [0x40, 0x2D, 0x01, 0x21, 0x00, 0x0F, 0x01];
        hear(&mut model, 1, "dw", adv("dw", &service, -60));
        let device = model.device(&key("dw")).unwrap();
        let shown: Vec<String> = device
            .readings
            .values()
            .map(|r| format!("{} {}", r.name, r.display(&Settings::default())))
            .collect();
        assert_eq!(shown, ["generic on", "motion clear", "window open"]);
    }

    #[test]
    fn the_default_order_is_by_name() {
        let mut model = ScanModel::new();
        // "alpha" first heard, "Zed" heard last and loudest: only the name puts alpha first.
        hear(&mut model, 1, "k1", adv("alpha", TEMP_HUMIDITY, -90));
        hear(&mut model, 2, "k2", adv("Zed", TEMP_HUMIDITY, -30));
        let keys: Vec<_> = model
            .visible(&Settings::default(), &FilterSet::default(), "")
            .iter()
            .map(|d| d.key.as_str().to_owned())
            .collect();
        assert_eq!(keys, ["k1", "k2"]);
    }

    #[test]
    fn the_device_table_is_bounded() {
        let mut model = ScanModel::new();
        for i in 0..(MAX_DEVICES as u64 + 5) {
            hear(
                &mut model,
                i + 1,
                &format!("d{i}"),
                adv("x", TEMP_HUMIDITY, -60),
            );
        }
        assert_eq!(model.device_count(), MAX_DEVICES);
        assert!(model.device(&key("d0")).is_none());
    }

    #[test]
    fn recording_writes_capture_lines_that_parse_back() {
        let mut model = ScanModel::new();
        model.start_recording();
        hear(&mut model, 1_500, "dev", adv("n", TEMP_HUMIDITY, -60));
        let text = model.stop_recording().unwrap();
        let capture = super::super::capture::parse(&text, "capture");
        assert_eq!(capture.records.len(), 1);
        assert_eq!(capture.records[0].key.as_str(), "dev");
        assert!(capture.timed);
    }
}
