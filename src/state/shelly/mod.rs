//! The Shelly session: the connected device, its RPC link, step-by-step progress, explained
//! failures with a retry, the console history, and the device-profile slots.
//!
//! [`ShellySession`] is a `Copy` handle of signals, provided as context. Every action runs as a
//! local task; while it runs [`ShellySession::busy`] names it, each step is appended to
//! [`ShellySession::steps`], and a failure lands in [`ShellySession::failure`] with the action kept
//! for [`ShellySession::retry`]. Everything shown or logged goes through [`redact`].

pub mod explain;
pub mod link;
pub mod redact;
pub mod remote;
pub mod store;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use bluehome_core::MacAddress;
use bluehome_core::profiles::{Binding, Config, Effect, Profiles, Seeking};
use bluehome_core::shelly::auth::Credentials;
use bluehome_core::shelly::frame::Notification;
use bluehome_core::shelly::methods::shelly::{self, RebootParams};
use bluehome_core::shelly::methods::{Method, params_value};
use bluehome_core::shelly::rpc::SERVICE_UUID;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use self::explain::{Failure, FailureKind, kind_of_ble_error};
use self::link::{Link, now_ms, result_of, sleep_ms};
use self::redact::redact_value;
use self::store::LoadNotice;
use super::storage::{BrowserStorage, KeyValue};
use crate::ble::{
    Backend, BleBackend, BleEvent, DeviceId, DeviceInfo, ErrorKind, RequestDeviceOptions,
};

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// No device.
    #[default]
    Idle,
    /// Connecting (the steps say how far).
    Connecting,
    /// Connected and identified.
    Connected,
}

/// The state of one progress step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// Under way.
    Running,
    /// Finished.
    Done,
    /// Failed (the failure panel explains).
    Failed,
}

/// One line of progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What is being done.
    pub label: String,
    /// How it went.
    pub state: StepState,
}

/// One RPC exchange, secrets masked.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// When it was sent (ms since the epoch).
    pub at_ms: u64,
    /// The method.
    pub method: String,
    /// The params as sent, masked.
    pub params: Value,
    /// The result (`Ok`) or the error text (`Err`), masked.
    pub outcome: Result<Value, String>,
    /// How long the call took, in milliseconds.
    pub took_ms: u64,
    /// GATT operations performed.
    pub gatt_ops: u32,
    /// Bytes written and read over GATT (control values included).
    pub bytes: (usize, usize),
}

/// What is known about the connected device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSummary {
    /// The browser's id of it.
    pub device_id: DeviceId,
    /// The name the chooser showed.
    pub ble_name: Option<String>,
    /// Its MAC (from `Shelly.GetDeviceInfo`).
    pub mac: Option<MacAddress>,
    /// The device id (`shellyplus1-a8032ab12345`), also the auth realm unless `auth_domain` is set.
    pub id: String,
    /// The model code.
    pub model: Option<String>,
    /// The generation.
    pub generation: Option<u64>,
    /// The firmware id.
    pub firmware: Option<String>,
    /// The user-given name.
    pub name: Option<String>,
    /// Whether a password is set.
    pub auth_enabled: bool,
    /// The digest-auth realm.
    pub realm: String,
    /// The whole `Shelly.GetDeviceInfo` result.
    pub raw: Value,
}

impl DeviceSummary {
    fn from_info(device_id: DeviceId, ble_name: Option<String>, raw: Value) -> Self {
        let text = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
        let id = text("id").unwrap_or_default();
        Self {
            device_id,
            ble_name,
            mac: text("mac").as_deref().and_then(parse_shelly_mac),
            realm: text("auth_domain").unwrap_or_else(|| id.clone()),
            id,
            model: text("model"),
            generation: raw.get("gen").and_then(Value::as_u64),
            firmware: text("fw_id").or_else(|| text("ver")),
            name: text("name"),
            auth_enabled: raw.get("auth_en").and_then(Value::as_bool).unwrap_or(false),
            raw,
        }
    }

    /// The best name to show.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| self.ble_name.clone())
            .unwrap_or_else(|| self.id.clone())
    }
}

/// Reads Shelly's MAC form (`A8032AB12345`, 12 hex digits) or the colon form.
pub fn parse_shelly_mac(text: &str) -> Option<MacAddress> {
    if let Ok(mac) = text.parse() {
        return Some(mac);
    }
    if text.len() != 12 || !text.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 6];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(MacAddress(out))
}

/// Receives what a gateway hears: the manager source name, and the advertisement.
pub type RemoteSink = Rc<dyn Fn(&str, &remote::RemoteAdvert)>;

type Task = Pin<Box<dyn Future<Output = Result<(), Failure>>>>;
type Action = Rc<dyn Fn(ShellySession) -> Task>;

/// An action that connects to a granted device (no chooser) and identifies it.
fn open_action(info: DeviceInfo, credentials: Option<Credentials>) -> Action {
    Rc::new(move |s| {
        let (info, credentials) = (info.clone(), credentials.clone());
        Box::pin(async move {
            s.steps.set(Vec::new());
            s.open_with(info, credentials).await
        })
    })
}

