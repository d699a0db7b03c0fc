//! Device-profile slots: ZMK's Bluetooth profile model, applied to Shelly devices in a browser.
//!
//! The app owns `N` slots (5 by default, as ZMK). Each slot is empty ("open") or bound to one
//! Shelly device, keyed by its MAC address (from the Shelly manufacturer data or
//! `Shelly.GetDeviceInfo`; Web Bluetooth hides the radio address). One slot is *active*: it is the
//! one the app talks to and tries to reach. The rules follow ZMK's `app/src/ble.c`
//! (see `shared/reference/zmk_profiles.md`):
//!
//! - new bindings land only in the active slot, and only while it is open (or when the same device
//!   binds again); a taken slot never gets a new device;
//! - `select`/`next`/`prev` (wrapping modulo `N`, passing through open slots) never disconnect
//!   anything; selecting the active slot is a strict no-op;
//! - `clear` forgets only the active slot's device, `clear_all` every slot and then selects 0;
//! - `disconnect(n)` drops a live link and keeps the binding;
//! - slot bindings are saved at once, the active index with a trailing debounce: every switch
//!   restarts the timer and only the final value is written.
//!
//! This module is pure: time is an argument, and every command returns the [`Effect`]s the caller
//! must perform (write storage now, write it at time T, disconnect, forget the browser
//! permission). Persistence is a versioned JSON document; [`Profiles::load`] never throws data away:
//! corrupt, newer-version or partly invalid documents come back whole as `kept_aside` with a
//! [`LoadIssue`] list the app shows to the user.
//!
//! Deviation from ZMK: ZMK cannot bond one host twice, so a device bound in slot 2 is simply
//! reconnected there. Here binding a MAC already held by another slot is refused with
//! [`Error::AlreadyBound`] naming that slot, so one device never sits in two slots.

use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::advertisement::MacAddress;

/// The number of slots when nothing else is configured (ZMK's `CONFIG_BT_MAX_PAIRED` default).
pub const DEFAULT_SLOT_COUNT: usize = 5;
/// The largest configurable slot count.
pub const MAX_SLOT_COUNT: usize = 32;
/// Default trailing debounce for saving the active index, in milliseconds. ZMK waits 60 s to
/// spare flash; browser storage is cheap, so a short delay that still coalesces bursts of
/// switching is enough.
pub const DEFAULT_SAVE_DEBOUNCE_MS: u64 = 2_000;
/// The `schema` field of every stored or exported document.
pub const SCHEMA: &str = "bluehome.profiles";
/// The schema version this code writes and the newest it reads.
pub const VERSION: u32 = 1;

/// What went wrong with a profile command or a stored/imported document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A slot index past the end (ZMK's `-ERANGE`).
    OutOfRange {
        /// The index asked for.
        index: usize,
        /// How many slots there are.
        count: usize,
    },
    /// The slot has no device bound (ZMK's `-ENODEV` for an open profile).
    SlotOpen {
        /// The slot.
        index: usize,
    },
    /// The slot's device is not connected, so there is nothing to disconnect (`-ENODEV`).
    NotConnected {
        /// The slot.
        index: usize,
    },
    /// The active slot already holds another device; select an open slot or clear this one.
    SlotTaken {
        /// The active slot.
        index: usize,
        /// The device bound there.
        bound: MacAddress,
    },
    /// The device is already bound in another slot.
    AlreadyBound {
        /// The device.
        mac: MacAddress,
        /// The slot that holds it.
        index: usize,
    },
    /// A slot count of 0 or above [`MAX_SLOT_COUNT`].
    BadSlotCount {
        /// The count asked for.
        requested: usize,
    },
    /// The document is not valid JSON or does not have the profile document's shape.
    Corrupt {
        /// serde_json's description, with line and column.
        detail: String,
    },
    /// The document's `schema` field is not [`SCHEMA`].
    WrongSchema {
        /// The schema name found (empty if missing).
        found: String,
    },
    /// The document was written by a newer version of the app.
    NewerVersion {
        /// The version in the document.
        found: u32,
        /// The newest version this code reads.
        supported: u32,
    },
    /// One slot record is invalid.
    BadSlot {
        /// The slot index in the document.
        index: usize,
        /// The field that was wrong.
        field: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfRange { index, count } => {
                write!(
                    f,
                    "profile {index} does not exist (there are {count}: 0 to {})",
                    count.saturating_sub(1)
                )
            }
            Self::SlotOpen { index } => write!(f, "profile {index} has no device"),
            Self::NotConnected { index } => {
                write!(f, "the device of profile {index} is not connected")
            }
            Self::SlotTaken { index, bound } => write!(
                f,
                "profile {index} already holds {bound}; select an empty profile or clear this one first"
            ),
            Self::AlreadyBound { mac, index } => {
                write!(
                    f,
                    "{mac} is already saved in profile {index}; select that profile instead"
                )
            }
            Self::BadSlotCount { requested } => {
                write!(
                    f,
                    "{requested} profiles requested; between 1 and {MAX_SLOT_COUNT} are allowed"
                )
            }
            Self::Corrupt { detail } => write!(f, "the saved profiles are unreadable: {detail}"),
            Self::WrongSchema { found } => {
                write!(
                    f,
                    "this is not a bluehome profiles file (schema \"{found}\", expected \"{SCHEMA}\")"
                )
            }
            Self::NewerVersion { found, supported } => write!(
                f,
                "the profiles were saved by a newer bluehome (format version {found}; this one reads up to {supported})"
            ),
            Self::BadSlot { index, field } => {
                write!(f, "saved profile {index} has an invalid {field}")
            }
        }
    }
}

impl core::error::Error for Error {}

/// One bound device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The device's MAC address: the profile key.
    pub mac: MacAddress,
    /// A display name (the device name, or its id like `shellyplus1-a8032ab12345`).
    pub name: String,
    /// The model (e.g. `SNSW-001X16EU`), when known.
    pub model: Option<String>,
    /// The browser's `BluetoothDevice.id`, when known: lets `getDevices()` find it again.
    pub device_id: Option<String>,
    /// The remembered digest HA1 (`sha256("admin:realm:password")` in hex), only if the user
    /// asked to remember it. Never the password itself.
    pub ha1: Option<String>,
}

