//! The Web Bluetooth backend: the only code that talks to `navigator.bluetooth`.
//!
//! `convert` is the one place JS objects become Rust values; `sys` binds what web-sys lacks.
//! GATT operations are serialized through one queue per device (Chrome runs one at a time per
//! device and rejects the rest with "GATT operation already in progress"); `connect()` holds no
//! queue, so a connect that never settles (macOS, a device out of range) blocks no other device.
//! Every attribute object is dropped when the device disconnects (the browser invalidates them).
//!
//! Advertisements: Chrome dispatches scan results on `navigator.bluetooth` and watch results on
//! the device, so each is taken where [`Dispatch::delivers`] says (once per advertisement). Chrome
//! also ends every scan and watch when the page is hidden or loses focus, without an event and
//! with `watchingAdvertisements` left true: the backend follows the page's visibility and focus
//! (`page`) and reports them as [`BleEvent::PageActivity`] (and the scan's end as
//! [`BleEvent::ScanStopped`]); the app re-arms its watches when the page is active again.

pub mod convert;
mod gatt;
mod page;
mod sys;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use futures::lock::Mutex;
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    AbortController, BluetoothAdvertisingEvent, BluetoothDevice, BluetoothRemoteGattCharacteristic,
    Event,
};

use self::gatt::ReadMark;
use self::page::at_target;
use super::{
    BleBackend, BleError, BleEvent, Capabilities, Characteristic, DeviceId, Dispatch, ErrorKind,
    EventSink, GrantedDevice, LeScanOptions, PageActivity, RequestDeviceOptions, ScanEnd,
    Subscribers, Subscription, WriteMode, check_value_length,
};

type Listener = Closure<dyn FnMut(Event)>;

/// What the backend keeps per granted device.
struct DeviceHandle {
    device: BluetoothDevice,
    watch: Option<AbortController>,
    on_advertisement: Option<Listener>,
    _on_disconnect: Listener,
    characteristics: HashMap<Characteristic, BluetoothRemoteGattCharacteristic>,
    notify_listeners: HashMap<Characteristic, Listener>,
    /// The characteristic being read, and the value-changed events that came meanwhile: Chrome
    /// fires `characteristicvaluechanged` for a read's own value too, just before the read
    /// resolves (Blink `bluetooth_remote_gatt_characteristic.cc`, `ReadValueCallback`; the Web
    /// Bluetooth spec's `readValue()`), and that echo is no notification.
    reading: Option<(Characteristic, Vec<Vec<u8>>)>,
    /// This device's GATT queue (an `Arc` only for [`Mutex::lock_owned`]: the page is
    /// single-threaded).
    gatt_queue: Arc<Mutex<()>>,
}

struct Inner {
    bluetooth: Option<web_sys::Bluetooth>,
    capabilities: Capabilities,
    subscribers: Subscribers,
    devices: RefCell<HashMap<DeviceId, DeviceHandle>>,
    scan: RefCell<Option<sys::BluetoothLeScan>>,
    scan_listener: RefCell<Option<Listener>>,
    page: Cell<PageActivity>,
    /// The page's visibility and focus listeners, removed when the backend goes.
    page_listeners: RefCell<Vec<(web_sys::EventTarget, &'static str, Listener)>>,
}

impl Drop for Inner {
    /// Unhooks what listens on the page and on `navigator.bluetooth`, which outlive the backend.
    fn drop(&mut self) {
        for (target, name, listener) in self.page_listeners.get_mut().drain(..) {
            let _ =
                target.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        if let (Some(bluetooth), Some(listener)) = (&self.bluetooth, self.scan_listener.get_mut()) {
            let _ = bluetooth.remove_event_listener_with_callback(
                "advertisementreceived",
                listener.as_ref().unchecked_ref(),
            );
        }
    }
}

impl Inner {
    /// Whether the page watches this device (it has a live AbortController for it).
    fn watches(&self, id: &DeviceId) -> bool {
        self.devices
            .borrow()
            .get(id)
            .is_some_and(|h| h.watch.is_some())
    }

