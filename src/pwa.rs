//! The installable, offline app: registers the service worker that the release build installs at the
//! app's root (`sw.js`), and tells the page when a new version is waiting.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState};

use crate::components::live::{Live, LiveRegion};

/// The message `sw.js` answers by activating the waiting worker.
const ACTIVATE: &str = "activate-new-version";

/// The page's service-worker container, where this browser and context have one.
fn container() -> Option<ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    let value = js_sys::Reflect::get(&navigator, &"serviceWorker".into()).ok()?;
    value.dyn_into().ok()
}

/// Registers `sw.js` (release builds only) and sets `update_ready` when a new version is waiting.
pub fn register(update_ready: WriteSignal<bool>) {
    if cfg!(debug_assertions) {
        return; // `trunk serve` rebuilds constantly; offline caching would only get in the way.
    }
    let Some(workers) = container() else { return };
    spawn_local(async move {
        let registration = match JsFuture::from(workers.register("sw.js")).await {
            Ok(registration) => registration.unchecked_into::<ServiceWorkerRegistration>(),
            Err(error) => {
                leptos::logging::warn!("service worker not registered: {error:?}");
                return;
            }
        };
        // An update counts only when a worker already controls this page (not on the first visit).
        let controlled = move || container().is_some_and(|c| c.controller().is_some());
        if registration.waiting().is_some() && controlled() {
            update_ready.set(true);
        }
        let watched = registration.clone();
        let on_update_found = Closure::<dyn FnMut()>::new(move || {
            let Some(installing) = watched.installing() else {
                return;
            };
            let worker = installing.clone();
            let on_state_change = Closure::<dyn FnMut()>::new(move || {
                if worker.state() == ServiceWorkerState::Installed && controlled() {
                    update_ready.set(true);
                }
            });
            installing.set_onstatechange(Some(on_state_change.as_ref().unchecked_ref()));
            on_state_change.forget(); // lives as long as the worker it watches
        });
        registration.set_onupdatefound(Some(on_update_found.as_ref().unchecked_ref()));
        on_update_found.forget(); // lives as long as the page
    });
}

/// Activates the waiting version and reloads the page once it has taken over.
pub fn activate_new_version() {
    let Some(workers) = container() else { return };
    let on_controller_change = Closure::<dyn FnMut()>::new(|| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    workers.set_oncontrollerchange(Some(on_controller_change.as_ref().unchecked_ref()));
    on_controller_change.forget(); // fires once, then the page reloads
    spawn_local(async move {
        let Ok(registration) = JsFuture::from(workers.get_registration()).await else {
            return;
        };
        let Ok(registration) = registration.dyn_into::<ServiceWorkerRegistration>() else {
            return;
        };
        match registration.waiting() {
            Some(waiting) => {
                let _ = waiting.post_message(&ACTIVATE.into());
            }
            // Another window activated it already: this one only needs to reload.
            None => {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().reload();
                }
            }
        }
    });
}

/// A banner shown when a new version of the app is ready (nothing, but its live region, before).
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let (update_ready, set_update_ready) = signal(false);
    register(set_update_ready);
    // On the page before the new version is, so its news is announced; the button stays out of
    // the region (components/live).
    view! {
        <div class="update-banner">
            <LiveRegion kind=Live::Status>
                {move || update_ready.get().then_some("A new version of bluehome is ready. ")}
            </LiveRegion>
            {move || update_ready.get().then(|| view! {
                <button on:click=|_| activate_new_version()>"Reload to update"</button>
            })}
        </div>
    }
}
