//! The Bluetooth manager: Home Assistant's Bluetooth manager and Shelly's scan manager as pure
//! logic. Time is an argument; results are [`Output`]s the caller drains.
//!
//! ```text
//! ingest(now, source, key, connectable, adv)   one packet from a scanner (local or remote)
//! ingest_objects(now, source, key, objects)     BTHome objects a remote scanner already decoded
//! advance(now)                                  fire timers (unavailability, scan expiry, waiters)
//! next_deadline()                               when to call advance next
//! drain()                                       the events, each stamped with its exact time
//! ```
//!
//! ```
//! use bluehome_core::filter::Matcher;
//! use bluehome_core::manager::{Event, History, Manager};
//! use bluehome_core::{Advertisement, Connectable, DeviceKey};
//!
//! let mut mgr = Manager::default();
//! let shelly = mgr.register_callback(0, Matcher::from_json(r#"{"manufacturer_id":2985}"#).unwrap());
//! let tracked: DeviceKey = "3C:2E:F5:71:D9:B0".parse().unwrap();
//! let gone = mgr.track_unavailable(&tracked, History::All);
//!
//! let mut adv = Advertisement::bthome(vec![0x40, 0x02, 0xca, 0x09]); // 25.06 °C
//! adv.rssi = Some(-60);
//! adv.manufacturer_data.insert(0x0BA9, vec![0x01]);
//! let heard: DeviceKey = "3c:2e:f5:71:d9:b0".parse().unwrap(); // the same device
//! mgr.ingest(1_000, "local", &heard, Connectable::Yes, adv);
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
//!    is the packet's address, else the MAC given with [`Manager::set_mac`], else the key when it
//!    is a MAC address, else the MAC the device's Shelly manufacturer data announced in this or an
//!    earlier packet (Shelly BLU sends it in the scan response, apart from the BTHome data; browsers
//!    hide the address). Objects a remote scanner decoded itself ([`Manager::ingest_objects`]: a
//!    Shelly gateway's BTHome sensors) become the reading as they are, with an empty packet.
//!    The reading is emitted after steps 4–6, which say whether the packet is news: one that
//!    loses to the owner or repeats the device's data keeps its sensor values but not its events
//!    (button, dimmer, command), as bthome-ble behind Home Assistant never sees such a packet.
//! 3. Per-source merge: the packet is merged into what this source knew about the device (union of
//!    manufacturer data, service data and UUIDs; the longer name kept; latest RSSI, tx power, time),
//!    or starts afresh when that is older than 195 s.
//! 4. Best source: a packet from another source than the current owner takes over only when the
//!    owner is unregistered or silent (remote, 90 s), its last packet is stale (the learned
//!    interval plus 5 s, or 900 s while unknown), or the new packet is more than 16 dB stronger.
//!    A packet that loses still becomes the connectable entry when it is connectable, unless that
//!    entry is the owner's own packet or beats the new one as the owner did; a source's own newer
//!    packet always replaces its entry. A missing RSSI counts as -127 dBm.
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
//! Devices are named by [`DeviceKey`]. The table is the one record of what was heard:
//! [`Manager::device`] and [`Manager::devices`] show each device's best data (kept after it goes
//! unavailable, until [`Manager::clear_history`]), first and last time heard, packet count, MAC
//! and kind. Bind keys and given MACs are kept apart from it (they outlive eviction).
//!
//! Memory is bounded: at most [`Config::max_devices`] devices (the least recently seen is evicted,
//! with an [`Event::Evicted`]), [`Config::max_scanners`] scanners (the least recently heard is
//! forgotten), [`Config::max_sources_per_device`] sources per device and [`Config::max_events`]
//! undrained events (the oldest are dropped and counted). Scanners are found by name in a hash map,
//! so a packet costs the same whether the manager has heard one source or a million.
//!
//! Time never wraps: every deadline is computed with saturating arithmetic, so a clock near
//! `u64::MAX` makes deadlines stop at `u64::MAX` rather than come round to the past. Events come
//! out in time order: every call that takes the time fires the timers due before it first (as
//! `ingest` does), and a waiter's deadline is never before the time it was registered.

