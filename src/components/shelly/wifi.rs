//! The Wi-Fi provisioning wizard: scan, pick or type the network, password, apply (restarting the
//! device when it asks for that), wait for the device's IP address.

use bluehome_core::shelly::methods::wifi::WifiStatus;
use bluehome_core::text::printable;
use leptos::prelude::*;

use super::{CheckField, TextField, web_ui_url};
use crate::components::live::{Live, LiveRegion};
use crate::components::wifi::network_label;
use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::FormField;
use crate::state::shelly::wifi::{WifiSetup, in_setup_window, password_hint};

/// The wizard.
#[component]
pub fn WifiWizard() -> impl IntoView {
    let session = ShellySession::from_context();
    let setup = session.panels.wifi;
    // Kept with the session, like what was read: a tab switch loses none of it.
    let WifiSetup {
        ssid,
        password,
        acknowledged,
        ..
    } = setup;
    // From the session, not this panel: a restart remounts the panel while the action runs.
    // A memo: the status is read again and again, the address (and its announcement) changes
    // only when the device joins or leaves.
    let ip = Memo::new(move |_| {
        session.status.with(|st| {
            st.as_ref()
                .and_then(|st| st.get::<WifiStatus>("wifi")?.sta_ip)
                .filter(|ip| !ip.is_empty())
        })
    });
    let unencrypted = move || in_setup_window(setup.provisioning.get());
    // Enter in either field submits too: the same rule as the button's, so a password is never
    // sent in the clear without the acknowledgement.
    let blocked = move || session.busy.get().is_some() || (unencrypted() && !acknowledged.get());
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if blocked() {
            return;
        }
        // Cleared once sent (not kept on the page); kept to correct when refused.
        if setup.apply(session, ssid.get_untracked(), password.get_untracked()) {
            password.set(String::new());
        }
    };

    view! {
        <section class="shelly-wifi" aria-label="Wi-Fi set-up">
            <h2>"Wi-Fi"</h2>
            <button on:click=move |_| setup.scan(session) disabled=move || session.busy.get().is_some()>"Scan for networks"</button>
            <ul class="networks">
                {move || setup.found.get().into_iter().map(|n| {
                    let name = n.ssid.as_deref().map_or_else(|| "(hidden network)".into(), |s| printable(s).into_owned());
                    let pick = n.ssid.clone().unwrap_or_default();
                    let label = network_label(&name, n.rssi, n.security(), n.channel);
                    view! {
                        <li><button class="network" on:click=move |_| ssid.set(pick.clone())>{label}</button></li>
                    }
                }).collect_view()}
            </ul>
            <form class="wifi-form" on:submit=apply>
                <TextField label="Network name (SSID)" value=ssid field=FormField::WifiNetwork />
                <TextField label="Wi-Fi password" value=password kind="password" field=FormField::WifiPassword />
                {move || setup.found.with(|found| ssid.with(|ssid| password_hint(found, ssid)))
                    .map(|hint| view! { <p class="hint wifi-password-hint">{hint}</p> })}
                {move || unencrypted().then(|| view! {
                    <div class="notice warning" role="note">
                        <strong>"This Bluetooth link is not encrypted."</strong>
                        " The device is in its pairing-free set-up window, so the Wi-Fi password travels in the clear over Bluetooth. Anyone nearby with a radio could read it. Continue only if that is acceptable."
                        <CheckField label=" I understand, send it" checked=acknowledged />
                    </div>
                })}
                <button type="submit" class="primary" disabled=blocked>"Apply"</button>
            </form>
            // On the page before the device joins, so its address is announced (components/live).
            <LiveRegion kind=Live::Status>
                {move || ip.get().map(|ip| view! {
                    <p class="notice success">
                        {format!("Connected to Wi-Fi with address {ip}. ")}
                        {web_ui_url(&ip).map(|url| view! {
                            <a href=url target="_blank" rel="noopener noreferrer">"Open its web UI"</a>
                        })}
                    </p>
                })}
            </LiveRegion>
        </section>
    }
}
