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
//!   LRO/RLO U+202A–U+202E, LRI/RLI/FSI/PDI U+2066–U+2069), every other Unicode format character
//!   (category Cf: soft hyphen, zero-width space, word joiner, invisible operators, byte-order
//!   mark, tag characters, …), the line and paragraph separators (U+2028, U+2029) and the Hangul
//!   fillers that draw as blank space (U+115F, U+1160, U+3164, U+FFA0) as `\u{202e}` and so on:
//!   shown, never applied.
//!
//! Everything else, including the zero-width non-joiner and joiner (U+200C, U+200D) that emoji
//! sequences and several scripts need, is kept.
//!
//! [`printable_json`] is the same rule for JSON text shown as such (a device's raw answer, the
//! CLI's JSON lines): JSON escapes backslashes and the C0 controls already, so DEL, the C1
//! controls and the invisible and bidirectional characters are escaped, as JSON `\uXXXX` escapes
//! (a surrogate pair above U+FFFF), and the text stays the same JSON value.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::Write;

/// Whether `c` must be shown as an escape rather than written as it is.
pub(crate) fn needs_escape(c: char) -> bool {
    c == '\\' || c.is_control() || is_format(c) || is_invisible_filler(c)
}

/// The Unicode format characters (general category Cf, Unicode 15.1 `UnicodeData.txt`) but the
/// zero-width non-joiner and joiner, and the line and paragraph separators (Zl, Zp).
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Letters that draw as blank space (the Hangul fillers), which a name can hide behind.
fn is_invisible_filler(c: char) -> bool {
    matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}')
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
    // Outside strings JSON has only ASCII punctuation and whitespace, none of it escaped here.
    let hidden = |c: char| needs_escape(c) && c != '\\' && c >= '\u{7f}';
    escape(json, hidden, |out, c| {
        for unit in c.encode_utf16(&mut [0; 2]) {
            let _ = write!(out, "\\u{unit:04x}");
        }
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

    /// Characters that draw as nothing, or as blank space, are shown: "Kitchen" followed by a tag
    /// space, a soft hyphen, an invisible operator or a Hangul filler is not "Kitchen".
    #[test]
    fn invisible_format_characters_and_fillers_are_visible() {
        assert_eq!(printable("Kitchen\u{e0020}"), "Kitchen\\u{e0020}");
        assert_eq!(
            printable("a\u{ad}b\u{2062}c\u{3164}d\u{180e}"),
            "a\\u{ad}b\\u{2062}c\\u{3164}d\\u{180e}"
        );
        assert_eq!(printable("\u{206a}x"), "\\u{206a}x");
    }

    /// DEL and the C1 controls (`CSI` U+009B clears a terminal) are not escaped by JSON writers;
    /// shown JSON escapes them, and a character above U+FFFF as a surrogate pair.
    #[test]
    fn json_escapes_c1_controls_and_astral_format_characters() {
        let json = serde_json::to_string("\u{9b}2J\u{7f}\u{e0020}").unwrap();
        let shown = printable_json(&json);
        assert_eq!(shown, "\"\\u009b2J\\u007f\\udb40\\udc20\"");
        let back: String = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, "\u{9b}2J\u{7f}\u{e0020}");
    }

    #[test]
    fn a_backslash_is_doubled_so_escapes_stay_unambiguous() {
        assert_eq!(printable("\\u{1b}"), "\\\\u{1b}");
    }
}
