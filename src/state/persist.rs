//! Explicit load and save of what survives a reload, with a versioned schema.
//!
//! Two entries in the page's key-value storage (localStorage in the browser), in the formats of
//! `bluehome_core::saved` (which reads them part by part and never drops data silently):
//! - `bluehome.scan`: settings, labels and the last hour of history, thinned;
//! - `bluehome.keys`: bind keys, kept apart so nothing else ever carries them.
//!
//! Whatever could not be used is reported, and the original text is copied aside under
//! `<name>.unreadable.<unix ms>` (once per distinct content, at most
//! [`MAX_KEPT_ASIDE`](super::storage::MAX_KEPT_ASIDE) copies, the oldest handed to the user
//! before it goes). When even the copy fails (storage full), the original stays where it is and
//! is [`Held`]: nothing is saved over it until the user has downloaded or discarded it.

use bluehome_core::DeviceKey;
use bluehome_core::saved::{
    KeysDocument, LoadIssue, SavedDevice, SavedKey, SavedReading, ScanDocument,
};

use super::model::{HISTORY_WINDOW_MS, KeyEntry, ScanModel};
use super::settings::Settings;
use super::storage::{KeptAside, KeyValue, keep_aside};

/// Storage name of the scan data.
pub const SCAN_KEY: &str = "bluehome.scan";
/// Storage name of the bind keys.
pub const KEYS_KEY: &str = "bluehome.keys";
/// Devices whose history is saved at most (the most recently heard).
pub const SAVED_DEVICES: usize = 100;
/// Saved history keeps one point per this many ms.
pub const SAVED_STEP_MS: u64 = 30_000;
/// How far after the clock at loading a saved point may be dated. A wall clock set back since the
/// save (a time sync) dates points later than now, and the page's clock goes on from the newest;
/// a point more than a day ahead is not believed (stored data gone wrong, or a clock reset to
/// another year): it is left out, so that it neither holds the history back nor carries the
/// page's clock with it.
pub const AHEAD_LIMIT_MS: u64 = 86_400_000;

/// Where copies of a document that could not be used go (`<name>.unreadable.<unix ms>`).
pub fn aside_prefix(name: &str) -> String {
    format!("{name}.unreadable")
}

/// Saved data the page could not use, for the user: what happened, and the data to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// What happened, in a sentence or two.
    pub message: String,
    /// A file name for the download.
    pub file_name: String,
    /// The data.
    pub text: String,
    /// The storage name this data still occupies, when it could not be copied aside: nothing
    /// is saved there until the user discards it.
    pub holds: Option<&'static str>,
}

/// Storage names the page must not write: their only copy of unreadable data is still there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held(Vec<&'static str>);

impl Held {
    /// Whether `name` is held.
    pub fn holds(&self, name: &str) -> bool {
        self.0.contains(&name)
    }

    /// Lets the page save `name` again (the user downloaded or discarded what it held).
    pub fn release(&mut self, name: &str) {
        self.0.retain(|n| *n != name);
    }

    fn hold(&mut self, name: &'static str) {
        if !self.holds(name) {
            self.0.push(name);
        }
    }
}

/// What loading found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The settings (defaults when nothing usable was saved).
    pub settings: Settings,
    /// Problems to tell the user about that left nothing to download.
    pub notices: Vec<String>,
    /// Data that could not be used, kept aside or held in place.
    pub unreadable: Vec<Unreadable>,
    /// Storage names not to save over.
    pub held: Held,
    /// The time of the newest saved history point (of those not left out as too far ahead).
    pub newest_point_ms: Option<u64>,
}

