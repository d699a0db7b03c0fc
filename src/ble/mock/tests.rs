use std::cell::RefCell;
use std::rc::Rc;

use bluehome_core::Uuid;
use bluehome_core::filter::DataPrefix;
use bluehome_core::filter::web::{WebFilter, WebManufacturerData};
use bluehome_core::shelly;
use bluehome_core::shelly::rpc::AttError;

use super::*;
use crate::ble::{
    GrantedDevice, RequestDeviceOptions, WriteMode, advertised, event_log, notified_values,
};

struct Echo(Vec<u8>);
impl GattPeer for Echo {
    fn read(&mut self, _: Characteristic) -> Result<Vec<u8>, BleError> {
        Ok(self.0.clone())
    }
    fn write(&mut self, _: Characteristic, value: &[u8]) -> Result<(), BleError> {
        self.0 = value.to_vec();
        Ok(())
    }
    fn characteristics(&mut self, service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
        only_char(service)
    }
}

/// A service that has [`CHAR`] alone, which allows everything.
fn only_char(service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
    if service != CHAR.service {
        return Err(no_service(service));
    }
    let everything = Properties {
        read: true,
        write: true,
        write_without_response: true,
        notify: true,
    };
    Ok(vec![(CHAR.uuid, everything)])
}

const CHAR: Characteristic = Characteristic {
    service: Uuid::BTHOME_V2,
    uuid: Uuid::BTHOME_V1,
};

/// A backend whose page the user has just clicked in: it may open the chooser and the scan
/// prompt for the next five seconds.
fn clicked() -> MockBackend {
    let backend = MockBackend::new();
    backend.user_gesture();
    backend
}

#[test]
fn the_chooser_and_the_scan_prompt_need_a_click_just_before() {
    let backend = MockBackend::new();
    backend.add_device(&DeviceId("a".into()), Some("A"));
    let all = RequestDeviceOptions {
        accept_all_devices: true,
        ..RequestDeviceOptions::default()
    };
    let words = "Must be handling a user gesture to show a permission request.";
    let err = block_on(backend.request_device(&all)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoUserGesture);
    assert_eq!(
        err.message,
        format!("SecurityError: Failed to execute 'requestDevice' on 'Bluetooth': {words}")
    );
    let err = block_on(backend.start_scan(&LeScanOptions::default())).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoUserGesture);
    assert!(err.message.contains("'requestLEScan'"), "{err}");

    // A click lasts five seconds, for as many choosers as the page opens in them.
    backend.tick(1_000);
    backend.user_gesture();
    backend.tick(1_000 + ACTIVATION_LIFESPAN_MS);
    block_on(backend.request_device(&all)).unwrap();
    block_on(backend.request_device(&all)).unwrap();
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();
    backend.stop_scan();
    backend.tick(1_001 + ACTIVATION_LIFESPAN_MS);
    let err = block_on(backend.request_device(&all)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoUserGesture, "{err}");

    // Kinder than Chrome on request (the demo).
    backend.set_needs_user_gesture(false);
    block_on(backend.request_device(&all)).unwrap();
}

#[test]
fn advertisements_flow_only_while_scanning() {
    let backend = clicked();
    let events = event_log(&backend);
    let id = DeviceId::from("a");
    backend.advertise(&id, Advertisement::default());
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();
    backend.advertise(&id, Advertisement::default());
    backend.stop_scan();
    backend.advertise(&id, Advertisement::default());
    let events = events.borrow();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(events[0], BleEvent::Advertisement { .. }));
    assert_eq!(
        events[1],
        BleEvent::ScanStopped {
            reason: ScanEnd::Stopped
        }
    );
}

#[test]
fn connect_needs_a_grant_and_gatt_round_trips() {
    let backend = clicked();
    let id = DeviceId::from("shelly");
    backend.set_gatt_peer(&id, Some("ShellyPlus1"), Box::new(Echo(vec![])));
    assert_eq!(
        block_on(backend.connect(&id)).unwrap_err().kind,
        ErrorKind::NotAllowed
    );
    let opts = RequestDeviceOptions {
        filters: vec![WebFilter {
            name_prefix: Some("Shelly".into()),
            ..Default::default()
        }],
        optional_services: vec![CHAR.service],
        ..Default::default()
    };
    let info = block_on(backend.request_device(&opts)).unwrap();
    assert_eq!(info.id, id);
    block_on(backend.connect(&id)).unwrap();
    block_on(backend.write(&id, CHAR, b"hi", WriteMode::WithResponse)).unwrap();
    assert_eq!(block_on(backend.read(&id, CHAR)).unwrap(), b"hi");
    let too_long = vec![0; 513];
    assert_eq!(
        block_on(backend.write(&id, CHAR, &too_long, WriteMode::WithResponse))
            .unwrap_err()
            .kind,
        ErrorKind::Gatt
    );
}

#[test]
fn a_forgotten_device_is_disconnected_and_needs_the_chooser_again() {
    let backend = clicked();
    let events = event_log(&backend);
    let id = DeviceId::from("shelly");
    backend.set_gatt_peer(&id, Some("Shelly"), Box::new(Echo(vec![])));
    let all = RequestDeviceOptions {
        accept_all_devices: true,
        ..Default::default()
    };
    block_on(backend.request_device(&all)).unwrap();
    let granted = GrantedDevice {
        id: id.clone(),
        name: Some("Shelly".into()),
    };
    assert_eq!(block_on(backend.get_devices()).unwrap(), [granted]);
    block_on(backend.connect(&id)).unwrap();
    block_on(backend.forget(&id)).unwrap();
    assert!(!backend.is_connected(&id));
    assert!(
        events
            .borrow()
            .contains(&BleEvent::Disconnected { device: id.clone() })
    );
    assert_eq!(block_on(backend.get_devices()).unwrap(), vec![]);
    assert_eq!(
        block_on(backend.connect(&id)).unwrap_err().kind,
        ErrorKind::NotAllowed
    );
    block_on(backend.request_device(&all)).unwrap();
    block_on(backend.connect(&id)).unwrap();
}

