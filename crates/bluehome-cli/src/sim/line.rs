//! The line protocol every `bluehome sim <device> --stdio` speaks: one JSON request per line on
//! stdin, exactly one JSON answer per line on stdout, flushed at once. See the README.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use bluehome_core::gatt::AttError;
use bluehome_core::{Advertisement, hex};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// A failed request: the ATT error it answers with, and what went wrong when that needs words.
#[derive(Debug)]
pub struct Failure {
    /// The ATT error.
    pub att: AttError,
    /// A sentence for people.
    pub detail: Option<String>,
}

impl From<AttError> for Failure {
    fn from(att: AttError) -> Self {
        Self { att, detail: None }
    }
}

/// A simulated device as the line protocol sees it.
pub trait Device {
    /// Its characteristics, named in requests by short name or UUID.
    type Characteristic: FromStr<Err = AttError>;

    /// Brings time-driven state up to `now_ms`.
    fn sync(&mut self, now_ms: u64);
    /// A client connects.
    fn connect(&mut self, client: &str, now_ms: u64) -> Result<(), Failure>;
    /// The link drops.
    fn disconnect(&mut self, now_ms: u64);
    /// Bonds the connected client (or `client`).
    fn pair(&mut self, client: Option<&str>, now_ms: u64) -> Result<(), Failure>;
    /// A read.
    fn read(&mut self, c: Self::Characteristic, now_ms: u64) -> Result<Vec<u8>, Failure>;
    /// A write with response.
    fn write(&mut self, c: Self::Characteristic, value: &[u8], now_ms: u64) -> Result<(), Failure>;
    /// The current advertisements as `bluehome decode` input records.
    fn advertisements(&mut self, request: &Value, now_ms: u64) -> Vec<Value>;
    /// A person presses a button: the device's own, or (`addr`) that of a sensor it hears.
    fn press(&mut self, press: &Press<'_>, now_ms: u64) -> Result<(), Failure>;
}

/// What a `press` request says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Press<'a> {
    /// How long the button is held, when given.
    pub hold_ms: Option<u64>,
    /// Whose button, when not the device's own (sim shelly: a simulated sensor's address).
    pub addr: Option<&'a str>,
}

/// One answer line. A struct (not a map) so the key order is fixed: `ok` first.
#[derive(Debug, Default, Serialize)]
pub struct Answer {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    att: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    advertisements: Option<Vec<Value>>,
}

fn ok() -> Answer {
    Answer {
        ok: true,
        ..Answer::default()
    }
}

fn failed(failure: Failure) -> Answer {
    Answer {
        ok: false,
        att: Some(failure.att.code()),
        error: Some(failure.att.name()),
        detail: failure.detail,
        ..Answer::default()
    }
}

fn bad_request(detail: impl Into<String>) -> Answer {
    failed(Failure {
        att: AttError::RequestNotSupported,
        detail: Some(detail.into()),
    })
}

/// A `bluehome decode` input record (also a `bluehome replay` capture line).
pub fn record(adv: &Advertisement, now_ms: u64) -> Value {
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

fn seconds(ms: u64) -> Value {
    if ms.is_multiple_of(1000) {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

/// The running simulator: a device and its clock.
pub struct Session<D> {
    device: D,
    virtual_clock: bool,
    virtual_now: u64,
    started: Instant,
}

impl<D: Device> Session<D> {
    /// A session; with `virtual_clock` time moves only by `advance`.
    pub fn new(device: D, virtual_clock: bool) -> Self {
        Self {
            device,
            virtual_clock,
            virtual_now: 0,
            started: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        if self.virtual_clock {
            self.virtual_now
        } else {
            u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
        }
    }

    /// Answers one request line.
    pub fn handle_line(&mut self, line: &str) -> Answer {
        let request: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return bad_request(format!("not JSON: {e}")),
        };
        let Some(op) = request.get("op").and_then(Value::as_str) else {
            return bad_request("missing \"op\"");
        };
        let now = self.now();
        let d = &mut self.device;
        let characteristic = || -> Result<D::Characteristic, Answer> {
            let name = request
                .get("char")
                .and_then(Value::as_str)
                .ok_or_else(|| bad_request("missing \"char\""))?;
            name.parse::<D::Characteristic>().map_err(|e| {
                failed(Failure {
                    att: e,
                    detail: Some(format!("unknown characteristic {name:?}")),
                })
            })
        };
        let client = request.get("client").and_then(Value::as_str);
        let done = |result: Result<(), Failure>| result.map_or_else(failed, |()| ok());
        match op {
            "connect" => done(d.connect(client.unwrap_or("sim-client"), now)),
            "disconnect" => {
                d.disconnect(now);
                ok()
            }
            "pair" => done(d.pair(client, now)),
            "write" => {
                let ch = match characteristic() {
                    Ok(c) => c,
                    Err(answer) => return answer,
                };
                let Some(bytes) = request
                    .get("data")
                    .and_then(Value::as_str)
                    .and_then(|text| hex::decode(text).ok())
                else {
                    return bad_request("\"data\" must be a string of hex digit pairs");
                };
                done(d.write(ch, &bytes, now))
            }
            "read" => {
                let ch = match characteristic() {
                    Ok(c) => c,
                    Err(answer) => return answer,
                };
                match d.read(ch, now) {
                    Ok(bytes) => Answer {
                        ok: true,
                        data: Some(hex::encode(&bytes)),
                        ..Answer::default()
                    },
                    Err(e) => failed(e),
                }
            }
            "advertisements" => Answer {
                ok: true,
                advertisements: Some(d.advertisements(&request, now)),
                ..Answer::default()
            },
            "press" => {
                let hold_ms = match request.get("ms") {
                    None => None,
                    Some(ms) => match ms.as_u64() {
                        Some(ms) => Some(ms),
                        None => return bad_request("\"ms\" must be a non-negative integer"),
                    },
                };
                let addr = match request.get("addr") {
                    None => None,
                    Some(addr) => match addr.as_str() {
                        Some(addr) => Some(addr),
                        None => return bad_request("\"addr\" must be a string"),
                    },
                };
                done(d.press(&Press { hold_ms, addr }, now))
            }
            "advance" => {
                if !self.virtual_clock {
                    return bad_request("\"advance\" needs --virtual-clock");
                }
                let Some(ms) = request.get("ms").and_then(Value::as_u64) else {
                    return bad_request("\"ms\" must be a non-negative integer");
                };
                self.virtual_now = self.virtual_now.saturating_add(ms);
                self.device.sync(self.virtual_now);
                ok()
            }
            other => bad_request(format!("unknown op {other:?}")),
        }
    }
}

/// Answers stdin line by line until it ends.
pub fn serve<D: Device>(mut session: Session<D>, name: &str) -> ExitCode {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            eprintln!("bluehome sim {name}: stdin is not UTF-8 text");
            return ExitCode::from(1);
        };
        if line.trim().is_empty() {
            continue;
        }
        let answer = session.handle_line(&line);
        let text = serde_json::to_string(&answer).unwrap_or_else(|_| {
            r#"{"ok":false,"att":6,"error":"request_not_supported"}"#.to_string()
        });
        if writeln!(stdout, "{text}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return ExitCode::SUCCESS; // the reader went away
        }
    }
    ExitCode::SUCCESS
}

/// The value of a command-line option that takes a number.
pub fn number(name: &str, text: Option<String>) -> Result<u64, String> {
    let text = text.ok_or_else(|| format!("{name} needs a value"))?;
    text.parse::<u64>()
        .map_err(|_| format!("{name}: {text:?} is not a non-negative integer"))
}
