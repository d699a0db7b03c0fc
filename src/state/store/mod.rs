//! The Leptos store: one [`ScanModel`] behind a `Copy` handle, fed by the backend's events and a
//! steady ticker, re-rendered at a bounded rate.
//!
//! Advertisements may arrive a thousand times a second; they only mutate the model. The ticker
//! (every [`FRAME_MS`]) runs the manager's timers, plays due capture records, advances the demo
//! simulator and bumps [`AppStore::revision`] when something changed. Views read the model with
//! [`AppStore::model`], which tracks that signal, so the page renders at most 1000 / [`FRAME_MS`]
//! times a second whatever the load.
//!
//! The store is made in two steps so the first screen stays small: [`AppStore::unopened`] makes the
//! handle (signals and an empty model, little code), and [`AppStore::open`] loads what was saved and
//! subscribes to the backend. In the split build (src/app.rs) everything past the handle is a part
//! of its own, which the first module reaches only through [`act`].

use std::rc::Rc;

use bluehome_core::manager::LOCAL_SOURCE;
use bluehome_core::{Advertisement, Connectable, DeviceKey, bthome};
#[cfg(bluehome_split)]
use leptos::lazy;
use leptos::prelude::*;

use super::capture::{self, Replay};
use super::model::{CaptureKey, KeyEntry, ScanModel};
use super::persist::{self, Held, Loaded, Unreadable};
use super::settings::Settings;
use super::storage::{BrowserStorage, KeyValue};

use crate::ble::{BleBackend, BleEvent, DeviceId, ScanEnd};
use crate::platform::{never_back_from, never_back_ms};

mod sources;

pub use sources::SourceStatus;

/// The view refresh period.
pub const FRAME_MS: u64 = 250;
/// How often history and settings are saved while running.
pub const SAVE_EVERY_MS: u64 = 30_000;
/// The source name of imported captures in the manager.
pub const CAPTURE_SOURCE: &str = "capture";

/// The model and its companions.
struct Inner {
    model: ScanModel,
    replay: Option<Replay>,
    saving: Saving,
    last_save_ms: u64,
    started_ms: u64,
    /// Storage names not to write until the user decides about the data they hold.
    held: Held,
    /// Whether [`AppStore::open`] has run.
    opened: bool,
}

/// Where the store saves what it keeps.
enum Saving {
    /// Nowhere: tests that start from a clean slate, and a page that may not keep data.
    Off,
    /// The page's `localStorage`, taken when the store opens (its code stays out of the first
    /// module).
    ToPage,
    /// This storage: a test's memory, or the page's once the store is open.
    To(Rc<dyn KeyValue>),
}

/// The clock the store dates by: [`PageClock`] on the page; tests drive their own (any
/// `Fn() -> u64`).
pub trait Clock {
    /// Milliseconds since 1970.
    fn now_ms(&self) -> u64;
    /// The page saved times up to `ms` before it was reloaded: a clock that must never go back
    /// goes on from there. Test clocks ignore it.
    fn not_before(&self, _ms: u64) {}
}

impl<F: Fn() -> u64> Clock for F {
    fn now_ms(&self) -> u64 {
        self()
    }
}

/// The page's clock: the wall clock never going back ([`never_back_ms`]), even across a reload.
#[derive(Debug, Clone, Copy)]
pub struct PageClock;

impl Clock for PageClock {
    fn now_ms(&self) -> u64 {
        never_back_ms()
    }

    fn not_before(&self, ms: u64) {
        never_back_from(ms);
    }
}

/// The store handle (cheap to copy, provided by context).
#[derive(Debug, Clone, Copy)]
pub struct AppStore {
    inner: StoredValue<Inner, LocalStorage>,
    backend: StoredValue<Rc<crate::ble::Backend>, LocalStorage>,
    clock: StoredValue<Rc<dyn Clock>, LocalStorage>,
    /// Bumped (at most every [`FRAME_MS`]) when the model changed; [`AppStore::model`] tracks it.
    pub revision: RwSignal<u64>,
    /// The user's preferences (saved when they change).
    pub settings: RwSignal<Settings>,
    /// The quick-search text.
    pub search: RwSignal<String>,
    /// What the sources are doing.
    pub status: RwSignal<SourceStatus>,
    /// Notices for the user (storage recovered, import problems).
    pub notices: RwSignal<Vec<String>>,
    /// Saved data that could not be used: each with a download, and a way to let the page save
    /// over it when it is still in place.
    pub unreadable: RwSignal<Vec<Unreadable>>,
    /// The device whose details are open.
    pub selected: RwSignal<Option<DeviceKey>>,
    /// The page's clock at the last refresh.
    pub now: RwSignal<u64>,
}

