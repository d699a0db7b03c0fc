//! The manager as a state machine: arbitrary sequences of packets (devices and up to 65,536
//! sources, changing data, RSSI and connectability), clock advances small and across the whole
//! `u64` range, registrations and scan requests. Never a panic; time only moves forward; every
//! event is stamped no later than the clock, and events come out in time order.
#![no_main]

use bluehome_core::filter::{Matcher, ScanOptions};
use bluehome_core::manager::{Config, Manager};
use bluehome_core::{Advertisement, Uuid};
use libfuzzer_sys::fuzz_target;

const KEYS: [&str; 4] = [
    "AA:BB:CC:DD:EE:01",
    "aa:bb:cc:dd:ee:02",
    "opaque-browser-id",
    "AA:BB:CC:DD:EE:04",
];

fuzz_target!(|data: &[u8]| {
    let mut mgr = Manager::new(Config {
        max_devices: 3,
        max_scanners: 32,
        max_sources_per_device: 2,
        max_events: 64,
        ..Config::default()
    });
    let mut now: u64 = 0;
    let mut last_event: u64 = 0;
    let mut callbacks = Vec::new();
    for op in data.chunks(4) {
        let [kind, a, b, c] = [0, 1, 2, 3].map(|i| op.get(i).copied().unwrap_or(0));
        match kind % 10 {
            0..=3 => {
                let mut adv = Advertisement {
                    rssi: Some(-(b as i8 & 0x7f)),
                    ..Default::default()
                };
                match c % 4 {
                    0 => {
                        adv.service_data
                            .insert(Uuid::BTHOME_V2, vec![0x40, 0x00, a, 0x02, b, c]);
                    }
                    1 => {
                        adv.manufacturer_data.insert(u16::from(a % 3), vec![b]);
                    }
                    2 => adv.name = Some(format!("dev{}", a % 5)),
                    _ => adv.add_service_uuid(Uuid::from_u16(u16::from(a % 3))),
                }
                let key = KEYS[usize::from(a) % KEYS.len()];
                // "local", a few recurring gateways, or one of 65,536 names (a capture of many).
                let source = match kind % 4 {
                    0 => "local".to_owned(),
                    1 => format!("gw{}", b % 3),
                    _ => format!("s{}", u16::from_le_bytes([b, c])),
                };
                let _ = mgr.ingest(now, &source, key, c & 0x80 != 0, adv);
            }
            4 => now = now.saturating_add(u64::from(a) * 1000 + u64::from(b)),
            5 => {
                now = now.saturating_add(u64::from(a) * 10_000);
                mgr.advance(now);
            }
            6 => {
                let matcher = match a % 4 {
                    0 => Matcher::default(),
                    1 => {
                        Matcher::from_json(r#"{"manufacturer_id":1,"connectable":false}"#).unwrap()
                    }
                    2 => Matcher::from_json(r#"{"local_name":"dev*"}"#).unwrap(),
                    _ => Matcher::from_json(r#"{"address":"AA:BB:CC:DD:EE:01"}"#).unwrap(),
                };
                if b % 2 == 0 {
                    callbacks.push(mgr.register_callback(now, matcher));
                } else if let Some(id) = callbacks.pop() {
                    mgr.cancel_callback(id);
                }
                mgr.track_unavailable(KEYS[usize::from(c) % KEYS.len()], c % 2 == 0);
                let deadline = now.saturating_add(u64::from(b) * 100);
                let _ = mgr.wait_for(now, Matcher::default(), None, deadline);
            }
            7 => {
                // A jump anywhere in the rest of the clock's range, up to its very end.
                let shift = u32::from(a % 64);
                now = now.saturating_add((u64::from(b) << 8 | u64::from(c)) << shift);
                if a & 0x80 != 0 {
                    now = now.max(u64::MAX - u64::from(b));
                }
                mgr.advance(now);
            }
            8 => {
                let fallback = (u64::from(b) << (a % 64)).max(1);
                mgr.set_fallback_interval(KEYS[usize::from(c) % KEYS.len()], Some(fallback));
            }
            _ => {
                let options = ScanOptions {
                    duration_ms: i64::from(a) * 100 - 1,
                    active: b % 2 == 0,
                    rssi_thr: -i32::from(c % 100),
                    ..ScanOptions::default()
                };
                mgr.submit_scan(now, ["ui", "bg"][usize::from(b) % 2], options);
            }
        }
        let _ = mgr.next_deadline();
        for out in mgr.drain() {
            assert!(out.at_ms <= now, "event from the future");
            assert!(out.at_ms >= last_event, "events out of order");
            last_event = out.at_ms;
        }
    }
    mgr.advance(now.saturating_add(2_000_000));
    for out in mgr.drain() {
        assert!(out.at_ms >= last_event, "events out of order");
        last_event = out.at_ms;
    }
});