/// Wait before reconnecting the active profile's device after its link dropped.
pub const AUTO_RECONNECT_DELAY_MS: u64 = 1_000;

/// How long a connection attempt may take (a Shelly nearby answers in a second or two).
pub const CONNECT_TIMEOUT_MS: u64 = 15_000;

/// The delay a restart is asked for (`Shelly.Reboot`'s `delay_ms`; HA uses one second).
const REBOOT_DELAY_MS: u32 = 1_000;

/// Time a Shelly takes to boot and advertise again, waited before each reconnection attempt.
const BOOT_TIME_MS: u64 = 2_000;

/// Reconnection attempts after a restart.
const RECONNECT_ATTEMPTS: u32 = 5;

/// Longest histories kept.
const MAX_LOG: usize = 200;

/// The session handle.
#[derive(Clone, Copy)]
pub struct ShellySession {
    /// Where the connection is.
    pub phase: RwSignal<Phase>,
    /// Progress of the current (or last) action.
    pub steps: RwSignal<Vec<Step>>,
    /// The last failure, explained.
    pub failure: RwSignal<Option<Failure>>,
    /// What is running now.
    pub busy: RwSignal<Option<String>>,
    /// The connected device.
    pub device: RwSignal<Option<DeviceSummary>>,
    /// The last `Shelly.GetStatus`.
    pub status: RwSignal<Option<Value>>,
    /// Every RPC exchange, masked, newest last.
    pub log: RwSignal<Vec<LogEntry>>,
    /// The raw console's own history, masked, newest last.
    pub console: RwSignal<Vec<LogEntry>>,
    /// `NotifyEvent` events received, newest last.
    pub events: RwSignal<Vec<Value>>,
    /// The profile slots.
    pub profiles: RwSignal<Profiles>,
    /// A problem found loading the profiles.
    pub profile_notice: RwSignal<Option<LoadNotice>>,
    /// A short message about the profiles (saved, slot taken…).
    pub profile_message: RwSignal<Option<String>>,
    /// Whether the gateway feeds the Scan page (the remote scanner runs).
    pub remote_running: RwSignal<bool>,
    /// What the gateway heard at the last poll (relayed devices and its sensors).
    pub remote_adverts: RwSignal<Vec<remote::RemoteAdvert>>,
    /// Where remote advertisements go (the Scan page's manager): source, advertisement.
    remote_sink: StoredValue<Option<RemoteSink>, LocalStorage>,
    retry_action: StoredValue<Option<(String, Action)>, LocalStorage>,
    /// Set by a running action once part of it need not run again (a device was chosen): on
    /// failure, this is what a retry runs instead of the whole action.
    narrowed_retry: StoredValue<Option<Action>, LocalStorage>,
    /// Credentials entered for a device, used by the next connection to it.
    pending_credentials: StoredValue<Option<(DeviceId, Credentials)>, LocalStorage>,
    link: StoredValue<Option<Rc<Link>>, LocalStorage>,
    backend: StoredValue<Rc<Backend>, LocalStorage>,
    storage: StoredValue<Rc<dyn KeyValue>, LocalStorage>,
}

impl std::fmt::Debug for ShellySession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShellySession")
            .field("phase", &self.phase.get_untracked())
            .finish()
    }
}

impl ShellySession {
    /// A session over a backend, with profiles loaded from `storage`.
    pub fn new(backend: Rc<Backend>, storage: Rc<dyn KeyValue>, config: Config) -> Self {
        let (profiles, notice) = store::load(storage.as_ref(), config, now_ms());
        let session = Self {
            phase: RwSignal::new(Phase::Idle),
            steps: RwSignal::new(Vec::new()),
            failure: RwSignal::new(None),
            busy: RwSignal::new(None),
            device: RwSignal::new(None),
            status: RwSignal::new(None),
            log: RwSignal::new(Vec::new()),
            console: RwSignal::new(Vec::new()),
            events: RwSignal::new(Vec::new()),
            profiles: RwSignal::new(profiles),
            profile_notice: RwSignal::new(notice),
            profile_message: RwSignal::new(None),
            remote_running: RwSignal::new(false),
            remote_adverts: RwSignal::new(Vec::new()),
            remote_sink: StoredValue::new_local(None),
            retry_action: StoredValue::new_local(None),
            narrowed_retry: StoredValue::new_local(None),
            pending_credentials: StoredValue::new_local(None),
            link: StoredValue::new_local(None),
            backend: StoredValue::new_local(Rc::clone(&backend)),
            storage: StoredValue::new_local(storage),
        };
        backend.subscribe(Rc::new(move |event| {
            if let BleEvent::Disconnected { device } = event {
                session.link_dropped(device);
            }
        }));
        session
    }

