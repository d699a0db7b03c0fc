//! The Scan page.

use leptos::prelude::*;

/// Every BTHome sensor nearby, decoded and charted live.
#[component]
pub fn ScanPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Scan"</h1>
            <p class="lead">"Every BTHome sensor nearby, decoded and charted live."</p>
        </section>
    }
}
