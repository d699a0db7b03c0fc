//! Golden transcripts for `bluehome sim shelly --stdio`: every directory under tests/golden/sim/
//! holds `args` (after `sim shelly --stdio`), `input.jsonl` and `expected.jsonl`, the exact
//! answers. The expected files were written from the protocol rules in the README and the
//! documented frame formats; lengths, hex and digest hashes were computed with Python, not by
//! this tool.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

fn bluehome() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bluehome"))
}

fn run_case(dir: &Path) -> Result<(), String> {
    let args = std::fs::read_to_string(dir.join("args")).map_err(|e| e.to_string())?;
    let input = std::fs::read(dir.join("input.jsonl")).map_err(|e| e.to_string())?;
    let mut child = bluehome()
        .args(["sim", "shelly", "--stdio"])
        .args(args.split_whitespace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(&input)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let (got, want) = common::output_and_expected(&out, dir)?;
    let requests = input
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    if got.lines().count() != requests {
        return Err(format!(
            "{requests} requests but {} answers",
            got.lines().count()
        ));
    }
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        if g != w {
            return Err(format!("line {}:\n  expected {w}\n  got      {g}", i + 1));
        }
    }
    if got != want {
        return Err(format!("--- expected\n{want}--- got\n{got}"));
    }
    Ok(())
}

#[test]
fn sim_golden_transcripts_match() {
    common::assert_all_pass(&common::case_dirs("sim", 6), run_case);
}

/// Each answer is flushed before the next request is read: a client can talk turn by turn.
#[test]
fn answers_are_flushed_line_by_line_and_eof_exits_0() {
    let mut child = bluehome()
        .args(["sim", "shelly", "--stdio", "--virtual-clock"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for (request, answer) in [
        (r#"{"op":"connect","client":"x"}"#, r#"{"ok":true}"#),
        (
            r#"{"op":"read","char":"RX_CTL"}"#,
            r#"{"ok":false,"att":1,"error":"attribute_not_found","detail":"unknown characteristic \"RX_CTL\""}"#,
        ),
        (
            r#"{"op":"read","char":"rx_ctl"}"#,
            r#"{"ok":true,"data":"00000000"}"#,
        ),
    ] {
        writeln!(stdin, "{request}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line.trim_end(), answer);
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn bad_command_lines_exit_2() {
    let out = bluehome().args(["sim", "shelly"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bluehome()
        .args(["sim", "shelly", "--stdio", "--mtu", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The simulator's advertisement records are `bluehome decode` input: every one decodes without an
/// error (encrypted ones with the `bindkey` the record carries) — a cross-check of the sensors
/// against the decoder.
#[test]
fn sim_advertisements_decode_cleanly() {
    let out = bluehome()
        .args(["sim", "shelly", "--stdio", "--virtual-clock", "--sensors"])
        .arg("button,ht,dw+enc,motion,rc4+enc,thermo")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"{\"op\":\"advance\",\"ms\":61000}\n{\"op\":\"advertisements\"}\n")?;
            drop(stdin);
            child.wait_with_output()
        })
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let answer: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    let records = answer["advertisements"].as_array().unwrap();
    assert_eq!(records.len(), 6);
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let mut decode = bluehome()
        .arg("decode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    decode
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let decoded = decode.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(decoded.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    for line in &lines {
        assert!(line["bthome"]["error"].is_null(), "{line}");
        assert!(
            !line["bthome"]["objects"].as_array().unwrap().is_empty(),
            "{line}"
        );
    }
    assert_eq!(lines[2]["bthome"]["encrypted"], true);
    assert_eq!(lines[0]["shelly"]["model"], "SBBT-002C");
    assert!(
        lines[5]["shelly"].is_null(),
        "the generic thermometer has no Shelly data"
    );
}

/// A line that is not UTF-8, or too long, used to end the simulator ("stdin is not UTF-8 text",
/// status 1): now it gets an error answer like any malformed request, and the session goes on.
#[test]
fn bad_input_lines_get_an_error_answer_and_the_session_goes_on() {
    let mut input = b"{\"op\":\"connect\"}\n{\"op\":\"\xff\"}\n".to_vec();
    input.extend_from_slice(format!("{{\"op\":\"{}\"}}\n", "x".repeat(20_000)).as_bytes());
    input.extend_from_slice(b"{\"op\":123}\n{\"op\":\"read\",\"char\":\"rx_ctl\"}\n");
    let mut child = bluehome()
        .args(["sim", "shelly", "--stdio", "--virtual-clock"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let answers: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 5, "{answers:?}");
    assert_eq!(answers[0]["ok"], true);
    for (answer, detail) in answers[1..4].iter().zip([
        "not UTF-8 text (byte 8 is not)",
        "the line is 20009 bytes; a request line is at most 16384",
        "\"op\" must be a string",
    ]) {
        assert_eq!(answer["error"], "request_not_supported");
        assert_eq!(answer["detail"], detail);
    }
    assert_eq!(answers[4]["data"], "00000000");
}
