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
