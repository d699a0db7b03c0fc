//! Exports of readings: CSV (one row per history point) and JSON (per device). Bind keys are never
//! part of an export.

use serde_json::{Value as Json, json};

use super::model::{DeviceEntry, ScanModel, reading_key};
use super::settings::format_rfc3339;

/// Quotes a CSV field when needed, and defuses spreadsheet formulas (`=`, `+`, `-`, `@` first).
fn csv_field(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) || defused != text {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// The devices in key order (the order both exports list them in).
fn sorted(model: &ScanModel) -> Vec<DeviceEntry<'_>> {
    let mut devices: Vec<_> = model.devices().collect();
    devices.sort_by(|a, b| a.key.cmp(b.key));
    devices
}

/// Every history point of every numeric reading:
/// `time,time_ms,device,label,name,object,reading,value,unit`.
pub fn csv(model: &ScanModel) -> String {
    let mut out = String::from("time,time_ms,device,label,name,object,reading,value,unit\n");
    for device in sorted(model) {
        let label = model.labels.get(device.key).map_or("", String::as_str);
        let name = device.name.unwrap_or("");
        for reading in device.readings.values() {
            for &(at_ms, value) in &reading.history {
                let row = [
                    format_rfc3339(at_ms),
                    at_ms.to_string(),
                    csv_field(device.key.as_str()),
                    csv_field(label),
                    csv_field(name),
                    reading.name.to_owned(),
                    reading.key(),
                    value.to_string(),
                    reading.unit.unwrap_or("").to_owned(),
                ];
                out.push_str(&row.join(","));
                out.push('\n');
            }
        }
    }
    out
}

/// `{"exported_at":…,"devices":[{"key","label","name","mac","kind","readings":[{"object","reading",
/// "unit","points":[[time_ms,value],…]}]}]}`.
pub fn json(model: &ScanModel, now_ms: u64) -> String {
    let devices: Vec<Json> = sorted(model)
        .into_iter()
        .map(|device| {
            let readings: Vec<Json> = device
                .readings
                .values()
                .map(|r| {
                    json!({
                        "object": r.name,
                        "id": r.id,
                        "reading": reading_key(r.id, r.index),
                        "unit": r.unit,
                        "points": r.history.iter().map(|&(t, v)| json!([t, v])).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({
                "key": device.key,
                "label": model.labels.get(device.key),
                "name": device.name,
                "mac": device.mac.map(|m| m.to_string()),
                "kind": device.kind.to_string(),
                "readings": readings,
            })
        })
        .collect();
    let doc = json!({
        "exported_at": format_rfc3339(now_ms),
        "devices": devices,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use bluehome_core::{Advertisement, BindKey, Connectable, DeviceKey, Uuid};

    use super::*;
    use crate::state::model::KeyEntry;

    fn model_with_one_sensor() -> ScanModel {
        let mut model = ScanModel::new();
        let mut adv = Advertisement {
            name: Some("=cmd|' /C calc'!A0".to_owned()),
            ..Advertisement::default()
        };
        // Temperature 25.06 °C, humidity 50.55 % (bthome.io/format example).
        adv.service_data.insert(
            Uuid::BTHOME_V2,
            vec![0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13],
        );
        let key: DeviceKey = "dev,1".parse().unwrap();
        model.ingest(1_234_567_890_000, "local", &key, Connectable::Yes, adv);
        model.set_label(&key, "Kitchen \"north\"");
        model.set_key(
            &key,
            Some(KeyEntry {
                bindkey: BindKey::new([0xAB; 16]),
                mac: None,
            }),
        );
        model
    }

    #[test]
    fn csv_has_one_row_per_point_with_quoting_and_no_keys() {
        let csv = csv(&model_with_one_sensor());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert_eq!(
            lines[1],
            "2009-02-13T23:31:30.000Z,1234567890000,\"dev,1\",\"Kitchen \"\"north\"\"\",\"'=cmd|' /C calc'!A0\",temperature,2,25.06,°C"
        );
        assert!(lines[2].ends_with("humidity,3,50.55,%"));
        assert!(!csv.to_lowercase().contains("abab"));
    }

    #[test]
    fn json_lists_devices_with_points() {
        let text = json(&model_with_one_sensor(), 1_234_567_891_000);
        let doc: Json = serde_json::from_str(&text).unwrap();
        let device = &doc["devices"][0];
        assert_eq!(device["key"], "dev,1");
        assert_eq!(device["label"], "Kitchen \"north\"");
        assert_eq!(device["readings"][0]["object"], "temperature");
        assert_eq!(device["readings"][0]["points"][0][1], 25.06);
        assert!(!text.to_lowercase().contains("abab"));
    }
}
