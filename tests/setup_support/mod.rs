//! Shared by the set-up browser tests: the Devices and Scan pages mounted together over a strict
//! mock backend (Chrome's rules, Windows by default), with the core's simulated BLU and Improv
//! devices behind it, named by opaque ids as Chrome names devices.
#![allow(dead_code)] // Each test binary uses its own subset.

use std::cell::Cell;
use std::rc::Rc;

use bluehome::app::provide_app_state;
use bluehome::ble::mock::{ChooserAnswer, MockBackend, Platform};
use bluehome::ble::{Backend, DeviceId};
use bluehome::pages::{DevicesPage, ScanPage};
use bluehome::platform::Os;
use bluehome::state::AppStore;
use bluehome::state::setup::{GattOp, SetupSession};
use bluehome::state::shelly::ShellySession;
use leptos::prelude::*;

pub use crate::dom::*;

pub struct World {
    pub host: web_sys::HtmlElement,
    pub store: AppStore,
    pub setup: SetupSession,
    pub shelly: ShellySession,
    /// Whether the Devices page is on the page (the Scan page always is).
    devices_page: RwSignal<bool>,
}

impl World {
    /// Takes the Devices page off the page and puts it back, as going to another page of the app
    /// and back does.
    pub async fn leave_the_devices_page_and_come_back(&self) {
        self.devices_page.set(false);
        tick().await;
        assert_eq!(count(&self.host, ".setup"), 0, "the Devices page left");
        self.devices_page.set(true);
        tick().await;
    }

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

    /// How many GATT writes the page has made so far.
    pub fn writes(&self) -> usize {
        self.gatt_ops()
            .iter()
            .filter(|o| matches!(o, GattOp::Write(_)))
            .count()
    }

    /// Waits for a failure and returns what the page says.
    pub async fn said(&self) -> String {
        until(10, "the failure", || {
            self.setup.failure.get_untracked().is_some()
        })
        .await;
        self.failure()
    }

    /// The failure shown, as "title | advice | detail"; empty when there is none.
    pub fn failure(&self) -> String {
        self.setup
            .failure
            .get_untracked()
            .map(|f| format!("{} | {} | {}", f.title, f.advice, f.detail))
            .unwrap_or_default()
    }
}

/// What mounting gave: the store and the set-up session the app provided.
type Mounted = (AppStore, Option<SetupSession>, ShellySession);

/// Mounts both pages over `mock` (set up by the caller), with the store's ticker running (it
/// drives the mock's clock) and a scan running, as in the app.
pub async fn world(mock: MockBackend) -> World {
    let world = world_without_scan(mock);
    crate::dom::start_scan(&world.host, world.store).await;
    tick().await;
    world
}

/// [`world`] with no scan: as on a desktop Chrome without the experimental flag, where the
/// page can neither scan nor watch (give the mock those capabilities).
pub fn world_without_scan(mock: MockBackend) -> World {
    let slot: Rc<Cell<Option<Mounted>>> = Rc::new(Cell::new(None));
    let out = Rc::clone(&slot);
    let backend = Rc::new(Backend::Mock(mock));
    let devices_page = RwSignal::new(true);
    let host = crate::dom::mount_view(move || {
        let store = provide_app_state(backend, false);
        store.start_ticker();
        out.set(Some((
            store,
            SetupSession::from_context(),
            ShellySession::from_context(),
        )));
        view! { <Show when=move || devices_page.get()><DevicesPage /></Show> <ScanPage /> }
    });
    let (store, setup, shelly) = slot.take().unwrap();
    let setup = setup.expect("the app provides a set-up session");
    World {
        host,
        store,
        setup,
        shelly,
        devices_page,
    }
}
