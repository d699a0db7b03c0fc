//! One packet through the numbered steps of the module documentation.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::device::{self, ServiceInfo, SourceEntry};
use super::{Event, Manager, ScannerId, ScannerKind};
use crate::advertisement::{Advertisement, Connectable, MacAddress};
use crate::bthome;
use crate::device::DeviceKey;
use crate::shelly::manufacturer;

/// The MAC in a packet's Shelly manufacturer data (block `0x0A`), if it carries one.
fn announced_mac(adv: &Advertisement) -> Option<MacAddress> {
    let data = adv.manufacturer_data.get(&manufacturer::COMPANY_ID)?;
    manufacturer::parse(data).mac
}

/// What step 2 works on.
enum Bthome {
    /// Decode the packet's BTHome service data, if any.
    FromServiceData,
    /// The same, for a polled scanner's late report
    /// ([`bthome::ReceiverState::receive_relayed`]).
    Relayed,
    /// A remote scanner decoded these objects itself.
    Decoded(Vec<bthome::Object>),
}

/// Step 2's result, waiting for steps 4 and 6.
struct Reading {
    key: DeviceKey,
    source: Arc<str>,
    packet: bthome::Packet,
    /// Objects a remote scanner decoded ([`Bthome::Decoded`]).
    remote: bool,
}

impl Manager {
    /// Feeds one packet heard by `source` from the device `key`. Unknown sources are registered
    /// on the fly (`"local"` as the local scanner, any other name as a remote one). Timers due
    /// before `now_ms` fire first.
    pub fn ingest(
        &mut self,
        now_ms: u64,
        source: &str,
        key: &DeviceKey,
        connectable: Connectable,
        adv: Advertisement,
    ) {
        self.receive(
            now_ms,
            source,
            key,
            connectable,
            adv,
            Bthome::FromServiceData,
        );
    }

    /// Feeds BTHome objects that a remote scanner heard from the device `key` and decoded itself
    /// (a Shelly gateway's BTHome sensor components report values, not packets): they become an
    /// [`Event::Reading`] as they are (step 2), and the device counts as heard by `source` with no
    /// advertisement data (a non-connectable packet with nothing in it, for steps 1 and 3–7).
    pub fn ingest_objects(
        &mut self,
        now_ms: u64,
        source: &str,
        key: &DeviceKey,
        objects: Vec<bthome::Object>,
    ) {
        let adv = Advertisement::default();
        let objects = Bthome::Decoded(objects);
        self.receive(now_ms, source, key, Connectable::No, adv, objects);
    }

