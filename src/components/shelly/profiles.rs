//! The device-profile slots (ZMK's model): select, next, previous, clear, clear all,
//! disconnect an inactive one, reconnect, export and import.

use bluehome_core::DeviceKind;
use bluehome_core::profiles::{Binding, Seeking, SlotState};
use bluehome_core::shelly::models;
use bluehome_core::text::printable;
use leptos::prelude::*;

use crate::components::live::{Live, LiveRegion};
use crate::platform;
use crate::state::shelly::ShellySession;
use crate::state::shelly::profiles::PROFILES_FILE_BYTES;

/// The slots bar.
#[component]
pub fn ProfileSlots() -> impl IntoView {
    let session = ShellySession::from_context();
    let import_text = RwSignal::new(String::new());
    let show_import = RwSignal::new(false);
    let slots = move || {
        session.profiles.with(|p| {
            (0..p.len())
                .map(|i| {
                    let active = i == p.active();
                    let state = p.state(i).unwrap_or(SlotState::Open);
                    let binding = p.slot(i).cloned();
                    let (title, detail) = match &binding {
                        None => ("empty".to_owned(), String::new()),
                        Some(b) => slot_lines(b),
                    };
                    let state_label = match state {
                        SlotState::Open => "open",
                        SlotState::BoundConnected => "connected",
                        SlotState::BoundDisconnected => "not connected",
                    };
                    let can_disconnect = !active && state == SlotState::BoundConnected;
                    view! {
                        <li class="slot" class:active=active data-slot=i data-state=state_label>
                            <button
                                class="slot-select"
                                aria-pressed=move || if active { "true" } else { "false" }
                                on:click=move |_| session.select_slot(i)
                            >
                                // Reads "1 · Shelly BLU Gateway Gen3 · connected", "2 · empty".
                                <span class="slot-number">{i + 1}</span>
                                " · "
                                <span class="slot-name">{after_colons(&title)}</span>
                                // The state stands on a line of its own; the dot is heard, not seen.
                                {binding.is_some().then(|| view! {
                                    <span class="visually-hidden">" · "</span>
                                    <span class="slot-state">{state_label}</span>
                                })}
                            </button>
                            <small class="slot-detail">{detail}</small>
                            {can_disconnect.then(|| view! {
                                <button class="small" on:click=move |_| session.disconnect_slot(i)>
                                    "Disconnect"
                                </button>
                            })}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let seeking = move || {
        match session.seeking() {
        Seeking::Nothing => view! { <span>"The active profile's device is connected."</span> }.into_any(),
        // Connecting starts from "Set up a device" above: the page has one Connect button.
        Seeking::NewDevice => view! {
            <span>"This profile is empty: set up a Shelly device above to save it here."</span>
        }
        .into_any(),
        Seeking::Reconnect(mac) => view! {
            <span>{format!("{mac} is saved here but not connected.")}</span>
            <button class="primary" on:click=move |_| session.reconnect_active()>"Reconnect"</button>
        }
        .into_any(),
    }
    };
    let export = move |_| {
        platform::download(
            "bluehome-profiles.json",
            "application/json",
            &session.export_profiles(),
        );
    };
    view! {
        <section class="shelly-profiles" aria-label="Device profiles">
            <header class="row">
                <h2>"Profiles"</h2>
                <button on:click=move |_| session.prev_slot() aria-label="Previous profile">"◀"</button>
                <button on:click=move |_| session.next_slot() aria-label="Next profile">"▶"</button>
                <button on:click=move |_| session.clear_slot()>"Clear this profile"</button>
                <button on:click=move |_| {
                    if platform::confirm("Forget every saved device?") {
                        session.clear_all_slots();
                    }
                }>"Clear all"</button>
                <button on:click=export>"Export"</button>
                <button on:click=move |_| show_import.update(|v| *v = !*v)
                    aria-expanded=move || show_import.get().to_string()>"Import…"</button>
            </header>
            // Each notice's words are a live region on the page before them, so they are
            // announced; their buttons stay out of the region (components/live).
            <div class="notice warning">
                <LiveRegion kind=Live::Alert>
                    {move || session.profile_notice.get().map(|notice| view! {
                        <strong>"Saved profiles could not be fully loaded."</strong>
                        <ul>{notice.issues.iter().map(|i| view! { <li>{printable(i).into_owned()}</li> }).collect_view()}</ul>
                        <p>{match &notice.kept_under {
                            Some(key) => format!("The original data is kept in local storage under \"{key}\"."),
                            None => "The original data could not be copied aside (storage full): it stays where it is, and nothing is saved over it until you dismiss this notice. Download it first.".to_owned(),
                        }}</p>
                        {notice.removed.map(|(key, _)| view! {
                            <p>{format!("To make room, the oldest kept-aside copy \"{key}\" was removed from storage.")}</p>
                        })}
                    })}
                </LiveRegion>
                {move || session.profile_notice.get().map(|notice| view! {
                    <button on:click={
                        let original = notice.original.clone();
                        move |_| platform::download("bluehome-profiles-kept-aside.json", "application/json", &original)
                    }>"Download the original"</button>
                    {notice.removed.map(|(key, text)| view! {
                        <button on:click=move |_| platform::download(&format!("{key}.json"), "application/json", &text)>
                            "Download the removed copy"
                        </button>
                    })}
                    <button on:click=move |_| session.profile_notice.set(None)>"Dismiss"</button>
                })}
            </div>
            <p class="notice">
                <LiveRegion kind=Live::Status inline=true>{move || session.profile_message.get()}</LiveRegion>
                {move || session.profile_message.with(Option::is_some).then(|| view! {
                    <button class="small" on:click=move |_| session.profile_message.set(None)>"OK"</button>
                })}
            </p>
            <div class="notice warning import-confirm">
                <LiveRegion kind=Live::Alert>
                    {move || session.import_pending.with(|pending| pending.as_ref().map(|pending| {
                        let names: Vec<String> = pending.forgets.iter().map(|n| printable(n).into_owned()).collect();
                        view! {
                            <p>{format!(
                                "This file replaces the profiles. Not in it, so forgotten, with the browser's permission revoked: {}.",
                                names.join(", ")
                            )}</p>
                        }
                    }))}
                </LiveRegion>
                {move || session.import_pending.with(Option::is_some).then(|| view! {
                    <button on:click=move |_| session.confirm_import()>"Import and forget them"</button>
                    <button on:click=move |_| session.import_pending.set(None)>"Cancel"</button>
                })}
            </div>
            <ol class="slots">{slots}</ol>
            <p class="seeking">{seeking}</p>
            <Show when=move || show_import.get()>
                <div class="import">
                    <label class="field">
                        <span>"Paste an exported profiles file"</span>
                        <textarea
                            rows="4"
                            prop:value=move || import_text.get()
                            on:input=move |ev| import_text.set(event_target_value(&ev))
                        ></textarea>
                    </label>
                    <button on:click=move |_| {
                        session.import_profiles(&import_text.get_untracked());
                        show_import.set(false);
                    }>"Import"</button>
                    <label class="field">
                        <span>"…or choose the file"</span>
                        <input type="file" accept="application/json,.json" on:change=move |ev| {
                            if let Some(file) = platform::chosen_file(&ev) {
                                leptos::task::spawn_local(async move {
                                    match platform::read_text(&file, PROFILES_FILE_BYTES).await {
                                        Ok(text) => session.import_profiles(&text),
                                        Err(e) => session.profile_message.set(Some(format!("Import: {e}."))),
                                    }
                                    show_import.set(false);
                                });
                            }
                        } />
                    </label>
                </div>
            </Show>
        </section>
    }
}

/// A bound slot's title (the device's name) and detail line: its MAC, model and whether its
/// password is remembered. A device with no name of its own is titled by its MAC, shown once.
fn slot_lines(b: &Binding) -> (String, String) {
    let model = b.model.as_deref().and_then(models::model_by_code);
    let title = DeviceKind::Shelly(model)
        .shown_name(Some(&b.name))
        .unwrap_or(&b.name);
    let mac = b.mac.to_string();
    let detail = [
        (title != mac).then_some(mac),
        b.model.clone(),
        b.ha1.is_some().then(|| "password remembered".to_owned()),
    ];
    let detail: Vec<String> = detail.into_iter().flatten().collect();
    (printable(title).into_owned(), detail.join(" · "))
}

/// `text` with a line-break opportunity after each colon: a MAC as a title wraps between its
/// pairs of digits, not inside one.
fn after_colons(text: &str) -> impl IntoView + use<> {
    text.split_inclusive(':')
        .map(|part| view! { {part.to_owned()}<wbr /> })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slot names a device and its MAC once; a Gen3 device, which advertises its MAC as its
    /// name, by its model.
    #[test]
    fn a_slot_names_the_mac_once() {
        const MAC: &str = "CC:BA:97:0D:5E:01";
        let slot = |name: &str, model: Option<&str>, ha1: bool| {
            let mut b = Binding::new(MAC.parse().unwrap(), name);
            b.model = model.map(str::to_owned);
            b.ha1 = ha1.then(|| "0".repeat(64));
            slot_lines(&b)
        };
        let lines = |title: &str, detail: &str| (title.to_owned(), detail.to_owned());
        let gateway = Some("S3GW-1DBT001");
        assert_eq!(
            slot("Kitchen gateway", gateway, false),
            lines("Kitchen gateway", "CC:BA:97:0D:5E:01 · S3GW-1DBT001")
        );
        assert_eq!(
            slot(MAC, gateway, false),
            lines(
                "Shelly BLU Gateway Gen3",
                "CC:BA:97:0D:5E:01 · S3GW-1DBT001"
            )
        );
        assert_eq!(slot(MAC, None, true), lines(MAC, "password remembered"));
    }
}
