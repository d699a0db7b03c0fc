//! `bluehome sim blu --stdio [--model CODE]`: a simulated Shelly BLU device's settings service
//! (`bluehome_core::sim::blu`) on the line protocol.

use std::ffi::OsString;
use std::process::ExitCode;

use bluehome_core::MacAddress;
use bluehome_core::blu::{self, Characteristic};
use bluehome_core::sim::blu::{BluDevice, BluOptions};
use bluehome_core::sim::line::{Clock, Session};

use super::line;
use crate::args::{self, Parsed};

fn usage() -> String {
    let models: Vec<String> = blu::MODELS
        .iter()
        .map(|m| {
            let name = m.model().map_or("", |m| m.name);
            format!("           {:<12} {name}", m.code())
        })
        .collect();
    format!(
        "\
usage: bluehome sim blu --stdio [--virtual-clock] [--model CODE] [options]

--model CODE  the BLU model to simulate (default SBBT-002C), one of:
{}
options: --mac AA:BB:CC:DD:EE:FF  --firmware TEXT  --bond ADDR (repeatable)  --beacon
         --undocumented (also sample_bthome, and angle_threshold on SBDW-002C)
         --without CHAR (repeatable: leave a characteristic out)",
        models.join("\n")
    )
}

/// Everything the command line sets.
#[derive(Debug)]
struct Config {
    clock: Clock,
    options: BluOptions,
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Parsed<Config>, String> {
    let mut model = blu::model_by_code("SBBT-002C").ok_or("the default model is missing")?;
    let mut mac = None;
    let mut options = BluOptions::new(model);
    let clock = line::parse_options(args, |name, p| {
        match name {
            "model" => {
                let code = args::text(p)?;
                model = blu::model_by_code(&code).ok_or_else(|| {
                    format!("--model: {code:?} is not a BLU model with documented settings")
                })?;
            }
            "mac" => {
                let text = args::text(p)?;
                mac = Some(
                    text.parse::<MacAddress>()
                        .map_err(|e| format!("--mac: {e}"))?,
                );
            }
            "firmware" => options.firmware = args::text(p)?,
            "bond" => options.bonds.push(args::text(p)?),
            "beacon" => options.beacon = true,
            "undocumented" => options.undocumented = true,
            "without" => {
                let name = args::text(p)?;
                options.without.push(
                    name.parse::<Characteristic>()
                        .map_err(|_| format!("--without: unknown characteristic {name:?}"))?,
                );
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    options.model = model;
    options.mac = mac.unwrap_or(BluOptions::new(model).mac);
    Ok(clock.map(|clock| Config { clock, options }))
}

/// Entry point: `args` are what follows `sim blu`.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    args::serve_parsed("bluehome sim blu", &usage(), parse_args(args), |config| {
        let device = BluDevice::new(config.options);
        line::serve(Session::new(device, config.clock), "blu")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<Parsed<Config>, String> {
        parse_args(args.split_whitespace().map(OsString::from))
    }

    fn config(args: &str) -> Config {
        match parse(args) {
            Ok(Parsed::Run(c)) => c,
            Ok(Parsed::Help) => panic!("help"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn options_are_checked() {
        assert!(parse("").is_err(), "--stdio is required");
        assert!(
            parse("--stdio --model SBTR-001AEU").is_err(),
            "no settings page"
        );
        assert!(parse("--stdio --without pin").is_err());
        assert!(parse("--stdio --mac nope").is_err());
        assert!(matches!(parse("--help"), Ok(Parsed::Help)));
        let c = config("--stdio --model sbmo-003z --bond AA:BB:CC:DD:EE:FF --without motion_led");
        assert_eq!(c.options.model.id, 0x0005);
        assert_eq!(c.options.mac, BluOptions::new(c.options.model).mac);
        assert_eq!(c.options.bonds, ["AA:BB:CC:DD:EE:FF"]);
        assert_eq!(c.options.without, [Characteristic::MotionLed]);
        let c = config("--stdio --mac 11:22:33:44:55:66 --model SBHT-003C");
        assert_eq!(c.options.mac.to_string(), "11:22:33:44:55:66");
    }

    #[test]
    fn help_lists_every_accepted_model() {
        let text = usage();
        for m in &blu::MODELS {
            assert!(text.contains(m.code()), "{}", m.code());
        }
    }

    #[test]
    fn a_refused_connection_says_why() {
        let mut s = Session::new(BluDevice::new(config("--stdio").options), Clock::Virtual);
        let answer = serde_json::to_value(s.handle_line(r#"{"op":"connect"}"#, 0)).unwrap();
        assert_eq!(answer["error"], "disconnected");
        assert!(answer["detail"].as_str().unwrap().contains("pairing mode"));
    }
}
