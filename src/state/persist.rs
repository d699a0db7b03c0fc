//! Explicit load and save of what survives a reload, with a versioned schema.
//!
//! Two entries in the page's key-value storage (localStorage in the browser):
//! - `bluehome.scan`: `{"version":1,"settings":{…},"labels":{key:label},"history":{key:{"name":…,
//!   "readings":[{"id":2,"index":0,"points":[[ms,value],…]}]}}}` — the last hour, thinned;
//! - `bluehome.keys`: `{"version":1,"keys":{key:{"bindkey":"<32 hex>","mac":"AA:…"|null}}}` — bind
//!   keys, kept apart so nothing else ever carries them.
//!
//! Data that does not parse, or was written by a newer version, is copied aside under
//! `<name>.unreadable` and reported; it is never silently dropped.

use std::collections::BTreeMap;
use std::str::FromStr;

use bluehome_core::MacAddress;
use serde::{Deserialize, Serialize};

use super::hex;
use super::model::{HISTORY_WINDOW_MS, KeyEntry, ScanModel};
use super::settings::Settings;
use super::storage::KeyValue;

/// The schema version this build writes.
pub const VERSION: u32 = 1;
/// Storage name of the scan data.
pub const SCAN_KEY: &str = "bluehome.scan";
/// Storage name of the bind keys.
pub const KEYS_KEY: &str = "bluehome.keys";
/// Devices whose history is saved at most (the most recently heard).
pub const SAVED_DEVICES: usize = 100;
/// Saved history keeps one point per this many ms.
pub const SAVED_STEP_MS: u64 = 30_000;

#[derive(Debug, Default, Serialize, Deserialize)]
struct SavedReading {
    id: u8,
    #[serde(default)]
    index: u8,
    points: Vec<(u64, f64)>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct SavedDevice {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    readings: Vec<SavedReading>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ScanFile {
    version: u32,
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    history: BTreeMap<String, SavedDevice>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedKey {
    bindkey: String,
    #[serde(default)]
    mac: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeysFile {
    version: u32,
    #[serde(default)]
    keys: BTreeMap<String, SavedKey>,
}

/// What loading found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The settings (defaults when nothing was saved).
    pub settings: Settings,
    /// Problems to tell the user about (unreadable data kept aside).
    pub notices: Vec<String>,
}

fn version_of(text: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get("version")?
        .as_u64()
}

/// Reads one entry; unreadable or newer data is copied aside and reported.
fn read<T: for<'de> Deserialize<'de>>(
    store: &dyn KeyValue,
    name: &str,
    notices: &mut Vec<String>,
) -> Option<T> {
    let text = store.get(name)?;
    let problem = match version_of(&text) {
        Some(v) if v > u64::from(VERSION) => Some(format!(
            "was written by a newer bluehome (schema {v}, this one reads {VERSION})"
        )),
        _ => match serde_json::from_str::<T>(&text) {
            Ok(value) => return Some(value),
            Err(e) => Some(format!("could not be read ({e})")),
        },
    };
    let aside = format!("{name}.unreadable");
    let kept = store.set(&aside, &text).is_ok();
    if let Some(problem) = problem {
        notices.push(format!(
            "Saved data {name} {problem}; {}. Starting without it.",
            if kept {
                format!("it is kept as {aside}")
            } else {
                "it could not be copied aside".to_owned()
            }
        ));
    }
    None
}

/// Loads labels, keys and history into the model; returns the settings and any notices.
pub fn load(store: &dyn KeyValue, model: &mut ScanModel, now_ms: u64) -> Loaded {
    let mut loaded = Loaded::default();
    if let Some(file) = read::<ScanFile>(store, SCAN_KEY, &mut loaded.notices) {
        loaded.settings = file.settings;
        model.labels = file.labels;
        let cutoff = now_ms.saturating_sub(HISTORY_WINDOW_MS);
        for (key, device) in file.history {
            let readings = device
                .readings
                .into_iter()
                .map(|r| {
                    let points = r.points.into_iter().filter(|p| p.0 >= cutoff).collect();
                    (r.id, r.index, points)
                })
                .collect();
            model.restore_history(&key, device.name, readings);
        }
        model
            .devices
            .retain(|_, d| !d.readings.is_empty() || d.packets > 0);
    }
    if let Some(file) = read::<KeysFile>(store, KEYS_KEY, &mut loaded.notices) {
        for (key, saved) in file.keys {
            let bindkey = hex::decode_key(&saved.bindkey);
            let mac = saved.mac.as_deref().map(MacAddress::from_str).transpose();
            match (bindkey, mac) {
                (Ok(bindkey), Ok(mac)) => model.set_key(&key, Some(KeyEntry { bindkey, mac })),
                _ => loaded.notices.push(format!(
                    "The saved bind key for {key} is malformed and was skipped."
                )),
            }
        }
    }
    loaded
}

/// Saves settings, labels and the thinned last hour of history.
pub fn save_scan(
    store: &dyn KeyValue,
    model: &ScanModel,
    settings: &Settings,
    now_ms: u64,
) -> Result<(), String> {
    let cutoff = now_ms.saturating_sub(HISTORY_WINDOW_MS);
    let mut devices: Vec<_> = model
        .devices
        .values()
        .filter(|d| !d.readings.is_empty())
        .collect();
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
                        if points.last().is_none_or(|last| t >= last.0 + SAVED_STEP_MS) {
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
                    name: d.name.clone(),
                    readings,
                },
            )
        })
        .collect();
    let file = ScanFile {
        version: VERSION,
        settings: settings.clone(),
        labels: model.labels.clone(),
        history,
    };
    let text = serde_json::to_string(&file).map_err(|e| e.to_string())?;
    store.set(SCAN_KEY, &text)
}