    /// The device's link dropped without being asked to (out of range, device restart).
    fn link_dropped(self, device: &DeviceId) {
        let Some(link) = self.link() else { return };
        if link.device() != device {
            return;
        }
        let info = DeviceInfo {
            id: device.clone(),
            name: self
                .device
                .try_with_untracked(|d| d.as_ref().and_then(|d| d.ble_name.clone()))
                .flatten(),
        };
        self.link.try_set_value(None);
        self.remote_running.try_set(false);
        let mac = self
            .device
            .try_with_untracked(|d| d.as_ref().and_then(|d| d.mac))
            .flatten();
        if let Some(mac) = mac {
            let effects = self
                .profiles
                .try_update(|p| p.disconnected(mac))
                .unwrap_or_default();
            self.apply(effects);
        }
        self.phase.try_set(Phase::Idle);
        let reconnect = open_action(info, None);
        // ZMK: the active profile's device is sought again at once. A permitted device reconnects
        // without a chooser, so try once by ourselves; a failure is explained with its retry.
        let active = mac.is_some_and(|m| {
            self.profiles
                .try_with_untracked(|p| p.seeking() == Seeking::Reconnect(m))
                .unwrap_or(false)
        });
        if active {
            spawn_local(async move {
                sleep_ms(AUTO_RECONNECT_DELAY_MS).await;
                if self.link().is_none() && self.busy.try_get_untracked() == Some(None) {
                    self.run_action("Reconnect".to_owned(), reconnect);
                }
            });
            return;
        }
        self.failure.try_set(Some(Failure::new(
            FailureKind::Disconnected,
            "connected",
            "the device closed the Bluetooth link (out of range, restarted, or turned off)",
        )));
        self.retry_action
            .try_set_value(Some(("Reconnect".to_owned(), reconnect)));
    }

    /// The session from context, or a new one (with the app's backend and local storage)
    /// created and provided at the root of the tree, so it outlives the page that asked for it:
    /// a gateway keeps feeding the Scan page after leaving the Devices page.
    pub fn use_or_provide() -> Self {
        if let Some(session) = use_context::<Self>() {
            return session;
        }
        let backend = match use_context::<crate::ble::BackendContext>() {
            Some(context) => context.get(),
            None => default_backend(),
        };
        let mut root = Owner::current();
        while let Some(parent) = root.as_ref().and_then(Owner::parent) {
            root = Some(parent);
        }
        let scan_store = use_context::<crate::state::AppStore>();
        let create = move || {
            let session = Self::new(backend, Rc::new(BrowserStorage), Config::default());
            if let Some(scan) = scan_store {
                session.set_remote_sink(Some(scan_page_sink(scan)));
            }
            provide_context(session);
            session
        };
        match root {
            Some(root) => root.with(create),
            None => create(),
        }
    }

    /// The link, when connected.
    pub fn link(&self) -> Option<Rc<Link>> {
        self.link.try_get_value().flatten()
    }

    /// The backend.
    pub fn backend(&self) -> Rc<Backend> {
        self.backend.get_value()
    }

    // ---- running actions ------------------------------------------------------------------

    /// Runs an action: marks the session busy, clears the last failure, and on failure keeps the
    /// action for [`Self::retry`].
    pub fn run<F, Fut>(self, label: &str, action: F)
    where
        F: Fn(ShellySession) -> Fut + 'static,
        Fut: Future<Output = Result<(), Failure>> + 'static,
    {
        let action: Action = Rc::new(move |s| Box::pin(action(s)));
        self.run_action(label.to_owned(), action);
    }

    fn run_action(self, label: String, action: Action) {
        self.failure.set(None);
        self.busy.set(Some(label.clone()));
        self.narrowed_retry.set_value(None);
        spawn_local(async move {
            let outcome = action(self).await;
            let action = self.narrowed_retry.get_value().unwrap_or(action);
            self.busy.set(None);
            if let Err(failure) = outcome {
                self.steps.update(|steps| {
                    if let Some(last) = steps.last_mut().filter(|s| s.state == StepState::Running) {
                        last.state = StepState::Failed;
                    }
                });
                if self.phase.get_untracked() == Phase::Connecting {
                    self.phase.set(Phase::Idle);
                }
                self.failure.set(Some(failure));
                self.retry_action.set_value(Some((label, action)));
            }
        });
    }

    /// From here on, a retry of the running action connects to this device again, with these
    /// credentials, instead of asking the user to choose it once more.
    fn retry_by_opening(self, info: &DeviceInfo, credentials: Option<Credentials>) {
        self.narrowed_retry
            .set_value(Some(open_action(info.clone(), credentials)));
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
        self.steps.update(|steps| {
            for s in steps.iter_mut().filter(|s| s.state == StepState::Running) {
                s.state = StepState::Done;
            }
            steps.push(Step {
                label,
                state: StepState::Running,
            });
        });
    }

    /// Marks the last step done.
    pub fn step_done(self) {
        self.steps.update(|steps| {
            for s in steps.iter_mut().filter(|s| s.state == StepState::Running) {
                s.state = StepState::Done;
            }
        });
    }

