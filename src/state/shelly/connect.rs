//! Connecting: the chooser, reconnecting a profile's device, identifying it, a connection that
//! drops, restarting the device and reconnecting, and the device password.

use std::rc::Rc;

use bluehome_core::profiles::Seeking;
use bluehome_core::shelly::auth::Credentials;
use bluehome_core::shelly::methods::shelly::{self, GetDeviceInfoParams, RebootParams};
use bluehome_core::shelly::rpc::SERVICE_UUID;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::explain::{Failure, FailureKind, Stage};
use super::link::Link;
use super::{DeviceSummary, Phase, ShellySession};
use crate::ble::{BleBackend, ConnectFailure, DeviceId, GrantedDevice, RequestDeviceOptions};
use crate::platform::sleep_ms;
use crate::state::actions::{Action, RunsActions, action};

/// Wait before reconnecting the active profile's device after its link dropped.
pub const AUTO_RECONNECT_DELAY_MS: u64 = 1_000;
/// How many times in a row the active profile's device is reconnected by itself: one that drops
/// every link before it has answered (at the edge of range, rebooting over and over) is not
/// sought forever; its failure stays with its Retry.
pub const MAX_AUTO_RECONNECTS: u32 = 3;

/// The delay a restart is asked for (`Shelly.Reboot`'s `delay_ms`; HA uses one second).
pub const REBOOT_DELAY_MS: u32 = 1_000;

/// Time a Shelly takes to boot and advertise again, waited before each reconnection attempt.
const BOOT_TIME_MS: u64 = 2_000;

/// Reconnection attempts after a restart.
pub const RECONNECT_ATTEMPTS: u32 = 5;

/// An action that connects to a granted device (no chooser), identifies it, and then runs what
/// the action it retries had left to do, if anything.
fn open_action(
    device: GrantedDevice,
    credentials: Option<Credentials>,
    then: Option<Action<ShellySession, Failure>>,
) -> Action<ShellySession, Failure> {
    action(move |s: ShellySession| {
        let (device, credentials, then) = (device.clone(), credentials.clone(), then.clone());
        async move {
            s.steps.set(Vec::new());
            s.open_with(device, credentials).await?;
            go_on(s, then).await
        }
    })
}

/// Runs what an action had left to do once its device is connected again, if anything.
async fn go_on(
    s: ShellySession,
    then: Option<Action<ShellySession, Failure>>,
) -> Result<(), Failure> {
    match then {
        Some(then) => then(s).await,
        None => Ok(()),
    }
}

/// A browser failure while choosing or connecting, explained.
fn connecting_failure(during: &str, error: crate::ble::BleError) -> Failure {
    Failure::new(
        FailureKind::of_ble_error(error.kind, Stage::Connecting),
        during,
        error.to_string(),
    )
}

impl ShellySession {
    /// The connected device as the browser knows it.
    fn granted(self, id: DeviceId) -> GrantedDevice {
        GrantedDevice {
            id,
            name: self
                .device
                .try_with_untracked(|d| d.as_ref().and_then(|d| d.ble_name.clone()))
                .flatten(),
        }
    }

    /// The device's link dropped without being asked to (out of range, device restart).
    pub(super) fn link_dropped(self, device: &DeviceId) {
        let Some(link) = self.link() else { return };
        if link.device() != device {
            return;
        }
        let granted = self.granted(device.clone());
        self.link.try_set_value(None);
        self.remote_running.try_set(false);
        let mac = self
            .device
            .try_with_untracked(|d| d.as_ref().and_then(|d| d.mac))
            .flatten();
        if let Some(mac) = mac {
            self.update_profiles(|p| p.disconnected(mac));
        }
        self.phase.try_set(Phase::Idle);
        let reconnect = open_action(granted, None, None);
        // ZMK: the active profile's device is sought again at once. A permitted device reconnects
        // without a chooser, so try once by ourselves; a failure is explained with its retry.
        let active = mac.is_some_and(|m| {
            self.profiles
                .try_with_untracked(|p| p.seeking() == Seeking::Reconnect(m))
                .unwrap_or(false)
        });
        let again = self.auto_reconnects.try_update_value(|n| {
            *n = n.saturating_add(1);
            *n <= MAX_AUTO_RECONNECTS
        });
        if active && again == Some(true) {
            spawn_local(async move {
                sleep_ms(AUTO_RECONNECT_DELAY_MS).await;
                if self.link().is_none() && self.busy.try_get_untracked() == Some(None) {
                    self.run_action("Reconnect".to_owned(), reconnect);
                }
            });
            return;
        }
        let failure = Failure::new(
            FailureKind::Disconnected,
            "connected",
            "the device closed the Bluetooth link (out of range, restarted, or turned off)",
        );
        self.fail_with_retry(failure, "Reconnect", reconnect);
    }