impl Binding {
    /// A binding with a MAC and a name and nothing else.
    pub fn new(mac: MacAddress, name: impl Into<String>) -> Self {
        Self {
            mac,
            name: name.into(),
            model: None,
            device_id: None,
            ha1: None,
        }
    }
}

/// The state of one slot (ZMK: OPEN, BONDED_DISCONNECTED, BONDED_CONNECTED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// No device bound.
    Open,
    /// A device is bound but not connected.
    BoundDisconnected,
    /// A device is bound and connected.
    BoundConnected,
}

/// What the app should be doing for the active slot (ZMK's advertising status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeking {
    /// The active slot is connected: nothing to do.
    Nothing,
    /// The active slot is open: offer to add a device (the chooser).
    NewDevice,
    /// The active slot's device is bound but not connected: reconnect to it.
    Reconnect(MacAddress),
}

/// Something the caller must do after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The active slot changed, or its device connected, disconnected, bound or was cleared.
    ActiveChanged {
        /// The active slot.
        index: usize,
    },
    /// Write [`Profiles::to_storage_json`] now (a slot binding changed).
    SaveNow,
    /// The debounced save of the active index is (re)scheduled: call [`Profiles::poll`] at or
    /// after this time. A later `SaveDueAt` replaces an earlier one.
    SaveDueAt(u64),
    /// Drop the live link to this device (its binding stays).
    Disconnect(MacAddress),
    /// Forget this cleared binding's device on the browser side (`BluetoothDevice.forget()`
    /// where available, through its `device_id`) and drop any secret entered for it, so nothing
    /// keeps using a cleared binding.
    Forget(Binding),
}

/// Slot-count and debounce settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The number of slots, 1 to [`MAX_SLOT_COUNT`].
    pub slot_count: usize,
    /// The trailing debounce for saving the active index, in milliseconds.
    pub save_debounce_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            slot_count: DEFAULT_SLOT_COUNT,
            save_debounce_ms: DEFAULT_SAVE_DEBOUNCE_MS,
        }
    }
}

/// The profile slots and their state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profiles {
    config: Config,
    slots: Vec<Option<Binding>>,
    active: usize,
    /// The active index as last written to storage (what a reload would come back to).
    persisted_active: usize,
    live: BTreeSet<MacAddress>,
    save_due: Option<u64>,
}

impl Default for Profiles {
    fn default() -> Self {
        Self::empty(Config::default().slot_count, Config::default())
    }
}

impl Profiles {
    /// `config.slot_count` open slots, slot 0 active.
    pub fn new(config: Config) -> Result<Self, Error> {
        check_count(config.slot_count)?;
        Ok(Self::empty(config.slot_count, config))
    }

    fn empty(count: usize, config: Config) -> Self {
        Self {
            config,
            slots: vec![None; count],
            active: 0,
            persisted_active: 0,
            live: BTreeSet::new(),
            save_due: None,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> Config {
        self.config
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Always false: there is at least one slot.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The active slot.
    pub fn active(&self) -> usize {
        self.active
    }

    /// The slot's binding (`None` for an open slot or an index past the end).
    pub fn slot(&self, index: usize) -> Option<&Binding> {
        self.slots.get(index).and_then(Option::as_ref)
    }

    /// The active slot's binding.
    pub fn active_binding(&self) -> Option<&Binding> {
        self.slot(self.active)
    }

    /// All slots in order.
    pub fn slots(&self) -> impl Iterator<Item = Option<&Binding>> {
        self.slots.iter().map(Option::as_ref)
    }

    /// The slot that holds this device.
    pub fn find(&self, mac: MacAddress) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|b| b.mac == mac))
    }

    /// The slot's state (`None` past the end).
    pub fn state(&self, index: usize) -> Option<SlotState> {
        let slot = self.slots.get(index)?;
        Some(match slot {
            None => SlotState::Open,
            Some(b) if self.live.contains(&b.mac) => SlotState::BoundConnected,
            Some(_) => SlotState::BoundDisconnected,
        })
    }

    /// Whether this device has a live link (any slot).
    pub fn is_live(&self, mac: MacAddress) -> bool {
        self.live.contains(&mac)
    }

    /// What the app should seek for the active slot (ZMK's `update_advertising`).
    pub fn seeking(&self) -> Seeking {
        match self.slot(self.active) {
            None => Seeking::NewDevice,
            Some(b) if self.live.contains(&b.mac) => Seeking::Nothing,
            Some(b) => Seeking::Reconnect(b.mac),
        }
    }

    /// When the debounced save of the active index is due, if one is pending.
    pub fn save_due(&self) -> Option<u64> {
        self.save_due
    }

    /// Makes `index` the active slot (ZMK `BT_SEL`). Selecting the active slot does nothing.
    pub fn select(&mut self, index: usize, now_ms: u64) -> Result<Vec<Effect>, Error> {
        self.check_index(index)?;
        if index == self.active {
            return Ok(Vec::new());
        }
        self.active = index;
        let due = now_ms.saturating_add(self.config.save_debounce_ms);
        self.save_due = Some(due);
        Ok(vec![
            Effect::SaveDueAt(due),
            Effect::ActiveChanged { index },
        ])
    }

    /// Selects the next slot, wrapping to 0 after the last (ZMK `BT_NXT`).
    pub fn next(&mut self, now_ms: u64) -> Vec<Effect> {
        let n = self.slots.len().max(1);
        self.select_unchecked((self.active + 1) % n, now_ms)
    }

    /// Selects the previous slot, wrapping to the last before 0 (ZMK `BT_PRV`).
    pub fn prev(&mut self, now_ms: u64) -> Vec<Effect> {
        let n = self.slots.len().max(1);
        self.select_unchecked((self.active + n - 1) % n, now_ms)
    }

    fn select_unchecked(&mut self, index: usize, now_ms: u64) -> Vec<Effect> {
        self.select(index, now_ms).unwrap_or_default()
    }

    /// Forgets the active slot's device (ZMK `BT_CLR`); the active index does not change. Does
    /// nothing on an open slot.
    pub fn clear(&mut self) -> Vec<Effect> {
        let mut effects = self.clear_slot(self.active);
        if !effects.is_empty() {
            effects.push(Effect::SaveNow);
            effects.push(Effect::ActiveChanged { index: self.active });
        }
        effects
    }

