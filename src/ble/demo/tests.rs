//! The demo's devices as the mock backend serves them.

use super::*;
use crate::ble::mock::{ChooserAnswer, block_on};
use crate::ble::{BleBackend, BleEvent, LeScanOptions, RequestDeviceOptions, event_log};
use bluehome_core::sim::blu::PAIRING_HOLD_MS;

#[test]
fn demo_sensors_advertise_while_scanning() {
    let backend = demo_backend();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&seen);
    backend.subscribe(Rc::new(move |e: &BleEvent| {
        if let BleEvent::Advertisement { device, .. } = e {
            sink.borrow_mut().push(device.clone());
        }
    }));
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();
    for t in (0..20_000).step_by(250) {
        backend.tick(t);
    }
    let mut devices = seen.borrow().clone();
    devices.sort();
    devices.dedup();
    // The gateway, all eight sensors, the BLU Motion and the Improv device.
    assert_eq!(devices.len(), 11, "{devices:?}");
}

#[test]
fn the_gateway_answers_an_rpc_frame_over_gatt() {
    let backend = demo_backend();
    backend.tick(1_000);
    let options = RequestDeviceOptions::shelly(rpc::SERVICE_UUID);
    let device = block_on(backend.request_device(&options)).unwrap();
    block_on(backend.connect(&device.id)).unwrap();
    let request = br#"{"id":1,"src":"test","method":"Shelly.GetDeviceInfo"}"#;
    let tx = Characteristic {
        service: rpc::SERVICE_UUID,
        uuid: rpc::TX_CTL_UUID,
    };
    let data = Characteristic {
        uuid: rpc::DATA_UUID,
        ..tx
    };
    let rx = Characteristic {
        uuid: rpc::RX_CTL_UUID,
        ..tx
    };
    let len = (request.len() as u32).to_be_bytes();
    block_on(backend.write(&device.id, tx, &len, Default::default())).unwrap();
    block_on(backend.write(&device.id, data, request, Default::default())).unwrap();
    let answer_len = block_on(backend.read(&device.id, rx)).unwrap();
    let want = u32::from_be_bytes(answer_len.try_into().unwrap()) as usize;
    let mut body = Vec::new();
    while body.len() < want {
        body.extend(block_on(backend.read(&device.id, data)).unwrap());
    }
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("\"id\":1"), "{text}");
    assert!(text.contains("shellyblugwg3"), "{text}");
}

/// A device's packets from one poll of a source, at the poll's time.
type Announcement = (u64, DeviceId, Vec<Advertisement>);

/// What a source announces over `until_ms`, polled every 100 ms.
fn announcements(source: &mut dyn AdvertisementSource, until_ms: u64) -> Vec<Announcement> {
    let mut out: Vec<Announcement> = Vec::new();
    for now in (0..=until_ms).step_by(100) {
        for (id, packet) in source.poll(now) {
            match out.last_mut() {
                Some((at, last, packets)) if *at == now && *last == id => packets.push(packet),
                _ => out.push((now, id, vec![packet])),
            }
        }
    }
    out
}

/// The times `id` was announced with packets unlike the announcement before.
fn changes(announced: &[Announcement], id: &DeviceId) -> Vec<u64> {
    let mut last: Option<&Vec<Advertisement>> = None;
    let mut times = Vec::new();
    for (at, _, packets) in announced.iter().filter(|(_, d, _)| d == id) {
        if last != Some(packets) {
            times.push(*at);
        }
        last = Some(packets);
    }
    times
}

/// A source's repeat rule: what changed is announced at the next poll, the same packets again
/// after 3 s, never sooner, and no device is silent for longer.
fn assert_repeat_rule(announced: &[Announcement], id: &DeviceId) {
    let mine: Vec<_> = announced.iter().filter(|(_, d, _)| d == id).collect();
    assert!(!mine.is_empty(), "{id} announced");
    for pair in mine.windows(2) {
        let ((before, _, old), (after, _, new)) = (pair[0], pair[1]);
        let gap = after - before;
        assert!(
            gap <= REPEAT_MS + 100,
            "{id} silent for {gap} ms after {before}"
        );
        if old == new {
            assert!(gap >= REPEAT_MS, "{id} repeated after {gap} ms at {after}");
        }
    }
}

