//! The Shelly session: the connected device, its RPC link, step-by-step progress, explained
//! failures with a retry, the RPC log, and the device-profile slots.
//!
//! [`ShellySession`] is a `Copy` handle of signals, created by the app beside its store and taken
//! from context. Every action runs as a local task; while it runs [`ShellySession::busy`] names
//! it, each step is appended to [`ShellySession::steps`], and a failure lands in
//! [`ShellySession::failure`] with the action kept for [`ShellySession::retry`]. Everything shown
//! or logged goes through [`redact`].
//!
//! The session's parts, one file each: [`rpc`] (typed calls, the raw console's calls, the log),
//! [`connect`] (connecting, restarting, passwords), [`profiles`] (the slots), [`remote`] (the
//! gateway as a remote scanner), and the actions of the Devices page's panels: [`wifi`],
//! [`security`], [`ble`] and [`gateway`].

pub mod ble;
pub mod connect;
pub mod device;
pub mod explain;
pub mod gateway;
pub mod link;
pub mod profiles;
pub mod redact;
pub mod remote;
pub mod rpc;
pub mod security;
pub mod store;
pub mod wifi;

use std::rc::Rc;

use bluehome_core::profiles::{Config, Profiles};
use bluehome_core::shelly::auth::Credentials;
use bluehome_core::shelly::methods::events::Event;
use bluehome_core::shelly::methods::shelly::ComponentMap;
use leptos::prelude::*;

pub use self::device::{DeviceSummary, parse_shelly_mac};
use self::explain::Failure;
use self::link::Link;
pub use self::remote::{RemoteSink, scan_page_sink};
pub use self::rpc::LogEntry;
use self::store::LoadNotice;
use super::storage::KeyValue;
use crate::ble::{Backend, BleBackend, BleEvent, DeviceId};
use crate::platform::now_ms;
use crate::state::actions::Actions;
pub use crate::state::actions::{RunsActions, Step, StepState};

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// No device identified (perhaps one connecting: the steps say how far).
    #[default]
    Idle,
    /// Connected and identified.
    Connected,
}

/// Longest histories kept.
const MAX_LOG: usize = 200;

/// The app's one Shelly session, made when a page first asks for it. Only the Devices page does,
/// and the release build loads that page as a part of its own: made there, the session's code stays
/// out of the first screen. The app owns it, not the page, so a gateway keeps feeding the Scan page
/// after the Devices page is left.
#[derive(Clone)]
pub struct SessionSlot {
    session: StoredValue<Option<ShellySession>, LocalStorage>,
    setup: StoredValue<Option<crate::state::setup::SetupSession>, LocalStorage>,
    backend: StoredValue<Rc<Backend>, LocalStorage>,
    scan: crate::state::AppStore,
    owner: Option<Owner>,
}

impl std::fmt::Debug for SessionSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSlot")
            .field("made", &self.session.with_value(Option::is_some))
            .finish_non_exhaustive()
    }
}

impl SessionSlot {
    /// A slot for the session over `backend` that feeds `scan` (call it where the app's state
    /// is made: the session will be owned there).
    pub fn new(backend: Rc<Backend>, scan: crate::state::AppStore) -> Self {
        Self {
            session: StoredValue::new_local(None),
            setup: StoredValue::new_local(None),
            backend: StoredValue::new_local(backend),
            scan,
            owner: Owner::current(),
        }
    }

    /// The session, made now if it does not exist yet.
    pub fn session(&self) -> ShellySession {
        if let Some(session) = self.session.get_value() {
            return session;
        }
        let make = || {
            let session = ShellySession::new(
                self.backend.get_value(),
                Rc::new(super::storage::BrowserStorage),
                Config::default(),
            );
            session.set_remote_sink(Some(scan_page_sink(self.scan)));
            session
        };
        let session = match &self.owner {
            Some(owner) => owner.with(make),
            None => make(),
        };
        self.session.set_value(Some(session));
        session
    }

