//! The BTHome gateway: status errors explained, discovery with live results (and what to say
//! when none arrive), adding a device and its sensors (from `BTHomeDevice.GetKnownObjects`, named
//! by `BTHome.GetObjectInfos`; a new device is waited for until the gateway has heard it),
//! deleting, and the devices the gateway relays.

use crate::state::actions::RunsActions as _;
use bluehome_core::BindKey;
use bluehome_core::advertisement::MacAddress;
use bluehome_core::bthome::{Object, info as object_info};
use bluehome_core::shelly::methods::Method;
use bluehome_core::shelly::methods::bthome::{
    self, DeviceConfig, DeviceStatus, KnownObjects, NewSensor, ObjectInfo, SensorConfig,
    SensorStatus,
};
use bluehome_core::shelly::methods::events::{DiscoveredDevice, Event};
use bluehome_core::shelly::methods::shelly::{self, Component, ComponentMap};
use bluehome_core::shelly::models;
use bluehome_core::text::printable;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;

use super::ShellySession;
use super::explain::{Failure, FailureKind, FormField};
use super::remote::reading_for;
use crate::platform::{now_ms, sleep_ms};
use crate::state::model::object_text;
use crate::state::settings::Settings;

/// How often a gateway feeding the Scan page is polled: often enough for live readings (BLU
/// sensors send every 10–60 s), rare enough to leave the one RPC channel free.
pub const FEED_EVERY_MS: u64 = 5_000;

/// How long the panel re-reads a newly added device's objects by itself. Battery sensors send
/// about once a minute (ALLTERCO/fleet-management waits for a new device's first broadcast), so
/// a little more than a minute.
pub const WAIT_FOR_OBJECTS_MS: u64 = 75_000;

/// How often it re-reads them meanwhile (a `new_objects` event makes it read at once).
const REREAD_EVERY_MS: u64 = 5_000;

/// Pages of `BTHome.GetObjectInfos` read at most.
const MAX_OBJECT_PAGES: u32 = 20;

/// Pages of `Shelly.GetComponents` read at most (100 dynamic components, ids 200..299).
const MAX_COMPONENT_PAGES: u32 = 100;

/// The dynamic components (BTHome devices and sensors) of `Shelly.GetComponents`
/// ([`ShellySession::dynamic_components`]).
#[derive(Debug, Clone, Default)]
pub struct DynamicComponents {
    /// Their configs by key.
    pub config: ComponentMap,
    /// Their statuses by key.
    pub status: ComponentMap,
    /// The BLU model id of each BTHome device by key (`bthomedevice:200`), where its `attrs`
    /// name one.
    pub models: BTreeMap<String, u16>,
}

impl DynamicComponents {
    /// Reads the items of every page.
    pub fn of(components: &[Component]) -> Self {
        Self {
            config: ComponentMap::configs(components),
            status: ComponentMap::statuses(components),
            models: components
                .iter()
                .filter(|c| shelly::component_id(&c.key, "bthomedevice").is_some())
                .filter_map(|c| Some((c.key.clone(), c.device_attrs().model_id?)))
                .collect(),
        }
    }

    /// The BTHome device components in id order, each with its model.
    pub fn devices(&self) -> Vec<BthomeDevice> {
        self.config
            .numbered::<DeviceConfig>("bthomedevice")
            .into_iter()
            .map(|(id, config)| {
                let key = format!("bthomedevice:{id}");
                let errors = self.status.get::<DeviceStatus>(&key).and_then(|s| s.errors);
                BthomeDevice {
                    id,
                    config,
                    model_id: self.models.get(&key).copied(),
                    problem: errors.and_then(|e| e.first().map(|e| explain_device_error(e))),
                }
            })
            .collect()
    }
}

/// A BTHome device component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BthomeDevice {
    /// Its id (200..299).
    pub id: u16,
    /// Its configuration.
    pub config: DeviceConfig,
    /// Its BLU model id, when the gateway names one (the component's `attrs`: a real BLU Gateway
    /// Gen3 on 1.7.5 sends `{"flags": 17, "model_id": 3}`, in Luligu/matterbridge-shelly
    /// `src/mock/shellyblugwg3-34CDB077BCD4.json`).
    pub model_id: Option<u16>,
    /// Why the gateway cannot read its packets, explained (from its status `errors`).
    pub problem: Option<String>,
}

