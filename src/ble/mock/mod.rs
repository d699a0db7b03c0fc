//! The mock backend: a scripted, in-memory Bluetooth world.
//!
//! It behaves like the web backend as far as the app can tell (events, grants, GATT), but its
//! devices are simulated: advertisements come from [`AdvertisementSource`]s (the core simulator's
//! sensors in demo mode, scripted ones in tests) or from [`MockBackend::advertise`], and GATT
//! requests go to a [`GattPeer`] (the core's simulated Shelly gateway). Time is driven from outside
//! through [`MockBackend::tick`], so tests are deterministic and need no timers.
//!
//! By default it is as strict as Chrome (chromium `content/browser/bluetooth/` and
//! `third_party/blink/renderer/modules/bluetooth/`); anything kinder is an explicit option:
//! - advertisements never carry the device's address;
//! - a page that is hidden or loses focus ([`MockBackend::set_page_visible`],
//!   [`MockBackend::set_page_focused`]) loses its scan and every watch at once, silently, while
//!   `watchingAdvertisements` stays true: watching again re-arms nothing until the watch is
//!   aborted ([`BleBackend::unwatch_advertisements`]) first;
//! - scan results are dispatched as on `navigator.bluetooth` and watch results as on the device,
//!   so a device both scanned and watched yields two events (the backend delivers one, by
//!   [`Dispatch::delivers`], as the web backend does);
//! - `requestLEScan` filters match each event by itself: `name` and `namePrefix` against the
//!   event's own name (on [`Platform::Windows`], the default, only the packet that carries the
//!   name has one; [`shelly_blu_packets`] splits a Shelly BLU advertisement as the device sends
//!   it), `services` against the UUIDs it advertises; `manufacturerData` is ignored;
//!   `keepRepeatedDevices: false` reports each device once;
//! - a closed scan prompt ([`ScanPrompt::Cancel`]) fails with Chrome's words;
//! - the chooser and the scan prompt open only within [`ACTIVATION_LIFESPAN_MS`] of a click or
//!   key press ([`MockBackend::user_gesture`]; in a browser every `click` and `keydown` the page
//!   hears counts, a test's `element.click()` included), else Chrome's `SecurityError`;
//! - on the connection and GATT side (chromium's
//!   `third_party/blink/renderer/modules/bluetooth/bluetooth_remote_gatt_server.cc`,
//!   `bluetooth_error.cc`, `content/browser/bluetooth/README.md`): `disconnect()` fires
//!   [`BleEvent::Disconnected`] synchronously, before it returns, and does nothing while nothing
//!   is connected, so it does not end a pending `connect()`; a connect can be made to hang
//!   ([`MockBackend::set_connect_hangs`]), as on macOS, and settles when the device answers at
//!   last; a device's GATT operations can be made to hang ([`MockBackend::set_gatt_hangs`]) until
//!   a disconnect rejects them; only the services a chooser granted (its filters' `services` and `optionalServices`)
//!   are reachable, others reject with Chrome's `SecurityError`; one GATT operation at a time per
//!   device (an overlapping one rejects with "GATT operation already in progress."); errors carry
//!   Chrome's own texts ([`att_failure`] for a device's ATT errors); chooser `services` filters
//!   match only the service UUIDs a device advertises; pairing on demand (an operation that needs
//!   an encrypted link pairs first) as each system's Chrome does it ([`Platform::pair_on_demand`]:
//!   refused on Windows for a device that pairs without a PIN, on Linux for one that asks for a
//!   passkey); the notifications a device sent before an operation's answer are delivered before
//!   the operation settles, as Blink fires `characteristicvaluechanged` before it resolves a read
//!   (`bluetooth_remote_gatt_characteristic.cc`, `ReadValueCallback`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::rc::Rc;

use bluehome_core::{Advertisement, Uuid};

use crate::ble::{
    BleBackend, BleError, BleEvent, Capabilities, Characteristic, DeviceId, Dispatch, ErrorKind,
    LeScanOptions, PageActivity, ScanEnd, Subscribers,
};

