//! `bluehome replay CAPTURE --rules RULES [--until T]`: runs a capture through the core manager and
//! prints what it did, one JSON line per event, in time order. Formats: README.md, schema/.

mod rules;

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use bluehome_core::Connectable;
use bluehome_core::bthome;
use bluehome_core::capture::{self, MAX_LINE_BYTES, MAX_TIME_MS, seconds};
use bluehome_core::filter::ScanOptions;
use bluehome_core::manager::{Event, Manager, Output};
use bluehome_core::text::{printable, printable_json};
use serde::Serialize;
use serde_json::Value;

pub use self::rules::Rules;
use crate::args::{self, Arg};
use crate::lines::{Line, Lines, is_closed_pipe};

const USAGE: &str = "usage: bluehome replay CAPTURE --rules RULES [--until T]\n\
  CAPTURE  JSON Lines (the decode input plus \"time\", \"source\", \"connectable\"); - for stdin\n\
  RULES    JSON file: callbacks, track_unavailable, scan_requests, bindkeys\n\
  --until  run the clock to T (seconds) instead of the last line's time";

/// A problem that stops the replay.
#[derive(Debug)]
pub enum ReplayError {
    /// A file could not be read or the output not written.
    Io(String),
    /// The rules file is wrong; the message names the field.
    Rules(String),
    /// A capture line is wrong; the message names the line and field.
    Capture { line: usize, message: String },
    /// The reader of the output went away (`bluehome replay … | head`).
    ClosedPipe,
}

/// The error for a failed write of the output.
fn write_error(e: io::Error) -> ReplayError {
    if is_closed_pipe(&e) {
        ReplayError::ClosedPipe
    } else {
        ReplayError::Io(format!("writing output: {e}"))
    }
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(m) => f.write_str(m),
            // These quote the files (a field name is the file's key): shown, never sent to the
            // terminal as they are.
            Self::Rules(m) => write!(f, "rules: {}", printable(m)),
            Self::Capture { line, message } => {
                write!(f, "capture line {line}: {}", printable(message))
            }
            Self::ClosedPipe => f.write_str("the output was closed"),
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    /// `-h` / `--help`.
    Help,
    /// A replay.
    Run {
        capture: OsString,
        rules: OsString,
        until: Option<u64>,
    },
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut parser = args::parser(args);
    let (mut capture, mut rules, mut until) = (None, None, None);
    while let Some(arg) = args::next(&mut parser)? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
            Arg::Long("rules") => rules = Some(parser.value().map_err(|e| e.to_string())?),
            Arg::Long("until") => {
                let text = args::text(&mut parser)?;
                let ms = text
                    .parse::<f64>()
                    .ok()
                    .filter(|t| (0.0..=(MAX_TIME_MS / 1000) as f64).contains(t))
                    .map(to_ms)
                    .ok_or_else(|| {
                        format!(
                            "--until {text:?} is not a time in seconds (0 to {})",
                            MAX_TIME_MS / 1000
                        )
                    })?;
                until = Some(ms);
            }
            Arg::Value(file) if capture.is_none() => capture = Some(file),
            other => return Err(args::unexpected(other)),
        }
    }
    Ok(Command::Run {
        capture: capture.ok_or("CAPTURE is missing")?,
        rules: rules.ok_or("--rules is missing")?,
        until,
    })
}

/// Entry point from `main`.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let (capture, rules, until) = match parse_args(args) {
        Ok(Command::Run {
            capture,
            rules,
            until,
        }) => (capture, rules, until),
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bluehome replay: {e}\n\n{USAGE}");
            return ExitCode::from(args::USAGE_ERROR);
        }
    };
    match run_files(&capture, &rules, until) {
        // Stop quietly when the reader went away, as Unix tools do.
        Ok(()) | Err(ReplayError::ClosedPipe) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bluehome replay: {e}");
            ExitCode::from(1)
        }
    }
}

