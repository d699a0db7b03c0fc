//! Shared by the set-up browser tests: the Devices and Scan pages mounted together over a strict
//! mock backend (Chrome's rules, Windows by default), with the core's simulated BLU and Improv
//! devices behind it, named by opaque ids as Chrome names devices.
#![allow(dead_code)] // Each test binary uses its own subset.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use bluehome::app::provide_app_state;
use bluehome::ble::mock::{ChooserAnswer, MockBackend, Platform};
use bluehome::ble::{Backend, DeviceId};
use bluehome::pages::{DevicesPage, ScanPage};
use bluehome::platform::Os;
use bluehome::state::AppStore;
use bluehome::state::setup::{GattOp, SetupSession};
use bluehome::state::shelly::ShellySession;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

pub struct World {
    pub host: web_sys::HtmlElement,
    pub store: AppStore,
    pub setup: SetupSession,
    pub shelly: ShellySession,
}

impl World {
    pub fn backend(&self) -> Rc<Backend> {
        self.store.backend()
    }

    pub fn with_mock<T>(&self, f: impl FnOnce(&MockBackend) -> T) -> T {
        let backend = self.backend();
        f(backend.as_mock().expect("the mock backend"))
    }

    /// The chooser picks `id`; the system is `platform` (for the mock) and `os` (for the page).
    pub fn on(&self, id: &DeviceId, platform: Platform, os: Os) {
        self.with_mock(|m| {
            m.set_chooser(ChooserAnswer::Device(id.clone()));
            m.set_platform(platform);
        });
        self.setup.os.set(os);
    }

    pub fn gatt_ops(&self) -> Vec<GattOp> {
        self.setup.gatt_log.get_untracked()
    }
}

/// What mounting gave: the store and the set-up session the app provided.
type Mounted = (AppStore, Option<SetupSession>, ShellySession);

/// Mounts both pages over `mock` (set up by the caller), with the store's ticker running (it
/// drives the mock's clock) and a scan running, as in the app.
pub async fn world(mock: MockBackend) -> World {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let slot: Rc<Cell<Option<Mounted>>> = Rc::new(Cell::new(None));
    let out = Rc::clone(&slot);
    let backend = Rc::new(Backend::Mock(mock));
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let store = provide_app_state(backend, false);
        store.start_ticker();
        out.set(Some((
            store,
            SetupSession::from_context(),
            ShellySession::from_context(),
        )));
        view! { <DevicesPage /> <ScanPage /> }
    });
    handle.forget();
    let (store, setup, shelly) = slot.take().unwrap();
    let setup = setup.expect("the app provides a set-up session");
    store.start_scan().await;
    tick().await;
    World {
        host,
        store,
        setup,
        shelly,
    }
}

pub async fn tick() {
    gloo_timers::future::sleep(Duration::from_millis(20)).await;
}

pub async fn until(secs: u64, what: &str, check: impl Fn() -> bool) {
    for _ in 0..secs * 50 {
        if check() {
            return;
        }
        tick().await;
    }
    panic!("timed out waiting for {what}");
}

pub fn text(host: &web_sys::HtmlElement, selector: &str) -> String {
    let nodes = host.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .map(|i| nodes.item(i).unwrap().text_content().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn button(host: &web_sys::HtmlElement, label: &str) -> web_sys::HtmlElement {
    let nodes = host.query_selector_all("button").unwrap();
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .map(|n| n.unchecked_into::<web_sys::HtmlElement>())
        .find(|b| b.text_content().unwrap_or_default().trim() == label)
        .unwrap_or_else(|| panic!("no button {label:?} in {}", host.inner_text()))
}

pub fn has_button(host: &web_sys::HtmlElement, label: &str) -> bool {
    let nodes = host.query_selector_all("button").unwrap();
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .any(|b| b.text_content().unwrap_or_default().trim() == label)
}

pub fn click(host: &web_sys::HtmlElement, label: &str) {
    button(host, label).click();
}

/// Types into the input of the field labelled `label`.
pub fn type_into(host: &web_sys::HtmlElement, label: &str, value: &str) {
    let fields = host.query_selector_all("label.field").unwrap();
    let field = (0..fields.length())
        .filter_map(|i| fields.item(i))
        .map(|n| n.unchecked_into::<web_sys::Element>())
        .find(|f| {
            f.query_selector("span")
                .unwrap()
                .and_then(|s| s.text_content())
                .as_deref()
                == Some(label)
        })
        .unwrap_or_else(|| panic!("no field {label:?}"));
    let input: web_sys::HtmlInputElement = field
        .query_selector("input")
        .unwrap()
        .unwrap()
        .unchecked_into();
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// Submits the form that holds the field labelled `label` (by its submit button `submit`).
pub fn submit(host: &web_sys::HtmlElement, submit: &str) {
    click(host, submit);
}
