//! Bluetooth on the device: RPC over Bluetooth, pairing with a countdown, the paired-devices
//! list, and the AdvertiseOnce composer with its 28-byte budget.

use std::time::Duration;

use bluehome_core::ad::AdStructure;
use bluehome_core::bthome::{self, Kind, OBJECTS, Object, ObjectInfo, Value as Reading};
use bluehome_core::shelly::methods::ble::{AdvertiseOnceParams, MAX_ADV_DATA, check_ad_data};
use bluehome_core::text::printable;
use bluehome_core::uuid::Uuid;
use leptos::prelude::*;
use serde_json::{Value, json};

use super::TextField;
use crate::state::hex;
use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::{Failure, FailureKind};
use crate::state::shelly::link::{now_ms, sleep_ms};

/// Wraps a BTHome v2 payload in its service-data AD structure (UUID 0xFCD2).
pub fn bthome_ad(payload: &[u8]) -> Result<Vec<u8>, String> {
    let mut ad = Vec::new();
    AdStructure::ServiceData {
        uuid: Uuid::BTHOME_V2,
        width: 2,
        data: payload,
    }
    .encode_to_vec(&mut ad)
    .map_err(|e| e.to_string())?;
    Ok(ad)
}

/// The Bluetooth panel.
#[component]
pub fn BlePanel(
    /// The session.
    session: ShellySession,
) -> impl IntoView {
    let rpc_enabled = RwSignal::new(None::<bool>);
    let paired = RwSignal::new(Vec::<Value>::new());
    let pairing_until = RwSignal::new(None::<u64>);
    let pairing_seconds = RwSignal::new("180".to_owned());
    let now = RwSignal::new(now_ms());
    if let Ok(handle) = set_interval_with_handle(move || now.set(now_ms()), Duration::from_secs(1))
    {
        on_cleanup(move || handle.clear());
    }
    let remaining = move || {
        pairing_until
            .get()
            .map(|until| until.saturating_sub(now.get()) / 1000)
            .filter(|&s| s > 0)
    };

    let load = move |_| {
        session.run("Bluetooth settings", move |s| async move {
            s.step("Reading the Bluetooth settings (BLE.GetConfig)");
            let cfg = s.call("BLE.GetConfig", None).await?;
            rpc_enabled.set(cfg.pointer("/rpc/enable").and_then(Value::as_bool));
            s.step("Listing paired devices (BLE.ListPairedDevices)");
            let list = s.call("BLE.ListPairedDevices", None).await?;
            paired.set(paired_list(&list));
            s.step_done();
            Ok(())
        });
    };
    let set_rpc = move |enable: bool| {
        session.run("RPC over Bluetooth", move |s| async move {
            s.step(format!(
                "{} RPC over Bluetooth (BLE.SetConfig)",
                if enable { "Turning on" } else { "Turning off" }
            ));
            s.call(
                "BLE.SetConfig",
                Some(json!({"config": {"rpc": {"enable": enable}}})),
            )
            .await?;
            rpc_enabled.set(Some(enable));
            s.step_done();
            Ok(())
        });
    };
    let start_pairing = move |_| {
        let secs: u64 = pairing_seconds
            .get_untracked()
            .trim()
            .parse()
            .unwrap_or(180)
            .clamp(10, 600);
        session.run("Start pairing", move |s| async move {
            s.step(format!(
                "Opening the pairing window for {secs} s (BLE.StartPairing)"
            ));
            let r = s
                .call("BLE.StartPairing", Some(json!({"timeout": secs})))
                .await?;
            let granted = r.get("timeout").and_then(Value::as_u64).unwrap_or(secs);
            let until = now_ms() + granted * 1000;
            pairing_until.set(Some(until));
            s.step_done();
            leptos::task::spawn_local(watch_pairing(s, pairing_until, paired, until));
            Ok(())
        });
    };
    let stop_pairing = move |_| {
        session.run("Stop pairing", move |s| async move {
            s.step("Closing the pairing window (BLE.StopPairing)");
            s.call("BLE.StopPairing", None).await?;
            pairing_until.set(None);
            s.step_done();
            Ok(())
        });
    };
    let delete = move |addr: String| {
        session.run("Delete paired device", move |s| {
            let addr = addr.clone();
            async move {
                s.step(format!(
                    "Deleting the bond with {addr} (BLE.DeletePairedDevice)"
                ));
                s.call("BLE.DeletePairedDevice", Some(json!({"addr": addr})))
                    .await?;
                let list = s.call("BLE.ListPairedDevices", None).await?;
                paired.set(paired_list(&list));
                s.step_done();
                Ok(())
            }
        });
    };

    view! {
        <section class="shelly-ble" aria-label="Bluetooth">
            <h2>"Bluetooth"</h2>
            <button on:click=load>"Read Bluetooth settings and paired devices"</button>
            {move || rpc_enabled.get().map(|on| view! {
                <p>
                    {if on { "RPC over Bluetooth is on. " } else { "RPC over Bluetooth is off. " }}
                    <button on:click=move |_| set_rpc(!on)>{if on { "Turn off" } else { "Turn on" }}</button>
                </p>
            })}
            <h3>"Pairing"</h3>
            <p class="hint">"Outside its set-up window a Shelly accepts Bluetooth RPC only from paired devices (at most 20). Open the pairing window, then connect from the new phone or computer before it closes."</p>
            <div class="row">
                <TextField label="Seconds" value=pairing_seconds />
                <button class="primary" on:click=start_pairing>"Start pairing"</button>
                <button on:click=stop_pairing>"Stop pairing"</button>
                {move || remaining().map(|s| view! {
                    <span class="countdown" role="timer" aria-live="off">{format!("Pairing open: {}:{:02} left", s / 60, s % 60)}</span>
                })}
            </div>
            <h3>{move || format!("Paired devices ({} of 20)", paired.with(Vec::len))}</h3>
            <ul class="paired">
                {move || paired.get().into_iter().map(|d| {
                    let addr = d.get("addr").and_then(Value::as_str).unwrap_or_default().to_owned();
                    let label = printable(&addr).into_owned();
                    view! {
                        <li>
                            <code>{label}</code>
                            <button class="small" on:click=move |_| delete(addr.clone())>"Delete"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <AdvertiseComposer session=session />
        </section>
    }
}

/// While the pairing window is open, reads the device's events every 2 s and refreshes the
/// paired list when a device pairs (`paired_device_added`) or is removed.
async fn watch_pairing(
    s: ShellySession,
    pairing_until: RwSignal<Option<u64>>,
    paired: RwSignal<Vec<Value>>,
    until: u64,
) {
    let seen = |s: ShellySession| {
        s.events
            .try_with_untracked(|events| {
                events
                    .iter()
                    .filter(|e| {
                        matches!(
                            e.get("event").and_then(Value::as_str),
                            Some("paired_device_added" | "paired_device_removed")
                        )
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    let mut known = seen(s);
    while now_ms() < until && pairing_until.try_get_untracked().flatten() == Some(until) {
        sleep_ms(2_000).await;
        if s.link().is_none() || s.listen().await.is_err() {
            break;
        }
        let now_seen = seen(s);
        if now_seen != known {
            known = now_seen;
            if let Ok(list) = s.call("BLE.ListPairedDevices", None).await {
                paired.try_set(paired_list(&list));
            }
        }
    }
}

fn paired_list(result: &Value) -> Vec<Value> {
    result
        .as_array()
        .or_else(|| result.get("devices").and_then(Value::as_array))
        .cloned()
        .unwrap_or_default()
}

/// Objects the composer offers: numeric sensors, binary sensors and the button.
fn composable() -> impl Iterator<Item = &'static ObjectInfo> {
    OBJECTS
        .iter()
        .filter(|o| matches!(o.kind, Kind::Number | Kind::Binary | Kind::Button) && o.id != 0x00)
}

/// One composed object: its id and the value as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The BTHome object id.
    pub id: u8,
    /// The value as typed (a number; 0/1 for binary; an event code for the button).
    pub value: String,
}

/// Encodes composed rows as a BTHome v2 payload with the core encoder.
pub fn encode_rows(rows: &[Row]) -> Result<Vec<u8>, String> {
    let mut objects = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let info = bthome::info(row.id).ok_or_else(|| format!("object {}: unknown id", i + 1))?;
        let number: f64 = row.value.trim().parse().map_err(|_| {
            format!(
                "object {} ({}): \"{}\" is not a number",
                i + 1,
                info.name,
                row.value
            )
        })?;
        let value = match info.kind {
            Kind::Binary => Reading::Bool(number != 0.0),
            Kind::Button => Reading::Button(
                u8::try_from(number as i64)
                    .map_err(|_| format!("object {}: event code 0–255", i + 1))?,
            ),
            _ if info.decimals == 0 => Reading::Int(number.round() as i64),
            _ => Reading::Float(number),
        };
        objects.push(Object::new(row.id, value));
    }
    objects.sort_by_key(|o| o.id);
    let trigger = objects.iter().any(|o| o.id == 0x3A);
    bthome::encode_v2(&objects, trigger, None, None).map_err(|e| e.to_string())
}

/// Builds advertising data (BTHome objects through the core encoder, or raw hex) and sends it
/// with `BLE.AdvertiseOnce`.
#[component]
pub fn AdvertiseComposer(
    /// The session.
    session: ShellySession,
) -> impl IntoView {
    let raw = RwSignal::new(String::new());
    let use_raw = RwSignal::new(false);
    let rows = RwSignal::new(vec![Row {
        id: 0x02,
        value: "21.5".into(),
    }]);
    let bytes = move || {
        if use_raw.get() {
            hex::decode(&raw.get()).map_err(|e| e.to_string())
        } else {
            rows.with(|r| encode_rows(r))
                .and_then(|payload| bthome_ad(&payload))
        }
    };
    let verdict = move || {
        bytes().and_then(|b| {
            check_ad_data(&b, MAX_ADV_DATA)
                .map(|()| b)
                .map_err(|e| e.to_string())
        })
    };
    let send = move |_| {
        let params = bytes()
            .and_then(|b| AdvertiseOnceParams::new(&b, None).map_err(|e| e.to_string()))
            .and_then(|p| serde_json::to_value(p).map_err(|e| e.to_string()));
        let params = match params {
            Ok(params) => params,
            Err(e) => {
                session.failure.set(Some(Failure::new(
                    FailureKind::Refused,
                    "BLE.AdvertiseOnce",
                    e,
                )));
                return;
            }
        };
        session.run("Advertise once", move |s| {
            let params = params.clone();
            async move {
                s.step("Advertising once (BLE.AdvertiseOnce)");
                s.call("BLE.AdvertiseOnce", Some(params)).await?;
                s.step_done();
                Ok(())
            }
        });
    };
    let options = move |selected: u8| {
        composable()
            .map(|o| {
                let label = match o.unit {
                    Some(u) => format!("{} ({u})", o.name),
                    None => o.name.to_owned(),
                };
                view! { <option value=o.id.to_string() selected=o.id == selected>{label}</option> }
            })
            .collect_view()
    };
    view! {
        <div class="advertise">
            <h3>"Advertise once"</h3>
            <label class="check">
                <input type="checkbox" prop:checked=move || use_raw.get()
                    on:change=move |ev| use_raw.set(event_target_checked(&ev)) />
                " Raw advertising data (hex AD structures) instead of BTHome objects"
            </label>
            <Show
                when=move || use_raw.get()
                fallback=move || view! {
                    <ul class="composer">
                        {move || rows.get().into_iter().enumerate().map(|(i, row)| view! {
                            <li class="row">
                                <select aria-label="Object" on:change=move |ev| {
                                    let id = event_target_value(&ev).parse().unwrap_or(0x02);
                                    rows.update(|r| if let Some(x) = r.get_mut(i) { x.id = id; });
                                }>{options(row.id)}</select>
                                <input aria-label="Value" prop:value=row.value.clone()
                                    on:input=move |ev| {
                                        let v = event_target_value(&ev);
                                        rows.update(|r| if let Some(x) = r.get_mut(i) { x.value = v; });
                                    } />
                                <button class="small" on:click=move |_| rows.update(|r| { if i < r.len() { r.remove(i); } })>"Remove"</button>
                            </li>
                        }).collect_view()}
                    </ul>
                    <button class="small" on:click=move |_| rows.update(|r| r.push(Row { id: 0x03, value: "50".into() }))>"Add object"</button>
                }
            >
                <TextField label="Advertising data (hex)" value=raw placeholder="e.g. 07 16 d2 fc 40 02 ca 09" />
            </Show>
            <p class="budget" aria-live="polite">{move || match verdict() {
                Ok(b) => format!("{} of {MAX_ADV_DATA} bytes: {}", b.len(), hex::encode(&b)),
                Err(e) => e,
            }}</p>
            <button on:click=send disabled=move || verdict().is_err()>"Send"</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bthome_payload_is_wrapped_in_fcd2_service_data() {
        // Temperature 25.06 °C, bthome.io/format example.
        let ad = bthome_ad(&[0x40, 0x02, 0xca, 0x09]).unwrap();
        assert_eq!(ad, [0x07, 0x16, 0xD2, 0xFC, 0x40, 0x02, 0xca, 0x09]);
        assert_eq!(check_ad_data(&ad, MAX_ADV_DATA), Ok(()));
    }

    #[test]
    fn composed_objects_go_through_the_core_encoder() {
        // Temperature 25.06 °C and humidity 50.55 %, the STYLE.md example bytes.
        let rows = [
            Row {
                id: 0x03,
                value: "50.55".into(),
            },
            Row {
                id: 0x02,
                value: "25.06".into(),
            },
        ];
        assert_eq!(
            encode_rows(&rows),
            Ok(vec![0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13])
        );
        let press = [Row {
            id: 0x3A,
            value: "1".into(),
        }];
        assert_eq!(
            encode_rows(&press),
            Ok(vec![0x44, 0x3A, 0x01]),
            "button packets are trigger-based"
        );
        assert!(
            encode_rows(&[Row {
                id: 0x02,
                value: "warm".into()
            }])
            .unwrap_err()
            .contains("not a number")
        );
    }
}
