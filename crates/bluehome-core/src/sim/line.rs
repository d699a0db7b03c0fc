//! The simulator's line protocol (`bluehome sim shelly --stdio`): one JSON request per line, one
//! JSON answer per request. The requests, answers and errors are specified in the CLI's README
//! and `schema/sim-request.schema.json` / `sim-answer.schema.json`.
//!
//! This is the whole protocol but the IO: the CLI reads lines, keeps the real clock and writes
//! the answers; [`Session::handle_line`] does everything in between, so tests and the fuzz target
//! drive exactly what the command runs. Bad input never ends a session: a line that is not JSON,
//! not UTF-8 ([`not_utf8`]) or too long ([`too_long`]) gets a `request_not_supported` answer with
//! a `detail`, and the next line is read.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::Peripheral;
use super::sensors::SIM_KEY;
use crate::advertisement::Advertisement;
use crate::capture::seconds;
use crate::hex;
use crate::shelly::rpc::{AttError, Characteristic};

/// The longest request line, in bytes: a write of a whole 4096-byte frame in one piece (8192 hex
/// digits) fits with room to spare.
pub const MAX_LINE_BYTES: usize = 16_384;

/// One answer line. A struct (not a map) so the key order is fixed: `ok` first.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// Whether the request succeeded.
    pub ok: bool,
    /// The ATT error code of a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub att: Option<u8>,
    /// The ATT error's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// What was wrong with a malformed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Hex of the bytes a read returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The `advertisements` answer: `bluehome decode` records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertisements: Option<Vec<Value>>,
}

impl Answer {
    /// The answer as one JSON line (without the line break).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            String::from(r#"{"ok":false,"att":6,"error":"request_not_supported"}"#)
        })
    }
}

fn ok() -> Answer {
    Answer {
        ok: true,
        ..Answer::default()
    }
}

fn att_error(error: AttError, detail: Option<String>) -> Answer {
    Answer {
        ok: false,
        att: Some(error.code()),
        error: Some(error.name()),
        detail,
        ..Answer::default()
    }
}

fn bad_request(detail: impl Into<String>) -> Answer {
    att_error(AttError::RequestNotSupported, Some(detail.into()))
}

/// The answer to a line that is not UTF-8 (`offset`: its first bad byte).
pub fn not_utf8(offset: usize) -> Answer {
    bad_request(format!("not UTF-8 text (byte {} is not)", offset + 1))
}

/// The answer to a line longer than [`MAX_LINE_BYTES`].
pub fn too_long(bytes: usize) -> Answer {
    bad_request(format!(
        "the line is {bytes} bytes; a request line is at most {MAX_LINE_BYTES}"
    ))
}

/// A `bluehome decode` input record (also a `bluehome replay` capture line), keys sorted.
fn record(adv: &Advertisement, now_ms: u64) -> Value {
    let mut map = Map::new();
    map.insert("time".into(), seconds(now_ms));
    if let Some(addr) = adv.address {
        map.insert("address".into(), json!(addr.to_string()));
    }
    if let Some(rssi) = adv.rssi {
        map.insert("rssi".into(), json!(rssi));
    }
    if let Some(name) = &adv.name {
        map.insert("local_name".into(), json!(name));
    }
    let service: Map<String, Value> = adv
        .service_data
        .iter()
        .map(|(uuid, data)| {
            let key = uuid
                .as_u16()
                .map_or_else(|| uuid.to_string(), |u| format!("{u:04x}"));
            (key, json!(hex::encode(data)))
        })
        .collect();
    if !service.is_empty() {
        map.insert("service_data".into(), Value::Object(service));
    }
    let manufacturer: Map<String, Value> = adv
        .manufacturer_data
        .iter()
        .map(|(company, data)| (company.to_string(), json!(hex::encode(data))))
        .collect();
    if !manufacturer.is_empty() {
        map.insert("manufacturer_data".into(), Value::Object(manufacturer));
    }
    Value::Object(map)
}

/// A string member of the request: absent, or present but not a string.
fn text<'a>(request: &'a Value, key: &str) -> Result<Option<&'a str>, Answer> {
    match request.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_request(format!("\"{key}\" must be a string"))),
    }
}

/// Whose clock a session runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The caller's: each line comes with the time (`--virtual-clock` not given).
    Caller,
    /// Its own, from 0, moved only by `advance` requests (`--virtual-clock`).
    Virtual,
}

/// A running simulator session: the peripheral and, with a virtual clock, its time.
#[derive(Debug)]
pub struct Session {
    peripheral: Peripheral,
    clock: Clock,
    virtual_now: u64,
}

impl Session {
    /// A session over a peripheral.
    pub fn new(peripheral: Peripheral, clock: Clock) -> Self {
        Self {
            peripheral,
            clock,
            virtual_now: 0,
        }
    }

    /// The peripheral.
    pub fn peripheral(&self) -> &Peripheral {
        &self.peripheral
    }

