//! `bluehome sim <device> --stdio`: simulated devices on stdin and stdout, one JSON request per
//! line, one JSON answer per line ([`line`](mod@line)). [`shelly`] is a Shelly BLU Gateway Gen3's GATT RPC
//! server; [`blu`] a Shelly BLU sensor's settings service; [`improv`] an Improv Wi-Fi device.
//! See the README for the protocol.

mod blu;
mod improv;
mod line;
mod shelly;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::args::{self, Arg};

const USAGE: &str = "\
usage: bluehome sim shelly|blu|improv --stdio [--virtual-clock] [options]
`bluehome sim <device> --help` lists a device's options.";

/// Entry point: `args` are what follows `sim`.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut parser = args::parser(args);
    let device = match args::next(&mut parser) {
        Ok(Some(Arg::Short('h') | Arg::Long("help"))) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Some(Arg::Value(device))) => device,
        Ok(None) => return usage_error("missing device (`shelly`, `blu` or `improv`)"),
        Ok(Some(other)) => return usage_error(&args::unexpected(other)),
        Err(e) => return usage_error(&e),
    };
    let rest: Vec<OsString> = parser.raw_args().map(Iterator::collect).unwrap_or_default();
    match device.to_str() {
        Some("shelly") => shelly::run(rest),
        Some("blu") => blu::run(rest),
        Some("improv") => improv::run(rest),
        _ => usage_error(&format!(
            "unknown device {device:?} (`shelly`, `blu` or `improv`)"
        )),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("bluehome sim: {message}\n\n{USAGE}");
    ExitCode::from(args::USAGE_ERROR)
}
