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

use std::rc::Rc;

use bluehome_core::shelly::rpc;
use bluehome_core::{Uuid, blu as core_blu, improv as core_improv};
use leptos::prelude::*;

use self::explain::SetupFailure;
use crate::ble::{
    Backend, BleBackend, BleError, Characteristic, DeviceId, ErrorKind, GrantedDevice,
    RequestDeviceOptions,
};
use crate::platform::Os;
use crate::state::AppStore;
use crate::state::actions::{Actions, RunsActions, Step, action};
use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::Stage;

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
    /// The action state behind `steps`, `failure` and `busy` (the same signals).
    actions: Actions<SetupSession, SetupFailure>,
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
}

impl std::fmt::Debug for SetupSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupSession")
            .field("flow", &self.flow.get_untracked())
            .finish()
    }
}

impl RunsActions for SetupSession {
    type Failure = SetupFailure;
    const ONE_AT_A_TIME: bool = true;

    fn actions(self) -> Actions<Self, SetupFailure> {
        self.actions
    }
}

impl SetupSession {
    /// A session over the app's backend, storing bind keys in `store` and handing Shelly RPC
    /// devices to `shelly`.
    pub fn new(backend: Rc<Backend>, store: AppStore, shelly: ShellySession) -> Self {
        let actions = Actions::new();
        let session = Self {
            flow: RwSignal::new(None),
            device: RwSignal::new(None),
            steps: actions.steps,
            failure: actions.failure,
            busy: actions.busy,
            actions,
            os: RwSignal::new(crate::platform::os()),
            gatt_log: RwSignal::new(Vec::new()),
            blu: blu::BluView::new(),
            improv: improv::ImprovView::new(),
            store,
            shelly,
            backend: StoredValue::new_local(Rc::clone(&backend)),
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
            // A retry opens that device again instead of the chooser.
            s.narrow_retry(action(move |s: SetupSession| s.open(chosen.clone())));
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
        self.clear_actions();
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
        self.blu_guess_model(&device);
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
            // A Shelly Gen2+ device: the Shelly session takes it (it connects again, at once),
            // and its step log goes on from these steps: one log for what the user started.
            self.shelly.steps.set(self.steps.get_untracked());
            self.steps.set(Vec::new());
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

    /// Connects, giving up after [`crate::ble::CONNECT_TIMEOUT_MS`].
    async fn connect_in_time(self, device: &DeviceId) -> Result<(), SetupFailure> {
        self.backend()
            .connect_in_time(device)
            .await
            .map_err(|f| self.ble_failure(&f.into_ble_error(), Stage::Connecting, "connecting"))
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
        SetupFailure::ble(
            error,
            stage,
            during,
            self.os.get_untracked(),
            self.blu.model.get_untracked(),
            self.blu.mac.get_untracked(),
        )
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
