//! The Scan page.

use leptos::prelude::*;

use crate::components::scan::controls::{FilterEditor, SourcePanel, Timeline, Toolbar};
use crate::components::scan::details::DeviceDetails;
use crate::components::scan::device_list::DeviceList;
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
            .map(|n| view! { <li>{n}</li> })
            .collect_view()
    };
    view! {
        <section class="page scan-page">
            <h1>"Scan"</h1>
            <p class="lead">"Every BTHome sensor nearby, decoded and charted live."</p>
            <SourcePanel />
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
