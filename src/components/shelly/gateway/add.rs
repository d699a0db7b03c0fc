//! Adding a BTHome device to the gateway, then the sensors it sends.

use leptos::prelude::*;

use crate::components::live::{Live, LiveRegion};
use crate::components::shelly::TextField;
use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::FormField;
use crate::state::shelly::gateway::BthomeGateway;
use crate::state::shelly::gateway::adding::{AddForm, NewDevice, Waiting};

/// The add form, the wait for a new device to send, and the sensors to pick.
#[component]
pub fn AddDevice(
    /// The panel's state.
    gateway: BthomeGateway,
    /// The address and name typed, or picked from the discovered or relayed devices, and the key.
    form: AddForm,
) -> impl IntoView {
    let session = ShellySession::from_context();
    let AddForm { addr, name, key } = form;
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let device = NewDevice {
            addr: addr.get_untracked().trim().to_owned(),
            name: name.get_untracked(),
            key: key.get_untracked(),
        };
        gateway.add_device(session, device);
    };
    // A memo: every status read updates the wait, its words (and their announcement) change
    // only now and then.
    let waiting = Memo::new(move |_| gateway.waiting.with(|w| w.as_ref().map(Waiting::message)));
    view! {
        <h3>"Add a device"</h3>
        <form class="add-device-form" on:submit=add>
            <TextField label="Address" value=addr placeholder="AA:BB:CC:DD:EE:FF" field=FormField::GatewayAddress />
            <TextField label="Name" value=name />
            <TextField label="Bind key (encrypted devices, 32 hex digits)" value=key kind="password" field=FormField::GatewayBindKey />
            <button type="submit" class="primary">"Add device"</button>
        </form>
        // The wait alone is announced; its button stays out of the region (components/live).
        <div class="notice waiting-for-device">
            <LiveRegion kind=Live::Status>
                {move || waiting.get().map(|m| view! { <p>{m}</p> })}
            </LiveRegion>
            {move || waiting.with(Option::is_some).then(|| view! {
                <button on:click=move |_| gateway.read_again(session)>"Read again"</button>
            })}
        </div>
        <Show when=move || !gateway.candidates.with(Vec::is_empty)>
            <fieldset class="objects">
                <legend>"Sensors to add"</legend>
                {move || gateway.candidates.get().into_iter().map(|k| {
                    let pair = (k.obj_id, k.idx);
                    let note = match (&k.component, k.events_only) {
                        (Some(c), _) => format!(" — already {c}"),
                        (None, true) => " — its presses are the device's own events (no sensor since firmware 1.6)".to_owned(),
                        (None, false) => String::new(),
                    };
                    let label = format!("{}{} (object 0x{:02x}, #{}){note}", k.name,
                        if k.unit.is_empty() { String::new() } else { format!(" [{}]", k.unit) },
                        k.obj_id, k.idx);
                    view! {
                        <label class="check">
                            <input type="checkbox" data-obj=k.obj_id disabled=k.events_only
                                prop:checked=move || gateway.chosen.with(|c| c.contains(&pair))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    gateway.chosen.update(|c| { c.retain(|p| *p != pair); if on { c.push(pair); } });
                                } />
                            " " {label}
                        </label>
                    }
                }).collect_view()}
                <button class="primary" on:click=move |_| gateway.add_sensors(session)>"Add selected sensors"</button>
            </fieldset>
        </Show>
    }
}
