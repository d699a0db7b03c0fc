//! The IO of the line protocol every `bluehome sim <device> --stdio` speaks (the protocol itself
//! is `bluehome_core::sim::line`): requests read from stdin one line at a time with bounded
//! memory, one answer written and flushed per request, the real clock when there is no virtual
//! one. See the README.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use bluehome_core::sim::line::{self, Clock, Device, Session};

use crate::lines::{Line, Lines};

/// The clock of `--virtual-clock`.
pub fn clock(virtual_clock: bool) -> Clock {
    if virtual_clock {
        Clock::Virtual
    } else {
        Clock::Caller
    }
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

/// The value of a command-line option that takes a number.
pub fn number(name: &str, text: Option<String>) -> Result<u64, String> {
    let text = text.ok_or_else(|| format!("{name} needs a value"))?;
    text.parse::<u64>()
        .map_err(|_| format!("{name}: {text:?} is not a non-negative integer"))
}
