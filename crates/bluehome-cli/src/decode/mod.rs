//! `bluehome decode`: advertisements in (JSON Lines on stdin, or arguments), decoded BTHome and
//! Shelly data out. Formats: crates/bluehome-cli/README.md and schema/decode-*.schema.json.
//!
//! Decoding is stateless per line (no packet-id de-duplication, replay or downgrade checks).

use std::borrow::Cow;
use std::cell::Cell;
use std::ffi::OsString;
use std::io::{self, BufRead, IsTerminal, Write};

use bluehome_core::advertisement::{parse_company_id, parse_company_id_decimal};
use bluehome_core::bthome::{self, Packet};
use bluehome_core::capture::{MAX_DATA_BYTES, MAX_LINE_BYTES};
use bluehome_core::hex;
use bluehome_core::shelly::manufacturer::{self, ManufacturerData};
use bluehome_core::shelly::{BEACON_COMPANY_ID, COMPANY_ID};
use bluehome_core::text::printable_json;
use bluehome_core::{Advertisement, BindKey, MacAddress, Uuid};
use serde::Serialize;
use serde::de::DeserializeSeed;
use serde::ser::{SerializeMap, Serializer};

use crate::args::{self, Arg};
use crate::lines::{Line, Lines};

mod input;
mod table;

use self::input::{Input, InputSeed};
use self::table::Table;

const USAGE: &str = "\
usage: bluehome decode                       JSON Lines on stdin, one JSON line out per line
       bluehome decode [--key HEX] [--mac MAC] ARG...
ARG:   fcd2:HEX | 181c:HEX | 181e:HEX | <uuid>:HEX   service data (bytes after the UUID)
       mfr:ID:HEX                                 manufacturer data, company ID in decimal
                                                  (or 0x…), HEX without the company-id bytes
       ad:HEX                                     raw advertising data (AD structures)
All ARGs together form one advertisement. A table is printed when stdout is a terminal.";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    /// JSON Lines on stdin (no arguments).
    Stream,
    /// `-h` / `--help`.
    Help,
    /// One advertisement from the arguments.
    One {
        key: Option<String>,
        mac: Option<String>,
        parts: Vec<String>,
    },
}

/// Reads the command line; an error names the input field it concerns, for the error line.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, (&'static str, String)> {
    let mut parser = args::parser(args);
    let (mut key, mut mac, mut parts) = (None, None, Vec::new());
    while let Some(arg) = args::next(&mut parser).map_err(|e| ("argument", e))? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
            Arg::Long("key") => key = Some(args::text(&mut parser).map_err(|e| ("bindkey", e))?),
            Arg::Long("mac") => mac = Some(args::text(&mut parser).map_err(|e| ("mac", e))?),
            Arg::Value(part) => parts.push(args::positional(part).map_err(|e| ("argument", e))?),
            other => return Err(("argument", args::unexpected(other))),
        }
    }
    if key.is_none() && mac.is_none() && parts.is_empty() {
        Ok(Command::Stream)
    } else {
        Ok(Command::One { key, mac, parts })
    }
}

/// Runs the subcommand; `Ok(code)` is the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> io::Result<u8> {
    let (key, mac, parts) = match parse_args(args) {
        Ok(Command::Stream) => {
            let stdin = io::stdin().lock();
            let stdout = io::stdout().lock();
            decode_stream(stdin, io::BufWriter::with_capacity(1 << 16, stdout))?;
            return Ok(0);
        }
        Ok(Command::Help) => {
            println!("{USAGE}");
            return Ok(0);
        }
        Ok(Command::One { key, mac, parts }) => (key, mac, parts),
        Err(problem) => return usage_error(problem),
    };
    let mut input = Input {
        bindkey: key.map(Cow::Owned),
        mac: mac.map(Cow::Owned),
        ..Input::default()
    };
    for part in &parts {
        match add_argument(&mut input, part) {
            Ok(()) => {}
            Err(BadArgument::Form(message)) => return usage_error(("argument", message)),
            Err(BadArgument::Value(field, message)) => return argument_error((field, message)),
        }
    }
    let record = match input.decode() {
        Ok(record) => record,
        Err(problem) => return argument_error(problem),
    };
    let mut out = io::stdout().lock();
    if out.is_terminal() {
        write!(out, "{}", Table(&record))?;
    } else {
        write_json(&mut out, &record)?;
        writeln!(out)?;
    }
    Ok(0)
}

