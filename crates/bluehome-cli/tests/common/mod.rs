//! What the command tests share: running `bluehome`, finding the golden cases and running them all.
#![allow(dead_code)] // Each test binary uses its own subset.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The `bluehome` binary under test.
pub fn bluehome() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bluehome"))
}

/// Starts `command` with stdin, stdout and stderr piped.
pub fn spawn_piped(command: &mut Command) -> std::io::Result<Child> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Runs `command` with `input` on stdin (closed after it) and waits for its output.
pub fn run_with_input(command: &mut Command, input: &[u8]) -> std::io::Result<Output> {
    let mut child = spawn_piped(command)?;
    child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("no stdin"))?
        .write_all(input)?;
    child.wait_with_output()
}

/// Each line of `output` as JSON.
pub fn json_lines(output: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(output)
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The case directories under `tests/golden/<kind>/`, sorted; there must be at least `min`.
pub fn case_dirs(kind: &str, min: usize) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(kind);
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= min,
        "golden cases missing under {}",
        root.display()
    );
    dirs
}

/// The standard output of a run that must have succeeded, and the case's `expected.jsonl`.
pub fn output_and_expected(out: &Output, dir: &Path) -> Result<(String, String), String> {
    if !out.status.success() {
        return Err(format!(
            "exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let got = String::from_utf8_lossy(&out.stdout).into_owned();
    let want = std::fs::read_to_string(dir.join("expected.jsonl")).map_err(|e| e.to_string())?;
    Ok((got, want))
}

/// `Ok` when `got` is `want` to the byte; else the first line that differs, or both in full.
pub fn same_output(got: &str, want: &str) -> Result<(), String> {
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

/// Runs every case under `tests/golden/<kind>/` (at least `min`) and fails once, naming every case
/// that failed and why.
pub fn assert_all_pass(kind: &str, min: usize, run_case: impl Fn(&Path) -> Result<(), String>) {
    let failures: Vec<String> = case_dirs(kind, min)
        .iter()
        .filter_map(|d| run_case(d).err().map(|e| format!("{}: {e}", d.display())))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