    // ---- RPC ------------------------------------------------------------------------------

    /// Calls a method on the connected device; logs it masked; explains an error answer.
    pub async fn call(self, method: &str, params: Option<Value>) -> Result<Value, Failure> {
        self.call_logged(method, params, false).await
    }

    /// Calls a typed method (the core's `shelly::methods`), its result read into the method's
    /// result type; an answer of another shape is explained as a protocol failure.
    pub async fn call_method<M: Method>(self, params: &M::Params) -> Result<M::Result, Failure> {
        let value = self.call(M::NAME, params_value(params)).await?;
        serde_json::from_value(value).map_err(|e| {
            Failure::new(
                FailureKind::Protocol,
                M::NAME,
                format!("unexpected answer: {e}"),
            )
        })
    }

    /// As [`Self::call`], also recorded in the console history.
    pub async fn console_call(self, method: &str, params: Option<Value>) -> Result<Value, Failure> {
        self.call_logged(method, params, true).await
    }

    async fn call_logged(
        self,
        method: &str,
        params: Option<Value>,
        console: bool,
    ) -> Result<Value, Failure> {
        let link = self.link().ok_or_else(|| {
            Failure::new(FailureKind::Disconnected, method, "no device is connected")
        })?;
        let shown_params = params.as_ref().map(redact_value).unwrap_or(Value::Null);
        let at_ms = now_ms();
        let answer = link.call(method, params).await;
        self.collect_notifications(&link);
        let result = answer.and_then(|response| {
            let is_401 = matches!(&response.outcome, Err(e) if e.code == 401);
            let has_credentials = link.ha1().is_some();
            result_of(method, response, |t| link.redact(t)).map_err(|mut f| {
                if is_401 && !has_credentials {
                    f.kind = FailureKind::PasswordNeeded;
                }
                f
            })
        });
        if let Err(f) = &result
            && f.kind == FailureKind::WrongPassword
        {
            self.forget_credentials(&link);
        }
        let stats = link.last_stats();
        let entry = LogEntry {
            at_ms,
            took_ms: now_ms().saturating_sub(at_ms),
            gatt_ops: stats.gatt_ops,
            bytes: (stats.bytes_written, stats.bytes_read),
            method: method.to_owned(),
            params: shown_params,
            outcome: match &result {
                Ok(v) => Ok(redact_value(v)),
                Err(f) => Err(f.detail.clone()),
            },
        };
        if console {
            push_bounded(self.console, entry.clone());
        }
        push_bounded(self.log, entry);
        result
    }

    /// Drains queued notifications (discovery events) from the device.
    pub async fn listen(self) -> Result<usize, Failure> {
        let link = self.link().ok_or_else(|| {
            Failure::new(
                FailureKind::Disconnected,
                "listening",
                "no device is connected",
            )
        })?;
        let count = link.listen().await?;
        self.collect_notifications(&link);
        Ok(count)
    }

    fn collect_notifications(self, link: &Link) {
        let notes: Vec<Notification> = link.take_notifications();
        if notes.is_empty() {
            return;
        }
        self.events.update(|events| {
            for note in &notes {
                events.extend(note.events().iter().map(redact_value));
            }
            let excess = events.len().saturating_sub(MAX_LOG);
            events.drain(..excess);
        });
    }

    fn forget_credentials(self, link: &Link) {
        link.set_credentials(None);
        self.pending_credentials.set_value(None);
        let mac = self
            .device
            .with_untracked(|d| d.as_ref().and_then(|d| d.mac));
        if let Some(index) = mac.and_then(|m| self.profiles.with_untracked(|p| p.find(m))) {
            let effects = self
                .profiles
                .try_update(|p| p.set_ha1(index, None))
                .and_then(Result::ok);
            self.apply(effects.unwrap_or_default());
        }
    }

    /// Uses a password for this device: HA1 is computed (the password itself is not kept), and
    /// remembered in the device's profile only if `remember`.
    pub fn use_password(self, password: &str, remember: bool) {
        let Some(link) = self.link() else { return };
        let realm = self
            .device
            .with_untracked(|d| d.as_ref().map(|d| d.realm.clone()));
        let Some(realm) = realm else { return };
        link.add_secret(password);
        let credentials = Credentials::from_password(&realm, password);
        let ha1 = credentials.ha1().to_owned();
        link.add_secret(&ha1);
        self.pending_credentials
            .set_value(Some((link.device().clone(), credentials.clone())));
        link.set_credentials(Some(credentials));
        if remember {
            self.remember_ha1(Some(ha1));
        }
    }

