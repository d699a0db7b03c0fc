//! One tracked device: per-source merged data, the two histories, interval learning.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::timers::TimerKind;
use super::{History, ScannerId};
use crate::advertisement::{Advertisement, MacAddress};
use crate::device::DeviceKey;

/// What the manager knows about a device as one source saw it: the merged advertisement data plus
/// the latest packet's RSSI, tx power, time and connectability (Home Assistant's
/// `BluetoothServiceInfoBleak`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceInfo {
    /// The device.
    pub key: DeviceKey,
    /// The scanner (source) that heard it.
    pub source: Arc<str>,
    /// Merged name, manufacturer data, service data and service UUIDs. `rssi` and `tx_power` in
    /// here are always `None`; read them from this struct.
    pub data: Arc<Advertisement>,
    /// RSSI of the latest packet.
    pub rssi: Option<i8>,
    /// TX power of the latest packet.
    pub tx_power: Option<i8>,
    /// When the latest packet arrived.
    pub time_ms: u64,
    /// Whether the latest packet was connectable.
    pub connectable: bool,
}

impl ServiceInfo {
    /// The name, or the key when the device has not sent one (Home Assistant's rule).
    pub fn name(&self) -> &str {
        self.data.name.as_deref().unwrap_or(self.key.as_str())
    }

    /// True when the data fields Home Assistant compares (manufacturer data, service data, service
    /// UUIDs, name) are equal. RSSI, time and source do not count.
    pub fn same_data(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.data, &other.data) || {
            let (a, b) = (&*self.data, &*other.data);
            a.manufacturer_data == b.manufacturer_data
                && a.service_data == b.service_data
                && a.service_uuids == b.service_uuids
                && a.name == b.name
        }
    }
}

/// Merges a new packet into what a source already had (Home Assistant's `base_scanner.py`, which
/// mirrors BlueZ): a union of manufacturer data, service data (new values win) and service UUIDs;
/// the name is replaced unless the new one is missing, empty or shorter. When nothing changes, the
/// previous `Arc` is returned, so unchanged data costs no allocation and compares by pointer.
pub(crate) fn merge(prev: &Arc<Advertisement>, mut new: Advertisement) -> Arc<Advertisement> {
    let name_wins = match (&new.name, &prev.name) {
        (Some(n), _) if n.is_empty() => false,
        (Some(n), Some(p)) => n != p && n.chars().count() >= p.chars().count(),
        (Some(_), None) => true,
        (None, _) => false,
    };
    let mfr_changes = new
        .manufacturer_data
        .iter()
        .any(|(k, v)| prev.manufacturer_data.get(k) != Some(v));
    let svc_changes = new
        .service_data
        .iter()
        .any(|(k, v)| prev.service_data.get(k) != Some(v));
    let uuid_changes = new
        .service_uuids
        .iter()
        .any(|u| !prev.service_uuids.contains(u));
    let address_changes = prev.address.is_none() && new.address.is_some();
    if !(name_wins || mfr_changes || svc_changes || uuid_changes || address_changes) {
        return Arc::clone(prev);
    }
    let mut merged = Advertisement {
        address: prev.address.or(new.address),
        name: if name_wins {
            new.name.take()
        } else {
            prev.name.clone()
        },
        rssi: None,
        tx_power: None,
        manufacturer_data: prev.manufacturer_data.clone(),
        service_data: prev.service_data.clone(),
        service_uuids: prev.service_uuids.clone(),
    };
    for (company, data) in core::mem::take(&mut new.manufacturer_data) {
        merged.manufacturer_data.insert(company, data);
    }
    for (uuid, data) in core::mem::take(&mut new.service_data) {
        merged.service_data.insert(uuid, data);
    }
    for u in new.service_uuids {
        merged.add_service_uuid(u);
    }
    Arc::new(merged)
}

/// The first packet of a source: the same data with the per-packet fields cleared.
pub(crate) fn fresh(mut new: Advertisement) -> Arc<Advertisement> {
    new.rssi = None;
    new.tx_power = None;
    if new.name.as_deref() == Some("") {
        new.name = None;
    }
    let mut uuids = Vec::with_capacity(new.service_uuids.len());
    for u in new.service_uuids.drain(..) {
        if !uuids.contains(&u) {
            uuids.push(u);
        }
    }
    new.service_uuids = uuids;
    Arc::new(new)
}