mod backend;
mod chrome;
mod gatt;
mod peers;

pub use bluehome_core::gatt::Properties;
pub use chrome::{
    ACTIVATION_LIFESPAN_MS, Platform, ScanPrompt, att_failure, not_paired, shelly_blu_packets,
};
use chrome::{Operation, not_in_properties, scan_accepts};
use peers::yield_once;
pub use peers::{AdvertisementSource, GattPeer, block_on, declared, no_characteristic, no_service};

/// What the simulated chooser answers to `request_device`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ChooserAnswer {
    /// The first known device that matches the filters (like a user picking the top entry).
    #[default]
    FirstMatch,
    /// This device, if it matches.
    Device(DeviceId),
    /// The user closes the chooser.
    Cancel,
}

/// How many of a device's last packets the chooser looks at: one advertising event, the
/// advertising data and its scan response. Chrome's chooser lists a device as soon as one of its
/// packets matches a filter while it scans (chromium
/// `content/browser/bluetooth/bluetooth_device_chooser_controller.cc`, `AddFilteredDevice` on
/// every `DeviceChanged`), so a device whose service UUID rides in its advertising data and its
/// name in its scan response (ESPHome's Improv) is listed although no one packet has both.
const RECENT_PACKETS: usize = 2;

#[derive(Default)]
struct MockDevice {
    name: Option<String>,
    /// Its last packets, newest last: at most [`RECENT_PACKETS`].
    recent: Vec<Advertisement>,
    peer: Option<Box<dyn GattPeer>>,
    granted: bool,
    /// The services the page may use on it: those of every chooser that granted it (its filters'
    /// `services` and its `optionalServices`).
    allowed_services: BTreeSet<Uuid>,
    /// The companies whose manufacturer data its watch shows: every granting chooser's
    /// `optionalManufacturerData` (a `manufacturerData` filter grants none).
    allowed_companies: BTreeSet<u16>,
    connect_hangs: bool,
    /// Connects under way (Chrome settles them together when the device answers).
    connecting: usize,
    /// Who waits for a hanging device to answer.
    connect_wakers: Vec<std::task::Waker>,
    /// A GATT operation is under way.
    busy: bool,
    /// Its GATT operations never settle (as Chrome's sometimes do) until it disconnects.
    gatt_hangs: bool,
    /// Who waits for a hanging operation to end.
    gatt_wakers: Vec<std::task::Waker>,
    /// Its notifications never reach the page, though `startNotifications()` resolved.
    notifications_lost: bool,
}

impl MockDevice {
    /// What a watch of this device hands the page of `event`: only the services and companies
    /// the page was granted (Chromium `web_bluetooth_service_impl.cc`,
    /// `WatchAdvertisementsClient::SendEvent`; a scan's results are not cut down).
    fn watch_event(&self, event: &Advertisement) -> Advertisement {
        let mut event = event.clone();
        event
            .service_uuids
            .retain(|uuid| self.allowed_services.contains(uuid));
        event
            .service_data
            .retain(|uuid, _| self.allowed_services.contains(uuid));
        event
            .manufacturer_data
            .retain(|company, _| self.allowed_companies.contains(company));
        event
    }
}

#[derive(Default)]
struct MockState {
    platform: Platform,
    page: PageActivity,
    scan_prompt: ScanPrompt,
    /// How many scan prompts were shown.
    scan_prompts_shown: usize,
    /// Scan requests waiting for an open prompt's answer.
    scan_prompt_wakers: Vec<std::task::Waker>,
    /// The scan the browser runs (ended by the page or by the browser).
    scan: Option<LeScanOptions>,
    /// Devices a scan with `keepRepeatedDevices: false` reported already.
    scan_reported: BTreeSet<DeviceId>,
    /// Devices whose `watchingAdvertisements` is true.
    watching: BTreeSet<DeviceId>,
    /// Devices whose watch the browser still serves (a subset of `watching`).
    armed: BTreeSet<DeviceId>,
    connected: BTreeSet<DeviceId>,
    notifying: BTreeSet<(DeviceId, Characteristic)>,
    devices: BTreeMap<DeviceId, MockDevice>,
    chooser: ChooserAnswer,
    sources: Vec<Box<dyn AdvertisementSource>>,
    /// Choosers and scans open without a click (kinder than Chrome: the demo's radio listens
    /// from the start).
    no_gesture_needed: bool,
    /// The system has no Bluetooth adapter (or none with Low Energy).
    no_adapter: bool,
}