    /// Answers one request line (without its line break). `clock_ms` is the caller's clock,
    /// used with [`Clock::Caller`].
    pub fn handle_line(&mut self, line: &str, clock_ms: u64) -> Answer {
        if line.len() > MAX_LINE_BYTES {
            return too_long(line.len());
        }
        let request: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return bad_request(format!("not JSON: {e}")),
        };
        if !request.is_object() {
            return bad_request("a request is a JSON object");
        }
        match self.handle(&request, clock_ms) {
            Ok(answer) | Err(answer) => answer,
        }
    }

    fn handle(&mut self, request: &Value, clock_ms: u64) -> Result<Answer, Answer> {
        let op = text(request, "op")?.ok_or_else(|| bad_request("missing \"op\""))?;
        let now = match self.clock {
            Clock::Virtual => self.virtual_now,
            Clock::Caller => clock_ms,
        };
        let client = text(request, "client")?;
        let characteristic = || -> Result<Characteristic, Answer> {
            let name = text(request, "char")?.ok_or_else(|| bad_request("missing \"char\""))?;
            name.parse::<Characteristic>()
                .map_err(|e| att_error(e, Some(format!("unknown characteristic {name:?}"))))
        };
        let p = &mut self.peripheral;
        let answer = match op {
            "connect" => {
                p.connect(client.unwrap_or("sim-client"), now);
                ok()
            }
            "disconnect" => {
                p.disconnect(now);
                ok()
            }
            "pair" => match p.pair(client, now) {
                Ok(()) => ok(),
                Err(e) => att_error(e, None),
            },
            "write" => {
                let ch = characteristic()?;
                let Some(bytes) = text(request, "data")?.and_then(|t| hex::decode(t).ok()) else {
                    return Err(bad_request("\"data\" must be a string of hex digit pairs"));
                };
                match p.write(ch, &bytes, now) {
                    Ok(()) => ok(),
                    Err(e) => att_error(e, None),
                }
            }
            "read" => {
                let ch = characteristic()?;
                match p.read(ch, now) {
                    Ok(bytes) => Answer {
                        ok: true,
                        data: Some(hex::encode(&bytes)),
                        ..Answer::default()
                    },
                    Err(e) => att_error(e, None),
                }
            }
            "advertisements" => {
                let mut list = Vec::new();
                if request.get("include_gateway").and_then(Value::as_bool) == Some(true) {
                    list.extend(p.gateway_advertisements(now));
                }
                let mut records: Vec<Value> = list.iter().map(|a| record(a, now)).collect();
                let sensors = p.sensor_advertisements(now);
                let emitted = p.gateway().sensors().iter().filter(|s| s.has_emitted());
                for (adv, sensor) in sensors.iter().zip(emitted) {
                    let mut rec = record(adv, now);
                    if sensor.spec().encrypted
                        && let Value::Object(map) = &mut rec
                    {
                        map.insert("bindkey".into(), json!(hex::encode(&SIM_KEY)));
                    }
                    records.push(rec);
                }
                Answer {
                    ok: true,
                    advertisements: Some(records),
                    ..Answer::default()
                }
            }
            "advance" => {
                if self.clock != Clock::Virtual {
                    return Err(bad_request("\"advance\" needs --virtual-clock"));
                }
                let Some(ms) = request.get("ms").and_then(Value::as_u64) else {
                    return Err(bad_request("\"ms\" must be a non-negative integer"));
                };
                self.virtual_now = self.virtual_now.saturating_add(ms);
                self.peripheral.sync(self.virtual_now);
                ok()
            }
            other => bad_request(format!("unknown op {other:?}")),
        };
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shelly::rpc::server::DEFAULT_MTU;
    use crate::sim::{Faults, Gateway, GatewayOptions, SensorSpec, SimSensor};

    fn session() -> Session {
        let sensors = SensorSpec::parse_list("thermo")
            .unwrap()
            .into_iter()
            .map(SimSensor::new)
            .collect();
        let gateway = Gateway::new(GatewayOptions::default(), sensors);
        let peripheral = Peripheral::new(gateway, DEFAULT_MTU, Faults::default());
        Session::new(peripheral, Clock::Virtual)
    }

    fn detail(answer: &Answer) -> &str {
        assert!(!answer.ok);
        assert_eq!(answer.error, Some("request_not_supported"));
        answer.detail.as_deref().unwrap_or_default()
    }

    /// `{"op":123}` was reported as a missing op.
    #[test]
    fn members_of_the_wrong_type_are_named_as_such() {
        let mut s = session();
        assert_eq!(
            detail(&s.handle_line(r#"{"op":123}"#, 0)),
            "\"op\" must be a string"
        );
        assert_eq!(detail(&s.handle_line(r#"{}"#, 0)), "missing \"op\"");
        assert_eq!(
            detail(&s.handle_line(r#"{"op":"read","char":7}"#, 0)),
            "\"char\" must be a string"
        );
        assert_eq!(
            detail(&s.handle_line(r#"{"op":"connect","client":[]}"#, 0)),
            "\"client\" must be a string"
        );
        assert_eq!(
            detail(&s.handle_line("[1]", 0)),
            "a request is a JSON object"
        );
    }

    #[test]
    fn bad_lines_are_answered_and_the_session_goes_on() {
        let mut s = session();
        assert!(detail(&not_utf8(3)).contains("byte 4"));
        let long = "x".repeat(MAX_LINE_BYTES + 1);
        assert!(detail(&s.handle_line(&long, 0)).contains("at most 16384"));
        assert!(s.handle_line(r#"{"op":"connect"}"#, 0).ok);
        assert!(s.handle_line(r#"{"op":"read","char":"rx_ctl"}"#, 0).ok);
    }
}
