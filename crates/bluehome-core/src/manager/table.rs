//! The device table: one slot per device, found by [`DeviceKey`], bounded by evicting the least
//! recently seen; what the caller may read of it; and what is kept apart from it (bind keys and
//! given MACs, which outlive eviction).

use alloc::sync::Arc;

use super::device::{Device, ServiceInfo};
use super::{Event, History, Manager};
use crate::advertisement::MacAddress;
use crate::bthome::{self, BindKey};
use crate::device::{DeviceKey, DeviceKind};

/// One slot of the table; the generation tells a timer for an evicted device from one for the
/// device that took its place.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    pub(crate) generation: u32,
    pub(crate) device: Option<Device>,
}

/// A device of the table, as the manager knows it now.
#[derive(Debug, Clone, Copy)]
pub struct DeviceRef<'a> {
    device: &'a Device,
    given_mac: Option<MacAddress>,
}

impl<'a> DeviceRef<'a> {
    /// The device's key.
    pub fn key(&self) -> &'a DeviceKey {
        &self.device.key
    }

    /// The best source's data: the all-sources history entry while the device is present, else
    /// the last one before it went unavailable. `None` when nothing was heard since it was added
    /// or since [`Manager::clear_history`].
    pub fn info(&self) -> Option<&'a ServiceInfo> {
        self.device.all.as_ref().or(self.device.gone.as_ref())
    }

    /// Whether the device is in the all-sources history now (`async_address_present`).
    pub fn present(&self) -> bool {
        self.device.all.is_some()
    }

    /// When it was first heard (since it entered the table or its history was cleared).
    pub fn first_seen_ms(&self) -> u64 {
        self.device.first_seen_ms
    }

    /// When any source last heard it.
    pub fn last_seen_ms(&self) -> u64 {
        self.device.last_seen_ms
    }

    /// Packets received from it, from every source.
    pub fn packets(&self) -> u64 {
        self.device.packets
    }

    /// Its MAC, as far as anything told it: the MAC in its BTHome payload, else its packets'
    /// address, else the MAC given with [`Manager::set_mac`], else the MAC its Shelly
    /// manufacturer data announced, else the key when that is a MAC.
    pub fn mac(&self) -> Option<MacAddress> {
        let d = self.device;
        d.payload_mac
            .or_else(|| self.info().and_then(|i| i.data.address))
            .or(self.given_mac)
            .or(d.announced_mac)
            .or(d.key.mac())
    }

    /// What its data says it is ([`DeviceKind::of`]). A device heard only through BTHome objects a
    /// remote scanner decoded ([`Manager::ingest_objects`]) is BTHome v2.
    pub fn kind(&self) -> DeviceKind {
        match self.info().map(|i| DeviceKind::of(&i.data)) {
            Some(DeviceKind::Other) | None if self.device.decoded_remotely => DeviceKind::BthomeV2,
            Some(kind) => kind,
            None => DeviceKind::Other,
        }
    }

    /// Its BTHome receiver state (key verification, counter).
    pub fn bthome(&self) -> Option<&'a bthome::ReceiverState> {
        self.device.bthome.as_ref()
    }
}

impl Manager {
    pub(crate) fn slot_of(&self, key: &DeviceKey) -> Option<u32> {
        self.keys.get(key).copied()
    }

    /// The key the table keeps `key`'s device under. A MAC with no entry of its own is the device
    /// heard under a browser's opaque id whose MAC is known (announced in its Shelly manufacturer
    /// data, or given with [`Manager::set_mac`]): browsers hide addresses and a Shelly gateway
    /// reports them, and one device is one entry (Home Assistant keeps one per address).
    pub fn device_key(&self, key: &DeviceKey) -> DeviceKey {
        let Some(mac) = key.mac().filter(|_| self.slot_of(key).is_none()) else {
            return key.clone();
        };
        self.slots
            .iter()
            .filter_map(|s| s.device.as_ref())
            .find(|d| {
                d.key.mac().is_none()
                    && (d.announced_mac == Some(mac) || self.given_mac(&d.key) == Some(mac))
            })
            .map_or_else(|| key.clone(), |d| d.key.clone())
    }

