//! The Decode page.

use leptos::prelude::*;

/// Paste an advertisement in hex and see every field decoded.
#[component]
pub fn DecodePage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Decode"</h1>
            <p class="lead">"Paste an advertisement in hex and see every field decoded."</p>
        </section>
    }
}
