//! The web backend's advertisement handling, in headless Chromium, against a stand-in for what the
//! browser cannot give a test: a device, an allowed scan prompt, and advertisements.
//!
//! `navigator.bluetooth` is the real one (with the experimental flag); only its `getDevices` and
//! `requestLEScan` are replaced on the page's instance. The device is an `EventTarget` whose
//! `watchAdvertisements` behaves as Chrome's: it settles when the test says, and rejects with an
//! `AbortError` once its signal aborts. Advertisement events are real `Event`s dressed as
//! `BluetoothAdvertisingEvent`s (the real constructor refuses a stand-in device), dispatched where
//! Chrome dispatches them: scan results on `navigator.bluetooth`, watch results on the device.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bluehome::ble::web::WebBackend;
use bluehome::ble::{
    BleBackend, BleError, BleEvent, DeviceId, LeScanOptions, ScanEnd, advertised, event_log,
    notified_values,
};
use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Installs the stand-in for a device called `id`; returns its handles (see `STAND_IN`).
const STAND_IN: &str = r#"
const bluetooth = navigator.bluetooth;
const device = new EventTarget();
Object.assign(device, { id, name: 'SBHT-003C', gatt: null, signals: [], settle: [], drop: [] });
device.watchAdvertisements = function (options) {
  const signal = options && options.signal;
  this.signals.push(signal);
  return new Promise((resolve, reject) => {
    this.settle.push(resolve);
    this.drop.push(() => reject(new DOMException('The Bluetooth operation was cancelled.', 'AbortError')));
    if (signal) signal.addEventListener('abort', () =>
      reject(new DOMException('The Bluetooth operation was cancelled.', 'AbortError')));
  });
};
bluetooth.getDevices = async () => [device];
bluetooth.requestLEScan = async () => ({ active: true, stop() { this.active = false; } });
const advertise = (target) => {
  const event = new Event('advertisementreceived');
  Object.setPrototypeOf(event, BluetoothAdvertisingEvent.prototype);
  const fields = { device, name: 'SBHT-003C', rssi: -60, txPower: null, appearance: null,
                   uuids: [], manufacturerData: new Map(), serviceData: new Map() };
  for (const [key, value] of Object.entries(fields)) Object.defineProperty(event, key, { value });
  target.dispatchEvent(event);
};
// A GATT server with one characteristic whose reads behave as Chrome's: the value changes, then
// `characteristicvaluechanged` fires for it, then the read resolves. `during` lists values the
// device notifies while a read is under way.
const characteristic = new EventTarget();
Object.setPrototypeOf(characteristic, BluetoothRemoteGATTCharacteristic.prototype);
let value = new DataView(new ArrayBuffer(1));
Object.defineProperty(characteristic, 'value', { get: () => value });
const changed = (byte) => {
  value = new DataView(Uint8Array.of(byte).buffer);
  characteristic.dispatchEvent(new Event('characteristicvaluechanged'));
};
const gatt = { level: 0, during: [] };
characteristic.readValue = async () => {
  for (const byte of gatt.during.splice(0)) changed(byte);
  changed(gatt.level);
  return value;
};
characteristic.startNotifications = async () => characteristic;
characteristic.stopNotifications = async () => characteristic;
const service = { getCharacteristic: async () => characteristic };
const server = { connected: true, device, connect: async () => server, disconnect() {},
                 getPrimaryService: async () => service };
return {
  gatt,
  withGatt: () => { device.gatt = server; },
  notify: (byte) => changed(byte),
  scanResult: () => advertise(bluetooth),
  watchResult: () => advertise(device),
  settle: (i) => device.settle[i](),
  chromeDrops: (i) => device.drop[i](),
  watchCalls: () => device.signals.length,
  aborted: (i) => device.signals[i].aborted,
};
"#;

struct StandIn(JsValue);

impl StandIn {
    fn install(id: &str) -> Self {
        let make = Function::new_with_args("id", STAND_IN);
        Self(make.call1(&JsValue::NULL, &JsValue::from_str(id)).unwrap())
    }

    fn call(&self, name: &str, arg: Option<u32>) -> JsValue {
        let f: Function = Reflect::get(&self.0, &JsValue::from_str(name))
            .unwrap()
            .unchecked_into();
        match arg {
            Some(i) => f.call1(&JsValue::NULL, &JsValue::from(i)),
            None => f.call0(&JsValue::NULL),
        }
        .unwrap()
    }

    /// Chrome dispatches a scan result on `navigator.bluetooth`.
    fn scan_result(&self) {
        self.call("scanResult", None);
    }

