//! Reading the gateway, discovering BTHome devices, and what was found.

use leptos::prelude::*;

use crate::components::live::{Live, LiveRegion};
use crate::components::shelly::{TextField, range_label};
use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::FormField;
use crate::state::shelly::gateway::adding::AddForm;
use crate::state::shelly::gateway::discovery::discovered_label;
use crate::state::shelly::gateway::kept::shown_address;
use crate::state::shelly::gateway::{BthomeGateway, DISCOVERY_SECONDS};

/// The read and discover buttons, the status errors, the devices discovered, and what to do when
/// a discovery found none.
#[component]
pub fn Discovery(
    /// The panel's state.
    gateway: BthomeGateway,
    /// Filled with a device's address and name when one is picked.
    form: AddForm,
) -> impl IntoView {
    let session = ShellySession::from_context();
    let discover_secs = gateway.discovery_seconds;
    let discover = move |_| gateway.discover(session, &discover_secs.get_untracked());
    view! {
        <div class="row">
            <button on:click=move |_| gateway.load(session)>"Read devices and sensors"</button>
            <TextField label=range_label("Discovery seconds", &DISCOVERY_SECONDS) value=discover_secs inputmode="numeric" field=FormField::DiscoverySeconds />
            <button class="primary" on:click=discover disabled=move || gateway.discovering.get()>"Discover devices"</button>
        </div>
        // On the page before the first error, so each one is announced (components/live).
        <LiveRegion kind=Live::Alert>
            {move || gateway.errors.get().into_iter().map(|e| view! { <p class="notice warning">{e}</p> }).collect_view()}
        </LiveRegion>
        <h3>"Discovered"</h3>
        <ul class="discovered">
            {move || gateway.discovered.get().into_iter().map(|dev| {
                let name = dev.local_name.clone().unwrap_or_default();
                let label = discovered_label(&dev);
                let picked = (shown_address(&dev.addr), name);
                view! {
                    <li><button class="discovered-device" on:click=move |_| form.pick(picked.0.clone(), picked.1.clone())>{label}</button></li>
                }
            }).collect_view()}
        </ul>
        // The note alone is announced; its button stays out of the region (components/live).
        <div class="notice warning discovery-note">
            <LiveRegion kind=Live::Status>
                {move || gateway.discovery_note.get().map(|note| view! { <p>{note}</p> })}
            </LiveRegion>
            {move || gateway.discovery_note.with(Option::is_some).then(|| view! {
                <button on:click=move |_| session.read_relayed()>"Read relayed devices"</button>
            })}
        </div>
    }
}