impl AppStore {
    /// Creates the store over a backend, loads what was saved, and subscribes to the backend.
    /// `persist` turns localStorage on (tests pass `false` for a clean slate).
    pub fn new(backend: Rc<crate::ble::Backend>, persist: bool) -> Self {
        let store = Self::unopened(backend, persist, Rc::new(PageClock));
        store.open();
        store
    }

    /// [`AppStore::new`] over another storage (`None`: saving nothing) and clock than the page's:
    /// a test's memory and simulated time.
    pub fn with_clock(
        backend: Rc<crate::ble::Backend>,
        storage: Option<Rc<dyn KeyValue>>,
        clock: Rc<dyn Clock>,
    ) -> Self {
        let mut store = Self::unopened(backend, false, clock);
        if let Some(storage) = storage {
            store = store.saving_to(storage);
        }
        store.open();
        store
    }

    /// The store, saving to `storage` (a test's memory) once open.
    pub fn saving_to(self, storage: Rc<dyn KeyValue>) -> Self {
        self.inner.update_value(|c| c.saving = Saving::To(storage));
        self
    }

    /// The store with nothing loaded yet and not listening to the backend: [`AppStore::open`] does
    /// both. `persist` turns localStorage on.
    pub fn unopened(backend: Rc<crate::ble::Backend>, persist: bool, clock: Rc<dyn Clock>) -> Self {
        let now = clock.now_ms();
        Self {
            inner: StoredValue::new_local(Inner {
                model: ScanModel::new(),
                replay: None,
                saving: if persist { Saving::ToPage } else { Saving::Off },
                last_save_ms: now,
                started_ms: now,
                held: Held::default(),
                opened: false,
            }),
            backend: StoredValue::new_local(backend),
            clock: StoredValue::new_local(clock),
            revision: RwSignal::new(0),
            settings: RwSignal::new(Settings::default()),
            search: RwSignal::new(String::new()),
            status: RwSignal::new(SourceStatus::default()),
            notices: RwSignal::new(Vec::new()),
            unreadable: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            now: RwSignal::new(now),
        }
    }

    /// Loads what was saved (when the store persists) and subscribes to the backend, the first
    /// time; returns whether it did so now.
    pub fn open(&self) -> bool {
        let first = self
            .inner
            .try_update_value(|c| !std::mem::replace(&mut c.opened, true))
            .unwrap_or(false);
        if !first {
            return false;
        }
        self.inner.update_value(|c| {
            if matches!(c.saving, Saving::ToPage) {
                c.saving = Saving::To(Rc::new(BrowserStorage));
            }
        });
        match self.storage() {
            Some(storage) if storage.usable() => {
                self.load(storage.as_ref());
                self.follow_other_windows();
            }
            Some(_) => {
                // `localStorage` throws where site data is blocked (a `SecurityError`, HTML
                // Standard "The localStorage getter").
                self.inner.update_value(|c| c.saving = Saving::Off);
                self.notice(
                    "This browser does not let the page keep data (site data is blocked for it): bind keys, labels and settings last until the page closes.",
                );
            }
            None => {}
        }
        let store = *self;
        self.backend()
            .subscribe(Rc::new(move |event: &BleEvent| store.on_event(event)));
        true
    }

    /// Loads what was saved into the model, the settings, the notices and the list of unreadable
    /// data.
    fn load(&self, storage: &dyn KeyValue) {
        let now = self.now_ms();
        let Some((keys_before, settings, notices, unreadable, newest_point_ms)) =
            self.inner.try_update_value(|c| {
                let keys_before = c.model.key_entries().next().is_some();
                let Loaded {
                    settings,
                    notices,
                    unreadable,
                    held,
                    newest_point_ms,
                } = persist::load(storage, &mut c.model, now);
                c.held = held;
                c.model.touch();
                (keys_before, settings, notices, unreadable, newest_point_ms)
            })
        else {
            return;
        };
        if let Some(ms) = newest_point_ms {
            // New points must come after the saved ones, even on a wall clock set back since.
            self.clock.with_value(|clock| clock.not_before(ms));
        }
        if keys_before {
            // Keys are saved when they change: those set before loading were not.
            self.save_keys();
        }
        self.settings.set(settings);
        // Notices from loading first, then any the page made before.
        self.notices.update(|n| {
            let earlier = std::mem::replace(n, notices);
            n.extend(earlier);
        });
        self.unreadable.set(unreadable);
        self.flush(now);
    }