    fn clear_slot(&mut self, index: usize) -> Vec<Effect> {
        let Some(slot) = self.slots.get_mut(index) else {
            return Vec::new();
        };
        let Some(binding) = slot.take() else {
            return Vec::new();
        };
        let mut effects = Vec::new();
        if self.live.remove(&binding.mac) {
            effects.push(Effect::Disconnect(binding.mac));
        }
        effects.push(Effect::Forget(binding));
        effects
    }

    /// Forgets every slot's device, then selects slot 0 (ZMK `BT_CLR_ALL`).
    pub fn clear_all(&mut self, now_ms: u64) -> Vec<Effect> {
        let mut effects = Vec::new();
        for index in 0..self.slots.len() {
            effects.extend(self.clear_slot(index));
        }
        if !effects.is_empty() {
            effects.push(Effect::SaveNow);
            if self.active == 0 {
                effects.push(Effect::ActiveChanged { index: 0 });
            }
        }
        effects.extend(self.select_unchecked(0, now_ms));
        effects
    }

    /// Drops the live link of slot `index` and keeps its binding (ZMK `BT_DISC`). Meant for
    /// inactive slots: the active one is sought again at once (see [`Self::seeking`]).
    pub fn disconnect(&mut self, index: usize) -> Result<Vec<Effect>, Error> {
        self.check_index(index)?;
        let mac = self.slot(index).ok_or(Error::SlotOpen { index })?.mac;
        if !self.live.contains(&mac) {
            return Err(Error::NotConnected { index });
        }
        Ok(vec![Effect::Disconnect(mac)])
    }

    /// Binds a device to the active slot (ZMK's pairing-complete). Allowed when the active slot is
    /// open, or already holds the same device (its details are then refreshed).
    pub fn bind(&mut self, binding: Binding) -> Result<Vec<Effect>, Error> {
        let index = self.active;
        if let Some(other) = self.find(binding.mac).filter(|&i| i != index) {
            return Err(Error::AlreadyBound {
                mac: binding.mac,
                index: other,
            });
        }
        let slot = self
            .slots
            .get_mut(index)
            .ok_or(Error::OutOfRange { index, count: 0 })?;
        match slot {
            Some(bound) if bound.mac != binding.mac => {
                return Err(Error::SlotTaken {
                    index,
                    bound: bound.mac,
                });
            }
            Some(bound) if *bound == binding => return Ok(Vec::new()),
            _ => *slot = Some(binding),
        }
        Ok(vec![Effect::SaveNow, Effect::ActiveChanged { index }])
    }

    /// Updates the details of an already bound device in whichever slot holds it (a renamed
    /// device, a newly learned browser id). The MAC cannot change. Returns `SaveNow` if anything
    /// changed.
    pub fn update(&mut self, binding: Binding) -> Result<Vec<Effect>, Error> {
        let index = self
            .find(binding.mac)
            .ok_or(Error::SlotOpen { index: self.active })?;
        let Some(Some(bound)) = self.slots.get_mut(index) else {
            return Err(Error::SlotOpen { index });
        };
        if *bound == binding {
            return Ok(Vec::new());
        }
        *bound = binding;
        Ok(vec![Effect::SaveNow])
    }

    /// Remembers (or, with `None`, forgets) the HA1 of the device in slot `index`.
    pub fn set_ha1(&mut self, index: usize, ha1: Option<String>) -> Result<Vec<Effect>, Error> {
        self.check_index(index)?;
        if ha1.as_deref().is_some_and(|h| !is_ha1(h)) {
            return Err(Error::BadSlot {
                index,
                field: "ha1",
            });
        }
        let Some(Some(bound)) = self.slots.get_mut(index) else {
            return Err(Error::SlotOpen { index });
        };
        if bound.ha1 == ha1 {
            return Ok(Vec::new());
        }
        bound.ha1 = ha1;
        Ok(vec![Effect::SaveNow])
    }

    /// A link to `mac` came up (any slot, or none).
    pub fn connected(&mut self, mac: MacAddress) -> Vec<Effect> {
        let newly = self.live.insert(mac);
        self.link_changed(mac, newly)
    }

    /// The link to `mac` went down. Call it once the link is really gone, so that
    /// [`Self::seeking`] does not count the dying link as live.
    pub fn disconnected(&mut self, mac: MacAddress) -> Vec<Effect> {
        let was = self.live.remove(&mac);
        self.link_changed(mac, was)
    }

    fn link_changed(&self, mac: MacAddress, changed: bool) -> Vec<Effect> {
        if changed && self.active_binding().is_some_and(|b| b.mac == mac) {
            vec![Effect::ActiveChanged { index: self.active }]
        } else {
            Vec::new()
        }
    }

    /// Writes the debounced active index if its time has come. Returns true when the caller must
    /// now write [`Self::to_storage_json`].
    pub fn poll(&mut self, now_ms: u64) -> bool {
        match self.save_due {
            Some(due) if now_ms >= due => {
                self.save_due = None;
                self.persisted_active = self.active;
                true
            }
            _ => false,
        }
    }

    /// Writes any pending debounced save at once (page hidden or closing). Returns true when the
    /// caller must now write [`Self::to_storage_json`].
    pub fn flush(&mut self) -> bool {
        if self.save_due.take().is_some() {
            self.persisted_active = self.active;
            true
        } else {
            false
        }
    }

    /// The storage document: every slot including remembered HA1s, and the active index as last
    /// persisted (a pending debounced change is not in it until [`Self::poll`] says so).
    pub fn to_storage_json(&self) -> String {
        self.document(self.persisted_active, true)
    }

    /// The export document: like the stored one with the current active index, but remembered
    /// HA1s are left out (`"ha1": null`, `"ha1_remembered": true`): exports never carry secrets.
    pub fn export(&self) -> String {
        self.document(self.active, false)
    }

    fn document(&self, active: usize, with_secrets: bool) -> String {
        let doc = Document {
            schema: String::from(SCHEMA),
            version: VERSION,
            active,
            slots: self
                .slots
                .iter()
                .map(|s| {
                    s.as_ref().map(|b| StoredSlot {
                        mac: b.mac.to_string(),
                        name: b.name.clone(),
                        model: b.model.clone(),
                        device_id: b.device_id.clone(),
                        ha1: if with_secrets { b.ha1.clone() } else { None },
                        ha1_remembered: !with_secrets && b.ha1.is_some(),
                    })
                })
                .collect(),
        };
        serde_json::to_string(&doc).unwrap_or_default()
    }

