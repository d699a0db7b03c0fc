//! The Devices page.

use leptos::prelude::*;

/// Connect to a Shelly device over Bluetooth to provision Wi-Fi, passwords, pairing and its BTHome devices; keep device profiles.
#[component]
pub fn DevicesPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Devices"</h1>
            <p class="lead">"Connect to a Shelly device over Bluetooth to provision Wi-Fi, passwords, pairing and its BTHome devices; keep device profiles."</p>
        </section>
    }
}