#[test]
fn dropped_link_emits_disconnected_and_fails_later_reads() {
    let (backend, events, id) = connected("shelly", Box::new(Echo(vec![1])));
    block_on(backend.start_notifications(&id, CHAR)).unwrap();
    backend.notify(&id, CHAR, vec![7]);
    backend.drop_connection(&id);
    backend.notify(&id, CHAR, vec![8]);
    assert_eq!(
        block_on(backend.read(&id, CHAR)).unwrap_err().kind,
        ErrorKind::Disconnected
    );
    let events = events.borrow();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1], BleEvent::Disconnected { device: id });
}

/// Stopped notifications are no longer delivered.
#[test]
fn stopped_notifications_are_not_delivered() {
    let (backend, events, id) = connected("shelly", Box::new(Echo(vec![1])));
    block_on(backend.start_notifications(&id, CHAR)).unwrap();
    backend.notify(&id, CHAR, vec![7]);
    block_on(backend.stop_notifications(&id, CHAR)).unwrap();
    backend.notify(&id, CHAR, vec![8]);
    assert_eq!(notified_values(&events), [vec![7]]);
}

#[test]
fn lost_notifications_start_but_never_arrive() {
    let (backend, events, id) = connected("shelly", Box::new(Echo(vec![1])));
    backend.set_notifications_lost(&id, true);
    block_on(backend.start_notifications(&id, CHAR)).unwrap();
    backend.notify(&id, CHAR, vec![7]);
    assert!(notified_values(&events).is_empty());
    backend.set_notifications_lost(&id, false);
    backend.notify(&id, CHAR, vec![8]);
    assert_eq!(notified_values(&events), [vec![8]]);
}

