//! The capability panel: what Web Bluetooth this browser offers, and how to get what is missing.

use leptos::prelude::*;

use crate::ble::{BackendContext, BleBackend, Capabilities, Capability};

/// What to do when Chrome finds no Bluetooth adapter the page may use.
const NO_ADAPTER_ADVICE: &str = "Chrome finds no Bluetooth adapter this page may use. Plug in a Bluetooth 4.0 (Low Energy) adapter or enable the computer's own, check that this site is not blocked from using Bluetooth (the site settings behind the icon left of the address), then check again.";

/// One compact line ("Bluetooth ready", or what is missing), the full table and the advice for
/// what is missing on demand (open at once when Web Bluetooth or the adapter is missing).
#[component]
pub fn CapabilityPanel(
    /// What the browser offers.
    capabilities: Capabilities,
) -> impl IntoView {
    // Asked once the page is up, and again on "Check again" (an adapter plugged in later).
    let no_adapter = RwSignal::new(false);
    let backend = expect_context::<BackendContext>();
    let check = move || {
        let backend = backend.get();
        leptos::task::spawn_local_scoped(async move {
            let none = backend.adapter_available().await == Some(false);
            // Unchanged, the panel stays as it is (with the focus on "Check again").
            if no_adapter.get_untracked() != none {
                no_adapter.set(none);
            }
        });
    };
    check();
    let missing: Vec<Capability> = capabilities.missing().collect();
    // One reactive piece: the panel is drawn again when the adapter's answer changes.
    move || {
        let no_adapter = no_adapter.get();
        let fine = missing.is_empty() && !no_adapter;
        let summary = if !capabilities.bluetooth {
            "No Web Bluetooth in this browser: how to get it".to_owned()
        } else if no_adapter {
            "No Bluetooth adapter found: what to do".to_owned()
        } else if fine {
            "Bluetooth ready".to_owned()
        } else {
            format!(
                "Bluetooth ready, {} of {} features missing: how to get them",
                missing.len(),
                Capability::ALL.len()
            )
        };
        view! {
            <section class="capabilities" aria-label="Web Bluetooth in this browser">
                <details open=!capabilities.bluetooth || no_adapter>
                    <summary>
                        <span class="capability-state" class:present=fine class:missing=!fine aria-hidden="true">
                            {if fine { "✓" } else { "!" }}
                        </span>
                        " "
                        {summary}
                    </summary>
                    {no_adapter.then(|| view! {
                        <p class="no-adapter">
                            {NO_ADAPTER_ADVICE}
                            " "
                            <button type="button" on:click=move |_| check()>"Check again"</button>
                        </p>
                    })}
                    <ul class="badges">
                        {Capability::ALL
                            .into_iter()
                            .map(|c| {
                                let present = capabilities.has(c);
                                view! {
                                    <li
                                        class="badge"
                                        class:present=present
                                        class:missing=!present
                                        title=c.purpose()
                                        data-capability=c.label()
                                    >
                                        <span aria-hidden="true">{if present { "✓ " } else { "✗ " }}</span>
                                        {c.label()}
                                        <span class="visually-hidden">
                                            {if present { " available" } else { " missing" }}
                                        </span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                    <ul class="advice">
                        {missing
                            .iter()
                            .map(|&c| {
                                view! {
                                    <li data-missing=c.label()>
                                        <strong>{c.label()}</strong>
                                        " ("
                                        {c.purpose()}
                                        "): "
                                        {c.advice()}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </details>
            </section>
        }
    }
}
