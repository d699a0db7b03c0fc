//! The capability panel: what Web Bluetooth this browser offers, and how to get what is missing.

use leptos::prelude::*;

use crate::ble::{Capabilities, Capability};

/// A compact line of capability badges, with advice for each one missing.
#[component]
pub fn CapabilityPanel(
    /// What the browser offers.
    capabilities: Capabilities,
) -> impl IntoView {
    let missing: Vec<Capability> = capabilities.missing().collect();
    // Open the advice at once when Web Bluetooth is missing altogether.
    let open_advice = !capabilities.bluetooth;
    let summary = if missing.is_empty() {
        "Every Web Bluetooth feature bluehome uses is available.".to_owned()
    } else {
        format!(
            "{} of {} Web Bluetooth features missing",
            missing.len(),
            Capability::ALL.len()
        )
    };
    view! {
        <section class="capabilities" aria-label="Web Bluetooth in this browser">
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
            <details class="advice" open=open_advice>
                <summary>{summary}</summary>
                <ul>
                    {missing
                        .into_iter()
                        .map(|c| {
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