/// The in-memory backend.
pub struct MockBackend {
    capabilities: Capabilities,
    now_ms: Rc<std::cell::Cell<u64>>,
    /// When (on the mock's clock) the user last clicked or pressed a key.
    last_gesture: Rc<std::cell::Cell<Option<u64>>>,
    /// In a browser: the page's input the mock takes for the user's gestures (held for its
    /// `Drop`, which stops listening).
    #[cfg(target_arch = "wasm32")]
    _gestures: Option<GestureListener>,
    subscribers: Subscribers,
    state: RefCell<MockState>,
}

impl fmt::Debug for MockBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("MockBackend")
            .field("devices", &state.devices.len())
            .field("scanning", &state.scan.is_some())
            .finish()
    }
}

impl Default for MockBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl MockBackend {
    /// A backend with every capability and no devices.
    pub fn new() -> Self {
        Self::with_capabilities(Capabilities {
            secure_context: true,
            bluetooth: true,
            request_device: true,
            request_le_scan: true,
            watch_advertisements: true,
            get_devices: true,
            forget: true,
        })
    }

    /// A backend that claims only these capabilities (operations outside them fail as on the web).
    pub fn with_capabilities(capabilities: Capabilities) -> Self {
        let now_ms = Rc::new(std::cell::Cell::new(0));
        let last_gesture = Rc::new(std::cell::Cell::new(None));
        Self {
            capabilities,
            #[cfg(target_arch = "wasm32")]
            _gestures: GestureListener::new(&now_ms, &last_gesture),
            now_ms,
            last_gesture,
            subscribers: Subscribers::default(),
            state: RefCell::new(MockState::default()),
        }
    }

    /// The user clicks or presses a key now: for [`ACTIVATION_LIFESPAN_MS`] the page may open
    /// the chooser or a scan prompt. In a browser the page's own clicks and key presses do this.
    pub fn user_gesture(&self) {
        self.last_gesture.set(Some(self.now_ms.get()));
    }

    /// Whether the chooser and scan prompt need a gesture (true, as in Chrome, by default).
    pub fn set_needs_user_gesture(&self, needs: bool) {
        self.state.borrow_mut().no_gesture_needed = !needs;
    }

    /// Chrome's check before it shows `method`'s chooser or prompt: transient user activation.
    fn check_user_gesture(&self, method: &str) -> Result<(), BleError> {
        let now = self.now_ms.get();
        let active = self
            .last_gesture
            .get()
            .is_some_and(|at| now.saturating_sub(at) <= ACTIVATION_LIFESPAN_MS);
        if active || self.state.borrow().no_gesture_needed {
            Ok(())
        } else {
            Err(chrome::no_user_gesture(method))
        }
    }

    /// Adds (or renames) a device; it is not granted until the chooser returns it.
    pub fn add_device(&self, id: &DeviceId, name: Option<&str>) {
        let mut state = self.state.borrow_mut();
        let device = state.devices.entry(id.clone()).or_default();
        device.name = name.map(str::to_owned);
    }

    /// Gives a device a GATT server (adding the device if needed).
    pub fn set_gatt_peer(&self, id: &DeviceId, name: Option<&str>, peer: Box<dyn GattPeer>) {
        self.add_device(id, name);
        if let Some(device) = self.state.borrow_mut().devices.get_mut(id) {
            device.peer = Some(peer);
        }
    }

    /// Adds a source of simulated advertisements, polled by [`MockBackend::tick`].
    pub fn add_source(&self, source: Box<dyn AdvertisementSource>) {
        self.state.borrow_mut().sources.push(source);
    }

