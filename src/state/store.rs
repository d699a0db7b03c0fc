//! The Leptos store: one [`ScanModel`] behind a `Copy` handle, fed by the backend's events and a
//! steady ticker, re-rendered at a bounded rate.
//!
//! Advertisements may arrive a thousand times a second; they only mutate the model. The ticker
//! (every [`FRAME_MS`]) runs the manager's timers, plays due capture records, advances the demo
//! simulator and bumps [`AppStore::revision`] when something changed — views read the model under
//! that signal, so the page renders at most 1000 / [`FRAME_MS`] times a second whatever the load.

use std::rc::Rc;

use bluehome_core::Advertisement;
use bluehome_core::filter::FilterSet;
use leptos::prelude::*;

use super::capture::{self, Replay};
use super::model::{CaptureKey, KeyEntry, ScanModel};
use super::persist::{self, Held, Unreadable};
use super::settings::Settings;
use super::storage::{BrowserStorage, KeyValue};
use bluehome_core::Uuid;

use crate::ble::{
    BleBackend, BleError, BleEvent, DeviceFilter, DeviceId, DeviceInfo, ManufacturerDataFilter,
    RequestDeviceOptions, ScanEnd, ScanOptions,
};

/// The view refresh period.
pub const FRAME_MS: u64 = 250;
/// How often history and settings are saved while running.
pub const SAVE_EVERY_MS: u64 = 30_000;
/// The source name of imported captures in the manager.
pub const CAPTURE_SOURCE: &str = "capture";

/// The page's clock: unix milliseconds.
pub fn now_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as u64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// The browser's offset from UTC in minutes east (0 outside a browser).
pub fn local_offset_minutes(ms: u64) -> i32 {
    #[cfg(target_arch = "wasm32")]
    {
        -(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64)).get_timezone_offset()
            as i32)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = ms;
        0
    }
}

/// What the live sources are doing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStatus {
    /// An LE scan runs.
    pub scanning: bool,
    /// Why the last scan ended, when the page did not stop it (cleared by the next scan).
    pub scan_ended: Option<ScanEnd>,
    /// Devices whose advertisements are watched.
    pub watched: Vec<DeviceInfo>,
    /// `(played, total)` of a capture replay.
    pub replay: Option<(usize, usize)>,
    /// The last thing that failed, for the user.
    pub error: Option<String>,
    /// Recording a capture.
    pub recording: bool,
}

struct Inner {
    model: ScanModel,
    replay: Option<Replay>,
    last_save_ms: u64,
    started_ms: u64,
    /// Storage names not to write until the user decides about the data they hold.
    held: Held,
}

/// The store handle (cheap to copy, provided by context).
#[derive(Debug, Clone, Copy)]
pub struct AppStore {
    inner: StoredValue<InnerCell, LocalStorage>,
    backend: StoredValue<Rc<crate::ble::Backend>, LocalStorage>,
    /// Bumped (at most every [`FRAME_MS`]) when the model changed; views track it.
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
    pub selected: RwSignal<Option<String>>,
    /// The page's clock at the last refresh.
    pub now: RwSignal<u64>,
}

/// The model and its companions (wrapped so `StoredValue` holds one value).
pub struct InnerCell(Inner);

impl std::fmt::Debug for InnerCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InnerCell")
            .field("devices", &self.0.model.devices.len())
            .finish_non_exhaustive()
    }
}

fn storage() -> Option<Box<dyn KeyValue>> {
    BrowserStorage::available().then(|| Box::new(BrowserStorage) as Box<dyn KeyValue>)
}

impl AppStore {
    /// Creates the store over a backend, loads what was saved, and subscribes to the backend.
    /// `persist` turns localStorage on (tests pass `false` for a clean slate).
    pub fn new(backend: Rc<crate::ble::Backend>, persist: bool) -> Self {
        let now = now_ms();
        let mut model = ScanModel::new();
        let mut settings = Settings::default();
        let mut notices = Vec::new();
        let mut unreadable = Vec::new();
        let mut held = Held::default();
        if persist && let Some(store) = storage() {
            let loaded = persist::load(store.as_ref(), &mut model, now);
            settings = loaded.settings;
            notices = loaded.notices;
            unreadable = loaded.unreadable;
            held = loaded.held;
        }
        let store = Self {
            inner: StoredValue::new_local(InnerCell(Inner {
                model,
                replay: None,
                last_save_ms: now,
                started_ms: now,
                held,
            })),
            backend: StoredValue::new_local(Rc::clone(&backend)),
            revision: RwSignal::new(0),
            settings: RwSignal::new(settings),
            search: RwSignal::new(String::new()),
            status: RwSignal::new(SourceStatus::default()),
            notices: RwSignal::new(notices),
            unreadable: RwSignal::new(unreadable),
            selected: RwSignal::new(None),
            now: RwSignal::new(now),
        };
        store.persist_enabled(persist);
        backend.subscribe(Rc::new(move |event: &BleEvent| store.on_event(event)));
        store
    }

