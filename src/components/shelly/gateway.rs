//! The BTHome gateway: status errors explained, discovery with live results, adding a device
//! and its sensors (from BTHomeDevice.GetKnownObjects, named by BTHome.GetObjectInfos),
//! deleting, and the devices the gateway relays (BLE.CloudRelay).

use bluehome_core::text::printable;
use leptos::prelude::*;
use serde_json::{Value, json};

use super::TextField;
use crate::state::shelly::ShellySession;
use crate::state::shelly::link::sleep_ms;
use crate::state::shelly::remote::describe_readings;

/// How often a gateway feeding the Scan page is polled: often enough for live readings (BLU
/// sensors send every 10–60 s), rare enough to leave the one RPC channel free.
pub const FEED_EVERY_MS: u64 = 5_000;

/// A configured BTHome device or sensor component.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Its id (200..299).
    pub id: u64,
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
    pub obj_id: u64,
    /// Which occurrence of that id.
    pub idx: u64,
    /// The sensor component already made from it.
    pub component: Option<String>,
    /// The object's name.
    pub name: String,
    /// Its unit.
    pub unit: String,
}

/// Joins GetKnownObjects with GetObjectInfos.
pub fn known_objects(known: &Value, infos: &Value) -> Vec<KnownObject> {
    let info_of = |id: u64| {
        infos
            .get("objects")
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .find(|o| o.get("obj_id").and_then(Value::as_u64) == Some(id))
            })
    };
    known
        .get("objects")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|o| {
                    let obj_id = o.get("obj_id").and_then(Value::as_u64)?;
                    let info = info_of(obj_id);
                    let text = |k: &str| {
                        info.and_then(|i| i.get(k))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    Some(KnownObject {
                        obj_id,
                        idx: o.get("idx").and_then(Value::as_u64).unwrap_or(0),
                        component: o
                            .get("component")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        name: match text("obj_name") {
                            n if n.is_empty() => format!("object 0x{obj_id:02x}"),
                            n => n,
                        },
                        unit: text("unit"),
                    })
                })
                .collect()
        })
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
    let discover_secs = RwSignal::new("10".to_owned());
    let add_addr = RwSignal::new(String::new());
    let add_name = RwSignal::new(String::new());
    let add_key = RwSignal::new(String::new());
    let added_device = RwSignal::new(None::<(u64, String)>);
    let objects = RwSignal::new(Vec::<KnownObject>::new());
    let chosen = RwSignal::new(Vec::<(u64, u64)>::new());

    let refresh = move |s: ShellySession| async move {
        s.step("Reading the gateway status (BTHome.GetStatus)");
        let st = s.call("BTHome.GetStatus", None).await?;
        errors.set(
            st.get("errors")
                .and_then(Value::as_array)
                .map(|e| {
                    e.iter()
                        .filter_map(Value::as_str)
                        .map(explain_status_error)
                        .collect()
                })
                .unwrap_or_default(),
        );
        s.step("Reading BTHome devices and sensors (Shelly.GetConfig, Shelly.GetStatus)");
        let config = s.call("Shelly.GetConfig", None).await?;
        let status = s.call("Shelly.GetStatus", None).await?;
        devices.set(components(&config, &status, "bthomedevice"));
        sensors.set(components(&config, &status, "bthomesensor"));
        s.step_done();
        Ok(())
    };
    let load = move |_| session.run("Gateway", refresh);
    let discover = move |_| {
        let secs: u64 = discover_secs
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
            s.call(
                "BTHome.StartDeviceDiscovery",
                Some(json!({"duration": secs})),
            )
            .await?;
            discovering.set(true);
            for _ in 0..secs * 2 + 6 {
                let _ = s.listen().await;
                if s.events
                    .with_untracked(|e| e.iter().any(|e| event_name(e) == Some("discovery_done")))
                {
                    break;
                }
                sleep_ms(500).await;
            }
            discovering.set(false);
            s.step_done();
            Ok(())
        });
    };
    let discovered = move || {
        session.events.with(|events| {
            events
                .iter()
                .filter(|e| event_name(e) == Some("device_discovered"))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let add_device = move |_| {
        let (addr, name, key) = (
            add_addr.get_untracked(),
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
                let mut config = json!({"addr": addr});
                if !name.is_empty() {
                    config["name"] = json!(name);
                }
                if !key.is_empty() {
                    config["key"] = json!(key);
                }
                let r = s
                    .call("BTHome.AddDevice", Some(json!({"config": config})))
                    .await?;
                let id = component_id(&r).unwrap_or(0);
                added_device.set(Some((id, addr.clone())));
                s.step(format!(
                    "Reading what the device sends (BTHomeDevice.GetKnownObjects id {id})"
                ));
                let known = s
                    .call("BTHomeDevice.GetKnownObjects", Some(json!({"id": id})))
                    .await?;
                let ids: Vec<u64> = known
                    .get("objects")
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(|o| o.get("obj_id").and_then(Value::as_u64))
                            .collect()
                    })
                    .unwrap_or_default();
                let infos = if ids.is_empty() {
                    Value::Null
                } else {
                    s.step("Naming them (BTHome.GetObjectInfos)");
                    s.call("BTHome.GetObjectInfos", Some(json!({"obj_ids": ids})))
                        .await?
                };
                objects.set(known_objects(&known, &infos));
                chosen.set(Vec::new());
                refresh(s).await
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
                    let config =
                        json!({"addr": addr, "obj_id": k.obj_id, "obj_idx": k.idx, "name": k.name});
                    s.call("BTHome.AddSensor", Some(json!({"config": config})))
                        .await?;
                }
                objects.set(Vec::new());
                chosen.set(Vec::new());
                refresh(s).await
            }
        });
    };
    let delete = move |method: &'static str, id: u64| {
        session.run("Delete", move |s| async move {
            s.step(format!("Deleting {id} ({method})"));
            s.call(method, Some(json!({"id": id}))).await?;
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
                {move || discovered().into_iter().map(|e| {
                    let dev = e.get("device").cloned().unwrap_or(Value::Null);
                    let addr = dev.get("addr").and_then(Value::as_str).unwrap_or_default().to_owned();
                    let name = dev.get("local_name").and_then(Value::as_str).unwrap_or_default().to_owned();
                    let rssi = dev.get("rssi").and_then(Value::as_i64);
                    let label = printable(&format!("{addr} {name}{}", rssi.map(|r| format!(" ({r} dBm)")).unwrap_or_default())).into_owned();
                    let (a, n) = (addr.clone(), name.clone());
                    view! {
                        <li><button class="discovered-device" on:click=move |_| { add_addr.set(a.clone()); add_name.set(n.clone()); }>{label}</button></li>
                    }
                }).collect_view()}
            </ul>
            <h3>"Add a device"</h3>
            <TextField label="Address" value=add_addr placeholder="aa:bb:cc:dd:ee:ff" />
            <TextField label="Name" value=add_name />
            <TextField label="Bind key (encrypted devices, 32 hex digits)" value=add_key kind="password" />
            <button class="primary" on:click=add_device>"Add device"</button>
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
                        <button class="small" on:click=move |_| delete("BTHome.DeleteDevice", id)>"Delete"</button></li> }
                }).collect_view()}
            </ul>
            <h3>"Sensors"</h3>
            <ul class="bthome-sensors">
                {move || sensors.get().into_iter().map(|c| {
                    let name = c.config.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
                    let value = c.status.get("value").map(Value::to_string).unwrap_or_default();
                    let id = c.id;
                    view! { <li>{printable(&format!("{} {name}: {value}", c.key)).into_owned()}
                        <button class="small" on:click=move |_| delete("BTHome.DeleteSensor", id)>"Delete"</button></li> }
                }).collect_view()}
            </ul>
            <h3>"What the gateway hears"</h3>
            <div class="row">
                <button on:click=load_relay>"Read relayed devices"</button>
                <button on:click=toggle_feed aria-pressed=move || session.remote_running.get().to_string()>
                    {move || if session.remote_running.get() { "Stop feeding the Scan page" } else { "Feed the Scan page" }}
                </button>
            </div>
            <p class="hint">"While fed, the Scan page shows what this gateway hears (relayed devices and its BTHome sensors, every 5 s) as a remote, non-connectable source: no browser scanning flag needed."</p>
            <ul class="relayed">
                {move || session.remote_adverts.get().into_iter().map(|a| {
                    let name = printable(a.advertisement.name.as_deref().unwrap_or_default()).into_owned();
                    view! { <li><code>{printable(&a.key).into_owned()}</code>" "{name}": "{describe_readings(&a.advertisement)}</li> }
                }).collect_view()}
            </ul>
        </section>
    }
}

