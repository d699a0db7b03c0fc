//! `bluehome`: the native command line of bluehome. See this crate's README for the formats.

use std::process::ExitCode;

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
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        None | Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("decode") => {
            let rest: Vec<String> = args.collect();
            match decode::run(&rest) {
                Ok(code) => ExitCode::from(code),
                // The reader went away (`bluehome decode | head`): stop quietly, as Unix tools do.
                Err(e) if lines::is_closed_pipe(&e) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bluehome decode: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Some("replay") => replay::run(args),
        Some("sim") => sim::run(args),
        Some(other) => {
            eprintln!("bluehome: unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
