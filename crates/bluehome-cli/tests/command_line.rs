//! The command line as the README promises it: every command's `--help` prints its usage and
//! exits 0; a bad command line exits 2 with the reason on stderr (and, for `decode`, an error line
//! naming the field on stdout); `decode` exits 1 for an argument of a known form that cannot be
//! read; values may follow their option or be attached with `=`; an argument that is not UTF-8 is
//! a bad command line, never a crash.

use std::ffi::OsString;
use std::process::{Command, Output, Stdio};

fn bluehome(args: &[OsString]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bluehome"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn run(args: &[&str]) -> Output {
    bluehome(&args.iter().map(OsString::from).collect::<Vec<_>>())
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_command_prints_its_usage_for_help() {
    for (args, says) in [
        (&["--help"][..], "usage: bluehome <command>"),
        (&["help"], "usage: bluehome <command>"),
        (&[], "usage: bluehome <command>"),
        (&["decode", "--help"], "usage: bluehome decode"),
        (
            &["replay", "--help"],
            "usage: bluehome replay CAPTURE --rules RULES",
        ),
        (
            &["replay", "-h"],
            "usage: bluehome replay CAPTURE --rules RULES",
        ),
        (&["sim", "--help"], "usage: bluehome sim shelly|blu|improv"),
        (
            &["sim", "shelly", "--help"],
            "usage: bluehome sim shelly --stdio",
        ),
        (&["sim", "blu", "-h"], "usage: bluehome sim blu --stdio"),
        (
            &["sim", "improv", "--help"],
            "usage: bluehome sim improv --stdio",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains(says), "{args:?}: {}", stdout(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

#[test]
fn bad_command_lines_exit_2_and_say_why() {
    for (args, says) in [
        (&["toast"][..], "unknown command \"toast\""),
        (&["--version"], "unknown option \"--version\""),
        (&["replay", "capture.jsonl"], "--rules is missing"),
        (&["replay", "--rules", "r.json"], "CAPTURE is missing"),
        (
            &["replay", "a", "b", "--rules", "r"],
            "unexpected argument \"b\"",
        ),
        (
            &["replay", "-", "--rules", "r", "--until", "soon"],
            "--until \"soon\"",
        ),
        (
            &["replay", "-", "--rules"],
            "missing argument for option '--rules'",
        ),
        (&["sim"], "missing device"),
        (&["sim", "toaster", "--stdio"], "unknown device \"toaster\""),
        (
            &["sim", "shelly", "--stdio", "--mtu"],
            "missing argument for option '--mtu'",
        ),
        (
            &["sim", "shelly", "--stdio", "--mtu", "x"],
            "--mtu: \"x\" is not a non-negative integer",
        ),
        (
            &["sim", "shelly", "--stdio", "--colour", "blue"],
            "unknown option \"--colour\"",
        ),
        (
            &["sim", "blu", "--stdio", "--virtual-clock=yes"],
            "unexpected argument for option '--virtual-clock'",
        ),
        (
            &["sim", "improv", "--stdio", "--scan-ms", "-5"],
            "--scan-ms: \"-5\" is not a non-negative integer",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("usage: bluehome"), "{args:?}");
    }
}

/// Exit 2: the command line itself is wrong (an unknown option, a missing value, an argument of
/// no known form: no `:`). The reason and the usage go to stderr, the error line to stdout.
#[test]
fn decode_names_the_field_of_a_bad_command_line_on_stdout() {
    for (args, field) in [
        (&["decode", "--key"][..], "bindkey"),
        (&["decode", "fcd2:40", "--mac"], "mac"),
        (&["decode", "--colour"], "argument"),
        (&["decode", "nonsense"], "argument"),
        (&["decode", "fcd2:40", "4002ca09"], "argument"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let line: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(line["line"], 1, "{args:?}");
        assert_eq!(line["error"]["kind"], "invalid_field", "{args:?}");
        assert_eq!(line["error"]["field"], field, "{args:?}");
        assert!(stderr(&out).starts_with("bluehome decode: "), "{args:?}");
        assert!(stderr(&out).contains("usage: bluehome decode"), "{args:?}");
    }
}

/// Exit 1: an argument of a known form (`UUID:`, `mfr:`, `ad:`, the value of `--key` or
/// `--mac`) whose value cannot be read. Only the error line, on stdout, naming the field; nothing
/// on stderr. `mfr:70000:01` used to exit 2 while `fcd2:4` exited 1.
#[test]
fn decode_exits_1_when_an_argument_cannot_be_read() {
    for (args, field) in [
        (&["decode", "zzzz:01"][..], "service_data"),
        (&["decode", "fcd2:4"], "service_data"),
        (&["decode", "mfr:70000:01"], "manufacturer_data"),
        (&["decode", "mfr:0x1G:01"], "manufacturer_data"),
        (&["decode", "mfr:0102"], "manufacturer_data"),
        (&["decode", "MFR:2985:0"], "manufacturer_data"),
        (&["decode", "ad:02"], "ad"),
        (&["decode", "ad:0201"], "ad"),
        (&["decode", "--key", "abcd", "fcd2:40"], "bindkey"),
        (&["decode", "--mac=nope", "fcd2:40"], "mac"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out).lines().count(), 1, "{args:?}");
        let line: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(line["line"], 1, "{args:?}");
        assert_eq!(line["error"]["kind"], "invalid_field", "{args:?}");
        assert_eq!(line["error"]["field"], field, "{args:?}: {line}");
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

#[test]
fn values_may_be_attached_with_an_equals_sign() {
    let out = run(&[
        "decode",
        "--key=90bffd73cb6b26ef58a7a8eba9232036",
        "--mac=B4:35:22:F5:3D:A4",
        "fcd2:450aeb84467f85ba0100003188788c",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let line: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(line["bthome"]["encrypted"], true);
    assert_eq!(line["bthome"]["error"], serde_json::Value::Null);
}

/// The record `bluehome ARGS` prints (not at a terminal), which must exit 0.
fn json(args: &[&str]) -> serde_json::Value {
    let out = run(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stdout(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// The argument forms of the README: `ad:HEX` (its example: flags, the name `DIY-sensor` and
/// service data FCD2 with temperature 25.00 °C and humidity 50.55 %) reads as its service data
/// alone would; `mfr:0x…` (either case) as the decimal id does.
#[test]
fn decode_reads_ad_and_hex_company_id_arguments() {
    let ad = json(&[
        "decode",
        "ad:0201060b094449592d73656e736f720a16d2fc4002c40903bf13",
    ]);
    assert_eq!(ad["bthome"]["objects"][0]["name"], "temperature");
    assert_eq!(ad["bthome"]["objects"][0]["value"], 25.0);
    assert_eq!(ad["bthome"]["objects"][1]["value"], 50.55);
    assert_eq!(ad, json(&["decode", "fcd2:4002c40903bf13"]));

    let decimal = json(&["decode", "mfr:2985:0109000b01000accbbaa6e02bc"]);
    assert_eq!(decimal["shelly"]["model"], "SBBT-002C");
    for hex_id in [
        "mfr:0x0BA9:0109000b01000accbbaa6e02bc",
        "mfr:0X0ba9:0109000b01000accbbaa6e02bc",
    ] {
        assert_eq!(json(&["decode", hex_id]), decimal, "{hex_id}");
    }
}

/// All arguments are one advertisement: BTHome's FCD2 wins over 181C wherever each comes from,
/// several `ad:` payloads are one, and a company's data given twice counts once, the first.
#[test]
fn decode_arguments_are_one_advertisement() {
    // FCD2 (v2, temperature 25.06 °C) as an argument, 181C (BTHome v1) in the raw payload.
    let mixed = json(&["decode", "fcd2:4002ca09", "ad:06161c1802000c"]);
    assert_eq!(mixed["bthome"]["version"], 2, "{mixed}");
    assert_eq!(mixed["bthome"]["objects"][0]["value"], 25.06);
    let split = json(&["decode", "ad:0716d2fc4002ca09", "ad:020106"]);
    assert_eq!(split["bthome"], mixed["bthome"]);
    let twice = json(&[
        "decode",
        "mfr:2985:0109000b01000accbbaa6e02bc",
        "ad:09ffa90b0109000b0200",
    ]);
    assert_eq!(twice["shelly"]["model"], "SBBT-002C", "{twice}");
}

/// A file name or option value that is not UTF-8 (possible on Unix) used to make the command
/// panic (status 101) before it read anything.
#[cfg(unix)]
#[test]
fn an_argument_that_is_not_utf8_is_a_bad_command_line() {
    use std::os::unix::ffi::OsStringExt;
    let not_utf8 = OsString::from_vec(vec![b'f', 0xFF, b'2']);
    for args in [
        vec![not_utf8.clone()],
        vec!["decode".into(), not_utf8.clone()],
        vec!["decode".into(), "--key".into(), not_utf8.clone()],
        vec![
            "sim".into(),
            "blu".into(),
            "--stdio".into(),
            "--firmware".into(),
            not_utf8.clone(),
        ],
    ] {
        let out = bluehome(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}");
    }
    // A capture file name needs no UTF-8: it is only opened.
    let out = bluehome(&[
        "replay".into(),
        not_utf8,
        "--rules".into(),
        "/nonexistent/rules.json".into(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("/nonexistent/rules.json"));
}