/// As in Chrome, notifications start only on a characteristic the device has.
#[test]
fn notifications_start_only_on_a_characteristic_the_device_has() {
    let (backend, _, id) = connected("shelly", Box::new(Echo(vec![])));
    let missing = Characteristic {
        service: CHAR.service,
        uuid: Uuid::from_u16(0x2a19),
    };
    let err = block_on(backend.start_notifications(&id, missing)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(
        err.message.contains("No Characteristics matching UUID"),
        "{err}"
    );
    let other_service = Characteristic {
        service: Uuid::from_u16(0x180f),
        ..CHAR
    };
    let err = block_on(backend.start_notifications(&id, other_service)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotAllowed, "not granted: {err}");
    block_on(backend.start_notifications(&id, CHAR)).unwrap();
}

/// Chrome looks at the link before the grant (Blink `bluetooth_remote_gatt_server.cc`), and a
/// service whose characteristics are all hidden or absent is a NotFoundError, not an empty list.
#[test]
fn the_link_is_checked_first_and_a_service_without_characteristics_is_not_found() {
    struct Empty;
    impl GattPeer for Empty {
        fn read(&mut self, _: Characteristic) -> Result<Vec<u8>, BleError> {
            Ok(Vec::new())
        }
        fn write(&mut self, _: Characteristic, _: &[u8]) -> Result<(), BleError> {
            Ok(())
        }
        fn characteristics(&mut self, _: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
            Ok(Vec::new())
        }
    }
    let backend = clicked();
    let id = DeviceId::from("shelly");
    granted(&backend, &id, Box::new(Empty));
    let ungranted = Uuid::from_u16(0x180f);
    let err = block_on(backend.characteristics(&id, ungranted)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Disconnected, "{err}");
    assert!(
        err.message.ends_with("with `device.gatt.connect`."),
        "{err}"
    );
    block_on(backend.connect(&id)).unwrap();
    let err = block_on(backend.characteristics(&id, ungranted)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotAllowed, "{err}");
    let err = block_on(backend.characteristics(&id, CHAR.service)).unwrap_err();
    assert_eq!(
        (err.kind, err.message.as_str()),
        (
            ErrorKind::NotFound,
            "NotFoundError: No Characteristics found in service."
        )
    );
}

/// `peer` as device `id`, picked in a chooser that grants `CHAR`'s service.
/// A backend connected to the device `id` (granted with `peer`), and the log of its events from
/// before the connection.
fn connected(
    id: &str,
    peer: Box<dyn GattPeer>,
) -> (MockBackend, Rc<RefCell<Vec<BleEvent>>>, DeviceId) {
    let backend = clicked();
    let events = event_log(&backend);
    let id = DeviceId::from(id);
    granted(&backend, &id, peer);
    block_on(backend.connect(&id)).unwrap();
    (backend, events, id)
}

fn granted(backend: &MockBackend, id: &DeviceId, peer: Box<dyn GattPeer>) {
    backend.set_gatt_peer(id, Some("Shelly"), peer);
    backend.set_chooser(ChooserAnswer::Device(id.clone()));
    block_on(backend.request_device(&RequestDeviceOptions {
        accept_all_devices: true,
        optional_services: vec![CHAR.service],
        ..Default::default()
    }))
    .unwrap();
}

/// The Shelly RPC service with the properties `rpc-gatts` declares, answering every operation.
struct RpcService;
impl GattPeer for RpcService {
    fn read(&mut self, _: Characteristic) -> Result<Vec<u8>, BleError> {
        Ok(vec![0; 4])
    }
    fn write(&mut self, _: Characteristic, _: &[u8]) -> Result<(), BleError> {
        Ok(())
    }
    fn characteristics(&mut self, service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
        if service != shelly::rpc::SERVICE_UUID {
            return Err(no_service(service));
        }
        Ok(declared::<shelly::rpc::Characteristic>())
    }
}

/// Chrome refuses what a characteristic's properties do not allow before it asks the device
/// (Web Bluetooth: `NotSupportedError`), in the words of its platform layers; the device itself
/// would have answered.
#[test]
fn operations_the_properties_do_not_allow_are_refused_before_the_device_is_asked() {
    let backend = clicked();
    let id = DeviceId::from("shelly");
    backend.set_gatt_peer(&id, Some("Shelly"), Box::new(RpcService));
    backend.set_chooser(ChooserAnswer::Device(id.clone()));
    block_on(backend.request_device(&RequestDeviceOptions {
        accept_all_devices: true,
        optional_services: vec![shelly::rpc::SERVICE_UUID],
        ..Default::default()
    }))
    .unwrap();
    block_on(backend.connect(&id)).unwrap();
    let on = |c: shelly::rpc::Characteristic| Characteristic {
        service: shelly::rpc::SERVICE_UUID,
        uuid: c.uuid(),
    };
    let (data, tx_ctl, rx_ctl) = (
        on(shelly::rpc::Characteristic::Data),
        on(shelly::rpc::Characteristic::TxCtl),
        on(shelly::rpc::Characteristic::RxCtl),
    );
    let not_permitted = (
        ErrorKind::NotPermitted,
        "NotSupportedError: GATT operation not permitted.".to_owned(),
    );
    let refused = |result: Result<(), BleError>| {
        let err = result.unwrap_err();
        (err.kind, err.message)
    };
    // tx_ctl is write only, rx_ctl cannot be written, nothing takes a write without response.
    assert_eq!(
        refused(block_on(backend.read(&id, tx_ctl)).map(drop)),
        not_permitted
    );
    assert_eq!(
        refused(block_on(backend.write(
            &id,
            rx_ctl,
            &[0; 4],
            WriteMode::WithResponse
        ))),
        not_permitted
    );
    assert_eq!(
        refused(block_on(backend.write(
            &id,
            data,
            &[1],
            WriteMode::WithoutResponse
        ))),
        not_permitted
    );
    // Only rx_ctl notifies.
    assert_eq!(
        refused(block_on(backend.start_notifications(&id, data))),
        (
            ErrorKind::Gatt,
            "NotSupportedError: GATT Error: Not supported.".to_owned()
        )
    );
    block_on(backend.start_notifications(&id, rx_ctl)).unwrap();
    block_on(backend.read(&id, rx_ctl)).unwrap();
    block_on(backend.write(&id, tx_ctl, &[0, 0, 0, 1], WriteMode::WithResponse)).unwrap();
    block_on(backend.write(&id, data, &[1], WriteMode::WithResponse)).unwrap();
    block_on(backend.read(&id, data)).unwrap();
}

/// Chrome gives the page only the services a chooser granted (its filters' `services` and its
/// `optionalServices`); a later chooser can grant more.
#[test]
fn only_the_services_a_chooser_granted_are_reachable() {
    let backend = clicked();
    let id = DeviceId::from("shelly");
    backend.set_gatt_peer(&id, Some("Shelly"), Box::new(Echo(vec![1])));
    backend.set_chooser(ChooserAnswer::Device(id.clone()));
    let all = RequestDeviceOptions {
        accept_all_devices: true,
        ..Default::default()
    };
    block_on(backend.request_device(&all)).unwrap();
    block_on(backend.connect(&id)).unwrap();
    let err = block_on(backend.read(&id, CHAR)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotAllowed);
    assert!(err.message.starts_with("SecurityError"), "{err}");
    block_on(backend.request_device(&RequestDeviceOptions {
        optional_services: vec![CHAR.service],
        ..all
    }))
    .unwrap();
    assert_eq!(block_on(backend.read(&id, CHAR)).unwrap(), [1]);
}

/// Polls a future once (a mock GATT operation stops at its yield).
fn poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
    f.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

/// A GATT operation Chrome never settles waits until the device disconnects, which rejects it
/// and lets the next one start.
#[test]
fn a_hanging_operation_is_rejected_by_disconnecting() {
    let (backend, _, id) = connected("shelly", Box::new(Echo(vec![1])));
    backend.set_gatt_hangs(&id, true);
    let mut stuck = std::pin::pin!(backend.read(&id, CHAR));
    for _ in 0..3 {
        assert!(poll_once(stuck.as_mut()).is_pending());
    }
    backend.disconnect(&id);
    match poll_once(stuck.as_mut()) {
        std::task::Poll::Ready(Err(e)) => assert_eq!(e.kind, ErrorKind::Disconnected),
        other => panic!("{other:?}"),
    }
    backend.set_gatt_hangs(&id, false);
    block_on(backend.connect(&id)).unwrap();
    assert_eq!(block_on(backend.read(&id, CHAR)).unwrap(), [1]);
}

/// Chrome runs one GATT operation at a time per device and rejects an overlapping one.
#[test]
fn one_gatt_operation_at_a_time_per_device() {
    let backend = clicked();
    let (a, b) = (DeviceId::from("a"), DeviceId::from("b"));
    granted(&backend, &a, Box::new(Echo(vec![1])));
    granted(&backend, &b, Box::new(Echo(vec![2])));
    block_on(backend.connect(&a)).unwrap();
    block_on(backend.connect(&b)).unwrap();
    let mut first = std::pin::pin!(backend.read(&a, CHAR));
    assert!(poll_once(first.as_mut()).is_pending());
    let err = block_on(backend.read(&a, CHAR)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Busy);
    assert_eq!(
        err.message,
        "NetworkError: GATT operation already in progress."
    );
    assert_eq!(
        block_on(backend.read(&b, CHAR)).unwrap(),
        [2],
        "another device is free"
    );
    assert_eq!(block_on(first).unwrap(), [1]);
    assert_eq!(block_on(backend.read(&a, CHAR)).unwrap(), [1]);
}

/// A connect can pend as long as the device does not answer (macOS). As in Chrome, disconnect()
/// does nothing while nothing is connected: the connect goes on, and settles connected when the
/// device answers at last; a second attempt settles with it, on the same link.
#[test]
fn a_hanging_connect_outlives_disconnect_and_settles_late() {
    let backend = clicked();
    let events = event_log(&backend);
    let id = DeviceId::from("far");
    granted(&backend, &id, Box::new(Echo(vec![])));
    backend.set_connect_hangs(&id, true);
    let mut first = std::pin::pin!(backend.connect(&id));
    for _ in 0..10 {
        assert!(poll_once(first.as_mut()).is_pending());
    }
    assert!(backend.is_connecting(&id));
    backend.disconnect(&id);
    assert!(
        poll_once(first.as_mut()).is_pending(),
        "not ended by disconnect()"
    );
    assert!(events.borrow().is_empty(), "{:?}", events.borrow());
    let mut second = std::pin::pin!(backend.connect(&id));
    assert!(poll_once(second.as_mut()).is_pending());
    backend.set_connect_hangs(&id, false);
    assert!(matches!(
        poll_once(first.as_mut()),
        std::task::Poll::Ready(Ok(()))
    ));
    assert!(matches!(
        poll_once(second.as_mut()),
        std::task::Poll::Ready(Ok(()))
    ));
    assert!(backend.is_connected(&id) && !backend.is_connecting(&id));
}

/// Chooser `services` filters match the UUIDs a device advertises, not its service data.
#[test]
fn chooser_services_filters_need_advertised_uuids() {
    let backend = clicked();
    let id = DeviceId::from("sensor");
    let mut adv = Advertisement::bthome(vec![0x40]);
    backend.advertise(&id, adv.clone());
    let options = RequestDeviceOptions {
        filters: vec![WebFilter {
            services: vec![Uuid::BTHOME_V2],
            ..Default::default()
        }],
        ..Default::default()
    };
    let err = block_on(backend.request_device(&options)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UserCancelled);
    adv.add_service_uuid(Uuid::BTHOME_V2);
    backend.advertise(&id, adv);
    assert_eq!(block_on(backend.request_device(&options)).unwrap().id, id);
}

/// A peer that wants an encrypted link until it is paired, and pairs without a passkey (the
/// default, as Shelly devices do).
struct Guarded {
    paired: Rc<std::cell::Cell<bool>>,
}
impl GattPeer for Guarded {
    fn pair(&mut self) -> Result<(), BleError> {
        self.paired.set(true);
        Ok(())
    }
    fn read(&mut self, _: Characteristic) -> Result<Vec<u8>, BleError> {
        if self.paired.get() {
            Ok(vec![5])
        } else {
            Err(not_paired())
        }
    }
    fn write(&mut self, _: Characteristic, _: &[u8]) -> Result<(), BleError> {
        Ok(())
    }
    fn characteristics(&mut self, service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
        only_char(service)
    }
}

/// [`Guarded`], asking for a passkey when it pairs.
struct AsksPasskey(Guarded);
impl GattPeer for AsksPasskey {
    fn asks_for_passkey(&self) -> bool {
        true
    }
    fn pair(&mut self) -> Result<(), BleError> {
        self.0.pair()
    }
    fn read(&mut self, characteristic: Characteristic) -> Result<Vec<u8>, BleError> {
        self.0.read(characteristic)
    }
    fn write(&mut self, characteristic: Characteristic, value: &[u8]) -> Result<(), BleError> {
        self.0.write(characteristic, value)
    }
    fn characteristics(&mut self, service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
        self.0.characteristics(service)
    }
}

/// Pairing on demand as each system's Chrome does it: Android and macOS pair any device;
/// Chrome on Windows pairs one that asks for a PIN and fails one that pairs without; Chrome on
/// Linux pairs one without a PIN and cancels a passkey request.
#[test]
fn pairing_on_demand_as_each_systems_chrome_does_it() {
    for (platform, asks_for_passkey, refusal) in [
        (
            Platform::Windows,
            false,
            Some("NetworkError: Authentication failed."),
        ),
        (Platform::Windows, true, None),
        (Platform::Linux, false, None),
        (
            Platform::Linux,
            true,
            Some("NetworkError: Authentication canceled."),
        ),
        (Platform::MacOs, false, None),
        (Platform::MacOs, true, None),
        (Platform::Android, false, None),
        (Platform::Android, true, None),
    ] {
        let backend = clicked();
        backend.set_platform(platform);
        let paired = Rc::new(std::cell::Cell::new(false));
        let id = DeviceId::from("shelly");
        let peer = Guarded {
            paired: Rc::clone(&paired),
        };
        let peer: Box<dyn GattPeer> = if asks_for_passkey {
            Box::new(AsksPasskey(peer))
        } else {
            Box::new(peer)
        };
        granted(&backend, &id, peer);
        block_on(backend.connect(&id)).unwrap();
        let read = block_on(backend.read(&id, CHAR));
        let case = format!("{platform:?}, passkey {asks_for_passkey}: {read:?}");
        assert_eq!(paired.get(), refusal.is_none(), "{case}");
        match refusal {
            None => assert_eq!(read.unwrap(), vec![5], "{case}"),
            Some(words) => {
                let error = read.unwrap_err();
                assert_eq!(error.message, words, "{case}");
                assert_eq!(error.kind, ErrorKind::NotPaired, "{case}");
            }
        }
    }
}

/// A peer reporting the link gone (the device restarted) ends in a disconnection.
#[test]
fn a_link_the_device_drops_fires_the_event() {
    struct Gone;
    impl GattPeer for Gone {
        fn read(&mut self, _: Characteristic) -> Result<Vec<u8>, BleError> {
            Err(att_failure(AttError::Disconnected))
        }
        fn write(&mut self, _: Characteristic, _: &[u8]) -> Result<(), BleError> {
            Ok(())
        }
        fn characteristics(&mut self, service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
            only_char(service)
        }
    }
    let (backend, events, id) = connected("gone", Box::new(Gone));
    assert_eq!(
        block_on(backend.read(&id, CHAR)).unwrap_err().kind,
        ErrorKind::Disconnected
    );
    assert!(!backend.is_connected(&id));
    assert_eq!(*events.borrow(), [BleEvent::Disconnected { device: id }]);
}

/// A device that answers, then drops the link (a factory reset restarts it): the operation
/// succeeds and the disconnection follows, as `gattserverdisconnected` does in Chrome.
#[test]
fn a_device_that_drops_the_link_after_answering_is_disconnected() {
    struct Resets(bool);
    impl GattPeer for Resets {
        fn holds_link(&self) -> bool {
            !self.0
        }
        fn read(&mut self, _: Characteristic) -> Result<Vec<u8>, BleError> {
            Ok(vec![1])
        }
        fn write(&mut self, _: Characteristic, _: &[u8]) -> Result<(), BleError> {
            self.0 = true;
            Ok(())
        }
        fn characteristics(&mut self, service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
            only_char(service)
        }
    }
    let (backend, events, id) = connected("resets", Box::new(Resets(false)));
    block_on(backend.read(&id, CHAR)).unwrap();
    assert!(backend.is_connected(&id), "a read keeps the link");
    block_on(backend.write(&id, CHAR, &[1], WriteMode::WithResponse)).unwrap();
    assert!(!backend.is_connected(&id));
    assert_eq!(*events.borrow(), [BleEvent::Disconnected { device: id }]);
}

#[test]
fn cancelled_chooser_is_a_user_cancel() {
    let backend = clicked();
    backend.add_device(&DeviceId::from("x"), Some("x"));
    backend.set_chooser(ChooserAnswer::Cancel);
    let err = block_on(backend.request_device(&RequestDeviceOptions {
        accept_all_devices: true,
        ..Default::default()
    }))
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::UserCancelled);
}