impl BthomeDevice {
    /// Its model for people: product name and code (`Shelly BLU H&T (SBHT-003C)`), the bare id
    /// when the model table does not know it, `None` when the gateway names no model.
    pub fn model_label(&self) -> Option<String> {
        let id = self.model_id?;
        Some(match models::model(id) {
            Some(m) => format!("{} ({})", m.name, m.code),
            None => format!("BLU model id 0x{id:04x}"),
        })
    }
}

/// A device address as the page shows it: a MAC in the upper case the Scan page uses (the
/// gateway writes them in lower case), anything else as the gateway sent it, made printable.
pub fn shown_address(addr: &str) -> String {
    addr.parse::<MacAddress>()
        .map_or_else(|_| printable(addr).into_owned(), |mac| mac.to_string())
}

/// A discovered device as its button says it: its address, the product its Shelly manufacturer
/// data (or else its local name, a BLU model code) names, whether it encrypts, its signal.
pub fn discovered_label(device: &DiscoveredDevice) -> String {
    let name = device.local_name.as_deref().unwrap_or_default();
    let model = device
        .shelly_mfdata
        .as_ref()
        .and_then(|m| models::model(m.model_id))
        .or_else(|| models::model_by_code(name))
        .filter(|m| m.is_blu());
    let what = model.map_or_else(
        || printable(name).into_owned(),
        |m| format!("{} ({})", m.name, m.code),
    );
    let mut parts = vec![shown_address(&device.addr)];
    parts.extend((!what.is_empty()).then_some(what));
    parts.extend(device.encrypted.then(|| "encrypted".to_owned()));
    parts.push(format!("{} dBm", device.rssi));
    parts.join(" · ")
}

/// A BTHome sensor component with its last value.
#[derive(Debug, Clone, PartialEq)]
pub struct BthomeSensor {
    /// Its id (200..299).
    pub id: u16,
    /// Its configuration.
    pub config: SensorConfig,
    /// Its status, if the gateway reported one.
    pub status: Option<SensorStatus>,
}

impl BthomeSensor {
    /// What it measures: the name it was given, else its object's (`humidity`).
    pub fn label(&self) -> String {
        match self.config.name.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(name) => printable(name).into_owned(),
            None => self
                .config
                .obj_id
                .and_then(object_info)
                .map_or("sensor", |info| info.name)
                .replace('_', " "),
        }
    }

    /// Its last value as the Scan page writes it, in the user's units (`21.5 °C`, `open`); empty
    /// before the gateway reported its status, "no value yet" before the sensor was heard.
    pub fn reading(&self, settings: &Settings) -> String {
        let Some(status) = &self.status else {
            return String::new();
        };
        if status.value.is_null() {
            return "no value yet".into();
        }
        let object = self
            .config
            .obj_id
            .and_then(|id| reading_for(id, &status.value).map(|reading| Object::new(id, reading)));
        match object {
            Some(o) => object_text(o.id, &o.value, o.unit(), settings),
            // A value that does not fit its object: as the gateway wrote it.
            None => printable(&status.value.to_string()).into_owned(),
        }
    }
}

/// The BTHome sensor components of a config map, each with its status (both from
/// [`DynamicComponents`]).
pub fn sensors_with_status(config: &ComponentMap, status: &ComponentMap) -> Vec<BthomeSensor> {
    config
        .numbered::<SensorConfig>("bthomesensor")
        .into_iter()
        .map(|(id, config)| BthomeSensor {
            id,
            config,
            status: status.get(&format!("bthomesensor:{id}")),
        })
        .collect()
}

/// Explains a `BTHome.GetStatus` error.
pub fn explain_status_error(code: &str) -> String {
    match code {
        "bluetooth_disabled" => "Bluetooth is turned off on the gateway: turn it on (BLE settings) so it can hear sensors.".into(),
        "observer_disabled" => "The gateway's Bluetooth observer is off: turn on \"Bluetooth gateway\" in its settings.".into(),
        other => format!("The gateway reports \"{other}\"."),
    }
}

