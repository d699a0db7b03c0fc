//! The BTHome gateway: status errors explained, discovery with live results (and what to say
//! when none arrive), adding a device and its sensors (from `BTHomeDevice.GetKnownObjects`, named
//! by `BTHome.GetObjectInfos`; a new device is waited for until the gateway has heard it),
//! deleting, and the devices the gateway relays.
//!
//! This module holds the panel's state and its actions; [`kept`] what the gateway keeps (its
//! device and sensor components, as read), [`discovery`] what a discovery found, [`adding`] what
//! adding a device and its sensors takes.

pub mod adding;
pub mod discovery;
pub mod kept;

use crate::state::actions::RunsActions as _;
use bluehome_core::BindKey;
use bluehome_core::advertisement::MacAddress;
use bluehome_core::shelly::methods::Method;
use bluehome_core::shelly::methods::bthome::{self, DeviceConfig, NewSensor};
use bluehome_core::shelly::methods::events::{DiscoveredDevice, Event};
use bluehome_core::shelly::methods::shelly;
use bluehome_core::text::printable;
use leptos::prelude::*;
use leptos::task::spawn_local;

use self::adding::{AddForm, NewDevice, SensorCandidate, Waiting, sensor_candidates};
use self::discovery::{discovery_outcome, note_finds};
use self::kept::{
    BthomeDevice, BthomeSensor, DynamicComponents, Kept, explain_device_error,
    explain_status_error, sensors_with_status, shown_address,
};
use super::ShellySession;
use super::explain::{Failure, FailureKind, FormField, typed_seconds};
use crate::platform::{monotonic_ms, sleep_ms};

/// How often a gateway feeding the Scan page is polled: often enough for live readings (BLU
/// sensors send every 10–60 s), rare enough to leave the one RPC channel free.
pub const FEED_EVERY_MS: u64 = 5_000;

/// How long the panel re-reads a newly added device's objects by itself. Battery sensors send
/// about once a minute (ALLTERCO/fleet-management waits for a new device's first broadcast), so
/// a little more than a minute.
pub const WAIT_FOR_OBJECTS_MS: u64 = 75_000;

/// How often it re-reads them meanwhile (a `new_objects` event makes it read at once).
const REREAD_EVERY_MS: u64 = 5_000;

/// The discovery lengths the page asks for: the gateway's own default is 10 s (ALLTERCO/
/// fleet-management starts discoveries of 10 s), and two minutes is plenty for a sensor that
/// sends once a minute.
pub const DISCOVERY_SECONDS: std::ops::RangeInclusive<u32> = 1..=120;

/// How long past the discovery time asked the page still listens for the gateway's last
/// results and its `discovery_done` event, before saying it never came.
const DISCOVERY_MARGIN_MS: u64 = 3_000;

/// What the gateway panel shows and what was typed into it, and its actions.
#[derive(Debug, Clone, Copy)]
pub struct BthomeGateway {
    /// `BTHome.GetStatus` errors, explained.
    pub errors: RwSignal<Vec<String>>,
    /// The BTHome device components, each with its model.
    pub devices: RwSignal<Vec<BthomeDevice>>,
    /// The BTHome sensor components.
    pub sensors: RwSignal<Vec<BthomeSensor>>,
    /// A discovery runs.
    pub discovering: RwSignal<bool>,
    /// What the last discovery found, one entry per device, in the order found.
    pub discovered: RwSignal<Vec<DiscoveredDevice>>,
    /// What to say about the last discovery, when it found nothing.
    pub discovery_note: RwSignal<Option<&'static str>>,
    /// The device just added: its id and address.
    pub added_device: RwSignal<Option<(u16, String)>>,
    /// What it sends, to make sensors of.
    pub candidates: RwSignal<Vec<SensorCandidate>>,
    /// The candidates picked, as (object id, index).
    pub chosen: RwSignal<Vec<(u8, u8)>>,
    /// The device waited for.
    pub waiting: RwSignal<Option<Waiting>>,
    /// The add form.
    pub form: AddForm,
    /// How long to discover for, as typed (not one device's: kept when another connects).
    pub discovery_seconds: RwSignal<String>,
}

