//! The capability panel: what Web Bluetooth this browser offers, and how to get what is missing.

use leptos::prelude::*;

use crate::ble::{Capabilities, Capability};

/// One compact line ("Bluetooth ready", or what is missing), the full table and the advice for
/// what is missing on demand (open at once when Web Bluetooth is missing altogether).
#[component]
pub fn CapabilityPanel(
    /// What the browser offers.
    capabilities: Capabilities,
) -> impl IntoView {
    let missing: Vec<Capability> = capabilities.missing().collect();
    let open_details = !capabilities.bluetooth;
    let ready = missing.is_empty();
    let summary = if ready {
        "Bluetooth ready".to_owned()
    } else if !capabilities.bluetooth {
        "No Web Bluetooth in this browser: how to get it".to_owned()
    } else {
        format!(
            "Bluetooth ready, {} of {} features missing: how to get them",
            missing.len(),
            Capability::ALL.len()
        )
    };
    view! {
        <section class="capabilities" aria-label="Web Bluetooth in this browser">
            <details open=open_details>
                <summary>
                    <span class="capability-state" class:present=ready class:missing=!ready aria-hidden="true">
                        {if ready { "✓" } else { "!" }}
                    </span>
                    " "
                    {summary}
                </summary>
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