/// Explains a `BTHomeDevice.GetStatus` error: why the gateway cannot read a device's packets
/// (taulfsime/shelly-rpc-ts `BTHomeDevice.ts` lists the codes).
pub fn explain_device_error(code: &str) -> String {
    const READD: &str = "Remove the device and add it again with its bind key (the Shelly app, or \"Set up a device\" here, shows it).";
    match code {
        "key_missing_or_bad" => format!("The device encrypts, and the gateway has no usable key for it. {READD}"),
        "decrypt_failed" => format!("The gateway cannot decrypt the device's packets: its key is not the device's (a new passkey makes a new key). {READD}"),
        "unencrypted_data" => "The device does not encrypt, but the gateway has a key for it and refuses its plain packets. Remove the device and add it again without a key.".into(),
        "parse_failed" => "The gateway cannot read the device's packets as BTHome.".into(),
        other => format!("The gateway reports \"{other}\" for this device."),
    }
}

/// An object a BTHome device sends (`BTHomeDevice.GetKnownObjects`), named from
/// `BTHome.GetObjectInfos`: what the user may make a sensor component of.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorCandidate {
    /// The BTHome object id.
    pub obj_id: u8,
    /// Which occurrence of that id.
    pub idx: u8,
    /// The sensor component already made from it.
    pub component: Option<String>,
    /// The object's name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// A button: its presses are the device's own events, and firmware since 1.6.0 makes no
    /// sensor of it (shelly-api-docs, DynamicComponents/BTHome: "BTHomeSensor components of type
    /// button are no longer supported").
    pub events_only: bool,
}

/// Joins `BTHomeDevice.GetKnownObjects` with `BTHome.GetObjectInfos`.
pub fn sensor_candidates(known: &KnownObjects, infos: &[ObjectInfo]) -> Vec<SensorCandidate> {
    known
        .objects
        .iter()
        .map(|o| {
            let info = infos.iter().find(|i| i.obj_id == o.obj_id);
            let text = |t: Option<&Option<String>>| t.cloned().flatten().unwrap_or_default();
            SensorCandidate {
                obj_id: o.obj_id,
                idx: o.idx,
                component: o.component.clone(),
                name: match text(info.map(|i| &i.obj_name)) {
                    n if n.is_empty() => format!("object 0x{:02x}", o.obj_id),
                    n => n,
                },
                unit: text(info.map(|i| &i.unit)),
                events_only: bluehome_core::bthome::info(o.obj_id)
                    .is_some_and(|i| i.kind == bluehome_core::bthome::Kind::Button),
            }
        })
        .collect()
}

/// A newly added device whose objects the gateway does not know yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// Its BTHome device component id.
    pub id: u16,
    /// Its address.
    pub addr: String,
    /// The automatic re-reads are over.
    pub gave_up: bool,
    /// Why the gateway cannot read the device's packets, explained (from its status `errors`).
    pub problem: Option<String>,
}

impl Waiting {
    /// What the panel says meanwhile.
    pub fn message(&self) -> String {
        if let Some(problem) = &self.problem {
            return problem.clone();
        }
        if self.gave_up {
            format!(
                "Nothing heard from {} yet. Check that it is in range and has a battery, press its button, then read again.",
                shown_address(&self.addr)
            )
        } else {
            format!(
                "Waiting for {} to send: the gateway learns a device's sensors from its next packet. Press the device's button (most Shelly BLU devices then send at once), or wait up to a minute: battery sensors send about once a minute.",
                shown_address(&self.addr)
            )
        }
    }
}

/// What to say when a discovery brought no device (`None` when it found some).
pub fn discovery_outcome(found: usize, done: bool) -> Option<&'static str> {
    match (found, done) {
        (0, false) => Some(
            "The gateway sent no discovery results over Bluetooth (not every firmware passes its events to a Bluetooth client). Type the device's address below, or pick it from the devices the gateway already hears.",
        ),
        (0, true) => Some(
            "The gateway found no BTHome device nearby. Press the device's button to wake it and discover again, type its address below, or pick it from the devices the gateway already hears.",
        ),
        _ => None,
    }
}

