//! "Set up a device": the chooser button, progress, the explained failure, and the flow of the
//! chosen device ([`blu`], [`improv`]).

pub mod blu;
pub mod improv;

use crate::state::actions::RunsActions as _;
use bluehome_core::text::printable;
use leptos::prelude::*;

use crate::components::focus_first;
use crate::components::live::{Live, LiveRegion};
use crate::components::steps::StepLog;
use crate::state::setup::{Flow, SetupSession};

/// The set-up panel of the Devices page.
#[component]
pub fn SetupPanel(
    /// The session.
    session: SetupSession,
) -> impl IntoView {
    let busy = move || session.busy.get().is_some();
    view! {
        // Focusable from script only: the focus lands here while a retry runs.
        <section class="setup" aria-label="Set up a device" tabindex="-1">
            <div class="row">
                <button id="set-up-a-device" class="primary" disabled=busy on:click=move |_| session.choose()>
                    "Set up a device…"
                </button>
                <span class="hint">"Shelly Gen2+ devices, Shelly BLU sensors and Improv Wi-Fi devices."</span>
                // On the page before the first step, so each step is announced (components/live).
                <LiveRegion kind=Live::Status class="busy">
                    {move || session.busy.get().map(|b| format!("{b}…"))}
                </LiveRegion>
            </div>
            <DemoChooser session=session />
            <StepLog steps=session.steps label="Set-up progress" class="setup-steps" />
            // The failure's words are the alert, on the page before it; its details and Retry
            // are beside the region (components/live).
            <div class="notice error failure setup-failure">
                <LiveRegion kind=Live::Alert class="failure-region">{move || session.failure.get().map(|f| view! {
                    <strong>{f.title}</strong>
                    <span class="during">{format!(" — while {}", printable(&f.during))}</span>
                    <p>{f.advice}</p>
                })}</LiveRegion>
                {move || session.failure.get().map(|f| view! {
                    <details><summary>"Details"</summary><code>{printable(&f.detail).into_owned()}</code></details>
                    <Show when=move || session.can_retry()>
                        <button on:click=move |_| {
                            session.retry();
                            // The button goes with the failure: to the way to start again, or
                            // while the retry runs, to this section, whose progress is announced.
                            focus_first(&["#set-up-a-device:enabled", ".setup"]);
                        }>"Retry"</button>
                    </Show>
                })}
            </div>
            <Show when=move || session.flow.get().is_some()>
                <button disabled=busy on:click=move |_| session.close()>"Done: disconnect"</button>
            </Show>
            {move || match session.flow.get() {
                Some(Flow::Blu) => view! { <blu::BluPanel session=session /> }.into_any(),
                Some(Flow::Improv) => view! { <improv::ImprovPanel session=session /> }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}

/// Demo mode's stand-in for Chrome's chooser: the simulated devices it would list, to pick one.
/// Shown only on the simulator (`?demo`); Chrome lists only devices it heard, and so does this.
#[component]
fn DemoChooser(session: SetupSession) -> impl IntoView {
    let open = RwSignal::new(false);
    let demo = session.backend().is_simulated();
    demo.then(|| {
        view! {
            <details class="demo-chooser" on:toggle=move |_| open.update(|o| *o = !*o)>
                <summary>"Demo: pick a simulated device"</summary>
                {move || open.get().then(|| {
                    session.simulated_choices().unwrap_or_default().into_iter().map(|d| {
                        let label = d.name.clone().unwrap_or_else(|| d.id.to_string());
                        let id = d.id.clone();
                        view! {
                            <button disabled=move || session.busy.get().is_some()
                                on:click=move |_| session.choose_simulated(id.clone())>
                                {format!("Set up {label}")}
                            </button>
                        }
                    }).collect_view()
                })}
            </details>
        }
    })
}
