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
//! - a closed scan prompt ([`ScanPrompt::Cancel`]) fails with Chrome's words.
//! - on the connection and GATT side (chromium's
//!   `third_party/blink/renderer/modules/bluetooth/bluetooth_remote_gatt_server.cc`,
//!   `bluetooth_error.cc`, `content/browser/bluetooth/README.md`): `disconnect()` fires
//!   [`BleEvent::Disconnected`] synchronously, before it returns, and aborts a pending `connect()`
//!   (which then rejects; no event, since nothing was connected); a connect can be made to never
//!   settle ([`MockBackend::set_connect_hangs`]), as on macOS; one GATT operation at a time per
//!   device (an overlapping one rejects with "GATT operation already in progress."); errors carry
//!   Chrome's own texts ([`att_failure`] for a device's ATT errors); chooser `services` filters
//!   match only the service UUIDs a device advertises; pairing on demand (an operation that needs
//!   an encrypted link pairs first) only where [`Platform::pairs_on_demand`], elsewhere "GATT
//!   Error: Not paired.".

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::rc::Rc;

use bluehome_core::Advertisement;
use bluehome_core::shelly::rpc::AttError;

use super::{
    BleBackend, BleError, BleEvent, Capabilities, Characteristic, DeviceFilter, DeviceId,
    DeviceInfo, Dispatch, ErrorKind, EventSink, MAX_GATT_VALUE, PageActivity, RequestDeviceOptions,
    SHELLY_COMPANY_ID, ScanEnd, ScanOptions, Subscribers, Subscription, WriteMode,
};

/// Where Chrome's Web Bluetooth differs by operating system, as far as the mock models it. The
/// default is the strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Platform {
    /// Windows: an advertisement event carries the local name of its own packet only
    /// (`device/bluetooth/bluetooth_adapter_winrt.cc`, `OnAdvertisementReceived`), so a device
    /// that names itself in its scan response sends nameless data packets.
    #[default]
    Windows,
    /// macOS: every event carries the device's name once the system heard it.
    MacOs,
    /// Android: every event carries the device's name once heard (the scan record merges the
    /// scan response).
    Android,
    /// Linux (BlueZ): every event carries the device's name once heard (BlueZ keeps it).
    Linux,
}

impl Platform {
    /// Whether an event carries only its own packet's name.
    pub fn names_per_packet(self) -> bool {
        self == Self::Windows
    }

    /// Whether touching a protected characteristic makes the OS pair by itself (chromium
    /// `content/browser/bluetooth/README.md`, "Secure Characteristics": Android and macOS only).
    pub const fn pairs_on_demand(self) -> bool {
        matches!(self, Self::MacOs | Self::Android)
    }
}

/// What the simulated user answers to `requestLEScan`'s permission prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanPrompt {
    /// Allows the scan.
    #[default]
    Allow,
    /// Closes the prompt.
    Cancel,
}

/// Shelly BLU's two packets for one advertisement: the advertising data with the BTHome service
/// data, and the scan response with the local name and the Shelly manufacturer data (the name
/// needs an active scan: Shelly's BLU script examples; the MAC block rides along). `None` for
/// anything but a Shelly BLU advertisement (BTHome service data and Shelly manufacturer data).
pub fn shelly_blu_packets(advertisement: &Advertisement) -> Option<[Advertisement; 2]> {
    let manufacturer = advertisement.manufacturer_data.get(&SHELLY_COMPANY_ID)?;
    bluehome_core::bthome::service_data(advertisement)?;
    let data = Advertisement {
        name: None,
        manufacturer_data: Default::default(),
        ..advertisement.clone()
    };
    let mut response = Advertisement {
        name: advertisement.name.clone(),
        address: advertisement.address,
        rssi: advertisement.rssi,
        tx_power: advertisement.tx_power,
        ..Advertisement::default()
    };
    response
        .manufacturer_data
        .insert(SHELLY_COMPANY_ID, manufacturer.clone());
    Some([data, response])
}

/// Whether a running scan reports this event, as Chrome matches `requestLEScan` filters: `name`
/// and `namePrefix` against the event's own name, `services` against the UUIDs it advertises;
/// `manufacturerData` is ignored (crbug.com/41310835).
fn scan_accepts(scan: &ScanOptions, event: &Advertisement) -> bool {
    let name = event.name.as_deref();
    scan.accept_all_advertisements
        || scan.filters.iter().any(|f| {
            f.name.as_deref().is_none_or(|want| name == Some(want))
                && f.name_prefix
                    .as_deref()
                    .is_none_or(|prefix| name.is_some_and(|n| n.starts_with(prefix)))
                && f.services.iter().all(|s| event.service_uuids.contains(s))
        })
}