impl Default for BthomeGateway {
    fn default() -> Self {
        Self {
            errors: RwSignal::default(),
            devices: RwSignal::default(),
            sensors: RwSignal::default(),
            discovering: RwSignal::default(),
            discovered: RwSignal::default(),
            discovery_note: RwSignal::default(),
            added_device: RwSignal::default(),
            candidates: RwSignal::default(),
            chosen: RwSignal::default(),
            waiting: RwSignal::default(),
            form: AddForm::default(),
            discovery_seconds: RwSignal::new("10".to_owned()),
        }
    }
}

impl ShellySession {
    /// The config, status and BLU model of the dynamic components (BTHome devices and sensors),
    /// every page of `Shelly.GetComponents`: real firmware lists them neither in
    /// `Shelly.GetConfig` nor in `Shelly.GetStatus` (see
    /// [`ComponentMap::statuses`](shelly::ComponentMap::statuses)).
    pub async fn dynamic_components(self) -> Result<DynamicComponents, Failure> {
        let params = shelly::GetComponentsParams {
            include: vec![shelly::Include::Status, shelly::Include::Config],
            dynamic_only: Some(true),
            ..shelly::GetComponentsParams::default()
        };
        // At most one page per dynamic component (ids 200..299).
        const MAX_PAGES: u32 = 100;
        let components = self
            .call_all_pages::<shelly::GetComponents>(params, MAX_PAGES)
            .await?;
        Ok(DynamicComponents::of(&components))
    }
}

