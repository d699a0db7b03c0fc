//! The store's live sources: the browser's LE scan and watched devices (started and stopped
//! from the page, ended by the browser), and the filter set that narrows them.

use bluehome_core::filter::FilterSet;
use leptos::prelude::*;

use super::AppStore;
use crate::ble::{
    BleBackend, BleError, DeviceId, ErrorKind, GrantedDevice, LeScanOptions, RequestDeviceOptions,
    ScanEnd,
};

/// What the live sources are doing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStatus {
    /// An LE scan runs.
    pub scanning: bool,
    /// The browser's scan prompt or device chooser is open: another press waits for its answer.
    pub asking: bool,
    /// Why the last scan ended, when the page did not stop it (cleared by the next scan).
    pub scan_ended: Option<ScanEnd>,
    /// Devices whose advertisements are watched.
    pub watched: Vec<GrantedDevice>,
    /// `(played, total)` of a capture replay.
    pub replay: Option<(usize, usize)>,
    /// The last thing that failed, for the user.
    pub error: Option<String>,
    /// Recording a capture.
    pub recording: bool,
}

impl AppStore {
    pub(super) fn scan_ended(&self, reason: ScanEnd) {
        self.status.update(|s| {
            s.scanning = false;
            s.scan_ended = (reason != ScanEnd::Stopped).then_some(reason);
        });
    }

    /// Re-arms every watch once the page is visible and focused again. Chrome dropped them when
    /// it was not, and while `watchingAdvertisements` stays true a plain watch re-arms nothing:
    /// each is aborted, then started again (no user gesture needed, unlike a scan).
    pub(super) fn rearm_watches(&self) {
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

    fn fail(&self, error: &BleError) {
        self.status.update(|s| s.error = Some(error.to_string()));
    }

    /// Starts the browser's LE scan (needs a user gesture on the web), narrowed by the filter set
    /// where Web Bluetooth can express it (the list applies the exact filters either way).
    pub async fn start_scan(&self) {
        let backend = self.backend();
        let options = self
            .filters()
            .map(|f| LeScanOptions::for_filters(&f))
            .unwrap_or_default();
        match self.ask(backend.start_scan(&options)).await {
            Some(Ok(())) => self.status.update(|s| {
                s.scanning = true;
                s.scan_ended = None;
            }),
            Some(Err(e)) => self.fail(&e),
            None => {}
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
        let options = RequestDeviceOptions::bthome_sensors();
        match self.ask(backend.request_device(&options)).await {
            Some(Ok(device)) => self.watch(device).await,
            Some(Err(e)) => self.fail(&e),
            None => {}
        }
    }

    /// Waits for the person's answer to `prompt` (the scan prompt or the chooser), unless one is
    /// open already (`None`): a second press meanwhile would ask them twice.
    async fn ask<T>(&self, prompt: impl Future<Output = T>) -> Option<T> {
        if self.status.with_untracked(|s| s.asking) {
            return None;
        }
        self.status.update(|s| {
            s.asking = true;
            s.error = None;
        });
        let answer = prompt.await;
        self.status.update(|s| s.asking = false);
        Some(answer)
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

    async fn watch(&self, device: GrantedDevice) {
        match self.watch_listed(device).await {
            // Stopped by the person while it started: nothing went wrong.
            Ok(())
            | Err(BleError {
                kind: ErrorKind::UserCancelled,
                ..
            }) => {}
            Err(e) => self.fail(&e),
        }
    }

    /// Watches a device's advertisements and lists it with the watched devices, so that it is
    /// re-armed with them when the page comes back; a device that
    /// cannot be watched leaves the list. The set-up flow watches the device it sets up this way.
    pub async fn watch_listed(&self, device: GrantedDevice) -> Result<(), BleError> {
        let watched = self.backend().watch_advertisements(&device.id).await;
        self.status.update(|s| {
            let listed = s.watched.iter().any(|d| d.id == device.id);
            match &watched {
                Ok(()) if !listed => s.watched.push(device),
                Ok(()) => {}
                Err(_) => s.watched.retain(|d| d.id != device.id),
            }
        });
        watched
    }

    /// Stops watching a device.
    pub fn unwatch(&self, id: &DeviceId) {
        self.backend().unwatch_advertisements(id);
        self.status.update(|s| s.watched.retain(|d| &d.id != id));
    }

    /// Applies a new filter set (Shelly's JSON form): the list narrows at once, and a running
    /// browser scan restarts narrowed the new way when that differs (from a user gesture: the
    /// restart asks for `requestLEScan` again).
    pub async fn apply_filters(&self, filter_json: String) {
        let asked = |store: &Self| {
            store
                .filters()
                .map(|f| LeScanOptions::for_filters(&f))
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
}