    pub(crate) fn entry(&self, key: &DeviceKey) -> Option<&Device> {
        self.at(self.slot_of(key)?)
    }

    fn entry_mut(&mut self, key: &DeviceKey) -> Option<&mut Device> {
        let slot = self.slot_of(key)?;
        self.at_mut(slot)
    }

    pub(crate) fn at(&self, slot: u32) -> Option<&Device> {
        self.slots.get(slot as usize)?.device.as_ref()
    }

    pub(crate) fn at_mut(&mut self, slot: u32) -> Option<&mut Device> {
        self.slots.get_mut(slot as usize)?.device.as_mut()
    }

    /// The slot of the device, added (evicting the least recently seen when full) when new.
    pub(crate) fn slot_for(&mut self, now_ms: u64, key: &DeviceKey) -> u32 {
        if let Some(slot) = self.slot_of(key) {
            return slot;
        }
        if self.keys.len() >= self.config.max_devices.max(1) {
            self.evict_oldest(now_ms);
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        };
        if let Some(s) = self.slots.get_mut(slot as usize) {
            s.device = Some(Device::new(key.clone(), now_ms));
        }
        self.keys.insert(key.clone(), slot);
        slot
    }

    fn evict_oldest(&mut self, now_ms: u64) {
        let oldest = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.device.as_ref().map(|d| (d.last_seen_ms, i)))
            .min();
        if let Some((_, i)) = oldest
            && let Some(d) = self.remove_slot(i as u32)
        {
            self.emit(now_ms, Event::Evicted { key: d.key });
        }
    }

    /// Takes the device out of the table (its timers go stale with the slot's generation).
    fn remove_slot(&mut self, slot: u32) -> Option<Device> {
        let s = self.slots.get_mut(slot as usize)?;
        let d = s.device.take()?;
        s.generation = s.generation.wrapping_add(1);
        self.keys.remove(&d.key);
        self.free.push(slot);
        Some(d)
    }

    /// The device in `slot`, heard under a browser's id, has announced its MAC: an entry kept
    /// under that MAC (a Shelly gateway's report of the same device, heard first) joins it. The
    /// entry leaves the table ([`Event::Merged`]), its bind key is copied where the device has
    /// none, and what comes for the MAC goes to the device from then on ([`Manager::device_key`]).
    pub(crate) fn absorb_announced(&mut self, now_ms: u64, slot: u32) {
        let Some(d) = self.at(slot) else { return };
        let (Some(mac), None) = (d.announced_mac, d.key.mac()) else {
            return;
        };
        let into = d.key.clone();
        let from = DeviceKey::from(mac);
        let Some(gone) = self.slot_of(&from).and_then(|s| self.remove_slot(s)) else {
            return;
        };
        if self.bindkey(&into).is_none()
            && let Some(key) = self.bindkey(&gone.key).copied()
        {
            self.set_bindkey(&into, Some(key));
        }
        self.emit(now_ms, Event::Merged { from, into });
    }

    /// Devices in the table (with or without current history).
    pub fn device_count(&self) -> usize {
        self.keys.len()
    }

    /// A device of the table.
    pub fn device(&self, key: &DeviceKey) -> Option<DeviceRef<'_>> {
        let device = self.entry(key)?;
        Some(self.view(device))
    }

    /// Every device of the table, in no particular order.
    pub fn devices(&self) -> impl Iterator<Item = DeviceRef<'_>> {
        self.slots
            .iter()
            .filter_map(|s| s.device.as_ref())
            .map(|d| self.view(d))
    }

    fn view<'a>(&'a self, device: &'a Device) -> DeviceRef<'a> {
        DeviceRef {
            device,
            given_mac: self.macs.get(&device.key).copied(),
        }
    }

    /// The best source's data: from the connectable history, or from all sources (Home
    /// Assistant's `async_last_service_info`).
    pub fn last_service_info(&self, key: &DeviceKey, history: History) -> Option<&ServiceInfo> {
        self.entry(key)?.history(history)
    }

    /// Whether the device is currently in the history (`async_address_present`).
    pub fn address_present(&self, key: &DeviceKey, history: History) -> bool {
        self.last_service_info(key, history).is_some()
    }

    /// Every device currently in the history (`async_discovered_service_info`).
    pub fn discovered(&self, history: History) -> impl Iterator<Item = &ServiceInfo> {
        self.slots
            .iter()
            .filter_map(move |s| s.device.as_ref()?.history(history))
    }

    /// Each source's own view of a device (`async_scanner_devices_by_address`).
    pub fn service_info_by_source(&self, key: &DeviceKey) -> impl Iterator<Item = &ServiceInfo> {
        self.entry(key)
            .into_iter()
            .flat_map(|d| d.sources.iter().map(|e| &e.info))
    }

    /// The learned advertising interval, without the 5 s wobble.
    pub fn learned_interval_ms(&self, key: &DeviceKey) -> Option<u64> {
        self.entry(key)?.interval.learned_ms()
    }

    /// Sets the interval used while none is learned (`async_set_fallback_availability_interval`).
    /// Has no effect on a device not in the table yet.
    pub fn set_fallback_interval(&mut self, key: &DeviceKey, interval_ms: Option<u64>) {
        let Some(slot) = self.slot_of(key) else {
            return;
        };
        if let Some(d) = self.at_mut(slot) {
            d.fallback_interval_ms = interval_ms;
        }
        // A shorter interval brings the deadlines forward: queue them.
        self.schedule(slot);
    }

    /// Forgets a device's histories, per-source data, learned interval, first-seen time and
    /// packet count, so its next packet counts as new even when byte-identical
    /// (`async_clear_advertisement_history`). Its BTHome receiver state stays.
    pub fn clear_history(&mut self, key: &DeviceKey) {
        if let Some(d) = self.entry_mut(key) {
            d.clear_history();
        }
    }

    pub(crate) fn limit_ms(&self, d: &Device) -> u64 {
        match d.interval.learned_ms().or(d.fallback_interval_ms) {
            Some(i) => i.saturating_add(self.config.wobble_ms),
            None => self.config.fallback_stale_ms,
        }
    }

    /// Sets (or clears) the BTHome bind key of a device. Keys are kept apart from the device
    /// table, so they survive eviction and may be set before the device is first heard.
    pub fn set_bindkey(&mut self, key: &DeviceKey, bindkey: Option<BindKey>) {
        if let Some(state) = self.entry_mut(key).and_then(|d| d.bthome.as_mut())
            && state.key != bindkey
        {
            state.set_key(bindkey);
        }
        match bindkey {
            Some(b) => {
                self.bindkeys.insert(key.clone(), b);
            }
            None => {
                self.bindkeys.remove(key);
            }
        }
    }

    /// The BTHome bind key of a device, when set.
    pub fn bindkey(&self, key: &DeviceKey) -> Option<&BindKey> {
        self.bindkeys.get(key)
    }

    /// Every bind key set, by device.
    pub fn bindkeys(&self) -> impl Iterator<Item = (&DeviceKey, &BindKey)> {
        self.bindkeys.iter()
    }

    /// Sets (or clears) the MAC of a device the browser names by an opaque id, as its owner
    /// knows it: it decrypts the device's BTHome data (step 2). Kept apart from the table, like
    /// bind keys.
    pub fn set_mac(&mut self, key: &DeviceKey, mac: Option<MacAddress>) {
        match mac {
            Some(m) => {
                self.macs.insert(key.clone(), m);
            }
            None => {
                self.macs.remove(key);
            }
        }
    }

    /// The MAC given for a device with [`Manager::set_mac`].
    pub fn given_mac(&self, key: &DeviceKey) -> Option<MacAddress> {
        self.macs.get(key).copied()
    }

    /// The MAC the device's Shelly manufacturer data announced (block `0x0A`, heard in any of its
    /// packets, kept while the device is in the table). Browsers hide addresses, so for a device
    /// named by an opaque id this is what decrypts its BTHome data (step 2).
    pub fn announced_mac(&self, key: &DeviceKey) -> Option<MacAddress> {
        self.entry(key)?.announced_mac
    }

    /// The source name of a scanner, shared.
    pub(crate) fn source_name(&self, scanner: super::ScannerId, fallback: &str) -> Arc<str> {
        self.scanners
            .get(scanner)
            .map(|s| Arc::clone(&s.name))
            .unwrap_or_else(|| fallback.into())
    }
}