    /// Sets the chooser's answer.
    pub fn set_chooser(&self, answer: ChooserAnswer) {
        self.state.borrow_mut().chooser = answer;
    }

    /// Which Chrome to behave like (default [`Platform::Windows`]).
    pub fn set_platform(&self, platform: Platform) {
        self.state.borrow_mut().platform = platform;
    }

    /// Makes connects to a device never settle (until `disconnect()` aborts them), as Chrome on
    /// macOS does for a device that is not there.
    pub fn set_connect_hangs(&self, id: &DeviceId, hangs: bool) {
        let waiting = {
            let mut state = self.state.borrow_mut();
            let device = state.devices.entry(id.clone()).or_default();
            device.connect_hangs = hangs;
            if hangs {
                Vec::new()
            } else {
                std::mem::take(&mut device.connect_wakers)
            }
        };
        // The device answers at last: connects still under way settle.
        for waker in waiting {
            waker.wake();
        }
    }

    /// Makes the device's GATT operations never settle (Chrome's sometimes do not:
    /// WebBluetoothCG/web-bluetooth#367, #451) until it disconnects, which rejects them, or
    /// stops hanging.
    pub fn set_gatt_hangs(&self, id: &DeviceId, hangs: bool) {
        let waiting = {
            let mut state = self.state.borrow_mut();
            let device = state.devices.entry(id.clone()).or_default();
            device.gatt_hangs = hangs;
            std::mem::take(&mut device.gatt_wakers)
        };
        for waker in waiting {
            waker.wake();
        }
    }

    /// Whether a connect to the device is pending.
    pub fn is_connecting(&self, id: &DeviceId) -> bool {
        self.state
            .borrow()
            .devices
            .get(id)
            .is_some_and(|d| d.connecting > 0)
    }

    /// Takes the system's Bluetooth adapter away (`false`: a computer without one, a USB dongle
    /// pulled out) or gives it back.
    pub fn set_adapter_present(&self, present: bool) {
        self.state.borrow_mut().no_adapter = !present;
    }

    /// Without an adapter, the chooser and the scan fail as Chrome fails them
    /// (`WebBluetoothResult::NO_BLUETOOTH_ADAPTER`, third_party/blink/renderer/modules/bluetooth/
    /// bluetooth_error.cc).
    fn require_adapter(&self) -> Result<(), BleError> {
        if self.state.borrow().no_adapter {
            return Err(BleError::new(
                ErrorKind::AdapterUnavailable,
                "NotFoundError: Bluetooth adapter not available.",
            ));
        }
        Ok(())
    }

    /// Sets the answer to the next `requestLEScan` permission prompts, and to those open now.
    pub fn set_scan_prompt(&self, answer: ScanPrompt) {
        let waiting = {
            let mut state = self.state.borrow_mut();
            state.scan_prompt = answer;
            std::mem::take(&mut state.scan_prompt_wakers)
        };
        waiting.into_iter().for_each(std::task::Waker::wake);
    }

    /// How many `requestLEScan` permission prompts were shown.
    pub fn scan_prompts_shown(&self) -> usize {
        self.state.borrow().scan_prompts_shown
    }

    /// The page is shown, or hidden (another tab in front, the window minimised).
    pub fn set_page_visible(&self, visible: bool) {
        let focused = self.state.borrow().page.is_focused();
        self.set_page(visible, focused);
    }

    /// The page gains or loses focus (a click into another window, a browser dialog).
    pub fn set_page_focused(&self, focused: bool) {
        let visible = self.state.borrow().page.is_visible();
        self.set_page(visible, focused);
    }

    fn set_page(&self, visible: bool, focused: bool) {
        let (change, scan_ended) = {
            let mut state = self.state.borrow_mut();
            let change = state.page.update(visible, focused);
            let mut scan_ended = false;
            if !state.page.is_active() {
                // ClearAdvertisementClients: every scan and watch ends; `watching` stays.
                scan_ended = state.scan.take().is_some();
                state.armed.clear();
            }
            (change, scan_ended)
        };
        if scan_ended {
            self.subscribers.emit(&BleEvent::ScanStopped {
                reason: ScanEnd::PageInactive,
            });
        }
        if let Some(change) = change {
            self.subscribers.emit(&change);
        }
    }