impl Loaded {
    /// Reports what could not be used from `name` and keeps `original` safe.
    fn keep(
        &mut self,
        store: &dyn KeyValue,
        name: &'static str,
        issues: &[String],
        original: String,
        now_ms: u64,
    ) {
        let problems = issues.join("; ");
        let file_name = format!("{name}.unreadable.json");
        let message = match keep_aside(store, &aside_prefix(name), &original, now_ms) {
            KeptAside::Copied { key, removed } => {
                if let Some((old_key, old_text)) = removed {
                    self.unreadable.push(Unreadable {
                        message: format!(
                            "To make room, the oldest kept-aside copy {old_key} was removed from \
                             storage: download it now to keep it."
                        ),
                        file_name: format!("{old_key}.json"),
                        text: old_text,
                        holds: None,
                    });
                }
                format!("Saved data {name}: {problems}. The original is kept as {key}.")
            }
            KeptAside::Already(key) => {
                format!("Saved data {name}: {problems}. The original is kept as {key}.")
            }
            KeptAside::Failed(error) => {
                self.held.hold(name);
                format!(
                    "Saved data {name}: {problems}. It could not be copied aside ({error}), so it \
                     stays where it is and nothing is saved over it until you download or \
                     discard it."
                )
            }
        };
        self.unreadable.push(Unreadable {
            message,
            file_name,
            text: original,
            holds: self.held.holds(name).then_some(name),
        });
    }
}

fn describe(issues: &[LoadIssue]) -> Vec<String> {
    issues.iter().map(ToString::to_string).collect()
}

/// Loads labels, keys and history into the model; returns the settings and what to report. A label
/// or key the model already has is newer than the saved one (the page set it before loading) and
/// stays.
pub fn load(store: &dyn KeyValue, model: &mut ScanModel, now_ms: u64) -> Loaded {
    let mut loaded = Loaded::default();
    let text = store.get(SCAN_KEY);
    let scan = ScanDocument::load(text.as_deref());
    let mut issues = describe(&scan.issues);
    let mut kept_aside = scan.kept_aside;
    if let Some(doc) = scan.value {
        if let Some(settings) = doc.settings {
            match serde_json::from_value::<Settings>(settings) {
                Ok(s) => loaded.settings = s,
                Err(e) => {
                    issues.push(format!("the settings were left out: {e}"));
                    kept_aside = kept_aside.or_else(|| text.clone());
                }
            }
        }
        let mut labels = doc.labels;
        labels.append(&mut model.labels);
        model.labels = labels;
        let cutoff = now_ms.saturating_sub(HISTORY_WINDOW_MS);
        let limit = now_ms.saturating_add(AHEAD_LIMIT_MS);
        let mut ahead = 0;
        for (key, device) in doc.history {
            let readings = device
                .readings
                .into_iter()
                .map(|r| {
                    let count = r.points.len();
                    let points: Vec<_> = r.points.into_iter().filter(|p| p.0 <= limit).collect();
                    ahead += count - points.len();
                    let newest = points.iter().map(|p| p.0).max();
                    loaded.newest_point_ms = loaded.newest_point_ms.max(newest);
                    let points = points.into_iter().filter(|p| p.0 >= cutoff).collect();
                    (r.id, r.index, points)
                })
                .collect();
            model.restore_history(&key, device.name, readings);
        }
        if ahead > 0 {
            issues.push(format!(
                "{ahead} history point(s) dated more than a day after this browser's clock were left out"
            ));
        }
    }
    match kept_aside {
        Some(original) => loaded.keep(store, SCAN_KEY, &issues, original, now_ms),
        None if !issues.is_empty() => loaded
            .notices
            .push(format!("Saved data {SCAN_KEY}: {}.", issues.join("; "))),
        None => {}
    }

    let keys = KeysDocument::load(store.get(KEYS_KEY).as_deref());
    if let Some(doc) = keys.value {
        for (key, SavedKey { bindkey, mac }) in doc.keys {
            if model.key_entry(&key).is_none() {
                model.set_key(&key, Some(KeyEntry { bindkey, mac }));
            }
        }
    }
    if let Some(original) = keys.kept_aside {
        loaded.keep(store, KEYS_KEY, &describe(&keys.issues), original, now_ms);
    }
    loaded
}