    /// Restores the slots from a storage document with the given settings. Never fails and never
    /// drops data silently: anything it cannot use is reported in `issues` and the whole original
    /// text is returned in `kept_aside` for the app to store under another key and offer for
    /// download. `None` (nothing stored) gives empty slots and no issues.
    pub fn load(text: Option<&str>, config: Config) -> Loaded {
        let config = Config {
            slot_count: config.slot_count.clamp(1, MAX_SLOT_COUNT),
            ..config
        };
        let mut profiles = Self::empty(config.slot_count, config);
        let Some(text) = text else {
            return Loaded {
                profiles,
                issues: Vec::new(),
                kept_aside: None,
            };
        };
        let doc = match parse_document(text) {
            Ok(doc) => doc,
            Err(e) => {
                return Loaded {
                    profiles,
                    issues: vec![LoadIssue::Unreadable(e)],
                    kept_aside: Some(String::from(text)),
                };
            }
        };
        let mut issues = Vec::new();
        for (index, stored) in doc.slots.into_iter().enumerate() {
            let Some(stored) = stored else { continue };
            if index >= config.slot_count {
                issues.push(LoadIssue::BeyondSlotCount {
                    index,
                    mac: stored.mac,
                });
                continue;
            }
            match stored.into_binding(index) {
                Ok(b) => match profiles.find(b.mac) {
                    Some(first) => issues.push(LoadIssue::Duplicate { index, first }),
                    None => {
                        if let Some(slot) = profiles.slots.get_mut(index) {
                            *slot = Some(b);
                        }
                    }
                },
                Err(e) => issues.push(LoadIssue::Slot(e)),
            }
        }
        if doc.active < config.slot_count {
            profiles.active = doc.active;
            profiles.persisted_active = doc.active;
        } else {
            issues.push(LoadIssue::ActiveOutOfRange { active: doc.active });
        }
        let kept_aside = if issues.is_empty() {
            None
        } else {
            Some(String::from(text))
        };
        Loaded {
            profiles,
            issues,
            kept_aside,
        }
    }

    /// Replaces the slots with an exported document (any version up to [`VERSION`]). The slot
    /// count stays; a remembered HA1 is kept for a device that is in both. Invalid documents are
    /// refused whole and nothing changes.
    pub fn import(&mut self, text: &str, now_ms: u64) -> Result<Vec<Effect>, Error> {
        let doc = parse_document(text)?;
        let count = self.slots.len();
        let mut slots: Vec<Option<Binding>> = vec![None; count];
        for (index, stored) in doc.slots.into_iter().enumerate() {
            let Some(stored) = stored else { continue };
            if index >= count {
                return Err(Error::OutOfRange { index, count });
            }
            let mut binding = stored.into_binding(index)?;
            if slots.iter().flatten().any(|b| b.mac == binding.mac) {
                return Err(Error::BadSlot {
                    index,
                    field: "mac (duplicate)",
                });
            }
            if binding.ha1.is_none() {
                binding.ha1 = self
                    .find(binding.mac)
                    .and_then(|i| self.slot(i)?.ha1.clone());
            }
            if let Some(slot) = slots.get_mut(index) {
                *slot = Some(binding);
            }
        }
        let active = if doc.active < count { doc.active } else { 0 };
        let mut effects = Vec::new();
        for old in self.slots.iter().flatten() {
            if !slots.iter().flatten().any(|b| b.mac == old.mac) {
                if self.live.contains(&old.mac) {
                    effects.push(Effect::Disconnect(old.mac));
                }
                effects.push(Effect::Forget(old.clone()));
            }
        }
        self.live
            .retain(|mac| slots.iter().flatten().any(|b| b.mac == *mac));
        self.slots = slots;
        effects.push(Effect::SaveNow);
        let selected = self.select_unchecked(active, now_ms);
        if selected.is_empty() {
            effects.push(Effect::ActiveChanged { index: self.active });
        }
        effects.extend(selected);
        Ok(effects)
    }

    fn check_index(&self, index: usize) -> Result<(), Error> {
        if index < self.slots.len() {
            Ok(())
        } else {
            Err(Error::OutOfRange {
                index,
                count: self.slots.len(),
            })
        }
    }
}

/// An HA1 is a SHA-256 digest in hex: 64 hex digits.
fn is_ha1(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|c| c.is_ascii_hexdigit())
}

fn check_count(count: usize) -> Result<(), Error> {
    if (1..=MAX_SLOT_COUNT).contains(&count) {
        Ok(())
    } else {
        Err(Error::BadSlotCount { requested: count })
    }
}

/// The result of [`Profiles::load`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The slots restored (empty ones where nothing usable was found).
    pub profiles: Profiles,
    /// What could not be used, for a notice.
    pub issues: Vec<LoadIssue>,
    /// The original text when there were issues: keep it (e.g. under a backup key) and let the
    /// user download it.
    pub kept_aside: Option<String>,
}

/// One problem found while loading stored profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadIssue {
    /// The whole document was unusable (corrupt, another schema, or a newer version).
    Unreadable(Error),
    /// One slot record was invalid; the others were restored.
    Slot(Error),
    /// A slot past the configured count held a device.
    BeyondSlotCount {
        /// The slot index in the document.
        index: usize,
        /// The MAC text stored there.
        mac: String,
    },
    /// A device appeared twice; the first slot was kept.
    Duplicate {
        /// The later slot.
        index: usize,
        /// The slot that kept it.
        first: usize,
    },
    /// The stored active index was past the end; slot 0 is active.
    ActiveOutOfRange {
        /// The stored index.
        active: usize,
    },
}

impl fmt::Display for LoadIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(e) | Self::Slot(e) => write!(f, "{e}"),
            Self::BeyondSlotCount { index, mac } => write!(
                f,
                "saved profile {index} ({mac}) is beyond the number of profiles configured"
            ),
            Self::Duplicate { index, first } => {
                write!(
                    f,
                    "saved profile {index} repeats the device of profile {first}"
                )
            }
            Self::ActiveOutOfRange { active } => {
                write!(
                    f,
                    "the saved active profile {active} does not exist; profile 0 is active"
                )
            }
        }
    }
}