/// How many timestamps interval learning needs (habluetooth `ADVERTISING_TIMES_NEEDED`).
pub const ADVERTISING_TIMES_NEEDED: u8 = 16;

/// Learns a device's advertising interval as the largest gap among 16 timestamps from its owning
/// source (habluetooth `advertisement_tracker.py`). Only the running maximum is kept.
#[derive(Debug, Clone, Default)]
pub(crate) struct IntervalTracker {
    source: Option<ScannerId>,
    count: u8,
    last_ms: u64,
    max_gap_ms: u64,
    learned_ms: Option<u64>,
}

impl IntervalTracker {
    /// Records a packet from the owning source. A new owner resets everything.
    pub(crate) fn collect(&mut self, source: ScannerId, now_ms: u64) {
        if self.source != Some(source) {
            *self = Self {
                source: Some(source),
                ..Self::default()
            };
        }
        if self.learned_ms.is_some() {
            return;
        }
        if self.count > 0 {
            self.max_gap_ms = self.max_gap_ms.max(now_ms.saturating_sub(self.last_ms));
        }
        self.last_ms = now_ms;
        self.count += 1;
        if self.count >= ADVERTISING_TIMES_NEEDED {
            self.learned_ms = Some(self.max_gap_ms);
        }
    }

    /// The learned interval.
    pub(crate) fn learned_ms(&self) -> Option<u64> {
        self.learned_ms
    }

    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

/// Per-source state of a device.
#[derive(Debug, Clone)]
pub(crate) struct SourceEntry {
    pub(crate) scanner: ScannerId,
    pub(crate) info: ServiceInfo,
}

/// One device-table entry.
#[derive(Debug)]
pub(crate) struct Device {
    pub(crate) key: DeviceKey,
    pub(crate) sources: Vec<SourceEntry>,
    /// Home Assistant's `all_history` entry: the owning source's info.
    pub(crate) all: Option<ServiceInfo>,
    /// Home Assistant's `connectable_history` entry.
    pub(crate) connectable: Option<ServiceInfo>,
    /// The last `all` entry, once the device left the history (what it was when last seen).
    pub(crate) gone: Option<ServiceInfo>,
    pub(crate) owner: Option<ScannerId>,
    pub(crate) first_seen_ms: u64,
    pub(crate) last_seen_ms: u64,
    pub(crate) last_connectable_ms: Option<u64>,
    /// Packets received from every source.
    pub(crate) packets: u64,
    pub(crate) interval: IntervalTracker,
    pub(crate) fallback_interval_ms: Option<u64>,
    /// The earliest deadline queued in the timer heap, per [`TimerKind`].
    pub(crate) queued: [Option<u64>; TimerKind::COUNT],
    /// BTHome receiver state (key, counter, packet id), created with the first BTHome packet.
    pub(crate) bthome: Option<crate::bthome::ReceiverState>,
    /// The MAC the device's Shelly manufacturer data announced last (kept, like `bthome`, when
    /// the histories expire: the next data packet may come before the next scan response).
    pub(crate) announced_mac: Option<MacAddress>,
    /// The MAC the device's BTHome payload carried last (the "MAC included" flag).
    pub(crate) payload_mac: Option<MacAddress>,
    /// A remote scanner handed in BTHome objects it decoded itself for this device.
    pub(crate) decoded_remotely: bool,
}

impl Device {
    pub(crate) fn new(key: DeviceKey, now_ms: u64) -> Self {
        Self {
            key,
            sources: Vec::new(),
            all: None,
            connectable: None,
            gone: None,
            owner: None,
            first_seen_ms: now_ms,
            last_seen_ms: now_ms,
            last_connectable_ms: None,
            packets: 0,
            interval: IntervalTracker::default(),
            fallback_interval_ms: None,
            queued: [None; TimerKind::COUNT],
            bthome: None,
            announced_mac: None,
            payload_mac: None,
            decoded_remotely: false,
        }
    }