    fn persist_enabled(&self, on: bool) {
        if !on {
            // A huge last-save time means the periodic save never comes due.
            self.inner.update_value(|c| c.0.last_save_ms = u64::MAX / 2);
        }
    }

    /// The backend.
    pub fn backend(&self) -> Rc<crate::ble::Backend> {
        self.backend.get_value()
    }

    /// Reads the model (untracked: pair it with `revision.get()` in views).
    pub fn with_model<T>(&self, f: impl FnOnce(&ScanModel) -> T) -> Option<T> {
        self.inner.try_with_value(|c| f(&c.0.model))
    }

    /// Changes the model.
    pub fn update_model<T>(&self, f: impl FnOnce(&mut ScanModel) -> T) -> Option<T> {
        self.inner.try_update_value(|c| f(&mut c.0.model))
    }

    fn on_event(&self, event: &BleEvent) {
        match event {
            BleEvent::Advertisement {
                device,
                advertisement,
            } => self.ingest(device.as_str(), advertisement.clone()),
            BleEvent::ScanStopped { reason } => self.scan_ended(*reason),
            BleEvent::PageActivity { active: true } => self.rearm_watches(),
            BleEvent::PageActivity { active: false }
            | BleEvent::Disconnected { .. }
            | BleEvent::Notification { .. } => {}
        }
    }

    fn scan_ended(&self, reason: ScanEnd) {
        self.status.update(|s| {
            s.scanning = false;
            s.scan_ended = (reason != ScanEnd::Stopped).then_some(reason);
        });
    }

    /// Re-arms every watch once the page is visible and focused again. Chrome dropped them when
    /// it was not, and while `watchingAdvertisements` stays true a plain watch re-arms nothing:
    /// each is aborted, then started again (no user gesture needed, unlike a scan).
    fn rearm_watches(&self) {
        let watched = self.status.with_untracked(|s| s.watched.clone());
        if watched.is_empty() {
            return;
        }
        let store = *self;
        leptos::task::spawn_local(async move {
            let backend = store.backend();
            for device in watched {
                backend.unwatch_advertisements(&device.id);
                store.watch(device).await;
            }
        });
    }

    /// One live advertisement (from the backend), through the model and its manager.
    pub fn ingest(&self, key: &str, advertisement: Advertisement) {
        let now = now_ms();
        self.update_model(|m| {
            m.ingest(
                now,
                bluehome_core::manager::LOCAL_SOURCE,
                key,
                true,
                advertisement,
            )
        });
    }