fn event_name(event: &Value) -> Option<&str> {
    event.get("event").and_then(Value::as_str)
}

/// The id in an Add* answer (`{"key": "bthomedevice:200"}`).
pub fn component_id(result: &Value) -> Option<u64> {
    result
        .get("key")?
        .as_str()?
        .rsplit(':')
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let known = json!({"id": 200, "objects": [{"obj_id": 2, "idx": 0, "component": null},
            {"obj_id": 1, "idx": 0, "component": "bthomesensor:200"}]});
        let infos = json!({"objects": [{"obj_id": 2, "obj_name": "temperature", "type": "sensor", "unit": "°C"}]});
        let list = known_objects(&known, &infos);
        assert_eq!(list[0].name, "temperature");
        assert_eq!(list[0].unit, "°C");
        assert_eq!(list[1].name, "object 0x01");
        assert_eq!(list[1].component.as_deref(), Some("bthomesensor:200"));
    }

    #[test]
    fn gateway_status_errors_say_what_to_turn_on() {
        assert!(explain_status_error("bluetooth_disabled").contains("Bluetooth is turned off"));
        assert!(explain_status_error("observer_disabled").contains("observer is off"));
        assert_eq!(explain_status_error("odd"), "The gateway reports \"odd\".");
    }

    #[test]
    fn add_answers_give_the_component_id() {
        assert_eq!(component_id(&json!({"key": "bthomedevice:203"})), Some(203));
        assert_eq!(component_id(&json!({})), None);
    }
}