    /// Whether `controller` is the device's current watch (a newer watch replaces it).
    fn is_current_watch(&self, id: &DeviceId, controller: &AbortController) -> bool {
        self.devices
            .borrow()
            .get(id)
            .is_some_and(|h| h.watch.as_ref() == Some(controller))
    }
}

/// Web Bluetooth through web-sys (and `sys` for the experimental parts).
#[derive(Clone)]
pub struct WebBackend {
    inner: Rc<Inner>,
}

impl fmt::Debug for WebBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebBackend")
            .field("capabilities", &self.inner.capabilities)
            .field("devices", &self.inner.devices.borrow().len())
            .finish()
    }
}

impl Default for WebBackend {
    fn default() -> Self {
        Self::new()
    }
}

/// What a Web Bluetooth call settles to: a throw and a rejection alike become a [`BleError`].
async fn settled(call: Result<js_sys::Promise, JsValue>) -> Result<JsValue, BleError> {
    let promise = call.map_err(|e| convert::error(&e))?;
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| convert::error(&e))
}

fn unsupported(what: &str) -> BleError {
    BleError::new(
        ErrorKind::Unsupported,
        format!("{what} is not available in this browser"),
    )
}

impl WebBackend {
    /// Binds to `navigator.bluetooth` (an inert backend when there is none) and follows the
    /// page's visibility and focus.
    pub fn new() -> Self {
        let bluetooth = web_sys::window()
            .and_then(|w| Reflect::get(&w.navigator(), &JsValue::from_str("bluetooth")).ok())
            .filter(|b| !b.is_undefined() && !b.is_null())
            .map(JsCast::unchecked_into::<web_sys::Bluetooth>);
        let document = web_sys::window().and_then(|w| w.document());
        let page = document.as_ref().map_or_else(PageActivity::default, |d| {
            PageActivity::new(!d.hidden(), d.has_focus().unwrap_or(false))
        });
        let backend = Self {
            inner: Rc::new(Inner {
                bluetooth,
                capabilities: convert::capabilities(),
                subscribers: Subscribers::default(),
                devices: RefCell::new(HashMap::new()),
                scan: RefCell::new(None),
                scan_listener: RefCell::new(None),
                page: Cell::new(page),
                page_listeners: RefCell::new(Vec::new()),
            }),
        };
        backend.follow_page();
        backend
    }

    fn bluetooth(&self) -> Result<&web_sys::Bluetooth, BleError> {
        self.inner
            .bluetooth
            .as_ref()
            .ok_or_else(|| unsupported("Web Bluetooth"))
    }

    /// A listener that turns advertisement events into [`BleEvent::Advertisement`]: on
    /// `navigator.bluetooth` for the scan's ([`Dispatch::Scan`], also taking device events that a
    /// browser following the spec bubbles up), on a device for its watch's ([`Dispatch::Watch`]).
    fn advertisement_listener(weak: Weak<Inner>, dispatch: Dispatch) -> Listener {
        Closure::new(move |event: Event| {
            let Some(inner) = weak.upgrade() else { return };
            let Ok(event) = event.dyn_into::<BluetoothAdvertisingEvent>() else {
                return;
            };
            let (device, advertisement) = convert::advertisement(&event);
            if dispatch.delivers(inner.watches(&device)) {
                inner.subscribers.emit(&BleEvent::Advertisement {
                    device,
                    advertisement,
                });
            }
        })
    }

