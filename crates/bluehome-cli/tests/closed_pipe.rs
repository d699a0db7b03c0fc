//! `bluehome decode | head` and `bluehome replay … | head`: when the reader of the output goes
//! away, the command stops quietly with status 0, as Unix tools do (it used to print "Broken
//! pipe" and exit 1).

use std::io::{BufRead, BufReader, Write};

mod common;

/// Runs `bluehome ARGS`, feeds `input` on stdin from a thread, reads one line of output and closes
/// the pipe. Returns the exit code and stderr.
fn read_one_line_then_close(args: &[&str], input: String) -> (Option<i32>, String) {
    let mut child = common::spawn_piped(common::bluehome().args(args)).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        // The command may stop reading once its output is closed: a failed write is expected.
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with('{'), "{first}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn decode_exits_quietly_when_its_output_is_closed() {
    let line = "{\"address\":\"x\",\"service_data\":{\"fcd2\":\"4002ca0903bf13\"}}\n";
    let (code, stderr) = read_one_line_then_close(&["decode"], line.repeat(200_000));
    assert_eq!(code, Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn replay_exits_quietly_when_its_output_is_closed() {
    let dir = std::env::temp_dir().join(format!("bluehome-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.json");
    std::fs::write(&rules, r#"{"callbacks":[{"name":"all","matcher":{}}]}"#).unwrap();
    let capture: String = (0..200_000)
        .map(|i| {
            format!(
                "{{\"time\":{i},\"address\":\"AA:BB:CC:DD:EE:FF\",\"manufacturer_data\":{{\"76\":\"{:02x}\"}}}}\n",
                i % 256
            )
        })
        .collect();
    let (code, stderr) = read_one_line_then_close(
        &["replay", "-", "--rules", rules.to_str().unwrap()],
        capture,
    );
    assert_eq!(code, Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "");
}