    /// From here on, a retry of the running action connects to this device again, with these
    /// credentials, instead of asking the user to choose it once more, and then runs `then`.
    fn retry_by_opening(
        self,
        device: &GrantedDevice,
        credentials: Option<Credentials>,
        then: Option<Action<ShellySession, Failure>>,
    ) {
        self.narrow_retry(open_action(device.clone(), credentials, then));
    }

    /// Reconnects the active profile's device: through `getDevices` when the browser offers it,
    /// else with the chooser narrowed to that device's Shelly manufacturer data (its MAC). With
    /// no device in the active profile (another window emptied it as the button was pressed)
    /// there is nothing to reconnect: new devices come from "Set up a device".
    pub fn reconnect_active(self) {
        let Some(binding) = self
            .profiles
            .with_untracked(|p| p.active_binding().cloned())
        else {
            return;
        };
        self.steps.set(Vec::new());
        self.run("Reconnect", move |s| {
            let binding = binding.clone();
            async move {
                let backend = s.backend();
                let mut found = None;
                if backend.capabilities().get_devices
                    && let Some(id) = &binding.device_id
                {
                    s.step("Looking for the device among those permitted before");
                    if let Ok(devices) = backend.get_devices().await {
                        found = devices.into_iter().find(|d| d.id.as_str() == id);
                    }
                }
                let device = match found {
                    Some(device) => device,
                    None => {
                        s.step(format!(
                            "Choosing {} (the chooser shows only the Shelly with MAC {})",
                            binding.name, binding.mac
                        ));
                        let options = RequestDeviceOptions::shelly_device(
                            SERVICE_UUID,
                            binding.mac,
                            &binding.name,
                        );
                        backend
                            .request_device(&options)
                            .await
                            .map_err(|e| connecting_failure("choosing", e))?
                    }
                };
                let credentials = binding
                    .ha1_for(device.id.as_str())
                    .map(|ha1| Credentials::from_ha1(ha1.to_owned()));
                s.retry_by_opening(&device, credentials.clone(), None);
                s.open_with(device, credentials).await
            }
        });
    }

    /// Connects to a granted device and identifies it.
    pub async fn open(self, device: GrantedDevice) -> Result<(), Failure> {
        self.open_with(device, None).await
    }