/// Saves settings, labels and the thinned last hour of history (unless [`SCAN_KEY`] is held).
pub fn save_scan(
    store: &dyn KeyValue,
    held: &Held,
    model: &ScanModel,
    settings: &Settings,
    now_ms: u64,
) -> Result<(), String> {
    if held.holds(SCAN_KEY) {
        return Err(held_message(SCAN_KEY));
    }
    let cutoff = now_ms.saturating_sub(HISTORY_WINDOW_MS);
    let mut devices: Vec<_> = model.devices().filter(|d| !d.readings.is_empty()).collect();
    devices.sort_by_key(|d| std::cmp::Reverse(d.last_seen_ms));
    let history = devices
        .into_iter()
        .take(SAVED_DEVICES)
        .map(|d| {
            let readings = d
                .readings
                .values()
                .filter(|r| !r.history.is_empty())
                .map(|r| {
                    let mut points: Vec<(u64, f64)> = Vec::new();
                    for &(t, v) in r.history.iter().filter(|p| p.0 >= cutoff) {
                        if points
                            .last()
                            .is_none_or(|last| t >= last.0.saturating_add(SAVED_STEP_MS))
                        {
                            points.push((t, v));
                        }
                    }
                    SavedReading {
                        id: r.id,
                        index: r.index,
                        points,
                    }
                })
                .collect();
            (
                d.key.clone(),
                SavedDevice {
                    name: d.name.map(String::from),
                    readings,
                },
            )
        })
        .collect();
    let doc = ScanDocument {
        settings: serde_json::to_value(settings).ok(),
        labels: model.labels.clone(),
        history,
    };
    store.set(SCAN_KEY, &doc.to_json())
}

/// Takes in what another window of the page saved: after a `storage` event for `name` (`None`:
/// the storage was cleared), that document's labels and settings, or its bind keys, replace this
/// window's. Nothing of this window's is lost by that: labels, settings and keys are saved the
/// moment they change, so the stored document already holds them, unless another window changed
/// them since. History stays each window's own. A document that does not read is left alone (the
/// window that loads it reports it). Returns the settings taken in, if any.
pub fn adopt(store: &dyn KeyValue, model: &mut ScanModel, name: Option<&str>) -> Option<Settings> {
    let mut settings = None;
    if name.is_none_or(|n| n == SCAN_KEY) {
        let scan = ScanDocument::load(store.get(SCAN_KEY).as_deref());
        if scan.issues.is_empty() {
            let doc = scan.value.unwrap_or_default();
            model.labels = doc.labels;
            settings = Some(
                doc.settings
                    .and_then(|s| serde_json::from_value(s).ok())
                    .unwrap_or_default(),
            );
        }
    }
    if name.is_none_or(|n| n == KEYS_KEY) {
        let keys = KeysDocument::load(store.get(KEYS_KEY).as_deref());
        if keys.issues.is_empty() {
            let saved = keys.value.unwrap_or_default().keys;
            let gone: Vec<DeviceKey> = model
                .key_entries()
                .map(|(key, _)| key.clone())
                .filter(|key| !saved.contains_key(key))
                .collect();
            for key in gone {
                model.set_key(&key, None);
            }
            for (key, SavedKey { bindkey, mac }) in saved {
                let entry = KeyEntry { bindkey, mac };
                if model.key_entry(&key) != Some(entry) {
                    model.set_key(&key, Some(entry));
                }
            }
        }
    }
    settings
}

/// Saves the bind keys (only ever to their own entry, and not while [`KEYS_KEY`] is held).
pub fn save_keys(store: &dyn KeyValue, held: &Held, model: &ScanModel) -> Result<(), String> {
    if held.holds(KEYS_KEY) {
        return Err(held_message(KEYS_KEY));
    }
    let doc = KeysDocument {
        keys: model
            .key_entries()
            .map(|(k, e)| {
                (
                    k.clone(),
                    SavedKey {
                        bindkey: e.bindkey,
                        mac: e.mac,
                    },
                )
            })
            .collect(),
    };
    store.set(KEYS_KEY, &doc.to_json())
}

fn held_message(name: &str) -> String {
    format!(
        "Not saved: {name} still holds data that could not be read. Download or discard it \
         (on the Scan page) and saving resumes."
    )
}

#[cfg(test)]
mod tests {
    use bluehome_core::{Advertisement, BindKey, Connectable, DeviceKey, Uuid};

