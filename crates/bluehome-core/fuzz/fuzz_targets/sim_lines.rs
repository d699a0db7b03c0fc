//! The simulator's line protocol (`bluehome sim shelly --stdio`, core `sim::line`) from arbitrary
//! bytes split into lines, with the virtual clock: every line gets exactly one answer that is
//! valid JSON with `ok` first, and nothing panics or hangs, whatever the requests do to the
//! simulated gateway.
#![no_main]

use bluehome_core::shelly::rpc::server::DEFAULT_MTU;
use bluehome_core::sim::line::{self, Clock, Session};
use bluehome_core::sim::{Faults, Gateway, GatewayOptions, Peripheral, SensorSpec, SimSensor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sensors = SensorSpec::parse_list("button,ht+enc")
        .unwrap_or_default()
        .into_iter()
        .map(SimSensor::new)
        .collect();
    let gateway = Gateway::new(GatewayOptions::default(), sensors);
    let peripheral = Peripheral::new(gateway, DEFAULT_MTU, Faults::default());
    let mut session = Session::new(peripheral, Clock::Virtual);
    for raw in data.split(|&b| b == b'\n') {
        let answer = match core::str::from_utf8(raw) {
            Ok(text) if text.len() > line::MAX_LINE_BYTES => line::too_long(text.len()),
            Ok(text) => session.handle_line(text, 0),
            Err(e) => line::not_utf8(e.valid_up_to()),
        };
        let json = answer.to_line();
        assert!(json.starts_with("{\"ok\":"), "{json}");
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("answers are JSON");
        assert!(parsed.is_object());
    }
});
