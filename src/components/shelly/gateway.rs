//! The BTHome gateway: status errors explained, discovery with live results (and what to do when
//! none arrive), adding a device and its sensors (from BTHomeDevice.GetKnownObjects, named by
//! BTHome.GetObjectInfos; a new device is waited for until the gateway has heard it), deleting,
//! and the devices the gateway relays (BLE.CloudRelay).

use bluehome_core::shelly::methods::bthome::{self, KnownObjects, ObjectInfo};
use bluehome_core::shelly::methods::events::Event;
use bluehome_core::shelly::methods::{Pager, shelly};
use bluehome_core::text::printable;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use super::TextField;
use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::{Failure, FailureKind};
use crate::state::shelly::link::{now_ms, sleep_ms};
use crate::state::shelly::remote::describe_readings;

/// How often a gateway feeding the Scan page is polled: often enough for live readings (BLU
/// sensors send every 10–60 s), rare enough to leave the one RPC channel free.
pub const FEED_EVERY_MS: u64 = 5_000;

/// A configured BTHome device or sensor component.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Its id (200..299).
    pub id: u16,
    /// The component key (`bthomedevice:200`).
    pub key: String,
    /// Its configuration.
    pub config: Value,
    /// Its status, if any.
    pub status: Value,
}

/// The BTHome device and sensor components found in `Shelly.GetConfig` and `Shelly.GetStatus`.
pub fn components(config: &Value, status: &Value, prefix: &str) -> Vec<Component> {
    let mut out: Vec<Component> = config
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(key, cfg)| {
                    let id = key.strip_prefix(prefix)?.strip_prefix(':')?.parse().ok()?;
                    Some(Component {
                        id,
                        key: key.clone(),
                        config: cfg.clone(),
                        status: status.get(key).cloned().unwrap_or(Value::Null),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by_key(|c| c.id);
    out
}

/// Explains BTHome.GetStatus errors.
pub fn explain_status_error(code: &str) -> String {
    match code {
        "bluetooth_disabled" => "Bluetooth is turned off on the gateway: turn it on (BLE settings) so it can hear sensors.".into(),
        "observer_disabled" => "The gateway's Bluetooth observer is off: turn on \"Bluetooth gateway\" in its settings.".into(),
        other => format!("The gateway reports \"{other}\"."),
    }
}

/// A known object of a BTHome device, with its name and unit.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownObject {
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
}

/// Joins `BTHomeDevice.GetKnownObjects` with `BTHome.GetObjectInfos`.
pub fn known_objects(known: &KnownObjects, infos: &[ObjectInfo]) -> Vec<KnownObject> {
    known
        .objects
        .iter()
        .map(|o| {
            let info = infos.iter().find(|i| i.obj_id == o.obj_id);
            let text = |t: Option<&Option<String>>| t.cloned().flatten().unwrap_or_default();
            KnownObject {
                obj_id: o.obj_id,
                idx: o.idx,
                component: o.component.clone(),
                name: match text(info.map(|i| &i.obj_name)) {
                    n if n.is_empty() => format!("object 0x{:02x}", o.obj_id),
                    n => n,
                },
                unit: text(info.map(|i| &i.unit)),
            }
        })
        .collect()
}

/// How long the panel re-reads a newly added device's objects by itself. Battery sensors send
/// about once a minute (shelly_rpc_ble.md §8), so a little more than a minute.
pub const WAIT_FOR_OBJECTS_MS: u64 = 75_000;

/// How often it re-reads them meanwhile (a `new_objects` event makes it read at once).
const REREAD_EVERY_MS: u64 = 5_000;

/// A newly added device whose objects the gateway does not know yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// Its BTHome device component id.
    pub id: u16,
    /// Its address.
    pub addr: String,
    /// The automatic re-reads are over.
    pub gave_up: bool,
}

impl Waiting {
    /// What the panel says meanwhile.
    pub fn message(&self) -> String {
        if self.gave_up {
            format!(
                "Nothing heard from {} yet. Check that it is in range and has a battery, press its button, then read again.",
                self.addr
            )
        } else {
            format!(
                "Waiting for {} to send: the gateway learns a device's sensors from its next packet. Press the device's button (most Shelly BLU devices then send at once), or wait up to a minute: battery sensors send about once a minute.",
                self.addr
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

/// The events received so far, typed.
fn typed_events(session: ShellySession) -> Vec<Event> {
    session
        .events
        .try_with_untracked(|events| events.iter().map(Event::parse).collect())
        .unwrap_or_default()
}

/// The gateway panel.
#[component]
pub fn GatewayPanel(
    /// The session.
    session: ShellySession,
) -> impl IntoView {
    let errors = RwSignal::new(Vec::<String>::new());
    let devices = RwSignal::new(Vec::<Component>::new());
    let sensors = RwSignal::new(Vec::<Component>::new());
    let discovering = RwSignal::new(false);
    let discovery_note = RwSignal::new(None::<&'static str>);
    let discover_secs = RwSignal::new("10".to_owned());
    let add_addr = RwSignal::new(String::new());
    let add_name = RwSignal::new(String::new());
    let add_key = RwSignal::new(String::new());
    let added_device = RwSignal::new(None::<(u16, String)>);
    let objects = RwSignal::new(Vec::<KnownObject>::new());
    let chosen = RwSignal::new(Vec::<(u8, u8)>::new());
    let waiting = RwSignal::new(None::<Waiting>);

    let refresh = move |s: ShellySession| async move {
        s.step("Reading the gateway status (BTHome.GetStatus)");
        let st = s.call_method::<bthome::GetStatus>(&()).await?;
        errors.set(
            st.errors
                .unwrap_or_default()
                .iter()
                .map(|e| explain_status_error(e))
                .collect(),
        );
        s.step("Reading BTHome devices and sensors (Shelly.GetConfig, Shelly.GetStatus)");
        let config = s.call_method::<shelly::GetConfig>(&()).await?;
        let status = s.call_method::<shelly::GetStatus>(&()).await?;
        devices.set(components(&config, &status, "bthomedevice"));
        sensors.set(components(&config, &status, "bthomesensor"));
        s.step_done();
        Ok(())
    };
    // Reads what the gateway knows of device `id`; true once it knows something.
    let read_known = move |s: ShellySession, id: u16| async move {
        let known = s
            .call_method::<bthome::DeviceGetKnownObjects>(&bthome::IdParams { id })
            .await?;
        if known.objects.is_empty() {
            return Ok::<bool, Failure>(false);
        }
        let mut ids: Vec<u8> = known.objects.iter().map(|o| o.obj_id).collect();
        ids.dedup();
        let mut pager = Pager::<bthome::GetObjectInfos>::new(
            bthome::GetObjectInfosParams {
                obj_ids: ids,
                offset: None,
            },
            20,
        );
        while let Some(params) = pager.next_params() {
            let page = s.call_method::<bthome::GetObjectInfos>(&params).await?;
            pager.add(page).map_err(|e| {
                Failure::new(
                    FailureKind::Protocol,
                    "BTHome.GetObjectInfos",
                    e.to_string(),
                )
            })?;
        }
        let infos = pager.into_items();
        objects.try_set(known_objects(&known, &infos));
        chosen.try_set(Vec::new());
        waiting.try_set(None);
        Ok(true)
    };
    // Re-reads a new device's objects until the gateway knows them, at once on `new_objects`.
    let wait_for_objects = move |s: ShellySession, id: u16| {
        let start = now_ms();
        spawn_local(async move {
            let mut last_read = start;
            loop {
                sleep_ms(1_000).await;
                let still = waiting
                    .try_with_untracked(|w| w.as_ref().is_some_and(|w| w.id == id && !w.gave_up));
                if still != Some(true) || s.link().is_none() {
                    return;
                }
                let seen = s.events.try_with_untracked(Vec::len).unwrap_or(0);
                let _ = s.listen().await;
                let told = typed_events(s)
                    .iter()
                    .skip(seen)
                    .any(|e| *e == Event::NewObjects { id });
                let now = now_ms();
                if told || now.saturating_sub(last_read) >= REREAD_EVERY_MS {
                    last_read = now;
                    match read_known(s, id).await {
                        Ok(true) => return,
                        Ok(false) => {}
                        Err(failure) => {
                            s.failure.try_set(Some(failure));
                            return;
                        }
                    }
                }
                if now.saturating_sub(start) >= WAIT_FOR_OBJECTS_MS {
                    waiting.try_update(|w| {
                        if let Some(w) = w {
                            w.gave_up = true;
                        }
                    });
                    return;
                }
            }
        });
    };
    let load = move |_| session.run("Gateway", refresh);
    let discover = move |_| {
        let secs: u32 = discover_secs
            .get_untracked()
            .trim()
            .parse()
            .unwrap_or(10)
            .clamp(1, 120);
        session.run("Discovery", move |s| async move {
            s.step(format!(
                "Discovering BTHome devices for {secs} s (BTHome.StartDeviceDiscovery)"
            ));
            s.events.set(Vec::new());
            discovery_note.set(None);
            s.call_method::<bthome::StartDeviceDiscovery>(&bthome::StartDiscoveryParams {
                duration: Some(secs),
            })
            .await?;
            discovering.set(true);
            s.step("Listening for what the gateway finds (its NotifyEvent frames)");
            let done = |s: ShellySession| {
                typed_events(s)
                    .iter()
                    .any(|e| matches!(e, Event::DiscoveryDone { .. }))
            };
            for _ in 0..secs * 2 + 6 {
                let _ = s.listen().await;
                if done(s) {
                    break;
                }
                sleep_ms(500).await;
            }
            discovering.set(false);
            let found = typed_events(s)
                .iter()
                .filter(|e| matches!(e, Event::DeviceDiscovered { .. }))
                .count();
            discovery_note.set(discovery_outcome(found, done(s)));
            s.step_done();
            Ok(())
        });
    };
    let discovered = move || {
        session.events.with(|events| {
            events
                .iter()
                .filter_map(|e| match Event::parse(e) {
                    Event::DeviceDiscovered { device, .. } => Some(device),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
    };
    let add_device = move |_| {
        let (addr, name, key) = (
            add_addr.get_untracked().trim().to_owned(),
            add_name.get_untracked(),
            add_key.get_untracked(),
        );
        if let Some(link) = session.link() {
            link.add_secret(&key);
        }
        session.run("Add BTHome device", move |s| {
            let (addr, name, key) = (addr.clone(), name.clone(), key.clone());
            async move {
                s.step(format!("Adding {addr} (BTHome.AddDevice)"));
                let params = bthome::AddDeviceParams {
                    config: bthome::DeviceConfig {
                        addr: Some(addr.clone()),
                        name: (!name.is_empty()).then_some(name),
                        key: (!key.is_empty()).then_some(key),
                        ..bthome::DeviceConfig::default()
                    },
                    id: None,
                };
                let added = s.call_method::<bthome::AddDevice>(&params).await?;
                let id = added.id().ok_or_else(|| {
                    Failure::new(
                        FailureKind::Protocol,
                        "BTHome.AddDevice",
                        format!("the answer names no component id: {:?}", added.key),
                    )
                })?;
                added_device.set(Some((id, addr.clone())));
                objects.set(Vec::new());
                s.step(format!(
                    "Reading what the device sends (BTHomeDevice.GetKnownObjects id {id})"
                ));
                if !read_known(s, id).await? {
                    waiting.set(Some(Waiting {
                        id,
                        addr,
                        gave_up: false,
                    }));
                    wait_for_objects(s, id);
                }
                refresh(s).await
            }
        });
    };
    let read_again = move |_| {
        let Some(w) = waiting.get_untracked() else {
            return;
        };
        session.run("Read the device's sensors", move |s| {
            let w = w.clone();
            async move {
                s.step(format!(
                    "Reading what {} sends (BTHomeDevice.GetKnownObjects id {})",
                    w.addr, w.id
                ));
                if !read_known(s, w.id).await? && w.gave_up {
                    // Another minute of automatic re-reads: the user may just have pressed the button.
                    waiting.set(Some(Waiting {
                        gave_up: false,
                        ..w.clone()
                    }));
                    wait_for_objects(s, w.id);
                }
                s.step_done();
                Ok(())
            }
        });
    };
    let add_sensors = move |_| {
        let Some((_, addr)) = added_device.get_untracked() else {
            return;
        };
        let picks: Vec<KnownObject> = objects.with_untracked(|o| {
            o.iter()
                .filter(|k| chosen.with_untracked(|c| c.contains(&(k.obj_id, k.idx))))
                .cloned()
                .collect()
        });
        session.run("Add sensors", move |s| {
            let (addr, picks) = (addr.clone(), picks.clone());
            async move {
                for k in &picks {
                    s.step(format!("Adding sensor {} (BTHome.AddSensor)", k.name));
                    let params = bthome::AddSensorParams {
                        config: bthome::SensorConfig {
                            addr: Some(addr.clone()),
                            obj_id: Some(k.obj_id),
                            obj_idx: Some(k.idx),
                            name: Some(k.name.clone()),
                            ..bthome::SensorConfig::default()
                        },
                        id: None,
                    };
                    s.call_method::<bthome::AddSensor>(&params).await?;
                }
                objects.set(Vec::new());
                chosen.set(Vec::new());
                refresh(s).await
            }
        });
    };
    let delete = move |sensor: bool, id: u16| {
        session.run("Delete", move |s| async move {
            let params = bthome::IdParams { id };
            if sensor {
                s.step(format!("Deleting sensor {id} (BTHome.DeleteSensor)"));
                s.call_method::<bthome::DeleteSensor>(&params).await?;
            } else {
                s.step(format!("Deleting device {id} (BTHome.DeleteDevice)"));
                s.call_method::<bthome::DeleteDevice>(&params).await?;
            }
            refresh(s).await
        });
    };
    let load_relay = move |_| {
        session.run("Relayed devices", move |s| async move {
            s.step("Reading what the gateway hears (BLE.CloudRelay.ListInfos, BTHome sensors)");
            let adverts = s.poll_remote().await?;
            s.remote_adverts.set(adverts);
            s.step_done();
            Ok(())
        });
    };
    let toggle_feed = move |_| {
        if session.remote_running.get_untracked() {
            session.stop_remote_scanner();
        } else {
            session.start_remote_scanner(FEED_EVERY_MS);
        }
    };

    view! {
        <section class="shelly-gateway" aria-label="BTHome gateway">
            <h2>"BTHome gateway"</h2>
            <div class="row">
                <button on:click=load>"Read devices and sensors"</button>
                <TextField label="Discovery seconds" value=discover_secs />
                <button class="primary" on:click=discover disabled=move || discovering.get()>"Discover devices"</button>
            </div>
            {move || errors.get().into_iter().map(|e| view! { <p class="notice warning" role="alert">{e}</p> }).collect_view()}
            <h3>"Discovered"</h3>
            <ul class="discovered">
                {move || discovered().into_iter().map(|dev| {
                    let name = dev.local_name.clone().unwrap_or_default();
                    let label = printable(&format!("{} {name} ({} dBm)", dev.addr, dev.rssi)).into_owned();
                    let (a, n) = (dev.addr.clone(), name);
                    view! {
                        <li><button class="discovered-device" on:click=move |_| { add_addr.set(a.clone()); add_name.set(n.clone()); }>{label}</button></li>
                    }
                }).collect_view()}
            </ul>
            {move || discovery_note.get().map(|note| view! {
                <div class="notice warning discovery-note" role="status">
                    <p>{note}</p>
                    <button on:click=load_relay>"Read relayed devices"</button>
                </div>
            })}
            <h3>"Add a device"</h3>
            <TextField label="Address" value=add_addr placeholder="aa:bb:cc:dd:ee:ff" />
            <TextField label="Name" value=add_name />
            <TextField label="Bind key (encrypted devices, 32 hex digits)" value=add_key kind="password" />
            <button class="primary" on:click=add_device>"Add device"</button>
            {move || waiting.get().map(|w| view! {
                <div class="notice waiting-for-device" role="status">
                    <p>{w.message()}</p>
                    <button on:click=read_again>"Read again"</button>
                </div>
            })}
            <Show when=move || !objects.with(Vec::is_empty)>
                <fieldset class="objects">
                    <legend>"Sensors to add"</legend>
                    {move || objects.get().into_iter().map(|k| {
                        let pair = (k.obj_id, k.idx);
                        let label = format!("{}{} (object 0x{:02x}, #{}){}", k.name,
                            if k.unit.is_empty() { String::new() } else { format!(" [{}]", k.unit) },
                            k.obj_id, k.idx,
                            k.component.as_deref().map(|c| format!(" — already {c}")).unwrap_or_default());
                        view! {
                            <label class="check">
                                <input type="checkbox" data-obj=k.obj_id
                                    prop:checked=move || chosen.with(|c| c.contains(&pair))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| { c.retain(|p| *p != pair); if on { c.push(pair); } });
                                    } />
                                " " {label}
                            </label>
                        }
                    }).collect_view()}
                    <button class="primary" on:click=add_sensors>"Add selected sensors"</button>
                </fieldset>
            </Show>
            <h3>"Devices"</h3>
            <ul class="bthome-devices">
                {move || devices.get().into_iter().map(|d| {
                    let name = d.config.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
                    let addr = d.config.get("addr").and_then(Value::as_str).unwrap_or_default().to_owned();
                    let id = d.id;
                    view! { <li>{printable(&format!("{} {addr} {name}", d.key)).into_owned()}
                        <button class="small" on:click=move |_| delete(false, id)>"Delete"</button></li> }
                }).collect_view()}
            </ul>
            <h3>"Sensors"</h3>
            <ul class="bthome-sensors">
                {move || sensors.get().into_iter().map(|c| {
                    let name = c.config.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
                    let value = c.status.get("value").map(Value::to_string).unwrap_or_default();
                    let id = c.id;
                    view! { <li>{printable(&format!("{} {name}: {value}", c.key)).into_owned()}
                        <button class="small" on:click=move |_| delete(true, id)>"Delete"</button></li> }
                }).collect_view()}
            </ul>
            <h3>"What the gateway hears"</h3>
            <div class="row">
                <button on:click=load_relay>"Read relayed devices"</button>
                <button on:click=toggle_feed aria-pressed=move || session.remote_running.get().to_string()>
                    {move || if session.remote_running.get() { "Stop feeding the Scan page" } else { "Feed the Scan page" }}
                </button>
            </div>
            <p class="hint">"While fed, the Scan page shows what this gateway hears (relayed devices and its BTHome sensors, every 5 s) as a remote, non-connectable source: no browser scanning flag needed. Pick one to add it."</p>
            <ul class="relayed">
                {move || session.remote_adverts.get().into_iter().map(|a| {
                    let name = a.advertisement.name.clone().unwrap_or_default();
                    let (addr, n) = (a.key.clone(), name.clone());
                    view! { <li><button class="relayed-device" on:click=move |_| { add_addr.set(addr.clone()); add_name.set(n.clone()); }>
                        <code>{printable(&a.key).into_owned()}</code>" "{printable(&name).into_owned()}</button>": "{describe_readings(&a.advertisement)}</li> }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn components_are_found_by_key_prefix_in_id_order() {
        let config = json!({"bthomedevice:201": {"addr": "b"}, "bthomedevice:200": {"addr": "a"},
            "bthomesensor:200": {"obj_id": 2}, "sys": {}});
        let status = json!({"bthomesensor:200": {"value": 21.5}});
        let devices = components(&config, &status, "bthomedevice");
        assert_eq!(devices.iter().map(|d| d.id).collect::<Vec<_>>(), [200, 201]);
        let sensors = components(&config, &status, "bthomesensor");
        assert_eq!(sensors[0].status["value"], 21.5);
    }

    #[test]
    fn known_objects_take_names_and_units_from_infos() {
        let known: KnownObjects = serde_json::from_value(json!({"id": 200, "objects": [
            {"obj_id": 2, "idx": 0, "component": null},
            {"obj_id": 1, "idx": 0, "component": "bthomesensor:200"}]}))
        .unwrap();
        let infos: bthome::ObjectInfos = serde_json::from_value(json!({"objects": [
            {"obj_id": 2, "obj_name": "temperature", "type": "sensor", "unit": "°C"}]}))
        .unwrap();
        let list = known_objects(&known, &infos.objects);
        assert_eq!(list[0].name, "temperature");
        assert_eq!(list[0].unit, "°C");
        assert_eq!(list[1].name, "object 0x01");
        assert_eq!(list[1].component.as_deref(), Some("bthomesensor:200"));
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
        };
        assert!(w.message().contains("Press the device's button"));
        assert!(w.message().contains("wait up to a minute"));
        w.gave_up = true;
        assert!(w.message().contains("then read again"));
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
    fn gateway_status_errors_say_what_to_turn_on() {
        assert!(explain_status_error("bluetooth_disabled").contains("Bluetooth is turned off"));
        assert!(explain_status_error("observer_disabled").contains("observer is off"));
        assert_eq!(explain_status_error("odd"), "The gateway reports \"odd\".");
    }
}