    /// Keeps a granted device, listening for its disconnection; returns its info.
    fn register(&self, device: BluetoothDevice) -> GrantedDevice {
        let info = convert::granted_device(&device);
        let mut devices = self.inner.devices.borrow_mut();
        if let Some(handle) = devices.get_mut(&info.id) {
            handle.device = device;
            return info;
        }
        let weak = Rc::downgrade(&self.inner);
        let id = info.id.clone();
        let on_disconnect: Listener = Closure::new(move |event: Event| {
            if !at_target(&event) {
                return;
            }
            let Some(inner) = weak.upgrade() else { return };
            if let Some(handle) = inner.devices.borrow_mut().get_mut(&id) {
                // The browser invalidates every attribute object on disconnect.
                handle.characteristics.clear();
                handle.notify_listeners.clear();
            }
            inner
                .subscribers
                .emit(&BleEvent::Disconnected { device: id.clone() });
        });
        let _ = device.add_event_listener_with_callback(
            "gattserverdisconnected",
            on_disconnect.as_ref().unchecked_ref(),
        );
        devices.insert(
            info.id.clone(),
            DeviceHandle {
                device,
                watch: None,
                on_advertisement: None,
                _on_disconnect: on_disconnect,
                characteristics: HashMap::new(),
                notify_listeners: HashMap::new(),
                reading: None,
                gatt_queue: Arc::new(Mutex::new(())),
            },
        );
        info
    }

    fn device(&self, id: &DeviceId) -> Result<BluetoothDevice, BleError> {
        self.inner
            .devices
            .borrow()
            .get(id)
            .map(|h| h.device.clone())
            .ok_or_else(|| {
                BleError::new(
                    ErrorKind::NotAllowed,
                    format!("device {id} was not granted to this page (pick it in the chooser)"),
                )
            })
    }

    /// One `watchAdvertisements` call, with its own AbortController (see
    /// [`BleBackend::watch_advertisements`], which takes a rejection from Chrome in its stride).
    async fn watch_once(&self, id: &DeviceId) -> Result<(), BleError> {
        let device = self.device(id)?;
        // One AbortController per watch: a newer watch aborts the older one, whose rejection then
        // must not tear the newer one down.
        let controller = AbortController::new().map_err(|e| convert::error(&e))?;
        let options = Object::new();
        let _ = Reflect::set(&options, &JsValue::from_str("signal"), &controller.signal());
        let listener = Self::advertisement_listener(Rc::downgrade(&self.inner), Dispatch::Watch);
        let _ = device.add_event_listener_with_callback(
            "advertisementreceived",
            listener.as_ref().unchecked_ref(),
        );
        if let Some(handle) = self.inner.devices.borrow_mut().get_mut(id) {
            if let Some(old) = handle.watch.replace(controller.clone()) {
                old.abort();
            }
            if let Some(old) = handle.on_advertisement.replace(listener) {
                let _ = device.remove_event_listener_with_callback(
                    "advertisementreceived",
                    old.as_ref().unchecked_ref(),
                );
            }
        }
        let started = match device
            .unchecked_ref::<sys::DeviceApi>()
            .watch_advertisements_checked(&options)
        {
            Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .map(drop),
            Err(e) => Err(e),
        };
        match started {
            Ok(()) => Ok(()),
            Err(e) if self.inner.is_current_watch(id, &controller) => {
                self.unwatch_advertisements(id);
                Err(convert::error(&e))
            }
            // Superseded (aborted by a newer watch of the device): that one stands.
            Err(_) if self.inner.watches(id) => Ok(()),
            // Stopped (unwatched) before it started: it is not running.
            Err(_) => Err(BleError::new(
                ErrorKind::UserCancelled,
                "the watch was stopped before it started",
            )),
        }
    }
}

