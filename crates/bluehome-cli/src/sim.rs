//! `bluehome sim shelly --stdio`: the simulated Shelly BLU Gateway Gen3's GATT server on stdin and
//! stdout, one JSON request per line, one JSON answer per line. See the README for the protocol.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Instant;

use bluehome_core::hex;
use bluehome_core::shelly::rpc::{AttError, Characteristic, server::DEFAULT_MTU};
use bluehome_core::sim::gateway::AddAnswer;
use bluehome_core::sim::sensors::SIM_KEY;
use bluehome_core::sim::{
    Faults, Gateway, GatewayOptions, Peripheral, Provisioning, SensorSpec, SimSensor,
};
use bluehome_core::{Advertisement, MacAddress};
use serde::Serialize;
use serde_json::{Map, Value, json};

const USAGE: &str = "\
usage: bluehome sim shelly --stdio [--virtual-clock] [--mtu N] [options]

state:   --password PW  --provisioning pending|confirmed|complete|locked  --rpc-disabled
         --sensors LIST (default button,ht,dw,motion,rc4,thermo; +enc = encrypted)
         --bond ADDR (repeatable)  --mac AA:BB:CC:DD:EE:FF  --epoch UNIX_SECONDS
         --wifi-connect-ms N  --relay-page-size N  --object-page-size N
kinder:  --add-answer-key  --objects-known-at-once  --clock-synced  --wifi-steady
         --report-provisioning
firmware: --wifi-restart-required
faults:  --empty-reads N  --garbage-length  --slow-ms N  --wrong-ids N
         --disconnect-after BYTES  --max-write N";