use alloc::collections::{BTreeSet, BinaryHeap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::fmt;

use hashbrown::HashMap;

use crate::advertisement::MacAddress;
use crate::bthome::{self, BindKey};
use crate::device::DeviceKey;
use crate::filter::ScanOptions;

mod device;
mod index;
mod ingest;
mod registry;
mod scan;
mod scanners;
mod table;
mod timers;

pub use device::{ADVERTISING_TIMES_NEEDED, ServiceInfo};
pub use registry::Predicate;
pub use table::DeviceRef;

use index::Index;
use registry::{Registration, Tracker};
use scan::ScanRequests;
use scanners::Scanners;
use table::Slot;
use timers::TimerKind;

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

/// Which of Home Assistant's two histories: every source's packets, or connectable ones only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// `all_history`: the best packet from any source.
    All,
    /// `connectable_history`: the best connectable packet from a connectable source.
    Connectable,
}

/// Where a scanner listens from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScannerKind {
    /// The browser's (or host's) own adapter: scanning as long as it is registered.
    Local,
    /// Another device that relays what it hears (a Shelly gateway, a capture's other sources):
    /// scanning only while it has sent something within [`Config::remote_silence_ms`].
    Remote,
    /// A remote scanner asked now and then for the last advertisement it heard of each device (a
    /// Shelly gateway's `BLE.CloudRelay.ListInfos`): as [`Self::Remote`], and its packets arrive
    /// late, so their BTHome data is judged as late reports
    /// ([`crate::bthome::ReceiverState::receive_relayed`]).
    Polled,
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
    /// failure, …); objects decoded before a problem are kept. The events (button, dimmer,
    /// command) are left out when the packet is no news: it lost to the device's owner or
    /// repeats the device's data (module documentation, step 2).
    Reading {
        /// The device.
        key: DeviceKey,
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
    /// The table was full and this device, the least recently seen, left it for a new one (its
    /// bind key and given MAC stay).
    Evicted {
        /// The device.
        key: DeviceKey,
    },
    /// The entry kept under a MAC (a Shelly gateway's report) is the device heard under a
    /// browser's id that has announced that MAC: the entry has left the table, and what comes for
    /// the MAC goes to the device ([`Manager::device_key`]).
    Merged {
        /// The MAC's entry, gone.
        from: DeviceKey,
        /// The device it joined.
        into: DeviceKey,
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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateScanner { source } => {
                write!(f, "scanner {source:?} is already registered")
            }
            Self::UnknownScanner { source } => write!(f, "no scanner named {source:?}"),
        }
    }
}

impl core::error::Error for Error {}

/// A scanner's identity inside the manager: assigned once, never reused, so a device's record
/// of a forgotten scanner can never be mistaken for a newer one.
pub(crate) type ScannerId = u64;

/// The manager. See the module documentation.
pub struct Manager {
    config: Config,
    // The device table (table.rs).
    slots: Vec<Slot>,
    free: Vec<u32>,
    keys: HashMap<DeviceKey, u32>,
    bindkeys: HashMap<DeviceKey, BindKey>,
    macs: HashMap<DeviceKey, MacAddress>,
    // Scanners (scanners.rs).
    scanners: Scanners,
    // Callbacks, waiters and trackers (registry.rs).
    registrations: HashMap<u64, Registration>,
    index: Index,
    trackers: Vec<Tracker>,
    waiter_deadlines: BTreeSet<(u64, u64)>,
    scratch: Vec<u64>,
    // Scan requests (scan.rs).
    scan: ScanRequests,
    // Timers (timers.rs): (deadline, slot, generation, kind), earliest first; entries may be
    // stale (see `advance`).
    timers: BinaryHeap<Reverse<(u64, u32, u32, TimerKind)>>,
    // Events.
    events: VecDeque<Output>,
    dropped_events: u64,
    /// The stamp of the latest event: no later event is stamped earlier.
    last_event_ms: u64,
    next_id: u64,
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("devices", &self.keys.len())
            .field("scanners", &self.scanners.len())
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

impl Manager {
    /// A manager with these tunables.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            keys: HashMap::new(),
            bindkeys: HashMap::new(),
            macs: HashMap::new(),
            scanners: Scanners::default(),
            registrations: HashMap::new(),
            index: Index::default(),
            trackers: Vec::new(),
            waiter_deadlines: BTreeSet::new(),
            scratch: Vec::new(),
            scan: ScanRequests::default(),
            timers: BinaryHeap::new(),
            events: VecDeque::new(),
            dropped_events: 0,
            last_event_ms: 0,
            next_id: 1,
        }
    }

    /// The tunables.
    pub fn config(&self) -> &Config {
        &self.config
    }

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
}

#[cfg(test)]
mod tests;
