//! Native: the demo backend (core simulator) drives the app's own store — its subscription to the
//! backend, its ticker step, its model and the core manager under it — on a simulated clock.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::Cell;
use std::rc::Rc;

use bluehome::ble::Backend;
use bluehome::ble::demo::demo_backend;
use bluehome::ble::mock::block_on;
use bluehome::state::AppStore;
use bluehome::state::model::KeyEntry;
use bluehome::state::store::FRAME_MS;
use bluehome_core::sim::sensors::SIM_KEY;
use bluehome_core::{DeviceKey, DeviceKind, bthome};
use leptos::prelude::GetUntracked;

/// The store over the demo backend, scanning, with the clock at 0.
struct Demo {
    store: AppStore,
    clock: Rc<Cell<u64>>,
}

impl Demo {
    fn start() -> Self {
        let backend = Rc::new(Backend::Mock(demo_backend()));
        let clock = Rc::new(Cell::new(0));
        let time = Rc::clone(&clock);
        let store = AppStore::with_clock(backend, false, Rc::new(move || time.get()));
        block_on(store.start_scan());
        assert!(store.status.get_untracked().scanning, "the demo scan runs");
        Self { store, clock }
    }

    /// Runs the store's ticker for `ms` of simulated time, one frame at a time.
    fn run(&self, ms: u64) {
        let end = self.clock.get() + ms;
        while self.clock.get() < end {
            self.clock.set(self.clock.get() + FRAME_MS);
            self.store.tick(self.clock.get());
        }
    }
}

#[test]
fn the_demo_fleet_appears_with_kinds_and_readings() {
    let demo = Demo::start();
    demo.run(20_000);
    demo.store
        .model_untracked(|model| {
            // The gateway, its eight sensors, and the BLU Motion and Improv device of "Set up a
            // device".
            assert_eq!(model.device_count(), 11);
            let blu = model
                .devices()
                .filter(|d| matches!(d.kind, DeviceKind::ShellyBlu(_)))
                .count();
            assert!(blu >= 5, "{blu} Shelly BLU devices");
            let thermometers: Vec<_> = model
                .devices()
                .filter(|d| d.kind == DeviceKind::BthomeV2)
                .collect();
            assert_eq!(
                thermometers.len(),
                2,
                "the plain and the encrypted generic thermometer"
            );
            let plain = thermometers.iter().find(|d| !d.encrypted).unwrap();
            assert!(plain.readings.values().any(|r| r.name == "temperature"));
            assert!(!model.timeline.is_empty(), "buttons pressed during the run");
        })
        .unwrap();
    // The ticker refreshed the views on the simulated clock (the page's clock moves on at least
    // once a second).
    assert!(demo.store.revision.get_untracked() > 0);
    let now = demo.store.now.get_untracked();
    assert!((19_000..=20_000).contains(&now), "{now}");
}

#[test]
fn encrypted_demo_sensors_decode_once_the_sim_key_is_entered() {
    let demo = Demo::start();
    demo.run(20_000);
    let encrypted: Vec<DeviceKey> = demo
        .store
        .model_untracked(|m| {
            m.devices()
                .filter(|d| d.encrypted)
                .map(|d| d.key.clone())
                .collect()
        })
        .unwrap();
    assert_eq!(encrypted.len(), 2, "{encrypted:?}");
    demo.store.model_untracked(|model| {
        for key in &encrypted {
            let device = model.device(key).unwrap();
            assert_eq!(
                device.problem.map(|p| p.error().clone()),
                Some(bthome::Error::MissingKey)
            );
            assert!(device.readings.is_empty());
        }
    });
    for key in &encrypted {
        demo.store.set_key(
            key,
            Some(KeyEntry {
                bindkey: SIM_KEY,
                mac: None,
            }),
        );
    }
    demo.run(20_000);
    demo.store.model_untracked(|model| {
        for key in &encrypted {
            let device = model.device(key).unwrap();
            assert_eq!(device.problem, None, "{key}");
            assert!(!device.readings.is_empty(), "{key}");
        }
    });
}
