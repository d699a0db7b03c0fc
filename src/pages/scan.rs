//! The Scan page.
//!
//! Its heading, sources (with the scan button) and notices come with the first module; the toolbar,
//! the device list with its details and the timeline are a part of their own in the split build
//! (src/app.rs), fetched as the page first renders, so the first screen has less to download.

use bluehome_core::text::printable;
#[cfg(bluehome_split)]
use leptos::lazy;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::live::{Live, LiveRegion};
use crate::components::scan::controls::{SourcePanel, Timeline, Toolbar, WatchedList};
use crate::components::scan::details::DeviceDetails;
use crate::components::scan::device_list::DeviceList;
use crate::platform;
use crate::state::store::{Action, act};
use crate::state::use_store;

/// Every BTHome sensor nearby, decoded and charted live.
#[component]
pub fn ScanPage() -> impl IntoView {
    crate::platform::set_title("Scan");
    let store = use_store();
    let notices = move || {
        store
            .notices
            .get()
            .into_iter()
            .map(|n| view! { <li>{printable(&n).into_owned()}</li> })
            .collect_view()
    };
    // Saved data that could not be used, each with its download; data still in its place (the
    // copy aside failed) keeps the page from saving there until the user lets it. The alert is on
    // the page before the store opens (in the split build, after this page renders) and holds only
    // the messages; each one's buttons sit beside it, named after the file they are about.
    let unreadable = move || store.unreadable.get().into_iter().enumerate();
    let messages = move || {
        unreadable()
            .map(|(i, u)| {
                view! { <p id=format!("unreadable-{i}")>{printable(&u.message).into_owned()}</p> }
            })
            .collect_view()
    };
    let actions = move || {
        unreadable()
            .map(|(i, u)| {
                let discard = if u.holds.is_some() {
                    "Discard it and save anew"
                } else {
                    "Dismiss"
                };
                let about = format!("unreadable-{i}");
                let download = format!("Download {}", u.file_name);
                let (file_name, text) = (u.file_name, u.text);
                view! {
                    <li>
                        <button aria-describedby=about.clone() on:click=move |_| platform::download(&file_name, "application/json", &text)>
                            {download}
                        </button>
                        " "
                        <button aria-describedby=about on:click=move |_| spawn_local(act(store, Action::DiscardUnreadable(i)))>{discard}</button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="page scan-page">
            <h1>"Scan"</h1>
            <p class="lead">"Every BTHome sensor nearby, decoded and charted live."</p>
            <SourcePanel />
            <div class="notice warning unreadable">
                <LiveRegion kind=Live::Alert>{messages}</LiveRegion>
                {move || store.unreadable.with(|u| !u.is_empty()).then(|| view! { <ul class="unreadable-actions">{actions}</ul> })}
            </div>
            <ul class="notices" role="status">{notices}</ul>
            <Suspense fallback=|| view! { <p class="part-loading" role="status">"Loading the device list…"</p> }>
                {Suspend::new(scan_body())}
            </Suspense>
        </section>
    }
}

/// The watched devices, the toolbar, the device list with its details, and the events: a part of
/// its own.
#[cfg_attr(bluehome_split, lazy(scan_body))]
async fn scan_body() -> AnyView {
    let store = use_store();
    // The toolbar shows and changes the saved settings: the store reads them first (in the split
    // build its code may arrive after this part's), so a choice made there is not overwritten by
    // the saved one a moment later.
    act(store, Action::Open).await;
    view! {
        <WatchedList />
        <Toolbar />
        <div class="scan-layout" class:has-details=move || store.selected.with(Option::is_some)>
            <DeviceList />
            <DeviceDetails />
        </div>
        <Timeline />
    }
    .into_any()
}