/// The versioned JSON document (storage and export share it).
#[derive(Debug, Serialize, Deserialize)]
struct Document {
    schema: String,
    version: u32,
    active: usize,
    slots: Vec<Option<StoredSlot>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredSlot {
    mac: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ha1: Option<String>,
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    ha1_remembered: bool,
}

impl StoredSlot {
    fn into_binding(self, index: usize) -> Result<Binding, Error> {
        let mac = self.mac.parse().map_err(|_| Error::BadSlot {
            index,
            field: "mac",
        })?;
        if self.ha1.as_deref().is_some_and(|h| !is_ha1(h)) {
            return Err(Error::BadSlot {
                index,
                field: "ha1",
            });
        }
        Ok(Binding {
            mac,
            name: self.name,
            model: self.model,
            device_id: self.device_id,
            ha1: self.ha1,
        })
    }
}

/// Version probe: read `schema` and `version` first, so a newer document is reported as newer
/// even when its shape changed.
#[derive(Debug, Deserialize)]
struct Header {
    #[serde(default)]
    schema: Option<String>,
    version: u32,
}

fn parse_document(text: &str) -> Result<Document, Error> {
    let corrupt = |e: serde_json::Error| Error::Corrupt {
        detail: e.to_string(),
    };
    let header: Header = serde_json::from_str(text).map_err(corrupt)?;
    let schema = header.schema.unwrap_or_default();
    if schema != SCHEMA {
        return Err(Error::WrongSchema { found: schema });
    }
    if header.version > VERSION {
        return Err(Error::NewerVersion {
            found: header.version,
            supported: VERSION,
        });
    }
    serde_json::from_str(text).map_err(corrupt)
}

#[cfg(test)]
mod tests {
    //! One rule a test; the rule is quoted from `shared/reference/zmk_profiles.md` (ZMK
    //! `app/src/ble.c` at `268b1b1e`) where it comes from there.
    use super::*;

    const A: MacAddress = MacAddress([0xA8, 0x03, 0x2A, 0xB1, 0x23, 0x45]);
    const B: MacAddress = MacAddress([0xCC, 0xBA, 0x97, 0xC2, 0xD6, 0x70]);
    const C: MacAddress = MacAddress([0xE8, 0x73, 0x88, 0xEF, 0x49, 0xC0]);
    /// sha256("admin:shellyplus1-a8032ab12345:secret"), computed with Python's hashlib.
    const HA1: &str = "e7321a38e256c665fb8fe807d3fb54d8db23a8e90186a71b382949a84e3816c4";

    fn cfg(slots: usize) -> Config {
        Config {
            slot_count: slots,
            save_debounce_ms: 1_000,
        }
    }

    fn five() -> Profiles {
        Profiles::new(cfg(5)).unwrap()
    }

    /// Slots 0, 1 and 2 bound to A, B and C, slot 0 active, nothing pending.
    fn bound_three() -> Profiles {
        let mut p = five();
        for (i, mac) in [A, B, C].into_iter().enumerate() {
            p.select(i, 0).unwrap();
            p.bind(Binding::new(mac, "dev")).unwrap();
        }
        p.select(0, 0).unwrap();
        p.flush();
        p
    }