    /// The browser ends the scan by itself (the adapter turned off): `BluetoothLEScan.active`
    /// turns false and no event says so.
    pub fn end_scan_silently(&self) {
        self.state.borrow_mut().scan = None;
    }

    /// `device.watchingAdvertisements`: true from a watch until it is aborted, even after the
    /// browser dropped it.
    pub fn watching_advertisements(&self, id: &DeviceId) -> bool {
        self.state.borrow().watching.contains(id)
    }

    /// What the running LE scan was asked for, if one runs.
    pub fn scan_options(&self) -> Option<LeScanOptions> {
        self.state.borrow().scan.clone()
    }

    /// The mock's clock: the last time given to [`MockBackend::tick`].
    pub fn now_ms(&self) -> u64 {
        self.now_ms.get()
    }

    /// A shared handle on the mock's clock (for peers that need the time).
    pub fn clock(&self) -> Rc<std::cell::Cell<u64>> {
        Rc::clone(&self.now_ms)
    }

    /// Advances simulated time: polls every source and delivers what they advertise and notify.
    pub fn tick(&self, now_ms: u64) {
        self.now_ms.set(now_ms);
        let due: Vec<_> =
            self.with_sources(|sources| sources.iter_mut().flat_map(|s| s.poll(now_ms)).collect());
        for (id, adv) in due {
            self.advertise(&id, adv);
        }
        self.deliver_notifications();
    }

    /// Delivers the notifications the sources' devices have sent by now.
    fn deliver_notifications(&self) {
        let now_ms = self.now_ms.get();
        let notes: Vec<_> = self.with_sources(|sources| {
            sources
                .iter_mut()
                .flat_map(|s| s.notifications(now_ms))
                .collect()
        });
        for (id, characteristic, value) in notes {
            self.notify(&id, characteristic, value);
        }
    }

    /// Runs `f` on the sources, taken out of the state while it runs (a source may not re-enter
    /// it); sources added meanwhile are kept.
    fn with_sources<T>(&self, f: impl FnOnce(&mut Vec<Box<dyn AdvertisementSource>>) -> T) -> T {
        let mut sources = std::mem::take(&mut self.state.borrow_mut().sources);
        let out = f(&mut sources);
        let mut state = self.state.borrow_mut();
        sources.append(&mut state.sources);
        state.sources = sources;
        out
    }

    /// A device sends one packet: dispatched to the scan if it accepts the event and to the
    /// device if its watch is armed, each delivered as [`Dispatch::delivers`] says.
    pub fn advertise(&self, id: &DeviceId, packet: Advertisement) {
        let delivered = {
            let mut state = self.state.borrow_mut();
            let platform = state.platform;
            let entry = state.devices.entry(id.clone()).or_default();
            if packet.name.is_some() {
                entry.name.clone_from(&packet.name);
            }
            if entry.recent.len() == RECENT_PACKETS {
                entry.recent.remove(0);
            }
            entry.recent.push(packet.clone());
            // What the page gets: never the address; the name as this platform reports it.
            let mut event = packet;
            event.address = None;
            if !platform.names_per_packet() && event.name.is_none() {
                event.name.clone_from(&entry.name);
            }
            let scanned = match &state.scan {
                Some(scan) if scan_accepts(scan, &event) => {
                    scan.keep_repeated_devices || state.scan_reported.insert(id.clone())
                }
                _ => false,
            };
            let watched = state.watching.contains(id);
            let dispatched = [
                (Dispatch::Scan, scanned),
                (Dispatch::Watch, state.armed.contains(id)),
            ];
            let delivered: Vec<Advertisement> = dispatched
                .into_iter()
                .filter(|&(dispatch, fired)| fired && dispatch.delivers(watched))
                .map(|(dispatch, _)| match (dispatch, state.devices.get(id)) {
                    (Dispatch::Watch, Some(device)) => device.watch_event(&event),
                    _ => event.clone(),
                })
                .collect();
            delivered
        };
        for advertisement in delivered {
            self.subscribers.emit(&BleEvent::Advertisement {
                device: id.clone(),
                advertisement,
            });
        }
    }

