//! [`Backend`]: the one backend the app runs, chosen at start-up, and its Leptos context.

use std::rc::Rc;

use bluehome_core::Uuid;
use leptos::prelude::*;

use super::mock::MockBackend;
#[cfg(target_arch = "wasm32")]
use super::web::WebBackend;
use super::{
    BleBackend, BleError, Capabilities, Characteristic, DeviceId, ErrorKind, EventSink,
    GrantedDevice, LeScanOptions, RequestDeviceOptions, Subscription, WriteMode,
};

/// Either backend, behind the one trait (an enum, so no boxed futures are needed).
#[derive(Debug)]
pub enum Backend {
    /// Web Bluetooth.
    #[cfg(target_arch = "wasm32")]
    Web(WebBackend),
    /// The simulator (demo mode and tests).
    Mock(MockBackend),
}

impl Backend {
    /// The mock inside, in demo mode (to drive its clock or add simulated devices).
    pub fn as_mock(&self) -> Option<&MockBackend> {
        match self {
            Self::Mock(mock) => Some(mock),
            #[cfg(target_arch = "wasm32")]
            Self::Web(_) => None,
        }
    }

    /// Whether this is the simulator.
    pub fn is_simulated(&self) -> bool {
        self.as_mock().is_some()
    }

    /// Connects, giving up after [`CONNECT_TIMEOUT_MS`]. Chrome's `connect()` has no timeout (on
    /// macOS it may never settle for a device that is not there), and `disconnect()` does not end
    /// one that has not settled (blink's `bluetooth_remote_gatt_server.cc`: `disconnect` returns at
    /// once unless connected): the attempt goes on and may connect later, holding the device's
    /// link with nobody using it. So an attempt given up on is left to settle, and a late
    /// connection is closed, unless a newer attempt to the device has begun since (Chrome settles
    /// them together, and the newer one's caller uses the link).
    pub async fn connect_in_time(self: Rc<Self>, device: &DeviceId) -> Result<(), ConnectFailure> {
        let attempt = latest_attempt::begin(device);
        let backend = Rc::clone(&self);
        let id = device.clone();
        let connect = Box::pin(async move { backend.connect(&id).await });
        let timer = std::pin::pin!(crate::platform::sleep_ms(CONNECT_TIMEOUT_MS));
        match futures::future::select(connect, timer).await {
            futures::future::Either::Left((result, _)) => result.map_err(ConnectFailure::Failed),
            futures::future::Either::Right(((), connect)) => {
                let device = device.clone();
                leptos::task::spawn_local(async move {
                    if connect.await.is_ok() && latest_attempt::is(&device, attempt) {
                        self.disconnect(&device);
                    }
                });
                Err(ConnectFailure::NoAnswer)
            }
        }
    }
}

/// The number of the latest [`Backend::connect_in_time`] per device (the app runs one backend).
mod latest_attempt {
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    use crate::ble::DeviceId;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
        static LATEST: RefCell<HashMap<DeviceId, u64>> = RefCell::default();
    }

    /// Numbers a new attempt to `device`.
    pub(super) fn begin(device: &DeviceId) -> u64 {
        let attempt = COUNT.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        LATEST.with(|l| l.borrow_mut().insert(device.clone(), attempt));
        attempt
    }

    /// Whether `attempt` is still the latest to `device`.
    pub(super) fn is(device: &DeviceId, attempt: u64) -> bool {
        LATEST.with(|l| l.borrow().get(device) == Some(&attempt))
    }
}

/// Why [`Backend::connect_in_time`] did not connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The browser's `connect()` failed.
    Failed(BleError),
    /// It did not settle within [`CONNECT_TIMEOUT_MS`]; a connection made later is closed.
    NoAnswer,
}