impl BleBackend for WebBackend {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities
    }

    fn subscribe(&self, sink: EventSink) -> Subscription {
        self.inner.subscribers.add(sink)
    }

    fn unsubscribe(&self, subscription: Subscription) {
        self.inner.subscribers.remove(subscription);
    }

    async fn start_scan(&self, options: &LeScanOptions) -> Result<(), BleError> {
        if !self.inner.capabilities.request_le_scan {
            return Err(unsupported("requestLEScan"));
        }
        let bluetooth = self.bluetooth()?;
        if self.inner.scan_listener.borrow().is_none() {
            let listener = Self::advertisement_listener(Rc::downgrade(&self.inner), Dispatch::Scan);
            let _ = bluetooth.add_event_listener_with_callback(
                "advertisementreceived",
                listener.as_ref().unchecked_ref(),
            );
            *self.inner.scan_listener.borrow_mut() = Some(listener);
        }
        let scan = settled(
            bluetooth
                .unchecked_ref::<sys::BluetoothApi>()
                .request_le_scan(&convert::scan_options(options)),
        )
        .await?;
        if let Some(previous) = self.inner.scan.borrow_mut().replace(scan.unchecked_into()) {
            previous.stop();
        }
        Ok(())
    }

    fn stop_scan(&self) {
        let scan = self.inner.scan.borrow_mut().take();
        if let Some(scan) = scan {
            scan.stop();
            self.inner.subscribers.emit(&BleEvent::ScanStopped {
                reason: ScanEnd::Stopped,
            });
        }
    }

    fn is_scanning(&self) -> bool {
        self.inner
            .scan
            .borrow()
            .as_ref()
            .is_some_and(|s| s.active())
    }

    async fn request_device(
        &self,
        options: &RequestDeviceOptions,
    ) -> Result<GrantedDevice, BleError> {
        if !self.inner.capabilities.request_device {
            return Err(unsupported("requestDevice"));
        }
        let device = settled(
            self.bluetooth()?
                .unchecked_ref::<sys::BluetoothApi>()
                .request_device_with(&convert::request_device_options(options)),
        )
        .await?;
        Ok(self.register(device.unchecked_into()))
    }

    async fn adapter_available(&self) -> Option<bool> {
        let bluetooth = self.bluetooth().ok()?;
        let answer = settled(
            bluetooth
                .unchecked_ref::<sys::BluetoothApi>()
                .get_availability_checked(),
        )
        .await
        .ok()?;
        answer.as_bool()
    }

    async fn get_devices(&self) -> Result<Vec<GrantedDevice>, BleError> {
        if !self.inner.capabilities.get_devices {
            return Err(unsupported("getDevices"));
        }
        let list = settled(
            self.bluetooth()?
                .unchecked_ref::<sys::BluetoothApi>()
                .get_devices_checked(),
        )
        .await?;
        let list: js_sys::Array = list.unchecked_into();
        Ok(list
            .iter()
            .map(|d| self.register(d.unchecked_into()))
            .collect())
    }

    async fn watch_advertisements(&self, id: &DeviceId) -> Result<(), BleError> {
        if !self.inner.capabilities.watch_advertisements {
            return Err(unsupported("watchAdvertisements"));
        }
        match self.watch_once(id).await {
            // Chrome ends a page's watches when the page loses focus or is hidden, one that is
            // just starting too (`content/browser/bluetooth/web_bluetooth_service_impl.cc`,
            // `ClearAdvertisementClients`), and rejects it with an AbortError. The watch stands:
            // the page re-arms its watches when it is active again, and if it already is, now.
            Err(e) if convert::is_abort(&e) => {
                if self.inner.page.get().is_active() {
                    self.watch_once(id).await
                } else {
                    Ok(())
                }
            }
            other => other,
        }
    }

    fn unwatch_advertisements(&self, id: &DeviceId) {
        if let Some(handle) = self.inner.devices.borrow_mut().get_mut(id) {
            if let Some(controller) = handle.watch.take() {
                controller.abort();
            }
            if let Some(listener) = handle.on_advertisement.take() {
                let _ = handle.device.remove_event_listener_with_callback(
                    "advertisementreceived",
                    listener.as_ref().unchecked_ref(),
                );
            }
        }
    }

    async fn connect(&self, id: &DeviceId) -> Result<(), BleError> {
        let device = self.device(id)?;
        let server = device.gatt().ok_or_else(|| {
            BleError::new(ErrorKind::Unsupported, "the device has no GATT server")
        })?;
        // No GATT queue: Chrome's connect() may never settle, and disconnect() does not end it
        // (`Backend::connect_in_time` gives up on it and closes a late connection).
        server
            .connect()
            .await
            .map_err(|e| convert::error(&e))
            .map(drop)
    }

    fn disconnect(&self, id: &DeviceId) {
        if let Ok(device) = self.device(id)
            && let Some(server) = device.gatt()
        {
            // The browser fires gattserverdisconnected, which emits the event.
            server.disconnect();
        }
    }

    async fn forget(&self, id: &DeviceId) -> Result<(), BleError> {
        if self.device(id).is_err() && self.inner.capabilities.get_devices {
            // Not met since the page loaded: the browser lists what it still permits.
            self.get_devices().await?;
        }
        let Ok(device) = self.device(id) else {
            return Ok(());
        };
        if !self.inner.capabilities.forget {
            return Err(unsupported("BluetoothDevice.forget()"));
        }
        self.unwatch_advertisements(id);
        settled(device.unchecked_ref::<sys::DeviceApi>().forget())
            .await
            .map(drop)
    }

    fn is_connected(&self, id: &DeviceId) -> bool {
        self.device(id)
            .ok()
            .and_then(|d| d.gatt())
            .is_some_and(|s| s.connected())
    }

    async fn characteristics(
        &self,
        id: &DeviceId,
        service: bluehome_core::Uuid,
    ) -> Result<Vec<bluehome_core::Uuid>, BleError> {
        let _turn = self.gatt_turn(id).await;
        let list = self
            .primary_service(id, service)
            .await?
            .get_characteristics()
            .await
            .map_err(|e| convert::error(&e))?;
        Ok(convert::characteristic_uuids(&list))
    }

    async fn read(
        &self,
        id: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<Vec<u8>, BleError> {
        let (_turn, found) = self.characteristic_in_turn(id, characteristic).await?;
        self.set_reading(id, Some((characteristic, Vec::new())));
        let marked = ReadMark(self, id);
        let read = found.read_value().await.map(|view| convert::bytes(&view));
        self.hand_on_values_during_read(id, characteristic, read.as_ref().ok());
        drop(marked);
        read.map_err(|e| convert::error(&e))
    }

    async fn write(
        &self,
        id: &DeviceId,
        characteristic: Characteristic,
        value: &[u8],
        mode: WriteMode,
    ) -> Result<(), BleError> {
        check_value_length(value)?;
        let (_turn, found) = self.characteristic_in_turn(id, characteristic).await?;
        let bytes = js_sys::Uint8Array::from(value);
        let promise = match mode {
            WriteMode::WithResponse => found.write_value_with_response_with_u8_array(&bytes),
            WriteMode::WithoutResponse => found.write_value_without_response_with_u8_array(&bytes),
        }
        .map_err(|e| convert::error(&e))?;
        promise.await.map_err(|e| convert::error(&e)).map(drop)
    }

    async fn start_notifications(
        &self,
        id: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<(), BleError> {
        let (_turn, found) = self.characteristic_in_turn(id, characteristic).await?;
        self.listen_for_values(id, &found, characteristic);
        // After a reconnect notifications may be silently lost unless stopped first (ZMK Studio).
        let _ = found.stop_notifications().await;
        found
            .start_notifications()
            .await
            .map_err(|e| convert::error(&e))
            .map(drop)
    }

    async fn stop_notifications(
        &self,
        id: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<(), BleError> {
        let (_turn, found) = self.characteristic_in_turn(id, characteristic).await?;
        self.stop_listening(id, &found, characteristic);
        found
            .stop_notifications()
            .await
            .map_err(|e| convert::error(&e))
            .map(drop)
    }
}
