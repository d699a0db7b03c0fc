//! The page for unknown routes.

use leptos::prelude::*;

/// Shown for any path the router does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Not found"</h1>
            <p>"There is no such page. " <a href="./">"Go to the scan page."</a></p>
        </section>
    }
}
