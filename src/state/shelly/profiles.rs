//! The device-profile slots (ZMK's model, the core's [`Profiles`]): binding the connected device,
//! performing the state machine's effects, and the slot actions.

use bluehome_core::profiles::{Binding, Effect, Profiles, Seeking};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{DeviceSummary, ShellySession, store};
use crate::ble::{BleBackend, DeviceId, ErrorKind};
use crate::platform::{never_back_ms, sleep_ms};

/// A profiles file that would forget devices, waiting for the person to confirm it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingImport {
    /// The file's text.
    pub text: String,
    /// The names of the devices it would forget.
    pub forgets: Vec<String>,
}

/// The largest profiles file read: the most slots ([`bluehome_core::profiles::MAX_SLOT_COUNT`])
/// with their devices take a few kilobytes.
pub const PROFILES_FILE_BYTES: u64 = 1_000_000;

impl ShellySession {
    /// Saves the connected device in a profile (its own slot again, else a free one) and marks
    /// it connected.
    pub(super) fn bind_profile(self, summary: &DeviceSummary) {
        let Some(mac) = summary.mac else {
            self.profile_message.set(Some(
                "The device did not report its MAC; it is not saved in a profile.".to_owned(),
            ));
            return;
        };
        let now = never_back_ms();
        let mut binding = Binding::new(
            mac,
            summary
                .ble_name
                .clone()
                .unwrap_or_else(|| summary.id().to_owned()),
        );
        binding.model = Some(summary.info.model.clone()).filter(|m| !m.is_empty());
        binding.device_id = Some(summary.device_id.to_string());
        let device_id = summary.device_id.as_str();
        let effects = self.profiles.try_update(|p| {
            let mut effects = Vec::new();
            let own = p.find_own(mac, device_id);
            if let Some(index) = p.find(mac).filter(|_| own.is_none()) {
                // Another browser device claims this profile's MAC: the profile keeps its own
                // device's browser id and remembered HA1.
                let slot = index + 1;
                let message = format!(
                    "profile {slot} holds {mac} for another Bluetooth device. If this is that \
                     device with a new permission, forget profile {slot} and connect again."
                );
                return (effects, Some(message));
            }
            if let Some(index) = own {
                binding.ha1 = p
                    .slot(index)
                    .and_then(|b| b.ha1_for(device_id))
                    .map(str::to_owned);
                effects.extend(p.select(index, now).unwrap_or_default());
                effects.extend(p.update(binding.clone()).unwrap_or_default());
            } else {
                if p.active_binding().is_some()
                    && let Some(open) = (0..p.len()).find(|&i| p.slot(i).is_none())
                {
                    effects.extend(p.select(open, now).unwrap_or_default());
                }
                match p.bind(binding.clone()) {
                    Ok(e) => effects.extend(e),
                    Err(e) => return (effects, Some(e.to_string())),
                }
            }
            effects.extend(p.connected(mac));
            (effects, None)
        });
        if let Some((effects, message)) = effects {
            if let Some(m) = message {
                self.profile_message
                    .set(Some(format!("Not saved in a profile: {m}")));
            }
            self.apply(effects);
        }
    }

