//! The Bluetooth manager: Home Assistant's Bluetooth manager and Shelly's scan manager as pure
//! logic. Time is an argument; results are [`Output`]s the caller drains.
//!
//! ```text
//! ingest(now, source, key, connectable, adv)   one packet from a scanner (local or remote)
//! advance(now)                                  fire timers (unavailability, scan expiry, waiters)
//! next_deadline()                               when to call advance next
//! drain()                                       the events, each stamped with its exact time
//! ```
//!
//! ```
//! use bluehome_core::filter::Matcher;
//! use bluehome_core::manager::{Event, Manager};
//! use bluehome_core::{Advertisement, Uuid};
//!
//! let mut mgr = Manager::default();
//! let shelly = mgr.register_callback(0, Matcher::from_json(r#"{"manufacturer_id":2985}"#).unwrap());
//! let gone = mgr.track_unavailable("3C:2E:F5:71:D9:B0", false);
//!
//! let mut adv = Advertisement { rssi: Some(-60), ..Default::default() };
//! adv.manufacturer_data.insert(0x0BA9, vec![0x01]);
//! adv.service_data.insert(Uuid::BTHOME_V2, vec![0x40, 0x02, 0xca, 0x09]); // 25.06 °C
//! mgr.ingest(1_000, "local", "3c:2e:f5:71:d9:b0", true, adv).unwrap();
//!
//! let events: Vec<_> = mgr.drain().collect();
//! assert!(matches!(&events[0].event, Event::Reading { packet, .. } if packet.is_ok()));
//! assert!(matches!(&events[1].event, Event::Callback { id, .. } if *id == shelly));
//!
//! // Nothing more heard: unavailable 900 s later (no interval learned yet).
//! assert_eq!(mgr.next_deadline(), Some(901_000));
//! mgr.advance(901_000);
//! let out = mgr.pop_event().unwrap();
//! assert_eq!(out.at_ms, 901_000);
//! assert!(matches!(out.event, Event::Unavailable { id, .. } if id == gone));
//! ```
//!
//! What happens to a packet, in order (Home Assistant `habluetooth` semantics):
//! 1. Delivery to every live scan request whose RSSI threshold and filters accept the packet itself.
//! 2. BTHome: service data (FCD2, else 181E, else 181C) is decoded with the device's receiver state
//!    (bind key, encryption counter, packet id) into an [`Event::Reading`]. The MAC for decryption
//!    is the packet's address, else the key when it is a MAC address, else the MAC the device's
//!    Shelly manufacturer data announced in this or an earlier packet (Shelly BLU sends it in the
//!    scan response, apart from the BTHome data; browsers hide the address).
//! 3. Per-source merge: the packet is merged into what this source knew about the device (union of
//!    manufacturer data, service data and UUIDs; the longer name kept; latest RSSI, tx power, time).
//! 4. Best source: a packet from another source than the current owner takes over only when the
//!    owner is unregistered or silent (remote, 90 s), its last packet is stale (the learned
//!    interval plus 5 s, or 900 s while unknown), or the new packet is more than 16 dB stronger.
//!    A packet that loses still refreshes the connectable history when it is connectable and no
//!    better connectable entry exists.
//! 5. Interval learning from the owner's packets; a new owner restarts it.
//! 6. Dedupe: callbacks fire only when manufacturer data, service data, UUIDs or name changed (or
//!    the device is new to the connectable history). RSSI alone never fires.
//! 7. Dispatch through the matcher index to callbacks and waiters. A non-connectable packet of a
//!    device that a registered connectable scanner also has in the connectable history is
//!    dispatched as connectable, so connectable matchers see its new data.
//!
//! Unavailability is exact: the all-sources entry expires at the last packet plus the learned
//! interval plus 5 s (900 s while unknown); the connectable entry likewise from the last
//! connectable packet.
//!
//! Memory is bounded: at most [`Config::max_devices`] devices (the least recently seen is evicted),
//! [`Config::max_scanners`] scanners (the least recently heard is forgotten),
//! [`Config::max_sources_per_device`] sources per device and [`Config::max_events`] undrained
//! events (the oldest are dropped and counted). Scanners are found by name in a hash map, so a
//! packet costs the same whether the manager has heard one source or a million.
//!
//! Time never wraps: every deadline is computed with saturating arithmetic, so a clock near
//! `u64::MAX` makes deadlines stop at `u64::MAX` rather than come round to the past. Events come
//! out in time order: every call that takes the time fires the timers due before it first (as
//! `ingest` does), and a waiter's deadline is never before the time it was registered.

