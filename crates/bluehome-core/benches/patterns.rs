//! Name-pattern matching: nanoseconds per match and per name character, for patterns that make a
//! backtracking matcher (or one that remembers only its last `*`) do pattern × name work, over
//! names from a legacy advertisement's 29 bytes to far past Bluetooth's 248-byte limit. Run:
//! `cargo bench -p bluehome-core --bench patterns`.
//!
//! Asserted time bounds (the figures are printed either way):
//! - linear in the name: per character, the longest name costs at most 2× the shortest;
//! - independent of the pattern's shape up to the 248-character cap: per character, the worst
//!   pattern costs at most 12× the one-star pattern `Wo*z` (a 200-character pattern cost about
//!   100× before the automaton);
//! - a 248-character name against the worst capped pattern: under 10 µs.

use std::hint::black_box;
use std::time::Instant;

use bluehome_core::filter::{MAX_PATTERN_CHARS, Pattern};

/// Nanoseconds this thread has spent on a CPU (Linux), so other processes' time does not count.
fn cpu_ns(wall: Instant) -> u128 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| wall.elapsed().as_nanos())
}

/// Best of five: ns per `matches` call.
fn time(pattern: &Pattern, name: &str) -> f64 {
    let calls = (2_000_000 / name.len().max(1)).max(200);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let wall = Instant::now();
        let start = cpu_ns(wall);
        for _ in 0..calls {
            black_box(pattern.matches(black_box(name)));
        }
        best = best.min((cpu_ns(wall) - start) as f64 / calls as f64);
    }
    best
}

fn main() {
    let lengths = [31usize, 62, 124, 248, 496, 992];
    let patterns = [
        ("one star Wo*z", "Wo*z".to_owned()),
        ("ten stars *a*a*…*b", "Wo*a*a*a*a*a*a*a*a*a*a*b".to_owned()),
        ("200 literals after *", format!("Wo*{}b", "a".repeat(200))),
        ("60 classes after *", format!("Wo*{}c", "[ab]".repeat(60))),
        ("245 ? and * mixed", format!("Wo*{}z", "?*".repeat(122))),
    ];
    for (_, p) in &patterns {
        assert!(p.chars().count() <= MAX_PATTERN_CHARS, "{p}");
    }
    println!("pattern bench: names \"Wo\" + a…a, best of 5 (thread CPU time)");
    print!("  {:>24}", "pattern \\ name chars");
    for n in lengths {
        print!(" {n:>10}");
    }
    println!("   ns/char");
    let mut per_char = Vec::new();
    for (label, text) in &patterns {
        let pattern = Pattern::fnmatch(text);
        print!("  {label:>24}");
        let mut row = Vec::new();
        for n in lengths {
            let name = format!("Wo{}", "a".repeat(n - 2));
            let ns = time(&pattern, &name);
            print!(" {ns:>8.0}ns");
            row.push(ns / n as f64);
        }
        println!("   {:.2}..{:.2}", row[0], row[row.len() - 1]);
        per_char.push((label, row));
    }
    let (_, base) = &per_char[0];
    let base_char = base[base.len() - 1];
    for (label, row) in &per_char {
        let growth = row[row.len() - 1] / row[0];
        let shape = row[row.len() - 1] / base_char;
        println!("  {label:>24}: longest/shortest per char {growth:.2}x, vs Wo*z {shape:.1}x");
        assert!(
            growth <= 2.0,
            "{label}: not linear in the name ({growth:.2}x)"
        );
        assert!(
            shape <= 12.0,
            "{label}: {shape:.1}x the one-star pattern per character"
        );
    }
    let worst = per_char
        .iter()
        .map(|(_, row)| row[3] * 248.0)
        .fold(0.0, f64::max);
    println!("  worst 248-character match: {worst:.0} ns");
    assert!(worst < 10_000.0, "a 248-character match took {worst:.0} ns");
}
