//! `bluehome sim shelly --stdio`: a Shelly BLU Gateway Gen3's GATT RPC server
//! (`bluehome_core::sim`) on the line protocol.

use std::ffi::OsString;
use std::process::ExitCode;

use bluehome_core::MacAddress;
use bluehome_core::shelly::methods::ble::Provisioning;
use bluehome_core::shelly::methods::bthome::AddedMember;
use bluehome_core::shelly::rpc::server::DEFAULT_MTU;
use bluehome_core::sim::line::{Clock, Session};
use bluehome_core::sim::{Faults, Gateway, GatewayOptions, Peripheral, SensorSpec, SimSensor};

use super::line;
use crate::args::{self, Parsed};

const USAGE: &str = "\
usage: bluehome sim shelly --stdio [--virtual-clock] [--mtu N] [options]

state:   --password PW  --provisioning pending|confirmed|complete|locked  --rpc-disabled
         --sensors LIST (default button,ht,dw,motion,rc4,thermo; +enc = encrypted)
         --bond ADDR (repeatable)  --mac AA:BB:CC:DD:EE:FF  --epoch UNIX_SECONDS
         --wifi-connect-ms N  --relay-page-size N  --object-page-size N
kinder:  --add-answer-key  --objects-known-at-once  --clock-synced  --wifi-steady
         --report-provisioning  --ble-rpc-at-once
firmware: --wifi-restart-required  --firmware-2-auth
faults:  --empty-reads N  --garbage-length  --slow-ms N  --wrong-ids N
         --disconnect-after BYTES  --max-write N";

/// Everything the command line sets.
#[derive(Debug)]
struct Config {
    clock: Clock,
    mtu: u16,
    options: GatewayOptions,
    sensors: Vec<SensorSpec>,
    faults: Faults,
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Parsed<Box<Config>>, String> {
    let mut mtu = DEFAULT_MTU;
    let mut options = GatewayOptions::default();
    let mut sensors =
        SensorSpec::parse_list("button,ht,dw,motion,rc4,thermo").map_err(|e| e.to_string())?;
    let mut faults = Faults::default();
    let clock = line::parse_options(args, |name, p| {
        let (o, f) = (&mut options, &mut faults);
        let option = format!("--{name}");
        let number = |p: &mut args::Parser| args::number(p, &option);
        match name {
            "mtu" => {
                mtu = u16::try_from(number(p)?)
                    .ok()
                    .filter(|m| (23..=517).contains(m))
                    .ok_or("--mtu must be 23..=517")?;
            }
            "password" => o.password = Some(args::text(p)?),
            "provisioning" => {
                let text = args::text(p)?;
                o.provisioning = Provisioning::from_name(&text)
                    .ok_or_else(|| format!("--provisioning: unknown state {text:?}"))?;
            }
            "rpc-disabled" => o.rpc_enabled = false,
            "add-answer-key" => o.add_answer = AddedMember::Key,
            "objects-known-at-once" => o.objects_known_at_once = true,
            "clock-synced" => o.clock_synced = true,
            "wifi-steady" => o.wifi_steady = true,
            "wifi-restart-required" => o.wifi_restart_required = true,
            "firmware-2-auth" => o.firmware_2_auth = true,
            "report-provisioning" => o.report_provisioning = true,
            "ble-rpc-at-once" => o.ble_restart_required = false,
            "sensors" => {
                sensors = SensorSpec::parse_list(&args::text(p)?).map_err(|e| e.to_string())?;
            }
            "bond" => o.bonds.push(args::text(p)?),
            "mac" => {
                let text = args::text(p)?;
                o.mac = text
                    .parse::<MacAddress>()
                    .map_err(|e| format!("--mac: {e}"))?;
            }
            "epoch" => o.epoch_s = number(p)?,
            "wifi-connect-ms" => o.wifi_connect_ms = number(p)?,
            "relay-page-size" => o.relay_page_size = number(p)?.max(1) as usize,
            "object-page-size" => o.object_page_size = number(p)?.max(1) as usize,
            "empty-reads" => {
                f.empty_reads =
                    u32::try_from(number(p)?).map_err(|_| "--empty-reads is too large")?;
            }
            "garbage-length" => f.garbage_length = true,
            "slow-ms" => f.slow_ms = number(p)?,
            "wrong-ids" => {
                f.wrong_ids = u32::try_from(number(p)?).map_err(|_| "--wrong-ids is too large")?;
            }
            "disconnect-after" => f.disconnect_after = Some(number(p)? as usize),
            "max-write" => f.max_write = Some(number(p)? as usize),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(clock.map(|clock| {
        Box::new(Config {
            clock,
            mtu,
            options,
            sensors,
            faults,
        })
    }))
}

fn session(config: Config) -> Session<Peripheral> {
    let sensors = config.sensors.into_iter().map(SimSensor::new).collect();
    let peripheral = Peripheral::new(
        Gateway::new(config.options, sensors),
        config.mtu,
        config.faults,
    );
    Session::new(peripheral, config.clock)
}

/// Entry point: `args` are what follows `sim shelly`.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    args::serve_parsed("bluehome sim shelly", USAGE, parse_args(args), |config| {
        line::serve(session(*config), "shelly")
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn answer(s: &mut Session<Peripheral>, line: &str) -> Value {
        serde_json::to_value(s.handle_line(line, 0)).unwrap()
    }

    fn parse(args: &str) -> Result<Parsed<Box<Config>>, String> {
        parse_args(args.split_whitespace().map(OsString::from))
    }

    fn config(args: &str) -> Config {
        match parse(args) {
            Ok(Parsed::Run(c)) => *c,
            Ok(Parsed::Help) => panic!("help"),
            Err(e) => panic!("{e}"),
        }
    }

    fn shelly(args: &str) -> Session<Peripheral> {
        session(config(&format!("--stdio --virtual-clock {args}")))
    }

    #[test]
    fn options_are_checked() {
        assert!(parse("").is_err(), "--stdio is required");
        assert!(parse("--stdio --mtu 22").is_err());
        assert!(parse("--stdio --mtu").is_err(), "a value is needed");
        assert!(parse("--stdio --provisioning sideways").is_err());
        assert!(parse("--stdio --sensors ht,lamp").is_err());
        assert!(parse("--stdio --colour blue").is_err());
        assert!(matches!(parse("--help"), Ok(Parsed::Help)));
        let c = config(
            "--stdio --mtu 23 --provisioning locked --sensors ht+enc --bond AA:BB:CC:DD:EE:FF --empty-reads 2 --garbage-length",
        );
        assert!(!c.options.clock_synced && c.options.add_answer == AddedMember::Added);
        let kinder = config(
            "--stdio --add-answer-key --objects-known-at-once --clock-synced --wifi-steady --report-provisioning --wifi-restart-required --ble-rpc-at-once",
        );
        assert_eq!(kinder.options.add_answer, AddedMember::Key);
        assert!(kinder.options.objects_known_at_once && kinder.options.clock_synced);
        assert!(kinder.options.wifi_steady && kinder.options.report_provisioning);
        assert!(kinder.options.wifi_restart_required && !kinder.options.ble_restart_required);
        assert!(c.options.ble_restart_required && !c.options.firmware_2_auth);
        assert!(config("--stdio --firmware-2-auth").options.firmware_2_auth);
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
        let mut s = session(config("--stdio"));
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