use alloc::boxed::Box;
use alloc::collections::{BTreeSet, BinaryHeap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::fmt;

use hashbrown::HashMap;

use crate::advertisement::{Advertisement, MacAddress};
use crate::bthome;
use crate::filter::{Matcher, ScanOptions};
use crate::shelly::manufacturer;

mod device;
mod index;
mod scan;

pub use device::{ADVERTISING_TIMES_NEEDED, ServiceInfo};
use device::{Device, SourceEntry};
use index::Index;
use scan::{Effective, ScanRequest, ScanRequests};

/// The source name of the browser's own scanner.
pub const LOCAL_SOURCE: &str = "local";

/// Tunables, with Home Assistant's values as defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Devices kept at most; the least recently seen one is evicted for a new one.
    pub max_devices: usize,
    /// Scanners (sources) kept at most; the least recently heard one is forgotten for a new one.
    /// A forgotten scanner counts as unregistered for the devices it owned; if it is heard again
    /// it comes back as a new scanner.
    pub max_scanners: usize,
    /// Sources remembered per device; the least recently heard one is dropped.
    pub max_sources_per_device: usize,
    /// Undrained events kept at most; older ones are dropped (see [`Manager::dropped_events`]).
    pub max_events: usize,
    /// Stale/unavailable limit while no interval is known (`FALLBACK_MAXIMUM_STALE_ADVERTISEMENT_SECONDS`).
    pub fallback_stale_ms: u64,
    /// Added to a learned interval (`TRACKER_BUFFERING_WOBBLE_SECONDS`).
    pub wobble_ms: u64,
    /// A new source must be this many dB stronger to take over (`ADV_RSSI_SWITCH_THRESHOLD`).
    pub rssi_switch_db: i16,
    /// A remote scanner silent this long stops counting as scanning (`SCANNER_WATCHDOG_TIMEOUT`).
    pub remote_silence_ms: u64,
    /// A source's merged data older than this starts afresh (scanner expiry, 195 s).
    pub source_expire_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_devices: 4096,
            max_scanners: 256,
            max_sources_per_device: 8,
            max_events: 65_536,
            fallback_stale_ms: 900_000,
            wobble_ms: 5_000,
            rssi_switch_db: 16,
            remote_silence_ms: 90_000,
            source_expire_ms: 195_000,
        }
    }
}

/// A registered callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallbackId(pub u64);

/// A registered unavailability tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrackId(pub u64);

/// A registered waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WaiterId(pub u64);

/// A waiter's test on a matching advertisement.
pub type Predicate = Box<dyn Fn(&ServiceInfo) -> bool + Send + Sync>;

/// Something the caller must act on.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A callback's matcher matched new data (or history, on registration).
    Callback {
        /// Which callback.
        id: CallbackId,
        /// The device's merged data from its best source.
        info: ServiceInfo,
    },
    /// A tracked device is no longer seen (by connectable sources, or by any, as registered).
    Unavailable {
        /// Which tracker.
        id: TrackId,
        /// The last data seen.
        info: ServiceInfo,
    },
    /// A waiter's matcher and predicate accepted an advertisement. The waiter is gone.
    WaiterDone {
        /// Which waiter.
        id: WaiterId,
        /// What it accepted.
        info: ServiceInfo,
    },
    /// A waiter's deadline passed. The waiter is gone.
    WaiterTimedOut {
        /// Which waiter.
        id: WaiterId,
    },
    /// A packet delivered to a scan-request client (`info.data` is this packet alone).
    Delivery {
        /// The client's name.
        client: Arc<str>,
        /// The packet.
        info: ServiceInfo,
    },
    /// A BTHome packet from the device, decoded with its receiver state. `packet.error` holds the
    /// verdict when there is one (a replayed counter, a duplicate packet id, a downgrade, a MIC
    /// failure, …); objects decoded before a problem are kept.
    Reading {
        /// The device key.
        key: Arc<str>,
        /// The scanner that heard it.
        source: Arc<str>,
        /// The decoded packet.
        packet: bthome::Packet,
    },
    /// The effective scan changed; `None` means no scan is needed any more.
    ScanChanged {
        /// The merged options; `duration_ms` is the time left (or -1).
        options: Option<ScanOptions>,
    },
}

/// An event with the exact time it happened (a timer's own deadline, not the time `advance` ran).
#[derive(Debug, Clone)]
pub struct Output {
    /// When it happened.
    pub at_ms: u64,
    /// What happened.
    pub event: Event,
}

/// Why the manager refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A source name is already registered.
    DuplicateScanner {
        /// The name.
        source: Arc<str>,
    },
    /// No scanner with this name is registered.
    UnknownScanner {
        /// The name.
        source: Arc<str>,
    },
    /// A device key is empty.
    EmptyKey,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateScanner { source } => {
                write!(f, "scanner {source:?} is already registered")
            }
            Self::UnknownScanner { source } => write!(f, "no scanner named {source:?}"),
            Self::EmptyKey => f.write_str("a device key (address or browser id) must not be empty"),
        }
    }
}

impl core::error::Error for Error {}

/// A scanner's identity inside the manager: assigned once, never reused, so a device's record
/// of a forgotten scanner can never be mistaken for a newer one.
pub(crate) type ScannerId = u64;

#[derive(Debug)]
struct Scanner {
    id: ScannerId,
    name: Arc<str>,
    connectable: bool,
    remote: bool,
    registered: bool,
    last_seen_ms: u64,
}

/// The scanner table: by name (every packet names its source) and by id (a device's owner).
#[derive(Debug, Default)]
struct Scanners {
    by_name: HashMap<Arc<str>, ScannerId>,
    by_id: HashMap<ScannerId, Scanner>,
    next_id: ScannerId,
}

impl Scanners {
    fn get(&self, id: ScannerId) -> Option<&Scanner> {
        self.by_id.get(&id)
    }

    fn named(&self, name: &str) -> Option<&Scanner> {
        self.by_id.get(self.by_name.get(name)?)
    }

    fn named_mut(&mut self, name: &str) -> Option<&mut Scanner> {
        self.by_id.get_mut(self.by_name.get(name)?)
    }

    fn iter(&self) -> impl Iterator<Item = &Scanner> {
        self.by_id.values()
    }