    /// Stores (or forgets) HA1 in the connected device's profile.
    pub fn remember_ha1(self, ha1: Option<String>) {
        let mac = self
            .device
            .with_untracked(|d| d.as_ref().and_then(|d| d.mac));
        let Some(index) = mac.and_then(|m| self.profiles.with_untracked(|p| p.find(m))) else {
            self.profile_message.set(Some(
                "This device has no profile, so the password cannot be remembered.".to_owned(),
            ));
            return;
        };
        if let Some(link) = self.link()
            && let Some(h) = &ha1
        {
            link.add_secret(h);
        }
        let effects = self
            .profiles
            .try_update(|p| p.set_ha1(index, ha1))
            .and_then(Result::ok);
        self.apply(effects.unwrap_or_default());
    }

    // ---- connecting -------------------------------------------------------------------------

    /// Opens the chooser narrowed to Shelly devices and connects to the one picked.
    pub fn connect_new(self) {
        self.steps.set(Vec::new());
        self.run("Connect", |s| async move {
            s.phase.set(Phase::Connecting);
            s.step("Choosing a Shelly device (RPC service or Allterco manufacturer data)");
            let options = RequestDeviceOptions::shelly(SERVICE_UUID);
            let info = s.backend().request_device(&options).await.map_err(|e| {
                Failure::new(kind_of_ble_error(&e, true), "choosing", e.to_string())
            })?;
            s.retry_by_opening(&info, None);
            s.open(info).await
        });
    }

    /// Reconnects the active profile's device: through `getDevices` when the browser offers it,
    /// else with the chooser narrowed to that device's Shelly manufacturer data (its MAC).
    pub fn reconnect_active(self) {
        let Some(binding) = self
            .profiles
            .with_untracked(|p| p.active_binding().cloned())
        else {
            return self.connect_new();
        };
        self.steps.set(Vec::new());
        self.run("Reconnect", move |s| {
            let binding = binding.clone();
            async move {
                s.phase.set(Phase::Connecting);
                let backend = s.backend();
                let mut found = None;
                if backend.capabilities().get_devices
                    && let Some(id) = &binding.device_id
                {
                    s.step("Looking for the device among those permitted before");
                    if let Ok(devices) = backend.get_devices().await {
                        found = devices.into_iter().find(|d| d.id.as_str() == id);
                    }
                }
                let info = match found {
                    Some(info) => info,
                    None => {
                        s.step(format!(
                            "Choosing {} (the chooser shows only the Shelly with MAC {})",
                            binding.name, binding.mac
                        ));
                        let options = RequestDeviceOptions::shelly_device(
                            SERVICE_UUID,
                            binding.mac,
                            &binding.name,
                        );
                        backend.request_device(&options).await.map_err(|e| {
                            Failure::new(kind_of_ble_error(&e, true), "choosing", e.to_string())
                        })?
                    }
                };
                let credentials = binding.ha1.clone().map(Credentials::from_ha1);
                s.retry_by_opening(&info, credentials.clone());
                s.open_with(info, credentials).await
            }
        });
    }

    /// Connects to a granted device and identifies it.
    pub async fn open(self, info: DeviceInfo) -> Result<(), Failure> {
        self.open_with(info, None).await
    }

    async fn open_with(
        self,
        info: DeviceInfo,
        credentials: Option<Credentials>,
    ) -> Result<(), Failure> {
        let backend = self.backend();
        let label = info.name.clone().unwrap_or_else(|| info.id.to_string());
        // End the old session first: Chrome fires gattserverdisconnected inside disconnect(), and
        // with the old link still in place that would read as the connection dropping.
        match self.link() {
            Some(old) if old.device() != &info.id => self.disconnect(),
            _ => self.link.set_value(None),
        }
        self.phase.set(Phase::Connecting);
        self.step(format!("Connecting to {label}"));
        self.connect_in_time(&info.id).await?;
        let link = Rc::new(Link::new(Rc::clone(&backend), info.id.clone()));
        // A password just entered for this device wins over credentials passed in (a retry may
        // carry a remembered HA1 that has since proved wrong) and over the profile's.
        let entered = self.pending_credentials.with_value(|p| {
            p.as_ref()
                .filter(|(id, _)| *id == info.id)
                .map(|(_, c)| c.clone())
        });
        let credentials = entered.or(credentials).or_else(|| {
            self.profiles.with_untracked(|p| {
                p.slots()
                    .flatten()
                    .find(|b| b.device_id.as_deref() == Some(info.id.as_str()))
                    .and_then(|b| b.ha1.clone())
                    .map(Credentials::from_ha1)
            })
        });
        if let Some(c) = credentials {
            link.add_secret(c.ha1());
            link.set_credentials(Some(c));
        }
        self.link.set_value(Some(link));
        self.step(
            "Opening the Shelly RPC service and reading the device info (Shelly.GetDeviceInfo)",
        );
        let raw = self.call("Shelly.GetDeviceInfo", None).await?;
        let summary = DeviceSummary::from_info(info.id.clone(), info.name.clone(), raw);
        self.device.set(Some(summary.clone()));
        self.phase.set(Phase::Connected);
        self.bind_profile(&summary);
        self.step("Reading the status (Shelly.GetStatus)");
        let status = self.call("Shelly.GetStatus", None).await?;
        self.status.set(Some(status));
        self.step_done();
        Ok(())
    }

