//! `bluehome sim <device> --stdio`: simulated devices on stdin and stdout, one JSON request per
//! line, one JSON answer per line ([`line`]). `shelly` (here) is a Shelly BLU Gateway Gen3's GATT
//! RPC server; [`blu`] a Shelly BLU sensor's settings service; [`improv`] an Improv Wi-Fi device.
//! See the README for the protocol.

mod blu;
mod improv;
mod line;

use std::process::ExitCode;

use bluehome_core::MacAddress;
use bluehome_core::shelly::rpc::server::DEFAULT_MTU;
use bluehome_core::sim::gateway::AddAnswer;
use bluehome_core::sim::line::Session;
use bluehome_core::sim::{
    Faults, Gateway, GatewayOptions, Peripheral, Provisioning, SensorSpec, SimSensor,
};

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
        Some(other) => {
            return Err(format!(
                "unknown device {other:?} (`shelly`, `blu` or `improv`)"
            ));
        }
        None => return Err("missing device (`shelly`, `blu` or `improv`)".into()),
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

fn session(config: Config) -> Session<Peripheral> {
    let sensors = config.sensors.into_iter().map(SimSensor::new).collect();
    let peripheral = Peripheral::new(
        Gateway::new(config.options, sensors),
        config.mtu,
        config.faults,
    );
    Session::new(peripheral, line::clock(config.virtual_clock))
}

/// Entry point: `args` are what follows `sim`.
pub fn run(mut args: impl Iterator<Item = String>) -> ExitCode {
    let device = args.next();
    match device.as_deref() {
        Some("blu") => blu::run(args),
        Some("improv") => improv::run(args),
        _ => run_shelly(device.into_iter().chain(args)),
    }
}

fn run_shelly(args: impl Iterator<Item = String>) -> ExitCode {
    match parse_args(args) {
        Ok(config) => line::serve(session(config), "shelly"),
        Err(e) => {
            eprintln!("bluehome sim: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn answer(s: &mut Session<Peripheral>, line: &str) -> Value {
        serde_json::to_value(s.handle_line(line, 0)).unwrap()
    }

    fn shelly(args: &str) -> Session<Peripheral> {
        let args = format!("shelly --stdio --virtual-clock {args}");
        session(parse_args(args.split_whitespace().map(String::from)).unwrap())
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
        let mut s = shelly("");
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

    #[test]
    fn advance_needs_the_virtual_clock() {
        let mut s =
            session(parse_args("shelly --stdio".split_whitespace().map(String::from)).unwrap());
        assert_eq!(answer(&mut s, r#"{"op":"advance","ms":5}"#)["ok"], false);
    }

    #[test]
    fn the_gateway_has_no_button() {
        let answer = answer(&mut shelly(""), r#"{"op":"press"}"#);
        assert_eq!(answer["error"], "request_not_supported");
        assert_eq!(
            answer["detail"],
            "the simulated gateway has no button to press"
        );
    }

    /// A sensor's press makes it send at once: the gateway learns a freshly added device from it.
    #[test]
    fn press_makes_a_sensor_send_at_once() {
        let mut s = shelly("--sensors ht");
        s.handle_line(r#"{"op":"advance","ms":1000}"#, 0);
        let packet = |s: &mut Session<Peripheral>| {
            answer(s, r#"{"op":"advertisements"}"#)["advertisements"][0]["service_data"]["fcd2"]
                .clone()
        };
        let before = packet(&mut s);
        assert_eq!(
            answer(&mut s, r#"{"op":"press","addr":"3c:2e:f5:5b:01:01"}"#),
            json!({"ok": true})
        );
        assert_ne!(
            packet(&mut s),
            before,
            "a new packet (its packet id moved on)"
        );
        for bad in [
            r#"{"op":"press","addr":"AA:AA:AA:AA:AA:AA"}"#,
            r#"{"op":"press","addr":"nope"}"#,
            r#"{"op":"press","addr":5}"#,
        ] {
            assert_eq!(
                answer(&mut s, bad)["error"],
                "request_not_supported",
                "{bad}"
            );
        }
    }

    #[test]
    fn advertisements_are_decode_records() {
        let mut s = shelly("--sensors thermo");
        assert_eq!(
            answer(&mut s, r#"{"op":"advertisements"}"#),
            json!({"ok": true, "advertisements": []})
        );
        s.handle_line(r#"{"op":"advance","ms":1000}"#, 0);
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