/// Saves the bind keys (only ever to their own entry).
pub fn save_keys(store: &dyn KeyValue, model: &ScanModel) -> Result<(), String> {
    let file = KeysFile {
        version: VERSION,
        keys: model
            .keys
            .iter()
            .map(|(k, e)| {
                (
                    k.clone(),
                    SavedKey {
                        bindkey: hex::encode(&e.bindkey),
                        mac: e.mac.map(|m| m.to_string()),
                    },
                )
            })
            .collect(),
    };
    let text = serde_json::to_string(&file).map_err(|e| e.to_string())?;
    store.set(KEYS_KEY, &text)
}

#[cfg(test)]
mod tests {
    use bluehome_core::{Advertisement, Uuid};

    use super::*;
    use crate::state::storage::MemoryStore;

    fn sensor_model(now: u64) -> ScanModel {
        let mut model = ScanModel::new();
        let mut adv = Advertisement::default();
        // Temperature 25.06 °C, humidity 50.55 % (bthome.io/format example).
        adv.service_data.insert(
            Uuid::BTHOME_V2,
            vec![0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13],
        );
        model.ingest(now, "local", "dev", true, adv);
        model.set_label("dev", "Kitchen");
        model
    }

    #[test]
    fn labels_keys_settings_and_history_survive_a_reload() {
        let store = MemoryStore::default();
        let now = 10_000_000;
        let mut model = sensor_model(now);
        model.set_key(
            "dev",
            Some(KeyEntry {
                bindkey: [7; 16],
                mac: Some("A4:C1:38:00:00:01".parse().unwrap()),
            }),
        );
        let settings = Settings {
            fahrenheit: true,
            ..Settings::default()
        };
        save_scan(&store, &model, &settings, now).unwrap();
        save_keys(&store, &model).unwrap();
        assert!(!store.get(SCAN_KEY).unwrap().contains("07070707"));

        let mut again = ScanModel::new();
        let loaded = load(&store, &mut again, now + 1_000);
        assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
        assert!(loaded.settings.fahrenheit);
        assert_eq!(again.labels["dev"], "Kitchen");
        assert_eq!(again.keys["dev"].bindkey, [7; 16]);
        let history = &again.devices["dev"].readings[&(0x02, 0)].history;
        assert_eq!(history.iter().copied().collect::<Vec<_>>(), [(now, 25.06)]);
    }

    #[test]
    fn history_older_than_an_hour_is_not_restored() {
        let store = MemoryStore::default();
        let model = sensor_model(1_000);
        save_scan(&store, &model, &Settings::default(), 1_000).unwrap();
        let mut again = ScanModel::new();
        load(&store, &mut again, 1_000 + HISTORY_WINDOW_MS + 1);
        assert!(again.devices.is_empty());
        assert_eq!(again.labels["dev"], "Kitchen");
    }

    #[test]
    fn corrupt_or_newer_data_is_kept_aside_and_reported() {
        let store = MemoryStore::default();
        store.set(SCAN_KEY, "{not json").unwrap();
        store.set(KEYS_KEY, r#"{"version":9,"keys":{}}"#).unwrap();
        let mut model = ScanModel::new();
        let loaded = load(&store, &mut model, 0);
        assert_eq!(loaded.notices.len(), 2, "{:?}", loaded.notices);
        assert!(loaded.notices[1].contains("newer"));
        assert_eq!(store.get("bluehome.scan.unreadable").unwrap(), "{not json");
        assert!(store.get("bluehome.keys.unreadable").is_some());
    }
}
