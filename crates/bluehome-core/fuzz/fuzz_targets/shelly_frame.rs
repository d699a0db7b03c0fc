//! Arbitrary bytes through the JSON-RPC frame parser, the digest-challenge parser and the event
//! parser: never a panic; whatever parses re-encodes to bytes that parse to the same frame.
#![no_main]

use bluehome_core::shelly::auth::Challenge;
use bluehome_core::shelly::frame::{Frame, is_complete_json};
use bluehome_core::shelly::methods::events::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = is_complete_json(data);
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = Challenge::parse(text);
    }
    match Frame::parse(data) {
        Ok(Frame::Response(r)) => {
            assert_eq!(Frame::parse(&r.to_bytes()), Ok(Frame::Response(r)));
        }
        Ok(Frame::Notification(n)) => {
            for e in Event::from_notification(&n) {
                let _ = e;
            }
            assert_eq!(Frame::parse(&n.to_bytes()), Ok(Frame::Notification(n)));
        }
        Ok(Frame::Request(r)) => {
            // Requests drop `jsonrpc` and unknown members; the rest survives.
            let again = Frame::parse(&r.to_bytes());
            assert!(matches!(again, Ok(Frame::Request(_))), "{again:?}");
        }
        Err(_) => {}
    }
});