    fn receive(
        &mut self,
        now_ms: u64,
        source: &str,
        key: &DeviceKey,
        connectable: Connectable,
        adv: Advertisement,
        bthome: Bthome,
    ) {
        self.catch_up(now_ms);
        let scanner = self.scanner_for(now_ms, source, connectable);
        let polled = self
            .scanners
            .get(scanner)
            .is_some_and(|s| s.kind == ScannerKind::Polled);
        let bthome = match bthome {
            Bthome::FromServiceData if polled => Bthome::Relayed,
            other => other,
        };
        let slot = self.slot_for(now_ms, &self.device_key(key));
        let Some(d) = self.at(slot) else {
            return;
        };
        let key = d.key.clone();
        let source = self.source_name(scanner, source);

        // 1. Deliveries, on the packet itself.
        if !self.scan.requests.is_empty() {
            self.deliver(now_ms, &key, &source, connectable, &adv);
        }

        // 2. BTHome, decoded now (with the receiver state as the packet comes) and reported once
        // steps 4 and 6 have said whether the packet is news.
        let remote = matches!(bthome, Bthome::Decoded(_));
        let reading = self
            .read_bthome(now_ms, slot, &key, &adv, bthome)
            .map(|packet| Reading {
                key: key.clone(),
                source: Arc::clone(&source),
                packet,
                remote,
            });

        // A gateway's entry for the MAC this device announced is this device.
        self.absorb_announced(now_ms, slot);

        // 3. Per-source merge.
        let Some(info) = self.merge_source(now_ms, slot, scanner, key, source, connectable, adv)
        else {
            return;
        };

        // 4. Best source.
        if self.keeps_previous_owner(now_ms, slot, scanner, &info) {
            // What the owner already passed on is no news; other data is (the owner may not have
            // heard this press, and a packet the receiver accepted now would be a duplicate
            // when the owner's copy comes).
            let news = self
                .at(slot)
                .is_some_and(|d| d.all.as_ref().is_none_or(|owned| !owned.same_data(&info)));
            self.report_reading(now_ms, reading, news);
            if connectable.is_yes() {
                // Still the connectable entry, unless that entry is the owner's entry itself
                // (the same packet, not only the same scanner) or wins the owner's test against
                // this packet: from another scanner, still scanning, and preferred.
                let replace = self.at(slot).is_some_and(|d| {
                    d.connectable.as_ref().is_none_or(|c| {
                        let owners_entry = d.all.as_ref() == Some(c);
                        let stands = c.source != info.source
                            && self.scanner_is_scanning(now_ms, &c.source)
                            && self.prefer_previous(d, c, &info);
                        !(owners_entry || stands)
                    })
                });
                if replace && let Some(d) = self.at_mut(slot) {
                    d.connectable = Some(info);
                }
            }
            self.schedule(slot);
            return;
        }

        let Some(d) = self.at_mut(slot) else {
            return;
        };
        let connectable_is_new = connectable.is_yes() && d.connectable.is_none();
        let changed = d.all.as_ref().is_none_or(|old| !old.same_data(&info));
        if connectable.is_yes() {
            d.connectable = Some(info.clone());
        }
        d.owner = Some(scanner);
        // 5. Interval learning from the owner.
        d.interval.collect(scanner, now_ms);
        d.all = Some(info.clone());
        d.gone = None;
        self.schedule(slot);
        self.report_reading(now_ms, reading, changed);

        // 6. + 7. Dedupe and dispatch. A non-connectable packet of a device that a registered
        // connectable scanner also hears is dispatched as connectable (habluetooth step 8).
        if changed || connectable_is_new {
            let reachable = !connectable.is_yes()
                && self.at(slot).is_some_and(|d| {
                    d.connectable.as_ref().is_some_and(|c| {
                        self.scanners.named(&c.source).is_some_and(|s| s.registered)
                    })
                });
            if reachable {
                let mut copy = info;
                copy.connectable = true;
                self.dispatch(now_ms, &copy);
            } else {
                self.dispatch(now_ms, &info);
            }
        }
    }

    /// Step 2: the packet's BTHome data decoded with the device's receiver state, or the objects
    /// a remote scanner decoded (`None` when the packet has no BTHome data).
    fn read_bthome(
        &mut self,
        now_ms: u64,
        slot: u32,
        key: &DeviceKey,
        adv: &Advertisement,
        bthome: Bthome,
    ) -> Option<bthome::Packet> {
        let announced = announced_mac(adv);
        let given = self.given_mac(key);
        let bindkey = self.bindkey(key).copied();
        let d = self.at_mut(slot)?;
        if announced.is_some() {
            d.announced_mac = announced;
        }
        match bthome {
            Bthome::Decoded(objects) => {
                d.decoded_remotely = true;
                Some(bthome::Packet {
                    objects,
                    ..bthome::Packet::default()
                })
            }
            Bthome::FromServiceData | Bthome::Relayed => {
                let (uuid, data) = bthome::service_data(adv)?;
                let mac = adv
                    .address
                    .or(given)
                    .or_else(|| key.mac())
                    .or(d.announced_mac);
                let state = d
                    .bthome
                    .get_or_insert_with(|| bthome::ReceiverState::new(bindkey));
                let packet = if matches!(bthome, Bthome::Relayed) {
                    state.receive_relayed(uuid, data, mac, now_ms)
                } else {
                    state.receive(uuid, data, mac, now_ms)
                };
                if let Some(mac) = packet.payload_mac {
                    d.payload_mac = Some(mac);
                }
                Some(packet)
            }
        }
    }

    /// Step 2's [`Event::Reading`], emitted once steps 4 and 6 have run. `news` says whether the
    /// packet's data differs from what the device's owner last passed on (step 6; for a packet
    /// that lost step 4, the owner's data).
    /// A packet that is not news keeps its sensor values (their time and history follow every
    /// packet) but loses its events (button, dimmer, command): Home Assistant calls nobody back
    /// for it (home-assistant/core PR #78609), so bthome-ble never fires them, and a device that
    /// sends one press several times, without a packet id, pressed once. Objects a remote scanner
    /// decoded itself come without advertisement data to compare and are always news (the
    /// gateway feed hands each report on once).
    fn report_reading(&mut self, now_ms: u64, reading: Option<Reading>, news: bool) {
        let Some(Reading {
            key,
            source,
            mut packet,
            remote,
        }) = reading
        else {
            return;
        };
        if !news && !remote {
            packet.objects.retain(|o| !o.value.is_event());
        }
        self.emit(
            now_ms,
            Event::Reading {
                key,
                source,
                packet,
            },
        );
    }

