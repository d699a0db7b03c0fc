//! The line protocol every `bluehome sim <device> --stdio` speaks: one JSON request per line,
//! exactly one JSON answer per request. The requests, answers and errors are specified in the
//! CLI's README and `schema/sim-request.schema.json` / `sim-answer.schema.json`.
//!
//! This is the whole protocol but the IO: the CLI reads lines, keeps the real clock and writes
//! the answers; [`Session::handle_line`] does everything in between for any simulated [`Device`]
//! (the Shelly gateway's [`Peripheral`], a [`BluDevice`], an [`ImprovDevice`]), so tests and the
//! fuzz target drive exactly what the command runs. Bad input never ends a session: a line that
//! is not JSON, not UTF-8 ([`not_utf8`]), too long ([`too_long`]) or with a member of the wrong
//! type gets a `request_not_supported` answer with a `detail`, and the next line is read.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::str::FromStr;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::blu::{BluDevice, PAIRING_HOLD_MS};
use super::improv::ImprovDevice;
use super::peripheral::Peripheral;
use super::sensors::SIM_KEY;
use crate::advertisement::{Advertisement, MacAddress};
use crate::capture::seconds;
use crate::gatt::AttError;
use crate::hex;

/// The longest request line, in bytes: a write of a whole 4096-byte frame in one piece (8192 hex
/// digits) fits with room to spare.
pub const MAX_LINE_BYTES: usize = 16_384;

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

/// A simulated device as the line protocol sees it. Each method first brings the device's
/// time-driven state up to `now_ms`.
pub trait Device {
    /// Its characteristics, named in requests by short name or UUID.
    type Characteristic: FromStr<Err = AttError>;

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
    fn advertisements(&mut self, request: &AdvertisementsRequest, now_ms: u64) -> Vec<Value>;
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

/// What an `advertisements` request says.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AdvertisementsRequest {
    /// Whether the device's own advertisements come too (sim shelly: the gateway's).
    pub include_gateway: bool,
}

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
    /// What was wrong, when that needs words.
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

/// A string member of the request: absent, or present but not a string.
fn text<'a>(request: &'a Value, key: &str) -> Result<Option<&'a str>, Answer> {
    match request.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_request(format!("\"{key}\" must be a string"))),
    }
}

/// A `true` / `false` member of the request, when present.
fn flag(request: &Value, key: &str) -> Result<Option<bool>, Answer> {
    match request.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad_request(format!("\"{key}\" must be true or false"))),
    }
}