#[test]
fn each_demo_sensor_advertises_at_its_own_pace() {
    let peripheral = demo_peripheral();
    let macs: Vec<MacAddress> = peripheral
        .borrow()
        .gateway()
        .sensors()
        .iter()
        .map(|s| s.mac())
        .collect();
    assert_eq!(macs.len(), 8, "the demo fleet");
    let announced = announcements(&mut PeripheralSource::new(peripheral), 30_000);
    for (i, mac) in macs.into_iter().enumerate() {
        let id = device_id(mac);
        assert_repeat_rule(&announced, &id);
        // Every 2 s, then 0.7 s slower for each next sensor: each new reading is announced at
        // the poll after it.
        let pace = 2_000 + 700 * i as u64;
        let times = changes(&announced, &id);
        assert!(times.len() >= 3, "sensor {i}: {times:?}");
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap.abs_diff(pace) <= 100,
                "sensor {i}: {gap} ms, not {pace}: {times:?}"
            );
        }
    }
}

#[test]
fn the_demo_gateway_repeats_its_unchanged_advertisement_every_3_s() {
    let peripheral = demo_peripheral();
    let gateway = device_id(peripheral.borrow().gateway().mac());
    let announced = announcements(&mut PeripheralSource::new(peripheral), 20_000);
    assert_repeat_rule(&announced, &gateway);
    let times: Vec<u64> = announced
        .iter()
        .filter(|(_, d, _)| *d == gateway)
        .map(|(at, _, _)| *at)
        .collect();
    assert!(times.len() >= 6, "{times:?}");
}

#[test]
fn an_improv_device_is_announced_when_its_state_changes_and_every_3_s() {
    let device = improv_device(ImprovOptions::default());
    let mut source = ImprovSource {
        device: Rc::clone(&device),
        id: DeviceId::from("improv"),
        last: None,
    };
    let id = DeviceId::from("improv");
    let quiet = announcements(&mut source, 10_000);
    assert_repeat_rule(&quiet, &id);
    // Repeated while unchanged: at least every 3 s.
    assert!(quiet.len() >= 4, "{quiet:?}");
    // Pressing its button authorizes it: the very next poll says so.
    device.borrow_mut().press(10_050);
    let next = source.poll(10_100);
    assert_eq!(
        next.len(),
        2,
        "advertising data and scan response: {next:?}"
    );
    assert_ne!(
        Some(&next.into_iter().map(|(_, p)| p).collect::<Vec<_>>()),
        quiet.last().map(|(_, _, p)| p),
        "the authorized state's packets"
    );
}

/// Scans on the demo backend for `ms`, one tick every 100 ms; returns what was heard.
fn scan_demo(backend: &MockBackend, ms: u64) -> Rc<RefCell<Vec<BleEvent>>> {
    let events = event_log(backend);
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();
    for now in (0..=ms).step_by(100) {
        backend.tick(now);
    }
    events
}

/// The id of the demo's connectable device with this name, as the set-up chooser lists it.
fn connectable(backend: &MockBackend, name: &str) -> DeviceId {
    let all = backend.offered(&chooser());
    let device = all.iter().find(|d| d.name.as_deref() == Some(name));
    device
        .unwrap_or_else(|| panic!("{name} in {all:?}"))
        .id
        .clone()
}

#[test]
fn the_demo_chooser_lists_the_gateway_before_the_blu_and_improv_devices() {
    let backend = demo_backend();
    scan_demo(&backend, 5_000);
    let offered: Vec<(DeviceId, Option<String>)> = backend
        .offered(&chooser())
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let gateway = device_id(demo_peripheral().borrow().gateway().mac());
    // Connectable devices first, in the order of their addresses (the gateway's first), the
    // sensors after them.
    let next: Vec<_> = offered[1..3]
        .iter()
        .map(|(_, name)| name.as_deref())
        .collect();
    assert_eq!(next, [Some(blu::MODELS[3].code()), Some("improv-sim")]);
    assert_eq!(offered[0].0, gateway);
    // A chooser for Shelly devices takes the first match: the gateway.
    let chosen = block_on(backend.request_device(&RequestDeviceOptions::shelly(rpc::SERVICE_UUID)));
    assert_eq!(chosen.unwrap().id, gateway);
}

#[test]
fn the_demo_motion_sensor_was_paired_before_and_beacons_every_3_s() {
    let backend = demo_backend();
    let code = blu::MODELS[3].code();
    let events = scan_demo(&backend, 20_000);
    let motion = connectable(&backend, code);
    // Its readings' packets (the scan response repeats the name and MAC).
    let mut beacons: Vec<Vec<u8>> = events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            BleEvent::Advertisement {
                device,
                advertisement: adv,
            } if *device == motion => adv.service_data.get(&Uuid::BTHOME_V2).cloned(),
            _ => None,
        })
        .collect();
    beacons.dedup();
    assert!(
        (6..=7).contains(&beacons.len()),
        "{} in 20 s",
        beacons.len()
    );
    // Bonded with this browser: it connects outside pairing mode and reads what needs the bond.
    backend.set_chooser(ChooserAnswer::Device(motion.clone()));
    block_on(backend.request_device(&chooser())).unwrap();
    block_on(backend.connect(&motion)).unwrap();
    let key = blu_char(blu::Characteristic::EncryptionKey);
    assert_eq!(block_on(backend.read(&motion, key)).unwrap().len(), 16);
}