    /// A Shelly BLU device advertises: its two packets (see [`shelly_blu_packets`]), or the one
    /// packet of anything else.
    pub fn advertise_as_sent(&self, id: &DeviceId, advertisement: Advertisement) {
        match shelly_blu_packets(&advertisement) {
            Some(packets) => packets.into_iter().for_each(|p| self.advertise(id, p)),
            None => self.advertise(id, advertisement),
        }
    }

    /// The device pushes a notification (delivered if notifications were started, and not lost).
    pub fn notify(&self, id: &DeviceId, characteristic: Characteristic, value: Vec<u8>) {
        let active = {
            let state = self.state.borrow();
            state.notifying.contains(&(id.clone(), characteristic))
                && !state.devices.get(id).is_some_and(|d| d.notifications_lost)
        };
        if active {
            self.subscribers.emit(&BleEvent::Notification {
                device: id.clone(),
                characteristic,
                value,
            });
        }
    }

    /// From now on the device's notifications never reach the page, though starting them still
    /// succeeds: a link on which the page must poll (as it must where a device's notifications
    /// do not work) from the first operation on.
    pub fn set_notifications_lost(&self, id: &DeviceId, lost: bool) {
        if let Some(device) = self.state.borrow_mut().devices.get_mut(id) {
            device.notifications_lost = lost;
        }
    }

    /// The link drops (out of range, device reset): as if the device went away.
    pub fn drop_connection(&self, id: &DeviceId) {
        self.disconnect(id);
    }

    fn require(&self, present: bool, what: &str) -> Result<(), BleError> {
        if present {
            Ok(())
        } else {
            Err(BleError::new(
                ErrorKind::Unsupported,
                format!("{what} is not available in this browser"),
            ))
        }
    }
}

/// The page's `click` and `keydown` events, heard on the window before any element handles them,
/// taken for the user's gestures (Chrome's activation comes from the real input events behind
/// them; a test's `element.click()` stands for those). Removed with the mock.
#[cfg(target_arch = "wasm32")]
struct GestureListener {
    window: web_sys::Window,
    closure: wasm_bindgen::closure::Closure<dyn FnMut()>,
}

#[cfg(target_arch = "wasm32")]
impl GestureListener {
    const EVENTS: [&str; 2] = ["click", "keydown"];

    fn new(
        now_ms: &Rc<std::cell::Cell<u64>>,
        last_gesture: &Rc<std::cell::Cell<Option<u64>>>,
    ) -> Option<Self> {
        use wasm_bindgen::JsCast;
        let window = web_sys::window()?;
        let (now_ms, last_gesture) = (Rc::clone(now_ms), Rc::clone(last_gesture));
        let closure = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            last_gesture.set(Some(now_ms.get()));
        });
        for event in Self::EVENTS {
            window
                .add_event_listener_with_callback_and_bool(
                    event,
                    closure.as_ref().unchecked_ref(),
                    true,
                )
                .ok()?;
        }
        Some(Self { window, closure })
    }
}

#[cfg(target_arch = "wasm32")]
impl Drop for GestureListener {
    fn drop(&mut self) {
        use wasm_bindgen::JsCast;
        for event in Self::EVENTS {
            let _ = self.window.remove_event_listener_with_callback_and_bool(
                event,
                self.closure.as_ref().unchecked_ref(),
                true,
            );
        }
    }
}

/// A BTHome sensor's advertisement as tests send it: its name, its signal in dBm and its BTHome
/// v2 service data.
pub fn bthome_sensor(name: &str, service_data: &[u8], rssi: i8) -> Advertisement {
    Advertisement {
        name: Some(name.to_owned()),
        rssi: Some(rssi),
        ..Advertisement::bthome(service_data.to_vec())
    }
}

#[cfg(test)]
mod tests;
