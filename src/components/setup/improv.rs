//! The Improv Wi-Fi flow's panel: state and error, device info, identify, the networks the device
//! sees (where it can scan) or a typed network name, sending, and the result with its link.

use bluehome_core::improv::{Command, ErrorCode, Network};
use bluehome_core::text::printable;
use leptos::prelude::*;

use crate::components::live::{Live, LiveRegion};
use crate::components::wifi::network_label;
use crate::state::setup::SetupSession;
use crate::state::setup::explain::{improv_advice, improv_title};
use crate::state::setup::improv::PasswordNeed;

/// The Improv panel.
#[component]
pub fn ImprovPanel(
    /// The session.
    session: SetupSession,
) -> impl IntoView {
    let v = session.improv;
    let busy = move || session.busy.get().is_some();
    // The session's: leaving the page and coming back loses none of it.
    let (ssid, password) = (v.ssid, v.password);
    let need = move || v.password_need(&ssid.get());
    let open = move || need() == PasswordNeed::Open;
    view! {
        <section class="improv-flow" aria-label="Improv Wi-Fi device">
            <h2>"Improv Wi-Fi device"</h2>
            <p class="improv-state">{move || v.state.get().map(|s| format!("State: {}", s.description())).unwrap_or_default()}</p>
            {move || v.error.get().filter(|e| *e != ErrorCode::NoError).map(|e| view! {
                <p class="notice warning improv-error">{format!("{}: {}", improv_title(e), improv_advice(e))}</p>
            })}
            <p class="hint">{move || if v.notifications.get() {
                "The device sends notifications."
            } else {
                "No notifications yet: the page reads the state every half second."
            }}</p>
            {move || v.info.get().map(|info| view! {
                <p class="improv-info">{match info {
                    Ok(info) => format!(
                        "{} — {} {} on {}",
                        printable(&info.name), printable(&info.firmware), printable(&info.version), printable(&info.chip)
                    ),
                    Err(why) => format!("Its device info could not be read: {why}"),
                }}</p>
            })}
            <div class="row">
                <Show when=move || v.offers(Command::Identify)>
                    <button disabled=busy on:click=move |_| session.improv_identify()>"Identify"</button>
                </Show>
                <Show when=move || v.offers(Command::ScanWifi)>
                    <button disabled=busy on:click=move |_| session.improv_scan()>"Scan for networks"</button>
                </Show>
            </div>
            <ul class="networks improv-networks">
                {move || v.networks.get().into_iter().map(|n| {
                    let pick = n.ssid_text();
                    let secured = n.needs_password();
                    view! {
                        <li><button class="network" on:click=move |_| {
                            ssid.set(pick.clone());
                            if !secured {
                                password.set(String::new());
                            }
                        }>
                            {network_line(&n)}
                        </button></li>
                    }
                }).collect_view()}
            </ul>
            <form class="improv-wifi" on:submit=move |ev| {
                ev.prevent_default();
                session.improv_send(&ssid.get_untracked(), &password.get_untracked());
            }>
                <label class="field"><span>"Network name (SSID)"</span>
                    <input name="ssid" prop:value=move || ssid.get() on:input=move |ev| ssid.set(event_target_value(&ev)) />
                </label>
                <label class="field"><span>"Wi-Fi password"</span>
                    <input name="wifi-password" type="password" autocomplete="off" prop:value=move || password.get()
                        disabled=open aria-describedby="improv-password-need"
                        on:input=move |ev| password.set(event_target_value(&ev)) />
                </label>
                <p id="improv-password-need" class="hint improv-password-need">{move || match need() {
                    PasswordNeed::Open => "Not needed: the device's scan lists this network as open.".to_owned(),
                    PasswordNeed::Required { auth, rule } => format!("Needed: the device's scan lists this network as secured ({}){}.",
                        printable(&auth), rule.map(|rule| format!(": {rule}")).unwrap_or_default()),
                    PasswordNeed::Unknown => String::new(),
                }}</p>
                <p class="notice warning" role="note">
                    "Improv sends the Wi-Fi password over Bluetooth without encryption (the protocol has none): anyone nearby with a radio could read it while it is sent."
                </p>
                <button type="submit" class="primary" disabled=busy>"Connect to Wi-Fi"</button>
            </form>
            // On the page before the device joins, so that is announced (components/live).
            <LiveRegion kind=Live::Status>{move || v.provisioned.get().map(|result| view! {
                <div class="notice ok improv-done">
                    <strong>"The device joined the network."</strong>
                    {match result {
                        Ok(Some(url)) => view! { " Next: " <a href=url.clone() target="_blank" rel="noopener noreferrer">{url.clone()}</a> }.into_any(),
                        Ok(None) => view! { " The device gave no address to open." }.into_any(),
                        Err(why) => view! { " " {why} }.into_any(),
                    }}
                    {move || (!v.also.get().is_empty()).then(|| view! {
                        " Also: "
                        {v.also.get().into_iter().map(|url| view! {
                            <a href=url.clone() target="_blank" rel="noopener noreferrer">{url.clone()}</a>" "
                        }).collect_view()}
                    })}
                </div>
            })}</LiveRegion>
        </section>
    }
}

/// A scanned network as listed, as the Shelly flow lists one: its signal and authentication
/// may be unknown (a scan result cut short names the network only, [`Network::from_cut_result`]).
fn network_line(n: &Network) -> String {
    let auth = n
        .auth_known()
        .then(|| printable(&n.auth_described()).into_owned());
    let name = printable(&n.ssid_text()).into_owned();
    network_label(&name, n.rssi.map(i32::from), auth.as_deref(), None)
}