#[test]
fn the_demo_improv_device_is_authorized_from_the_start() {
    let backend = demo_backend();
    scan_demo(&backend, 5_000);
    let device = connectable(&backend, "improv-sim");
    backend.set_chooser(ChooserAnswer::Device(device.clone()));
    block_on(backend.request_device(&chooser())).unwrap();
    block_on(backend.connect(&device)).unwrap();
    let state = Characteristic {
        service: improv::SERVICE_UUID,
        uuid: improv::Characteristic::State.uuid(),
    };
    let read = block_on(backend.read(&device, state)).unwrap();
    assert_eq!(read, [u8::from(improv::State::Authorized)]);
}

/// The set-up flow's chooser: Shelly devices and Improv, with the Shelly RPC, BLU and Improv
/// services granted.
fn chooser() -> RequestDeviceOptions {
    crate::state::setup::SetupSession::chooser_options()
}

/// A BLU characteristic where the device has it.
fn blu_char(c: blu::Characteristic) -> Characteristic {
    Characteristic {
        service: c.info().service,
        uuid: c.uuid(),
    }
}

/// A mock backend on `platform` with one Shelly BLU device, chosen in the set-up flow's chooser
/// at 1 s.
fn chosen_blu(platform: Platform, options: BluOptions) -> (MockBackend, SharedBlu, DeviceId) {
    let backend = MockBackend::new();
    backend.set_platform(platform);
    backend.set_needs_user_gesture(false);
    let device = blu_device(BluDevice::new(options));
    let id = add_blu(&backend, &device);
    backend.tick(1_000);
    backend.set_chooser(ChooserAnswer::Device(id.clone()));
    block_on(backend.request_device(&chooser())).unwrap();
    (backend, device, id)
}

/// A Shelly BLU Motion in beacon mode (so that the chooser sees it).
fn motion() -> BluOptions {
    BluOptions {
        beacon: true,
        ..BluOptions::new(&blu::MODELS[3])
    }
}

/// A Motion bonded with this browser.
fn bonded() -> BluOptions {
    BluOptions {
        bonds: vec![CLIENT.to_owned()],
        ..motion()
    }
}

#[test]
fn a_blu_device_takes_a_browser_it_has_not_bonded_only_in_pairing_mode() {
    let (backend, device, id) = chosen_blu(Platform::MacOs, motion());
    let refused = block_on(backend.connect(&id)).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Gatt);
    assert_eq!(refused.message, "NetworkError: Connection attempt failed.");
    assert_eq!(device.borrow().client(), None);
    device.borrow_mut().press(PAIRING_HOLD_MS, 1_000);
    assert_link_heard(&backend, &id, || {
        device.borrow().client().map(str::to_owned)
    });
}

#[test]
fn a_blu_device_lists_each_service_s_own_characteristics() {
    let (backend, _, id) = chosen_blu(Platform::MacOs, bonded());
    block_on(backend.connect(&id)).unwrap();
    let info = block_on(backend.characteristics(&id, blu::DEVICE_INFORMATION_SERVICE)).unwrap();
    assert_eq!(info, [blu::Characteristic::FirmwareRevision.uuid()]);
    let settings = block_on(backend.characteristics(&id, blu::SETTINGS_SERVICE)).unwrap();
    assert!(settings.contains(&blu::Characteristic::MotionSensitivity.uuid()));
    assert!(!settings.contains(&blu::Characteristic::FirmwareRevision.uuid()));
    let other = block_on(backend.characteristics(&id, improv::SERVICE_UUID)).unwrap_err();
    assert_eq!(other.kind, ErrorKind::NotFound, "{other:?}");
}

#[test]
fn a_blu_device_reads_and_writes_its_settings_and_refuses_bad_values() {
    let (backend, device, id) = chosen_blu(Platform::MacOs, bonded());
    block_on(backend.connect(&id)).unwrap();
    let firmware = blu_char(blu::Characteristic::FirmwareRevision);
    assert_eq!(block_on(backend.read(&id, firmware)).unwrap(), b"1.0.23");
    let sensitivity = blu_char(blu::Characteristic::MotionSensitivity);
    block_on(backend.write(&id, sensitivity, &[2], Default::default())).unwrap();
    assert_eq!(block_on(backend.read(&id, sensitivity)).unwrap(), [2]);
    let refused = block_on(backend.write(&id, sensitivity, &[9], Default::default()));
    assert!(refused.is_err(), "sensitivity 9");
    assert_eq!(block_on(backend.read(&id, sensitivity)).unwrap(), [2]);
    // A settings characteristic looked for in the other service is not there.
    let misplaced = Characteristic {
        service: blu::DEVICE_INFORMATION_SERVICE,
        ..sensitivity
    };
    let missing = block_on(backend.read(&id, misplaced)).unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing:?}");
    assert!(backend.is_connected(&id), "reads and writes keep the link");
    // A factory reset drops the link, and Chrome sees it go.
    let reset = blu_char(blu::Characteristic::FactoryReset);
    block_on(backend.write(&id, reset, &[1], Default::default())).unwrap();
    assert!(!backend.is_connected(&id));
    assert_eq!(device.borrow().bonds().count(), 0);
}