/// A backend with the device "sensor" granted and watched, scanning, and the log of its events
/// from then on.
fn watched_while_scanning() -> (MockBackend, DeviceId, Rc<RefCell<Vec<BleEvent>>>) {
    let backend = clicked();
    let id = DeviceId::from("sensor");
    watched(&backend, &id);
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();
    let events = event_log(&backend);
    (backend, id, events)
}

/// A granted device, watched.
fn watched(backend: &MockBackend, id: &DeviceId) {
    backend.add_device(id, Some("SBHT-003C"));
    backend.set_chooser(ChooserAnswer::Device(id.clone()));
    block_on(backend.request_device(&RequestDeviceOptions {
        accept_all_devices: true,
        ..Default::default()
    }))
    .unwrap();
    block_on(backend.watch_advertisements(id)).unwrap();
}

/// A Shelly BLU H&T advertisement as the core simulator builds it (name, MAC, BTHome data and
/// Shelly manufacturer data in one value).
fn blu() -> Advertisement {
    let mut adv = Advertisement {
        address: Some("3C:2E:F5:5B:00:01".parse().unwrap()),
        name: Some("SBHT-003C".into()),
        rssi: Some(-60),
        ..Advertisement::default()
    };
    adv.service_data
        .insert(Uuid::BTHOME_V2, vec![0x44, 0x02, 0xca, 0x09]);
    adv.manufacturer_data
        .insert(shelly::COMPANY_ID, vec![0x0B, 0x03, 0x00]);
    adv
}

