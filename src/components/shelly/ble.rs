//! Bluetooth on the device: RPC over Bluetooth, pairing with a countdown, the paired-devices
//! list, and the AdvertiseOnce composer with its 28-byte budget.

use std::time::Duration;

use bluehome_core::shelly::methods::ble::{MAX_ADV_DATA, check_ad_data};
use bluehome_core::text::printable;
use leptos::prelude::*;

use super::{CheckField, RPC_OFF_AND_BLU_GATEWAYS, TextField, range_label};
use crate::platform::monotonic_ms;
use crate::state::hex;
use crate::state::shelly::ShellySession;
use crate::state::shelly::ble::{
    Composer, PAIRING_SECONDS, Row, advertise_once, bthome_ad, composable, encode_rows,
};
use crate::state::shelly::explain::FormField;

/// The Bluetooth panel.
#[component]
pub fn BlePanel() -> impl IntoView {
    let session = ShellySession::from_context();
    let settings = session.panels.ble;
    let pairing_seconds = settings.pairing_seconds;
    // Turning RPC over Bluetooth off asks first: the page loses the device.
    let turning_off = RwSignal::new(false);
    let now = RwSignal::new(monotonic_ms());
    if let Ok(handle) =
        set_interval_with_handle(move || now.set(monotonic_ms()), Duration::from_secs(1))
    {
        on_cleanup(move || handle.clear());
    }
    let remaining = move || {
        settings
            .pairing_until
            .get()
            .map(|until| until.saturating_sub(now.get()) / 1000)
            .filter(|&s| s > 0)
    };
    let start_pairing = move |_| settings.start_pairing(session, &pairing_seconds.get_untracked());

    view! {
        <section class="shelly-ble" aria-label="Bluetooth">
            <h2>"Bluetooth"</h2>
            <button on:click=move |_| settings.load(session)>"Read Bluetooth settings and paired devices"</button>
            {move || settings.rpc_enabled.get().map(|on| view! {
                <p>
                    {if on { "RPC over Bluetooth is on. " } else { "RPC over Bluetooth is off. " }}
                    <button aria-expanded=move || (on && turning_off.get()).to_string()
                        on:click=move |_| if on { turning_off.update(|t| *t = !*t) } else { settings.set_rpc(session, true) }>
                        {if on { "Turn off…" } else { "Turn on" }}
                    </button>
                </p>
            })}
            <Show when=move || turning_off.get() && settings.rpc_enabled.get() == Some(true)>
                <div class="notice warning rpc-off" role="group" aria-label="Turn off RPC over Bluetooth">
                    <p>"The device restarts, and from then on it answers RPC over Wi-Fi only: this page can no longer reach it over Bluetooth. Its web page (over Wi-Fi) can turn it on again."
                        {RPC_OFF_AND_BLU_GATEWAYS}</p>
                    <button class="danger" on:click=move |_| { turning_off.set(false); settings.set_rpc(session, false); }>"Turn off and restart"</button>
                    <button on:click=move |_| turning_off.set(false)>"Cancel"</button>
                </div>
            </Show>
            <h3>"Pairing"</h3>
            <p class="hint">"Outside its set-up window a Shelly accepts Bluetooth RPC only from paired devices (at most 20). Open the pairing window, then connect from the new phone or computer before it closes."</p>
            <div class="row">
                <TextField label=range_label("Pairing seconds", &PAIRING_SECONDS) value=pairing_seconds inputmode="numeric" field=FormField::PairingSeconds />
                <button class="primary" on:click=start_pairing>"Start pairing"</button>
                <button on:click=move |_| settings.stop_pairing(session)>"Stop pairing"</button>
                {move || remaining().map(|s| view! {
                    <span class="countdown" role="timer" aria-live="off">{format!("Pairing open: {}:{:02} left", s / 60, s % 60)}</span>
                })}
            </div>
            <h3>{move || format!("Paired devices ({} of 20)", settings.paired.with(Vec::len))}</h3>
            <ul class="paired">
                {move || settings.paired.get().into_iter().map(|d| {
                    let addr = d.addr.clone();
                    view! {
                        <li>
                            <code>{printable(&d.addr).into_owned()}</code>
                            <button class="small" on:click=move |_| settings.delete(session, addr.clone())>"Delete"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <AdvertiseComposer />
        </section>
    }
}

/// Builds advertising data (BTHome objects through the core encoder, or raw hex) and sends it
/// with `BLE.AdvertiseOnce`.
#[component]
pub fn AdvertiseComposer() -> impl IntoView {
    let session = ShellySession::from_context();
    // Kept with the session: a tab switch loses none of it.
    let Composer { rows, raw, use_raw } = session.panels.ble.composer;
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
    let send = move |_| advertise_once(session, bytes());
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
            <CheckField label=" Raw advertising data (hex AD structures) instead of BTHome objects" checked=use_raw />
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
