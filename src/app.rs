//! The root component: header, navigation and routes.
//!
//! The release build is split into parts (`.ci/release-build`): the shell, the router and the top of
//! the Scan page (its heading, sources and scan button) load first; the store's loading, sources and
//! manager (src/state/store) and the rest of the Scan page (src/pages/scan.rs) follow at once; the
//! Devices page, the Decode page and the demo's simulator each load on first use. A function marked
//! `#[cfg_attr(bluehome_split, lazy(..))]` is one such part: in the split build
//! (`--cfg bluehome_split`) calling it fetches its module first; everywhere else (tests,
//! `trunk serve`) it is a plain `async fn`.

#[cfg(bluehome_split)]
use leptos::lazy;
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, path};

use std::rc::Rc;

use crate::ble::{Backend, Capabilities, provide_backend};
use crate::components::capabilities::CapabilityPanel;
use crate::pages::{AboutPage, NotFound, ScanPage};
use crate::platform;
use crate::pwa::UpdateBanner;
use crate::state::shelly::SessionSlot;
use crate::state::store::{Action, PageClock, act};
use crate::state::{AppStore, use_store};

/// The whole app: with `?demo`, once the simulator has loaded.
#[component]
pub fn App() -> impl IntoView {
    let capabilities = Capabilities::detect();
    provide_context(capabilities);
    if !platform::query_has("demo") {
        return view! { <Shell backend=web_backend() demo=false /> }.into_any();
    }
    let demo = LocalResource::new(demo_backend);
    (move || {
        demo.get()
            .map(|backend| view! { <Shell backend=backend demo=true /> })
    })
    .into_any()
}

/// Header, navigation and pages over one backend.
#[component]
fn Shell(
    /// Web Bluetooth, or the demo's simulator.
    backend: Rc<Backend>,
    /// Demo mode: listen at once, and keep the simulated devices out of the user's saved data.
    demo: bool,
) -> impl IntoView {
    let capabilities = expect_context::<Capabilities>();
    let store = provide_unopened_state(backend, !demo);
    // The store opens as its part arrives; its ticker lives as long as the shell. The demo's
    // simulated radio is always there: it starts listening at once.
    leptos::task::spawn_local_scoped(act(store, Action::Start { scan: demo }));
    // True while the router waits for a page, which may be a part still on its way.
    let (routing, set_routing) = signal(false);
    view! {
        <Router base=router_base() set_is_routing=set_routing>
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
            <main aria-busy=move || routing.get().to_string()>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=ScanPage />
                    <Route path=path!("scan") view=ScanPage />
                    <Route path=path!("devices") view={Lazy::<DevicesRoute>::new()} />
                    <Route path=path!("decode") view={Lazy::<DecodeRoute>::new()} />
                    <Route path=path!("about") view=AboutPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The Devices page with the Shelly session and the device profiles: a part of its own.
#[derive(Debug)]
struct DevicesRoute;

impl LazyRoute for DevicesRoute {
    fn data() -> Self {
        Self
    }

    async fn view(_: Self) -> AnyView {
        devices_page().await
    }
}

#[cfg_attr(bluehome_split, lazy(devices))]
async fn devices_page() -> AnyView {
    // The page uses the saved bind keys and labels: the store is open first.
    act(use_store(), Action::Open).await;
    view! { <crate::pages::DevicesPage /> }.into_any()
}

/// The Decode page: a part of its own.
#[derive(Debug)]
struct DecodeRoute;

impl LazyRoute for DecodeRoute {
    fn data() -> Self {
        Self
    }

    async fn view(_: Self) -> AnyView {
        decode_page().await
    }
}

#[cfg_attr(bluehome_split, lazy(decode))]
async fn decode_page() -> AnyView {
    view! { <crate::pages::DecodePage /> }.into_any()
}

/// The demo's simulated gateway and sensors behind the mock backend: a part of its own.
#[cfg_attr(bluehome_split, lazy(demo))]
async fn demo_backend() -> Rc<Backend> {
    Rc::new(Backend::Mock(crate::ble::demo::demo_backend()))
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

/// Web Bluetooth (outside a browser, where there is none, an empty mock).
fn web_backend() -> Rc<Backend> {
    #[cfg(target_arch = "wasm32")]
    {
        Rc::new(Backend::Web(crate::ble::web::WebBackend::new()))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Rc::new(Backend::Mock(crate::ble::mock::MockBackend::new()))
    }
}

/// Provides the backend, the store and the slot of the Shelly session to everything below (tests
/// call it to mount a page over a mock backend). `persist` turns localStorage on for the store. The
/// session is made when the Devices page first asks for it, and lives as long as the app
/// ([`SessionSlot`]).
pub fn provide_app_state(backend: Rc<Backend>, persist: bool) -> AppStore {
    let store = provide_unopened_state(backend, persist);
    store.open();
    store
}

/// [`provide_app_state`] with the store not yet open (the app opens it through [`act`], so its code
/// stays out of the first module).
pub fn provide_unopened_state(backend: Rc<Backend>, persist: bool) -> AppStore {
    provide_backend(Rc::clone(&backend));
    let store = AppStore::unopened(Rc::clone(&backend), persist, Rc::new(PageClock));
    provide_context(store);
    provide_context(SessionSlot::new(backend, store));
    store
}
