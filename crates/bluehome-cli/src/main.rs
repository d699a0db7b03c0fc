//! `bluehome`: the native command line of bluehome. See this crate's README for the formats.

// As in the core: no input (a line, a file, an argument) can panic the command.
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]
#![cfg_attr(not(test), deny(clippy::panic))]

use std::ffi::OsString;
use std::process::ExitCode;

use args::Arg;

mod args;
mod decode;
mod lines;
mod replay;
mod sim;

const USAGE: &str = "\
usage: bluehome <command> [args]

commands:
  decode [ARG...]      decode advertisements (JSON Lines on stdin, or fcd2:HEX / mfr:ID:HEX / ad:HEX)
  replay CAPTURE --rules RULES [--until T]
                       run a capture through the manager: callbacks, readings, unavailability,
                       scan changes and deliveries as JSON Lines
  sim shelly --stdio [--virtual-clock] [--mtu N] [options]
                       a simulated Shelly BLU Gateway Gen3's GATT server on stdin/stdout,
                       one JSON request per line, one JSON answer per line
  sim blu --stdio [--virtual-clock] [--model CODE] [options]
                       a simulated Shelly BLU sensor's settings service (encryption, bonding,
                       beacon mode, per-model settings); `sim blu --help` lists the models
  sim improv --stdio [--virtual-clock] [options]
                       a simulated Improv Wi-Fi device (authorization, provisioning)
  help                 this text

See crates/bluehome-cli/README.md for the input and output formats.";

fn main() -> ExitCode {
    let mut parser = lexopt::Parser::from_env();
    let command = match args::next(&mut parser) {
        Ok(None | Some(Arg::Short('h') | Arg::Long("help"))) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Some(Arg::Value(command))) => command,
        Ok(Some(other)) => return usage_error(&args::unexpected(other)),
        Err(e) => return usage_error(&e),
    };
    // What follows the command is the command's to read.
    let rest: Vec<OsString> = parser.raw_args().map(Iterator::collect).unwrap_or_default();
    match command.to_str() {
        Some("help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("decode") => match decode::run(rest) {
            Ok(code) => ExitCode::from(code),
            // The reader went away (`bluehome decode | head`): stop quietly, as Unix tools do.
            Err(e) if lines::is_closed_pipe(&e) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bluehome decode: {e}");
                ExitCode::from(1)
            }
        },
        Some("replay") => replay::run(rest),
        Some("sim") => sim::run(rest),
        _ => usage_error(&format!("unknown command {command:?}")),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("bluehome: {message}\n\n{USAGE}");
    ExitCode::from(args::USAGE_ERROR)
}
