//! "Set up a device": one chooser for Shelly RPC devices, Shelly BLU sensors and Improv Wi-Fi
//! devices, routed by the services the chosen device turns out to have; then the BLU flow
//! ([`blu`]) or the Improv flow ([`improv`]), or the Shelly session for a Shelly RPC device.
//!
//! [`SetupSession`] is a `Copy` handle of signals like the Shelly session: one action at a time
//! ([`SetupSession::busy`]), progress in [`SetupSession::steps`], an explained failure with a
//! retry, and every GATT operation the flows performed in [`SetupSession::gatt_log`].

pub mod blu;
pub mod explain;
pub mod improv;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use bluehome_core::shelly::rpc;
use bluehome_core::{Uuid, blu as core_blu, improv as core_improv};
use leptos::prelude::*;
use leptos::task::spawn_local;

use self::explain::SetupFailure;
use crate::ble::{
    Backend, BleBackend, BleError, Characteristic, DeviceId, ErrorKind, GrantedDevice,
    RequestDeviceOptions,
};
use crate::platform::{Os, sleep_ms};
use crate::state::AppStore;
use crate::state::shelly::explain::Stage;
use crate::state::shelly::{ShellySession, Step};

/// How long a connection attempt may take.
pub const CONNECT_TIMEOUT_MS: u64 = 15_000;

/// Which flow the chosen device is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// A Shelly BLU sensor (its settings service).
    Blu,
    /// An Improv Wi-Fi device.
    Improv,
}

/// One GATT operation a flow performed (the README's per-flow counts come from these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GattOp {
    /// `getPrimaryService` + `getCharacteristics` of a service.
    Discover(Uuid),
    /// A read.
    Read(Uuid),
    /// A write (with response).
    Write(Uuid),
    /// `startNotifications`.
    Subscribe(Uuid),
}

type Task = Pin<Box<dyn Future<Output = Result<(), SetupFailure>>>>;
type Action = Rc<dyn Fn(SetupSession) -> Task>;

/// The set-up session. See the module docs.
#[derive(Clone, Copy)]
pub struct SetupSession {
    /// The flow of the connected device, if one is set up.
    pub flow: RwSignal<Option<Flow>>,
    /// The chosen device.
    pub device: RwSignal<Option<GrantedDevice>>,
    /// Progress of the current (or last) action.
    pub steps: RwSignal<Vec<Step>>,
    /// The last failure, explained.
    pub failure: RwSignal<Option<SetupFailure>>,
    /// What is running now.
    pub busy: RwSignal<Option<String>>,
    /// The operating system (pairing differs), from the user agent.
    pub os: RwSignal<Os>,
    /// The GATT operations performed since the device was chosen.
    pub gatt_log: RwSignal<Vec<GattOp>>,
    /// The BLU flow's state.
    pub blu: blu::BluView,
    /// The Improv flow's state.
    pub improv: improv::ImprovView,
    store: AppStore,
    shelly: ShellySession,
    backend: StoredValue<Rc<Backend>, LocalStorage>,
    retry_action: StoredValue<Option<(String, Action)>, LocalStorage>,
    /// Set once a device was chosen: a retry opens that device again instead of the chooser.
    narrowed_retry: StoredValue<Option<Action>, LocalStorage>,
}

impl std::fmt::Debug for SetupSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupSession")
            .field("flow", &self.flow.get_untracked())
            .finish()
    }
}

impl SetupSession {
    /// A session over the app's backend, storing bind keys in `store` and handing Shelly RPC
    /// devices to `shelly`.
    pub fn new(backend: Rc<Backend>, store: AppStore, shelly: ShellySession) -> Self {
        let session = Self {
            flow: RwSignal::new(None),
            device: RwSignal::new(None),
            steps: RwSignal::new(Vec::new()),
            failure: RwSignal::new(None),
            busy: RwSignal::new(None),
            os: RwSignal::new(crate::platform::os()),
            gatt_log: RwSignal::new(Vec::new()),
            blu: blu::BluView::new(),
            improv: improv::ImprovView::new(),
            store,
            shelly,
            backend: StoredValue::new_local(Rc::clone(&backend)),
            retry_action: StoredValue::new_local(None),
            narrowed_retry: StoredValue::new_local(None),
        };
        backend.subscribe(Rc::new(move |event| session.improv_event(event)));
        session
    }

    /// The session from context: one provided as it is (tests), else the app's, made on first
    /// use with the Shelly session ([`SessionSlot`](crate::state::shelly::SessionSlot)).
    pub fn from_context() -> Option<Self> {
        use_context::<Self>()
            .or_else(|| use_context::<crate::state::shelly::SessionSlot>().map(|slot| slot.setup()))
    }