    /// Connects, giving up after [`CONNECT_TIMEOUT_MS`]: Chrome's `connect()` has no timeout (on
    /// macOS it may never settle for a device that is not there), so it is raced against a timer
    /// and cancelled with `disconnect()`.
    async fn connect_in_time(self, device: &DeviceId) -> Result<(), Failure> {
        let backend = self.backend();
        let connect = std::pin::pin!(backend.connect(device));
        let timer = std::pin::pin!(sleep_ms(CONNECT_TIMEOUT_MS));
        match futures::future::select(connect, timer).await {
            futures::future::Either::Left((Ok(()), _)) => Ok(()),
            futures::future::Either::Left((Err(e), _)) => Err(Failure::new(
                kind_of_ble_error(&e, true),
                "connecting",
                e.to_string(),
            )),
            futures::future::Either::Right(((), _)) => {
                backend.disconnect(device);
                Err(Failure::new(
                    FailureKind::OutOfRange,
                    "connecting",
                    format!(
                        "no answer to the connection within {} s; the attempt was cancelled",
                        CONNECT_TIMEOUT_MS / 1000
                    ),
                ))
            }
        }
    }

    /// Restarts the device (`Shelly.Reboot`), which drops the link, and connects to it again once
    /// it is back. The drop is expected, so it is not reported; connecting is retried while the
    /// device boots.
    pub async fn restart_and_reconnect(self) -> Result<(), Failure> {
        let link = self.link().ok_or_else(|| {
            Failure::new(
                FailureKind::Disconnected,
                "restarting",
                "no device is connected",
            )
        })?;
        let info = DeviceInfo {
            id: link.device().clone(),
            name: self
                .device
                .with_untracked(|d| d.as_ref().and_then(|d| d.ble_name.clone())),
        };
        let credentials = link.ha1().map(Credentials::from_ha1);
        self.call_method::<shelly::Reboot>(&RebootParams {
            delay_ms: Some(REBOOT_DELAY_MS),
        })
        .await?;
        // From here the link is gone for us: its drop is the restart, not a failure.
        self.link.set_value(None);
        self.remote_running.set(false);
        sleep_ms(REBOOT_DELAY_MS.into()).await;
        self.backend().disconnect(&info.id);
        sleep_ms(BOOT_TIME_MS).await;
        let mut attempt = 1;
        loop {
            match self.open_with(info.clone(), credentials.clone()).await {
                Ok(()) => return Ok(()),
                Err(f)
                    if attempt < RECONNECT_ATTEMPTS
                        && matches!(
                            f.kind,
                            FailureKind::OutOfRange
                                | FailureKind::Disconnected
                                | FailureKind::Timeout
                        ) =>
                {
                    attempt += 1;
                    sleep_ms(BOOT_TIME_MS).await;
                }
                Err(f) => return Err(f),
            }
        }
    }

    /// Drops the connection.
    pub fn disconnect(self) {
        self.remote_running.set(false);
        if let Some(link) = self.link() {
            self.link.set_value(None);
            self.backend().disconnect(link.device());
        }
        if let Some(mac) = self
            .device
            .with_untracked(|d| d.as_ref().and_then(|d| d.mac))
        {
            let effects = self
                .profiles
                .try_update(|p| p.disconnected(mac))
                .unwrap_or_default();
            self.apply(effects);
        }
        self.device.set(None);
        self.status.set(None);
        self.phase.set(Phase::Idle);
    }

    /// Refreshes the status.
    pub fn refresh_status(self) {
        self.run("Refresh status", |s| async move {
            let status = s.call("Shelly.GetStatus", None).await?;
            s.status.set(Some(status));
            Ok(())
        });
    }

    // ---- remote scanner -------------------------------------------------------------------------

    /// Sets where remote advertisements go (the app wires the Scan page's manager here).
    pub fn set_remote_sink(self, sink: Option<RemoteSink>) {
        self.remote_sink.set_value(sink);
    }

    /// Polls what the connected gateway hears every `every_ms` and hands it to the sink, until
    /// stopped or disconnected.
    pub fn start_remote_scanner(self, every_ms: u64) {
        if self.remote_running.get_untracked() {
            return;
        }
        let Some(link) = self.link() else { return };
        let Some(device_id) = self
            .device
            .with_untracked(|d| d.as_ref().map(|d| d.id.clone()))
        else {
            return;
        };
        self.remote_running.set(true);
        spawn_local(async move {
            let source = remote::source_name(&device_id);
            while self.remote_running.try_get_untracked() == Some(true)
                && self
                    .link
                    .try_get_value()
                    .flatten()
                    .is_some_and(|l| Rc::ptr_eq(&l, &link))
            {
                match self.poll_remote().await {
                    Ok(adverts) => {
                        if let Some(sink) = self.remote_sink.try_get_value().flatten() {
                            adverts.iter().for_each(|a| sink(&source, a));
                        }
                        self.remote_adverts.try_set(adverts);
                    }
                    Err(failure) => {
                        self.failure.try_set(Some(failure));
                        break;
                    }
                }
                sleep_ms(every_ms).await;
            }
            self.remote_running.try_set(false);
        });
    }