    /// Chrome dispatches a watch result on the device.
    fn watch_result(&self) {
        self.call("watchResult", None);
    }

    /// The browser resolves the `i`-th `watchAdvertisements` call.
    fn settle(&self, i: u32) {
        self.call("settle", Some(i));
    }

    /// Chrome ends the `i`-th `watchAdvertisements` call (the page lost focus as it started).
    fn chrome_drops(&self, i: u32) {
        self.call("chromeDrops", Some(i));
    }

    /// How many times `watchAdvertisements` was called.
    fn watch_calls(&self) -> u32 {
        self.call("watchCalls", None).as_f64().unwrap() as u32
    }

    /// Whether the signal of the `i`-th `watchAdvertisements` call was aborted.
    fn aborted(&self, i: u32) -> bool {
        self.call("aborted", Some(i)).as_bool().unwrap()
    }
}

impl StandIn {
    /// The device gets its GATT server.
    fn with_gatt(&self) {
        self.call("withGatt", None);
    }

    /// The device notifies `byte`.
    fn notify(&self, byte: u8) {
        self.call("notify", Some(byte.into()));
    }

    /// What the next read returns, and what the device notifies while it is under way.
    fn next_read(&self, level: u8, during: &[u8]) {
        let gatt = Reflect::get(&self.0, &JsValue::from_str("gatt")).unwrap();
        Reflect::set(&gatt, &"level".into(), &level.into()).unwrap();
        let during: js_sys::Array = during.iter().map(|&b| JsValue::from(b)).collect();
        Reflect::set(&gatt, &"during".into(), &during).unwrap();
    }
}

async fn settle() {
    gloo_timers::future::sleep(Duration::from_millis(20)).await;
}

/// How many advertisements the backend delivers when the stand-in's watch sees one.
fn delivered_by_one_watch_result(backend: &WebBackend, stand_in: &StandIn) -> usize {
    let events = event_log(backend);
    stand_in.watch_result();
    advertised(&events).len()
}

/// A backend with the stand-in device granted.
async fn backend_with(id: &str) -> (Rc<WebBackend>, StandIn, DeviceId) {
    let stand_in = StandIn::install(id);
    let backend = Rc::new(WebBackend::new());
    let devices = backend.get_devices().await.unwrap();
    assert_eq!(devices.len(), 1);
    (backend, stand_in, devices[0].id.clone())
}

type Outcome = Rc<RefCell<Option<Result<(), BleError>>>>;

/// Starts watching in the background; the outcome lands in the returned cell.
fn watch_in_background(backend: &Rc<WebBackend>, id: &DeviceId) -> Outcome {
    let outcome: Outcome = Rc::new(RefCell::new(None));
    let (backend, id, out) = (Rc::clone(backend), id.clone(), Rc::clone(&outcome));
    wasm_bindgen_futures::spawn_local(async move {
        let result = backend.watch_advertisements(&id).await;
        *out.borrow_mut() = Some(result);
    });
    outcome
}

#[wasm_bindgen_test]
async fn a_newer_watch_survives_the_abort_of_the_one_it_replaced() {
    let (backend, stand_in, id) = backend_with("watch-twice").await;
    let first = watch_in_background(&backend, &id);
    settle().await;
    // A second watch while the first still pends: it aborts the first, whose rejection must not
    // tear the second down.
    let second = watch_in_background(&backend, &id);
    settle().await;
    assert!(stand_in.aborted(0));
    stand_in.settle(1);
    settle().await;
    assert!(!stand_in.aborted(1), "the newer watch was aborted");
    assert_eq!(*second.borrow(), Some(Ok(())));
    assert_eq!(*first.borrow(), Some(Ok(())), "superseded, not failed");
    assert_eq!(
        delivered_by_one_watch_result(&backend, &stand_in),
        1,
        "the newer watch delivers"
    );
}

/// A watch stopped before it started has not started: it ends in an error (so the device is not
/// listed as watched again), and nothing of it is left running.
#[wasm_bindgen_test]
async fn a_watch_stopped_before_it_started_reports_that_it_did_not_start() {
    let (backend, stand_in, id) = backend_with("watch-stopped").await;
    let outcome = watch_in_background(&backend, &id);
    settle().await;
    backend.unwatch_advertisements(&id);
    settle().await;
    assert!(stand_in.aborted(0));
    let result = outcome.borrow().clone().expect("settled");
    assert_eq!(
        result.map_err(|e| e.kind),
        Err(bluehome::ble::ErrorKind::UserCancelled)
    );
    assert_eq!(
        delivered_by_one_watch_result(&backend, &stand_in),
        0,
        "nothing left watching"
    );
}

