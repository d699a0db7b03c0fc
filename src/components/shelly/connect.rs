//! Connecting: the button, step-by-step progress, and the explained failure with its retry
//! (and the password form when the device asks for one).

use crate::state::actions::RunsActions as _;
use bluehome_core::text::printable;
use leptos::prelude::*;

use super::{CheckField, DeviceUsername};
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
        <section class="shelly-connect" aria-label="Connection">
            <div class="row">
                // Connecting starts from "Set up a device" (components/setup), the page's one
                // chooser, which hands Shelly RPC devices to this session.
                <Show when=connected>
                    <strong class="connected-name">
                        {move || session.device.get().map(|d| printable(&d.display_name()).into_owned()).unwrap_or_default()}
                    </strong>
                    <button on:click=move |_| {
                        session.disconnect();
                        // The button goes with the connection: focus the way to connect again
                        // rather than leave it on the page's body.
                        request_animation_frame(|| {
                            if let Some(next) = document()
                                .get_element_by_id("set-up-a-device")
                                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
                            {
                                let _ = next.focus();
                            }
                        });
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

/// The id of the failure's line about a form field, which that field names while it shows.
pub const FIELD_ERROR_ID: &str = "shelly-field-error";

/// The last failure, explained, with its retry, in an alert region that stays on the page so
/// that each failure is announced as it appears (components/live).
#[component]
pub fn FailurePanel() -> impl IntoView {
    let session = ShellySession::from_context();
    // Whose pairing to describe: the set-up session's system (which tests choose), else the
    // browser's.
    let setup = SetupSession::from_context();
    let os = move || setup.map_or_else(crate::platform::os, |s| s.os.get_untracked());
    let password = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let failure = move || {
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
                <div class="notice error failure" data-kind=format!("{:?}", f.kind)>
                    <strong>{f.kind.title()}</strong>
                    <span class="during">{format!(" — while {}", printable(&f.during))}</span>
                    <p>{f.kind.advice()}</p>
                    // What was refused, for the field it is about (which names this line).
                    {f.field.is_some().then(|| view! {
                        <p class="field-error" id=FIELD_ERROR_ID>{printable(&f.detail).into_owned()}</p>
                    })}
                    {(f.kind == FailureKind::PairingRequired).then(|| view! {
                        <p class="system-pairing">{os().pairing_advice()}</p>
                    })}
                    <details><summary>"Details"</summary><code>{printable(&f.detail).into_owned()}</code></details>
                    {wants_password.then(|| view! {
                        <form class="password-form" on:submit=move |ev| {
                            ev.prevent_default();
                            let p = password.get_untracked();
                            session.use_password(&p, remember.get_untracked());
                            password.set(String::new());
                            session.retry();
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
                        <button class="primary" on:click=move |_| session.retry()>"Retry"</button>
                    })}
                    <button on:click=move |_| session.failure.set(None)>"Dismiss"</button>
                </div>
            }
        })
    };
    view! { <LiveRegion kind=Live::Alert class="failure-region">{failure}</LiveRegion> }
}
