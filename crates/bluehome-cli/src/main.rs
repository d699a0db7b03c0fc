//! `bluehome`: the native command line of bluehome. See this crate's README for the formats.

use std::process::ExitCode;

const USAGE: &str = "\
usage: bluehome <command> [args]

commands:
  decode [ARG...]      decode advertisements (JSON Lines on stdin, or fcd2:HEX / mfr:ID:HEX / ad:HEX)
  help                 this text

See crates/bluehome-cli/README.md for the input and output formats.";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        None | Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("bluehome: unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