#[test]
fn hiding_the_page_ends_the_scan_and_every_watch_silently() {
    let (backend, id, events) = watched_while_scanning();
    backend.set_page_visible(false);
    assert_eq!(
        *events.borrow(),
        [
            BleEvent::ScanStopped {
                reason: ScanEnd::PageInactive
            },
            BleEvent::PageActivity { active: false }
        ]
    );
    assert!(!backend.is_scanning());
    backend.advertise(&id, blu());
    backend.set_page_visible(true);
    backend.advertise(&id, blu());
    assert!(advertised(&events).is_empty());
    // The stale flag: watching again resolves and re-arms nothing.
    assert!(backend.watching_advertisements(&id));
    block_on(backend.watch_advertisements(&id)).unwrap();
    backend.advertise(&id, blu());
    assert!(advertised(&events).is_empty());
    // Abort, then watch again: re-armed.
    backend.unwatch_advertisements(&id);
    block_on(backend.watch_advertisements(&id)).unwrap();
    backend.advertise(&id, blu());
    assert_eq!(advertised(&events).len(), 1);
    assert_eq!(events.borrow()[2], BleEvent::PageActivity { active: true });
}

#[test]
fn losing_focus_ends_them_too_and_regaining_it_reports_an_active_page() {
    let backend = clicked();
    let id = DeviceId::from("sensor");
    watched(&backend, &id);
    let events = event_log(&backend);
    backend.set_page_focused(false);
    backend.advertise(&id, blu());
    backend.set_page_focused(true);
    assert_eq!(
        *events.borrow(),
        [
            BleEvent::PageActivity { active: false },
            BleEvent::PageActivity { active: true }
        ],
        "no scan ran, so no ScanStopped; nothing delivered"
    );
}

/// Chrome scans and watches only while the page is both shown and focused: regaining one of
/// the two while the other is still lost leaves the page inactive.
#[test]
fn the_page_is_active_again_only_once_shown_and_focused() {
    let backend = clicked();
    let events = event_log(&backend);
    backend.set_page_visible(false);
    backend.set_page_focused(false);
    backend.set_page_focused(true);
    assert_eq!(
        events.borrow().len(),
        1,
        "focused while hidden: still inactive"
    );
    backend.set_page_focused(false);
    backend.set_page_visible(true);
    assert_eq!(
        events.borrow().len(),
        1,
        "shown without focus: still inactive"
    );
    backend.set_page_focused(true);
    assert_eq!(
        *events.borrow(),
        [
            BleEvent::PageActivity { active: false },
            BleEvent::PageActivity { active: true }
        ]
    );
}