    /// The entry of one of the two histories.
    pub(crate) fn history(&self, history: History) -> Option<&ServiceInfo> {
        match history {
            History::All => self.all.as_ref(),
            History::Connectable => self.connectable.as_ref(),
        }
    }

    /// Forgets what was heard (see [`super::Manager::clear_history`]); the next packet starts the
    /// first-seen time and the packet count again.
    pub(crate) fn clear_history(&mut self) {
        self.all = None;
        self.connectable = None;
        self.gone = None;
        self.sources.clear();
        self.owner = None;
        self.interval.reset();
        self.queued = [None; TimerKind::COUNT];
        self.packets = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uuid::Uuid;

    fn adv(name: Option<&str>) -> Advertisement {
        Advertisement {
            name: name.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn merge_keeps_the_longer_name() {
        let prev = fresh(adv(Some("Shelly BLU H&T")));
        assert_eq!(
            merge(&prev, adv(Some("Shelly"))).name.as_deref(),
            Some("Shelly BLU H&T")
        );
        assert_eq!(
            merge(&prev, adv(Some("Shelly BLU H&T 2"))).name.as_deref(),
            Some("Shelly BLU H&T 2")
        );
        assert_eq!(
            merge(&prev, adv(Some(""))).name.as_deref(),
            Some("Shelly BLU H&T")
        );
        // An empty name is no name, even where there was none before.
        let nameless = fresh(adv(None));
        assert!(Arc::ptr_eq(&merge(&nameless, adv(Some(""))), &nameless));
    }

    #[test]
    fn merge_replaces_a_name_of_equal_length() {
        let prev = fresh(adv(Some("abc")));
        assert_eq!(merge(&prev, adv(Some("xyz"))).name.as_deref(), Some("xyz"));
    }

    #[test]
    fn merge_unions_data_and_new_values_win() {
        let mut a = adv(None);
        a.manufacturer_data.insert(1, alloc::vec![1]);
        a.service_data.insert(Uuid::BTHOME_V2, alloc::vec![1]);
        a.add_service_uuid(Uuid::from_u16(0x180F));
        let prev = fresh(a);
        let mut b = adv(None);
        b.manufacturer_data.insert(2, alloc::vec![2]);
        b.service_data.insert(Uuid::BTHOME_V2, alloc::vec![9]);
        b.add_service_uuid(Uuid::from_u16(0x180A));
        let m = merge(&prev, b);
        assert_eq!(m.manufacturer_data.len(), 2);
        assert_eq!(m.service_data[&Uuid::BTHOME_V2], [9]);
        assert_eq!(
            m.service_uuids,
            [Uuid::from_u16(0x180F), Uuid::from_u16(0x180A)]
        );
        // A new service UUID alone is news.
        let mut c = adv(None);
        c.add_service_uuid(Uuid::from_u16(0x1809));
        assert!(merge(&m, c).service_uuids.contains(&Uuid::from_u16(0x1809)));
    }

    #[test]
    fn merge_without_news_reuses_the_previous_data() {
        let mut a = adv(Some("abc"));
        a.manufacturer_data.insert(1, alloc::vec![1]);
        a.add_service_uuid(Uuid::from_u16(0x180F));
        let prev = fresh(a.clone());
        a.rssi = Some(-40);
        assert!(Arc::ptr_eq(&merge(&prev, a), &prev));
        assert!(Arc::ptr_eq(&merge(&prev, adv(None)), &prev));
    }

    #[test]
    fn interval_is_the_largest_of_fifteen_gaps() {
        let mut t = IntervalTracker::default();
        for i in 0..15u64 {
            t.collect(0, i * 1000 + if i == 7 { 500 } else { 0 });
            assert_eq!(t.learned_ms(), None);
        }
        t.collect(0, 15_000);
        assert_eq!(t.learned_ms(), Some(1500));
    }

    #[test]
    fn interval_learning_restarts_when_the_owner_changes() {
        let mut t = IntervalTracker::default();
        for i in 0..10 {
            t.collect(0, i * 1000);
        }
        for i in 0..15 {
            t.collect(1, 100_000 + i * 2000);
        }
        assert_eq!(t.learned_ms(), None);
        t.collect(1, 130_000);
        assert_eq!(t.learned_ms(), Some(2000));
    }
}
