//! Native: the demo backend (core simulator) drives the scan model through the core manager.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::rc::Rc;

use bluehome::ble::demo::demo_backend;
use bluehome::ble::mock::block_on;
use bluehome::ble::{BleBackend, BleEvent, LeScanOptions};
use bluehome::state::model::{DeviceKind, KeyEntry, ScanModel};
use bluehome_core::sim::sensors::SIM_KEY;

/// Runs the demo for `ms` of simulated time, feeding every advertisement into the model.
fn run(
    model: &Rc<RefCell<ScanModel>>,
    backend: &bluehome::ble::mock::MockBackend,
    from: u64,
    ms: u64,
) {
    for t in (from..from + ms).step_by(250) {
        backend.tick(t);
        model.borrow_mut().advance(t);
    }
}

fn subscribe(backend: &bluehome::ble::mock::MockBackend) -> Rc<RefCell<ScanModel>> {
    let model = Rc::new(RefCell::new(ScanModel::new()));
    let sink = Rc::clone(&model);
    let clock = backend.clock();
    backend.subscribe(Rc::new(move |event: &BleEvent| {
        if let BleEvent::Advertisement {
            device,
            advertisement,
        } = event
        {
            sink.borrow_mut().ingest(
                clock.get(),
                "local",
                device.as_str(),
                true,
                advertisement.clone(),
            );
        }
    }));
    model
}

#[test]
fn the_demo_fleet_appears_with_kinds_and_readings() {
    let backend = demo_backend();
    let model = subscribe(&backend);
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();
    run(&model, &backend, 0, 20_000);
    let model = model.borrow();
    assert_eq!(model.devices.len(), 9);
    let blu = model
        .devices
        .values()
        .filter(|d| matches!(d.kind, DeviceKind::ShellyBlu(_)))
        .count();
    assert!(blu >= 5, "{blu} Shelly BLU devices");
    let thermometers: Vec<_> = model
        .devices
        .values()
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
}

#[test]
fn encrypted_demo_sensors_decode_once_the_sim_key_is_entered() {
    let backend = demo_backend();
    let model = subscribe(&backend);
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();
    run(&model, &backend, 0, 20_000);
    let encrypted: Vec<String> = model
        .borrow()
        .devices
        .values()
        .filter(|d| d.encrypted)
        .map(|d| d.key.clone())
        .collect();
    assert_eq!(encrypted.len(), 2, "{encrypted:?}");
    for key in &encrypted {
        let model = model.borrow();
        let device = &model.devices[key];
        assert_eq!(device.problem.as_ref().map(|p| p.kind), Some("missing_key"));
        assert!(device.readings.is_empty());
    }
    for key in &encrypted {
        model.borrow_mut().set_key(
            key,
            Some(KeyEntry {
                bindkey: SIM_KEY,
                mac: None,
            }),
        );
    }
    run(&model, &backend, 20_000, 20_000);
    let model = model.borrow();
    for key in &encrypted {
        let device = &model.devices[key];
        assert_eq!(device.problem, None, "{key}");
        assert!(!device.readings.is_empty(), "{key}");
    }
}
