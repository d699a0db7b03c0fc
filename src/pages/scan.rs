//! The Scan page.

use bluehome_core::text::printable;
use leptos::prelude::*;

use crate::components::scan::controls::{FilterEditor, SourcePanel, Timeline, Toolbar};
use crate::components::scan::details::DeviceDetails;
use crate::components::scan::device_list::DeviceList;
use crate::components::shelly::data_url;
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
                view! {
                    <div class="notice warning unreadable" role="alert">
                        <p>{printable(&u.message).into_owned()}</p>
                        <a class="button" download=u.file_name
                            href=data_url("application/json", &u.text)>"Download"</a>
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
            <FilterEditor />
            <div class="scan-layout">
                <DeviceList />
                <DeviceDetails />
            </div>
            <Timeline />
        </section>
    }
}