/// A device to add with `BTHome.AddDevice`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewDevice {
    /// Its address, as typed or picked.
    pub addr: String,
    /// Its name (empty: none).
    pub name: String,
    /// Its bind key, 32 hex digits (empty: unencrypted).
    pub key: String,
}

/// What the gateway panel shows, and its actions.
#[derive(Debug, Clone, Copy, Default)]
pub struct BthomeGateway {
    /// `BTHome.GetStatus` errors, explained.
    pub errors: RwSignal<Vec<String>>,
    /// The BTHome device components, each with its model.
    pub devices: RwSignal<Vec<BthomeDevice>>,
    /// The BTHome sensor components.
    pub sensors: RwSignal<Vec<BthomeSensor>>,
    /// A discovery runs.
    pub discovering: RwSignal<bool>,
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
}

/// The devices the gateway found, from the discovery events received.
pub fn discovered(events: &[Event]) -> Vec<DiscoveredDevice> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::DeviceDiscovered { device, .. } => Some(device.clone()),
            _ => None,
        })
        .collect()
}

impl ShellySession {
    /// The config, status and BLU model of the dynamic components (BTHome devices and sensors),
    /// every page of `Shelly.GetComponents`: real firmware lists them neither in
    /// `Shelly.GetConfig` nor in `Shelly.GetStatus` (see [`ComponentMap::statuses`]).
    pub async fn dynamic_components(self) -> Result<DynamicComponents, Failure> {
        let params = shelly::GetComponentsParams {
            include: vec![shelly::Include::Status, shelly::Include::Config],
            dynamic_only: Some(true),
            ..shelly::GetComponentsParams::default()
        };
        let components = self
            .call_all_pages::<shelly::GetComponents>(params, MAX_COMPONENT_PAGES)
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
        let mut ids: Vec<u8> = known.objects.iter().map(|o| o.obj_id).collect();
        ids.dedup();
        let params = bthome::GetObjectInfosParams {
            obj_ids: ids,
            offset: None,
        };
        let infos = s
            .call_all_pages::<bthome::GetObjectInfos>(params, MAX_OBJECT_PAGES)
            .await?;
        self.candidates.try_set(sensor_candidates(&known, &infos));
        self.chosen.try_set(Vec::new());
        self.waiting.try_set(None);
        Ok(true)
    }

    /// Re-reads a new device's objects until the gateway knows them, at once on `new_objects`.
    fn wait_for_objects(self, s: ShellySession, id: u16) {
        let start = now_ms();
        spawn_local(async move {
            let mut last_read = start;
            loop {
                sleep_ms(1_000).await;
                let still = self
                    .waiting
                    .try_with_untracked(|w| w.as_ref().is_some_and(|w| w.id == id && !w.gave_up));
                if still != Some(true) || s.link().is_none() {
                    return;
                }
                let seen = s.events_seen();
                let _ = s.listen().await;
                let told = s.event_since(seen, |e| *e == Event::NewObjects { id });
                let now = now_ms();
                if told || now.saturating_sub(last_read) >= REREAD_EVERY_MS {
                    last_read = now;
                    match self.read_known(s, id).await {
                        Ok(true) => return,
                        Ok(false) => {}
                        Err(failure) => {
                            s.failure.try_set(Some(failure));
                            return;
                        }
                    }
                }
                if now.saturating_sub(start) >= WAIT_FOR_OBJECTS_MS {
                    self.waiting.try_update(|w| {
                        if let Some(w) = w {
                            w.gave_up = true;
                        }
                    });
                    return;
                }
            }
        });
    }

