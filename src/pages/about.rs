//! The About page.

use leptos::prelude::*;

/// What bluehome is and where it works.
#[component]
pub fn AboutPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"About bluehome"</h1>
            <p class="lead">
                "A Bluetooth console for the smart home that runs entirely in this page: no server, no account; keys and passwords never leave the browser."
            </p>
            <p>
                "It works in Chrome and Edge on Windows, macOS, ChromeOS and Android. On Linux, enable "
                <code>"chrome://flags/#enable-experimental-web-platform-features"</code>
                ". Scanning every sensor nearby needs that flag on every platform."
            </p>
        </section>
    }
}