    /// The backend.
    pub fn backend(&self) -> Rc<Backend> {
        self.backend.get_value()
    }

    /// The chosen device's id.
    fn device_id(&self) -> Option<DeviceId> {
        self.device
            .with_untracked(|d| d.as_ref().map(|d| d.id.clone()))
    }

    // ---- running actions ------------------------------------------------------------------

    /// Runs an action unless one runs: marks the session busy, clears the last failure, and on
    /// failure keeps the action for [`Self::retry`].
    pub fn run<F, Fut>(self, label: &str, action: F)
    where
        F: Fn(SetupSession) -> Fut + 'static,
        Fut: Future<Output = Result<(), SetupFailure>> + 'static,
    {
        if self.busy.get_untracked().is_some() {
            return;
        }
        let action: Action = Rc::new(move |s| Box::pin(action(s)));
        self.run_action(label.to_owned(), action);
    }

    fn run_action(self, label: String, action: Action) {
        self.failure.set(None);
        self.busy.set(Some(label.clone()));
        self.narrowed_retry.set_value(None);
        spawn_local(async move {
            let outcome = action(self).await;
            let action = self
                .narrowed_retry
                .try_get_value()
                .flatten()
                .unwrap_or(action);
            self.busy.try_set(None);
            if let Err(failure) = outcome {
                self.steps.try_update(|steps| Step::fail_last(steps));
                self.failure.try_set(Some(failure));
                self.retry_action.try_set_value(Some((label, action)));
            }
        });
    }

    /// Shows a failure found before anything was sent (a bad value typed).
    pub fn refuse(self, failure: SetupFailure) {
        self.failure.set(Some(failure));
    }

    /// Runs the failed action again.
    pub fn retry(self) {
        if let Some((label, action)) = self.retry_action.get_value() {
            self.run_action(label, action);
        }
    }

    /// Whether there is an action to retry.
    pub fn can_retry(self) -> bool {
        self.retry_action.with_value(Option::is_some)
    }

    /// Starts a progress step.
    pub fn step(self, label: impl Into<String>) {
        let label = label.into();
        self.steps.update(|steps| Step::start(steps, label));
    }

    /// Marks the last step done.
    pub fn step_done(self) {
        self.steps.update(|steps| Step::finish(steps));
    }

    // ---- choosing and routing -------------------------------------------------------------

    /// The chooser options: Shelly RPC, Shelly BLU and Improv devices, with every service the
    /// flows use granted.
    pub fn chooser_options() -> RequestDeviceOptions {
        RequestDeviceOptions::setup(
            rpc::SERVICE_UUID,
            &[
                core_blu::SETTINGS_SERVICE,
                core_blu::DEVICE_INFORMATION_SERVICE,
            ],
            core_improv::SERVICE_UUID,
        )
    }

    /// "Set up a device": the chooser, then the flow the device's services call for.
    pub fn choose(self) {
        self.steps.set(Vec::new());
        self.run("Set up a device", |s| async move {
            s.step("Choosing a device (Shelly, Shelly BLU or Improv Wi-Fi)");
            let device = s
                .backend()
                .request_device(&Self::chooser_options())
                .await
                .map_err(|e| s.ble_failure(&e, Stage::Connecting, "choosing"))?;
            let chosen = device.clone();
            s.narrowed_retry
                .set_value(Some(Rc::new(move |s: SetupSession| {
                    let device = chosen.clone();
                    Box::pin(async move { s.open(device).await }) as Task
                })));
            s.open(device).await
        });
    }

    /// What the simulated chooser lists (demo mode): `None` on Web Bluetooth.
    pub fn simulated_choices(self) -> Option<Vec<GrantedDevice>> {
        let backend = self.backend();
        let mock = backend.as_mock()?;
        Some(mock.offered(&Self::chooser_options()))
    }

    /// Picks `device` in the simulated chooser (demo mode), then sets it up.
    pub fn choose_simulated(self, device: DeviceId) {
        if let Some(mock) = self.backend().as_mock() {
            mock.set_chooser(crate::ble::mock::ChooserAnswer::Device(device));
        }
        self.choose();
    }

    /// Ends the current device's set-up (disconnects it).
    pub fn close(self) {
        if let Some(id) = self.device_id() {
            self.backend().disconnect(&id);
        }
        self.flow.set(None);
        self.device.set(None);
        self.steps.set(Vec::new());
        self.failure.set(None);
        self.retry_action.set_value(None);
        self.blu.clear();
        self.improv.clear();
    }

