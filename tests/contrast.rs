//! Native: every text colour of the palette (style/main.css) is readable on the backgrounds it is
//! used on, in both themes (WCAG 2 contrast ratio at least 4.5:1 for body text).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

const CSS: &str = include_str!("../style/main.css");

/// `--name: #rrggbb;` declarations of one block, the first one after `marker`.
fn palette(marker: &str) -> BTreeMap<String, (u8, u8, u8)> {
    let start = CSS.find(marker).expect("palette block");
    let block = &CSS[start..];
    let end = block.find('}').expect("end of block");
    let mut out = BTreeMap::new();
    for decl in block[..end].split(';') {
        let Some(at) = decl.find("--") else { continue };
        let Some((name, value)) = decl[at..].split_once(':') else {
            continue;
        };
        let value = value.trim();
        if let (Some(name), Some(hex)) = (name.trim().strip_prefix("--"), value.strip_prefix('#'))
            && hex.len() == 6
        {
            let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
            out.insert(name.to_owned(), (byte(0), byte(2), byte(4)));
        }
    }
    out
}

/// WCAG 2 relative luminance.
fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

fn ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Text colour on background, as the Scan and Decode pages use them.
const PAIRS: &[(&str, &str)] = &[
    ("text", "bg"),
    ("text", "surface"),
    ("muted", "bg"),
    ("muted", "surface"),
    ("accent", "bg"),
    ("accent", "surface"),
    ("accent-text", "accent"),
    ("ok", "bg"),
    ("warn", "bg"),
    ("warn", "surface"),
    ("bad", "bg"),
    ("bad", "surface"),
];

fn check(theme: &str, colours: &BTreeMap<String, (u8, u8, u8)>) -> Vec<String> {
    PAIRS
        .iter()
        .filter_map(|(fg, bg)| {
            let r = ratio(colours[*fg], colours[*bg]);
            (r < 4.5).then(|| format!("{theme}: --{fg} on --{bg} is {r:.2}:1"))
        })
        .collect()
}

#[test]
fn ratio_matches_known_values() {
    // Black on white is 21:1; #767676 on white is the classic 4.54:1.
    assert!((ratio((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
    assert!((ratio((0x76, 0x76, 0x76), (255, 255, 255)) - 4.54).abs() < 0.01);
}

#[test]
fn palette_text_is_readable_in_both_themes() {
    let light = palette(":root {");
    let dark = palette("@media (prefers-color-scheme: dark)");
    assert!(light.len() >= 10 && dark.len() >= 10, "{light:?} {dark:?}");
    let mut failures = check("light", &light);
    failures.extend(check("dark", &dark));
    assert!(failures.is_empty(), "{failures:#?}");
}