impl ConnectFailure {
    /// As a Bluetooth error (no answer is a [`ErrorKind::Timeout`]).
    pub fn into_ble_error(self) -> BleError {
        match self {
            Self::Failed(e) => e,
            Self::NoAnswer => BleError::new(ErrorKind::Timeout, self.to_string()),
        }
    }
}

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Failed(e) => e.fmt(f),
            Self::NoAnswer => write!(
                f,
                "no answer to the connection within {}; the page gave up on it (a connection made later is closed)",
                seconds_text(CONNECT_TIMEOUT_MS)
            ),
        }
    }
}

/// A time limit in seconds, with a tenth where it is not whole (tests shorten the limits below
/// a second).
fn seconds_text(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// How long a connection attempt may take (a device nearby answers in a second or two).
pub const CONNECT_TIMEOUT_MS: u64 = 15_000;

/// How long one GATT operation may take. Chrome may never settle one (WebBluetoothCG/
/// web-bluetooth#367 and #451: service lookups after a reload, on Windows); the bound is above
/// the Security Manager's 30 s pairing timeout (Core Specification Vol 3 Part H 3.4), as touching a
/// protected characteristic opens a pairing dialog (the system's, or Chrome's own on Windows and
/// Linux).
pub const GATT_TIMEOUT_MS: u64 = 35_000;

thread_local! {
    static GATT_LIMIT_MS: std::cell::Cell<u64> = const { std::cell::Cell::new(GATT_TIMEOUT_MS) };
}

/// Changes the GATT operations' time limit (tests shorten it; [`GATT_TIMEOUT_MS`] otherwise).
pub fn set_gatt_time_limit(ms: u64) {
    GATT_LIMIT_MS.with(|l| l.set(ms));
}

impl Backend {
    /// `op` on `device`, given up after the GATT time limit: the device is then disconnected,
    /// which makes Chrome reject the stuck operation and frees the device for the next one.
    #[cfg(target_arch = "wasm32")]
    async fn in_time<T>(
        &self,
        device: &DeviceId,
        op: impl std::future::Future<Output = Result<T, BleError>>,
    ) -> Result<T, BleError> {
        let limit = GATT_LIMIT_MS.with(std::cell::Cell::get);
        let op = std::pin::pin!(op);
        let timer = std::pin::pin!(crate::platform::sleep_ms(limit));
        match futures::future::select(op, timer).await {
            futures::future::Either::Left((result, _)) => result,
            futures::future::Either::Right(_) => {
                self.disconnect(device);
                Err(BleError::new(
                    ErrorKind::Timeout,
                    format!(
                        "the device did not answer within {}; the page disconnected it",
                        seconds_text(limit)
                    ),
                ))
            }
        }
    }

    /// Native builds (the mock in unit tests) have no browser timer: `op` as it is.
    #[cfg(not(target_arch = "wasm32"))]
    async fn in_time<T>(
        &self,
        _device: &DeviceId,
        op: impl std::future::Future<Output = Result<T, BleError>>,
    ) -> Result<T, BleError> {
        op.await
    }
}

macro_rules! delegate {
    ($self:ident, $b:ident => $e:expr) => {
        match $self {
            #[cfg(target_arch = "wasm32")]
            Backend::Web($b) => $e,
            Backend::Mock($b) => $e,
        }
    };
}

impl BleBackend for Backend {
    fn capabilities(&self) -> Capabilities {
        delegate!(self, b => b.capabilities())
    }
    fn subscribe(&self, sink: EventSink) -> Subscription {
        delegate!(self, b => b.subscribe(sink))
    }
    fn unsubscribe(&self, subscription: Subscription) {
        delegate!(self, b => b.unsubscribe(subscription))
    }
    async fn start_scan(&self, options: &LeScanOptions) -> Result<(), BleError> {
        delegate!(self, b => b.start_scan(options).await)
    }
    fn stop_scan(&self) {
        delegate!(self, b => b.stop_scan())
    }
    fn is_scanning(&self) -> bool {
        delegate!(self, b => b.is_scanning())
    }
    async fn request_device(
        &self,
        options: &RequestDeviceOptions,
    ) -> Result<GrantedDevice, BleError> {
        delegate!(self, b => b.request_device(options).await)
    }
    async fn get_devices(&self) -> Result<Vec<GrantedDevice>, BleError> {
        delegate!(self, b => b.get_devices().await)
    }
    async fn adapter_available(&self) -> Option<bool> {
        delegate!(self, b => b.adapter_available().await)
    }
    async fn watch_advertisements(&self, device: &DeviceId) -> Result<(), BleError> {
        delegate!(self, b => b.watch_advertisements(device).await)
    }
    fn unwatch_advertisements(&self, device: &DeviceId) {
        delegate!(self, b => b.unwatch_advertisements(device))
    }
    async fn connect(&self, device: &DeviceId) -> Result<(), BleError> {
        delegate!(self, b => b.connect(device).await)
    }
    fn disconnect(&self, device: &DeviceId) {
        delegate!(self, b => b.disconnect(device))
    }
    async fn forget(&self, device: &DeviceId) -> Result<(), BleError> {
        delegate!(self, b => b.forget(device).await)
    }
    fn is_connected(&self, device: &DeviceId) -> bool {
        delegate!(self, b => b.is_connected(device))
    }
    async fn characteristics(
        &self,
        device: &DeviceId,
        service: Uuid,
    ) -> Result<Vec<Uuid>, BleError> {
        let op = async { delegate!(self, b => b.characteristics(device, service).await) };
        self.in_time(device, op).await
    }
    async fn read(&self, device: &DeviceId, c: Characteristic) -> Result<Vec<u8>, BleError> {
        self.in_time(device, async {
            delegate!(self, b => b.read(device, c).await)
        })
        .await
    }
    async fn write(
        &self,
        device: &DeviceId,
        c: Characteristic,
        value: &[u8],
        mode: WriteMode,
    ) -> Result<(), BleError> {
        let op = async { delegate!(self, b => b.write(device, c, value, mode).await) };
        self.in_time(device, op).await
    }
    async fn start_notifications(
        &self,
        device: &DeviceId,
        c: Characteristic,
    ) -> Result<(), BleError> {
        let op = async { delegate!(self, b => b.start_notifications(device, c).await) };
        self.in_time(device, op).await
    }
    async fn stop_notifications(
        &self,
        device: &DeviceId,
        c: Characteristic,
    ) -> Result<(), BleError> {
        let op = async { delegate!(self, b => b.stop_notifications(device, c).await) };
        self.in_time(device, op).await
    }
}

/// The backend as Leptos context: a local (non-`Send`) value behind a `Copy` handle.
#[derive(Debug, Clone, Copy)]
pub struct BackendContext(StoredValue<Rc<Backend>, LocalStorage>);

impl BackendContext {
    /// Wraps a backend.
    pub fn new(backend: Rc<Backend>) -> Self {
        Self(StoredValue::new_local(backend))
    }

    /// The backend.
    pub fn get(&self) -> Rc<Backend> {
        self.0.get_value()
    }
}

/// Provides the backend to every component below.
pub fn provide_backend(backend: Rc<Backend>) -> BackendContext {
    let context = BackendContext::new(backend);
    provide_context(context);
    context
}

/// The backend the app runs (provided by `App`).
///
/// # Panics
/// When called outside `App` (a programming error, caught by every page test).
pub fn use_backend() -> Rc<Backend> {
    #[allow(clippy::expect_used)] // Every page is mounted under App, which provides it.
    expect_context::<BackendContext>().get()
}

/// Checks at compile time that both backends implement the trait.
#[allow(dead_code)]
fn assert_backends() {
    fn is_backend<B: BleBackend>() {}
    is_backend::<MockBackend>();
    is_backend::<Backend>();
    #[cfg(target_arch = "wasm32")]
    is_backend::<WebBackend>();
}