#[wasm_bindgen_test]
async fn a_device_both_watched_and_scanned_is_delivered_once() {
    let (backend, stand_in, id) = backend_with("watched-and-scanned").await;
    backend.start_scan(&LeScanOptions::default()).await.unwrap();
    let watch = watch_in_background(&backend, &id);
    settle().await;
    stand_in.settle(0);
    settle().await;
    assert_eq!(*watch.borrow(), Some(Ok(())));
    let events = event_log(&*backend);
    // One advertisement: Chrome dispatches it to the scan and to the watch.
    stand_in.scan_result();
    stand_in.watch_result();
    assert_eq!(advertised(&events).len(), 1);
    // No longer watched: the scan's copy is the one.
    backend.unwatch_advertisements(&id);
    stand_in.scan_result();
    assert_eq!(advertised(&events).len(), 2);
}

fn window_event(name: &str) {
    let window = web_sys::window().unwrap();
    window
        .dispatch_event(&web_sys::Event::new(name).unwrap())
        .unwrap();
}

#[wasm_bindgen_test]
async fn losing_focus_ends_the_scan_and_regaining_it_reports_an_active_page() {
    let (backend, _stand_in, _id) = backend_with("focus").await;
    window_event("focus");
    backend.start_scan(&LeScanOptions::default()).await.unwrap();
    assert!(backend.is_scanning());
    let events = event_log(&*backend);
    // A listener may ask whether a scan runs as it hears that it stopped (the scan was still
    // borrowed then, which kills the page).
    let asked = Rc::new(RefCell::new(Vec::new()));
    let (told, scanning) = (Rc::clone(&asked), Rc::downgrade(&backend));
    backend.subscribe(Rc::new(move |e: &BleEvent| {
        if matches!(e, BleEvent::ScanStopped { .. })
            && let Some(backend) = scanning.upgrade()
        {
            told.borrow_mut().push(backend.is_scanning());
        }
    }));
    window_event("blur");
    assert!(
        !backend.is_scanning(),
        "Chrome ended it; the scan object may not say so"
    );
    assert_eq!(*asked.borrow(), [false]);
    window_event("focus");
    assert_eq!(
        *events.borrow(),
        [
            BleEvent::ScanStopped {
                reason: ScanEnd::PageInactive
            },
            BleEvent::PageActivity { active: false },
            BleEvent::PageActivity { active: true },
        ]
    );
}

/// Chrome fires `characteristicvaluechanged` for a read's own value too (Blink
/// `bluetooth_remote_gatt_characteristic.cc`, `ReadValueCallback`). That echo is not a
/// notification: a client that polls a notifying characteristic (Improv's state) took every read
/// for news from the device. What the device notifies, also during a read, still is one.
#[wasm_bindgen_test]
async fn a_read_is_not_a_notification() {
    use bluehome::ble::Characteristic;
    use bluehome_core::uuid::Uuid;

    let (backend, stand_in, id) = backend_with("notifying").await;
    stand_in.with_gatt();
    let level = Characteristic {
        service: Uuid::from_u16(0x180F),
        uuid: Uuid::from_u16(0x2A19),
    };
    backend.start_notifications(&id, level).await.unwrap();
    let events = event_log(&*backend);
    let notified = || notified_values(&events);
    stand_in.next_read(5, &[]);
    assert_eq!(backend.read(&id, level).await.unwrap(), [5]);
    assert_eq!(notified(), Vec::<Vec<u8>>::new(), "the read's echo");
    stand_in.notify(7);
    assert_eq!(notified(), [[7]]);
    stand_in.next_read(6, &[9]);
    assert_eq!(backend.read(&id, level).await.unwrap(), [6]);
    assert_eq!(notified(), [[7], [9]], "notified during the read");
}

/// Chrome ends a watch that is just starting when the page loses focus (its
/// `ClearAdvertisementClients`), with an AbortError. That is no failure: on an active page the
/// watch starts again at once (before, the device was dropped from the watched list, and nothing
/// re-armed it).
#[wasm_bindgen_test]
async fn a_watch_chrome_ends_as_it_starts_is_started_again() {
    let (backend, stand_in, id) = backend_with("dropped-watch").await;
    window_event("focus");
    let outcome = watch_in_background(&backend, &id);
    settle().await;
    stand_in.chrome_drops(0);
    settle().await;
    assert_eq!(stand_in.watch_calls(), 2, "watched again");
    stand_in.settle(1);
    settle().await;
    assert_eq!(*outcome.borrow(), Some(Ok(())));
    assert_eq!(delivered_by_one_watch_result(&backend, &stand_in), 1);
}