    /// Runs one ticker step at `now`: the demo clock, capture replay, manager timers, refresh,
    /// periodic save.
    pub fn tick(&self, now: u64) {
        let backend = self.backend();
        if let Some(mock) = backend.as_mock() {
            let started = self.inner.with_value(|c| c.0.started_ms);
            mock.tick(now.saturating_sub(started));
        }
        // A scan the browser ended without an event (`BluetoothLEScan.active` turned false).
        if self.status.with_untracked(|s| s.scanning) && !backend.is_scanning() {
            self.scan_ended(ScanEnd::Browser);
        }
        let mut kept_own = Vec::new();
        let progress = self.inner.try_update_value(|c| {
            let inner = &mut c.0;
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
                    record.connectable,
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
            .try_with_value(|c| now >= c.0.last_save_ms.saturating_add(SAVE_EVERY_MS))
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

    /// Saves settings, labels and history (bind keys are saved when they change).
    pub fn save(&self, now: u64) {
        self.inner.update_value(|c| c.0.last_save_ms = now);
        let Some(store) = storage() else { return };
        let settings = self.settings.get_untracked();
        let result = self
            .inner
            .try_update_value(|c| {
                c.0.model.prune(now);
                persist::save_scan(store.as_ref(), &c.0.held, &c.0.model, &settings, now)
            })
            .unwrap_or(Ok(()));
        if let Err(e) = result {
            self.notice(e);
        }
    }

    fn save_keys(&self) {
        let persisting = self
            .inner
            .try_with_value(|c| c.0.last_save_ms < u64::MAX / 2)
            .unwrap_or(false);
        if !persisting {
            return;
        }
        if let Some(store) = storage()
            && let Some(Err(e)) = self
                .inner
                .try_with_value(|c| persist::save_keys(store.as_ref(), &c.0.held, &c.0.model))
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
        self.inner.update_value(|c| c.0.held.release(name));
        if name == persist::KEYS_KEY {
            self.save_keys();
        } else {
            self.save(now_ms());
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

    fn fail(&self, error: &BleError) {
        self.status.update(|s| s.error = Some(error.to_string()));
    }

    /// Starts the browser's LE scan (needs a user gesture on the web), narrowed by the filter set
    /// where Web Bluetooth can express it (the list applies the exact filters either way).
    pub async fn start_scan(&self) {
        let backend = self.backend();
        self.status.update(|s| s.error = None);
        let options = self.filters().map(|f| scan_options(&f)).unwrap_or_default();
        match backend.start_scan(&options).await {
            Ok(()) => self.status.update(|s| {
                s.scanning = true;
                s.scan_ended = None;
            }),
            Err(e) => self.fail(&e),
        }
    }

    /// Stops the LE scan.
    pub fn stop_scan(&self) {
        self.backend().stop_scan();
        self.status.update(|s| {
            s.scanning = false;
            s.scan_ended = None;
        });
    }

    /// Picks a sensor in the chooser and watches its advertisements.
    pub async fn watch_new_device(&self) {
        let backend = self.backend();
        self.status.update(|s| s.error = None);
        let device = match backend
            .request_device(&RequestDeviceOptions::bthome_sensors())
            .await
        {
            Ok(d) => d,
            Err(e) => return self.fail(&e),
        };
        self.watch(device).await;
    }

    /// Watches devices granted before (`getDevices`).
    pub async fn watch_known_devices(&self) {
        let backend = self.backend();
        match backend.get_devices().await {
            Ok(devices) => {
                for device in devices {
                    self.watch(device).await;
                }
            }
            Err(e) => self.fail(&e),
        }
    }

    async fn watch(&self, device: DeviceInfo) {
        match self.backend().watch_advertisements(&device.id).await {
            Ok(()) => self.status.update(|s| {
                if !s.watched.iter().any(|d| d.id == device.id) {
                    s.watched.push(device);
                }
            }),
            Err(e) => {
                self.status
                    .update(|s| s.watched.retain(|d| d.id != device.id));
                self.fail(&e);
            }
        }
    }

    /// Stops watching a device.
    pub fn unwatch(&self, id: &DeviceId) {
        self.backend().unwatch_advertisements(id);
        self.status.update(|s| s.watched.retain(|d| &d.id != id));
    }

    /// Pauses or resumes the live view.
    pub fn set_paused(&self, paused: bool) {
        self.update_model(|m| {
            m.paused = paused;
            m.touch();
        });
    }

    /// Sets a device's bind key (and MAC) and saves the keys.
    pub fn set_key(&self, key: &str, entry: Option<KeyEntry>) {
        self.update_model(|m| m.set_key(key, entry));
        self.save_keys();
        self.flush(now_ms());
    }

    /// Sets a device's label and saves.
    pub fn set_label(&self, key: &str, label: &str) {
        self.update_model(|m| m.set_label(key, label));
        let now = now_ms();
        if self
            .inner
            .try_with_value(|c| c.0.last_save_ms < u64::MAX / 2)
            .unwrap_or(false)
        {
            self.save(now);
        }
        self.flush(now);
    }

    /// Changes the settings and saves.
    pub fn update_settings(&self, f: impl FnOnce(&mut Settings)) {
        self.settings.update(f);
        let now = now_ms();
        if self
            .inner
            .try_with_value(|c| c.0.last_save_ms < u64::MAX / 2)
            .unwrap_or(false)
        {
            self.save(now);
        }
        self.update_model(|m| m.touch());
        self.flush(now);
    }

    /// Applies a new filter set (Shelly's JSON form): the list narrows at once, and a running
    /// browser scan restarts narrowed the new way when that differs (from a user gesture: the
    /// restart asks for `requestLEScan` again).
    pub async fn apply_filters(&self, filter_json: String) {
        let asked = |store: &Self| {
            store
                .filters()
                .map(|f| scan_options(&f))
                .unwrap_or_default()
        };
        let before = asked(self);
        self.update_settings(|s| s.filter_json = filter_json);
        if self.status.with_untracked(|s| s.scanning) && asked(self) != before {
            self.stop_scan();
            self.start_scan().await;
        }
    }

    /// The filter set from the settings, or the error that stops it parsing.
    pub fn filters(&self) -> Result<FilterSet, String> {
        let text = self.settings.with(|s| s.filter_json.clone());
        if text.trim().is_empty() {
            return Ok(FilterSet::default());
        }
        FilterSet::from_json(&text).map_err(|e| e.to_string())
    }

    /// Replays a capture file's text; returns how many records will play.
    pub fn import_capture(&self, text: &str) -> usize {
        let parsed = capture::parse(text, CAPTURE_SOURCE);
        let count = parsed.records.len();
        if let Some(summary) = parsed.errors.summary() {
            self.notice(format!("Import: {summary}"));
        }
        let now = now_ms();
        self.inner.update_value(|c| {
            c.0.model.end_capture_keys();
            c.0.replay = Some(Replay::new(parsed, now));
        });
        self.status.update(|s| s.replay = Some((0, count)));
        self.tick(now);
        count
    }

    /// Starts or stops recording; stopping returns the capture text.
    pub fn toggle_recording(&self) -> Option<String> {
        let recording = self.with_model(|m| m.recording.is_some()).unwrap_or(false);
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
        self.flush(now_ms());
    }

    /// Starts the ticker (in the browser).
    pub fn start_ticker(&self) {
        #[cfg(target_arch = "wasm32")]
        {
            let store = *self;
            let handle = set_interval_with_handle(
                move || store.tick(now_ms()),
                std::time::Duration::from_millis(FRAME_MS),
            );
            if let Ok(handle) = handle {
                on_cleanup(move || handle.clear());
            }
        }
    }
}

/// The `requestLEScan` options for a Shelly filter set: the core's scan translation
/// (`filter::web::translate_scan`: advertised services only, else every advertisement). Names and
/// manufacturer data cannot narrow a scan safely; the list applies the whole set to each device's
/// merged data.
pub fn scan_options(filters: &FilterSet) -> ScanOptions {
    let web = bluehome_core::filter::web::translate_scan(filters);
    if web.accept_all {
        return ScanOptions::default();
    }
    let filters = web
        .filters
        .into_iter()
        .map(|f| DeviceFilter {
            services: f
                .services
                .iter()
                .filter_map(|u| u.parse::<Uuid>().ok())
                .collect(),
            name: f.name,
            name_prefix: f.name_prefix,
            manufacturer_data: f
                .manufacturer_data
                .into_iter()
                .map(|m| ManufacturerDataFilter {
                    company_id: m.company_identifier,
                    data_prefix: m.data_prefix,
                    mask: m.mask.unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    ScanOptions {
        filters,
        keep_repeated_devices: true,
        accept_all_advertisements: false,
    }
}

/// The store provided by `App`.
///
/// # Panics
/// Outside `App` (a programming error every page test would catch).
pub fn use_store() -> AppStore {
    #[allow(clippy::expect_used)] // Every page is mounted under App, which provides it.
    expect_context::<AppStore>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(json: &str) -> ScanOptions {
        scan_options(&FilterSet::from_json(json).unwrap())
    }

    #[test]
    fn scan_options_follow_the_filter_set_where_chrome_can() {
        let all = scan_options(&FilterSet::default());
        assert!(all.accept_all_advertisements && all.keep_repeated_devices);

        // Chrome has no service-data filters: scan everything, the list still filters exactly.
        assert_eq!(options(r#"[{"serviceData":{"service":"fcd2"}}]"#), all);

        let battery = options(r#"[{"services":["180f"]}]"#);
        assert!(!battery.accept_all_advertisements);
        assert_eq!(battery.filters.len(), 1);
        assert_eq!(battery.filters[0].services, [Uuid::from_u16(0x180F)]);
    }

    #[test]
    fn scan_options_never_narrow_by_name_or_manufacturer_data() {
        // Chrome matches a scan's name filter against each packet's own name (a Shelly BLU data
        // packet has none on Windows) and ignores manufacturerData: both would lose packets.
        let all = ScanOptions::default();
        assert_eq!(options(r#"[{"name":"SB*"}]"#), all);
        assert_eq!(options(r#"[{"name":"SBHT-003C"}]"#), all);
        assert_eq!(
            options(r#"[{"manufacturerData":{"companyIdentifier":2985}}]"#),
            all
        );
        let narrowed = options(r#"[{"services":["180f"],"name":"SB*"}]"#);
        assert_eq!(narrowed.filters.len(), 1);
        assert_eq!(narrowed.filters[0].name_prefix, None);
        assert_eq!(narrowed.filters[0].name, None);
    }
}
