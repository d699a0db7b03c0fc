//! Device-supplied text made safe to show to a person: names, BTHome text objects, SSIDs, capture
//! addresses. Such text may carry terminal escape sequences (`ESC ] 0 ;` retitles a terminal),
//! line breaks that forge output lines, and Unicode bidirectional controls that make a name read
//! differently from what it is (Unicode Technical Standard #39, Unicode Standard Annex #9 §2;
//! CVE-2021-42574 "Trojan Source"). [`printable`] is the one place that neutralises them, for
//! the CLI's table output and for every page of the app.
//!
//! What it escapes, and how:
//! - `\` itself as `\\`, so an escape in the output always means an escaped character;
//! - line feed, carriage return and tab as `\n`, `\r`, `\t`;
//! - every other C0 and C1 control character and DEL (Unicode category Cc) as `\u{1b}`;
//! - the bidirectional formatting characters (ALM U+061C, LRM U+200E, RLM U+200F, LRE/RLE/PDF/
//!   LRO/RLO U+202A–U+202E, LRI/RLI/FSI/PDI U+2066–U+2069), the line and paragraph separators
//!   (U+2028, U+2029) and the invisible zero-width space, word joiner and byte-order mark
//!   (U+200B, U+2060, U+FEFF) as `\u{202e}` and so on: shown, never applied.
//!
//! Everything else, including the zero-width joiners that emoji sequences need, is kept.
//!
//! [`printable_json`] is the same rule for JSON text shown as such (a device's raw answer): JSON
//! already escapes control characters and backslashes, so only the invisible and bidirectional
//! characters are escaped, as JSON `\uXXXX` escapes, and the text stays valid JSON.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::Write;

/// Whether `c` must be shown as an escape rather than written as it is.
fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// `text` with control characters, bidirectional controls and invisible separators escaped (see
/// the module documentation). Borrows when there is nothing to escape, which is the usual case.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape(text, needs_escape, |out, c| match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        other => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(other));
        }
    })
}

/// `json` (JSON text, as serde_json writes it) with the bidirectional controls, invisible
/// separators and line separators inside its strings escaped as `\uXXXX`: still the same JSON
/// value, now shown as it is. Borrows when there is nothing to escape.
pub fn printable_json(json: &str) -> Cow<'_, str> {
    let hidden = |c: char| needs_escape(c) && c != '\\' && !c.is_control();
    escape(json, hidden, |out, c| {
        // Every such character is in the Basic Multilingual Plane: one \uXXXX escape.
        let _ = write!(out, "\\u{:04x}", u32::from(c));
    })
}

/// `text` with every character `escaped` selects written by `write_escape` instead (writing to a
/// `String` cannot fail); borrowed when there is none.
fn escape(
    text: &str,
    escaped: impl Fn(char) -> bool,
    write_escape: impl Fn(&mut String, char),
) -> Cow<'_, str> {
    let Some(first) = text.find(&escaped) else {
        return Cow::Borrowed(text);
    };
    let (clean, rest) = text.split_at(first);
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(clean);
    for c in rest.chars() {
        if escaped(c) {
            write_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["", "ATC_8D18B2", "Küche 温度 🌡️", "👩‍👩‍👧 family"] {
            assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
        }
    }

    /// `ESC ] 0 ; title BEL` is the xterm sequence that sets a terminal's title (XTerm Control
    /// Sequences, "Operating System Commands").
    #[test]
    fn terminal_escape_sequences_are_shown_not_sent() {
        assert_eq!(
            printable("\u{1b}]0;pwned\u{7}name"),
            "\\u{1b}]0;pwned\\u{7}name"
        );
        assert_eq!(printable("a\u{0}b\u{7f}c\u{9b}"), "a\\u{0}b\\u{7f}c\\u{9b}");
    }

    #[test]
    fn line_breaks_cannot_forge_lines() {
        assert_eq!(printable("one\ntwo\r\tthree"), "one\\ntwo\\r\\tthree");
        assert_eq!(printable("a\u{2028}b\u{2029}"), "a\\u{2028}b\\u{2029}");
    }

    /// U+202E (RIGHT-TO-LEFT OVERRIDE) makes "gpj.exe" display as "exe.jpg".
    #[test]
    fn bidi_overrides_and_isolates_are_visible() {
        assert_eq!(printable("\u{202e}gpj.exe"), "\\u{202e}gpj.exe");
        assert_eq!(
            printable("\u{2066}\u{2067}\u{2068}\u{2069}\u{200e}\u{200f}\u{61c}"),
            "\\u{2066}\\u{2067}\\u{2068}\\u{2069}\\u{200e}\\u{200f}\\u{61c}"
        );
        assert_eq!(printable("a\u{200b}b\u{feff}"), "a\\u{200b}b\\u{feff}");
    }

    #[test]
    fn json_keeps_its_own_escapes_and_gets_the_invisible_ones() {
        let json = "{\n  \"name\": \"\u{202e}gpj.exe \\\" \\u001b\"\n}";
        let shown = printable_json(json);
        assert_eq!(shown, "{\n  \"name\": \"\\u202egpj.exe \\\" \\u001b\"\n}");
        let a: serde_json::Value = serde_json::from_str(json).unwrap();
        let b: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(a, b);
        assert!(matches!(printable_json("{\"a\":1}"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_backslash_is_doubled_so_escapes_stay_unambiguous() {
        assert_eq!(printable("\\u{1b}"), "\\\\u{1b}");
    }
}
