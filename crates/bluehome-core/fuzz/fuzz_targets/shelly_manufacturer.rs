//! Shelly manufacturer data: never panics, always stops, its blocks follow each other, and what it
//! parsed re-encodes to a prefix-equivalent block list that parses back the same.
#![no_main]

use bluehome_core::shelly::manufacturer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = manufacturer::parse(data);
    // The blocks follow each other from byte 0; an error ends the walk.
    let mut at = 0;
    for block in manufacturer::blocks(data) {
        let Ok(block) = block else { break };
        assert_eq!(block.range.start, at);
        assert_eq!(block.range.len(), 1 + block.body.len());
        at = block.range.end;
    }
    assert!(at <= data.len());
    let _ = serde_json::to_string(&parsed).expect("serializes");
    let encoded = manufacturer::encode(&parsed);
    let mut again = manufacturer::parse(&encoded);
    if encoded.is_empty() {
        assert!(again.error.is_some());
        again.error = None;
    }
    let mut expected = parsed;
    expected.error = None;
    assert_eq!(again, expected);
});