    /// Performs what the profile state machine asks for.
    pub fn apply(self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::SaveNow => self.save_profiles(),
                Effect::SaveDueAt(due) => {
                    spawn_local(async move {
                        sleep_ms(due.saturating_sub(never_back_ms())).await;
                        if self.profiles.try_update(|p| p.poll(never_back_ms())) == Some(true) {
                            self.save_profiles();
                        }
                    });
                }
                Effect::Disconnect(mac) => {
                    if self
                        .device
                        .with_untracked(|d| d.as_ref().and_then(|d| d.mac))
                        == Some(mac)
                    {
                        self.disconnect();
                    }
                }
                Effect::Forget(binding) => self.forget_device(binding),
                Effect::ActiveChanged { .. } => {}
            }
        }
    }

    /// A cleared profile's device: the password typed for it is dropped, and the browser is
    /// asked to revoke its permission, so the device needs the chooser again.
    fn forget_device(self, binding: Binding) {
        let Some(id) = binding.device_id.map(DeviceId) else {
            return;
        };
        self.pending_credentials
            .update_value(|p| *p = p.take().filter(|(device, _)| *device != id));
        spawn_local(async move {
            let message = match self.backend().forget(&id).await {
                Ok(()) => return,
                Err(e) if e.kind == ErrorKind::Unsupported => format!(
                    "This browser cannot revoke the page's permission for {} (no BluetoothDevice.forget, which came with Chrome 101): remove it under chrome://settings/content/bluetoothDevices if the browser lists it there (with the new permissions backend), else it lasts until the browser restarts.",
                    binding.name
                ),
                Err(e) => format!("The browser still lets this page use {}: {e}", binding.name),
            };
            self.profile_message.try_set(Some(message));
        });
    }

    /// Writes the profiles now, unless the unreadable original could not be copied aside and is
    /// still in place (then saving waits until the user dismisses its notice).
    pub fn save_profiles(self) {
        let held = self
            .profile_notice
            .with_untracked(|n| n.as_ref().is_some_and(|n| n.kept_under.is_none()));
        if held {
            self.profile_message.set(Some(
                "Not saved: the unreadable saved profiles could not be copied aside and are still \
                 in place. Download them, then dismiss the notice, and saving resumes."
                    .to_owned(),
            ));
            return;
        }
        let Some((ok, effects)) = self
            .profiles
            .try_update(|p| self.storage.with_value(|s| store::save(s.as_ref(), p)))
        else {
            return;
        };
        // Being written now, the merge needs no second save.
        self.apply(
            effects
                .into_iter()
                .filter(|e| *e != Effect::SaveNow)
                .collect(),
        );
        if !ok {
            self.profile_message.set(Some(
                "The browser refused to save the profiles (storage full or disabled).".to_owned(),
            ));
        }
    }

    /// Takes in the profiles another window of the page saved (after its `storage` event).
    pub(super) fn take_in_saved(self) {
        let Some(effects) = self.storage.try_with_value(|s| {
            self.profiles
                .try_update(|p| store::take_in(s.as_ref(), p))
                .unwrap_or_default()
        }) else {
            return;
        };
        self.apply(effects);
    }

    /// Writes a pending debounced save at once (the page is being hidden).
    pub fn flush_profiles(self) {
        if self.profiles.try_update(Profiles::flush) == Some(true) {
            self.save_profiles();
        }
    }

    /// Changes the slots and performs what the change asks for.
    pub(super) fn update_profiles(self, change: impl FnOnce(&mut Profiles) -> Vec<Effect>) {
        let effects = self.profiles.try_update(change).unwrap_or_default();
        self.apply(effects);
    }

    /// Selects a slot.
    pub fn select_slot(self, index: usize) {
        match self
            .profiles
            .try_update(|p| p.select(index, never_back_ms()))
        {
            Some(Ok(effects)) => self.apply(effects),
            Some(Err(e)) => self.profile_message.set(Some(e.to_string())),
            None => {}
        }
    }

    /// Next slot (wrapping).
    pub fn next_slot(self) {
        self.update_profiles(|p| p.next(never_back_ms()));
    }

    /// Previous slot (wrapping).
    pub fn prev_slot(self) {
        self.update_profiles(|p| p.prev(never_back_ms()));
    }

    /// Clears the active slot.
    pub fn clear_slot(self) {
        self.update_profiles(Profiles::clear);
    }

    /// Clears every slot.
    pub fn clear_all_slots(self) {
        self.update_profiles(|p| p.clear_all(never_back_ms()));
    }

    /// Disconnects the device of a slot (kept bound).
    pub fn disconnect_slot(self, index: usize) {
        match self.profiles.try_update(|p| p.disconnect(index)) {
            Some(Ok(effects)) => self.apply(effects),
            Some(Err(e)) => self.profile_message.set(Some(e.to_string())),
            None => {}
        }
    }

    /// What the active slot wants.
    pub fn seeking(self) -> Seeking {
        self.profiles.with(Profiles::seeking)
    }

    /// The export file's content (no secrets).
    pub fn export_profiles(self) -> String {
        self.profiles.with_untracked(Profiles::export)
    }

    /// Imports an export file. One that would forget devices (its slots replace these, and a
    /// device not in it loses its profile and the browser's permission) waits in
    /// [`ShellySession::import_pending`] until the person confirms it.
    pub fn import_profiles(self, text: &str) {
        let trial = self
            .profiles
            .with_untracked(|p| p.clone().import(text, never_back_ms()));
        let forgets: Vec<String> = match &trial {
            Ok(effects) => effects
                .iter()
                .filter_map(|e| match e {
                    Effect::Forget(binding) => Some(binding.name.clone()),
                    _ => None,
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        if forgets.is_empty() {
            self.import_now(text);
        } else {
            self.import_pending.set(Some(PendingImport {
                text: text.to_owned(),
                forgets,
            }));
        }
    }

    /// Imports the file that waits for confirmation.
    pub fn confirm_import(self) {
        if let Some(pending) = self.import_pending.try_update(Option::take).flatten() {
            self.import_now(&pending.text);
        }
    }

    fn import_now(self, text: &str) {
        match self
            .profiles
            .try_update(|p| p.import(text, never_back_ms()))
        {
            Some(Ok(effects)) => {
                self.profile_message
                    .set(Some("Profiles imported.".to_owned()));
                self.apply(effects);
            }
            Some(Err(e)) => self
                .profile_message
                .set(Some(format!("Import refused: {e}"))),
            None => {}
        }
    }
}
