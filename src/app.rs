//! The root component: header, navigation and routes.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use std::rc::Rc;

use crate::ble::{Backend, Capabilities, provide_backend};
use crate::components::capabilities::CapabilityPanel;
use crate::pages::{AboutPage, DecodePage, DevicesPage, NotFound, ScanPage};
use crate::platform;
use crate::pwa::UpdateBanner;
use crate::state::AppStore;
use crate::state::shelly::{ShellySession, scan_page_sink};
use crate::state::storage::BrowserStorage;
use bluehome_core::profiles::Config;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let capabilities = Capabilities::detect();
    provide_context(capabilities);
    let demo = platform::query_has("demo");
    // The demo keeps its simulated devices out of the user's saved data.
    let store = provide_app_state(choose_backend(demo), !demo);
    store.start_ticker();
    if demo {
        // The simulated radio is always there: start listening at once.
        leptos::task::spawn_local(async move { store.start_scan().await });
    }
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

/// The backend for this page: the simulator with `?demo`, else Web Bluetooth.
fn choose_backend(demo: bool) -> Rc<Backend> {
    if demo {
        return Rc::new(Backend::Mock(crate::ble::demo::demo_backend()));
    }
    #[cfg(target_arch = "wasm32")]
    {
        Rc::new(Backend::Web(crate::ble::web::WebBackend::new()))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Rc::new(Backend::Mock(crate::ble::mock::MockBackend::new()))
    }
}

/// Provides the backend, the store and the Shelly session to everything below (the app does
/// this; tests call it to mount a page over a mock backend). `persist` turns localStorage on for
/// the store. The session lives as long as the app, so a gateway keeps feeding the Scan page
/// after leaving the Devices page.
pub fn provide_app_state(backend: Rc<Backend>, persist: bool) -> AppStore {
    provide_backend(Rc::clone(&backend));
    let store = AppStore::new(Rc::clone(&backend), persist);
    provide_context(store);
    let session = ShellySession::new(backend, Rc::new(BrowserStorage), Config::default());
    session.set_remote_sink(Some(scan_page_sink(store)));
    provide_context(session);
    store
}
