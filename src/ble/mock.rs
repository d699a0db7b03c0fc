//! The mock backend: a scripted, in-memory Bluetooth world.
//!
//! It behaves like the web backend as far as the app can tell (events, grants, GATT), but its
//! devices are simulated: advertisements come from [`AdvertisementSource`]s (the core simulator's
//! sensors in demo mode, scripted ones in tests) or from [`MockBackend::advertise`], and GATT
//! requests go to a [`GattPeer`] (the core's simulated Shelly gateway). Time is driven from outside
//! through [`MockBackend::tick`], so tests are deterministic and need no timers.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::rc::Rc;

use bluehome_core::Advertisement;

use super::{
    BleBackend, BleError, BleEvent, Capabilities, Characteristic, DeviceId, DeviceInfo, ErrorKind,
    EventSink, MAX_GATT_VALUE, RequestDeviceOptions, ScanOptions, Subscribers, Subscription,
    WriteMode,
};

/// The GATT server of a simulated device. A peer that needs the time reads the mock's clock
/// (see [`MockBackend::clock`]).
pub trait GattPeer {
    /// A central connected.
    fn connect(&mut self) -> Result<(), BleError> {
        Ok(())
    }
    /// The central disconnected.
    fn disconnect(&mut self) {}
    /// Reads a characteristic.
    fn read(&mut self, characteristic: Characteristic) -> Result<Vec<u8>, BleError>;
    /// Writes a characteristic.
    fn write(&mut self, characteristic: Characteristic, value: &[u8]) -> Result<(), BleError>;
}

/// Something that produces advertisements as simulated time passes.
pub trait AdvertisementSource {
    /// The advertisements due at `now_ms` (device id, advertisement; the name is inside it).
    fn poll(&mut self, now_ms: u64) -> Vec<(DeviceId, Advertisement)>;
}

/// Runs one of the mock's futures to its end outside an executor (native tests): they never
/// wait, so one poll finishes them.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => unreachable!("mock futures are always ready"),
    }
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

#[derive(Default)]
struct MockDevice {
    name: Option<String>,
    last_advertisement: Option<Advertisement>,
    peer: Option<Box<dyn GattPeer>>,
    granted: bool,
}

#[derive(Default)]
struct MockState {
    scan: Option<ScanOptions>,
    watched: BTreeSet<DeviceId>,
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

    /// A device advertises: delivered when a scan accepts it or the device is watched.
    pub fn advertise(&self, id: &DeviceId, advertisement: Advertisement) {
        let deliver = {
            let mut state = self.state.borrow_mut();
            let entry = state.devices.entry(id.clone()).or_default();
            if advertisement.name.is_some() {
                entry.name.clone_from(&advertisement.name);
            }
            entry.last_advertisement = Some(advertisement.clone());
            let name = entry.name.clone();
            let by_scan = state.scan.as_ref().is_some_and(|scan| {
                scan.accept_all_advertisements
                    || scan
                        .filters
                        .iter()
                        .any(|f| f.matches(name.as_deref(), Some(&advertisement)))
            });
            by_scan || state.watched.contains(id)
        };
        if deliver {
            self.subscribers.emit(&BleEvent::Advertisement {
                device: id.clone(),
                advertisement,
            });
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

    fn with_peer<T>(
        &self,
        id: &DeviceId,
        op: impl FnOnce(&mut dyn GattPeer) -> Result<T, BleError>,
    ) -> Result<T, BleError> {
        // Take the peer out while it runs, so it may not re-enter the backend's state.
        let mut peer = {
            let mut state = self.state.borrow_mut();
            if !state.connected.contains(id) {
                return Err(BleError::new(
                    ErrorKind::Disconnected,
                    "GATT Server is disconnected. Cannot perform GATT operations.",
                ));
            }
            state
                .devices
                .get_mut(id)
                .and_then(|d| d.peer.take())
                .ok_or_else(|| BleError::new(ErrorKind::NotFound, "No Services found in device."))?
        };
        let result = op(peer.as_mut());
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
        self.state.borrow_mut().scan = Some(options.clone());
        Ok(())
    }

    fn stop_scan(&self) {
        let was = self.state.borrow_mut().scan.take().is_some();
        if was {
            self.subscribers.emit(&BleEvent::ScanStopped);
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
        let matches = |device: &MockDevice| {
            let name = device.name.as_deref();
            let adv = device.last_advertisement.as_ref();
            (options.accept_all_devices || options.filters.iter().any(|f| f.matches(name, adv)))
                && !options
                    .exclusion_filters
                    .iter()
                    .any(|f| f.matches(name, adv))
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
                "User cancelled the requestDevice() chooser.",
            ));
        };
        let device = state
            .devices
            .get_mut(&id)
            .ok_or_else(|| BleError::new(ErrorKind::NotFound, "device vanished"))?;
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
        state.watched.insert(device.clone());
        Ok(())
    }

    fn unwatch_advertisements(&self, device: &DeviceId) {
        self.state.borrow_mut().watched.remove(device);
    }

    async fn connect(&self, device: &DeviceId) -> Result<(), BleError> {
        let mut peer = {
            let mut state = self.state.borrow_mut();
            let Some(entry) = state.devices.get_mut(device).filter(|d| d.granted) else {
                return Err(BleError::new(
                    ErrorKind::NotAllowed,
                    "Device was not authorized (pick it in the chooser first).",
                ));
            };
            entry.peer.take().ok_or_else(|| {
                BleError::new(ErrorKind::Gatt, "Connection failed for unknown reason.")
            })?
        };
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
            if was && let Some(peer) = state.devices.get_mut(device).and_then(|d| d.peer.as_mut()) {
                peer.disconnect();
            }
            was
        };
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
        self.with_peer(device, |peer| peer.read(characteristic))
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
                "Value can't exceed 512 bytes.",
            ));
        }
        self.with_peer(device, |peer| peer.write(characteristic, value))
    }

    async fn start_notifications(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<(), BleError> {
        self.with_peer(device, |_| Ok(()))?;
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
        assert_eq!(events[1], BleEvent::ScanStopped);
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
}