#[test]
fn a_watched_and_scanned_device_is_delivered_once() {
    let (backend, id, events) = watched_while_scanning();
    backend.advertise(&id, blu());
    assert_eq!(advertised(&events).len(), 1);
    // Unwatched, it comes from the scan.
    backend.unwatch_advertisements(&id);
    backend.advertise(&id, blu());
    assert_eq!(advertised(&events).len(), 2);
}

#[test]
fn advertisements_never_carry_the_address() {
    let backend = clicked();
    let events = event_log(&backend);
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();
    backend.advertise(&DeviceId::from("a"), blu());
    assert_eq!(advertised(&events)[0].address, None);
}

fn name_prefix_scan(prefix: &str) -> LeScanOptions {
    LeScanOptions {
        filters: vec![WebFilter {
            name_prefix: Some(prefix.into()),
            ..Default::default()
        }],
        accept_all_advertisements: false,
        keep_repeated_devices: true,
    }
}

/// What a scan for names starting "SBHT" reports on `platform` while a Shelly BLU sensor
/// advertises twice.
fn blu_advertising_twice_on(platform: Platform) -> Vec<Advertisement> {
    let backend = clicked();
    backend.set_platform(platform);
    let events = event_log(&backend);
    block_on(backend.start_scan(&name_prefix_scan("SBHT"))).unwrap();
    let id = DeviceId::from("blu");
    backend.advertise_as_sent(&id, blu());
    backend.advertise_as_sent(&id, blu());
    advertised(&events)
}

#[test]
fn on_windows_a_name_filter_drops_the_nameless_data_packet_of_a_blu_sensor() {
    // Windows keeps no name for the data packet, even once the scan response named the device.
    let got = blu_advertising_twice_on(Platform::Windows);
    assert_eq!(got.len(), 2, "{got:?}");
    for event in got {
        assert_eq!(event.name.as_deref(), Some("SBHT-003C"));
        assert!(event.service_data.is_empty(), "only the scan response");
        assert!(event.manufacturer_data.contains_key(&shelly::COMPANY_ID));
    }
}

#[test]
fn elsewhere_every_event_carries_the_name_once_heard() {
    // Nothing is known of the device before its first scan response.
    let got = blu_advertising_twice_on(Platform::MacOs);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[1].name.as_deref(), Some("SBHT-003C"));
    assert!(got[1].service_data.contains_key(&Uuid::BTHOME_V2));
}

#[test]
fn scans_ignore_manufacturer_data_filters() {
    let backend = clicked();
    let events = event_log(&backend);
    let shelly_only = LeScanOptions {
        filters: vec![WebFilter {
            manufacturer_data: vec![WebManufacturerData {
                company: shelly::COMPANY_ID,
                data: DataPrefix::default(),
            }],
            ..Default::default()
        }],
        accept_all_advertisements: false,
        keep_repeated_devices: true,
    };
    block_on(backend.start_scan(&shelly_only)).unwrap();
    backend.advertise(&DeviceId::from("atc"), Advertisement::default());
    assert_eq!(advertised(&events).len(), 1);
}

#[test]
fn without_keep_repeated_devices_a_scan_reports_each_device_once() {
    let backend = clicked();
    let events = event_log(&backend);
    let once = LeScanOptions {
        keep_repeated_devices: false,
        ..LeScanOptions::default()
    };
    block_on(backend.start_scan(&once)).unwrap();
    let id = DeviceId::from("a");
    backend.advertise(&id, blu());
    backend.advertise(&id, blu());
    assert_eq!(advertised(&events).len(), 1);
}

#[test]
fn a_closed_scan_prompt_fails_in_chromes_words() {
    let backend = clicked();
    backend.set_scan_prompt(ScanPrompt::Cancel);
    let err = block_on(backend.start_scan(&LeScanOptions::default())).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UserCancelled);
    assert_eq!(
        err.message,
        "InvalidStateError: User canceled the permission prompt."
    );
    assert!(!backend.is_scanning());
}

/// Without an adapter `getAvailability()` answers false, and the chooser and the scan fail in
/// Chrome's words; with one plugged in again both open.
#[test]
fn without_an_adapter_the_chooser_and_the_scan_fail_in_chromes_words() {
    let backend = clicked();
    backend.add_device(&DeviceId("a".into()), Some("A"));
    let all = RequestDeviceOptions {
        accept_all_devices: true,
        ..RequestDeviceOptions::default()
    };
    assert_eq!(block_on(backend.adapter_available()), Some(true));
    backend.set_adapter_present(false);
    assert_eq!(block_on(backend.adapter_available()), Some(false));
    for err in [
        block_on(backend.request_device(&all)).unwrap_err(),
        block_on(backend.start_scan(&LeScanOptions::default())).unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::AdapterUnavailable);
        assert_eq!(
            err.message,
            "NotFoundError: Bluetooth adapter not available."
        );
    }
    assert!(!backend.is_scanning());
    backend.set_adapter_present(true);
    assert!(block_on(backend.request_device(&all)).is_ok());
    assert!(block_on(backend.start_scan(&LeScanOptions::default())).is_ok());
}

#[test]
fn blu_packets_split_name_and_manufacturer_data_from_the_bthome_data() {
    let sent = Advertisement {
        tx_power: Some(4),
        ..blu()
    };
    let [data, response] = shelly_blu_packets(&sent).unwrap();
    // One radio sends both: each has the device's address, signal and transmit power.
    for packet in [&data, &response] {
        assert_eq!(
            (packet.address, packet.rssi, packet.tx_power),
            (sent.address, Some(-60), Some(4))
        );
    }
    assert_eq!(data.name, None);
    assert!(data.manufacturer_data.is_empty());
    assert!(data.service_data.contains_key(&Uuid::BTHOME_V2));
    assert_eq!(response.name.as_deref(), Some("SBHT-003C"));
    assert!(response.service_data.is_empty());
    assert!(response.manufacturer_data.contains_key(&shelly::COMPANY_ID));
    // Anything else is one packet.
    assert!(shelly_blu_packets(&Advertisement::default()).is_none());
}

