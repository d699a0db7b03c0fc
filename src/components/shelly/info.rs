//! Device info and status.

use bluehome_core::shelly::methods::shelly::SysStatus;
use bluehome_core::shelly::methods::wifi::WifiStatus;
use bluehome_core::text::printable;
use leptos::prelude::*;

use super::{pretty, web_ui_url};
use crate::state::shelly::ShellySession;

/// The device's identity and a few status figures, with the raw JSON folded away.
#[component]
pub fn DeviceInfoPanel() -> impl IntoView {
    let session = ShellySession::from_context();
    move || {
        session.device.get().map(|d| {
            let status = session.status.get().unwrap_or_default();
            let sta_ip = status.get::<WifiStatus>("wifi").and_then(|w| w.sta_ip);
            let uptime = status.get::<SysStatus>("sys").and_then(|s| s.uptime);
            let info = &d.info;
            // As sent: a state this page does not know is still worth showing.
            let provisioning = info.provision.clone();
            let rows = vec![
                ("Name", d.display_name()),
                ("Device id", info.id.clone()),
                ("MAC", d.mac.map(|m| m.to_string()).unwrap_or_else(|| "unknown".into())),
                ("Model", d.model_label()),
                ("Generation", if info.r#gen == 0 { String::new() } else { info.r#gen.to_string() }),
                ("Firmware", d.firmware().to_owned()),
                ("Password", if info.auth_en { "set".into() } else { "none".into() }),
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
                        <pre>{pretty(info)}</pre>
                        <pre>{pretty(&status)}</pre>
                    </details>
                </section>
            }
        })
    }
}