/// The GATT server of a simulated device. A peer that needs the time reads the mock's clock
/// (see [`MockBackend::clock`]).
///
/// A peer reports an operation that needs an encrypted link with an [`ErrorKind::NotPaired`]
/// error; the mock then pairs through [`GattPeer::pair`] where the platform pairs on demand. An
/// [`ErrorKind::Disconnected`] error means the device dropped the link (it restarted, or went out
/// of range): the mock disconnects and fires the event.
pub trait GattPeer {
    /// A central connected.
    fn connect(&mut self) -> Result<(), BleError> {
        Ok(())
    }
    /// The central disconnected.
    fn disconnect(&mut self) {}
    /// The operating system pairs with the device (on demand, or from its settings).
    fn pair(&mut self) -> Result<(), BleError> {
        Err(not_paired())
    }
    /// Reads a characteristic.
    fn read(&mut self, characteristic: Characteristic) -> Result<Vec<u8>, BleError>;
    /// Writes a characteristic.
    fn write(&mut self, characteristic: Characteristic, value: &[u8]) -> Result<(), BleError>;
}

/// Chrome's error for an operation on a link that must be paired first.
pub fn not_paired() -> BleError {
    BleError::new(
        ErrorKind::NotPaired,
        "NetworkError: GATT Error: Not paired.",
    )
}

/// What Chrome reports when a device answers a GATT operation with an ATT error: the page never
/// sees the code, only one of a few texts (chromium `bluetooth_error.cc`; the GATT error codes
/// are sorted in `device/bluetooth`). For peers built on the core simulator.
pub fn att_failure(error: AttError) -> BleError {
    match error {
        AttError::Disconnected => BleError::new(
            ErrorKind::Disconnected,
            "NetworkError: GATT Server is disconnected. Cannot perform GATT operations.",
        ),
        AttError::InsufficientAuthentication => not_paired(),
        AttError::WriteNotPermitted => BleError::new(
            ErrorKind::NotPermitted,
            "NotSupportedError: GATT operation not permitted.",
        ),
        AttError::RequestNotSupported => BleError::new(
            ErrorKind::Gatt,
            "NotSupportedError: GATT Error: Not supported.",
        ),
        AttError::AttributeNotFound => BleError::new(
            ErrorKind::NotFound,
            "NotFoundError: No Characteristics matching UUID found in Service.",
        ),
        _ => BleError::new(
            ErrorKind::Busy,
            "NotSupportedError: GATT operation failed for unknown reason.",
        ),
    }
}

/// Something that produces advertisements as simulated time passes.
pub trait AdvertisementSource {
    /// The advertisements due at `now_ms` (device id, advertisement; the name is inside it).
    fn poll(&mut self, now_ms: u64) -> Vec<(DeviceId, Advertisement)>;
}

/// Runs one of the mock's futures to its end outside an executor (native tests). They wait on
/// nothing but a yield (a GATT operation lets other tasks run once), so a few polls finish them;
/// a connect made to hang never does, which is a test's mistake here.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1_000 {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("a mock future never finished (a hanging connect?)")
}

/// Lets other tasks run once: a GATT operation takes time on a real radio, and this is where an
/// overlapping one can start.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

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

/// A connect in progress: settled by the device, or aborted by `disconnect()`.
#[derive(Default)]
struct PendingConnect {
    aborted: bool,
    waker: Option<std::task::Waker>,
}

#[derive(Default)]
struct MockDevice {
    name: Option<String>,
    last_advertisement: Option<Advertisement>,
    peer: Option<Box<dyn GattPeer>>,
    granted: bool,
    connect_hangs: bool,
    connecting: Option<Rc<RefCell<PendingConnect>>>,
    /// A GATT operation is under way.
    busy: bool,
}

#[derive(Default)]
struct MockState {
    platform: Platform,
    page: PageActivity,
    scan_prompt: ScanPrompt,
    /// The scan the browser runs (ended by the page or by the browser).
    scan: Option<ScanOptions>,
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
}

/// The in-memory backend.
pub struct MockBackend {
    capabilities: Capabilities,
    now_ms: Rc<std::cell::Cell<u64>>,
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
        Self {
            capabilities,
            now_ms: Rc::new(std::cell::Cell::new(0)),
            subscribers: Subscribers::default(),
            state: RefCell::new(MockState::default()),
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
        self.state
            .borrow_mut()
            .devices
            .entry(id.clone())
            .or_default()
            .connect_hangs = hangs;
    }