impl BthomeGateway {
    /// The device at `addr` as the Devices list names it: its name, else its address (tracked,
    /// so a view that names it follows the list).
    pub fn device_label(self, addr: &str) -> String {
        let named = |d: &BthomeDevice| {
            d.config
                .addr
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(addr))
        };
        self.devices
            .with(|devices| {
                devices
                    .iter()
                    .find(|d| named(d))
                    .and_then(|d| d.config.name.clone())
                    .filter(|name| !name.trim().is_empty())
            })
            .map_or_else(|| shown_address(addr), |name| printable(&name).into_owned())
    }

    /// Forgets what was read, found and typed (another device connected), ending a wait.
    pub(super) fn clear(self) {
        self.errors.set(Vec::new());
        self.devices.set(Vec::new());
        self.sensors.set(Vec::new());
        self.discovered.set(Vec::new());
        self.discovery_note.set(None);
        self.added_device.set(None);
        self.candidates.set(Vec::new());
        self.chosen.set(Vec::new());
        self.waiting.set(None);
        self.form.clear();
    }

    /// Reads the gateway's status and its BTHome components.
    pub fn load(self, session: ShellySession) {
        session.run("Gateway", move |s| self.refresh(s));
    }

    async fn refresh(self, s: ShellySession) -> Result<(), Failure> {
        s.step("Reading the gateway status (BTHome.GetStatus)");
        let status = s.call::<bthome::GetStatus>(&()).await?;
        let errors = status.errors.unwrap_or_default();
        self.errors
            .try_set(errors.iter().map(|e| explain_status_error(e)).collect());
        s.step("Reading BTHome devices and sensors (Shelly.GetComponents)");
        let dynamic = s.dynamic_components().await?;
        self.devices.try_set(dynamic.devices());
        self.sensors
            .try_set(sensors_with_status(&dynamic.config, &dynamic.status));
        s.step_done();
        Ok(())
    }

    /// Reads what the gateway knows of device `id`; true once it knows something. While it
    /// knows nothing, the device's status says whether it cannot read the packets.
    async fn read_known(self, s: ShellySession, id: u16) -> Result<bool, Failure> {
        let known = s
            .call::<bthome::DeviceGetKnownObjects>(&bthome::IdParams { id })
            .await?;
        if known.objects.is_empty() {
            let status = s
                .call::<bthome::DeviceGetStatus>(&bthome::IdParams { id })
                .await?;
            let problem = status.errors.unwrap_or_default();
            let problem = problem.first().map(|e| explain_device_error(e));
            self.waiting.try_update(|w| {
                if let Some(w) = w.as_mut().filter(|w| w.id == id) {
                    w.problem = problem;
                }
            });
            return Ok(false);
        }
        // Each object id once, wherever the device lists it (one per measurement index).
        let mut ids: Vec<u8> = known.objects.iter().map(|o| o.obj_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let params = bthome::GetObjectInfosParams {
            obj_ids: ids,
            offset: None,
        };
        // Pages of object infos read at most: a device sends a few dozen objects at most.
        const MAX_PAGES: u32 = 20;
        let infos = s
            .call_all_pages::<bthome::GetObjectInfos>(params, MAX_PAGES)
            .await?;
        self.candidates.try_set(sensor_candidates(&known, &infos));
        self.chosen.try_set(Vec::new());
        self.waiting.try_set(None);
        Ok(true)
    }

    /// Whether the panel waits for device `id`'s objects.
    fn is_waiting_for(self, id: u16) -> bool {
        self.waiting
            .try_with_untracked(|w| w.as_ref().is_some_and(|w| w.id == id))
            == Some(true)
    }

    /// Drops what the panel holds of device `id` if it is the one just added (its sensors to
    /// choose, the wait for its objects): it was deleted.
    fn forget_added(self, id: u16) {
        let added = self
            .added_device
            .try_with_untracked(|a| a.as_ref().is_some_and(|(added, _)| *added == id));
        if added == Some(true) {
            self.added_device.try_set(None);
            self.candidates.try_set(Vec::new());
            self.chosen.try_set(Vec::new());
        }
        if self.is_waiting_for(id) {
            self.waiting.try_set(None);
        }
    }

    /// Re-reads a new device's objects until the gateway knows them, at once on a `new_objects`
    /// that came after the first `seen` events (counted before the last read), whichever of the
    /// session's reads received it: a discovery or the feed listening beside this wait may.
    fn wait_for_objects(self, s: ShellySession, id: u16, mut seen: usize) {
        let start = monotonic_ms();
        spawn_local(async move {
            let mut last_read = start;
            loop {
                sleep_ms(1_000).await;
                let still = self
                    .waiting
                    .try_with_untracked(|w| w.as_ref().is_some_and(|w| w.id == id && !w.gave_up));
                if still != Some(true) {
                    return;
                }
                if s.link().is_none() {
                    // The link dropped: the automatic re-reads end here, and "Read again" (once
                    // connected again) starts them anew.
                    return self.give_up();
                }
                let _ = s.listen().await;
                let told = s.event_since(seen, |e| *e == Event::NewObjects { id });
                seen = s.events_seen();
                let now = monotonic_ms();
                if told || now.saturating_sub(last_read) >= REREAD_EVERY_MS {
                    last_read = now;
                    match self.read_known(s, id).await {
                        Ok(true) => return,
                        Ok(false) => {}
                        // Unless the device was deleted meanwhile: then no longer waited for.
                        Err(failure) => {
                            if self.is_waiting_for(id) {
                                s.failure.try_set(Some(failure));
                            }
                            return;
                        }
                    }
                }
                if now.saturating_sub(start) >= WAIT_FOR_OBJECTS_MS {
                    return self.give_up();
                }
            }
        });
    }

    /// Ends the automatic re-reads of the device waited for.
    fn give_up(self) {
        self.waiting.try_update(|w| {
            if let Some(w) = w {
                w.gave_up = true;
            }
        });
    }

    /// Discovers BTHome devices for the seconds typed (refused outside [`DISCOVERY_SECONDS`])
    /// and listens for what the gateway finds.
    pub fn discover(self, session: ShellySession, typed_secs: &str) {
        let field = FormField::DiscoverySeconds;
        let secs = match typed_seconds(field, "discovering devices", typed_secs, DISCOVERY_SECONDS)
        {
            Ok(secs) => secs,
            Err(refusal) => return session.refuse(refusal),
        };
        session.run("Discovery", move |s| async move {
            s.step(format!(
                "Discovering BTHome devices for {secs} s (BTHome.StartDeviceDiscovery)"
            ));
            // Its own finds only: events from before it are not its.
            let mut seen = s.events_seen();
            self.discovered.try_set(Vec::new());
            self.discovery_note.try_set(None);
            s.call::<bthome::StartDeviceDiscovery>(&bthome::StartDiscoveryParams {
                duration: Some(secs),
            })
            .await?;
            self.discovering.try_set(true);
            s.step("Listening for what the gateway finds (its NotifyEvent frames)");
            let listen_ms = u64::from(secs) * 1_000 + DISCOVERY_MARGIN_MS;
            let start = monotonic_ms();
            let mut done = false;
            loop {
                let _ = s.listen().await;
                let events = s.events_since(seen);
                seen = s.events_seen();
                done |= self
                    .discovered
                    .try_update(|found| note_finds(found, events))
                    .unwrap_or(false);
                if done || s.link().is_none() || monotonic_ms().saturating_sub(start) >= listen_ms {
                    break;
                }
                sleep_ms(500).await;
            }
            self.discovering.try_set(false);
            if s.link().is_none() {
                // The link dropped: what happened to it is said (and a reconnection offered or
                // under way) where a drop is handled; "no results" would be wrong.
                s.step_failed();
                return Ok(());
            }
            let found = self.discovered.with_untracked(Vec::len);
            self.discovery_note.try_set(discovery_outcome(found, done));
            s.step_done();
            Ok(())
        });
    }

    /// Adds a device, then reads what it sends (waiting for it when the gateway has not heard
    /// it yet).
    pub fn add_device(self, session: ShellySession, device: NewDevice) {
        let refuse = |field, detail: String| {
            session.refuse(Failure::refusing(field, "adding a device", detail));
        };
        // The address in firmware's own form, however it was typed (any case, `-` or `:`).
        let mac = match device.addr.trim().parse::<MacAddress>() {
            Ok(mac) => mac,
            Err(e) => return refuse(FormField::GatewayAddress, format!("the address: {e}")),
        };
        // The key as the gateway takes it (32 hex digits), however it was pasted ("0x…", spaces,
        // dashes), so that the log masks it and the gateway is not sent a malformed one.
        let key = match device.key.trim() {
            "" => None,
            text => match BindKey::from_pasted(text) {
                Ok(key) => Some(key.to_hex()),
                Err(e) => return refuse(FormField::GatewayBindKey, format!("the bind key: {e}")),
            },
        };
        if let (Some(link), Some(key)) = (session.link(), &key) {
            link.add_secret(key);
        }
        let device = NewDevice {
            addr: mac.to_shelly_rpc(),
            key: key.unwrap_or_default(),
            ..device
        };
        session.run("Add BTHome device", move |s| {
            let NewDevice { addr, name, key } = device.clone();
            async move {
                s.step(format!("Adding {mac} (BTHome.AddDevice)"));
                let params = bthome::AddDeviceParams {
                    config: DeviceConfig {
                        addr: Some(addr.clone()),
                        name: (!name.is_empty()).then_some(name),
                        key: (!key.is_empty()).then_some(key),
                        ..DeviceConfig::default()
                    },
                    id: None,
                };
                let added = s.call::<bthome::AddDevice>(&params).await?;
                let id = added.id().ok_or_else(|| {
                    Failure::new(
                        FailureKind::Protocol,
                        bthome::AddDevice::NAME,
                        format!("the answer names no component id: {:?}", added.key),
                    )
                })?;
                self.added_device.try_set(Some((id, addr.clone())));
                self.candidates.try_set(Vec::new());
                s.step(format!(
                    "Reading what the device sends (BTHomeDevice.GetKnownObjects id {id})"
                ));
                self.waiting.try_set(Some(Waiting {
                    id,
                    addr,
                    gave_up: false,
                    problem: None,
                }));
                let seen = s.events_seen();
                if !self.read_known(s, id).await? {
                    self.wait_for_objects(s, id, seen);
                }
                self.refresh(s).await
            }
        });
    }

    /// Reads the waited-for device's objects again (and waits another minute if it still sent
    /// nothing after the automatic re-reads ended).
    pub fn read_again(self, session: ShellySession) {
        let Some(w) = self.waiting.get_untracked() else {
            return;
        };
        session.run("Read the device's sensors", move |s| {
            let w = w.clone();
            async move {
                s.step(format!(
                    "Reading what {} sends (BTHomeDevice.GetKnownObjects id {})",
                    w.addr, w.id
                ));
                let seen = s.events_seen();
                if !self.read_known(s, w.id).await? && w.gave_up {
                    // Another minute of automatic re-reads: the user may just have pressed the button.
                    self.waiting.try_set(Some(Waiting {
                        gave_up: false,
                        ..w.clone()
                    }));
                    self.wait_for_objects(s, w.id, seen);
                }
                s.step_done();
                Ok(())
            }
        });
    }

    /// Makes sensor components of the chosen candidates (never of a button's), going on past a
    /// refusal: the ones refused stay chosen, so that a retry adds only them.
    pub fn add_sensors(self, session: ShellySession) {
        let Some((id, addr)) = self.added_device.get_untracked() else {
            return;
        };
        session.run("Add sensors", move |s| {
            let addr = addr.clone();
            async move {
                // Read when the action runs, so that a retry sees what is still chosen.
                let chosen = self.chosen.get_untracked();
                let picks: Vec<SensorCandidate> = self.candidates.with_untracked(|c| {
                    c.iter()
                        .filter(|k| !k.events_only && chosen.contains(&(k.obj_id, k.idx)))
                        .cloned()
                        .collect()
                });
                let mut refused = Vec::new();
                let mut first_refusal = None;
                for k in &picks {
                    s.step(format!("Adding sensor {} (BTHome.AddSensor)", k.name));
                    let params = bthome::AddSensorParams {
                        config: NewSensor {
                            addr: addr.clone(),
                            obj_id: k.obj_id,
                            obj_idx: k.idx,
                            name: Some(k.name.clone()),
                            meta: None,
                        },
                        id: None,
                    };
                    if let Err(failure) = s.call::<bthome::AddSensor>(&params).await {
                        s.step_failed();
                        refused.push(k.clone());
                        first_refusal.get_or_insert(failure);
                    }
                }
                let Some(mut failure) = first_refusal else {
                    self.candidates.try_set(Vec::new());
                    self.chosen.try_set(Vec::new());
                    return self.refresh(s).await;
                };
                // Show which sensors were made: the candidates read again name their components.
                s.step(format!(
                    "Reading the device's sensors again (BTHomeDevice.GetKnownObjects id {id})"
                ));
                self.read_known(s, id).await?;
                self.chosen
                    .try_set(refused.iter().map(|k| (k.obj_id, k.idx)).collect());
                self.refresh(s).await?;
                let names: Vec<&str> = refused.iter().map(|k| k.name.as_str()).collect();
                failure.detail = format!(
                    "{} of {} sensors not added ({}); the first refusal: {}",
                    refused.len(),
                    picks.len(),
                    names.join(", "),
                    failure.detail
                );
                Err(failure)
            }
        });
    }

    /// Deletes a BTHome device or sensor component.
    pub fn delete(self, session: ShellySession, component: Kept) {
        session.run("Delete", move |s| async move {
            let params = bthome::IdParams { id: component.id() };
            match component {
                Kept::Device(id) => {
                    s.step(format!("Deleting device {id} (BTHome.DeleteDevice)"));
                    s.call::<bthome::DeleteDevice>(&params).await?;
                    self.forget_added(id);
                }
                Kept::Sensor(id) => {
                    s.step(format!("Deleting sensor {id} (BTHome.DeleteSensor)"));
                    s.call::<bthome::DeleteSensor>(&params).await?;
                }
            }
            self.refresh(s).await
        });
    }
}

impl ShellySession {
    /// Reads once what the gateway hears (relayed devices and its BTHome sensors).
    pub fn read_relayed(self) {
        self.run("Relayed devices", move |s| async move {
            s.step("Reading what the gateway hears (BLE.CloudRelay.ListInfos, BTHome sensors)");
            let heard = s.poll_remote().await?;
            s.remote_heard.set(heard);
            s.step_done();
            Ok(())
        });
    }

    /// Starts or stops feeding the Scan page with what the gateway hears.
    pub fn toggle_feed(self) {
        if self.remote_running.get_untracked() {
            self.stop_remote_scanner();
        } else {
            self.start_remote_scanner(FEED_EVERY_MS);
        }
    }
}
