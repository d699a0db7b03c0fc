//! The root component: header, navigation and routes.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::ble::Capabilities;
use crate::components::capabilities::CapabilityPanel;
use crate::pages::{AboutPage, DecodePage, DevicesPage, NotFound, ScanPage};
use crate::pwa::UpdateBanner;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let capabilities = Capabilities::detect();
    provide_context(capabilities);
    view! {
        <Router base=router_base()>
            <header class="app-header">
                <a class="brand" href="./">"bluehome"</a>
                <nav aria-label="Pages">
                    <A href="scan">"Scan"</A>
                    <A href="devices">"Devices"</A>
                    <A href="decode">"Decode"</A>
                    <A href="about">"About"</A>
                </nav>
            </header>
            <CapabilityPanel capabilities=capabilities />
            <UpdateBanner />
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=ScanPage />
                    <Route path=path!("scan") view=ScanPage />
                    <Route path=path!("devices") view=DevicesPage />
                    <Route path=path!("decode") view=DecodePage />
                    <Route path=path!("about") view=AboutPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The path the app is hosted under, without a trailing slash ("" at the root).
///
/// index.html sets `<base href>` to the app's directory before anything loads, so one build
/// works at `/`, at `/bluehome/`, and on a deep link served by a static host's 404.html.
fn router_base() -> String {
    let base = document()
        .base_uri()
        .ok()
        .flatten()
        .and_then(|uri| web_sys::Url::new(&uri).ok())
        .map(|url| url.pathname())
        .unwrap_or_default();
    base.trim_end_matches('/').to_owned()
}
