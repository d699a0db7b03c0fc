//! Device text made printable: for any text, `printable` leaves no control, bidirectional or
//! invisible format character to act on a terminal or a page, and `printable_json` over the text's
//! JSON gives JSON that still reads back to the very same text, with none of them either.
#![no_main]

use bluehome_core::text::{printable, printable_json};
use libfuzzer_sys::fuzz_target;

/// What must never reach a reader unescaped: control characters, the bidirectional controls and
/// the line and paragraph separators (the full set `printable` escapes is wider).
fn acts(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let shown = printable(&text);
    assert!(!shown.chars().any(acts), "{shown:?}");
    let json = serde_json::to_string(&*text).unwrap();
    let shown = printable_json(&json);
    // JSON itself escapes the C0 controls; DEL, C1 and the others are printable_json's.
    assert!(!shown.chars().any(acts), "{shown:?}");
    let back: String = serde_json::from_str(&shown).unwrap();
    assert_eq!(back, text);
});
