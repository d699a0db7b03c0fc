//! The stored form of the profiles: one versioned JSON document (`bluehome.profiles`, version 1)
//! shared by localStorage and export files, and loading it without ever losing data.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::advertisement::MacAddress;

use super::{Binding, Config, Effect, Error, MAX_SLOT_COUNT, Profiles, SCHEMA, VERSION, is_ha1};

impl Profiles {
    /// The storage document: every slot including remembered HA1s, and the active index as last
    /// persisted (a pending debounced change is not in it until [`Self::poll`] says so).
    pub fn to_storage_json(&self) -> String {
        self.document(self.persisted_active, true)
    }

    /// Marks the document [`Self::to_storage_json`] gave as written: what storage now holds.
    pub fn saved(&mut self) {
        self.stored.clone_from(&self.slots);
    }

    /// Takes in what another window of the page saved: `text` is the storage document now (after
    /// the browser's `storage` event, or read just before this window writes). A slot the other
    /// window changed since this one last read or wrote storage takes its binding; where this
    /// window changed the same slot and has not written it yet, this window's binding stays and
    /// the other's goes to an open slot, so no device is dropped while a slot is open. The active
    /// slot stays this window's own. A document that cannot be read, or a slot in it, changes
    /// nothing here (loading reports it).
    pub fn take_in(&mut self, text: &str) -> Vec<Effect> {
        let Ok(doc) = parse_document(text) else {
            return Vec::new();
        };
        let count = self.slots.len();
        let mut slots = doc.slots.into_iter();
        let theirs: Vec<Option<Binding>> = (0..count)
            .map(|index| {
                let stored = slots.next().flatten()?;
                stored
                    .into_binding(index)
                    .ok()
                    .or_else(|| self.stored.get(index).cloned().flatten())
            })
            .collect();
        let active_before = self.active_binding().cloned();
        let mut displaced = Vec::new();
        for (index, their) in theirs.iter().enumerate() {
            let base = self.stored.get(index);
            if Some(their) == base {
                continue;
            }
            if self.slots.get(index) != base {
                displaced.extend(their.clone());
                continue;
            }
            let bound_elsewhere = their.as_ref().is_some_and(|b| {
                self.slots
                    .iter()
                    .enumerate()
                    .any(|(i, s)| i != index && s.as_ref().is_some_and(|s| s.mac == b.mac))
            });
            if let (false, Some(slot)) = (bound_elsewhere, self.slots.get_mut(index)) {
                slot.clone_from(their);
            }
        }
        for binding in displaced {
            if self.find(binding.mac).is_none()
                && let Some(open) = self.slots.iter_mut().find(|s| s.is_none())
            {
                *open = Some(binding);
            }
        }
        self.stored = theirs;
        let mut effects = Vec::new();
        let gone: Vec<MacAddress> = self
            .live
            .iter()
            .copied()
            .filter(|mac| self.find(*mac).is_none())
            .collect();
        for mac in gone {
            self.live.remove(&mac);
            effects.push(Effect::Disconnect(mac));
        }
        if self.active_binding() != active_before.as_ref() {
            effects.push(Effect::ActiveChanged { index: self.active });
        }
        if self.slots != self.stored {
            effects.push(Effect::SaveNow);
        }
        effects
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
        profiles.stored.clone_from(&profiles.slots);
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