    use super::*;
    use crate::state::storage::MemoryStore;

    fn key(text: &str) -> DeviceKey {
        text.parse().unwrap()
    }

    fn sensor_model(now: u64) -> ScanModel {
        let mut model = ScanModel::new();
        let mut adv = Advertisement::default();
        // Temperature 25.06 °C, humidity 50.55 % (bthome.io/format example).
        adv.service_data.insert(
            Uuid::BTHOME_V2,
            vec![0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13],
        );
        model.ingest(now, "local", &key("dev"), Connectable::Yes, adv);
        model.set_label(&key("dev"), "Kitchen");
        model
    }

    #[test]
    fn labels_keys_settings_and_history_survive_a_reload() {
        let store = MemoryStore::default();
        let now = 10_000_000;
        let mut model = sensor_model(now);
        model.set_key(
            &key("dev"),
            Some(KeyEntry {
                bindkey: BindKey::new([7; 16]),
                mac: Some("A4:C1:38:00:00:01".parse().unwrap()),
            }),
        );
        let settings = Settings {
            fahrenheit: true,
            ..Settings::default()
        };
        save_scan(&store, &Held::default(), &model, &settings, now).unwrap();
        save_keys(&store, &Held::default(), &model).unwrap();
        assert!(!store.get(SCAN_KEY).unwrap().contains("07070707"));

        let mut again = ScanModel::new();
        let loaded = load(&store, &mut again, now + 1_000);
        assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
        assert!(loaded.unreadable.is_empty(), "{:?}", loaded.unreadable);
        assert!(loaded.settings.fahrenheit);
        assert_eq!(again.labels["dev"], "Kitchen");
        assert_eq!(
            again.key_entry(&key("dev")).unwrap().bindkey,
            BindKey::new([7; 16])
        );
        let history = &again.device(&key("dev")).unwrap().readings[&(0x02, 0)].history;
        assert_eq!(history.iter().copied().collect::<Vec<_>>(), [(now, 25.06)]);
    }

    /// Saved history keeps one point per [`SAVED_STEP_MS`] of the model's one per 5 s.
    #[test]
    fn saved_history_is_thinned_to_its_step() {
        let store = MemoryStore::default();
        let mut model = sensor_model(1);
        for t in (5_001..70_000).step_by(5_000) {
            let adv = model.device(&key("dev")).unwrap().data.clone();
            model.ingest(t, "local", &key("dev"), Connectable::Yes, adv);
        }
        let settings = Settings::default();
        save_scan(&store, &Held::default(), &model, &settings, 70_000).unwrap();
        let mut again = ScanModel::new();
        load(&store, &mut again, 70_000);
        let history = &again.device(&key("dev")).unwrap().readings[&(0x02, 0)].history;
        let times: Vec<u64> = history.iter().map(|p| p.0).collect();
        assert_eq!(times, [1, 30_001, 60_001]);
    }

    /// A `storage` event names the document another window saved: its labels and settings, or
    /// its keys (one it no longer has is forgotten here), replace this window's, and nothing
    /// else does; without a name (storage cleared) both are read.
    #[test]
    fn another_windows_saves_are_taken_in_by_document() {
        let store = MemoryStore::default();
        let mut there = sensor_model(1_000);
        let seven = KeyEntry {
            bindkey: BindKey::new([7; 16]),
            mac: None,
        };
        there.set_key(&key("dev"), Some(seven));
        let fahrenheit = Settings {
            fahrenheit: true,
            ..Settings::default()
        };
        save_scan(&store, &Held::default(), &there, &fahrenheit, 1_000).unwrap();
        save_keys(&store, &Held::default(), &there).unwrap();

        let mut here = ScanModel::new();
        let eight = KeyEntry {
            bindkey: BindKey::new([8; 16]),
            mac: None,
        };
        here.set_key(&key("other"), Some(eight));
        let taken = adopt(&store, &mut here, Some(SCAN_KEY));
        assert_eq!(taken.map(|s| s.fahrenheit), Some(true));
        assert_eq!(here.labels["dev"], "Kitchen");
        assert_eq!(here.key_entry(&key("other")), Some(eight), "keys untouched");

        here.set_label(&key("dev"), "Hall");
        assert_eq!(adopt(&store, &mut here, Some(KEYS_KEY)), None);
        assert_eq!(here.key_entry(&key("dev")), Some(seven));
        assert_eq!(here.key_entry(&key("other")), None);
        assert_eq!(here.labels["dev"], "Hall", "labels untouched");

        assert_eq!(adopt(&store, &mut here, Some("bluehome.profiles")), None);
        assert_eq!(here.labels["dev"], "Hall");
        here.set_key(&key("other"), Some(eight));
        assert!(adopt(&store, &mut here, None).is_some_and(|s| s.fahrenheit));
        assert_eq!(here.labels["dev"], "Kitchen");
        assert_eq!(here.key_entry(&key("other")), None);
    }