    /// Adds a scanner, forgetting the least recently heard one first when `max` are kept.
    fn insert(
        &mut self,
        max: usize,
        name: &str,
        connectable: bool,
        remote: bool,
        now_ms: u64,
    ) -> ScannerId {
        if self.by_id.len() >= max.max(1)
            && let Some(oldest) = self
                .by_id
                .values()
                .min_by_key(|s| (s.last_seen_ms, s.id))
                .map(|s| s.id)
            && let Some(gone) = self.by_id.remove(&oldest)
        {
            self.by_name.remove(&gone.name);
        }
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        let name: Arc<str> = name.into();
        self.by_name.insert(Arc::clone(&name), id);
        self.by_id.insert(
            id,
            Scanner {
                id,
                name,
                connectable,
                remote,
                registered: true,
                last_seen_ms: now_ms,
            },
        );
        id
    }
}

enum Kind {
    Callback,
    Waiter {
        predicate: Option<Predicate>,
        deadline_ms: u64,
    },
}

struct Registration {
    matcher: Matcher,
    kind: Kind,
}

#[derive(Debug)]
struct Tracker {
    id: u64,
    key: Arc<str>,
    connectable: bool,
}

/// Timer kinds in the heap (the connectable entry goes first at equal deadlines: it can only
/// expire at or before the all-sources entry).
const CONNECTABLE: u8 = 0;
const ALL: u8 = 1;

#[derive(Debug, Default)]
struct Slot {
    generation: u32,
    device: Option<Device>,
}

/// The manager. See the module documentation.
pub struct Manager {
    config: Config,
    slots: Vec<Slot>,
    free: Vec<u32>,
    keys: HashMap<Arc<str>, u32>,
    scanners: Scanners,
    registrations: HashMap<u64, Registration>,
    index: Index,
    trackers: Vec<Tracker>,
    waiter_deadlines: BTreeSet<(u64, u64)>,
    scan: ScanRequests,
    /// (deadline, slot, generation, kind), earliest first; entries may be stale (see `advance`).
    timers: BinaryHeap<Reverse<(u64, u32, u32, u8)>>,
    events: VecDeque<Output>,
    dropped_events: u64,
    /// The stamp of the latest event: no later event is stamped earlier.
    last_event_ms: u64,
    next_id: u64,
    scratch: Vec<u64>,
    bindkeys: HashMap<Arc<str>, [u8; 16]>,
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("devices", &self.keys.len())
            .field("scanners", &self.scanners.by_id.len())
            .field("registrations", &self.registrations.len())
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl Default for Manager {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

/// The MAC in a packet's Shelly manufacturer data (block `0x0A`), if it carries one.
fn announced_mac(adv: &Advertisement) -> Option<MacAddress> {
    let data = adv.manufacturer_data.get(&manufacturer::COMPANY_ID)?;
    manufacturer::parse(data).mac
}

/// Upper-case MAC form of `key` when it is a MAC address, else `None` (keep it as it is).
fn canonical_mac(key: &str) -> Option<alloc::string::String> {
    let b = key.as_bytes();
    let already = b.len() == 17
        && b.iter().enumerate().all(|(i, &c)| {
            if i % 3 == 2 {
                c == b':'
            } else {
                c.is_ascii_digit() || (b'A'..=b'F').contains(&c)
            }
        });
    if already {
        return None;
    }
    key.parse::<MacAddress>()
        .ok()
        .map(|m| alloc::string::ToString::to_string(&m))
}

impl Manager {
    /// A manager with these tunables.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            keys: HashMap::new(),
            scanners: Scanners::default(),
            registrations: HashMap::new(),
            index: Index::default(),
            trackers: Vec::new(),
            waiter_deadlines: BTreeSet::new(),
            scan: ScanRequests::default(),
            timers: BinaryHeap::new(),
            events: VecDeque::new(),
            dropped_events: 0,
            last_event_ms: 0,
            next_id: 1,
            scratch: Vec::new(),
            bindkeys: HashMap::new(),
        }
    }

    /// The tunables.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ----- events ---------------------------------------------------------------------------

    /// Queues an event. Stamps never go back: an event whose time is before the last one's (a
    /// caller's clock that went backwards, a deadline moved before what was already reported)
    /// is stamped with the last one's.
    fn emit(&mut self, at_ms: u64, event: Event) {
        let at_ms = at_ms.max(self.last_event_ms);
        self.last_event_ms = at_ms;
        if self.events.len() >= self.config.max_events.max(1) {
            self.events.pop_front();
            self.dropped_events += 1;
        }
        self.events.push_back(Output { at_ms, event });
    }

