//! The About page.

use leptos::prelude::*;

use crate::platform;

/// What bluehome is, where it works, and the control that erases what it keeps.
#[component]
pub fn AboutPage() -> impl IntoView {
    crate::platform::set_title("About");
    view! {
        <section class="page">
            <h1>"About bluehome"</h1>
            <p class="lead">
                "A Bluetooth console for the smart home that runs entirely in this page: no server, no account; keys and passwords never leave the browser."
            </p>
            <p>
                "It works in Chrome and Edge on Windows, macOS, ChromeOS and Android. On Linux, enable "
                <code>"chrome://flags/#enable-web-bluetooth"</code>
                ". Scanning every sensor nearby needs "
                <code>"chrome://flags/#enable-experimental-web-platform-features"</code>
                " (on Android and macOS); without it, readings come from a connected Shelly gateway, a capture file or the demo."
            </p>
            <ForgetEverything />
        </section>
    }
}

/// Erases bind keys, remembered password digests, profiles, labels and history from this browser.
#[component]
fn ForgetEverything() -> impl IntoView {
    let forget = move |_| {
        if platform::confirm(
            "Erase every bind key, remembered password digest, device profile, label and saved history bluehome keeps in this browser?",
        ) {
            #[cfg(target_arch = "wasm32")]
            crate::state::privacy::forget_everything();
            // Reload so nothing erased lives on in memory.
            platform::reload();
        }
    };
    view! {
        <section class="forget" aria-labelledby="your-data">
            <h2 id="your-data">"Your data"</h2>
            <p>
                "bluehome keeps bind keys, remembered password digests (HA1, never a password), device profiles, sensor labels and the last hour of readings in this browser's local storage, and nowhere else."
            </p>
            <button type="button" class="danger" on:click=forget>"Forget everything"</button>
        </section>
    }
}