    /// Step 3: the packet merged into what its source knew of the device; the device's times
    /// and count updated. Returns the source's new view.
    #[allow(clippy::too_many_arguments)] // the packet and where it was heard, passed once
    fn merge_source(
        &mut self,
        now_ms: u64,
        slot: u32,
        scanner: ScannerId,
        key: DeviceKey,
        source: Arc<str>,
        connectable: Connectable,
        adv: Advertisement,
    ) -> Option<ServiceInfo> {
        let (rssi, tx_power) = (adv.rssi, adv.tx_power);
        let expire = self.config.source_expire_ms;
        let max_sources = self.config.max_sources_per_device.max(1);
        let d = self.at_mut(slot)?;
        let pos = d.sources.iter().position(|e| e.scanner == scanner);
        let data = match pos.and_then(|p| d.sources.get(p)) {
            Some(e) if now_ms.saturating_sub(e.info.time_ms) <= expire => {
                device::merge(&e.info.data, adv)
            }
            _ => device::fresh(adv),
        };
        let info = ServiceInfo {
            key,
            source,
            data,
            rssi,
            tx_power,
            time_ms: now_ms,
            connectable: connectable.is_yes(),
        };
        match pos.and_then(|p| d.sources.get_mut(p)) {
            Some(e) => e.info = info.clone(),
            None => {
                if d.sources.len() >= max_sources
                    && let Some(oldest) = d
                        .sources
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, e)| e.info.time_ms)
                        .map(|(i, _)| i)
                {
                    d.sources.swap_remove(oldest);
                }
                d.sources.push(SourceEntry {
                    scanner,
                    info: info.clone(),
                });
            }
        }
        if d.packets == 0 {
            d.first_seen_ms = now_ms;
        }
        d.packets += 1;
        d.last_seen_ms = now_ms;
        if connectable.is_yes() {
            d.last_connectable_ms = Some(now_ms);
        }
        Some(info)
    }

    /// Step 4: whether the current owner keeps the device against this packet from `scanner`.
    fn keeps_previous_owner(
        &self,
        now_ms: u64,
        slot: u32,
        scanner: ScannerId,
        info: &ServiceInfo,
    ) -> bool {
        let Some(d) = self.at(slot) else {
            return false;
        };
        match (&d.all, d.owner) {
            (Some(old), Some(owner)) if owner != scanner => {
                self.scanners
                    .get(owner)
                    .is_some_and(|s| self.scanning(s, now_ms))
                    && self.prefer_previous(d, old, info)
            }
            _ => false,
        }
    }

    /// Classic arbitration: true when the old entry keeps ownership against the new one.
    fn prefer_previous(&self, d: &device::Device, old: &ServiceInfo, new: &ServiceInfo) -> bool {
        if new.time_ms.saturating_sub(old.time_ms) > self.limit_ms(d) {
            return false;
        }
        let rssi = |r: Option<i8>| i16::from(r.unwrap_or(-127));
        rssi(new.rssi) - self.config.rssi_switch_db <= rssi(old.rssi)
    }

    /// Step 1: the packet to every live scan request that accepts it.
    fn deliver(
        &mut self,
        now_ms: u64,
        key: &DeviceKey,
        source: &Arc<str>,
        connectable: Connectable,
        adv: &Advertisement,
    ) {
        let mut packet: Option<Arc<Advertisement>> = None;
        let mut out = Vec::new();
        for r in &self.scan.requests {
            if r.live_at(now_ms)
                && r.options.rssi_passes(adv.rssi)
                && r.options.filters.matches(key, adv)
            {
                let data = packet
                    .get_or_insert_with(|| {
                        let mut a = adv.clone();
                        a.rssi = None;
                        a.tx_power = None;
                        Arc::new(a)
                    })
                    .clone();
                out.push(Event::Delivery {
                    client: Arc::clone(&r.client),
                    info: ServiceInfo {
                        key: key.clone(),
                        source: Arc::clone(source),
                        data,
                        rssi: adv.rssi,
                        tx_power: adv.tx_power,
                        time_ms: now_ms,
                        connectable: connectable.is_yes(),
                    },
                });
            }
        }
        for e in out {
            self.emit(now_ms, e);
        }
    }
}