    /// Takes every pending event, oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = Output> + '_ {
        self.events.drain(..)
    }

    /// Takes the oldest pending event.
    pub fn pop_event(&mut self) -> Option<Output> {
        self.events.pop_front()
    }

    /// How many events were dropped because nobody drained them.
    pub fn dropped_events(&self) -> u64 {
        self.dropped_events
    }

    fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    // ----- scanners -------------------------------------------------------------------------

    /// Registers a named source. `remote` scanners (a Shelly gateway, a capture's other sources)
    /// stop counting as scanning after [`Config::remote_silence_ms`] without a packet.
    pub fn register_scanner(
        &mut self,
        now_ms: u64,
        source: &str,
        connectable: bool,
        remote: bool,
    ) -> Result<(), Error> {
        if let Some(s) = self.scanners.named_mut(source) {
            if s.registered {
                return Err(Error::DuplicateScanner {
                    source: Arc::clone(&s.name),
                });
            }
            s.registered = true;
            s.connectable = connectable;
            s.remote = remote;
            s.last_seen_ms = now_ms;
            return Ok(());
        }
        let max = self.config.max_scanners;
        self.scanners
            .insert(max, source, connectable, remote, now_ms);
        Ok(())
    }

    /// Unregisters a source and forgets what it alone knew (Home Assistant's
    /// `async_remove_scanner`). Devices it owned are handed to another source on their next packet.
    pub fn unregister_scanner(&mut self, source: &str) -> Result<(), Error> {
        let Some(s) = self.scanners.named_mut(source).filter(|s| s.registered) else {
            return Err(Error::UnknownScanner {
                source: source.into(),
            });
        };
        s.registered = false;
        let id = s.id;
        for slot in &mut self.slots {
            if let Some(d) = &mut slot.device {
                d.sources.retain(|e| e.scanner != id);
                if d.owner == Some(id) {
                    d.interval.reset();
                }
            }
        }
        Ok(())
    }

    /// Registered scanners: connectable ones only, or all (Home Assistant's
    /// `async_scanner_count`).
    pub fn scanner_count(&self, connectable: bool) -> usize {
        self.scanners
            .iter()
            .filter(|s| s.registered && (s.connectable || !connectable))
            .count()
    }

    /// Whether a registered scanner is scanning: local ones always, remote ones while they have
    /// sent something within [`Config::remote_silence_ms`].
    pub fn scanner_is_scanning(&self, now_ms: u64, source: &str) -> bool {
        self.scanners
            .named(source)
            .is_some_and(|s| self.scanning(s, now_ms))
    }

    fn scanning(&self, s: &Scanner, now_ms: u64) -> bool {
        s.registered
            && (!s.remote || now_ms.saturating_sub(s.last_seen_ms) <= self.config.remote_silence_ms)
    }

    /// The scanner a packet came from, registered on the fly when new, and marked heard now.
    fn scanner_for(&mut self, now_ms: u64, source: &str, connectable: bool) -> ScannerId {
        if let Some(s) = self.scanners.named_mut(source) {
            if !s.registered {
                s.registered = true;
                s.remote = source != LOCAL_SOURCE;
            }
            s.connectable |= connectable;
            s.last_seen_ms = now_ms;
            return s.id;
        }
        let max = self.config.max_scanners;
        self.scanners
            .insert(max, source, connectable, source != LOCAL_SOURCE, now_ms)
    }

    // ----- devices --------------------------------------------------------------------------

    fn slot_of(&self, key: &str) -> Option<u32> {
        match canonical_mac(key) {
            Some(k) => self.keys.get(k.as_str()).copied(),
            None => self.keys.get(key).copied(),
        }
    }

    fn device(&self, key: &str) -> Option<&Device> {
        let slot = self.slot_of(key)?;
        self.slots.get(slot as usize)?.device.as_ref()
    }

    fn device_mut(&mut self, key: &str) -> Option<&mut Device> {
        let slot = self.slot_of(key)?;
        self.slots.get_mut(slot as usize)?.device.as_mut()
    }

    fn device_at(&mut self, slot: u32) -> Option<&mut Device> {
        self.slots.get_mut(slot as usize)?.device.as_mut()
    }

    fn insert_device(&mut self, key: Arc<str>, now_ms: u64) -> u32 {
        if self.keys.len() >= self.config.max_devices.max(1) {
            self.evict_oldest();
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        };
        if let Some(s) = self.slots.get_mut(slot as usize) {
            s.device = Some(Device::new(Arc::clone(&key), now_ms));
        }
        self.keys.insert(key, slot);
        slot
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.device.as_ref().map(|d| (d.last_seen_ms, i)))
            .min();
        if let Some((_, i)) = oldest {
            self.remove_slot(i as u32);
        }
    }

    fn remove_slot(&mut self, slot: u32) {
        if let Some(s) = self.slots.get_mut(slot as usize)
            && let Some(d) = s.device.take()
        {
            s.generation = s.generation.wrapping_add(1);
            self.keys.remove(&d.key);
            self.free.push(slot);
        }
    }

    /// Devices in the table (with or without current history).
    pub fn device_count(&self) -> usize {
        self.keys.len()
    }

    /// The best source's data: from the connectable history, or from all sources (Home
    /// Assistant's `async_last_service_info`).
    pub fn last_service_info(&self, key: &str, connectable: bool) -> Option<&ServiceInfo> {
        let d = self.device(key)?;
        if connectable {
            d.connectable.as_ref()
        } else {
            d.all.as_ref()
        }
    }

    /// Whether the device is currently in the history (`async_address_present`).
    pub fn address_present(&self, key: &str, connectable: bool) -> bool {
        self.last_service_info(key, connectable).is_some()
    }

    /// Every device currently in the history (`async_discovered_service_info`).
    pub fn discovered(&self, connectable: bool) -> impl Iterator<Item = &ServiceInfo> {
        self.slots.iter().filter_map(move |s| {
            let d = s.device.as_ref()?;
            if connectable {
                d.connectable.as_ref()
            } else {
                d.all.as_ref()
            }
        })
    }

    /// Each source's own view of a device (`async_scanner_devices_by_address`).
    pub fn service_info_by_source(&self, key: &str) -> impl Iterator<Item = &ServiceInfo> {
        self.device(key)
            .into_iter()
            .flat_map(|d| d.sources.iter().map(|e| &e.info))
    }

    /// The learned advertising interval, without the 5 s wobble.
    pub fn learned_interval_ms(&self, key: &str) -> Option<u64> {
        self.device(key)?.interval.learned_ms()
    }

    /// Sets the interval used while none is learned (`async_set_fallback_availability_interval`).
    /// Has no effect on a device not in the table yet.
    pub fn set_fallback_interval(&mut self, key: &str, interval_ms: Option<u64>) {
        let Some(slot) = self.slot_of(key) else {
            return;
        };
        if let Some(d) = self.device_at(slot) {
            d.fallback_interval_ms = interval_ms;
        }
        // A shorter interval brings the deadlines forward: queue them.
        self.schedule(slot);
    }

    /// Forgets a device's histories, per-source data and learned interval, so its next packet
    /// counts as new even when byte-identical (`async_clear_advertisement_history`).
    pub fn clear_history(&mut self, key: &str) {
        if let Some(d) = self.device_mut(key) {
            d.all = None;
            d.connectable = None;
            d.sources.clear();
            d.owner = None;
            d.interval.reset();
            d.queued = [None, None];
        }
    }

    /// Replays the device's current data to every matching callback and waiter, as if it were new
    /// (`async_rediscover_address`): the connectable entry, else the all-sources entry.
    pub fn rediscover_address(&mut self, now_ms: u64, key: &str) {
        self.catch_up(now_ms);
        let info = match self.device(key) {
            Some(d) => d.connectable.clone().or_else(|| d.all.clone()),
            None => None,
        };
        if let Some(info) = info {
            self.dispatch(now_ms, &info);
        }
    }

    fn limit_ms(&self, d: &Device) -> u64 {
        match d.interval.learned_ms().or(d.fallback_interval_ms) {
            Some(i) => i.saturating_add(self.config.wobble_ms),
            None => self.config.fallback_stale_ms,
        }
    }

    /// Classic arbitration: true when the old entry keeps ownership against the new one.
    fn prefer_previous(&self, d: &Device, old: &ServiceInfo, new: &ServiceInfo) -> bool {
        if new.time_ms.saturating_sub(old.time_ms) > self.limit_ms(d) {
            return false;
        }
        let rssi = |r: Option<i8>| i16::from(r.unwrap_or(-127));
        rssi(new.rssi) - self.config.rssi_switch_db <= rssi(old.rssi)
    }

    /// Sets (or clears) the BTHome bind key of a device. Keys are kept apart from the device
    /// table, so they survive eviction and may be set before the device is first heard.
    pub fn set_bindkey(&mut self, key: &str, bindkey: Option<[u8; 16]>) {
        let key: Arc<str> = match canonical_mac(key) {
            Some(k) => k.into(),
            None => key.into(),
        };
        if let Some(state) = self.device_mut(&key).and_then(|d| d.bthome.as_mut())
            && state.key != bindkey
        {
            state.set_key(bindkey);
        }
        match bindkey {
            Some(b) => {
                self.bindkeys.insert(key, b);
            }
            None => {
                self.bindkeys.remove(&key);
            }
        }
    }

    /// The MAC the device's Shelly manufacturer data announced (block `0x0A`, heard in any of its
    /// packets, kept while the device is in the table). Browsers hide addresses, so for a device
    /// named by an opaque id this is what decrypts its BTHome data (step 2).
    pub fn announced_mac(&self, key: &str) -> Option<MacAddress> {
        self.device(key)?.announced_mac
    }

    /// A device's BTHome receiver state (to persist its counter, or to show key verification).
    pub fn bthome_state(&self, key: &str) -> Option<&bthome::ReceiverState> {
        self.device(key)?.bthome.as_ref()
    }

    /// The BTHome bind key of a device, when set.
    pub fn bindkey(&self, key: &str) -> Option<&[u8; 16]> {
        match canonical_mac(key) {
            Some(k) => self.bindkeys.get(k.as_str()),
            None => self.bindkeys.get(key),
        }
    }

    // ----- ingestion ------------------------------------------------------------------------

    /// Feeds one packet heard by `source` from the device `key` (a MAC address in any case, or a
    /// browser device id). Unknown sources are registered on the fly (`"local"` as the local
    /// scanner, any other name as a remote one). Timers due before `now_ms` fire first.
    pub fn ingest(
        &mut self,
        now_ms: u64,
        source: &str,
        key: &str,
        connectable: bool,
        adv: Advertisement,
    ) -> Result<(), Error> {
        if key.is_empty() {
            return Err(Error::EmptyKey);
        }
        self.catch_up(now_ms);
        let scanner = self.scanner_for(now_ms, source, connectable);
        let slot = match self.slot_of(key) {
            Some(s) => s,
            None => {
                let k: Arc<str> = match canonical_mac(key) {
                    Some(k) => k.into(),
                    None => key.into(),
                };
                self.insert_device(k, now_ms)
            }
        };
        let Some(d) = self.device_at(slot) else {
            return Ok(());
        };
        let key = Arc::clone(&d.key);
        let source_name = self
            .scanners
            .get(scanner)
            .map(|s| Arc::clone(&s.name))
            .unwrap_or_else(|| source.into());

        // 1. Deliveries, on the packet itself.
        if !self.scan.requests.is_empty() {
            self.deliver(now_ms, &key, &source_name, connectable, &adv);
        }

        // 2. BTHome.
        if let Some(mac) = announced_mac(&adv)
            && let Some(d) = self.device_at(slot)
        {
            d.announced_mac = Some(mac);
        }
        if bthome::service_data(&adv).is_some() {
            let bindkey = self.bindkeys.get(&key).copied();
            let mac = adv
                .address
                .or_else(|| key.parse::<MacAddress>().ok())
                .or_else(|| self.device_ref(slot).and_then(|d| d.announced_mac));
            if let Some(d) = self.device_at(slot) {
                let state = d
                    .bthome
                    .get_or_insert_with(|| bthome::ReceiverState::new(bindkey));
                if let Some(packet) = state.receive_advertisement(&adv, mac, now_ms) {
                    self.emit(
                        now_ms,
                        Event::Reading {
                            key: Arc::clone(&key),
                            source: Arc::clone(&source_name),
                            packet,
                        },
                    );
                }
            }
        }

        // 3. Per-source merge.
        let (rssi, tx_power) = (adv.rssi, adv.tx_power);
        let expire = self.config.source_expire_ms;
        let max_sources = self.config.max_sources_per_device.max(1);
        let Some(d) = self.device_at(slot) else {
            return Ok(());
        };
        let pos = d.sources.iter().position(|e| e.scanner == scanner);
        let data = match pos.and_then(|p| d.sources.get(p)) {
            Some(e) if now_ms.saturating_sub(e.info.time_ms) <= expire => {
                device::merge(&e.info.data, adv)
            }
            _ => device::fresh(adv),
        };
        let info = ServiceInfo {
            key,
            source: source_name,
            data,
            rssi,
            tx_power,
            time_ms: now_ms,
            connectable,
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
        d.last_seen_ms = now_ms;
        if connectable {
            d.last_connectable_ms = Some(now_ms);
        }

        // 4. Best source.
        let keep_old = match self.device_ref(slot) {
            Some(d) => match (&d.all, d.owner) {
                (Some(old), Some(owner)) if owner != scanner => {
                    self.scanners
                        .get(owner)
                        .is_some_and(|s| self.scanning(s, now_ms))
                        && self.prefer_previous(d, old, &info)
                }
                _ => false,
            },
            None => false,
        };
        if keep_old {
            if connectable {
                let replace = match self.device_ref(slot) {
                    Some(d) => match (&d.connectable, &d.all) {
                        (Some(c), Some(all)) => {
                            !(Arc::ptr_eq(&c.source, &all.source)
                                || self.prefer_previous(d, c, &info))
                        }
                        _ => true,
                    },
                    None => false,
                };
                if replace && let Some(d) = self.device_at(slot) {
                    d.connectable = Some(info);
                }
            }
            self.schedule(slot);
            return Ok(());
        }

        let Some(d) = self.device_at(slot) else {
            return Ok(());
        };
        let connectable_is_new = connectable && d.connectable.is_none();
        let changed = d.all.as_ref().is_none_or(|old| !old.same_data(&info));
        if connectable {
            d.connectable = Some(info.clone());
        }
        d.owner = Some(scanner);
        // 5. Interval learning from the owner.
        d.interval.collect(scanner, now_ms);
        d.all = Some(info.clone());
        self.schedule(slot);

        // 6. + 7. Dedupe and dispatch. A non-connectable packet of a device that a registered
        // connectable scanner also hears is dispatched as connectable (habluetooth step 8).
        if changed || connectable_is_new {
            let reachable = !connectable
                && self.device_ref(slot).is_some_and(|d| {
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
        Ok(())
    }

    fn device_ref(&self, slot: u32) -> Option<&Device> {
        self.slots.get(slot as usize)?.device.as_ref()
    }

    fn deliver(
        &mut self,
        now_ms: u64,
        key: &Arc<str>,
        source: &Arc<str>,
        connectable: bool,
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
                        key: Arc::clone(key),
                        source: Arc::clone(source),
                        data,
                        rssi: adv.rssi,
                        tx_power: adv.tx_power,
                        time_ms: now_ms,
                        connectable,
                    },
                });
            }
        }
        for e in out {
            self.emit(now_ms, e);
        }
    }

    /// Runs the matcher index for this data and emits callbacks (in registration order) and
    /// resolved waiters.
    fn dispatch(&mut self, now_ms: u64, info: &ServiceInfo) {
        let mut scratch = core::mem::take(&mut self.scratch);
        scratch.clear();
        self.index
            .candidates(&info.key, info.name(), &info.data, &mut scratch);
        if scratch.is_empty() {
            self.scratch = scratch;
            return;
        }
        scratch.sort_unstable();
        scratch.dedup();
        let mut resolved = Vec::new();
        for &id in &scratch {
            let Some(reg) = self.registrations.get(&id) else {
                continue;
            };
            if !reg
                .matcher
                .matches_ignoring_address(&info.key, &info.data, info.connectable)
            {
                continue;
            }
            match &reg.kind {
                Kind::Callback => {
                    let event = Event::Callback {
                        id: CallbackId(id),
                        info: info.clone(),
                    };
                    self.emit(now_ms, event);
                }
                Kind::Waiter { predicate, .. } => {
                    if predicate.as_ref().is_none_or(|p| p(info)) {
                        resolved.push(id);
                    }
                }
            }
        }
        self.scratch = scratch;
        for id in resolved {
            self.finish_waiter(id);
            self.emit(
                now_ms,
                Event::WaiterDone {
                    id: WaiterId(id),
                    info: info.clone(),
                },
            );
        }
    }

    // ----- timers ---------------------------------------------------------------------------

    fn deadline(&self, d: &Device, kind: u8) -> Option<u64> {
        let limit = self.limit_ms(d);
        match kind {
            ALL => d.all.as_ref().map(|_| d.last_seen_ms.saturating_add(limit)),
            _ => d
                .connectable
                .as_ref()
                .and(d.last_connectable_ms)
                .map(|t| t.saturating_add(limit)),
        }
    }

    /// Makes sure each of the device's current deadlines has a heap entry at or before it.
    fn schedule(&mut self, slot: u32) {
        let Some(s) = self.slots.get(slot as usize) else {
            return;
        };
        let generation = s.generation;
        let Some(d) = s.device.as_ref() else {
            return;
        };
        let wanted = [self.deadline(d, CONNECTABLE), self.deadline(d, ALL)];
        for (kind, deadline) in wanted.into_iter().enumerate() {
            let Some(deadline) = deadline else { continue };
            let Some(d) = self.device_at(slot) else {
                return;
            };
            let queued = d.queued.get_mut(kind);
            if let Some(q) = queued
                && q.is_none_or(|q| deadline < q)
            {
                *q = Some(deadline);
                self.timers
                    .push(Reverse((deadline, slot, generation, kind as u8)));
            }
        }
    }

    /// The earliest time [`Manager::advance`] has work to do (it may find nothing due then: call
    /// it and ask again).
    pub fn next_deadline(&self) -> Option<u64> {
        [
            self.timers.peek().map(|Reverse((t, ..))| *t),
            self.scan.next_expiry(),
            self.waiter_deadlines.first().map(|(t, _)| *t),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires what is due before `now_ms` (not at it: a packet at a device's deadline keeps it),
    /// so that what a call at `now_ms` emits comes after them.
    fn catch_up(&mut self, now_ms: u64) {
        self.advance(now_ms.saturating_sub(1));
    }

    /// Fires everything due at or before `now_ms`, in time order, each stamped with its own time:
    /// unavailability, scan-request expiry, waiter timeouts.
    pub fn advance(&mut self, now_ms: u64) {
        loop {
            let unavailable = self
                .timers
                .peek()
                .map(|Reverse((t, ..))| *t)
                .filter(|&t| t <= now_ms);
            let scan = self.scan.next_expiry().filter(|&t| t <= now_ms);
            let waiter = self
                .waiter_deadlines
                .first()
                .map(|(t, _)| *t)
                .filter(|&t| t <= now_ms);
            let Some(t) = [unavailable, scan, waiter].into_iter().flatten().min() else {
                return;
            };
            if scan == Some(t) {
                self.expire_scans(t);
            } else if waiter == Some(t) {
                self.expire_waiters(t);
            } else {
                self.fire_timer();
            }
        }
    }

    fn fire_timer(&mut self) {
        let Some(Reverse((t, slot, generation, kind))) = self.timers.pop() else {
            return;
        };
        let Some(s) = self.slots.get(slot as usize) else {
            return;
        };
        if s.generation != generation {
            return;
        }
        let Some(d) = s.device.as_ref() else {
            return;
        };
        if d.queued.get(kind as usize).copied().flatten() != Some(t) {
            return; // superseded by an earlier entry
        }
        let current = self.deadline(d, kind);
        let Some(d) = self.device_at(slot) else {
            return;
        };
        if let Some(q) = d.queued.get_mut(kind as usize) {
            *q = None;
        }
        match current {
            None => {}
            Some(c) if c > t => {
                if let Some(q) = d.queued.get_mut(kind as usize) {
                    *q = Some(c);
                }
                self.timers.push(Reverse((c, slot, generation, kind)));
            }
            Some(c) => self.expire_device(slot, kind, c),
        }
    }

    fn expire_device(&mut self, slot: u32, kind: u8, at_ms: u64) {
        if kind == ALL
            && self
                .device_at(slot)
                .is_some_and(|d| d.connectable.is_some())
        {
            self.expire_device(slot, CONNECTABLE, at_ms);
        }
        let Some(d) = self.device_at(slot) else {
            return;
        };
        let info = if kind == ALL {
            // Home Assistant's all pass: the device is gone; forget everything but its BTHome
            // receiver state (kept so counters stay monotonic).
            d.sources.clear();
            d.owner = None;
            d.interval.reset();
            d.all.take()
        } else {
            d.connectable.take()
        };
        let Some(info) = info else { return };
        let hits: Vec<u64> = self
            .trackers
            .iter()
            .filter(|t| t.key == info.key && t.connectable == (kind == CONNECTABLE))
            .map(|t| t.id)
            .collect();
        for id in hits {
            self.emit(
                at_ms,
                Event::Unavailable {
                    id: TrackId(id),
                    info: info.clone(),
                },
            );
        }
    }

    // ----- callbacks, trackers, waiters -------------------------------------------------------

    fn replay_history(&self, matcher: &Matcher) -> Vec<ServiceInfo> {
        let pick = |d: &Device| -> Option<ServiceInfo> {
            let info = if matcher.connectable {
                d.connectable.as_ref()
            } else {
                d.all.as_ref()
            }?;
            matcher
                .matches_ignoring_address(&info.key, &info.data, info.connectable)
                .then(|| info.clone())
        };
        match &matcher.address {
            Some(a) => self.device(a).and_then(pick).into_iter().collect(),
            None => self
                .slots
                .iter()
                .filter_map(|s| s.device.as_ref().and_then(pick))
                .collect(),
        }
    }

    /// Registers a callback. Matching devices already in the history are reported at once (as
    /// Home Assistant's registration does).
    pub fn register_callback(&mut self, now_ms: u64, matcher: Matcher) -> CallbackId {
        self.catch_up(now_ms);
        let id = self.fresh_id();
        for info in self.replay_history(&matcher) {
            self.emit(
                now_ms,
                Event::Callback {
                    id: CallbackId(id),
                    info,
                },
            );
        }
        self.index.insert(id, &matcher);
        self.registrations.insert(
            id,
            Registration {
                matcher,
                kind: Kind::Callback,
            },
        );
        CallbackId(id)
    }

    /// Cancels a callback. Returns false when it was not registered.
    pub fn cancel_callback(&mut self, id: CallbackId) -> bool {
        match self.registrations.remove(&id.0) {
            Some(reg) => {
                self.index.remove(id.0, &reg.matcher);
                true
            }
            None => false,
        }
    }

    /// Waits for the first advertisement the matcher and the predicate accept, until
    /// `deadline_ms` (then [`Event::WaiterTimedOut`]; a deadline already past times out at
    /// `now_ms`). History counts: a matching device already known resolves it at once
    /// (`async_process_advertisements`).
    pub fn wait_for(
        &mut self,
        now_ms: u64,
        matcher: Matcher,
        predicate: Option<Predicate>,
        deadline_ms: u64,
    ) -> WaiterId {
        self.catch_up(now_ms);
        let deadline_ms = deadline_ms.max(now_ms);
        let id = self.fresh_id();
        let hit = self
            .replay_history(&matcher)
            .into_iter()
            .find(|info| predicate.as_ref().is_none_or(|p| p(info)));
        if let Some(info) = hit {
            self.emit(
                now_ms,
                Event::WaiterDone {
                    id: WaiterId(id),
                    info,
                },
            );
            return WaiterId(id);
        }
        self.index.insert(id, &matcher);
        self.waiter_deadlines.insert((deadline_ms, id));
        self.registrations.insert(
            id,
            Registration {
                matcher,
                kind: Kind::Waiter {
                    predicate,
                    deadline_ms,
                },
            },
        );
        WaiterId(id)
    }

    /// Cancels a waiter without an event. Returns false when it was not waiting.
    pub fn cancel_waiter(&mut self, id: WaiterId) -> bool {
        self.finish_waiter(id.0)
    }

    fn finish_waiter(&mut self, id: u64) -> bool {
        match self.registrations.remove(&id) {
            Some(reg) => {
                self.index.remove(id, &reg.matcher);
                if let Kind::Waiter { deadline_ms, .. } = reg.kind {
                    self.waiter_deadlines.remove(&(deadline_ms, id));
                }
                true
            }
            None => false,
        }
    }

    fn expire_waiters(&mut self, t: u64) {
        while let Some(&(deadline, id)) = self.waiter_deadlines.first() {
            if deadline > t {
                break;
            }
            self.finish_waiter(id);
            self.waiter_deadlines.remove(&(deadline, id));
            self.emit(deadline, Event::WaiterTimedOut { id: WaiterId(id) });
        }
    }

    /// Reports when the device leaves the connectable history (`connectable`) or the all-sources
    /// history (`async_track_unavailable`).
    pub fn track_unavailable(&mut self, key: &str, connectable: bool) -> TrackId {
        let id = self.fresh_id();
        let key: Arc<str> = match canonical_mac(key) {
            Some(k) => k.into(),
            None => key.into(),
        };
        self.trackers.push(Tracker {
            id,
            key,
            connectable,
        });
        TrackId(id)
    }

    /// Cancels a tracker. Returns false when it was not registered.
    pub fn cancel_tracker(&mut self, id: TrackId) -> bool {
        let before = self.trackers.len();
        self.trackers.retain(|t| t.id != id.0);
        self.trackers.len() != before
    }

    // ----- scan requests ----------------------------------------------------------------------

    /// Submits (or replaces) a client's scan request. Emits [`Event::ScanChanged`] when the
    /// effective scan changes.
    pub fn submit_scan(&mut self, now_ms: u64, client: &str, options: ScanOptions) {
        self.submit_scans(now_ms, [(client, options)]);
    }

    /// Submits several requests at once: the effective scan is computed (and reported) once.
    pub fn submit_scans<'a>(
        &mut self,
        now_ms: u64,
        requests: impl IntoIterator<Item = (&'a str, ScanOptions)>,
    ) {
        self.catch_up(now_ms);
        for (client, options) in requests {
            self.scan.requests.retain(|r| &*r.client != client);
            let expires_ms = u64::try_from(options.duration_ms)
                .ok()
                .map(|d| now_ms.saturating_add(d));
            self.scan.requests.push(ScanRequest {
                client: client.into(),
                options,
                expires_ms,
            });
        }
        self.recompute_scan(now_ms);
    }

    /// Withdraws a client's scan request.
    pub fn cancel_scan(&mut self, now_ms: u64, client: &str) {
        self.catch_up(now_ms);
        self.scan.requests.retain(|r| &*r.client != client);
        self.recompute_scan(now_ms);
    }

    /// The effective scan now, or `None` when no request is live.
    pub fn effective_scan(&self, now_ms: u64) -> Option<ScanOptions> {
        self.scan.effective.as_ref().map(|e| e.at(now_ms))
    }

    fn expire_scans(&mut self, t: u64) {
        self.scan
            .requests
            .retain(|r| r.expires_ms.is_none_or(|e| e > t));
        self.recompute_scan(t);
    }

    fn recompute_scan(&mut self, now_ms: u64) {
        let next: Option<Effective> = scan::combine(&self.scan.requests);
        if next != self.scan.effective {
            let options = next.as_ref().map(|e| e.at(now_ms));
            self.scan.effective = next;
            self.emit(now_ms, Event::ScanChanged { options });
        }
    }
}

#[cfg(test)]
mod tests;