    /// The "Set up a device" session (which hands Shelly devices to [`Self::session`]), made
    /// now if it does not exist yet, with the same owner.
    pub fn setup(&self) -> crate::state::setup::SetupSession {
        if let Some(setup) = self.setup.get_value() {
            return setup;
        }
        let shelly = self.session();
        let make =
            || crate::state::setup::SetupSession::new(self.backend.get_value(), self.scan, shelly);
        let setup = match &self.owner {
            Some(owner) => owner.with(make),
            None => make(),
        };
        self.setup.set_value(Some(setup));
        setup
    }
}

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
    pub status: RwSignal<Option<ComponentMap>>,
    /// Every RPC exchange, masked, newest last.
    pub log: RwSignal<Vec<LogEntry>>,
    /// The raw console's own history, masked, newest last.
    pub console: RwSignal<Vec<LogEntry>>,
    /// The last `NotifyEvent` events received (masked), newest last: what the actions that wait
    /// for one look through ([`Self::events_since`]).
    events: RwSignal<Vec<Event>>,
    /// How many events have arrived since the session was made: positions in `events` shift as
    /// the oldest are dropped, so "newer than" counts here.
    events_received: StoredValue<usize>,
    /// The profile slots.
    pub profiles: RwSignal<Profiles>,
    /// A problem found loading the profiles.
    pub profile_notice: RwSignal<Option<LoadNotice>>,
    /// A short message about the profiles (saved, slot taken…).
    pub profile_message: RwSignal<Option<String>>,
    /// A profiles import that would forget devices, until confirmed or cancelled.
    pub import_pending: RwSignal<Option<profiles::PendingImport>>,
    /// Whether the gateway feeds the Scan page (the remote scanner runs).
    pub remote_running: RwSignal<bool>,
    /// How many times the remote scanner was started: each run polls only while it is the last.
    remote_runs: StoredValue<u64>,
    /// What the gateway heard at the last poll (relayed devices and its sensors).
    pub remote_heard: RwSignal<Vec<remote::Heard>>,
    /// What the Devices page's panels read from the device and are doing with it.
    pub panels: Panels,
    /// Where remote advertisements go (the Scan page's manager): source, advertisement.
    remote_sink: StoredValue<Option<RemoteSink>, LocalStorage>,
    /// The action state behind `steps`, `failure` and `busy` (the same signals).
    actions: Actions<ShellySession, Failure>,
    /// Credentials entered for a device, used by the next connection to it.
    pending_credentials: StoredValue<Option<(DeviceId, Credentials)>, LocalStorage>,
    link: StoredValue<Option<Rc<Link>>, LocalStorage>,
    /// Automatic reconnects since a connection last got as far as the device's status.
    auto_reconnects: StoredValue<u32>,
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
        let actions = Actions::new();
        let session = Self {
            phase: RwSignal::new(Phase::Idle),
            steps: actions.steps,
            failure: actions.failure,
            busy: actions.busy,
            device: RwSignal::new(None),
            status: RwSignal::new(None),
            log: RwSignal::new(Vec::new()),
            console: RwSignal::new(Vec::new()),
            events: RwSignal::new(Vec::new()),
            events_received: StoredValue::new(0),
            profiles: RwSignal::new(profiles),
            profile_notice: RwSignal::new(notice),
            profile_message: RwSignal::new(None),
            import_pending: RwSignal::new(None),
            remote_running: RwSignal::new(false),
            remote_runs: StoredValue::new(0),
            remote_heard: RwSignal::new(Vec::new()),
            panels: Panels::default(),
            remote_sink: StoredValue::new_local(None),
            actions,
            pending_credentials: StoredValue::new_local(None),
            link: StoredValue::new_local(None),
            auto_reconnects: StoredValue::new(0),
            backend: StoredValue::new_local(Rc::clone(&backend)),
            storage: StoredValue::new_local(storage),
        };
        backend.subscribe(Rc::new(move |event| {
            if let BleEvent::Disconnected { device } = event {
                session.link_dropped(device);
            }
        }));
        session.follow_other_windows();
        session
    }

    /// Takes in the profiles another window of the page saves, so that neither window's next
    /// save writes over the devices the other bound. A disposed session ignores it (`try_`).
    fn follow_other_windows(self) {
        crate::platform::on_storage_changed(move |key, _| {
            if key.as_deref() == Some(store::PROFILES_KEY) {
                self.take_in_saved();
            }
        });
    }

    /// The session from context: one provided as it is (tests mount a page over their own), else
    /// the app's, made on first use ([`SessionSlot`]).
    pub fn from_context() -> Self {
        use_context::<Self>().unwrap_or_else(|| expect_context::<SessionSlot>().session())
    }

    /// The link, when connected.
    pub fn link(&self) -> Option<Rc<Link>> {
        self.link.try_get_value().flatten()
    }

    /// The backend.
    pub fn backend(&self) -> Rc<Backend> {
        self.backend.get_value()
    }
}

impl RunsActions for ShellySession {
    type Failure = Failure;
    const ONE_AT_A_TIME: bool = false;

    fn actions(self) -> Actions<Self, Failure> {
        self.actions
    }
}

/// What the Devices page's panels read from the connected device (Wi-Fi networks, Bluetooth
/// settings, the gateway's devices and the wait for a new one) and what was typed into them,
/// kept with the session rather than in each panel: switching tabs, or the remount a restart
/// brings, loses none of it, and an action or a wait still running finishes into it. Cleared
/// when another device connects (but for the console's).
#[derive(Debug, Clone, Copy, Default)]
pub struct Panels {
    /// The device they were read from.
    device: StoredValue<Option<DeviceId>, LocalStorage>,
    /// The Wi-Fi panel's.
    pub wifi: wifi::WifiSetup,
    /// The Bluetooth panel's.
    pub ble: ble::BleSettings,
    /// The BTHome gateway panel's.
    pub gateway: gateway::BthomeGateway,
    /// The security panel's.
    pub security: security::SecurityForm,
    /// The raw console's.
    pub console: rpc::ConsoleForm,
}

impl Panels {
    /// Keeps what was read from `device`, clearing what another device's panels hold.
    fn keep_for(self, device: &DeviceId) {
        if self.device.with_value(|d| d.as_ref() == Some(device)) {
            return;
        }
        self.device.set_value(Some(device.clone()));
        self.wifi.clear();
        self.ble.clear();
        self.gateway.clear();
        self.security.clear();
    }
}

/// Appends to a bounded history, dropping the oldest entries.
fn push_bounded<T>(signal: RwSignal<Vec<T>>, entries: impl IntoIterator<Item = T>)
where
    T: Send + Sync + 'static,
{
    signal.update(|log| {
        log.extend(entries);
        let excess = log.len().saturating_sub(MAX_LOG);
        log.drain(..excess);
    });
}