/// A non-negative integer member of the request, when present.
fn milliseconds(request: &Value) -> Result<Option<u64>, Answer> {
    match request.get("ms") {
        None => Ok(None),
        Some(ms) => ms
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad_request("\"ms\" must be a non-negative integer")),
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

/// A running simulator session: a device and, with a virtual clock, its time.
#[derive(Debug)]
pub struct Session<D> {
    device: D,
    clock: Clock,
    virtual_now: u64,
}

impl<D: Device> Session<D> {
    /// A session over a device.
    pub fn new(device: D, clock: Clock) -> Self {
        Self {
            device,
            clock,
            virtual_now: 0,
        }
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
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
        let characteristic = || -> Result<D::Characteristic, Answer> {
            let name = text(request, "char")?.ok_or_else(|| bad_request("missing \"char\""))?;
            name.parse::<D::Characteristic>().map_err(|e| {
                failed(Failure {
                    att: e,
                    detail: Some(format!("unknown characteristic {name:?}")),
                })
            })
        };
        let done = |result: Result<(), Failure>| result.map_or_else(failed, |()| ok());
        let d = &mut self.device;
        Ok(match op {
            "connect" => done(d.connect(client.unwrap_or("sim-client"), now)),
            "disconnect" => {
                d.disconnect(now);
                ok()
            }
            "pair" => done(d.pair(client, now)),
            "write" => {
                let ch = characteristic()?;
                let Some(bytes) = text(request, "data")?.and_then(|t| hex::decode(t).ok()) else {
                    return Err(bad_request("\"data\" must be a string of hex digit pairs"));
                };
                done(d.write(ch, &bytes, now))
            }
            "read" => {
                let ch = characteristic()?;
                match d.read(ch, now) {
                    Ok(bytes) => Answer {
                        ok: true,
                        data: Some(hex::encode(&bytes)),
                        ..Answer::default()
                    },
                    Err(e) => failed(e),
                }
            }
            "advertisements" => {
                let wanted = AdvertisementsRequest {
                    include_gateway: flag(request, "include_gateway")?.unwrap_or(false),
                };
                Answer {
                    ok: true,
                    advertisements: Some(d.advertisements(&wanted, now)),
                    ..Answer::default()
                }
            }
            "press" => {
                let press = Press {
                    hold_ms: milliseconds(request)?,
                    addr: text(request, "addr")?,
                };
                done(d.press(&press, now))
            }
            "advance" => {
                if self.clock != Clock::Virtual {
                    return Err(bad_request("\"advance\" needs --virtual-clock"));
                }
                let ms = milliseconds(request)?
                    .ok_or_else(|| bad_request("\"ms\" must be a non-negative integer"))?;
                // Nothing more: every request brings the device up to its time first.
                self.virtual_now = self.virtual_now.saturating_add(ms);
                ok()
            }
            other => bad_request(format!("unknown op {other:?}")),
        })
    }
}

/// The Shelly BLU Gateway Gen3 behind its GATT RPC service (`bluehome sim shelly`).
impl Device for Peripheral {
    type Characteristic = crate::shelly::rpc::Characteristic;

    fn connect(&mut self, client: &str, now_ms: u64) -> Result<(), Failure> {
        Peripheral::connect(self, client, now_ms);
        Ok(())
    }

    fn disconnect(&mut self, now_ms: u64) {
        Peripheral::disconnect(self, now_ms);
    }

    fn pair(&mut self, client: Option<&str>, now_ms: u64) -> Result<(), Failure> {
        Ok(Peripheral::pair(self, client, now_ms)?)
    }

    fn read(&mut self, c: Self::Characteristic, now_ms: u64) -> Result<Vec<u8>, Failure> {
        Ok(Peripheral::read(self, c, now_ms)?)
    }

    fn write(&mut self, c: Self::Characteristic, value: &[u8], now_ms: u64) -> Result<(), Failure> {
        Ok(Peripheral::write(self, c, value, now_ms)?)
    }

    /// The sensors' advertisements (encrypted ones with their `bindkey`), after the gateway's own
    /// with `"include_gateway": true`.
    fn advertisements(&mut self, request: &AdvertisementsRequest, now_ms: u64) -> Vec<Value> {
        let mut records = Vec::new();
        if request.include_gateway {
            records.extend(
                self.gateway_advertisements(now_ms)
                    .iter()
                    .map(|a| record(a, now_ms)),
            );
        }
        let sensors = self.sensor_advertisements(now_ms);
        let emitted = self.gateway().sensors().iter().filter(|s| s.has_emitted());
        for (adv, sensor) in sensors.iter().zip(emitted) {
            let mut rec = record(adv, now_ms);
            if sensor.spec().encrypted
                && let Value::Object(map) = &mut rec
            {
                map.insert("bindkey".into(), json!(SIM_KEY.to_hex()));
            }
            records.push(rec);
        }
        records
    }

    /// A sensor's button (`addr`): it sends at once, as a press makes a Shelly BLU device do.
    fn press(&mut self, press: &Press<'_>, now_ms: u64) -> Result<(), Failure> {
        let refuse = |detail: String| Failure {
            att: AttError::RequestNotSupported,
            detail: Some(detail),
        };
        let Some(addr) = press.addr else {
            return Err(refuse(String::from(
                "the simulated gateway has no button to press",
            )));
        };
        let mac: MacAddress = addr
            .parse()
            .map_err(|_| refuse(format!("\"addr\" {addr:?} is not a MAC address")))?;
        let sensor = self
            .gateway_mut()
            .sensors_mut()
            .iter_mut()
            .find(|s| s.mac() == mac)
            .ok_or_else(|| refuse(format!("no simulated sensor has address {mac}")))?;
        sensor.press(now_ms);
        Peripheral::sync(self, now_ms);
        Ok(())
    }
}

/// A Shelly BLU device's settings service (`bluehome sim blu`).
impl Device for BluDevice {
    type Characteristic = crate::blu::Characteristic;

    fn connect(&mut self, client: &str, now_ms: u64) -> Result<(), Failure> {
        BluDevice::connect(self, client, now_ms).map_err(|e| Failure {
            att: AttError::Disconnected,
            detail: Some(e.to_string()),
        })
    }

    fn disconnect(&mut self, now_ms: u64) {
        BluDevice::disconnect(self, now_ms);
    }

    fn pair(&mut self, client: Option<&str>, now_ms: u64) -> Result<(), Failure> {
        Ok(BluDevice::pair(self, client, now_ms)?)
    }

    fn read(&mut self, c: Self::Characteristic, now_ms: u64) -> Result<Vec<u8>, Failure> {
        Ok(BluDevice::read(self, c, now_ms)?)
    }

    fn write(&mut self, c: Self::Characteristic, value: &[u8], now_ms: u64) -> Result<(), Failure> {
        Ok(BluDevice::write(self, c, value, now_ms)?)
    }

    /// Its last advertisement (none before the first). No `bindkey`: the key is read over GATT.
    fn advertisements(&mut self, _request: &AdvertisementsRequest, now_ms: u64) -> Vec<Value> {
        self.advertisement(now_ms)
            .map(|adv| record(&adv, now_ms))
            .into_iter()
            .collect()
    }

    /// Without `ms`, the hold that enters pairing mode.
    fn press(&mut self, press: &Press<'_>, now_ms: u64) -> Result<(), Failure> {
        BluDevice::press(self, press.hold_ms.unwrap_or(PAIRING_HOLD_MS), now_ms);
        Ok(())
    }
}

/// An Improv Wi-Fi device (`bluehome sim improv`).
impl Device for ImprovDevice {
    type Characteristic = crate::improv::Characteristic;

    fn connect(&mut self, client: &str, now_ms: u64) -> Result<(), Failure> {
        ImprovDevice::connect(self, client, now_ms);
        Ok(())
    }

    fn disconnect(&mut self, now_ms: u64) {
        ImprovDevice::disconnect(self, now_ms);
    }

    /// Improv needs no bond; pairing (Just Works) succeeds and changes nothing.
    fn pair(&mut self, _client: Option<&str>, now_ms: u64) -> Result<(), Failure> {
        self.tick(now_ms);
        match self.client() {
            Some(_) => Ok(()),
            None => Err(AttError::Disconnected.into()),
        }
    }

    fn read(&mut self, c: Self::Characteristic, now_ms: u64) -> Result<Vec<u8>, Failure> {
        Ok(ImprovDevice::read(self, c, now_ms)?)
    }

    fn write(&mut self, c: Self::Characteristic, value: &[u8], now_ms: u64) -> Result<(), Failure> {
        Ok(ImprovDevice::write(self, c, value, now_ms)?)
    }

    fn advertisements(&mut self, _request: &AdvertisementsRequest, now_ms: u64) -> Vec<Value> {
        vec![record(&self.advertisement(now_ms), now_ms)]
    }

    fn press(&mut self, _press: &Press<'_>, now_ms: u64) -> Result<(), Failure> {
        ImprovDevice::press(self, now_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shelly::rpc::server::DEFAULT_MTU;
    use crate::sim::{
        BluOptions, Faults, Gateway, GatewayOptions, ImprovOptions, SensorSpec, SimSensor,
    };

    fn session() -> Session<Peripheral> {
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
            detail(&s.handle_line(r#"{"op":"advance","ms":-1}"#, 0)),
            "\"ms\" must be a non-negative integer"
        );
        assert_eq!(
            detail(&s.handle_line("[1]", 0)),
            "a request is a JSON object"
        );
    }

    /// `"include_gateway":"yes"` was taken as false and answered with the sensors alone.
    #[test]
    fn include_gateway_must_be_true_or_false() {
        let mut s = session();
        for wrong in [r#""yes""#, "1", "[]"] {
            let line = format!(r#"{{"op":"advertisements","include_gateway":{wrong}}}"#);
            assert_eq!(
                detail(&s.handle_line(&line, 0)),
                "\"include_gateway\" must be true or false",
                "{line}"
            );
        }
        for right in ["true", "false"] {
            let line = format!(r#"{{"op":"advertisements","include_gateway":{right}}}"#);
            assert!(s.handle_line(&line, 0).ok, "{line}");
        }
    }

    /// After `disconnect` no characteristic answers, on each simulated device; Improv's `pair`
    /// (Just Works) needs a connection too.
    #[test]
    fn a_dropped_link_answers_nothing() {
        fn dropped<D: Device>(mut s: Session<D>, characteristic: &str) {
            let read = format!(r#"{{"op":"read","char":"{characteristic}"}}"#);
            assert!(s.handle_line(r#"{"op":"connect"}"#, 0).ok);
            assert!(s.handle_line(&read, 0).ok, "{characteristic}");
            assert!(s.handle_line(r#"{"op":"disconnect"}"#, 0).ok);
            let answer = s.handle_line(&read, 0);
            assert_eq!(
                (answer.ok, answer.error),
                (false, Some(AttError::Disconnected.name())),
                "{characteristic}"
            );
        }
        let improv = || Session::new(ImprovDevice::new(ImprovOptions::default()), Clock::Virtual);
        dropped(session(), "rx_ctl");
        // A BLU device takes a connection while in pairing mode (a long press).
        let mut blu = Session::new(
            BluDevice::new(BluOptions::new(&crate::blu::MODELS[0])),
            Clock::Virtual,
        );
        assert!(blu.handle_line(r#"{"op":"press"}"#, 0).ok);
        dropped(blu, "firmware_revision");
        dropped(improv(), "state");
        let unpaired = improv().handle_line(r#"{"op":"pair"}"#, 0);
        assert_eq!(unpaired.error, Some(AttError::Disconnected.name()));
    }

    #[test]
    fn bad_lines_are_answered_and_the_session_goes_on() {
        let mut s = session();
        assert!(detail(&not_utf8(3)).contains("byte 4"));
        let long = "x".repeat(MAX_LINE_BYTES + 1);
        assert!(detail(&s.handle_line(&long, 0)).contains("at most 16384"));
        // A request padded to the cap exactly is still read.
        let op = r#"{"op":"connect"}"#;
        let longest = format!("{op}{}", " ".repeat(MAX_LINE_BYTES - op.len()));
        assert!(s.handle_line(&longest, 0).ok);
        assert!(s.handle_line(r#"{"op":"disconnect"}"#, 0).ok);
        assert!(s.handle_line(r#"{"op":"connect"}"#, 0).ok);
        assert!(s.handle_line(r#"{"op":"read","char":"rx_ctl"}"#, 0).ok);
    }
}
