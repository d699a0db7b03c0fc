//! Capture files: the `bluehome replay` format (the decode input format plus `time`, `source`,
//! `connectable`), written while recording and read back to replay in the page.
//!
//! One JSON object a line:
//! `{"time":1732165000.25,"address":"…","rssi":-60,"local_name":"…","service_data":{"<uuid>":"<hex>"},
//! "manufacturer_data":{"<company id, decimal>":"<hex>"},"source":"local","connectable":true}`.
//! Lines without `time` (plain decode-format input) replay at a steady rate.

use std::collections::BTreeMap;
use std::str::FromStr;

use bluehome_core::{Advertisement, MacAddress, Uuid};
use serde::{Deserialize, Serialize};

use super::hex;

/// Gap between records of a capture without times.
pub const STEADY_INTERVAL_MS: u64 = 250;

/// Lines read from one file at most (a bound on memory for any file a user picks).
pub const MAX_RECORDS: usize = 200_000;

/// One line of a capture file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Absolute seconds (fractions allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
    /// The device key: a MAC address or a browser device id.
    pub address: String,
    /// The MAC to decrypt with, when `address` is not one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// RSSI in dBm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rssi: Option<i64>,
    /// The local name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_name: Option<String>,
    /// Service data by UUID (hex).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub service_data: BTreeMap<String, String>,
    /// Manufacturer data by decimal company id (hex, without the company id bytes).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub manufacturer_data: BTreeMap<String, String>,
    /// The scanner that heard it (default "local").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Whether it was connectable (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connectable: Option<bool>,
    /// A bind key for the device (only read; recording never writes one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bindkey: Option<String>,
}

impl Record {
    /// The record of one received advertisement.
    pub fn from_advertisement(
        time_ms: u64,
        key: &str,
        adv: &Advertisement,
        source: &str,
        connectable: bool,
    ) -> Self {
        Self {
            time: Some(time_ms as f64 / 1000.0),
            address: key.to_owned(),
            mac: adv
                .address
                .map(|m| m.to_string())
                .filter(|m| !m.eq_ignore_ascii_case(key)),
            rssi: adv.rssi.map(i64::from),
            local_name: adv.name.clone(),
            service_data: adv
                .service_data
                .iter()
                .map(|(uuid, data)| (uuid.to_string(), hex::encode(data)))
                .collect(),
            manufacturer_data: adv
                .manufacturer_data
                .iter()
                .map(|(id, data)| (id.to_string(), hex::encode(data)))
                .collect(),
            source: Some(source.to_owned()),
            connectable: Some(connectable),
            bindkey: None,
        }
    }

    /// The advertisement this record describes.
    pub fn to_advertisement(&self) -> Result<Advertisement, String> {
        if self.address.is_empty() {
            return Err("field address: must not be empty".into());
        }
        let mut adv = Advertisement {
            name: self.local_name.clone(),
            rssi: self
                .rssi
                .map(|r| i8::try_from(r).map_err(|_| format!("field rssi: {r} is out of range")))
                .transpose()?,
            ..Advertisement::default()
        };
        adv.address = match &self.mac {
            Some(mac) => Some(MacAddress::from_str(mac).map_err(|e| format!("field mac: {e}"))?),
            None => MacAddress::from_str(&self.address).ok(),
        };
        for (uuid, data) in &self.service_data {
            let parsed = Uuid::from_str(uuid)
                .map_err(|_| format!("field service_data: {uuid:?} is not a UUID"))?;
            let bytes = hex::decode(data).map_err(|e| format!("field service_data.{uuid}: {e}"))?;
            adv.service_data.insert(parsed, bytes);
        }
        for (id, data) in &self.manufacturer_data {
            let company: u16 = id.parse().map_err(|_| {
                format!("field manufacturer_data: {id:?} is not a decimal company id")
            })?;
            let bytes =
                hex::decode(data).map_err(|e| format!("field manufacturer_data.{id}: {e}"))?;
            adv.manufacturer_data.insert(company, bytes);
        }
        Ok(adv)
    }

    /// The line as written to a capture file.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A record ready to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled {
    /// When to play it, from the start of the replay.
    pub offset_ms: u64,
    /// The device key.
    pub key: String,
    /// The advertisement.
    pub advertisement: Advertisement,
    /// Its source.
    pub source: String,
    /// Whether it was connectable.
    pub connectable: bool,
    /// A bind key the file carried for the device.
    pub bindkey: Option<[u8; 16]>,
}

/// A parsed capture: what will replay, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capture {
    /// The records, in file order.
    pub records: Vec<Scheduled>,
    /// `(line number, message)` for every line that was skipped.
    pub errors: Vec<(usize, String)>,
    /// Whether the file had times (else it plays at a steady rate).
    pub timed: bool,
}

