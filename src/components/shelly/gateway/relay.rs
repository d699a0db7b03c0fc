//! What the gateway hears: the devices it relays and its BTHome sensors, read once or fed to the
//! Scan page.

use bluehome_core::text::printable;
use leptos::prelude::*;

use crate::state::shelly::ShellySession;
use crate::state::shelly::gateway::adding::AddForm;
use crate::state::shelly::remote::describe_readings;
use crate::state::store::use_store;

/// The relayed devices, and the switch that feeds them to the Scan page.
#[component]
pub fn Relayed(
    /// Filled with a device's address and name when one is picked.
    form: AddForm,
) -> impl IntoView {
    let session = ShellySession::from_context();
    let settings = use_store().settings;
    view! {
        <h3>"What the gateway hears"</h3>
        <div class="row">
            <button on:click=move |_| session.read_relayed()>"Read relayed devices"</button>
            <button on:click=move |_| session.toggle_feed() aria-pressed=move || session.remote_running.get().to_string()>
                {move || if session.remote_running.get() { "Stop feeding the Scan page" } else { "Feed the Scan page" }}
            </button>
        </div>
        <p class="hint">"While fed, the Scan page shows what this gateway hears (relayed devices and its BTHome sensors, every 5 s) as a remote, non-connectable source: no browser scanning flag needed. Pick one to add it."</p>
        <ul class="relayed">
            {move || session.remote_heard.get().into_iter().map(|heard| {
                let name = heard.name.clone().unwrap_or_default();
                let picked = (heard.key.to_string(), name.clone());
                view! { <li><button class="relayed-device" on:click=move |_| form.pick(picked.0.clone(), picked.1.clone())>
                    <code>{heard.key.to_string()}</code>" "{printable(&name).into_owned()}</button>": "{settings.with(|settings| describe_readings(&heard.data, settings))}</li> }
            }).collect_view()}
        </ul>
    }
}