#[test]
fn pairing_on_demand_with_a_blu_device_depends_on_its_pin_and_the_system() {
    // Firmware before 1.0.23 asks for its passkey as the pairing PIN: Windows can pair it,
    // Linux cancels; without a passkey it pairs "Just Works", which Windows fails.
    for (platform, passkey, paired) in [
        (Platform::Windows, true, true),
        (Platform::Windows, false, false),
        (Platform::Linux, true, false),
        (Platform::Linux, false, true),
    ] {
        let (backend, device, id) = chosen_blu(
            platform,
            BluOptions {
                firmware: "1.0.22".into(),
                passkey: passkey.then(|| blu::Passkey::new(123_456).unwrap()),
                ..motion()
            },
        );
        device.borrow_mut().press(PAIRING_HOLD_MS, 1_000);
        block_on(backend.connect(&id)).unwrap();
        let key = blu_char(blu::Characteristic::EncryptionKey);
        let read = block_on(backend.read(&id, key));
        let case = format!("{platform:?}, passkey {passkey}: {read:?}");
        assert_eq!(read.is_ok(), paired, "{case}");
        assert_eq!(
            device.borrow().bonds().count(),
            usize::from(paired),
            "{case}"
        );
    }
}

#[test]
fn a_set_up_gateway_pairs_on_demand_and_hears_the_link_end() {
    use bluehome_core::shelly::frame::Frame;
    use bluehome_core::shelly::methods::ble::Provisioning;
    // Set up (provisioning `complete`), with its pairing window open: it wants a bonded link,
    // which macOS makes on demand.
    let options = GatewayOptions {
        provisioning: Provisioning::Complete,
        ..GatewayOptions::default()
    };
    let mut gateway = Gateway::new(options, Vec::new());
    let start_pairing = br#"{"id":1,"src":"button","method":"BLE.StartPairing"}"#;
    let Ok(Frame::Request(request)) = Frame::parse(start_pairing) else {
        panic!("a request");
    };
    assert!(gateway.handle(&request, 0).outcome.is_ok());
    let peripheral = Rc::new(RefCell::new(Peripheral::new(
        gateway,
        rpc::server::DEFAULT_MTU,
        Faults::default(),
    )));
    let backend = MockBackend::new();
    backend.set_platform(Platform::MacOs);
    backend.set_needs_user_gesture(false);
    let id = device_id(peripheral.borrow().gateway().mac());
    let peer = GatewayPeer::new(Rc::clone(&peripheral), backend.clock());
    backend.set_gatt_peer(&id, Some("Shelly"), Box::new(peer));
    backend.add_source(Box::new(PeripheralSource::new(Rc::clone(&peripheral))));
    backend.tick(1_000);
    block_on(backend.request_device(&chooser())).unwrap();
    block_on(backend.connect(&id)).unwrap();
    let rx = Characteristic {
        service: rpc::SERVICE_UUID,
        uuid: rpc::RX_CTL_UUID,
    };
    block_on(backend.read(&id, rx)).unwrap();
    assert!(peripheral.borrow().gateway().is_bonded(CLIENT));
    backend.disconnect(&id);
    assert_link_heard(&backend, &id, || {
        peripheral.borrow().client().map(str::to_owned)
    });
}

#[test]
fn an_improv_device_hears_the_link_end() {
    let backend = MockBackend::new();
    backend.set_needs_user_gesture(false);
    let device = improv_device(ImprovOptions::default());
    let id = add_improv(&backend, &device);
    backend.tick(1_000);
    block_on(backend.request_device(&chooser())).unwrap();
    assert_link_heard(&backend, &id, || {
        device.borrow().client().map(str::to_owned)
    });
}

/// Connects to `id`, then disconnects: the simulated device's `client` follows both.
fn assert_link_heard(backend: &MockBackend, id: &DeviceId, client: impl Fn() -> Option<String>) {
    block_on(backend.connect(id)).unwrap();
    assert_eq!(client().as_deref(), Some(CLIENT));
    backend.disconnect(id);
    assert_eq!(client(), None, "the device heard the link end");
}