    /// Discovers BTHome devices for `secs` seconds and listens for what the gateway finds.
    pub fn discover(self, session: ShellySession, secs: u32) {
        session.run("Discovery", move |s| async move {
            s.step(format!(
                "Discovering BTHome devices for {secs} s (BTHome.StartDeviceDiscovery)"
            ));
            s.events.set(Vec::new());
            self.discovery_note.try_set(None);
            s.call::<bthome::StartDeviceDiscovery>(&bthome::StartDiscoveryParams {
                duration: Some(secs),
            })
            .await?;
            self.discovering.try_set(true);
            s.step("Listening for what the gateway finds (its NotifyEvent frames)");
            let done =
                |s: ShellySession| s.event_since(0, |e| matches!(e, Event::DiscoveryDone { .. }));
            for _ in 0..secs * 2 + 6 {
                let _ = s.listen().await;
                if done(s) {
                    break;
                }
                sleep_ms(500).await;
            }
            self.discovering.try_set(false);
            let found = s.events.with_untracked(|events| discovered(events).len());
            self.discovery_note
                .try_set(discovery_outcome(found, done(s)));
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
                if !self.read_known(s, id).await? {
                    self.wait_for_objects(s, id);
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
                if !self.read_known(s, w.id).await? && w.gave_up {
                    // Another minute of automatic re-reads: the user may just have pressed the button.
                    self.waiting.try_set(Some(Waiting {
                        gave_up: false,
                        ..w.clone()
                    }));
                    self.wait_for_objects(s, w.id);
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

/// A BTHome component the gateway keeps, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// A `bthomedevice`.
    Device(u16),
    /// A `bthomesensor`.
    Sensor(u16),
}

impl Kept {
    /// Its component id.
    pub fn id(self) -> u16 {
        match self {
            Self::Device(id) | Self::Sensor(id) => id,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use bluehome_core::shelly::methods::events::ShellyMfdata;
    use serde_json::json;

    /// A discovered BLU device is said by its product, from its manufacturer data or else the
    /// model code it advertises as its name; anything else by its name as sent.
    #[test]
    fn a_discovered_device_is_said_by_its_product() {
        let mut device = DiscoveredDevice {
            addr: "3c:2e:f5:5b:01:01".to_owned(),
            local_name: Some("SBHT-003C".to_owned()),
            rssi: -50,
            ..DiscoveredDevice::default()
        };
        assert_eq!(
            discovered_label(&device),
            "3C:2E:F5:5B:01:01 · Shelly BLU H&T (SBHT-003C) · -50 dBm"
        );
        device.local_name = None;
        device.encrypted = true;
        device.shelly_mfdata = Some(ShellyMfdata {
            model_id: 0x0002,
            ..ShellyMfdata::default()
        });
        assert_eq!(
            discovered_label(&device),
            "3C:2E:F5:5B:01:01 · Shelly BLU Door/Window (SBDW-002C) · encrypted · -50 dBm"
        );
        device.shelly_mfdata = None;
        device.local_name = Some("ATC_1".to_owned());
        device.encrypted = false;
        assert_eq!(
            discovered_label(&device),
            "3C:2E:F5:5B:01:01 · ATC_1 · -50 dBm"
        );
    }

    /// The gateway's lower-case MACs are shown as the Scan page shows them; what is not a MAC
    /// is shown as sent, with control characters made visible.
    #[test]
    fn addresses_are_shown_as_the_scan_page_shows_them() {
        assert_eq!(shown_address("3c:2e:f5:71:d5:2a"), "3C:2E:F5:71:D5:2A");
        assert_eq!(shown_address("3C-2E-F5-71-D5-2A"), "3C:2E:F5:71:D5:2A");
        assert_eq!(shown_address("not a mac"), "not a mac");
        assert_ne!(shown_address("a\u{1b}b"), "a\u{1b}b");
    }

    /// A sensor's value reads as the Scan page writes it: units (and the user's °F), a binary
    /// object's words; before a status, nothing; before the first value, a note; a value that
    /// does not fit its object, as sent. Unnamed, it is named by its object.
    #[test]
    fn sensor_values_read_as_the_scan_page_writes_them() {
        let sensor = |obj_id: u8, name: &str, value: Option<serde_json::Value>| BthomeSensor {
            id: 200,
            config: serde_json::from_value(json!({"obj_id": obj_id, "name": name})).unwrap(),
            status: value.map(|value| SensorStatus {
                value,
                ..SensorStatus::default()
            }),
        };
        let celsius = Settings::default();
        let fahrenheit = Settings {
            fahrenheit: true,
            ..Settings::default()
        };
        let reading = |s: BthomeSensor, settings: &Settings| s.reading(settings);
        assert_eq!(
            reading(sensor(0x02, "t", Some(json!(21.5))), &celsius),
            "21.5 °C"
        );
        assert_eq!(
            reading(sensor(0x02, "t", Some(json!(21.5))), &fahrenheit),
            "70.7 °F"
        );
        assert_eq!(
            reading(sensor(0x01, "b", Some(json!(100))), &celsius),
            "100 %"
        );
        assert_eq!(
            reading(sensor(0x2D, "w", Some(json!(true))), &celsius),
            "open"
        );
        assert_eq!(
            reading(sensor(0x2D, "w", Some(json!(false))), &celsius),
            "closed"
        );
        assert_eq!(reading(sensor(0x02, "t", None), &celsius), "");
        assert_eq!(
            reading(sensor(0x02, "t", Some(json!(null))), &celsius),
            "no value yet"
        );
        assert_eq!(
            reading(sensor(0x02, "t", Some(json!("hot"))), &celsius),
            "\"hot\""
        );
        assert_eq!(sensor(0x2E, "Kitchen", None).label(), "Kitchen");
        assert_eq!(sensor(0x2E, " ", None).label(), "humidity");
        assert_eq!(sensor(0x14, "", None).label(), "moisture");
        assert_eq!(sensor(0xEE, "", None).label(), "sensor");
    }

    #[test]
    fn sensors_are_found_in_id_order_with_their_status() {
        let components = |v| serde_json::from_value::<ComponentMap>(v).unwrap();
        let config = components(json!({"bthomesensor:201": {"addr": "b", "obj_id": 1},
            "bthomesensor:200": {"addr": "a", "obj_id": 2}, "bthomedevice:200": {"addr": "a"},
            "sys": {}}));
        let status = components(json!({"bthomesensor:200": {"id": 200, "value": 21.5}}));
        let sensors = sensors_with_status(&config, &status);
        assert_eq!(sensors.iter().map(|s| s.id).collect::<Vec<_>>(), [200, 201]);
        assert_eq!(sensors[0].status.as_ref().unwrap().value, json!(21.5));
        assert_eq!(sensors[1].status, None);
        let devices = config.numbered::<DeviceConfig>("bthomedevice");
        assert_eq!(devices[0].1.addr.as_deref(), Some("a"));
    }

    /// Each device keeps the model its `attrs` name (as a real BLU Gateway Gen3 sends them);
    /// a device without attrs, or with attrs of another shape, has none.
    #[test]
    fn devices_keep_the_model_their_attrs_name() {
        let components: Vec<Component> = serde_json::from_value(json!([
            {"key": "bthomedevice:201", "config": {"id": 201, "addr": "b"},
                "attrs": {"flags": 17, "model_id": 3}},
            {"key": "bthomedevice:200", "config": {"id": 200, "addr": "a"}},
            {"key": "bthomedevice:202", "config": {"id": 202}, "attrs": {"model_id": 4}},
            {"key": "bthomedevice:203", "config": {"id": 203}, "attrs": [3]},
            {"key": "bthomesensor:200", "config": {"addr": "b", "obj_id": 2},
                "attrs": {"model_id": 3}}
        ]))
        .unwrap();
        let dynamic = DynamicComponents::of(&components);
        assert_eq!(
            dynamic.models,
            BTreeMap::from([
                ("bthomedevice:201".to_owned(), 3),
                ("bthomedevice:202".to_owned(), 4)
            ])
        );
        let devices = dynamic.devices();
        let ids_models: Vec<_> = devices.iter().map(|d| (d.id, d.model_id)).collect();
        assert_eq!(
            ids_models,
            [(200, None), (201, Some(3)), (202, Some(4)), (203, None)]
        );
        let labels: Vec<_> = devices.iter().map(BthomeDevice::model_label).collect();
        assert_eq!(
            labels,
            [
                None,
                Some("Shelly BLU H&T (SBHT-003C)".to_owned()),
                Some("BLU model id 0x0004".to_owned()),
                None
            ]
        );
        assert_eq!(devices[1].config.addr.as_deref(), Some("b"));
    }

    #[test]
    fn candidates_take_names_and_units_from_infos() {
        let known: KnownObjects = serde_json::from_value(json!({"id": 200, "objects": [
            {"obj_id": 2, "idx": 0, "component": null},
            {"obj_id": 1, "idx": 0, "component": "bthomesensor:200"}]}))
        .unwrap();
        let infos: bthome::ObjectInfos = serde_json::from_value(json!({"objects": [
            {"obj_id": 2, "obj_name": "temperature", "type": "sensor", "unit": "°C"}]}))
        .unwrap();
        let list = sensor_candidates(&known, &infos.objects);
        assert_eq!(list[0].name, "temperature");
        assert_eq!(list[0].unit, "°C");
        assert_eq!(list[1].name, "object 0x01");
        assert_eq!(list[1].component.as_deref(), Some("bthomesensor:200"));
    }

    /// A button (object 0x3A) is listed, but as the device's events: firmware since 1.6.0
    /// refuses a sensor of it, so `add_sensors` never asks for one.
    #[test]
    fn a_button_is_offered_as_events_only() {
        let known: KnownObjects = serde_json::from_value(json!({"id": 200, "objects": [
            {"obj_id": 0x3a, "idx": 0, "component": null},
            {"obj_id": 1, "idx": 0, "component": null}]}))
        .unwrap();
        let list = sensor_candidates(&known, &[]);
        assert!(list[0].events_only);
        assert!(!list[1].events_only);
    }

    /// The panel reads Add answers through the core's typed result: real firmware's `added`
    /// and the document's `key` both give the id.
    #[test]
    fn add_answers_give_the_component_id() {
        let id = |v| {
            serde_json::from_value::<bthome::Added>(v)
                .ok()
                .and_then(|a| a.id())
        };
        assert_eq!(id(json!({"added": "bthomedevice:203"})), Some(203));
        assert_eq!(id(json!({"key": "bthomedevice:203"})), Some(203));
        assert_eq!(id(json!({})), None);
    }

    #[test]
    fn waiting_for_a_device_says_what_to_do() {
        let mut w = Waiting {
            id: 200,
            addr: "3c:2e:f5:5b:01:01".into(),
            gave_up: false,
            problem: None,
        };
        assert!(w.message().contains("Press the device's button"));
        assert!(w.message().contains("wait up to a minute"));
        w.gave_up = true;
        assert!(w.message().contains("then read again"));
        // A packet the gateway cannot read is explained instead: pressing the button cannot help.
        w.problem = Some(explain_device_error("decrypt_failed"));
        assert!(w.message().contains("its key is not the device's"));
        assert!(explain_device_error("unencrypted_data").contains("without a key"));
        assert!(explain_device_error("new_code").contains("\"new_code\""));
    }

    #[test]
    fn an_empty_discovery_says_why_and_offers_the_fallbacks() {
        let silent = discovery_outcome(0, false).unwrap();
        assert!(silent.contains("sent no discovery results"));
        assert!(silent.contains("Type the device's address"));
        assert!(
            discovery_outcome(0, true)
                .unwrap()
                .contains("found no BTHome device")
        );
        assert_eq!(discovery_outcome(2, true), None);
    }

    #[test]
    fn discovered_devices_come_from_device_discovered_events_only() {
        let events: Vec<Event> = [
            json!({"component": "bthome", "event": "device_discovered",
                "device": {"addr": "3c:2e:f5:71:d5:2a", "rssi": -59}}),
            json!({"component": "bthome", "event": "discovery_done", "device_count": 1}),
            json!({"component": "ble", "event": "paired_device_added", "info": {"addr": "x"}}),
        ]
        .iter()
        .map(Event::parse)
        .collect();
        let found = discovered(&events);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].addr, "3c:2e:f5:71:d5:2a");
    }

    #[test]
    fn gateway_status_errors_say_what_to_turn_on() {
        assert!(explain_status_error("bluetooth_disabled").contains("Bluetooth is turned off"));
        assert!(explain_status_error("observer_disabled").contains("observer is off"));
        assert_eq!(explain_status_error("odd"), "The gateway reports \"odd\".");
    }
}
