//! Home Assistant matchers from arbitrary JSON text, and fnmatch / Shelly wildcard patterns against
//! arbitrary names: never a panic, never a hang (the input splits at the first NUL into pattern and
//! name).
#![no_main]

use bluehome_core::filter::{Matcher, Pattern};
use bluehome_core::{Advertisement, Connectable, DeviceKey, Uuid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(matcher) = Matcher::from_json(text) {
        let mut adv = Advertisement {
            name: Some("Prodigio_A1".into()),
            ..Default::default()
        };
        adv.service_data.insert(Uuid::from_u16(0xfd3d), vec![0x48]);
        adv.manufacturer_data.insert(2409, vec![0xc1, 0x01]);
        let key: DeviceKey = "AA:BB:CC:DD:EE:FF".parse().unwrap();
        let _ = matcher.matches(&key, &adv, Connectable::Yes);
        let _ = matcher.matches(&key, &adv, Connectable::No);
    }
    let (pattern, name) = text.split_once('\0').unwrap_or((text, "Prodigio_A1"));
    let _ = Pattern::fnmatch(pattern).matches(name);
    let _ = Pattern::shelly(pattern).matches(name);
});