fn run_files(capture: &OsStr, rules: &OsStr, until: Option<u64>) -> Result<(), ReplayError> {
    let rules_path = Path::new(rules);
    let rules_text = std::fs::read_to_string(rules_path)
        .map_err(|e| ReplayError::Io(format!("{}: {e}", rules_path.display())))?;
    let rules = Rules::parse(&rules_text)?;
    let input: Box<dyn BufRead> = if capture == "-" {
        Box::new(BufReader::new(io::stdin().lock()))
    } else {
        let path = Path::new(capture);
        let file =
            File::open(path).map_err(|e| ReplayError::Io(format!("{}: {e}", path.display())))?;
        Box::new(BufReader::new(file))
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    replay(input, &rules, until, &mut out)?;
    out.flush().map_err(write_error)
}

// ----- output --------------------------------------------------------------------------------

/// Output categories, in their order at equal `t`.
const READING: u8 = 0;
const CALLBACK: u8 = 1;
const DELIVERY: u8 = 2;
const TIMER: u8 = 3;

/// One output line waiting for its turn: sorted by (time, category, rule order, arrival).
struct Pending {
    at_ms: u64,
    category: u8,
    order: usize,
    seq: u64,
    json: String,
}

#[derive(Serialize)]
struct CallbackLine<'a> {
    t: Value,
    event: &'static str,
    name: &'a str,
    address: &'a str,
}

#[derive(Serialize)]
struct AddressLine<'a> {
    t: Value,
    event: &'static str,
    address: &'a str,
}

#[derive(Serialize)]
struct ReadingLine<'a> {
    t: Value,
    event: &'static str,
    address: &'a str,
    objects: &'a [bthome::Object],
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<&'a bthome::Error>,
}

#[derive(Serialize)]
struct ScanLine {
    t: Value,
    event: &'static str,
    options: Option<ScanOptions>,
}

#[derive(Serialize)]
struct DeliveryLine<'a> {
    t: Value,
    event: &'static str,
    client: &'a str,
    address: &'a str,
}

struct Replayer<'r, W: Write> {
    rules: &'r Rules,
    mgr: Manager,
    callback_ids: HashMap<u64, usize>,
    tracker_ids: HashMap<u64, usize>,
    pending: Vec<Pending>,
    seq: u64,
    out: W,
}

