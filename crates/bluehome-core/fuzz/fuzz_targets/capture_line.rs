//! Capture lines (`bluehome replay`'s input, the app's import) from arbitrary bytes: never a
//! panic; what parses respects the caps, and the line written back parses to the same record.
#![no_main]

use bluehome_core::capture::{self, MAX_DATA_BYTES, MAX_LINE_BYTES, MAX_NAME_BYTES, MAX_TIME_MS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(record) = capture::parse_line(text) else {
        return;
    };
    assert!(text.len() <= MAX_LINE_BYTES);
    assert!(record.time_ms.is_none_or(|t| t <= MAX_TIME_MS));
    let adv = &record.advertisement;
    assert!(adv.name.as_ref().is_none_or(|n| n.len() <= MAX_NAME_BYTES));
    assert!(adv.service_data.values().all(|d| d.len() <= MAX_DATA_BYTES));
    assert!(
        adv.manufacturer_data
            .values()
            .all(|d| d.len() <= MAX_DATA_BYTES)
    );
    let line = record.to_line();
    if line.len() <= MAX_LINE_BYTES {
        let mut again = capture::parse_line(&line).expect("a written line parses");
        // Recordings never carry a bind key.
        again.bindkey = record.bindkey;
        assert_eq!(again, record, "{line}");
    }
});