    async fn open_with(
        self,
        device: GrantedDevice,
        credentials: Option<Credentials>,
    ) -> Result<(), Failure> {
        let backend = self.backend();
        let label = device.name.clone().unwrap_or_else(|| device.id.to_string());
        // End the old session first: Chrome fires gattserverdisconnected inside disconnect(), and
        // with the old link still in place that would read as the connection dropping.
        match self.link() {
            Some(old) if old.device() != &device.id => self.disconnect(),
            _ => self.link.set_value(None),
        }
        // Not connected again until identified (a failure from here on leaves it so).
        self.phase.set(Phase::Idle);
        // "Set up a device" hands over a device it has just connected: that connect is instant.
        let verb = if backend.is_connected(&device.id) {
            "Taking over the connection to"
        } else {
            "Connecting to"
        };
        self.step(format!("{verb} {label}"));
        self.connect_in_time(&device.id).await?;
        let link = Rc::new(Link::new(Rc::clone(&backend), device.id.clone()));
        // A password just entered for this device wins over credentials passed in (a retry may
        // carry a remembered HA1 that has since proved wrong) and over the profile's.
        let entered = self.pending_credentials.with_value(|p| {
            p.as_ref()
                .filter(|(id, _)| *id == device.id)
                .map(|(_, c)| c.clone())
        });
        let credentials = entered.or(credentials).or_else(|| {
            self.profiles.with_untracked(|p| {
                p.slots()
                    .flatten()
                    .find_map(|b| b.ha1_for(device.id.as_str()))
                    .map(|ha1| Credentials::from_ha1(ha1.to_owned()))
            })
        });
        if let Some(c) = credentials {
            link.add_secret(c.ha1());
            link.set_credentials(Some(c));
        }
        self.link.set_value(Some(link));
        self.step(
            "Opening the Shelly RPC service and reading the device info (Shelly.GetDeviceInfo)",
        );
        let info = self
            .call::<shelly::GetDeviceInfo>(&GetDeviceInfoParams::default())
            .await?;
        let summary = DeviceSummary::from_info(device.id.clone(), device.name.clone(), info);
        self.panels.keep_for(&device.id);
        self.device.set(Some(summary.clone()));
        self.phase.set(Phase::Connected);
        self.bind_profile(&summary);
        self.step("Reading the status (Shelly.GetStatus)");
        let status = self.call::<shelly::GetStatus>(&()).await?;
        self.status.set(Some(status));
        self.auto_reconnects.set_value(0);
        self.step_done();
        Ok(())
    }

    /// Connects, giving up after [`crate::ble::CONNECT_TIMEOUT_MS`]; no answer in time reads as
    /// a device out of range.
    async fn connect_in_time(self, device: &DeviceId) -> Result<(), Failure> {
        match self.backend().connect_in_time(device).await {
            Ok(()) => Ok(()),
            Err(ConnectFailure::Failed(e)) => Err(connecting_failure("connecting", e)),
            Err(no_answer @ ConnectFailure::NoAnswer) => Err(Failure::new(
                FailureKind::OutOfRange,
                "connecting",
                no_answer.to_string(),
            )),
        }
    }

    /// Restarts the device (`Shelly.Reboot`), which drops the link, connects to it again once it
    /// is back, and runs `then`: what the action has left to do with the restarted device. The
    /// drop is expected, so it is not reported; connecting is retried while the device boots.
    pub async fn restart_and_reconnect(
        self,
        then: Option<Action<ShellySession, Failure>>,
    ) -> Result<(), Failure> {
        let link = self.link().ok_or_else(|| {
            Failure::new(
                FailureKind::Disconnected,
                "restarting",
                "no device is connected",
            )
        })?;
        let device = self.granted(link.device().clone());
        let credentials = link.ha1().map(Credentials::from_ha1);
        self.call::<shelly::Reboot>(&RebootParams {
            delay_ms: Some(REBOOT_DELAY_MS),
        })
        .await?;
        // From here the link is gone for us: its drop is the restart, not a failure.
        self.link.set_value(None);
        self.remote_running.set(false);
        sleep_ms(REBOOT_DELAY_MS.into()).await;
        self.backend().disconnect(&device.id);
        // What was asked is done and the device restarts: a retry from here on connects to it
        // again and goes on with `then` (running the action again would find no device to send
        // anything to).
        self.retry_by_opening(&device, credentials.clone(), then.clone());
        sleep_ms(BOOT_TIME_MS).await;
        let mut attempt = 1;
        loop {
            match self.open_with(device.clone(), credentials.clone()).await {
                Ok(()) => break,
                Err(f)
                    if attempt < RECONNECT_ATTEMPTS
                        && matches!(
                            f.kind,
                            FailureKind::OutOfRange
                                | FailureKind::Disconnected
                                | FailureKind::Timeout
                        ) =>
                {
                    attempt += 1;
                    sleep_ms(BOOT_TIME_MS).await;
                }
                Err(f) => return Err(f),
            }
        }
        go_on(self, then).await
    }