    /// Whether a connect to the device is pending.
    pub fn is_connecting(&self, id: &DeviceId) -> bool {
        self.state
            .borrow()
            .devices
            .get(id)
            .is_some_and(|d| d.connecting.is_some())
    }

    /// Sets the answer to the next `requestLEScan` permission prompts.
    pub fn set_scan_prompt(&self, answer: ScanPrompt) {
        self.state.borrow_mut().scan_prompt = answer;
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
    pub fn scan_options(&self) -> Option<ScanOptions> {
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

    /// Advances simulated time: polls every source and delivers what they advertise.
    pub fn tick(&self, now_ms: u64) {
        self.now_ms.set(now_ms);
        let mut sources = std::mem::take(&mut self.state.borrow_mut().sources);
        let due: Vec<_> = sources.iter_mut().flat_map(|s| s.poll(now_ms)).collect();
        {
            let mut state = self.state.borrow_mut();
            sources.append(&mut state.sources);
            state.sources = sources;
        }
        for (id, adv) in due {
            self.advertise(&id, adv);
        }
    }

    /// A device sends one packet: dispatched to the scan if it accepts the event and to the
    /// device if its watch is armed, each delivered as [`Dispatch::delivers`] says.
    pub fn advertise(&self, id: &DeviceId, packet: Advertisement) {
        let (event, deliveries) = {
            let mut state = self.state.borrow_mut();
            let platform = state.platform;
            let entry = state.devices.entry(id.clone()).or_default();
            if packet.name.is_some() {
                entry.name.clone_from(&packet.name);
            }
            entry.last_advertisement = Some(packet.clone());
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
            let deliveries = dispatched
                .into_iter()
                .filter(|&(dispatch, fired)| fired && dispatch.delivers(watched))
                .count();
            (event, deliveries)
        };
        for _ in 0..deliveries {
            self.subscribers.emit(&BleEvent::Advertisement {
                device: id.clone(),
                advertisement: event.clone(),
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

    /// The device pushes a notification (delivered if notifications were started).
    pub fn notify(&self, id: &DeviceId, characteristic: Characteristic, value: Vec<u8>) {
        let active = self
            .state
            .borrow()
            .notifying
            .contains(&(id.clone(), characteristic));
        if active {
            self.subscribers.emit(&BleEvent::Notification {
                device: id.clone(),
                characteristic,
                value,
            });
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

    fn not_connected() -> BleError {
        BleError::new(
            ErrorKind::Disconnected,
            "NetworkError: GATT Server is disconnected. Cannot perform GATT operations.",
        )
    }

    /// One GATT operation: one at a time per device, taking a moment (another task may try to
    /// start one meanwhile and is refused), pairing on demand where the platform does, and a link
    /// the device dropped ends in a disconnection.
    async fn gatt_op<T>(
        &self,
        id: &DeviceId,
        op: impl Fn(&mut dyn GattPeer) -> Result<T, BleError>,
    ) -> Result<T, BleError> {
        {
            let mut state = self.state.borrow_mut();
            if !state.connected.contains(id) {
                return Err(Self::not_connected());
            }
            let device = state.devices.get_mut(id).ok_or_else(Self::not_connected)?;
            if device.busy {
                return Err(BleError::new(
                    ErrorKind::Busy,
                    "NetworkError: GATT operation already in progress.",
                ));
            }
            device.busy = true;
        }
        yield_once().await;
        let result = self.run_on_peer(id, &op);
        if let Some(device) = self.state.borrow_mut().devices.get_mut(id) {
            device.busy = false;
        }
        if result
            .as_ref()
            .is_err_and(|e| e.kind == ErrorKind::Disconnected)
        {
            self.disconnect(id);
        }
        result
    }

    fn run_on_peer<T>(
        &self,
        id: &DeviceId,
        op: &impl Fn(&mut dyn GattPeer) -> Result<T, BleError>,
    ) -> Result<T, BleError> {
        // Take the peer out while it runs, so it may not re-enter the backend's state.
        let (mut peer, platform) = {
            let mut state = self.state.borrow_mut();
            if !state.connected.contains(id) {
                return Err(Self::not_connected());
            }
            let platform = state.platform;
            let peer = state
                .devices
                .get_mut(id)
                .and_then(|d| d.peer.take())
                .ok_or_else(|| {
                    BleError::new(
                        ErrorKind::NotFound,
                        "NotFoundError: No Services found in device.",
                    )
                })?;
            (peer, platform)
        };
        let mut result = op(peer.as_mut());
        if platform.pairs_on_demand()
            && result
                .as_ref()
                .is_err_and(|e| e.kind == ErrorKind::NotPaired)
        {
            result = match peer.pair() {
                Ok(()) => op(peer.as_mut()),
                // Whatever the peer says, Chrome reports a failed pairing this one way.
                Err(_) => Err(not_paired()),
            };
        }
        if let Some(device) = self.state.borrow_mut().devices.get_mut(id) {
            device.peer = Some(peer);
        }
        result
    }
}

impl BleBackend for MockBackend {
    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn subscribe(&self, sink: EventSink) -> Subscription {
        self.subscribers.add(sink)
    }

    fn unsubscribe(&self, subscription: Subscription) {
        self.subscribers.remove(subscription);
    }

    async fn start_scan(&self, options: &ScanOptions) -> Result<(), BleError> {
        self.require(self.capabilities.request_le_scan, "requestLEScan")?;
        if !options.accept_all_advertisements && options.filters.is_empty() {
            return Err(BleError::new(
                ErrorKind::InvalidRequest,
                "requestLEScan needs filters or acceptAllAdvertisements",
            ));
        }
        let mut state = self.state.borrow_mut();
        if state.scan_prompt == ScanPrompt::Cancel {
            return Err(BleError::new(
                ErrorKind::UserCancelled,
                "InvalidStateError: User canceled the permission prompt.",
            ));
        }
        state.scan = Some(options.clone());
        state.scan_reported.clear();
        Ok(())
    }

    fn stop_scan(&self) {
        let was = self.state.borrow_mut().scan.take().is_some();
        if was {
            self.subscribers.emit(&BleEvent::ScanStopped {
                reason: ScanEnd::Stopped,
            });
        }
    }

    fn is_scanning(&self) -> bool {
        self.state.borrow().scan.is_some()
    }

    async fn request_device(&self, options: &RequestDeviceOptions) -> Result<DeviceInfo, BleError> {
        self.require(self.capabilities.request_device, "requestDevice")?;
        if options.accept_all_devices != options.filters.is_empty() {
            return Err(BleError::new(
                ErrorKind::InvalidRequest,
                "Either 'filters' should be present or 'acceptAllDevices' should be true, but not both.",
            ));
        }
        let mut state = self.state.borrow_mut();
        let chooser = state.chooser.clone();
        // Chrome matches a filter's `services` against the UUIDs a device advertises (or has
        // shown before), never against its service data.
        let offered = |filter: &DeviceFilter, device: &MockDevice| {
            let adv = device.last_advertisement.as_ref();
            filter.matches(device.name.as_deref(), adv)
                && filter
                    .services
                    .iter()
                    .all(|s| adv.is_some_and(|a| a.service_uuids.contains(s)))
        };
        let matches = |device: &MockDevice| {
            (options.accept_all_devices || options.filters.iter().any(|f| offered(f, device)))
                && !options.exclusion_filters.iter().any(|f| offered(f, device))
        };
        let picked = match chooser {
            ChooserAnswer::Cancel => None,
            // Connectable devices (with a GATT server) first, as a user would pick them.
            ChooserAnswer::FirstMatch => state
                .devices
                .iter()
                .filter(|(_, d)| matches(d))
                .min_by_key(|(_, d)| d.peer.is_none())
                .map(|(id, _)| id.clone()),
            ChooserAnswer::Device(id) => state
                .devices
                .get(&id)
                .filter(|d| matches(d))
                .map(|_| id.clone()),
        };
        let Some(id) = picked else {
            return Err(BleError::new(
                ErrorKind::UserCancelled,
                "NotFoundError: User cancelled the requestDevice() chooser.",
            ));
        };
        let device = state.devices.get_mut(&id).ok_or_else(|| {
            BleError::new(
                ErrorKind::NotFound,
                "NotFoundError: User selected a device that doesn't exist anymore.",
            )
        })?;
        device.granted = true;
        Ok(DeviceInfo {
            id,
            name: device.name.clone(),
        })
    }

    async fn get_devices(&self) -> Result<Vec<DeviceInfo>, BleError> {
        self.require(self.capabilities.get_devices, "getDevices")?;
        Ok(self
            .state
            .borrow()
            .devices
            .iter()
            .filter(|(_, d)| d.granted)
            .map(|(id, d)| DeviceInfo {
                id: id.clone(),
                name: d.name.clone(),
            })
            .collect())
    }

    async fn watch_advertisements(&self, device: &DeviceId) -> Result<(), BleError> {
        self.require(
            self.capabilities.watch_advertisements,
            "watchAdvertisements",
        )?;
        let mut state = self.state.borrow_mut();
        if !state.devices.get(device).is_some_and(|d| d.granted) {
            return Err(BleError::new(
                ErrorKind::NotFound,
                format!("device {device} was not granted to this page"),
            ));
        }
        // While `watchingAdvertisements` is true Chrome resolves at once and re-arms nothing.
        if state.watching.insert(device.clone()) {
            state.armed.insert(device.clone());
        }
        Ok(())
    }

    fn unwatch_advertisements(&self, device: &DeviceId) {
        let mut state = self.state.borrow_mut();
        state.watching.remove(device);
        state.armed.remove(device);
    }

    async fn connect(&self, device: &DeviceId) -> Result<(), BleError> {
        let pending = {
            let mut state = self.state.borrow_mut();
            let Some(entry) = state.devices.get_mut(device).filter(|d| d.granted) else {
                // Unreachable in Chrome: a page only holds devices it was granted.
                return Err(BleError::new(
                    ErrorKind::NotAllowed,
                    "Device was not authorized (pick it in the chooser first).",
                ));
            };
            let pending = Rc::new(RefCell::new(PendingConnect::default()));
            entry.connecting = Some(Rc::clone(&pending));
            pending
        };
        // The radio takes a moment; a device made to hang never answers.
        yield_once().await;
        std::future::poll_fn(|cx| {
            let hangs = self
                .state
                .borrow()
                .devices
                .get(device)
                .is_some_and(|d| d.connect_hangs);
            let mut p = pending.borrow_mut();
            if hangs && !p.aborted {
                p.waker = Some(cx.waker().clone());
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        let mut state = self.state.borrow_mut();
        let Some(entry) = state.devices.get_mut(device) else {
            return Err(BleError::new(
                ErrorKind::NotFound,
                "NotFoundError: User selected a device that doesn't exist anymore.",
            ));
        };
        if entry
            .connecting
            .as_ref()
            .is_some_and(|p| Rc::ptr_eq(p, &pending))
        {
            entry.connecting = None;
        }
        if pending.borrow().aborted {
            return Err(BleError::new(
                ErrorKind::Disconnected,
                "AbortError: Connection is no longer valid.",
            ));
        }
        let mut peer = entry.peer.take().ok_or_else(|| {
            BleError::new(
                ErrorKind::Gatt,
                "NetworkError: Connection failed for unknown reason.",
            )
        })?;
        drop(state);
        let result = peer.connect();
        let mut state = self.state.borrow_mut();
        if let Some(entry) = state.devices.get_mut(device) {
            entry.peer = Some(peer);
        }
        if result.is_ok() {
            state.connected.insert(device.clone());
        }
        result
    }

    fn disconnect(&self, device: &DeviceId) {
        let was = {
            let mut state = self.state.borrow_mut();
            state.notifying.retain(|(d, _)| d != device);
            let was = state.connected.remove(device);
            if let Some(entry) = state.devices.get_mut(device) {
                if let Some(pending) = entry.connecting.take() {
                    let mut p = pending.borrow_mut();
                    p.aborted = true;
                    if let Some(waker) = p.waker.take() {
                        waker.wake();
                    }
                }
                if was && let Some(peer) = entry.peer.as_mut() {
                    peer.disconnect();
                }
            }
            was
        };
        // Chrome fires gattserverdisconnected inside disconnect(), before it returns.
        if was {
            self.subscribers.emit(&BleEvent::Disconnected {
                device: device.clone(),
            });
        }
    }

    fn is_connected(&self, device: &DeviceId) -> bool {
        self.state.borrow().connected.contains(device)
    }

    async fn forget(&self, device: &DeviceId) -> Result<(), BleError> {
        self.require(self.capabilities.forget, "BluetoothDevice.forget()")?;
        self.unwatch_advertisements(device);
        self.disconnect(device);
        if let Some(entry) = self.state.borrow_mut().devices.get_mut(device) {
            entry.granted = false;
        }
        Ok(())
    }

    async fn read(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<Vec<u8>, BleError> {
        self.gatt_op(device, |peer| peer.read(characteristic)).await
    }

    async fn write(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
        value: &[u8],
        _mode: WriteMode,
    ) -> Result<(), BleError> {
        if value.len() > MAX_GATT_VALUE {
            return Err(BleError::new(
                ErrorKind::Gatt,
                "InvalidModificationError: Value can't exceed 512 bytes.",
            ));
        }
        self.gatt_op(device, |peer| peer.write(characteristic, value))
            .await
    }

    async fn start_notifications(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<(), BleError> {
        self.gatt_op(device, |_| Ok(())).await?;
        self.state
            .borrow_mut()
            .notifying
            .insert((device.clone(), characteristic));
        Ok(())
    }

    async fn stop_notifications(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<(), BleError> {
        self.state
            .borrow_mut()
            .notifying
            .remove(&(device.clone(), characteristic));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use bluehome_core::Uuid;

    use super::*;

    fn recorder(backend: &MockBackend) -> Rc<RefCell<Vec<BleEvent>>> {
        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&events);
        backend.subscribe(Rc::new(move |e: &BleEvent| {
            sink.borrow_mut().push(e.clone())
        }));
        events
    }

    struct Echo(Vec<u8>);
    impl GattPeer for Echo {
        fn read(&mut self, _: Characteristic) -> Result<Vec<u8>, BleError> {
            Ok(self.0.clone())
        }
        fn write(&mut self, _: Characteristic, value: &[u8]) -> Result<(), BleError> {
            self.0 = value.to_vec();
            Ok(())
        }
    }

    const CHAR: Characteristic = Characteristic {
        service: Uuid::BTHOME_V2,
        uuid: Uuid::BTHOME_V1,
    };

    #[test]
    fn advertisements_flow_only_while_scanning() {
        let backend = MockBackend::new();
        let events = recorder(&backend);
        let id = DeviceId::from("a");
        backend.advertise(&id, Advertisement::default());
        block_on(backend.start_scan(&ScanOptions::default())).unwrap();
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
        let backend = MockBackend::new();
        let id = DeviceId::from("shelly");
        backend.set_gatt_peer(&id, Some("ShellyPlus1"), Box::new(Echo(vec![])));
        assert_eq!(
            block_on(backend.connect(&id)).unwrap_err().kind,
            ErrorKind::NotAllowed
        );
        let opts = RequestDeviceOptions {
            filters: vec![super::super::DeviceFilter {
                name_prefix: Some("Shelly".into()),
                ..Default::default()
            }],
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
        let backend = MockBackend::new();
        let events = recorder(&backend);
        let id = DeviceId::from("shelly");
        backend.set_gatt_peer(&id, Some("Shelly"), Box::new(Echo(vec![])));
        let all = RequestDeviceOptions {
            accept_all_devices: true,
            ..Default::default()
        };
        block_on(backend.request_device(&all)).unwrap();
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
        let backend = MockBackend::new();
        let events = recorder(&backend);
        let id = DeviceId::from("shelly");
        backend.set_gatt_peer(&id, Some("Shelly"), Box::new(Echo(vec![1])));
        backend.set_chooser(ChooserAnswer::Device(id.clone()));
        block_on(backend.request_device(&RequestDeviceOptions {
            accept_all_devices: true,
            ..Default::default()
        }))
        .unwrap();
        block_on(backend.connect(&id)).unwrap();
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

    fn granted(backend: &MockBackend, id: &DeviceId, peer: Box<dyn GattPeer>) {
        backend.set_gatt_peer(id, Some("Shelly"), peer);
        backend.set_chooser(ChooserAnswer::Device(id.clone()));
        block_on(backend.request_device(&RequestDeviceOptions {
            accept_all_devices: true,
            ..Default::default()
        }))
        .unwrap();
    }

    /// Polls a future once (a mock GATT operation stops at its yield).
    fn poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
        f.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    }

    /// Chrome runs one GATT operation at a time per device and rejects an overlapping one.
    #[test]
    fn one_gatt_operation_at_a_time_per_device() {
        let backend = MockBackend::new();
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

    /// A connect can pend forever (macOS); disconnect() aborts it, and fires no event for a
    /// device that never connected.
    #[test]
    fn a_hanging_connect_is_aborted_by_disconnect() {
        let backend = MockBackend::new();
        let events = recorder(&backend);
        let id = DeviceId::from("far");
        granted(&backend, &id, Box::new(Echo(vec![])));
        backend.set_connect_hangs(&id, true);
        let mut connect = std::pin::pin!(backend.connect(&id));
        for _ in 0..10 {
            assert!(poll_once(connect.as_mut()).is_pending());
        }
        assert!(backend.is_connecting(&id));
        backend.disconnect(&id);
        let std::task::Poll::Ready(Err(err)) = poll_once(connect.as_mut()) else {
            panic!("the connect should end when disconnect() aborts it")
        };
        assert!(err.message.starts_with("AbortError"), "{err}");
        assert!(!backend.is_connecting(&id) && !backend.is_connected(&id));
        assert!(events.borrow().is_empty(), "{:?}", events.borrow());
    }

    /// Chooser `services` filters match the UUIDs a device advertises, not its service data.
    #[test]
    fn chooser_services_filters_need_advertised_uuids() {
        let backend = MockBackend::new();
        let id = DeviceId::from("sensor");
        let mut adv = Advertisement::default();
        adv.service_data.insert(Uuid::BTHOME_V2, vec![0x40]);
        backend.advertise(&id, adv.clone());
        let options = RequestDeviceOptions {
            filters: vec![super::super::DeviceFilter {
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

    /// A peer that wants an encrypted link until it is paired.
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
    }

    /// Pairing on demand happens on Android and macOS only; elsewhere "Not paired." stands.
    #[test]
    fn pairing_on_demand_only_on_android_and_macos() {
        for (platform, pairs) in [
            (Platform::Linux, false),
            (Platform::Windows, false),
            (Platform::MacOs, true),
            (Platform::Android, true),
        ] {
            let backend = MockBackend::new();
            backend.set_platform(platform);
            let paired = Rc::new(std::cell::Cell::new(false));
            let id = DeviceId::from("shelly");
            granted(
                &backend,
                &id,
                Box::new(Guarded {
                    paired: Rc::clone(&paired),
                }),
            );
            block_on(backend.connect(&id)).unwrap();
            let read = block_on(backend.read(&id, CHAR));
            assert_eq!(read.is_ok(), pairs, "{platform:?}: {read:?}");
            assert_eq!(paired.get(), pairs, "{platform:?}");
            if !pairs {
                assert_eq!(
                    read.unwrap_err().message,
                    "NetworkError: GATT Error: Not paired."
                );
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
        }
        let backend = MockBackend::new();
        let events = recorder(&backend);
        let id = DeviceId::from("gone");
        granted(&backend, &id, Box::new(Gone));
        block_on(backend.connect(&id)).unwrap();
        assert_eq!(
            block_on(backend.read(&id, CHAR)).unwrap_err().kind,
            ErrorKind::Disconnected
        );
        assert!(!backend.is_connected(&id));
        assert_eq!(*events.borrow(), [BleEvent::Disconnected { device: id }]);
    }

    #[test]
    fn cancelled_chooser_is_a_user_cancel() {
        let backend = MockBackend::new();
        backend.add_device(&DeviceId::from("x"), Some("x"));
        backend.set_chooser(ChooserAnswer::Cancel);
        let err = block_on(backend.request_device(&RequestDeviceOptions {
            accept_all_devices: true,
            ..Default::default()
        }))
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::UserCancelled);
    }

    fn advertisements(events: &RefCell<Vec<BleEvent>>) -> Vec<Advertisement> {
        events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                BleEvent::Advertisement { advertisement, .. } => Some(advertisement.clone()),
                _ => None,
            })
            .collect()
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
            .insert(SHELLY_COMPANY_ID, vec![0x0B, 0x03, 0x00]);
        adv
    }

    #[test]
    fn hiding_the_page_ends_the_scan_and_every_watch_silently() {
        let backend = MockBackend::new();
        let id = DeviceId::from("sensor");
        watched(&backend, &id);
        block_on(backend.start_scan(&ScanOptions::default())).unwrap();
        let events = recorder(&backend);
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
        assert!(advertisements(&events).is_empty());
        // The stale flag: watching again resolves and re-arms nothing.
        assert!(backend.watching_advertisements(&id));
        block_on(backend.watch_advertisements(&id)).unwrap();
        backend.advertise(&id, blu());
        assert!(advertisements(&events).is_empty());
        // Abort, then watch again: re-armed.
        backend.unwatch_advertisements(&id);
        block_on(backend.watch_advertisements(&id)).unwrap();
        backend.advertise(&id, blu());
        assert_eq!(advertisements(&events).len(), 1);
        assert_eq!(events.borrow()[2], BleEvent::PageActivity { active: true });
    }

    #[test]
    fn losing_focus_ends_them_too_and_regaining_it_reports_an_active_page() {
        let backend = MockBackend::new();
        let id = DeviceId::from("sensor");
        watched(&backend, &id);
        let events = recorder(&backend);
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

    #[test]
    fn a_watched_and_scanned_device_is_delivered_once() {
        let backend = MockBackend::new();
        let id = DeviceId::from("sensor");
        watched(&backend, &id);
        block_on(backend.start_scan(&ScanOptions::default())).unwrap();
        let events = recorder(&backend);
        backend.advertise(&id, blu());
        assert_eq!(advertisements(&events).len(), 1);
        // Unwatched, it comes from the scan.
        backend.unwatch_advertisements(&id);
        backend.advertise(&id, blu());
        assert_eq!(advertisements(&events).len(), 2);
    }

    #[test]
    fn advertisements_never_carry_the_address() {
        let backend = MockBackend::new();
        let events = recorder(&backend);
        block_on(backend.start_scan(&ScanOptions::default())).unwrap();
        backend.advertise(&DeviceId::from("a"), blu());
        assert_eq!(advertisements(&events)[0].address, None);
    }

    fn name_prefix_scan(prefix: &str) -> ScanOptions {
        ScanOptions {
            filters: vec![super::super::DeviceFilter {
                name_prefix: Some(prefix.into()),
                ..Default::default()
            }],
            accept_all_advertisements: false,
            keep_repeated_devices: true,
        }
    }

    #[test]
    fn on_windows_a_name_filter_drops_the_nameless_data_packet_of_a_blu_sensor() {
        let backend = MockBackend::new();
        let events = recorder(&backend);
        block_on(backend.start_scan(&name_prefix_scan("SBHT"))).unwrap();
        backend.advertise_as_sent(&DeviceId::from("blu"), blu());
        let got = advertisements(&events);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].name.as_deref(), Some("SBHT-003C"));
        assert!(got[0].service_data.is_empty(), "only the scan response");
        assert!(got[0].manufacturer_data.contains_key(&SHELLY_COMPANY_ID));
    }

    #[test]
    fn elsewhere_every_event_carries_the_name_once_heard() {
        let backend = MockBackend::new();
        backend.set_platform(Platform::MacOs);
        let events = recorder(&backend);
        block_on(backend.start_scan(&name_prefix_scan("SBHT"))).unwrap();
        let id = DeviceId::from("blu");
        // Nothing is known of the device before its first scan response.
        backend.advertise_as_sent(&id, blu());
        backend.advertise_as_sent(&id, blu());
        let got = advertisements(&events);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1].name.as_deref(), Some("SBHT-003C"));
        assert!(got[1].service_data.contains_key(&Uuid::BTHOME_V2));
    }

    #[test]
    fn scans_ignore_manufacturer_data_filters() {
        let backend = MockBackend::new();
        let events = recorder(&backend);
        let shelly_only = ScanOptions {
            filters: vec![super::super::DeviceFilter {
                manufacturer_data: vec![super::super::ManufacturerDataFilter {
                    company_id: SHELLY_COMPANY_ID,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            accept_all_advertisements: false,
            keep_repeated_devices: true,
        };
        block_on(backend.start_scan(&shelly_only)).unwrap();
        backend.advertise(&DeviceId::from("atc"), Advertisement::default());
        assert_eq!(advertisements(&events).len(), 1);
    }

    #[test]
    fn without_keep_repeated_devices_a_scan_reports_each_device_once() {
        let backend = MockBackend::new();
        let events = recorder(&backend);
        let once = ScanOptions {
            keep_repeated_devices: false,
            ..ScanOptions::default()
        };
        block_on(backend.start_scan(&once)).unwrap();
        let id = DeviceId::from("a");
        backend.advertise(&id, blu());
        backend.advertise(&id, blu());
        assert_eq!(advertisements(&events).len(), 1);
    }

    #[test]
    fn a_closed_scan_prompt_fails_in_chromes_words() {
        let backend = MockBackend::new();
        backend.set_scan_prompt(ScanPrompt::Cancel);
        let err = block_on(backend.start_scan(&ScanOptions::default())).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UserCancelled);
        assert_eq!(
            err.message,
            "InvalidStateError: User canceled the permission prompt."
        );
        assert!(!backend.is_scanning());
    }

    #[test]
    fn blu_packets_split_name_and_manufacturer_data_from_the_bthome_data() {
        let [data, response] = shelly_blu_packets(&blu()).unwrap();
        assert_eq!(data.name, None);
        assert!(data.manufacturer_data.is_empty());
        assert!(data.service_data.contains_key(&Uuid::BTHOME_V2));
        assert_eq!(response.name.as_deref(), Some("SBHT-003C"));
        assert!(response.service_data.is_empty());
        assert!(response.manufacturer_data.contains_key(&SHELLY_COMPANY_ID));
        // Anything else is one packet.
        assert!(shelly_blu_packets(&Advertisement::default()).is_none());
    }
}
