//! The IO of the line protocol every `bluehome sim <device> --stdio` speaks (the protocol itself
//! is `bluehome_core::sim::line`): requests read from stdin one line at a time with bounded
//! memory, one answer written and flushed per request, the real clock when there is no virtual
//! one. See the README.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use bluehome_core::sim::line::{self, Clock, Device, Session};

use crate::args::{self, Arg, Parsed};
use crate::lines::{Line, Lines};

/// Reads a simulator's command line. The options every simulator takes are read here: `--stdio`
/// (required: the only mode) and `--virtual-clock`, returned as the [`Clock`]. Every other long
/// option goes to `option` with the parser (to take its value); `Ok(false)` from it means the
/// simulator does not know the option.
pub fn parse_options(
    args: impl IntoIterator<Item = OsString>,
    mut option: impl FnMut(&str, &mut args::Parser) -> Result<bool, String>,
) -> Result<Parsed<Clock>, String> {
    let mut parser = args::parser(args);
    let (mut stdio, mut clock) = (false, Clock::Caller);
    while let Some(arg) = args::next(&mut parser)? {
        let Some(name) = args::long_option(arg)? else {
            return Ok(Parsed::Help);
        };
        match name.as_str() {
            "stdio" => stdio = true,
            "virtual-clock" => clock = Clock::Virtual,
            _ if option(&name, &mut parser)? => {}
            _ => return Err(args::unexpected(Arg::Long(&name))),
        }
    }
    if !stdio {
        return Err("only --stdio mode exists: pass --stdio".into());
    }
    Ok(Parsed::Run(clock))
}

/// Answers stdin line by line until it ends. A line that is not UTF-8 or too long gets its error
/// answer like any malformed request; only the end of the input (status 0) or a failure to read
/// it (status 1) ends the session.
pub fn serve<D: Device>(mut session: Session<D>, name: &str) -> ExitCode {
    let started = Instant::now();
    let stdin = std::io::stdin();
    let mut lines = Lines::new(stdin.lock(), line::MAX_LINE_BYTES);
    let mut stdout = std::io::stdout().lock();
    loop {
        let answer = match lines.next_line() {
            Ok(None) => return ExitCode::SUCCESS,
            Ok(Some((_, Line::Text(text)))) if text.trim().is_empty() => continue,
            Ok(Some((_, Line::Text(text)))) => {
                let now = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                session.handle_line(text, now)
            }
            Ok(Some((_, Line::TooLong { bytes }))) => line::too_long(bytes),
            Ok(Some((_, Line::NotUtf8 { offset }))) => line::not_utf8(offset),
            Err(e) => {
                eprintln!("bluehome sim {name}: reading stdin: {e}");
                return ExitCode::from(1);
            }
        };
        if writeln!(stdout, "{}", answer.to_line())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return ExitCode::SUCCESS; // the reader went away
        }
    }
}