    /// Takes in what other windows of the page save, so that this window's next save keeps their
    /// labels, settings and keys rather than writing its older copy over them. A disposed store
    /// ignores it (`try_` below).
    fn follow_other_windows(self) {
        crate::platform::on_storage_changed(move |key, new_value| {
            if crate::state::privacy::erased_elsewhere(key.as_deref(), new_value.as_deref()) {
                // "Forget everything" in another window: as there, reload, so that nothing
                // erased lives on in this window's memory or is saved again from it.
                crate::platform::reload();
                return;
            }
            self.adopt_saved(key.as_deref());
        });
    }

    /// [`persist::adopt`] for the document another window saved (`None`: storage was cleared).
    fn adopt_saved(&self, name: Option<&str>) {
        let Some(storage) = self.storage() else {
            return;
        };
        let Some(settings) = self.inner.try_update_value(|c| {
            let settings = persist::adopt(storage.as_ref(), &mut c.model, name);
            c.model.touch();
            settings
        }) else {
            return;
        };
        if let Some(settings) = settings {
            self.settings.try_set(settings);
        }
        self.flush(self.now_ms());
    }

    /// The store's clock now.
    pub fn now_ms(&self) -> u64 {
        self.clock.with_value(|clock| clock.now_ms())
    }

    /// Where the store saves, once it has read what was saved there (so it never writes over
    /// data it has not seen).
    fn storage(&self) -> Option<Rc<dyn KeyValue>> {
        self.inner
            .try_with_value(|c| match &c.saving {
                Saving::To(storage) if c.opened => Some(Rc::clone(storage)),
                _ => None,
            })
            .flatten()
    }

    /// The backend.
    pub fn backend(&self) -> Rc<crate::ble::Backend> {
        self.backend.get_value()
    }

    /// Reads the model in a view: tracks [`AppStore::revision`], so the view runs again when the
    /// model changes.
    pub fn model<T>(&self, f: impl FnOnce(&ScanModel) -> T) -> Option<T> {
        self.revision.track();
        self.model_untracked(f)
    }

    /// Reads the model without tracking (event handlers, actions, tests).
    pub fn model_untracked<T>(&self, f: impl FnOnce(&ScanModel) -> T) -> Option<T> {
        self.inner.try_with_value(|c| f(&c.model))
    }

    /// Changes the model.
    pub fn update_model<T>(&self, f: impl FnOnce(&mut ScanModel) -> T) -> Option<T> {
        self.inner.try_update_value(|c| f(&mut c.model))
    }

    fn on_event(&self, event: &BleEvent) {
        match event {
            BleEvent::Advertisement {
                device,
                advertisement,
            } => {
                // A browser's device id is never empty; one that were would name no device.
                if let Ok(key) = device.as_str().parse() {
                    self.ingest(&key, advertisement.clone());
                }
            }
            BleEvent::ScanStopped { reason } => self.scan_ended(*reason),
            BleEvent::PageActivity { active: true } => self.rearm_watches(),
            BleEvent::PageActivity { active: false }
            | BleEvent::Disconnected { .. }
            | BleEvent::Notification { .. } => {}
        }
    }

    /// One live advertisement (from the backend), through the model and its manager.
    pub fn ingest(&self, key: &DeviceKey, advertisement: Advertisement) {
        let now = self.now_ms();
        self.update_model(|m| m.ingest(now, LOCAL_SOURCE, key, Connectable::Yes, advertisement));
    }

    /// BTHome objects a remote scanner (a Shelly gateway) decoded itself, from `source`.
    pub fn ingest_objects(&self, source: &str, key: &DeviceKey, objects: Vec<bthome::Object>) {
        let now = self.now_ms();
        self.update_model(|m| m.ingest_objects(now, source, key, objects));
    }