/// An argument of a known form (or the value of `--key` / `--mac`) that cannot be read: the error
/// line on stdout (on a terminal, `error in FIELD: MESSAGE`), nothing on stderr; exit status 1.
fn argument_error((field, message): (&'static str, String)) -> io::Result<u8> {
    let mut out = io::stdout().lock();
    if out.is_terminal() {
        writeln!(out, "error in {field}: {message}")?;
    } else {
        error_line(&mut out, field, message)?;
    }
    Ok(1)
}

/// A bad command line: the message and the usage on stderr, the error line on stdout (also on a
/// terminal); exit status 2.
fn usage_error((field, message): (&'static str, String)) -> io::Result<u8> {
    eprintln!("bluehome decode: {message}\n\n{USAGE}");
    error_line(&mut io::stdout().lock(), field, message)?;
    Ok(args::USAGE_ERROR)
}

/// The `invalid_field` error line of the arguments (line 1).
fn error_line(out: &mut impl Write, field: &'static str, message: String) -> io::Result<()> {
    let err = LineError {
        line: 1,
        kind: "invalid_field",
        field: Some(field),
        message,
    };
    write_json(&mut *out, &err)?;
    writeln!(out)
}

/// What is wrong with a positional argument.
enum BadArgument {
    /// It has no known form (no `:`): a bad command line.
    Form(String),
    /// Its form is known (by what comes before its first `:`) but its value cannot be read: the
    /// field it concerns, and why.
    Value(&'static str, String),
}

/// Adds one positional argument (`UUID:HEX`, `mfr:ID:HEX`, `ad:HEX`) to the advertisement. Hex is
/// read later, with the rest of the advertisement.
fn add_argument<'a>(input: &mut Input<'a>, arg: &'a str) -> Result<(), BadArgument> {
    let (kind, rest) = arg.split_once(':').ok_or_else(|| {
        BadArgument::Form(format!("{arg:?} is not UUID:HEX, mfr:ID:HEX or ad:HEX"))
    })?;
    match kind.to_ascii_lowercase().as_str() {
        "mfr" => {
            let bad = |message| BadArgument::Value("manufacturer_data", message);
            let (id, hex) = rest
                .split_once(':')
                .ok_or_else(|| bad(format!("{arg:?}: expected mfr:ID:HEX")))?;
            let id = parse_company_id(id)
                .map_err(|_| bad(format!("{id:?} is not a company id (0..65535)")))?;
            input
                .manufacturer_data
                .push((Cow::Owned(id.to_string()), Cow::Borrowed(hex)));
        }
        // Several payloads are one, in order (AD structures delimit themselves).
        "ad" => {
            input.ad = Some(match input.ad.take() {
                Some(before) => Cow::Owned(format!("{before}{rest}")),
                None => Cow::Borrowed(rest),
            });
        }
        _ => input
            .service_data
            .push((Cow::Borrowed(kind), Cow::Borrowed(rest))),
    }
    Ok(())
}

/// Reads JSON Lines from `reader`, writes one JSON line per input line to `out`. A line longer than
/// [`MAX_LINE_BYTES`] or not UTF-8 gets its error line like any other bad line, and reading goes on.
pub fn decode_stream(reader: impl BufRead, mut out: impl Write) -> io::Result<()> {
    let mut lines = Lines::new(reader, MAX_LINE_BYTES);
    while let Some((number, line)) = lines.next_line()? {
        match line {
            Line::Text(text) => decode_line(number, text, &mut out)?,
            Line::TooLong { bytes } => {
                let error = LineError {
                    line: number,
                    kind: "too_long",
                    field: None,
                    message: format!(
                        "the line is {bytes} bytes; an input line is at most {MAX_LINE_BYTES}"
                    ),
                };
                write_json(&mut out, &error)?;
            }
            Line::NotUtf8 { offset } => {
                let error = LineError {
                    line: number,
                    kind: "invalid_utf8",
                    field: None,
                    message: format!("not UTF-8 text (byte {} is not)", offset + 1),
                };
                write_json(&mut out, &error)?;
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Decodes one input line and writes the output JSON (without the newline).
pub fn decode_line(number: usize, text: &str, out: &mut impl Write) -> io::Result<()> {
    let failed_field = Cell::new(None);
    let parsed = if text.trim().is_empty() {
        Err(LineError {
            line: number,
            kind: "invalid_json",
            field: None,
            message: "empty line: expected one JSON object".into(),
        })
    } else {
        let mut de = serde_json::Deserializer::from_str(text);
        match (InputSeed {
            failed_field: &failed_field,
        })
        .deserialize(&mut de)
        .and_then(|i| de.end().map(|()| i))
        {
            // The one field a line must have; the argument form has none.
            Ok(Input { address: None, .. }) => Err(LineError {
                line: number,
                kind: "invalid_field",
                field: Some("address"),
                message: "required field is missing".into(),
            }),
            Ok(input) => input.decode().map_err(|(field, message)| LineError {
                line: number,
                kind: "invalid_field",
                field: Some(field),
                message,
            }),
            // A line that is not JSON is `invalid_json` wherever it breaks off, even inside a
            // known field; only a well-formed value of the wrong type or shape is that field's.
            Err(e) => Err(match failed_field.get().filter(|_| e.is_data()) {
                Some(field) => LineError {
                    line: number,
                    kind: "invalid_field",
                    field: Some(field),
                    message: strip_position(&e),
                },
                None => LineError {
                    line: number,
                    kind: "invalid_json",
                    field: None,
                    message: e.to_string(),
                },
            }),
        }
    };
    match parsed {
        Ok(record) => write_json(out, &record),
        Err(error) => write_json(out, &error),
    }
}

/// Writes `value` as JSON with the control and invisible characters a device may put in its
/// text escaped (`printable_json`): the same JSON value, shown as it is on a terminal.
fn write_json(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    let text = serde_json::to_string(value).map_err(io::Error::from)?;
    out.write_all(printable_json(&text).as_bytes())
}

/// serde_json's message without " at line 1 column N" (the field is named separately).
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// A line that could not be read.
#[derive(Debug)]
struct LineError {
    line: usize,
    kind: &'static str,
    field: Option<&'static str>,
    message: String,
}

impl Serialize for LineError {
    /// `{"line":N,"error":{"kind":…,"field":…,"message":…}}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Inner<'a>(&'a LineError);
        impl Serialize for Inner<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("kind", self.0.kind)?;
                map.serialize_entry("field", &self.0.field)?;
                map.serialize_entry("message", &self.0.message)?;
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("line", &self.line)?;
        map.serialize_entry("error", &Inner(self))?;
        map.end()
    }
}

/// Decodes hex (either case, even length) of at most [`MAX_DATA_BYTES`] bytes (no advertisement
/// holds more), with the error wording of the decode format.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let bytes = hex::decode(text).map_err(|error| match error {
        hex::Error::BadDigit { offset } => {
            let c = text
                .get(offset..)
                .and_then(|t| t.chars().next())
                .unwrap_or('?');
            format!("{c:?} at position {offset} is not a hex digit")
        }
        _ => format!("hex has an odd number of digits ({})", text.len()),
    })?;
    if bytes.len() > MAX_DATA_BYTES {
        return Err(format!(
            "{} bytes; advertisement data is at most {MAX_DATA_BYTES} bytes",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// The decoded record for one line.
struct Record<'a> {
    address: Option<Cow<'a, str>>,
    bthome: Option<Packet>,
    shelly: Option<ManufacturerData>,
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("address", &self.address)?;
        map.serialize_entry("bthome", &self.bthome)?;
        map.serialize_entry("shelly", &self.shelly)?;
        map.end()
    }
}

impl<'a> Input<'a> {
    fn decode(self) -> Result<Record<'a>, (&'static str, String)> {
        if self.address.as_deref() == Some("") {
            return Err(("address", "address must not be empty".into()));
        }
        let mut mac: Option<MacAddress> = self.address.as_deref().and_then(|a| a.parse().ok());
        if let Some(text) = self.mac.as_deref() {
            mac = Some(
                text.parse()
                    .map_err(|e| ("mac", format!("{text:?}: {e}")))?,
            );
        }
        let key: Option<BindKey> = match self.bindkey.as_deref() {
            None | Some("") => None,
            Some(text) => Some(text.parse().map_err(|e| ("bindkey", format!("{e}")))?),
        };

        // The BTHome service data: FCD2, else 181E, else 181C, wherever it comes from; of two with
        // the same UUID, the first.
        let mut best: Option<(u8, Uuid, Vec<u8>)> = None;
        let mut offer = |uuid: Uuid, data: Vec<u8>| {
            let rank = [Uuid::BTHOME_V1, Uuid::BTHOME_V1_ENCRYPTED, Uuid::BTHOME_V2]
                .iter()
                .position(|u| *u == uuid);
            if let Some(rank) = rank
                && best.as_ref().is_none_or(|(r, _, _)| usize::from(*r) < rank)
            {
                best = Some((rank as u8, uuid, data));
            }
        };
        for (uuid_text, hex) in &self.service_data {
            let uuid: Uuid = uuid_text
                .parse()
                .map_err(|e| ("service_data", format!("key {uuid_text:?}: {e}")))?;
            let data = parse_hex(hex)
                .map_err(|e| ("service_data", format!("value of {uuid_text:?}: {e}")))?;
            offer(uuid, data);
        }
        let ad = match self.ad.as_deref() {
            Some(hex) => {
                let bytes = parse_hex(hex).map_err(|e| ("ad", e))?;
                Some(Advertisement::from_ad_bytes(&bytes).map_err(|e| ("ad", e.to_string()))?)
            }
            None => None,
        };
        for (uuid, data) in ad.iter().flat_map(|adv| adv.service_data.iter()) {
            offer(*uuid, data.clone());
        }
        let mut shelly_data = None;
        let mut beacon_data = None;
        for (id_text, hex) in &self.manufacturer_data {
            let id = parse_company_id_decimal(id_text).map_err(|_| {
                (
                    "manufacturer_data",
                    format!("key {id_text:?} is not a decimal company id (0..65535)"),
                )
            })?;
            let data = parse_hex(hex)
                .map_err(|e| ("manufacturer_data", format!("value of {id_text:?}: {e}")))?;
            if id == COMPANY_ID {
                shelly_data.get_or_insert(data);
            } else if id == BEACON_COMPANY_ID {
                beacon_data.get_or_insert(data);
            }
        }
        // A company's data given twice: the first.
        if let Some(adv) = &ad {
            if let Some(d) = adv.manufacturer_data.get(&COMPANY_ID) {
                shelly_data.get_or_insert_with(|| d.clone());
            }
            if let Some(d) = adv.manufacturer_data.get(&BEACON_COMPANY_ID) {
                beacon_data.get_or_insert_with(|| d.clone());
            }
        }

        let bthome = best.map(|(_, uuid, data)| bthome::decode(uuid, &data, mac, key.as_ref()));
        let mut shelly = shelly_data.map(|d| manufacturer::parse(&d));
        if let Some(d) = beacon_data {
            let parsed = manufacturer::parse(&d);
            match &mut shelly {
                Some(s) if s.beacon.is_none() => s.beacon = parsed.beacon,
                Some(_) => {}
                None => shelly = Some(parsed),
            }
        }
        Ok(Record {
            address: self.address,
            bthome,
            shelly,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> serde_json::Value {
        let mut out = Vec::new();
        decode_line(7, line, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn decodes_a_plain_line() {
        let v = one(r#"{"address":"AA:BB:CC:DD:EE:FF","service_data":{"fcd2":"4002ca0903bf13"}}"#);
        assert_eq!(v["address"], "AA:BB:CC:DD:EE:FF");
        assert_eq!(v["bthome"]["objects"][0]["value"], 25.06);
        assert_eq!(v["bthome"]["objects"][1]["name"], "humidity");
        assert_eq!(v["shelly"], serde_json::Value::Null);
    }

    #[test]
    fn picks_fcd2_over_v1() {
        let v = one(
            r#"{"address":"x","service_data":{"0000181c-0000-1000-8000-00805f9b34fb":"2302ca09","FCD2":"40015d"}}"#,
        );
        assert_eq!(v["bthome"]["version"], 2);
        assert_eq!(v["bthome"]["objects"][0]["name"], "battery");
    }

    #[test]
    fn bad_lines_name_the_problem() {
        assert_eq!(one("")["error"]["kind"], "invalid_json");
        assert_eq!(one("{nope")["error"]["kind"], "invalid_json");
        assert_eq!(one("{nope")["line"], 7);
        let rssi = one(r#"{"address":"x","rssi":"loud"}"#);
        assert_eq!(rssi["error"]["kind"], "invalid_field");
        assert_eq!(rssi["error"]["field"], "rssi");
        let key = one(r#"{"address":"x","bindkey":"abcd"}"#);
        assert_eq!(key["error"]["field"], "bindkey");
        let uuid = one(r#"{"address":"x","service_data":{"fc":"40"}}"#);
        assert_eq!(uuid["error"]["field"], "service_data");
        let hex = one(r#"{"address":"x","service_data":{"fcd2":"4"}}"#);
        assert_eq!(hex["error"]["field"], "service_data");
        let empty = one(r#"{"address":""}"#);
        assert_eq!(empty["error"]["field"], "address");
        let mac = one(r#"{"address":"x","mac":"nope"}"#);
        assert_eq!(mac["error"]["field"], "mac");
    }

    #[test]
    fn address_is_the_mac_unless_mac_overrides() {
        let line = |addr: &str, mac: &str| {
            format!(
                r#"{{"address":"{addr}"{mac},"bindkey":"231d39c1d7cc1ab1aee224cd096db932","service_data":{{"fcd2":"41e445f3c9962b332211006c7c4519"}}}}"#
            )
        };
        let ok = one(&line("54:48:E6:8F:80:A5", ""));
        assert_eq!(ok["bthome"]["error"], serde_json::Value::Null);
        let opaque = one(&line("opaque-browser-id", ""));
        assert_eq!(opaque["bthome"]["error"]["kind"], "missing_mac");
        let overridden = one(&line("opaque-browser-id", r#","mac":"54:48:e6:8f:80:a5""#));
        assert_eq!(overridden["bthome"]["objects"][0]["value"], 25.06);
    }

    #[test]
    fn shelly_manufacturer_data_and_beacon() {
        let v = one(
            r#"{"address":"x","manufacturer_data":{"2985":"0109000b01000accbbaa6e02bc","64722":"0d00f15365100e000010991f6490ae3d65100e0000"}}"#,
        );
        assert_eq!(v["shelly"]["model"], "SBBT-002C");
        assert_eq!(v["shelly"]["mac"], "BC:02:6E:AA:BB:CC");
        assert_eq!(v["shelly"]["flags"]["buzzer"], true);
        assert_eq!(v["shelly"]["beacon"]["unix_time"], 1_700_000_000);
    }

    fn stream(input: &[u8]) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        decode_stream(input, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `bluehome decode` used to stop at the first line that was not UTF-8, without its number.
    #[test]
    fn a_line_that_is_not_utf8_is_one_error_line() {
        let good = br#"{"address":"x","service_data":{"fcd2":"40015d"}}"#;
        let mut input = good.to_vec();
        input.extend_from_slice(b"\n{\"address\":\"\xff\"}\n");
        input.extend_from_slice(good);
        let out = stream(&input);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0]["bthome"]["objects"][0]["value"], 93);
        assert_eq!(out[1]["line"], 2);
        assert_eq!(out[1]["error"]["kind"], "invalid_utf8");
        assert_eq!(out[2]["bthome"]["objects"][0]["value"], 93);
    }

    /// One 100 MB line took 800 MB to decode; now it is measured, not kept, and reported.
    #[test]
    fn overlong_lines_and_fields_are_refused_with_the_cap() {
        let mut input = format!(
            r#"{{"address":"x","local_name":"{}"}}"#,
            "a".repeat(100_000)
        );
        input.push_str("\n{\"address\":\"x\"}\n");
        let out = stream(input.as_bytes());
        assert_eq!(out[0]["line"], 1);
        assert_eq!(out[0]["error"]["kind"], "too_long");
        let message = out[0]["error"]["message"].as_str().unwrap();
        assert!(message.contains("at most 8192"), "{message}");
        assert_eq!(out[1]["address"], "x");

        let big = one(&format!(
            r#"{{"address":"x","service_data":{{"fcd2":"{}"}}}}"#,
            "40".repeat(256)
        ));
        assert_eq!(big["error"]["field"], "service_data");
        let message = big["error"]["message"].as_str().unwrap();
        assert!(message.contains("at most 255 bytes"), "{message}");
    }

    /// A text object of `ESC ] 0 ; x` (xterm's "set window title") reached the terminal raw.
    #[test]
    fn the_table_shows_control_characters_as_escapes() {
        // 0x40 v2 unencrypted; 0x53 text, 5 bytes: ESC ] 0 ; x.
        let input = Input {
            service_data: vec![(Cow::Borrowed("fcd2"), Cow::Borrowed("4053051b5d303b78"))],
            ..Input::default()
        };
        let record = input.decode().unwrap();
        let table = Table(&record).to_string();
        assert!(!table.contains('\u{1b}'), "{table:?}");
        assert!(table.contains("\\u{1b}]0;x"), "{table}");
    }

    #[test]
    fn non_ascii_hex_is_a_bad_digit() {
        let line = one(r#"{"address":"x","service_data":{"fcd2":"4é"}}"#);
        let message = line["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("'é' at position 1 is not a hex digit"),
            "{message}"
        );
    }
}