    /// Restarts the device to apply a saved change that needs it, and reconnects; or, after a
    /// change that ends RPC over Bluetooth (`ble_rpc_stays_on` false), leaves it: that drop is
    /// expected, so it is not reported, and nothing reconnects.
    pub async fn restart_to_apply(self, ble_rpc_stays_on: bool) -> Result<(), Failure> {
        if ble_rpc_stays_on {
            self.step("The device restarts to apply it (Shelly.Reboot), then reconnects");
            return self.restart_and_reconnect(None).await;
        }
        self.step(
            "The device restarts to apply it (Shelly.Reboot); from then on it answers RPC over \
             Wi-Fi only, so this page leaves it",
        );
        self.call::<shelly::Reboot>(&RebootParams {
            delay_ms: Some(REBOOT_DELAY_MS),
        })
        .await?;
        self.disconnect();
        Ok(())
    }

    /// Drops the connection.
    pub fn disconnect(self) {
        self.remote_running.set(false);
        if let Some(link) = self.link() {
            self.link.set_value(None);
            self.backend().disconnect(link.device());
        }
        if let Some(mac) = self
            .device
            .with_untracked(|d| d.as_ref().and_then(|d| d.mac))
        {
            self.update_profiles(|p| p.disconnected(mac));
        }
        self.device.set(None);
        self.status.set(None);
        self.phase.set(Phase::Idle);
    }

    /// Refreshes the status.
    pub fn refresh_status(self) {
        self.run("Refresh status", |s| async move {
            let status = s.call::<shelly::GetStatus>(&()).await?;
            s.status.set(Some(status));
            Ok(())
        });
    }

    // ---- the device password --------------------------------------------------------------

    /// A password was refused: it is dropped from the link, the pending entry and the profile.
    pub(super) fn forget_credentials(self, link: &Link) {
        link.set_credentials(None);
        self.pending_credentials.set_value(None);
        if let Some(index) = self.own_profile() {
            let effects = self
                .profiles
                .try_update(|p| p.set_ha1(index, None))
                .and_then(Result::ok);
            self.apply(effects.unwrap_or_default());
        }
    }

    /// Uses a password for this device: HA1 is computed (the password itself is not kept), and
    /// remembered in the device's profile only if `remember`.
    pub fn use_password(self, password: &str, remember: bool) {
        let Some(link) = self.link() else { return };
        let realm = self
            .device
            .with_untracked(|d| d.as_ref().map(|d| d.realm().to_owned()));
        let Some(realm) = realm else { return };
        link.add_secret(password);
        let credentials = Credentials::from_password(&realm, password);
        let ha1 = credentials.ha1().to_owned();
        link.add_secret(&ha1);
        self.pending_credentials
            .set_value(Some((link.device().clone(), credentials.clone())));
        link.set_credentials(Some(credentials));
        if remember {
            self.remember_ha1(Some(ha1));
        }
    }

    /// Stores (or forgets) HA1 in the connected device's profile.
    pub fn remember_ha1(self, ha1: Option<String>) {
        let Some(index) = self.own_profile() else {
            self.profile_message.set(Some(
                "This device has no profile of its own, so the password cannot be remembered."
                    .to_owned(),
            ));
            return;
        };
        if let Some(link) = self.link()
            && let Some(h) = &ha1
        {
            link.add_secret(h);
        }
        let effects = self
            .profiles
            .try_update(|p| p.set_ha1(index, ha1))
            .and_then(Result::ok);
        self.apply(effects.unwrap_or_default());
    }

    /// The connected device's profile slot: only one saved with this browser device (another
    /// device may claim a saved MAC, and must neither replace nor forget its remembered HA1).
    fn own_profile(self) -> Option<usize> {
        let (mac, device_id) = self.device.with_untracked(|d| {
            d.as_ref()
                .and_then(|d| Some((d.mac?, d.device_id.to_string())))
        })?;
        self.profiles
            .with_untracked(|p| p.find_own(mac, &device_id))
    }
}
