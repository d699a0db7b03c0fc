//! What the golden-file tests share: finding the cases and running them all.

use std::path::{Path, PathBuf};
use std::process::Output;

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

/// Runs every case and fails once, naming every case that failed and why.
pub fn assert_all_pass(dirs: &[PathBuf], run_case: impl Fn(&Path) -> Result<(), String>) {
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| run_case(d).err().map(|e| format!("{}: {e}", d.display())))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