    #[test]
    fn history_older_than_an_hour_is_not_restored() {
        let store = MemoryStore::default();
        let model = sensor_model(1_000);
        save_scan(
            &store,
            &Held::default(),
            &model,
            &Settings::default(),
            1_000,
        )
        .unwrap();
        let mut again = ScanModel::new();
        load(&store, &mut again, 1_000 + HISTORY_WINDOW_MS + 1);
        assert_eq!(again.device_count(), 0);
        assert_eq!(again.labels["dev"], "Kitchen");
    }

    #[test]
    fn corrupt_or_newer_data_is_kept_aside_and_reported() {
        let store = MemoryStore::default();
        store.set(SCAN_KEY, "{not json").unwrap();
        store.set(KEYS_KEY, r#"{"version":9,"keys":{}}"#).unwrap();
        let mut model = ScanModel::new();
        let loaded = load(&store, &mut model, 0);
        assert_eq!(loaded.unreadable.len(), 2, "{:?}", loaded.unreadable);
        assert!(loaded.unreadable[1].message.contains("newer"));
        assert_eq!(
            store.get("bluehome.scan.unreadable.0").unwrap(),
            "{not json"
        );
        assert!(store.get("bluehome.keys.unreadable.0").is_some());
        assert_eq!(loaded.unreadable[0].text, "{not json");
        assert_eq!(loaded.held, Held::default());
    }

    /// `{"version":0}` was accepted without a word.
    #[test]
    fn an_unknown_version_is_kept_aside_and_reported() {
        let store = MemoryStore::default();
        let text = r#"{"version":0,"labels":{"dev":"Kitchen"}}"#;
        store.set(SCAN_KEY, text).unwrap();
        let loaded = load(&store, &mut ScanModel::new(), 5);
        assert_eq!(loaded.unreadable.len(), 1);
        assert!(
            loaded.unreadable[0].message.contains("version 0"),
            "{}",
            loaded.unreadable[0].message
        );
        assert_eq!(
            store.get("bluehome.scan.unreadable.5").as_deref(),
            Some(text)
        );
    }

    /// A BTHome v1 float can be NaN or infinite; serde_json wrote it as `null` and the next load
    /// refused the whole store (settings, labels and history gone for the session).
    #[test]
    fn a_nan_reading_never_costs_the_saved_store() {
        let store = MemoryStore::default();
        let now = 10_000_000;
        let mut model = sensor_model(now);
        let mut adv = Advertisement::default();
        // v1 (0x181C): control 0x45 = float, 5 bytes with the id; 0x02 temperature; f32 NaN.
        adv.service_data
            .insert(Uuid::BTHOME_V1, vec![0x45, 0x02, 0x00, 0x00, 0xc0, 0x7f]);
        model.ingest(now + 60_000, "local", &key("dev"), Connectable::Yes, adv);
        save_scan(
            &store,
            &Held::default(),
            &model,
            &Settings::default(),
            now + 60_000,
        )
        .unwrap();
        let mut again = ScanModel::new();
        let loaded = load(&store, &mut again, now + 61_000);
        assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
        assert!(loaded.unreadable.is_empty(), "{:?}", loaded.unreadable);
        assert_eq!(again.labels["dev"], "Kitchen");

        // A store an older version wrote with a null point loses that point only, and says so.
        store
            .set(
                SCAN_KEY,
                r#"{"version":1,"settings":{"fahrenheit":true},"labels":{"dev":"Kitchen"},"history":{"dev":{"readings":[{"id":2,"points":[[10000000,null],[10030000,21.5]]}]}}}"#,
            )
            .unwrap();
        let mut again = ScanModel::new();
        let loaded = load(&store, &mut again, now + 61_000);
        assert!(loaded.settings.fahrenheit);
        assert_eq!(again.labels["dev"], "Kitchen");
        let history = &again.device(&key("dev")).unwrap().readings[&(0x02, 0)].history;
        assert_eq!(
            history.iter().copied().collect::<Vec<_>>(),
            [(10_030_000, 21.5)]
        );
        assert_eq!(loaded.notices.len(), 1);
        assert!(
            loaded.notices[0].contains("not numbers"),
            "{:?}",
            loaded.notices
        );
    }

    /// When copying aside failed on quota, the next periodic save overwrote the only copy.
    #[test]
    fn data_that_cannot_be_copied_aside_is_held_until_the_user_decides() {
        let corrupt = format!("{{not json {}", "x".repeat(100));
        let store = MemoryStore::with_quota(SCAN_KEY.len() + corrupt.len() + 100);
        store.set(SCAN_KEY, &corrupt).unwrap();
        let model = ScanModel::new();
        let mut loaded = load(&store, &mut ScanModel::new(), 7);
        assert!(loaded.held.holds(SCAN_KEY));
        assert_eq!(loaded.unreadable[0].holds, Some(SCAN_KEY));
        assert_eq!(loaded.unreadable[0].text, corrupt);
        let refused = save_scan(&store, &loaded.held, &model, &Settings::default(), 8);
        assert!(refused.unwrap_err().contains("Download or discard"));
        assert_eq!(store.get(SCAN_KEY), Some(corrupt));
        // The user discards it: saving resumes.
        loaded.held.release(SCAN_KEY);
        save_scan(&store, &loaded.held, &model, &Settings::default(), 9).unwrap();
        assert!(store.get(SCAN_KEY).unwrap().starts_with(r#"{"version":1"#));
    }

    /// Every corruption went to the same `bluehome.scan.unreadable`; the second overwrote the
    /// first without a word.
    #[test]
    fn two_corruptions_are_kept_apart() {
        let store = MemoryStore::default();
        store.set(SCAN_KEY, "{first").unwrap();
        load(&store, &mut ScanModel::new(), 1);
        store.set(SCAN_KEY, "{second").unwrap();
        load(&store, &mut ScanModel::new(), 2);
        assert_eq!(
            store.get("bluehome.scan.unreadable.1").as_deref(),
            Some("{first")
        );
        assert_eq!(
            store.get("bluehome.scan.unreadable.2").as_deref(),
            Some("{second")
        );
    }

    /// A malformed bind key got a notice but no copy, and the next "Save key" dropped it.
    #[test]
    fn a_malformed_bind_key_is_kept_aside_before_the_next_save() {
        let store = MemoryStore::default();
        let text = r#"{"version":1,"keys":{"good":{"bindkey":"00112233445566778899aabbccddeeff"},"bad":{"bindkey":"0011zz"}}}"#;
        store.set(KEYS_KEY, text).unwrap();
        let mut model = ScanModel::new();
        let loaded = load(&store, &mut model, 3);
        assert_eq!(loaded.unreadable.len(), 1);
        assert!(loaded.unreadable[0].message.contains("keys.bad"));
        assert_eq!(model.key_entries().count(), 1);
        model.set_key(
            &key("other"),
            Some(KeyEntry {
                bindkey: BindKey::new([1; 16]),
                mac: None,
            }),
        );
        save_keys(&store, &loaded.held, &model).unwrap();
        assert!(!store.get(KEYS_KEY).unwrap().contains("0011zz"));
        assert_eq!(
            store.get("bluehome.keys.unreadable.3").as_deref(),
            Some(text)
        );
    }
}