    async fn open(self, device: GrantedDevice) -> Result<(), SetupFailure> {
        if let Some(old) = self.device_id().filter(|old| *old != device.id) {
            self.backend().disconnect(&old);
        }
        self.flow.set(None);
        self.blu.clear();
        self.improv.clear();
        self.gatt_log.set(Vec::new());
        self.device.set(Some(device.clone()));
        let label = device.name.clone().unwrap_or_else(|| device.id.to_string());
        self.step(format!("Connecting to {label}"));
        self.connect_in_time(&device.id).await?;
        self.step("Looking for its services (Improv, Shelly BLU settings, Shelly RPC)");
        if let Some(list) = self.discover(core_improv::SERVICE_UUID).await? {
            self.flow.set(Some(Flow::Improv));
            return self.improv_start(list).await;
        }
        if let Some(list) = self.discover(core_blu::SETTINGS_SERVICE).await? {
            self.flow.set(Some(Flow::Blu));
            return self.blu_start(device, list).await;
        }
        if self.discover(rpc::SERVICE_UUID).await?.is_some() {
            self.step_done();
            self.device.set(None);
            // A Shelly Gen2+ device: the Shelly session takes it (it connects again, at once).
            self.shelly.steps.set(Vec::new());
            self.shelly.run("Connect", move |s| s.open(device.clone()));
            return Ok(());
        }
        self.backend().disconnect(&device.id);
        Err(SetupFailure::new(
            "Not a device this page can set up",
            "The device has none of the Improv, Shelly BLU settings or Shelly RPC services. Pick another device; if it is one of these, forget it in the system's Bluetooth settings (a stale cache hides services) and retry.",
            "looking for services",
            format!("{label} has none of the services"),
        ))
    }

    /// Connects, giving up after [`CONNECT_TIMEOUT_MS`] (Chrome's `connect()` has no timeout).
    async fn connect_in_time(self, device: &DeviceId) -> Result<(), SetupFailure> {
        let backend = self.backend();
        let connect = std::pin::pin!(backend.connect(device));
        let timer = std::pin::pin!(sleep_ms(CONNECT_TIMEOUT_MS));
        match futures::future::select(connect, timer).await {
            futures::future::Either::Left((Ok(()), _)) => Ok(()),
            futures::future::Either::Left((Err(e), _)) => {
                Err(self.ble_failure(&e, Stage::Connecting, "connecting"))
            }
            futures::future::Either::Right(((), _)) => {
                backend.disconnect(device);
                Err(self.ble_failure(
                    &BleError::new(
                        ErrorKind::Timeout,
                        format!(
                            "no answer to the connection within {} s; the attempt was cancelled",
                            CONNECT_TIMEOUT_MS / 1000
                        ),
                    ),
                    Stage::Connecting,
                    "connecting",
                ))
            }
        }
    }

    /// The characteristics of a service, `None` when the device lacks it.
    async fn discover(self, service: Uuid) -> Result<Option<Vec<Uuid>>, SetupFailure> {
        let Some(id) = self.device_id() else {
            return Ok(None);
        };
        self.gatt_log.update(|l| l.push(GattOp::Discover(service)));
        match self.backend().characteristics(&id, service).await {
            Ok(list) => Ok(Some(list)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.ble_failure(&e, Stage::Connected, "looking for services")),
        }
    }

    fn ble_failure(self, error: &BleError, stage: Stage, during: &str) -> SetupFailure {
        SetupFailure::ble(error, stage, during, self.os.get_untracked())
    }

    // ---- GATT, logged -----------------------------------------------------------------------

    async fn read(self, characteristic: Characteristic) -> Result<Vec<u8>, BleError> {
        let id = self.device_id().ok_or_else(not_connected)?;
        self.gatt_log
            .update(|l| l.push(GattOp::Read(characteristic.uuid)));
        self.backend().read(&id, characteristic).await
    }

    async fn write(self, characteristic: Characteristic, value: &[u8]) -> Result<(), BleError> {
        let id = self.device_id().ok_or_else(not_connected)?;
        self.gatt_log
            .update(|l| l.push(GattOp::Write(characteristic.uuid)));
        self.backend()
            .write(&id, characteristic, value, Default::default())
            .await
    }

    async fn subscribe(self, characteristic: Characteristic) -> Result<(), BleError> {
        let id = self.device_id().ok_or_else(not_connected)?;
        self.gatt_log
            .update(|l| l.push(GattOp::Subscribe(characteristic.uuid)));
        self.backend()
            .start_notifications(&id, characteristic)
            .await
    }
}

fn not_connected() -> BleError {
    BleError::new(ErrorKind::Disconnected, "no device is connected")
}