impl<W: Write> Replayer<'_, W> {
    fn push(&mut self, at_ms: u64, category: u8, order: usize, json: String) {
        self.seq += 1;
        self.pending.push(Pending {
            at_ms,
            category,
            order,
            seq: self.seq,
            json,
        });
    }

    fn collect(&mut self) -> Result<(), ReplayError> {
        let outputs: Vec<Output> = self.mgr.drain().collect();
        for Output { at_ms, event } in outputs {
            let t = seconds(at_ms);
            let (category, order, json) = match event {
                Event::Callback { id, info } => {
                    let Some(&i) = self.callback_ids.get(&id.0) else {
                        continue;
                    };
                    let name = self.rules.callbacks.get(i).map_or("", |c| c.0.as_str());
                    let line = CallbackLine {
                        t,
                        event: "callback",
                        name,
                        address: info.key.as_str(),
                    };
                    (CALLBACK, i, to_json(&line)?)
                }
                Event::Unavailable { id, info } => {
                    let Some(&i) = self.tracker_ids.get(&id.0) else {
                        continue;
                    };
                    let line = AddressLine {
                        t,
                        event: "unavailable",
                        address: info.key.as_str(),
                    };
                    // Scan changes sort before unavailability at the same time.
                    (TIMER, i + 1, to_json(&line)?)
                }
                Event::Reading { key, packet, .. } => {
                    let line = ReadingLine {
                        t,
                        event: "reading",
                        address: key.as_str(),
                        objects: &packet.objects,
                        verdict: packet.error.as_ref(),
                    };
                    (READING, 0, to_json(&line)?)
                }
                Event::ScanChanged { options } => {
                    let line = ScanLine {
                        t,
                        event: "scan",
                        options,
                    };
                    (TIMER, 0, to_json(&line)?)
                }
                Event::Delivery { client, info } => {
                    let order = self
                        .rules
                        .scan_requests
                        .iter()
                        .position(|(c, _)| **c == *client)
                        .unwrap_or(usize::MAX);
                    let line = DeliveryLine {
                        t,
                        event: "delivery",
                        client: &client,
                        address: info.key.as_str(),
                    };
                    (DELIVERY, order, to_json(&line)?)
                }
                _ => continue,
            };
            self.push(at_ms, category, order, json);
        }
        Ok(())
    }

    /// Writes every pending line whose time is before `before_ms` (all when `None`).
    fn flush(&mut self, before_ms: Option<u64>) -> Result<(), ReplayError> {
        self.pending
            .sort_by_key(|p| (p.at_ms, p.category, p.order, p.seq));
        let cut = match before_ms {
            Some(b) => self.pending.partition_point(|p| p.at_ms < b),
            None => self.pending.len(),
        };
        for p in self.pending.drain(..cut) {
            writeln!(self.out, "{}", p.json).map_err(write_error)?;
        }
        Ok(())
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ReplayError> {
    serde_json::to_string(value)
        .map(|json| printable_json(&json).into_owned())
        .map_err(|e| ReplayError::Io(format!("serializing: {e}")))
}

fn to_ms(seconds: f64) -> u64 {
    (seconds * 1000.0).round() as u64
}

/// The capture error for line `line`, with the events before it written first.
fn bad_line<W: Write>(
    r: &mut Replayer<'_, W>,
    line: usize,
    message: impl ToString,
) -> Result<(), ReplayError> {
    r.flush(None)?;
    Err(ReplayError::Capture {
        line,
        message: message.to_string(),
    })
}

/// Runs the capture through a fresh manager set up from the rules, writing JSON lines to `out`.
/// `until` (ms) runs the clock to that time instead of the last line's.
pub fn replay(
    input: impl BufRead,
    rules: &Rules,
    until: Option<u64>,
    out: impl Write,
) -> Result<(), ReplayError> {
    let mut r = Replayer {
        rules,
        mgr: Manager::default(),
        callback_ids: HashMap::new(),
        tracker_ids: HashMap::new(),
        pending: Vec::new(),
        seq: 0,
        out,
    };
    let mut started = false;
    let mut last_ms: Option<u64> = None;
    let mut lines = Lines::new(input, MAX_LINE_BYTES);
    while let Some((number, line)) = lines
        .next_line()
        .map_err(|e| ReplayError::Io(format!("reading capture: {e}")))?
    {
        let text = match line {
            Line::Text(text) => text,
            Line::TooLong { bytes } => {
                return bad_line(&mut r, number, capture::Error::LineTooLong { bytes });
            }
            Line::NotUtf8 { offset } => {
                let message = format!("not UTF-8 text (byte {} is not)", offset + 1);
                return bad_line(&mut r, number, message);
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let record = match capture::parse_line(text) {
            Ok(record) => record,
            // A line after `--until` is not read: only its time, to know that it is after.
            Err(_)
                if until.is_some_and(|u| capture::leading_time_ms(text).is_some_and(|t| t > u)) =>
            {
                break;
            }
            Err(e) => return bad_line(&mut r, number, e),
        };
        let Some(now) = record.time_ms else {
            return bad_line(&mut r, number, "time: required field is missing");
        };
        if let Some(prev) = last_ms
            && now < prev
        {
            let message = format!(
                "time goes backwards ({} after {})",
                seconds(now),
                seconds(prev)
            );
            return bad_line(&mut r, number, message);
        }
        if until.is_some_and(|u| now > u) {
            break;
        }
        last_ms = Some(now);
        if !started {
            started = true;
            start(&mut r, now);
        }
        if let Some(key) = record.bindkey {
            r.mgr.set_bindkey(&record.key, Some(key));
        }
        let source = record.source.as_deref().unwrap_or("local");
        let connectable = Connectable::from(record.connectable.unwrap_or(true));
        r.mgr
            .ingest(now, source, &record.key, connectable, record.advertisement);
        r.collect()?;
        r.flush(Some(now))?;
    }
    if let Some(end) = until.or(last_ms)
        && started
    {
        r.mgr.advance(end);
        r.collect()?;
    }
    r.flush(None)
}

/// Sets the manager up from the rules at the first line's time.
fn start<W: Write>(r: &mut Replayer<'_, W>, now: u64) {
    for (address, key) in &r.rules.bindkeys {
        r.mgr.set_bindkey(address, Some(*key));
    }
    for (i, (_, matcher)) in r.rules.callbacks.iter().enumerate() {
        let id = r.mgr.register_callback(now, matcher.clone());
        r.callback_ids.insert(id.0, i);
    }
    for (i, (address, history)) in r.rules.track_unavailable.iter().enumerate() {
        let id = r.mgr.track_unavailable(address, *history);
        r.tracker_ids.insert(id.0, i);
    }
    let requests = r.rules.scan_requests.iter();
    r.mgr
        .submit_scans(now, requests.map(|(c, o)| (c.as_str(), o.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_text(capture: &str, rules: &str, until: Option<u64>) -> Result<String, ReplayError> {
        let rules = Rules::parse(rules)?;
        let mut out = Vec::new();
        replay(capture.as_bytes(), &rules, until, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn time_going_backwards_is_an_error_with_the_line() {
        let capture = "{\"time\":2,\"address\":\"AA:BB:CC:DD:EE:FF\"}\n{\"time\":1,\"address\":\"AA:BB:CC:DD:EE:FF\"}\n";
        match run_text(capture, "{}", None) {
            Err(ReplayError::Capture { line: 2, message }) => {
                assert!(message.contains("backwards"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rules_errors_name_the_field() {
        let err = Rules::parse(r#"{"callbacks":[{"name":"x","matcher":{"local_name":"*x"}}]}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains("callbacks[0].matcher.local_name"),
            "{err}"
        );
        let err = Rules::parse(r#"{"scan_requests":[{"client":"a","rssi":1}]}"#).unwrap_err();
        assert!(err.to_string().contains("scan_requests[0].rssi"), "{err}");
        let err = Rules::parse(r#"{"bindkeys":{"AA:BB:CC:DD:EE:FF":"00"}}"#).unwrap_err();
        assert!(
            err.to_string().contains("bindkeys.AA:BB:CC:DD:EE:FF"),
            "{err}"
        );
    }

    #[test]
    fn capture_errors_name_line_and_field() {
        let err = run_text(
            "{\"time\":1,\"address\":\"x\",\"rssi\":\"loud\"}\n",
            "{}",
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("capture line 1: rssi"), "{err}");
        let err = run_text("{\"address\":\"x\"}\n", "{}", None).unwrap_err();
        assert!(err.to_string().contains("time"), "{err}");
    }

    #[test]
    fn events_before_a_bad_line_are_still_written() {
        let rules = Rules::parse(r#"{"callbacks":[{"name":"all","matcher":{}}]}"#).unwrap();
        let capture = "{\"time\":1,\"address\":\"AA:BB:CC:DD:EE:FF\"}\nnot json\n";
        let mut out = Vec::new();
        let err = replay(capture.as_bytes(), &rules, None, &mut out).unwrap_err();
        assert!(matches!(err, ReplayError::Capture { line: 2, .. }));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"t\":1,\"event\":\"callback\",\"name\":\"all\",\"address\":\"AA:BB:CC:DD:EE:FF\"}\n"
        );
    }

    #[test]
    fn seconds_print_as_integers_when_whole() {
        assert_eq!(seconds(5000).to_string(), "5");
        assert_eq!(seconds(5250).to_string(), "5.25");
    }

    #[test]
    fn until_before_a_line_stops_there() {
        let capture = "{\"time\":1,\"address\":\"AA:BB:CC:DD:EE:FF\"}\n{\"time\":9,\"address\":\"AA:BB:CC:DD:EE:01\"}\n";
        let out = run_text(
            capture,
            r#"{"callbacks":[{"name":"all","matcher":{}}]}"#,
            Some(5_000),
        )
        .unwrap();
        assert_eq!(
            out,
            "{\"t\":1,\"event\":\"callback\",\"name\":\"all\",\"address\":\"AA:BB:CC:DD:EE:FF\"}\n"
        );
    }

    /// Replay said "stream did not contain valid UTF-8" without the line the README promises.
    #[test]
    fn a_line_that_is_not_utf8_is_named() {
        let mut capture = b"{\"time\":1,\"address\":\"AA:BB:CC:DD:EE:FF\"}\n".to_vec();
        capture.extend_from_slice(b"{\"time\":2,\"address\":\"\xc3\x28\"}\n");
        let rules = Rules::parse("{}").unwrap();
        let err = replay(capture.as_slice(), &rules, None, Vec::new()).unwrap_err();
        assert!(
            matches!(&err, ReplayError::Capture { line: 2, message } if message.contains("UTF-8")),
            "{err}"
        );
    }

    /// 1.8e16 s and 1e300 s saturated to u64::MAX ms and overflowed the manager's deadlines.
    #[test]
    fn times_beyond_the_clock_are_refused_with_the_line() {
        for time in ["1.8e16", "1e300"] {
            let capture = format!(
                "{{\"time\":1,\"address\":\"AA:BB:CC:DD:EE:FF\"}}\n{{\"time\":{time},\"address\":\"AA:BB:CC:DD:EE:FF\"}}\n"
            );
            let err = run_text(
                &capture,
                r#"{"track_unavailable":[{"address":"AA:BB:CC:DD:EE:FF"}]}"#,
                None,
            )
            .unwrap_err()
            .to_string();
            assert!(err.starts_with("capture line 2: time: "), "{err}");
        }
    }

    /// One 100 MB line took 1.78 GB to replay; it is now refused by its length.
    #[test]
    fn an_overlong_line_is_refused_with_the_cap() {
        let capture = format!(
            "{{\"time\":1,\"address\":\"x\",\"local_name\":\"{}\"}}\n",
            "a".repeat(1_000_000)
        );
        let err = run_text(&capture, "{}", None).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "capture line 1: the line is 1000040 bytes; a capture line is at most 8192"
            ),
            "{err}"
        );
    }

    /// A closed output is not an error worth a message (`bluehome replay … | head`).
    #[test]
    fn a_closed_output_stops_quietly() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let rules = Rules::parse(r#"{"callbacks":[{"name":"all","matcher":{}}]}"#).unwrap();
        let capture = "{\"time\":1,\"address\":\"AA:BB:CC:DD:EE:FF\"}\n";
        let err = replay(capture.as_bytes(), &rules, None, Closed).unwrap_err();
        assert!(matches!(err, ReplayError::ClosedPipe));
    }

    /// A field name is the capture's own key: an escape sequence there reached the terminal.
    #[test]
    fn errors_show_the_files_words_escaped() {
        let capture = "{\"time\":1,\"address\":\"x\",\"service_data\":{\"\\u001b]0;x\":\"00\"}}\n";
        let err = run_text(capture, "{}", None).unwrap_err().to_string();
        assert!(!err.contains('\u{1b}'), "{err:?}");
        assert!(err.contains("service_data.\\u{1b}]0;x"), "{err}");
    }
}