/// Reads a capture file (or decode-format lines without times).
pub fn parse(text: &str) -> Capture {
    let mut capture = Capture::default();
    let mut first_time: Option<f64> = None;
    let mut last_time: Option<f64> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        if capture.records.len() >= MAX_RECORDS {
            capture.errors.push((
                number,
                format!("more than {MAX_RECORDS} records; the rest is skipped"),
            ));
            break;
        }
        let record: Record = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(e) => {
                capture
                    .errors
                    .push((number, format!("not a capture record: {e}")));
                continue;
            }
        };
        let advertisement = match record.to_advertisement() {
            Ok(a) => a,
            Err(e) => {
                capture.errors.push((number, e));
                continue;
            }
        };
        let bindkey = match record.bindkey.as_deref().map(hex::decode_key).transpose() {
            Ok(k) => k,
            Err(e) => {
                capture.errors.push((number, e));
                continue;
            }
        };
        let offset_ms = match record.time {
            Some(t) if !t.is_finite() => {
                capture
                    .errors
                    .push((number, "field time: not a number".into()));
                continue;
            }
            Some(t) => {
                if last_time.is_some_and(|last| t < last) {
                    capture
                        .errors
                        .push((number, format!("field time: {t} goes backwards")));
                    continue;
                }
                last_time = Some(t);
                let start = *first_time.get_or_insert(t);
                capture.timed = true;
                ((t - start) * 1000.0).round() as u64
            }
            None => capture.records.len() as u64 * STEADY_INTERVAL_MS,
        };
        capture.records.push(Scheduled {
            offset_ms,
            key: record.address.clone(),
            advertisement,
            source: record
                .source
                .clone()
                .unwrap_or_else(|| "capture".to_owned()),
            connectable: record.connectable.unwrap_or(true),
            bindkey,
        });
    }
    capture
}

/// A capture being replayed against the page's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    records: Vec<Scheduled>,
    start_ms: u64,
    next: usize,
}

impl Replay {
    /// Starts replaying at `start_ms`.
    pub fn new(capture: Capture, start_ms: u64) -> Self {
        Self {
            records: capture.records,
            start_ms,
            next: 0,
        }
    }

    /// The records due by `now_ms`, each with the time it was due.
    pub fn due(&mut self, now_ms: u64) -> Vec<(u64, Scheduled)> {
        let mut out = Vec::new();
        while let Some(record) = self.records.get(self.next) {
            let at = self.start_ms + record.offset_ms;
            if at > now_ms {
                break;
            }
            out.push((at, record.clone()));
            self.next += 1;
        }
        out
    }

    /// Whether every record has played.
    pub fn finished(&self) -> bool {
        self.next >= self.records.len()
    }

    /// `(played, total)`.
    pub fn progress(&self) -> (usize, usize) {
        (self.next, self.records.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BTHome v2 temperature 25.06 °C + humidity 50.55 % payload (bthome.io/format example).
    const LINE: &str = r#"{"time":100.5,"address":"A4:C1:38:00:00:01","rssi":-60,"local_name":"ATC","service_data":{"fcd2":"4002ca0903bf13"}}"#;

    #[test]
    fn parses_timed_lines_relative_to_the_first() {
        let text = format!("{LINE}\n\n{}\n", LINE.replace("100.5", "101.75"));
        let capture = parse(&text);
        assert!(capture.errors.is_empty(), "{:?}", capture.errors);
        assert!(capture.timed);
        let offsets: Vec<u64> = capture.records.iter().map(|r| r.offset_ms).collect();
        assert_eq!(offsets, [0, 1250]);
        let adv = &capture.records[0].advertisement;
        assert_eq!(
            adv.address.map(|m| m.to_string()).as_deref(),
            Some("A4:C1:38:00:00:01")
        );
        assert_eq!(
            adv.service_data.get(&Uuid::BTHOME_V2).map(Vec::len),
            Some(7)
        );
        assert_eq!(adv.rssi, Some(-60));
    }

    #[test]
    fn untimed_lines_play_at_a_steady_rate_and_bad_lines_are_reported() {
        let text =
            "{\"address\":\"x\"}\nnot json\n{\"address\":\"y\",\"rssi\":999}\n{\"address\":\"z\"}";
        let capture = parse(text);
        assert!(!capture.timed);
        assert_eq!(capture.records.len(), 2);
        assert_eq!(capture.records[1].offset_ms, STEADY_INTERVAL_MS);
        let lines: Vec<usize> = capture.errors.iter().map(|e| e.0).collect();
        assert_eq!(lines, [2, 3]);
    }

    #[test]
    fn time_going_backwards_is_an_error() {
        let text = format!("{LINE}\n{}", LINE.replace("100.5", "99"));
        let capture = parse(&text);
        assert_eq!(capture.records.len(), 1);
        assert!(capture.errors[0].1.contains("backwards"));
    }

    #[test]
    fn record_round_trips_through_a_line() {
        let capture = parse(LINE);
        let scheduled = &capture.records[0];
        let record = Record::from_advertisement(
            100_500,
            &scheduled.key,
            &scheduled.advertisement,
            "local",
            true,
        );
        let again = parse(&record.to_line());
        assert_eq!(again.records[0].advertisement, scheduled.advertisement);
        assert!(!record.to_line().contains("bindkey"));
    }

    #[test]
    fn replay_releases_records_when_due() {
        let text = format!("{LINE}\n{}", LINE.replace("100.5", "102.5"));
        let mut replay = Replay::new(parse(&text), 1_000);
        assert_eq!(replay.due(1_000).len(), 1);
        assert!(replay.due(2_999).is_empty());
        let later = replay.due(3_000);
        assert_eq!(later[0].0, 3_000);
        assert!(replay.finished());
    }
}