    /// Stops the remote scanner.
    pub fn stop_remote_scanner(self) {
        self.remote_running.set(false);
    }

    /// One poll: every page of `BLE.CloudRelay.ListInfos`, then the BTHome sensor values.
    pub async fn poll_remote(self) -> Result<Vec<remote::RemoteAdvert>, Failure> {
        let mut adverts = Vec::new();
        let mut offset = 0u32;
        for _ in 0..20 {
            let params = (offset > 0).then(|| json!({"offset": offset}));
            let page = self.call("BLE.CloudRelay.ListInfos", params).await?;
            let (mut found, next) = remote::relay_page(&page);
            adverts.append(&mut found);
            match next {
                Some(n) => offset = n,
                None => break,
            }
        }
        let config = self.call("Shelly.GetConfig", None).await?;
        let status = self.call("Shelly.GetStatus", None).await?;
        adverts.extend(remote::sensor_adverts(&config, &status));
        Ok(adverts)
    }

    // ---- profiles -----------------------------------------------------------------------------

    fn bind_profile(self, summary: &DeviceSummary) {
        let Some(mac) = summary.mac else {
            self.profile_message.set(Some(
                "The device did not report its MAC; it is not saved in a profile.".to_owned(),
            ));
            return;
        };
        let now = now_ms();
        let mut binding = Binding::new(
            mac,
            summary
                .ble_name
                .clone()
                .unwrap_or_else(|| summary.id.clone()),
        );
        binding.model = summary.model.clone();
        binding.device_id = Some(summary.device_id.to_string());
        let effects = self.profiles.try_update(|p| {
            let mut effects = Vec::new();
            if let Some(index) = p.find(mac) {
                binding.ha1 = p.slot(index).and_then(|b| b.ha1.clone());
                effects.extend(p.select(index, now).unwrap_or_default());
                effects.extend(p.update(binding.clone()).unwrap_or_default());
            } else {
                if p.active_binding().is_some()
                    && let Some(open) = (0..p.len()).find(|&i| p.slot(i).is_none())
                {
                    effects.extend(p.select(open, now).unwrap_or_default());
                }
                match p.bind(binding.clone()) {
                    Ok(e) => effects.extend(e),
                    Err(e) => return (effects, Some(e.to_string())),
                }
            }
            effects.extend(p.connected(mac));
            (effects, None)
        });
        if let Some((effects, message)) = effects {
            if let Some(m) = message {
                self.profile_message
                    .set(Some(format!("Not saved in a profile: {m}")));
            }
            self.apply(effects);
        }
    }

