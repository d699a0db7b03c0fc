//! Golden files for `bluehome replay`: every directory under tests/golden/replay/ holds
//! `capture.jsonl`, `rules.json`, optional `args` (extra arguments, whitespace-separated) and
//! `expected.jsonl`, the exact output. The expected files were written by hand from the rules in
//! the README (time order, category order at equal t, the HA and Shelly semantics), not produced by
//! the tool.

mod common;

use std::path::Path;

fn run_case(dir: &Path) -> Result<(), String> {
    let mut cmd = common::bluehome();
    cmd.arg("replay")
        .arg(dir.join("capture.jsonl"))
        .arg("--rules")
        .arg(dir.join("rules.json"));
    if let Ok(extra) = std::fs::read_to_string(dir.join("args")) {
        cmd.args(extra.split_whitespace());
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    let (got, want) = common::output_and_expected(&out, dir)?;
    common::same_output(&got, &want)
}

#[test]
fn replay_golden_files_match() {
    common::assert_all_pass("replay", 4, run_case);
}

#[test]
fn replay_reports_time_going_backwards() {
    let dir = std::env::temp_dir().join(format!("bluehome-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let capture = dir.join("capture.jsonl");
    std::fs::write(
        &capture,
        "{\"time\":5,\"address\":\"AA:BB:CC:DD:EE:01\"}\n{\"time\":4.5,\"address\":\"AA:BB:CC:DD:EE:01\"}\n",
    )
    .unwrap();
    let rules = dir.join("rules.json");
    std::fs::write(&rules, "{}").unwrap();
    let out = common::bluehome()
        .arg("replay")
        .arg(&capture)
        .arg("--rules")
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("capture line 2") && err.contains("backwards"),
        "{err}"
    );
}

/// Runs `bluehome replay - --rules {} ARGS` with `capture` on stdin: exit code, stdout, stderr.
fn replay_stdin(capture: &str, args: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    // One directory per call: tests run in parallel.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("bluehome-stdin-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.json");
    std::fs::write(&rules, "{}").unwrap();
    let mut cmd = common::bluehome();
    cmd.args(["replay", "-", "--rules"]).arg(&rules).args(args);
    let out = common::run_with_input(&mut cmd, capture.as_bytes()).unwrap();
    (
        out.status.code(),
        common::json_lines(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `--until T`: "lines after T are not read". The first line after T used to be parsed in full
/// first, so a malformed one (or a capture cut off in the middle of a line) failed the run.
#[test]
fn lines_after_until_are_not_read() {
    let before = "{\"time\":5,\"address\":\"AA:BB:CC:DD:EE:01\",\"service_data\":{\"fcd2\":\"40015d\"}}\n\
                  {\"time\":10,\"address\":\"AA:BB:CC:DD:EE:01\",\"service_data\":{\"fcd2\":\"40015e\"}}\n";
    for after in [
        "{\"time\":11,\"address\":\"AA:BB:CC:DD:EE:01\",\"service_data\":{\"fcd2\":\"4\"}}\nnot json\n",
        "{\"time\":10.001,\"address\":\"AA:BB:CC:DD:EE:01\",\"rssi\":-200}\n",
        "{\"time\":11,\"address\":\"AA:BB:CC:DD:EE:01\",\"servi",
        "{\"time\":12,\"address\":\"\"}\n{\"time\":1}\n",
    ] {
        let (code, lines, err) = replay_stdin(&format!("{before}{after}"), &["--until", "10"]);
        assert_eq!(code, Some(0), "{after}: {err}");
        let times: Vec<_> = lines.iter().map(|l| l["t"].clone()).collect();
        assert_eq!(times, [5, 10], "{after}");
    }
    // A line at T is read, and one whose time cannot be found is still an error.
    for (after, line) in [
        (
            "{\"time\":10,\"address\":\"AA:BB:CC:DD:EE:01\",\"rssi\":-200}\n",
            3,
        ),
        ("{\"address\":\"AA:BB:CC:DD:EE:01\",\"time\":1", 3),
    ] {
        let (code, _, err) = replay_stdin(&format!("{before}{after}"), &["--until", "10"]);
        assert_eq!(code, Some(1), "{after}");
        assert!(
            err.contains(&format!("capture line {line}")),
            "{after}: {err}"
        );
    }
}

/// README (capture): "`null` counts as absent", for the keys a capture line adds too.
#[test]
fn null_capture_fields_count_as_absent() {
    let with_nulls = "{\"time\":5,\"address\":\"AA:BB:CC:DD:EE:01\",\"source\":null,\"connectable\":null,\
                      \"rssi\":null,\"local_name\":null,\"manufacturer_data\":null,\"mac\":null,\
                      \"bindkey\":null,\"service_data\":{\"fcd2\":\"40015d\"}}\n";
    let without =
        "{\"time\":5,\"address\":\"AA:BB:CC:DD:EE:01\",\"service_data\":{\"fcd2\":\"40015d\"}}\n";
    let (code, nulls, err) = replay_stdin(with_nulls, &[]);
    assert_eq!(code, Some(0), "{err}");
    let (_, absent, _) = replay_stdin(without, &[]);
    assert_eq!(nulls, absent);
    assert_eq!(absent[0]["objects"][0]["value"], 93, "{absent:?}");
}

/// A device's text reaches a terminal shown, not applied: the C1 control CSI (U+009B) and the
/// bidirectional override U+202E in a capture's address and name come out as JSON escapes, and the
/// lines still parse to the same text.
#[test]
fn control_and_bidi_characters_in_device_text_are_escaped() {
    let capture = "{\"time\":1,\"address\":\"\\u009b2J\\u202eevil\",\"local_name\":\"\\u009b31mX\",\
                   \"service_data\":{\"fcd2\":\"4002ca09\"}}\n";
    let dir = std::env::temp_dir().join(format!("bluehome-escape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.json");
    std::fs::write(&rules, "{}").unwrap();
    let mut cmd = common::bluehome();
    cmd.args(["replay", "-", "--rules"]).arg(&rules);
    let out = common::run_with_input(&mut cmd, capture.as_bytes()).unwrap();
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        stdout.contains("\\u009b") && stdout.contains("\\u202e"),
        "{stdout}"
    );
    assert!(!stdout.contains(['\u{9b}', '\u{202e}']), "{stdout:?}");
    let lines = common::json_lines(&out.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.to_string().contains("\u{9b}2J\u{202e}evil")),
        "{lines:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
