//! The device-profile slots (ZMK's model): select, next, previous, clear, clear all,
//! disconnect an inactive one, reconnect, export and import.

use bluehome_core::profiles::{Seeking, SlotState};
use bluehome_core::text::printable;
use leptos::prelude::*;

use super::data_url;
use crate::state::shelly::ShellySession;

/// The slots bar.
#[component]
pub fn ProfileSlots(
    /// The session.
    session: ShellySession,
) -> impl IntoView {
    let import_text = RwSignal::new(String::new());
    let show_import = RwSignal::new(false);
    let slots =
        move || {
            session.profiles.with(|p| {
                (0..p.len())
                .map(|i| {
                    let active = i == p.active();
                    let state = p.state(i).unwrap_or(SlotState::Open);
                    let binding = p.slot(i).cloned();
                    let (title, detail) = match &binding {
                        None => ("empty".to_owned(), String::new()),
                        Some(b) => (
                            printable(&b.name).into_owned(),
                            format!(
                                "{}{}{}",
                                b.mac,
                                b.model.as_deref().map(|m| format!(" · {m}")).unwrap_or_default(),
                                if b.ha1.is_some() { " · password remembered" } else { "" }
                            ),
                        ),
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
                                <span class="slot-number">{i + 1}</span>
                                <span class="slot-name">{title}</span>
                                <span class="slot-state">{state_label}</span>
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
        Seeking::NewDevice => view! {
            <span>"This profile is empty: connect a device to save it here."</span>
            <button class="primary" on:click=move |_| session.connect_new()>"Connect a Shelly…"</button>
        }
        .into_any(),
        Seeking::Reconnect(mac) => view! {
            <span>{format!("{mac} is saved here but not connected.")}</span>
            <button class="primary" on:click=move |_| session.reconnect_active()>"Reconnect"</button>
        }
        .into_any(),
    }
    };
    let export_href = move || {
        session.profiles.with(|_| ());
        data_url("application/json", &session.export_profiles())
    };
    view! {
        <section class="shelly-profiles" aria-label="Device profiles">
            <header class="row">
                <h2>"Profiles"</h2>
                <button on:click=move |_| session.prev_slot() aria-label="Previous profile">"◀"</button>
                <button on:click=move |_| session.next_slot() aria-label="Next profile">"▶"</button>
                <button on:click=move |_| session.clear_slot()>"Clear this profile"</button>
                <button on:click=move |_| {
                    let sure = window()
                        .confirm_with_message("Forget every saved device?")
                        .unwrap_or(false);
                    if sure {
                        session.clear_all_slots();
                    }
                }>"Clear all"</button>
                <a class="button" download="bluehome-profiles.json" href=export_href>"Export"</a>
                <button on:click=move |_| show_import.update(|v| *v = !*v)>"Import…"</button>
            </header>
            {move || session.profile_notice.get().map(|notice| view! {
                <div class="notice warning" role="alert">
                    <strong>"Saved profiles could not be fully loaded."</strong>
                    <ul>{notice.issues.iter().map(|i| view! { <li>{printable(i).into_owned()}</li> }).collect_view()}</ul>
                    <p>{match &notice.kept_under {
                        Some(key) => format!("The original data is kept in local storage under \"{key}\"."),
                        None => "The original data could not be copied aside (storage full): it stays where it is, and nothing is saved over it until you dismiss this notice. Download it first.".to_owned(),
                    }}</p>
                    <a class="button" download="bluehome-profiles-kept-aside.json"
                        href=data_url("application/json", &notice.original)>"Download the original"</a>
                    {notice.removed.as_ref().map(|(key, text)| view! {
                        <p>{format!("To make room, the oldest kept-aside copy \"{key}\" was removed from storage.")}</p>
                        <a class="button" download=format!("{key}.json")
                            href=data_url("application/json", text)>"Download the removed copy"</a>
                    })}
                    <button on:click=move |_| session.profile_notice.set(None)>"Dismiss"</button>
                </div>
            })}
            {move || session.profile_message.get().map(|m| view! {
                <p class="notice" role="status">{m}
                    <button class="small" on:click=move |_| session.profile_message.set(None)>"OK"</button>
                </p>
            })}
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
                            let input: web_sys::HtmlInputElement = event_target(&ev);
                            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                                leptos::task::spawn_local(async move {
                                    let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
                                    match text.ok().and_then(|t| t.as_string()) {
                                        Some(t) => session.import_profiles(&t),
                                        None => session.profile_message.set(Some("The file could not be read.".to_owned())),
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