    /// Runs one ticker step at `now`: the demo clock, capture replay, manager timers, refresh,
    /// periodic save.
    pub fn tick(&self, now: u64) {
        let backend = self.backend();
        if let Some(mock) = backend.as_mock() {
            let started = self.inner.with_value(|c| c.started_ms);
            mock.tick(now.saturating_sub(started));
        }
        // A scan the browser ended without an event (`BluetoothLEScan.active` turned false).
        if self.status.with_untracked(|s| s.scanning) && !backend.is_scanning() {
            self.scan_ended(ScanEnd::Browser);
        }
        let mut kept_own = Vec::new();
        let progress = self.inner.try_update_value(|inner| {
            let replay = inner.replay.as_mut()?;
            for (at, record) in replay.due(now) {
                // The capture's key decodes its replay; the user's own saved key always stays.
                if let Some(key) = record.bindkey
                    && inner.model.use_capture_key(&record.key, key) == CaptureKey::OwnKept
                    && !kept_own.contains(&record.key)
                {
                    kept_own.push(record.key.clone());
                }
                inner.model.ingest(
                    at,
                    &record.source,
                    &record.key,
                    Connectable::from(record.connectable),
                    record.advertisement,
                );
            }
            let progress = replay.progress();
            if replay.finished() {
                inner.replay = None;
                inner.model.end_capture_keys();
            }
            Some(progress)
        });
        for key in kept_own {
            self.notice(format!(
                "Import: the capture carries a different bind key for {key}; your saved key is kept \
                 (its packets in the capture may not decrypt)."
            ));
        }
        if let Some(progress) = progress {
            self.status.update(|s| {
                s.replay = progress.filter(|(played, total)| played < total);
            });
        }
        self.update_model(|m| m.advance(now));
        self.flush(now);
        let due = self
            .inner
            .try_with_value(|c| now >= c.last_save_ms.saturating_add(SAVE_EVERY_MS))
            .unwrap_or(false);
        if due {
            self.save(now);
        }
    }

    /// Re-renders now if the model changed (the ticker calls it; tests call it directly).
    pub fn flush(&self, now: u64) {
        let dirty = self.update_model(|m| m.take_dirty()).unwrap_or(false);
        if dirty {
            self.now.set(now);
            self.revision.update(|r| *r += 1);
        } else if now >= self.now.get_untracked() + 1000 {
            // Ages ("3 s ago") move on even when nothing arrives.
            self.now.set(now);
        }
    }

    /// Saves settings, labels and history (bind keys are saved when they change), when the store
    /// persists.
    pub fn save(&self, now: u64) {
        self.inner.update_value(|c| c.last_save_ms = now);
        let Some(store) = self.storage() else {
            return;
        };
        let settings = self.settings.get_untracked();
        let result = self
            .inner
            .try_update_value(|c| {
                c.model.prune(now);
                persist::save_scan(store.as_ref(), &c.held, &c.model, &settings, now)
            })
            .unwrap_or(Ok(()));
        if let Err(e) = result {
            self.notice(e);
        }
    }

    fn save_keys(&self) {
        if let Some(store) = self.storage()
            && let Some(Err(e)) = self
                .inner
                .try_with_value(|c| persist::save_keys(store.as_ref(), &c.held, &c.model))
        {
            self.notice(e);
        }
    }

    /// Lets the page forget one piece of unreadable saved data (the user has downloaded it or
    /// does not want it). When it was still in its place, saving there resumes at once.
    pub fn discard_unreadable(&self, index: usize) {
        let Some(entry) = self
            .unreadable
            .try_update(|list| (index < list.len()).then(|| list.remove(index)))
            .flatten()
        else {
            return;
        };
        let Some(name) = entry.holds else { return };
        self.inner.update_value(|c| c.held.release(name));
        if name == persist::KEYS_KEY {
            self.save_keys();
        } else {
            self.save(self.now_ms());
        }
    }

    /// Shows a notice (once while it is on screen).
    pub fn notice(&self, text: impl Into<String>) {
        let text = text.into();
        if self.notices.with_untracked(|n| n.contains(&text)) {
            return;
        }
        self.notices.update(|n| {
            if n.len() >= 5 {
                n.remove(0);
            }
            n.push(text);
        });
    }

    /// Pauses or resumes the live view.
    pub fn set_paused(&self, paused: bool) {
        self.update_model(|m| {
            m.paused = paused;
            m.touch();
        });
    }

    /// Sets a device's bind key (and MAC) and saves the keys.
    pub fn set_key(&self, key: &DeviceKey, entry: Option<KeyEntry>) {
        self.update_model(|m| m.set_key(key, entry));
        self.save_keys();
        self.flush(self.now_ms());
    }

    /// Sets a device's label and saves.
    pub fn set_label(&self, key: &DeviceKey, label: &str) {
        self.update_model(|m| m.set_label(key, label));
        let now = self.now_ms();
        self.save(now);
        self.flush(now);
    }

    /// Changes the settings and saves.
    pub fn update_settings(&self, f: impl FnOnce(&mut Settings)) {
        self.settings.update(f);
        let now = self.now_ms();
        self.save(now);
        self.update_model(|m| m.touch());
        self.flush(now);
    }