/// A watch hands the page only the services and companies its choosers granted (Chromium
/// `WatchAdvertisementsClient::SendEvent`); a scan's results are not cut down.
#[test]
fn a_watch_shows_only_what_the_page_was_granted() {
    let backend = clicked();
    let (watched, scanned) = (DeviceId::from("watched"), DeviceId::from("scanned"));
    backend.add_device(&watched, Some("SBHT-003C"));
    backend.set_chooser(ChooserAnswer::Device(watched.clone()));
    block_on(backend.request_device(&RequestDeviceOptions::bthome_sensors())).unwrap();
    block_on(backend.watch_advertisements(&watched)).unwrap();
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();
    let events = event_log(&backend);
    let mut sent = blu();
    sent.add_service_uuid(Uuid::from_u16(0x180F));
    sent.service_data.insert(Uuid::from_u16(0x180F), vec![0x64]);
    sent.manufacturer_data.insert(0x004C, vec![0x02, 0x15]);
    backend.advertise(&watched, sent.clone());
    backend.advertise(&scanned, sent.clone());
    let [from_watch, from_scan] = advertised(&events).try_into().unwrap();
    assert_eq!(from_watch.service_uuids, []);
    assert_eq!(
        from_watch.service_data.keys().collect::<Vec<_>>(),
        [&Uuid::BTHOME_V2]
    );
    assert_eq!(
        from_watch.manufacturer_data.keys().collect::<Vec<_>>(),
        [&shelly::COMPANY_ID]
    );
    assert_eq!(from_scan.service_data, sent.service_data);
    assert_eq!(from_scan.manufacturer_data, sent.manufacturer_data);
    assert_eq!(from_scan.service_uuids, sent.service_uuids);
}

/// The mock refuses what Blink refuses in `requestDevice` and `requestLEScan` options, in
/// Chrome's words (`bluetooth.cc`, `CanonicalizeFilter`).
#[test]
fn options_chrome_refuses_are_refused() {
    use super::chrome::{check_request_device, check_scan};
    let named = |name: &str| WebFilter {
        name: Some(name.to_owned()),
        ..WebFilter::default()
    };
    let shelly = |data: DataPrefix| WebManufacturerData {
        company: shelly::COMPANY_ID,
        data,
    };
    let refused = [
        (
            RequestDeviceOptions::default(),
            "'filters' member must be non-empty to find any devices.",
        ),
        (
            RequestDeviceOptions {
                filters: vec![WebFilter::default()],
                ..Default::default()
            },
            "A filter must restrict the devices in some way.",
        ),
        (
            RequestDeviceOptions {
                filters: vec![named(&"x".repeat(249))],
                ..Default::default()
            },
            "A device name can't be longer than 248 bytes.",
        ),
        (
            RequestDeviceOptions {
                filters: vec![WebFilter {
                    name_prefix: Some(String::new()),
                    ..WebFilter::default()
                }],
                ..Default::default()
            },
            "'namePrefix', if present, must be non-empty.",
        ),
        (
            RequestDeviceOptions {
                filters: vec![WebFilter {
                    manufacturer_data: vec![
                        shelly(DataPrefix::default()),
                        shelly(DataPrefix::default()),
                    ],
                    ..WebFilter::default()
                }],
                ..Default::default()
            },
            "'companyIdentifier' must be unique.",
        ),
        (
            RequestDeviceOptions {
                accept_all_devices: true,
                exclusion_filters: vec![named("SBHT-003C")],
                ..Default::default()
            },
            "'filters' member must be present if 'exclusionFilters' is present.",
        ),
    ];
    for (options, words) in refused {
        let err = check_request_device(&options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest);
        assert_eq!(err.message, format!("TypeError: {words}"));
    }
    let none = LeScanOptions {
        accept_all_advertisements: false,
        filters: Vec::new(),
        ..LeScanOptions::default()
    };
    assert_eq!(
        check_scan(&none).unwrap_err().kind,
        ErrorKind::InvalidRequest
    );
    assert_eq!(check_scan(&LeScanOptions::default()), Ok(()));
    // A name of the longest an advertisement holds is fine.
    let longest = RequestDeviceOptions {
        filters: vec![named(&"x".repeat(248))],
        ..Default::default()
    };
    assert_eq!(check_request_device(&longest), Ok(()));
}

/// Every chooser the page opens passes those checks, also for a profile whose imported name is
/// longer than a device can advertise (its name is then left out of the filters).
#[test]
fn the_pages_choosers_pass_chromes_checks() {
    use bluehome_core::shelly::rpc::SERVICE_UUID;
    let mac = "A8:03:2A:B1:23:45".parse().unwrap();
    let long = format!("{}-a8032ab12345", "Kitchen".repeat(40));
    let choosers = [
        RequestDeviceOptions::shelly(SERVICE_UUID),
        RequestDeviceOptions::shelly_device(SERVICE_UUID, mac, "ShellyPlus1-A8032AB12345"),
        RequestDeviceOptions::shelly_device(SERVICE_UUID, mac, &long),
        crate::state::setup::SetupSession::chooser_options(),
        RequestDeviceOptions::bthome_sensors(),
    ];
    for options in &choosers {
        assert_eq!(
            super::chrome::check_request_device(options),
            Ok(()),
            "{options:?}"
        );
    }
    let named = |options: &RequestDeviceOptions| options.filters.iter().any(|f| f.name.is_some());
    assert!(named(&choosers[1]) && !named(&choosers[2]));
}