/// Everything the command line sets.
#[derive(Debug)]
struct Config {
    virtual_clock: bool,
    mtu: u16,
    options: GatewayOptions,
    sensors: Vec<SensorSpec>,
    faults: Faults,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Config, String> {
    match args.next().as_deref() {
        Some("shelly") => {}
        Some(other) => return Err(format!("unknown device {other:?} (only `shelly`)")),
        None => return Err("missing device (`shelly`)".into()),
    }
    let mut stdio = false;
    let mut config = Config {
        virtual_clock: false,
        mtu: DEFAULT_MTU,
        options: GatewayOptions::default(),
        sensors: SensorSpec::parse_list("button,ht,dw,motion,rc4,thermo")
            .map_err(|e| e.to_string())?,
        faults: Faults::default(),
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{name}: {text:?} is not a non-negative integer"))
        };
        match arg.as_str() {
            "--stdio" => stdio = true,
            "--virtual-clock" => config.virtual_clock = true,
            "--mtu" => {
                let n = number("--mtu", value("--mtu")?)?;
                config.mtu = u16::try_from(n)
                    .ok()
                    .filter(|m| (23..=517).contains(m))
                    .ok_or("--mtu must be 23..=517")?;
            }
            "--password" => config.options.password = Some(value("--password")?),
            "--provisioning" => {
                let text = value("--provisioning")?;
                config.options.provisioning = Provisioning::from_name(&text)
                    .ok_or_else(|| format!("--provisioning: unknown state {text:?}"))?;
            }
            "--rpc-disabled" => config.options.rpc_enabled = false,
            "--add-answer-key" => config.options.add_answer = AddAnswer::Key,
            "--objects-known-at-once" => config.options.objects_known_at_once = true,
            "--clock-synced" => config.options.clock_synced = true,
            "--wifi-steady" => config.options.wifi_steady = true,
            "--wifi-restart-required" => config.options.wifi_restart_required = true,
            "--report-provisioning" => config.options.report_provisioning = true,
            "--sensors" => {
                config.sensors =
                    SensorSpec::parse_list(&value("--sensors")?).map_err(|e| e.to_string())?;
            }
            "--bond" => config.options.bonds.push(value("--bond")?),
            "--mac" => {
                let text = value("--mac")?;
                config.options.mac = text
                    .parse::<MacAddress>()
                    .map_err(|e| format!("--mac: {e}"))?;
            }
            "--epoch" => config.options.epoch_s = number("--epoch", value("--epoch")?)?,
            "--wifi-connect-ms" => {
                config.options.wifi_connect_ms =
                    number("--wifi-connect-ms", value("--wifi-connect-ms")?)?;
            }
            "--relay-page-size" => {
                config.options.relay_page_size =
                    number("--relay-page-size", value("--relay-page-size")?)?.max(1) as usize;
            }
            "--object-page-size" => {
                config.options.object_page_size =
                    number("--object-page-size", value("--object-page-size")?)?.max(1) as usize;
            }
            "--empty-reads" => {
                config.faults.empty_reads =
                    u32::try_from(number("--empty-reads", value("--empty-reads")?)?)
                        .map_err(|_| "--empty-reads is too large")?;
            }
            "--garbage-length" => config.faults.garbage_length = true,
            "--slow-ms" => config.faults.slow_ms = number("--slow-ms", value("--slow-ms")?)?,
            "--wrong-ids" => {
                config.faults.wrong_ids =
                    u32::try_from(number("--wrong-ids", value("--wrong-ids")?)?)
                        .map_err(|_| "--wrong-ids is too large")?;
            }
            "--disconnect-after" => {
                config.faults.disconnect_after =
                    Some(number("--disconnect-after", value("--disconnect-after")?)? as usize);
            }
            "--max-write" => {
                config.faults.max_write =
                    Some(number("--max-write", value("--max-write")?)? as usize);
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if !stdio {
        return Err("only --stdio mode exists: pass --stdio".into());
    }
    Ok(config)
}

/// The running simulator: the peripheral and its clock.
pub struct Session {
    peripheral: Peripheral,
    virtual_clock: bool,
    virtual_now: u64,
    started: Instant,
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

/// A `bluehome decode` input record (also a `bluehome replay` capture line).
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

fn seconds(ms: u64) -> Value {
    if ms.is_multiple_of(1000) {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

impl Session {
    fn new(config: Config) -> Self {
        let sensors = config.sensors.into_iter().map(SimSensor::new).collect();
        Self {
            peripheral: Peripheral::new(
                Gateway::new(config.options, sensors),
                config.mtu,
                config.faults,
            ),
            virtual_clock: config.virtual_clock,
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
        let p = &mut self.peripheral;
        let characteristic = || -> Result<Characteristic, Answer> {
            let name = request
                .get("char")
                .and_then(Value::as_str)
                .ok_or_else(|| bad_request("missing \"char\""))?;
            name.parse::<Characteristic>()
                .map_err(|e| att_error(e, Some(format!("unknown characteristic {name:?}"))))
        };
        let client = request.get("client").and_then(Value::as_str);
        match op {
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
                match p.write(ch, &bytes, now) {
                    Ok(()) => ok(),
                    Err(e) => att_error(e, None),
                }
            }
            "read" => {
                let ch = match characteristic() {
                    Ok(c) => c,
                    Err(answer) => return answer,
                };
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
                if !self.virtual_clock {
                    return bad_request("\"advance\" needs --virtual-clock");
                }
                let Some(ms) = request.get("ms").and_then(Value::as_u64) else {
                    return bad_request("\"ms\" must be a non-negative integer");
                };
                self.virtual_now = self.virtual_now.saturating_add(ms);
                self.peripheral.sync(self.virtual_now);
                ok()
            }
            "press" => {
                let Some(mac) = request
                    .get("addr")
                    .and_then(Value::as_str)
                    .and_then(|a| a.parse::<MacAddress>().ok())
                else {
                    return bad_request("\"addr\" must be a MAC address");
                };
                let Some(sensor) = p
                    .gateway_mut()
                    .sensors_mut()
                    .iter_mut()
                    .find(|s| s.mac() == mac)
                else {
                    return bad_request(format!("no simulated sensor has address {mac}"));
                };
                sensor.press(now);
                p.sync(now);
                ok()
            }
            other => bad_request(format!("unknown op {other:?}")),
        }
    }
}

/// Entry point.
pub fn run(args: impl Iterator<Item = String>) -> ExitCode {
    let config = match parse_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bluehome sim: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut session = Session::new(config);
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            eprintln!("bluehome sim: stdin is not UTF-8 text");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(s: &mut Session, line: &str) -> Value {
        serde_json::to_value(s.handle_line(line)).unwrap()
    }

    fn session(args: &str) -> Session {
        let args = format!("shelly --stdio --virtual-clock {args}");
        Session::new(parse_args(args.split_whitespace().map(String::from)).unwrap())
    }

    #[test]
    fn options_are_checked() {
        let parse = |s: &str| parse_args(s.split_whitespace().map(String::from));
        assert!(parse("shelly").is_err(), "--stdio is required");
        assert!(parse("toaster --stdio").is_err());
        assert!(parse("shelly --stdio --mtu 22").is_err());
        assert!(parse("shelly --stdio --provisioning sideways").is_err());
        assert!(parse("shelly --stdio --sensors ht,lamp").is_err());
        let c = parse("shelly --stdio --mtu 23 --provisioning locked --sensors ht+enc --bond AA:BB:CC:DD:EE:FF --empty-reads 2 --garbage-length").unwrap();
        assert!(!c.options.clock_synced && c.options.add_answer == AddAnswer::Added);
        let kinder = parse("shelly --stdio --add-answer-key --objects-known-at-once --clock-synced --wifi-steady --report-provisioning --wifi-restart-required").unwrap();
        assert_eq!(kinder.options.add_answer, AddAnswer::Key);
        assert!(kinder.options.objects_known_at_once && kinder.options.clock_synced);
        assert!(kinder.options.wifi_steady && kinder.options.report_provisioning);
        assert!(kinder.options.wifi_restart_required);
        assert_eq!(c.mtu, 23);
        assert_eq!(c.options.provisioning, Provisioning::Locked);
        assert!(c.sensors[0].encrypted);
        assert_eq!(c.faults.empty_reads, 2);
        assert!(c.faults.garbage_length);
    }

    #[test]
    fn malformed_lines_get_one_error_line_each() {
        let mut s = session("");
        for line in [
            "nope",
            "{}",
            r#"{"op":"fly"}"#,
            r#"{"op":"read"}"#,
            r#"{"op":"write","char":"data","data":"xyz"}"#,
        ] {
            let answer = answer(&mut s, line);
            assert_eq!(answer["ok"], false, "{line}");
            assert_eq!(answer["error"], "request_not_supported", "{line}");
        }
        assert_eq!(
            answer(&mut s, r#"{"op":"read","char":"battery"}"#)["error"],
            "attribute_not_found"
        );
    }

    /// A press makes a sensor send at once: the gateway learns a freshly added device from it.
    #[test]
    fn press_makes_a_sensor_send_at_once() {
        let mut s = session("--sensors ht");
        s.handle_line(r#"{"op":"advance","ms":1000}"#);
        let before = s.peripheral.gateway().sensors()[0].emissions();
        assert_eq!(
            answer(&mut s, r#"{"op":"press","addr":"3c:2e:f5:5b:01:01"}"#),
            json!({"ok": true})
        );
        assert_eq!(s.peripheral.gateway().sensors()[0].emissions(), before + 1);
        for bad in [
            r#"{"op":"press"}"#,
            r#"{"op":"press","addr":"AA:AA:AA:AA:AA:AA"}"#,
        ] {
            assert_eq!(
                answer(&mut s, bad)["error"],
                "request_not_supported",
                "{bad}"
            );
        }
    }

    #[test]
    fn advance_needs_the_virtual_clock() {
        let mut s = Session::new(
            parse_args("shelly --stdio".split_whitespace().map(String::from)).unwrap(),
        );
        assert_eq!(answer(&mut s, r#"{"op":"advance","ms":5}"#)["ok"], false);
    }

    #[test]
    fn advertisements_are_decode_records() {
        let mut s = session("--sensors thermo");
        assert_eq!(
            answer(&mut s, r#"{"op":"advertisements"}"#),
            json!({"ok": true, "advertisements": []})
        );
        s.handle_line(r#"{"op":"advance","ms":1000}"#);
        let answer = answer(&mut s, r#"{"op":"advertisements","include_gateway":true}"#);
        let records = answer["advertisements"].as_array().unwrap();
        assert_eq!(records.len(), 2);
        assert!(records[0]["manufacturer_data"]["2985"].is_string());
        assert_eq!(records[1]["time"], 1);
        assert_eq!(records[1]["address"], "3C:2E:F5:5B:05:01");
        assert!(
            records[1]["service_data"]["fcd2"]
                .as_str()
                .unwrap()
                .starts_with("40")
        );
    }
}