    /// The MACs of the bindings an effect list forgets, in order.
    fn forgotten(effects: &[Effect]) -> Vec<MacAddress> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Forget(binding) => Some(binding.mac),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_cleared_binding_is_forgotten_with_its_browser_device_id() {
        let mut p = five();
        p.bind(Binding {
            device_id: Some("browser-id".into()),
            ..Binding::new(A, "a")
        })
        .unwrap();
        let effects = p.clear();
        let ids: Vec<_> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Forget(binding) => binding.device_id.as_deref(),
                _ => None,
            })
            .collect();
        assert_eq!(ids, ["browser-id"]);
    }

    #[test]
    fn five_open_slots_by_default_with_slot_0_active() {
        // "non-split: BT_MAX_PAIRED = BT_MAX_CONN = 5, which gives 5 profiles"; active 0 when nothing stored.
        let p = Profiles::default();
        assert_eq!(p.len(), 5);
        assert_eq!(p.active(), 0);
        assert!((0..5).all(|i| p.state(i) == Some(SlotState::Open)));
    }

    #[test]
    fn slot_count_is_configurable_within_limits() {
        assert_eq!(Profiles::new(cfg(8)).unwrap().len(), 8);
        assert_eq!(
            Profiles::new(cfg(0)),
            Err(Error::BadSlotCount { requested: 0 })
        );
        assert_eq!(
            Profiles::new(cfg(33)),
            Err(Error::BadSlotCount { requested: 33 })
        );
    }

    #[test]
    fn select_past_the_end_is_out_of_range() {
        // "n ≥ N → -ERANGE"
        let mut p = five();
        assert_eq!(
            p.select(5, 0),
            Err(Error::OutOfRange { index: 5, count: 5 })
        );
        assert_eq!(p.active(), 0);
    }

    #[test]
    fn selecting_the_active_slot_is_a_strict_no_op() {
        // "n == active → return 0, a no-op (no save, no event, no advertising change)"
        let mut p = five();
        assert_eq!(p.select(0, 10), Ok(vec![]));
        assert_eq!(p.save_due(), None);
    }

    #[test]
    fn select_changes_active_schedules_save_and_emits_change() {
        let mut p = five();
        let effects = p.select(3, 100).unwrap();
        assert_eq!(p.active(), 3);
        assert_eq!(
            effects,
            vec![Effect::SaveDueAt(1_100), Effect::ActiveChanged { index: 3 }]
        );
    }

    #[test]
    fn active_save_is_trailing_debounced_and_writes_the_final_value() {
        // "every select restarts the 60 s timer, so only the final value is written"
        let mut p = five();
        p.select(1, 0).unwrap();
        p.select(2, 500).unwrap();
        assert_eq!(p.save_due(), Some(1_500));
        assert!(!p.poll(1_000), "the first timer was replaced");
        assert!(!p.poll(1_499));
        assert!(p.poll(1_500));
        assert!(p.to_storage_json().contains("\"active\":2"));
        assert!(!p.poll(5_000), "nothing pending after the write");
    }

    #[test]
    fn pending_active_is_not_in_storage_before_the_debounce() {
        // "if power is lost within 60 s of a switch, the keyboard boots into the previously persisted profile"
        let mut p = five();
        p.select(4, 0).unwrap();
        let reloaded = Profiles::load(Some(&p.to_storage_json()), cfg(5)).profiles;
        assert_eq!(reloaded.active(), 0);
    }

    #[test]
    fn flush_writes_a_pending_active_at_once() {
        let mut p = five();
        assert!(!p.flush());
        p.select(2, 0).unwrap();
        assert!(p.flush());
        assert_eq!(
            Profiles::load(Some(&p.to_storage_json()), cfg(5))
                .profiles
                .active(),
            2
        );
    }

    #[test]
    fn next_wraps_from_last_to_first() {
        // "select((active + 1) % N), wrapping around"
        let mut p = five();
        p.select(4, 0).unwrap();
        assert_eq!(
            p.next(0),
            vec![Effect::SaveDueAt(1_000), Effect::ActiveChanged { index: 0 }]
        );
        assert_eq!(p.active(), 0);
    }

    #[test]
    fn prev_wraps_from_first_to_last() {
        // "select((active + N − 1) % N)"
        let mut p = five();
        p.prev(0);
        assert_eq!(p.active(), 4);
    }

    #[test]
    fn next_passes_through_open_slots_and_seeks_a_new_device_there() {
        // "next/prev wrap modulo N and pass through Open slots. Landing on an Open slot starts pairing mode"
        let mut p = bound_three();
        p.select(2, 0).unwrap();
        p.next(0);
        assert_eq!(p.active(), 3);
        assert_eq!(p.seeking(), Seeking::NewDevice);
    }

    #[test]
    fn seeking_follows_the_active_slot_state() {
        // update_advertising: Open → pairing; bound, not connected → reconnect; connected → none
        let mut p = five();
        assert_eq!(p.seeking(), Seeking::NewDevice);
        p.bind(Binding::new(A, "a")).unwrap();
        assert_eq!(p.seeking(), Seeking::Reconnect(A));
        p.connected(A);
        assert_eq!(p.seeking(), Seeking::Nothing);
        assert_eq!(p.state(0), Some(SlotState::BoundConnected));
    }

    #[test]
    fn switching_never_disconnects_other_devices() {
        // "Other hosts stay connected; nothing is disconnected."
        let mut p = bound_three();
        p.connected(A);
        let effects = p.select(1, 0).unwrap();
        assert!(!effects.iter().any(|e| matches!(e, Effect::Disconnect(_))));
        assert!(p.is_live(A));
        assert_eq!(p.state(0), Some(SlotState::BoundConnected));
    }

    #[test]
    fn bind_lands_in_the_open_active_slot_and_saves_at_once() {
        // "set_profile_address … writes ble/profiles/<active> immediately"
        let mut p = five();
        p.select(2, 0).unwrap();
        assert_eq!(
            p.bind(Binding::new(B, "b")),
            Ok(vec![Effect::SaveNow, Effect::ActiveChanged { index: 2 }])
        );
        assert_eq!(p.slot(2).map(|b| b.mac), Some(B));
    }

    #[test]
    fn a_taken_active_slot_refuses_another_device() {
        // "auth_pairing_accept rejects … unless the active profile is OPEN" (test dont-bond-to-taken-profile)
        let mut p = bound_three();
        let before = p.clone();
        assert_eq!(
            p.bind(Binding::new(MacAddress([1; 6]), "x")),
            Err(Error::SlotTaken { index: 0, bound: A })
        );
        assert_eq!(p, before, "no other slot was written");
    }

    #[test]
    fn the_same_device_may_bind_again_to_its_own_slot() {
        // CONFIG_BT_SMP_ALLOW_UNAUTH_OVERWRITE: re-pairing from the active profile's own peer is allowed.
        let mut p = bound_three();
        let mut again = Binding::new(A, "renamed");
        again.model = Some(String::from("SNSW-001X16EU"));
        assert_eq!(
            p.bind(again.clone()),
            Ok(vec![Effect::SaveNow, Effect::ActiveChanged { index: 0 }])
        );
        assert_eq!(p.slot(0), Some(&again));
        assert_eq!(p.bind(again), Ok(vec![]), "unchanged: nothing to save");
    }

    #[test]
    fn a_device_in_another_slot_is_not_bound_twice() {
        let mut p = bound_three();
        p.select(3, 0).unwrap();
        assert_eq!(
            p.bind(Binding::new(B, "b")),
            Err(Error::AlreadyBound { mac: B, index: 1 })
        );
        assert_eq!(p.state(3), Some(SlotState::Open));
    }

    #[test]
    fn binding_is_saved_at_once_but_with_the_persisted_active_index() {
        // Split persistence: slots immediately, the active index debounced.
        let mut p = five();
        p.select(1, 0).unwrap();
        p.bind(Binding::new(A, "a")).unwrap();
        let stored = Profiles::load(Some(&p.to_storage_json()), cfg(5)).profiles;
        assert_eq!(stored.slot(1).map(|b| b.mac), Some(A));
        assert_eq!(stored.active(), 0);
    }

    #[test]
    fn clear_forgets_only_the_active_slot_and_keeps_the_index() {
        // BT_CLR: "The active index does not change; the profile becomes OPEN"
        let mut p = bound_three();
        p.select(1, 0).unwrap();
        let effects = p.clear();
        assert!(
            matches!(
                &effects[..],
                [Effect::Forget(b), Effect::SaveNow, Effect::ActiveChanged { index: 1 }] if b.mac == B
            ),
            "{effects:?}"
        );
        assert_eq!(p.active(), 1);
        assert_eq!(p.state(1), Some(SlotState::Open));
        assert_eq!(p.slot(0).map(|b| b.mac), Some(A));
        assert_eq!(p.slot(2).map(|b| b.mac), Some(C));
        assert_eq!(p.seeking(), Seeking::NewDevice);
    }

    #[test]
    fn clear_disconnects_a_live_device_first() {
        // "bt_unpair … Zephyr also tears down a live link to that peer"
        let mut p = bound_three();
        p.connected(A);
        assert_eq!(p.clear().first(), Some(&Effect::Disconnect(A)));
        assert!(!p.is_live(A));
    }

    #[test]
    fn clear_on_an_open_slot_does_nothing() {
        let mut p = five();
        assert_eq!(p.clear(), vec![]);
    }

    #[test]
    fn clear_all_forgets_every_slot_then_selects_0() {
        // BT_CLR_ALL: "clear_profile_bond(i) for every i, then zmk_ble_prof_select(0)"
        let mut p = bound_three();
        p.select(2, 0).unwrap();
        p.flush();
        let effects = p.clear_all(50);
        assert_eq!(p.active(), 0);
        assert!((0..5).all(|i| p.state(i) == Some(SlotState::Open)));
        assert_eq!(forgotten(&effects), [A, B, C]);
        assert!(effects.contains(&Effect::SaveNow));
        assert!(effects.contains(&Effect::SaveDueAt(1_050)));
        assert!(effects.contains(&Effect::ActiveChanged { index: 0 }));
    }

    #[test]
    fn disconnect_checks_range_binding_and_link() {
        // BT_DISC: "n ≥ N → -ERANGE. Open → -ENODEV. No live conn → -ENODEV."
        let mut p = bound_three();
        assert_eq!(
            p.disconnect(9),
            Err(Error::OutOfRange { index: 9, count: 5 })
        );
        assert_eq!(p.disconnect(4), Err(Error::SlotOpen { index: 4 }));
        assert_eq!(p.disconnect(1), Err(Error::NotConnected { index: 1 }));
    }

    #[test]
    fn disconnect_drops_the_link_and_keeps_the_binding() {
        // "Otherwise bt_conn_disconnect(...). The bond is kept."
        let mut p = bound_three();
        p.connected(B);
        assert_eq!(p.disconnect(1), Ok(vec![Effect::Disconnect(B)]));
        p.disconnected(B);
        assert_eq!(p.state(1), Some(SlotState::BoundDisconnected));
        assert_eq!(p.slot(1).map(|b| b.mac), Some(B));
    }

    #[test]
    fn disconnecting_the_active_slot_makes_it_sought_again() {
        // "the active bluetooth profile will immediately reconnect if disconnected"
        let mut p = bound_three();
        p.connected(A);
        p.disconnect(0).unwrap();
        assert_eq!(p.disconnected(A), vec![Effect::ActiveChanged { index: 0 }]);
        assert_eq!(p.seeking(), Seeking::Reconnect(A));
    }

    #[test]
    fn only_the_active_devices_link_changes_emit_active_changed() {
        // connected(peer): "ActiveProfileChanged iff peer == slots[active].binding"
        let mut p = bound_three();
        assert_eq!(p.connected(B), vec![]);
        assert_eq!(p.connected(A), vec![Effect::ActiveChanged { index: 0 }]);
        assert_eq!(p.connected(A), vec![], "already live");
        assert_eq!(p.disconnected(B), vec![]);
    }

    #[test]
    fn update_refreshes_details_where_the_device_is_bound() {
        let mut p = bound_three();
        let mut b = Binding::new(C, "kitchen");
        b.device_id = Some(String::from("dev-id-c"));
        assert_eq!(p.update(b.clone()), Ok(vec![Effect::SaveNow]));
        assert_eq!(p.slot(2), Some(&b));
        assert_eq!(p.update(b), Ok(vec![]));
        assert_eq!(
            p.update(Binding::new(MacAddress([9; 6]), "x")),
            Err(Error::SlotOpen { index: 0 })
        );
    }

    #[test]
    fn ha1_is_remembered_only_when_set_and_saved_at_once() {
        let mut p = bound_three();
        assert_eq!(p.slot(1).and_then(|b| b.ha1.clone()), None);
        assert_eq!(
            p.set_ha1(1, Some(String::from(HA1))),
            Ok(vec![Effect::SaveNow])
        );
        assert!(p.to_storage_json().contains(HA1));
        assert_eq!(p.set_ha1(1, None), Ok(vec![Effect::SaveNow]));
        assert!(!p.to_storage_json().contains(HA1));
        assert_eq!(p.set_ha1(4, None), Err(Error::SlotOpen { index: 4 }));
        assert_eq!(
            p.set_ha1(1, Some(String::from("the password itself"))),
            Err(Error::BadSlot {
                index: 1,
                field: "ha1"
            }),
            "only a digest is ever stored"
        );
    }

    #[test]
    fn slots_survive_a_reload() {
        let mut p = bound_three();
        p.set_ha1(2, Some(String::from(HA1))).unwrap();
        p.select(2, 0).unwrap();
        p.poll(1_000);
        let loaded = Profiles::load(Some(&p.to_storage_json()), cfg(5));
        assert_eq!(loaded.issues, vec![]);
        assert_eq!(loaded.kept_aside, None);
        assert_eq!(loaded.profiles.active(), 2);
        assert_eq!(
            loaded.profiles.slot(2).and_then(|b| b.ha1.as_deref()),
            Some(HA1)
        );
        assert_eq!(
            loaded.profiles.slots().collect::<Vec<_>>(),
            p.slots().collect::<Vec<_>>()
        );
    }

    #[test]
    fn nothing_stored_loads_empty_slots_without_issues() {
        let loaded = Profiles::load(None, cfg(3));
        assert_eq!(loaded.profiles.len(), 3);
        assert!(loaded.issues.is_empty() && loaded.kept_aside.is_none());
    }

    #[test]
    fn corrupt_storage_is_reported_and_kept_aside() {
        let text = "{\"schema\":\"bluehome.profiles\",\"version\":1,\"active\":0,\"slots\":[nul";
        let loaded = Profiles::load(Some(text), cfg(5));
        assert!(matches!(
            loaded.issues.as_slice(),
            [LoadIssue::Unreadable(Error::Corrupt { .. })]
        ));
        assert_eq!(loaded.kept_aside.as_deref(), Some(text));
        assert!((0..5).all(|i| loaded.profiles.state(i) == Some(SlotState::Open)));
    }

    #[test]
    fn newer_version_is_reported_and_kept_aside_even_if_its_shape_changed() {
        let text = r#"{"schema":"bluehome.profiles","version":2,"profiles":{"x":1}}"#;
        let loaded = Profiles::load(Some(text), cfg(5));
        assert_eq!(
            loaded.issues,
            vec![LoadIssue::Unreadable(Error::NewerVersion {
                found: 2,
                supported: 1
            })]
        );
        assert_eq!(loaded.kept_aside.as_deref(), Some(text));
    }

    #[test]
    fn another_schema_is_reported_and_kept_aside() {
        let text = r#"{"version":1,"active":0,"slots":[]}"#;
        let loaded = Profiles::load(Some(text), cfg(5));
        assert_eq!(
            loaded.issues,
            vec![LoadIssue::Unreadable(Error::WrongSchema {
                found: String::new()
            })]
        );
        assert!(loaded.kept_aside.is_some());
    }

    #[test]
    fn a_bad_slot_record_is_reported_and_the_rest_restored() {
        // ZMK's loader rejects a bad record (-EINVAL) and keeps going; we also keep the text.
        let text = r#"{"schema":"bluehome.profiles","version":1,"active":1,"slots":[
            {"mac":"not a mac","name":"x"},
            {"mac":"CC:BA:97:C2:D6:70","name":"b"}]}"#;
        let loaded = Profiles::load(Some(text), cfg(5));
        assert_eq!(
            loaded.issues,
            vec![LoadIssue::Slot(Error::BadSlot {
                index: 0,
                field: "mac"
            })]
        );
        assert_eq!(loaded.profiles.slot(1).map(|b| b.mac), Some(B));
        assert_eq!(loaded.profiles.active(), 1);
        assert_eq!(loaded.kept_aside.as_deref(), Some(text));
    }

    #[test]
    fn an_out_of_range_active_index_falls_back_to_0_with_an_issue() {
        // ZMK's loader checks "idx < N"
        let text = r#"{"schema":"bluehome.profiles","version":1,"active":7,"slots":[]}"#;
        let loaded = Profiles::load(Some(text), cfg(5));
        assert_eq!(
            loaded.issues,
            vec![LoadIssue::ActiveOutOfRange { active: 7 }]
        );
        assert_eq!(loaded.profiles.active(), 0);
    }

    #[test]
    fn devices_beyond_a_smaller_slot_count_are_reported_not_dropped() {
        let mut p = bound_three();
        p.flush();
        let text = p.to_storage_json();
        let loaded = Profiles::load(Some(&text), cfg(2));
        assert_eq!(
            loaded.issues,
            vec![LoadIssue::BeyondSlotCount {
                index: 2,
                mac: String::from("E8:73:88:EF:49:C0")
            }]
        );
        assert_eq!(loaded.kept_aside, Some(text));
        assert_eq!(loaded.profiles.len(), 2);
    }

    #[test]
    fn a_duplicated_device_keeps_its_first_slot() {
        let text = r#"{"schema":"bluehome.profiles","version":1,"active":0,"slots":[
            {"mac":"CC:BA:97:C2:D6:70","name":"b"},{"mac":"cc:ba:97:c2:d6:70","name":"again"}]}"#;
        let loaded = Profiles::load(Some(text), cfg(5));
        assert_eq!(
            loaded.issues,
            vec![LoadIssue::Duplicate { index: 1, first: 0 }]
        );
        assert_eq!(loaded.profiles.state(1), Some(SlotState::Open));
    }

    #[test]
    fn export_leaves_out_remembered_secrets() {
        let mut p = bound_three();
        p.set_ha1(0, Some(String::from(HA1))).unwrap();
        let exported = p.export();
        assert!(!exported.contains(HA1));
        assert!(exported.contains("\"ha1_remembered\":true"));
        assert!(exported.contains("\"schema\":\"bluehome.profiles\",\"version\":1"));
    }

    #[test]
    fn import_restores_slots_and_keeps_a_remembered_ha1_for_the_same_device() {
        let mut source = bound_three();
        source.set_ha1(1, Some(String::from(HA1))).unwrap();
        source.select(1, 0).unwrap();
        let file = source.export();

        let mut target = five();
        target.bind(Binding::new(B, "old b")).unwrap();
        target.set_ha1(0, Some(String::from(HA1))).unwrap();
        let effects = target.import(&file, 0).unwrap();
        assert!(effects.contains(&Effect::SaveNow));
        assert_eq!(target.active(), 1);
        assert_eq!(target.slot(0).map(|b| b.mac), Some(A));
        assert_eq!(target.slot(1).and_then(|b| b.ha1.as_deref()), Some(HA1));
        assert_eq!(target.slot(0).and_then(|b| b.ha1.as_deref()), None);
    }

    #[test]
    fn import_forgets_devices_that_are_no_longer_in_any_slot() {
        let mut target = five();
        target
            .bind(Binding::new(MacAddress([7; 6]), "gone"))
            .unwrap();
        target.connected(MacAddress([7; 6]));
        let effects = target.import(&bound_three().export(), 0).unwrap();
        assert!(effects.contains(&Effect::Disconnect(MacAddress([7; 6]))));
        assert_eq!(forgotten(&effects), [MacAddress([7; 6])]);
        assert!(!target.is_live(MacAddress([7; 6])));
    }

    #[test]
    fn invalid_import_changes_nothing() {
        let mut p = bound_three();
        let before = p.clone();
        assert!(matches!(p.import("[1,2", 0), Err(Error::Corrupt { .. })));
        assert_eq!(
            p.import(r#"{"schema":"bluehome.profiles","version":9}"#, 0),
            Err(Error::NewerVersion {
                found: 9,
                supported: 1
            })
        );
        let too_many = Profiles::new(cfg(8)).map(|mut q| {
            q.select(7, 0).unwrap();
            q.bind(Binding::new(A, "a")).unwrap();
            q.export()
        });
        assert_eq!(
            p.import(&too_many.unwrap(), 0),
            Err(Error::OutOfRange { index: 7, count: 5 })
        );
        assert_eq!(p, before);
    }

    #[test]
    fn errors_explain_what_to_do() {
        let e = Error::SlotTaken { index: 0, bound: A };
        assert_eq!(
            e.to_string(),
            "profile 0 already holds A8:03:2A:B1:23:45; select an empty profile or clear this one first"
        );
    }
}
