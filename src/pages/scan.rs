//! The Scan page.

use bluehome_core::text::printable;
use leptos::prelude::*;

use crate::components::scan::controls::{SourcePanel, Timeline, Toolbar};
use crate::components::scan::details::DeviceDetails;
use crate::components::scan::device_list::DeviceList;
use crate::platform;
use crate::state::use_store;

/// Every BTHome sensor nearby, decoded and charted live.
#[component]
pub fn ScanPage() -> impl IntoView {
    let store = use_store();
    let notices = move || {
        store
            .notices
            .get()
            .into_iter()
            .map(|n| view! { <li>{printable(&n).into_owned()}</li> })
            .collect_view()
    };
    // Saved data that could not be used: each with its download; data still in its place (the
    // copy aside failed) keeps the page from saving there until the user lets it.
    let unreadable = move || {
        store
            .unreadable
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, u)| {
                let discard = if u.holds.is_some() {
                    "Discard it and save anew"
                } else {
                    "Dismiss"
                };
                let (file_name, text) = (u.file_name, u.text);
                view! {
                    <div class="notice warning unreadable" role="alert">
                        <p>{printable(&u.message).into_owned()}</p>
                        <button on:click=move |_| platform::download(&file_name, "application/json", &text)>
                            "Download"
                        </button>
                        " "
                        <button on:click=move |_| store.discard_unreadable(i)>{discard}</button>
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <section class="page scan-page">
            <h1>"Scan"</h1>
            <p class="lead">"Every BTHome sensor nearby, decoded and charted live."</p>
            <SourcePanel />
            {unreadable}
            <ul class="notices" role="status">{notices}</ul>
            <Toolbar />
            <div class="scan-layout" class:has-details=move || store.selected.with(Option::is_some)>
                <DeviceList />
                <DeviceDetails />
            </div>
            <Timeline />
        </section>
    }
}
