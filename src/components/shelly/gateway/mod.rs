//! The BTHome gateway panel: its status, discovery ([`discovery`]), adding a device and its
//! sensors ([`add`]), the devices and sensors it keeps, and what it hears ([`relay`]). The
//! actions are [`BthomeGateway`]'s.

pub mod add;
pub mod discovery;
pub mod relay;

use bluehome_core::text::printable;
use leptos::prelude::*;

use self::add::AddDevice;
use self::discovery::Discovery;
use self::relay::Relayed;
use crate::state::shelly::ShellySession;
use crate::state::shelly::gateway::BthomeGateway;
use crate::state::shelly::gateway::kept::{Kept, shown_address};
use crate::state::store::use_store;

/// The gateway panel, over the session's state of it (kept while another tab is open).
#[component]
pub fn GatewayPanel() -> impl IntoView {
    let gateway = ShellySession::from_context().panels.gateway;
    let form = gateway.form;
    view! {
        <section class="shelly-gateway" aria-label="BTHome gateway">
            <h2>"BTHome gateway"</h2>
            <Discovery gateway=gateway form=form />
            <AddDevice gateway=gateway form=form />
            <Components gateway=gateway />
            <Relayed form=form />
        </section>
    }
}

/// The BTHome devices and sensors the gateway keeps, each with its delete button.
#[component]
fn Components(
    /// The panel's state.
    gateway: BthomeGateway,
) -> impl IntoView {
    let session = ShellySession::from_context();
    let settings = use_store().settings;
    view! {
        <h3>"Devices"</h3>
        <ul class="bthome-devices">
            {move || gateway.devices.get().into_iter().map(|d| {
                let id = d.id;
                let model = d.model_label().map(|m| view! { " " <span class="device-model">{m}</span> });
                let problem = d.problem.map(|p| view! { <p class="device-problem">{p}</p> });
                let (addr, name) = (d.config.addr.unwrap_or_default(), d.config.name.unwrap_or_default());
                let key = format!("bthomedevice:{id}");
                let shown = key.clone();
                view! { <li data-key=key>
                    <strong>{printable(if name.is_empty() { "unnamed" } else { &name }).into_owned()}</strong>
                    " " <code>{shown_address(&addr)}</code>{model}
                    " " <span class="component-key">{shown}</span>
                    " " <button class="small" on:click=move |_| gateway.delete(session, Kept::Device(id))>"Delete"</button>{problem}</li> }
            }).collect_view()}
        </ul>
        <h3>"Sensors"</h3>
        <ul class="bthome-sensors">
            {move || gateway.sensors.get().into_iter().map(|s| {
                let reading = settings.with(|settings| s.reading(settings));
                let device = s.config.addr.as_deref().map(|addr| gateway.device_label(addr));
                let id = s.id;
                let key = format!("bthomesensor:{id}");
                let shown = key.clone();
                view! { <li data-key=key>
                    <strong>{s.label()}</strong>{format!(": {reading}")}
                    {device.map(|d| view! { " " <span class="sensor-device">{format!("from {d}")}</span> })}
                    " " <span class="component-key">{shown}</span>
                    " " <button class="small" on:click=move |_| gateway.delete(session, Kept::Sensor(id))>"Delete"</button></li> }
            }).collect_view()}
        </ul>
    }
}
