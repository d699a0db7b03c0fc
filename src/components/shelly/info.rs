//! Device info and status.

use bluehome_core::text::printable;
use leptos::prelude::*;
use serde_json::Value;

use super::{pretty, web_ui_url};
use crate::state::shelly::ShellySession;

/// The device's identity and a few status figures, with the raw JSON folded away.
#[component]
pub fn DeviceInfoPanel(
    /// The session.
    session: ShellySession,
) -> impl IntoView {
    move || {
        session.device.get().map(|d| {
            let status = session.status.get().unwrap_or(Value::Null);
            let wifi = status.get("wifi").cloned().unwrap_or(Value::Null);
            let sta_ip = wifi.get("sta_ip").and_then(Value::as_str).map(str::to_owned);
            let uptime = status.pointer("/sys/uptime").and_then(Value::as_u64);
            let provisioning = status
                .pointer("/ble/provisioning")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let rows = vec![
                ("Name", d.display_name()),
                ("Device id", d.id.clone()),
                ("MAC", d.mac.map(|m| m.to_string()).unwrap_or_else(|| "unknown".into())),
                ("Model", d.model.clone().unwrap_or_default()),
                ("Generation", d.generation.map(|g| g.to_string()).unwrap_or_default()),
                ("Firmware", d.firmware.clone().unwrap_or_default()),
                ("Password", if d.auth_enabled { "set".into() } else { "none".into() }),
                ("Wi-Fi", sta_ip.clone().map(|ip| format!("connected, {ip}")).unwrap_or_else(|| "no IP".into())),
                ("Uptime", uptime.map(|u| format!("{u} s")).unwrap_or_default()),
                ("Set-up state", provisioning.unwrap_or_else(|| "not reported".into())),
            ];
            view! {
                <section class="shelly-info" aria-label="Device">
                    <h2>"Device"</h2>
                    <dl>
                        {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{printable(&v).into_owned()}</dd> }).collect_view()}
                    </dl>
                    {sta_ip.as_deref().and_then(web_ui_url).map(|url| view! {
                        <p><a href=url.clone() target="_blank" rel="noopener noreferrer">
                            {format!("Open the device's web UI at {url}")}
                        </a></p>
                    })}
                    <button on:click=move |_| session.refresh_status()>"Refresh status"</button>
                    <details>
                        <summary>"Raw device info and status"</summary>
                        <pre>{pretty(&d.raw)}</pre>
                        <pre>{pretty(&status)}</pre>
                    </details>
                </section>
            }
        })
    }
}
