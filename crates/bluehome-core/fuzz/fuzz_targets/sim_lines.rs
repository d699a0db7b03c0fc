//! The simulators' line protocol (`bluehome sim <device> --stdio`, core `sim::line`) from
//! arbitrary bytes split into lines, with the virtual clock, for the Shelly gateway, a BLU device
//! or an Improv device (the first byte picks): every line gets exactly one answer that is valid
//! JSON with `ok` first, and nothing panics or hangs, whatever the requests do to the device.
#![no_main]

use bluehome_core::blu;
use bluehome_core::shelly::rpc::server::DEFAULT_MTU;
use bluehome_core::sim::blu::{BluDevice, BluOptions};
use bluehome_core::sim::improv::{ImprovDevice, ImprovOptions};
use bluehome_core::sim::line::{self, Clock, Device, Session};
use bluehome_core::sim::{Faults, Gateway, GatewayOptions, Peripheral, SensorSpec, SimSensor};
use libfuzzer_sys::fuzz_target;

fn converse<D: Device>(device: D, data: &[u8]) {
    let mut session = Session::new(device, Clock::Virtual);
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
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    match pick % 3 {
        0 => {
            let sensors = SensorSpec::parse_list("button,ht+enc")
                .unwrap_or_default()
                .into_iter()
                .map(SimSensor::new)
                .collect();
            let gateway = Gateway::new(GatewayOptions::default(), sensors);
            converse(Peripheral::new(gateway, DEFAULT_MTU, Faults::default()), data);
        }
        1 => {
            let model = &blu::MODELS[usize::from(pick / 3) % blu::MODELS.len()];
            converse(BluDevice::new(BluOptions::new(model)), data);
        }
        _ => converse(ImprovDevice::new(ImprovOptions::default()), data),
    }
});
