//! Device-profile slots: ZMK's Bluetooth profile model, applied to Shelly devices in a browser.
//!
//! The app owns `N` slots (5 by default, as ZMK). Each slot is empty ("open") or bound to one
//! Shelly device, keyed by its MAC address (from the Shelly manufacturer data or
//! `Shelly.GetDeviceInfo`; Web Bluetooth hides the radio address). One slot is *active*: it is the
//! one the app talks to and tries to reach. The rules follow ZMK's `app/src/ble.c`
//! (`zmkfirmware/zmk` at `268b1b1e`, with `app/include/zmk/ble.h`):
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
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::advertisement::MacAddress;

mod document;
mod error;

pub use document::{LoadIssue, Loaded};
pub use error::Error;

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

/// One bound device. Its `Debug` hides the HA1.
#[derive(Clone, PartialEq, Eq)]
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

    /// The remembered HA1, for the browser device it was remembered with only. Another device
    /// that claims this MAC (a MAC is whatever a device says it is) gets none: answering its
    /// challenge with the HA1 would hand it a digest to guess the password from offline.
    pub fn ha1_for(&self, device_id: &str) -> Option<&str> {
        self.ha1
            .as_deref()
            .filter(|_| self.device_id.as_deref() == Some(device_id))
    }
}

impl fmt::Debug for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Binding")
            .field("mac", &self.mac)
            .field("name", &self.name)
            .field("model", &self.model)
            .field("device_id", &self.device_id)
            .field("ha1", &self.ha1.as_ref().map(|_| "…"))
            .finish()
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
    /// The slots as this window last read them from storage or wrote them there: what another
    /// window's save is compared with ([`Self::take_in`]).
    stored: Vec<Option<Binding>>,
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
            stored: vec![None; count],
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

    /// The slot that holds the device `mac` seen as the browser device `device_id`: a slot with
    /// that MAC saved with this browser id, or with none (saved before ids were kept). A MAC is
    /// whatever a device says it is, so a slot saved with another browser id is not this device's
    /// to change: [`Profiles::find`] finds it, this does not.
    pub fn find_own(&self, mac: MacAddress, device_id: &str) -> Option<usize> {
        self.find(mac).filter(|&index| {
            self.slot(index)
                .is_some_and(|b| b.device_id.as_deref().is_none_or(|id| id == device_id))
        })
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

#[cfg(test)]
mod tests;