/// Chrome fires the `characteristicvaluechanged` events of the notifications a device sent before
/// its answer to a read, then resolves the read (Chromium `bluetooth_remote_gatt_characteristic.cc`,
/// `ReadValueCallback`): a state the simulated Improv device reached, and notified, by the time
/// of the read is heard before the read's answer, not at the mock's next tick.
#[test]
fn notifications_sent_before_an_answer_are_heard_before_it() {
    use bluehome_core::improv::{self, Credentials, Request, State};
    use bluehome_core::sim::ImprovOptions;
    let backend = clicked();
    let options = ImprovOptions {
        authorization: false,
        ..ImprovOptions::default()
    };
    let connect_ms = options.connect_ms;
    let home = options.networks[0].clone();
    let device = crate::ble::demo::improv_device(options);
    let id = crate::ble::demo::add_improv(&backend, &device);
    backend.set_chooser(ChooserAnswer::Device(id.clone()));
    block_on(backend.request_device(&RequestDeviceOptions {
        accept_all_devices: true,
        optional_services: vec![improv::SERVICE_UUID],
        ..Default::default()
    }))
    .unwrap();
    block_on(backend.connect(&id)).unwrap();
    let gatt = |c: improv::Characteristic| Characteristic {
        service: improv::SERVICE_UUID,
        uuid: c.uuid(),
    };
    block_on(backend.start_notifications(&id, gatt(improv::Characteristic::State))).unwrap();
    let events = event_log(&backend);
    let states = || notified_values(&events);
    let join = Request::WifiSettings(Credentials::new(home.ssid, home.password).unwrap()).encode();
    block_on(backend.write(
        &id,
        gatt(improv::Characteristic::RpcCommand),
        &join,
        WriteMode::WithResponse,
    ))
    .unwrap();
    assert_eq!(
        states(),
        [[u8::from(State::Provisioning)]],
        "notified in the write"
    );
    // The device joins by the time of the read, which answers the state it is in.
    backend.clock().set(backend.clock().get() + connect_ms);
    let read = block_on(backend.read(&id, gatt(improv::Characteristic::State))).unwrap();
    assert_eq!(read, [u8::from(State::Provisioned)]);
    assert_eq!(
        states(),
        [
            [u8::from(State::Provisioning)],
            [u8::from(State::Provisioned)]
        ],
        "heard by the time the read answered"
    );
}

/// The demo's simulated chooser lists the devices its filters let through, those it can connect
/// to first.
#[test]
fn the_chooser_offers_what_its_filters_let_through_connectable_first() {
    let backend = MockBackend::new();
    let (sensor, plug) = (DeviceId::from("a-sensor"), DeviceId::from("b-plug"));
    backend.add_device(&sensor, Some("Shelly BLU H&T"));
    backend.set_gatt_peer(&plug, Some("ShellyPlus1"), Box::new(Echo(vec![])));
    backend.add_device(&DeviceId::from("c-other"), Some("ATC_1"));
    let shelly = RequestDeviceOptions {
        filters: vec![WebFilter {
            name_prefix: Some("Shelly".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let offered: Vec<DeviceId> = backend.offered(&shelly).into_iter().map(|d| d.id).collect();
    assert_eq!(offered, [plug, sensor]);
}

/// The page sees the capabilities the mock was made with, and no event after it unsubscribes.
#[test]
fn capabilities_and_unsubscribing() {
    let scan_only = Capabilities {
        request_le_scan: true,
        ..Capabilities::default()
    };
    let backend = MockBackend::with_capabilities(scan_only);
    assert_eq!(backend.capabilities(), scan_only);
    backend.user_gesture();
    let missing = block_on(backend.request_device(&RequestDeviceOptions {
        accept_all_devices: true,
        ..Default::default()
    }))
    .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::Unsupported);
    assert_eq!(
        missing.message,
        "requestDevice is not available in this browser"
    );
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();

    let backend = clicked();
    let heard = Rc::new(RefCell::new(0));
    let count = Rc::clone(&heard);
    let subscription = backend.subscribe(Rc::new(move |_: &BleEvent| *count.borrow_mut() += 1));
    block_on(backend.start_scan(&LeScanOptions::default())).unwrap();
    backend.advertise(&DeviceId::from("blu"), blu());
    assert_eq!(*heard.borrow(), 1);
    backend.unsubscribe(subscription);
    backend.advertise(&DeviceId::from("blu"), blu());
    assert_eq!(*heard.borrow(), 1);
}

/// A peer that only reads and writes: it has no services Chrome can find.
struct Bare;
impl GattPeer for Bare {
    fn read(&mut self, _: Characteristic) -> Result<Vec<u8>, BleError> {
        Ok(vec![1])
    }
    fn write(&mut self, _: Characteristic, _: &[u8]) -> Result<(), BleError> {
        Ok(())
    }
}

/// A peer declares no service unless it says which: Chrome's answer names the service.
#[test]
fn a_peer_has_no_service_by_default() {
    let (backend, _, id) = connected("bare", Box::new(Bare));
    let error = block_on(backend.read(&id, CHAR)).unwrap_err();
    assert_eq!(error, no_service(CHAR.service));
}

#[test]
fn what_a_test_reads_off_the_mock_follows_the_pages_calls() {
    let backend = clicked();
    let id = DeviceId::from("sensor");
    assert!(!backend.watching_advertisements(&id), "never watched");
    watched(&backend, &id);
    assert!(backend.watching_advertisements(&id));
    backend.unwatch_advertisements(&id);
    assert!(!backend.watching_advertisements(&id), "aborted");

    assert_eq!(backend.scan_options(), None);
    let asked = name_prefix_scan("SBHT");
    block_on(backend.start_scan(&asked)).unwrap();
    assert_eq!(backend.scan_options(), Some(asked));
    assert_eq!(
        format!("{backend:?}"),
        "MockBackend { devices: 1, scanning: true }"
    );
    backend.stop_scan();
    assert_eq!(backend.scan_options(), None);

    backend.tick(1_234);
    assert_eq!(backend.now_ms(), 1_234);
    assert_eq!(backend.clock().get(), 1_234);
}