    /// Replays a capture file's text; returns how many records will play.
    pub fn import_capture(&self, text: &str) -> usize {
        let parsed = capture::parse(text, CAPTURE_SOURCE);
        let count = parsed.records.len();
        if let Some(summary) = parsed.errors.summary() {
            self.notice(format!("Import: {summary}"));
        }
        if parsed.pauses_shortened > 0 {
            self.notice(format!(
                "Import: {} pause(s) longer than {} s replay as {} s.",
                parsed.pauses_shortened,
                capture::MAX_PAUSE_MS / 1000,
                capture::MAX_PAUSE_MS / 1000
            ));
        }
        let now = self.now_ms();
        self.inner.update_value(|c| {
            c.model.end_capture_keys();
            c.replay = Some(Replay::new(parsed, now));
        });
        self.status.update(|s| s.replay = Some((0, count)));
        self.tick(now);
        count
    }

    /// Stops a capture's replay where it has got to (what played stays on screen).
    pub fn stop_replay(&self) {
        self.inner.update_value(|c| {
            c.replay = None;
            c.model.end_capture_keys();
        });
        self.status.update(|s| s.replay = None);
    }

    /// Starts or stops recording; stopping returns the capture text.
    pub fn toggle_recording(&self) -> Option<String> {
        let recording = self
            .model_untracked(|m| m.recording.is_some())
            .unwrap_or(false);
        let text = if recording {
            self.update_model(|m| m.stop_recording()).flatten()
        } else {
            self.update_model(|m| m.start_recording());
            None
        };
        self.status.update(|s| s.recording = !recording);
        text
    }

    /// Forgets the devices and events on screen.
    pub fn clear(&self) {
        self.update_model(|m| m.clear());
        self.flush(self.now_ms());
    }

    /// Starts the ticker (in the browser).
    pub fn start_ticker(&self) {
        #[cfg(target_arch = "wasm32")]
        {
            let store = *self;
            let handle = set_interval_with_handle(
                move || store.tick(store.now_ms()),
                std::time::Duration::from_millis(FRAME_MS),
            );
            if let Ok(handle) = handle {
                on_cleanup(move || handle.clear());
            }
        }
    }
}

/// What the first module asks of the store (src/app.rs, the top of the Scan page), through [`act`].
#[derive(Debug, Clone)]
pub enum Action {
    /// Open the store (a page that shows saved data waits for this).
    Open,
    /// Open the store and start its ticker, under the caller's owner; with `scan`, start
    /// listening too (the demo's simulated radio is always there).
    Start {
        /// Start a scan at once.
        scan: bool,
    },
    /// Stop the scan, or start one.
    ToggleScan,
    /// Start a scan (after the browser ended one).
    StartScan,
    /// Ask the user for a device to watch.
    WatchNewDevice,
    /// Watch every device the page is permitted to.
    WatchKnownDevices,
    /// Stop watching a device.
    Unwatch(DeviceId),
    /// Forget one piece of unreadable saved data ([`AppStore::discard_unreadable`]).
    DiscardUnreadable(usize),
}

/// Opens `store` if it is not open yet, then starts `action` and returns: what the action waits for
/// (a scan, the device chooser) runs on as a task of the current owner. Returning once the store is
/// open keeps the future free of the backend's browser objects, so a view can wait on it (the Scan
/// page's body waits for the saved settings). In the split build this is the store's part: its
/// loading, persistence, sources and manager load on the first call.
#[cfg_attr(bluehome_split, lazy(store))]
pub async fn act(store: AppStore, action: Action) {
    store.open();
    leptos::task::spawn_local_scoped(async move {
        match action {
            Action::Open => {}
            Action::Start { scan } => {
                store.start_ticker();
                if scan {
                    store.start_scan().await;
                }
            }
            Action::ToggleScan if store.status.with_untracked(|s| s.scanning) => store.stop_scan(),
            Action::ToggleScan | Action::StartScan => store.start_scan().await,
            Action::WatchNewDevice => store.watch_new_device().await,
            Action::WatchKnownDevices => store.watch_known_devices().await,
            Action::Unwatch(id) => store.unwatch(&id),
            Action::DiscardUnreadable(index) => store.discard_unreadable(index),
        }
    });
}

/// The store provided by `App`.
///
/// # Panics
/// Outside `App` (a programming error every page test would catch).
pub fn use_store() -> AppStore {
    #[allow(clippy::expect_used)] // Every page is mounted under App, which provides it.
    expect_context::<AppStore>()
}