    /// Performs what the profile state machine asks for.
    pub fn apply(self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::SaveNow => self.save_profiles(),
                Effect::SaveDueAt(due) => {
                    spawn_local(async move {
                        sleep_ms(due.saturating_sub(now_ms())).await;
                        if self.profiles.try_update(|p| p.poll(now_ms())) == Some(true) {
                            self.save_profiles();
                        }
                    });
                }
                Effect::Disconnect(mac) => {
                    if self
                        .device
                        .with_untracked(|d| d.as_ref().and_then(|d| d.mac))
                        == Some(mac)
                    {
                        self.disconnect();
                    }
                }
                Effect::Forget(binding) => self.forget_device(binding),
                Effect::ActiveChanged { .. } => {}
            }
        }
    }

    /// A cleared profile's device: the password typed for it is dropped, and the browser is
    /// asked to revoke its permission, so the device needs the chooser again.
    fn forget_device(self, binding: Binding) {
        let Some(id) = binding.device_id.map(DeviceId) else {
            return;
        };
        self.pending_credentials
            .update_value(|p| *p = p.take().filter(|(device, _)| *device != id));
        spawn_local(async move {
            let message = match self.backend().forget(&id).await {
                Ok(()) => return,
                Err(e) if e.kind == ErrorKind::Unsupported => format!(
                    "This browser cannot revoke the page's permission for {} (no BluetoothDevice.forget): remove it under chrome://settings/content/bluetoothDevices.",
                    binding.name
                ),
                Err(e) => format!("The browser still lets this page use {}: {e}", binding.name),
            };
            self.profile_message.try_set(Some(message));
        });
    }

    /// Writes the profiles now, unless the unreadable original could not be copied aside and is
    /// still in place (then saving waits until the user dismisses its notice).
    pub fn save_profiles(self) {
        let held = self
            .profile_notice
            .with_untracked(|n| n.as_ref().is_some_and(|n| n.kept_under.is_none()));
        if held {
            self.profile_message.set(Some(
                "Not saved: the unreadable saved profiles could not be copied aside and are still \
                 in place. Download them, then dismiss the notice, and saving resumes."
                    .to_owned(),
            ));
            return;
        }
        let ok = self
            .profiles
            .with_untracked(|p| self.storage.with_value(|s| store::save(s.as_ref(), p)));
        if !ok {
            self.profile_message.set(Some(
                "The browser refused to save the profiles (storage full or disabled).".to_owned(),
            ));
        }
    }

    /// Writes a pending debounced save at once (the page is being hidden).
    pub fn flush_profiles(self) {
        if self.profiles.try_update(Profiles::flush) == Some(true) {
            self.save_profiles();
        }
    }

    /// Selects a slot.
    pub fn select_slot(self, index: usize) {
        match self.profiles.try_update(|p| p.select(index, now_ms())) {
            Some(Ok(effects)) => self.apply(effects),
            Some(Err(e)) => self.profile_message.set(Some(e.to_string())),
            None => {}
        }
    }

    /// Next slot (wrapping).
    pub fn next_slot(self) {
        let effects = self
            .profiles
            .try_update(|p| p.next(now_ms()))
            .unwrap_or_default();
        self.apply(effects);
    }

    /// Previous slot (wrapping).
    pub fn prev_slot(self) {
        let effects = self
            .profiles
            .try_update(|p| p.prev(now_ms()))
            .unwrap_or_default();
        self.apply(effects);
    }

    /// Clears the active slot.
    pub fn clear_slot(self) {
        let effects = self
            .profiles
            .try_update(Profiles::clear)
            .unwrap_or_default();
        self.apply(effects);
    }

    /// Clears every slot.
    pub fn clear_all_slots(self) {
        let effects = self
            .profiles
            .try_update(|p| p.clear_all(now_ms()))
            .unwrap_or_default();
        self.apply(effects);
    }

    /// Disconnects the device of a slot (kept bound).
    pub fn disconnect_slot(self, index: usize) {
        match self.profiles.try_update(|p| p.disconnect(index)) {
            Some(Ok(effects)) => self.apply(effects),
            Some(Err(e)) => self.profile_message.set(Some(e.to_string())),
            None => {}
        }
    }

    /// What the active slot wants.
    pub fn seeking(self) -> Seeking {
        self.profiles.with(Profiles::seeking)
    }

    /// The export file's content (no secrets).
    pub fn export_profiles(self) -> String {
        self.profiles.with_untracked(Profiles::export)
    }

    /// Imports an export file.
    pub fn import_profiles(self, text: &str) {
        match self.profiles.try_update(|p| p.import(text, now_ms())) {
            Some(Ok(effects)) => {
                self.profile_message
                    .set(Some("Profiles imported.".to_owned()));
                self.apply(effects);
            }
            Some(Err(e)) => self
                .profile_message
                .set(Some(format!("Import refused: {e}"))),
            None => {}
        }
    }
}

/// Feeds the Scan page's manager: a gateway is a remote, non-connectable source.
pub fn scan_page_sink(scan: crate::state::AppStore) -> RemoteSink {
    Rc::new(move |source: &str, advert: &remote::RemoteAdvert| {
        scan.update_model(|m| {
            m.ingest(
                now_ms(),
                source,
                &advert.key,
                false,
                advert.advertisement.clone(),
            );
        });
    })
}

/// The backend when the app provided none: Web Bluetooth in a browser.
fn default_backend() -> Rc<Backend> {
    #[cfg(target_arch = "wasm32")]
    {
        Rc::new(Backend::Web(crate::ble::web::WebBackend::new()))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Rc::new(Backend::Mock(crate::ble::mock::MockBackend::new()))
    }
}

fn push_bounded(signal: RwSignal<Vec<LogEntry>>, entry: LogEntry) {
    signal.update(|log| {
        log.push(entry);
        let excess = log.len().saturating_sub(MAX_LOG);
        log.drain(..excess);
    });
}

/// The params of `Sys.SetConfig` that set the device name.
pub fn set_name_params(name: &str) -> Value {
    json!({"config": {"device": {"name": name}}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shelly_mac_forms_parse() {
        assert_eq!(
            parse_shelly_mac("A8032AB12345"),
            Some(MacAddress([0xA8, 0x03, 0x2A, 0xB1, 0x23, 0x45]))
        );
        assert_eq!(
            parse_shelly_mac("a8:03:2a:b1:23:45"),
            Some(MacAddress([0xA8, 0x03, 0x2A, 0xB1, 0x23, 0x45]))
        );
        assert_eq!(parse_shelly_mac("A8032AB1234"), None);
    }

    #[test]
    fn summary_takes_realm_from_auth_domain_when_present() {
        let s = DeviceSummary::from_info(
            DeviceId::from("x"),
            None,
            json!({"id": "shellyplus1-a8032ab12345", "mac": "A8032AB12345", "auth_en": true, "auth_domain": "dom"}),
        );
        assert_eq!(s.realm, "dom");
        assert!(s.auth_enabled);
        let s = DeviceSummary::from_info(DeviceId::from("x"), None, json!({"id": "abc"}));
        assert_eq!(s.realm, "abc");
    }
}
