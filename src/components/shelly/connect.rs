//! Connecting: the button, step-by-step progress, and the explained failure with its retry
//! (and the password form when the device asks for one).

use crate::state::actions::RunsActions as _;
use bluehome_core::text::printable;
use leptos::prelude::*;

use super::{CheckField, DeviceUsername};
use crate::components::focus_first;
use crate::components::live::{Live, LiveRegion};
use crate::components::steps::StepLog;
use crate::state::setup::SetupSession;
use crate::state::shelly::explain::FailureKind;
use crate::state::shelly::{Phase, ShellySession};

/// The connection panel.
#[component]
pub fn ConnectPanel() -> impl IntoView {
    let session = ShellySession::from_context();
    let connected = move || session.phase.get() == Phase::Connected;
    view! {
        // Focusable from script only: the focus lands here while a retry runs (focus_next).
        <section class="shelly-connect" aria-label="Connection" tabindex="-1">
            <div class="row">
                // Connecting starts from "Set up a device" (components/setup), the page's one
                // chooser, which hands Shelly RPC devices to this session.
                <Show when=connected>
                    <strong class="connected-name">
                        {move || session.device.get().map(|d| printable(&d.display_name()).into_owned()).unwrap_or_default()}
                    </strong>
                    <button on:click=move |_| {
                        session.disconnect();
                        focus_next(false);
                    }>"Disconnect"</button>
                </Show>
                // On the page before the first step, so each step is announced (components/live).
                <LiveRegion kind=Live::Status class="busy">
                    {move || session.busy.get().map(|b| format!("{b}…"))}
                </LiveRegion>
            </div>
            <StepLog steps=session.steps label="Connection progress" />
            <FailurePanel />
        </section>
    }
}

/// Moves the focus, once the button that had it is gone (Disconnect, a failure's Retry or
/// Dismiss), to where the user goes on: the device's selected tab while connected, else the way
/// to connect ("Set up a device"), or while that waits for work under way, the connection's
/// section, whose progress is announced.
fn focus_next(connected: bool) {
    if connected {
        focus_first(&["[role=tab][aria-selected=true]"]);
    } else {
        focus_first(&["#set-up-a-device:enabled", ".shelly-connect"]);
    }
}

/// The id of the failure's line about a form field, which that field names while it shows.
pub const FIELD_ERROR_ID: &str = "shelly-field-error";

/// The last failure, explained, with its retry. Its words are an alert region that stays on the
/// page, so that each failure is announced as it appears; its details, password form and
/// buttons are beside the region, not read out with it (components/live).
#[component]
pub fn FailurePanel() -> impl IntoView {
    let session = ShellySession::from_context();
    // Whose pairing to describe: the set-up session's system (which tests choose), else the
    // browser's.
    let setup = SetupSession::from_context();
    let os = move || setup.map_or_else(crate::platform::os, |s| s.os.get_untracked());
    let password = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let connected = move || session.phase.get_untracked() == Phase::Connected;
    // What is announced: the failure's words, not its details, form and buttons.
    let said = move || {
        session.failure.get().map(|f| {
            view! {
                <strong>{f.kind.title()}</strong>
                <span class="during">{format!(" — while {}", printable(&f.during))}</span>
                <p>{f.kind.advice()}</p>
                // What was refused, for the field it is about (which names this line).
                {f.field.is_some().then(|| view! {
                    <p class="field-error" id=FIELD_ERROR_ID>{printable(&f.detail).into_owned()}</p>
                })}
                // No address for the pairing commands: a Shelly's MAC is its Wi-Fi one, and an
                // ESP32's Bluetooth address is that base address + 2 (ESP-IDF "Misc System APIs",
                // MAC address), which the page never sees.
                {(f.kind == FailureKind::PairingRequired).then(|| view! {
                    <p class="system-pairing">{os().pairing_advice(None).into_owned()}</p>
                })}
            }
        })
    };
    let actions = move || {
        session.failure.get().map(|f| {
            // While sign-ins are paused the password may still be the wrong one.
            let wants_password = matches!(
                f.kind,
                FailureKind::PasswordNeeded
                    | FailureKind::WrongPassword
                    | FailureKind::SignInsPaused
            );
            let retryable = f.kind.retryable();
            view! {
                <details><summary>"Details"</summary><code>{printable(&f.detail).into_owned()}</code></details>
                {wants_password.then(|| view! {
                    <form class="password-form" on:submit=move |ev| {
                        ev.prevent_default();
                        let p = password.get_untracked();
                        session.use_password(&p, remember.get_untracked());
                        password.set(String::new());
                        session.retry();
                        focus_next(connected());
                    }>
                        <DeviceUsername />
                        <label class="field">
                            <span>"Device password (user admin)"</span>
                            <input type="password" autocomplete="current-password"
                                prop:value=move || password.get()
                                on:input=move |ev| password.set(event_target_value(&ev)) />
                        </label>
                        <CheckField label=" Remember it in this profile (only its digest, HA1, is stored)" checked=remember />
                        <button type="submit" class="primary">"Send password and retry"</button>
                    </form>
                })}
                {(retryable && !wants_password).then(|| view! {
                    <button class="primary" on:click=move |_| {
                        session.retry();
                        focus_next(connected());
                    }>"Retry"</button>
                })}
                <button on:click=move |_| {
                    session.failure.set(None);
                    focus_next(connected());
                }>"Dismiss"</button>
            }
        })
    };
    let kind = move || {
        session
            .failure
            .with(|f| f.as_ref().map(|f| format!("{:?}", f.kind)))
    };
    view! {
        <div class="notice error failure" data-kind=kind>
            <LiveRegion kind=Live::Alert class="failure-region">{said}</LiveRegion>
            {actions}
        </div>
    }
}
