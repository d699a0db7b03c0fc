//! Manager behaviour, one rule a test. The rules are Home Assistant's Bluetooth manager's
//! (`Bluetooth-Devices/habluetooth` `src/habluetooth/manager.py`, `home-assistant/core`
//! `homeassistant/components/bluetooth/`) and the Shelly BLE component's scan options.

use alloc::string::String;
use alloc::vec::Vec;

use super::*;
use crate::advertisement::{Advertisement, Connectable};
use crate::filter::{Matcher, ScanOptions};
use crate::uuid::Uuid;

const A: &str = "AA:BB:CC:DD:EE:01";
const B: &str = "AA:BB:CC:DD:EE:02";
const S: u64 = 1000;

fn adv(rssi: i8, payload: u8) -> Advertisement {
    let mut a = Advertisement {
        rssi: Some(rssi),
        ..Default::default()
    };
    a.manufacturer_data.insert(0x0BA9, alloc::vec![payload]);
    a
}

fn named(name: &str) -> Advertisement {
    Advertisement {
        name: Some(name.into()),
        rssi: Some(-60),
        ..Default::default()
    }
}

fn m(json: &str) -> Matcher {
    Matcher::from_json(json).unwrap()
}

fn events(mgr: &mut Manager) -> Vec<Output> {
    mgr.drain().collect()
}

/// The drained events `pick` maps to something, in order; it drops the others.
fn picked<T>(mgr: &mut Manager, pick: impl FnMut(Output) -> Option<T>) -> Vec<T> {
    mgr.drain().filter_map(pick).collect()
}

fn callbacks(mgr: &mut Manager) -> Vec<(u64, CallbackId, String)> {
    picked(mgr, |o| match o.event {
        Event::Callback { id, info } => Some((o.at_ms, id, info.key.to_string())),
        _ => None,
    })
}

fn unavailable(mgr: &mut Manager) -> Vec<(u64, TrackId)> {
    picked(mgr, |o| match o.event {
        Event::Unavailable { id, .. } => Some((o.at_ms, id)),
        _ => None,
    })
}

fn k(key: &str) -> DeviceKey {
    key.parse().unwrap()
}

/// The scanner whose advertisement of `key` the manager keeps (the device's owner).
fn owner<'m>(mgr: &'m Manager, key: &str) -> &'m str {
    &mgr.last_service_info(&k(key), History::All).unwrap().source
}

fn feed(mgr: &mut Manager, t: u64, source: &str, key: &str, a: Advertisement) {
    mgr.ingest(t, source, &k(key), Connectable::Yes, a);
}

/// Feeds packets `(time, source, key)` in order, each the same `adv(-50, 1)`.
fn feed_each(mgr: &mut Manager, packets: &[(u64, &str, &str)]) {
    for &(t, source, key) in packets {
        feed(mgr, t, source, key, adv(-50, 1));
    }
}

/// A fresh manager with a catch-all callback after it heard A's packets `first` and `second`
/// (each `(time, source, packet)`), and the callbacks `second` fired (`first`'s are drained unseen).
fn fired_by_second(
    first: (u64, &str, Advertisement),
    second: (u64, &str, Advertisement),
) -> (Manager, Vec<(u64, CallbackId, String)>) {
    let mut mgr = Manager::default();
    mgr.register_callback(0, Matcher::default());
    feed(&mut mgr, first.0, first.1, A, first.2);
    events(&mut mgr);
    feed(&mut mgr, second.0, second.1, A, second.2);
    let fired = callbacks(&mut mgr);
    (mgr, fired)
}

// ----- §2.4 callbacks --------------------------------------------------------------------------

#[test]
fn first_packet_fires_a_matching_callback() {
    let mut mgr = Manager::default();
    let id = mgr.register_callback(0, m(r#"{"manufacturer_id":2985}"#));
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    assert_eq!(callbacks(&mut mgr), [(S, id, A.into())]);
}

#[test]
fn rssi_alone_never_fires() {
    let (mgr, fired) = fired_by_second((S, "local", adv(-60, 1)), (2 * S, "local", adv(-40, 1)));
    assert!(fired.is_empty());
    assert_eq!(
        mgr.last_service_info(&k(A), History::Connectable)
            .unwrap()
            .rssi,
        Some(-40)
    );
}

#[test]
fn changed_data_fires_again() {
    let mut mgr = Manager::default();
    mgr.register_callback(0, Matcher::default());
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    feed(&mut mgr, 2 * S, "local", A, adv(-60, 2));
    assert_eq!(callbacks(&mut mgr).len(), 2);
}

#[test]
fn non_matching_callbacks_stay_quiet() {
    let mut mgr = Manager::default();
    mgr.register_callback(0, m(r#"{"manufacturer_id":76}"#));
    mgr.register_callback(0, m(r#"{"local_name":"Prodigio_*"}"#));
    mgr.register_callback(0, m(r#"{"address":"AA:BB:CC:DD:EE:09"}"#));
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    assert!(callbacks(&mut mgr).is_empty());
}

#[test]
fn callbacks_fire_in_registration_order() {
    let mut mgr = Manager::default();
    let first = mgr.register_callback(0, m(r#"{"manufacturer_id":2985}"#));
    let second = mgr.register_callback(0, m(r#"{"address":"aa:bb:cc:dd:ee:01"}"#));
    let third = mgr.register_callback(0, Matcher::default());
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    let ids: Vec<_> = callbacks(&mut mgr).into_iter().map(|c| c.1).collect();
    assert_eq!(ids, [first, second, third]);
}

#[test]
fn registration_replays_matching_history() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    feed(&mut mgr, S, "local", B, named("other"));
    let id = mgr.register_callback(5 * S, m(r#"{"manufacturer_id":2985}"#));
    assert_eq!(callbacks(&mut mgr), [(5 * S, id, A.into())]);
}

#[test]
fn address_matcher_replays_only_that_device() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    feed(&mut mgr, S, "local", B, adv(-60, 1));
    mgr.register_callback(2 * S, m(r#"{"address":"aa:bb:cc:dd:ee:02"}"#));
    let got = callbacks(&mut mgr);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2, B);
}

#[test]
fn connectable_matchers_ignore_non_connectable_packets() {
    let mut mgr = Manager::default();
    let strict = mgr.register_callback(0, Matcher::default());
    let loose = mgr.register_callback(0, m(r#"{"connectable":false}"#));
    mgr.ingest(S, "proxy", &k(A), Connectable::No, adv(-60, 1));
    let ids: Vec<_> = callbacks(&mut mgr).into_iter().map(|c| c.1).collect();
    assert_eq!(ids, [loose]);
    assert_ne!(ids[0], strict);
    assert!(!mgr.address_present(&k(A), History::Connectable));
    assert!(mgr.address_present(&k(A), History::All));
}

#[test]
fn cancelled_callbacks_stop_firing() {
    let mut mgr = Manager::default();
    let id = mgr.register_callback(0, Matcher::default());
    assert!(mgr.cancel_callback(id));
    assert!(!mgr.cancel_callback(id));
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    assert!(callbacks(&mut mgr).is_empty());
}

#[test]
fn matching_uses_data_merged_across_packets() {
    // §3.1: a name that came only in the scan response still counts for later packets.
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, named("Prodigio_A1"));
    let id = mgr.register_callback(
        S,
        m(r#"{"local_name":"Prodigio_*","manufacturer_id":2985}"#),
    );
    assert!(callbacks(&mut mgr).is_empty());
    feed(&mut mgr, 2 * S, "local", A, adv(-60, 1));
    assert_eq!(callbacks(&mut mgr), [(2 * S, id, A.into())]);
    let info = mgr.last_service_info(&k(A), History::Connectable).unwrap();
    assert_eq!(info.name(), "Prodigio_A1");
}

#[test]
fn keys_are_case_insensitive_mac_addresses() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", "aa:bb:cc:dd:ee:01", adv(-60, 1));
    feed(&mut mgr, 2 * S, "local", A, adv(-60, 1));
    assert_eq!(mgr.device_count(), 1);
    assert!(mgr.address_present(&k("aa-bb-cc-dd-ee-01"), History::Connectable));
}

#[test]
fn browser_ids_are_kept_verbatim() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", "q1w2e3r4t5==", adv(-60, 1));
    assert!(mgr.address_present(&k("q1w2e3r4t5=="), History::Connectable));
    assert!(!mgr.address_present(&k("Q1W2E3R4T5=="), History::Connectable));
}

// ----- §3.4 best source ------------------------------------------------------------------------

/// A step of an owner-arbitration case, all about device A.
enum Step {
    /// A packet of A: at this time, from this source, with this RSSI and payload.
    Packet(u64, &'static str, i8, u8),
    /// The scanner that must own A now.
    Owner(&'static str),
    /// A connectable scanner registered (at time 0).
    Register(&'static str, ScannerKind),
    /// The scanner unregistered.
    Unregister(&'static str),
}

/// Runs each case's steps on a fresh manager; a failed owner check names the case and step.
fn check_owners(cases: &[(&str, &[Step])]) {
    for &(case, steps) in cases {
        let mut mgr = Manager::default();
        for (i, step) in steps.iter().enumerate() {
            match *step {
                Step::Packet(t, source, rssi, payload) => {
                    feed(&mut mgr, t, source, A, adv(rssi, payload));
                }
                Step::Owner(want) => assert_eq!(owner(&mgr, A), want, "{case}, step {i}"),
                Step::Register(name, kind) => {
                    mgr.register_scanner(0, name, Connectable::Yes, kind)
                        .unwrap();
                }
                Step::Unregister(name) => mgr.unregister_scanner(name).unwrap(),
            }
        }
    }
}

#[test]
fn the_owner_changes_only_for_a_much_stronger_or_a_stale_owner() {
    use Step::{Owner, Packet, Register, Unregister};
    check_owners(&[
        (
            "a weaker second source does not take over",
            &[
                Packet(S, "local", -70, 1),
                Packet(2 * S, "proxy", -60, 2),
                Owner("local"),
            ],
        ),
        (
            "a source more than 16 dB stronger takes over",
            &[
                Packet(S, "local", -80, 1),
                Packet(2 * S, "proxy", -64, 1), // exactly 16 dB: not enough
                Owner("local"),
                Packet(3 * S, "proxy", -63, 1),
                Owner("proxy"),
            ],
        ),
        (
            "a stale owner loses after the fallback 900 s",
            &[
                Register("proxy", ScannerKind::Local),
                Packet(S, "local", -50, 1),
                Packet(S + 900 * S, "proxy", -90, 1),
                Owner("local"),
                Packet(S + 900 * S + 1, "proxy", -90, 1),
                Owner("proxy"),
            ],
        ),
        (
            // The gateway sends nothing for more than 90 s, so it no longer counts as scanning.
            "a silent remote owner loses at once",
            &[
                Packet(S, "gateway", -50, 1),
                Packet(92 * S, "local", -90, 1),
                Owner("local"),
            ],
        ),
        (
            "an unregistered owner loses at once",
            &[
                Register("gw", ScannerKind::Remote),
                Packet(S, "gw", -50, 1),
                Unregister("gw"),
                Packet(2 * S, "local", -90, 1),
                Owner("local"),
            ],
        ),
    ]);
}

#[test]
fn losing_source_does_not_fire_callbacks() {
    let (_, fired) = fired_by_second((S, "local", adv(-70, 1)), (2 * S, "proxy", adv(-70, 2)));
    assert!(fired.is_empty());
}

#[test]
fn stale_owner_loses_after_learned_interval_plus_5_s() {
    let mut mgr = Manager::default();
    for i in 0..16 {
        feed(&mut mgr, i * 2 * S, "local", A, adv(-50, 1));
    }
    assert_eq!(mgr.learned_interval_ms(&k(A)), Some(2 * S));
    let last = 15 * 2 * S;
    feed(&mut mgr, last + 7 * S, "local2", A, adv(-90, 1));
    assert_eq!(owner(&mgr, A), "local");
    feed(&mut mgr, last + 7 * S + 1, "local2", A, adv(-90, 1));
    assert_eq!(owner(&mgr, A), "local2");
}

#[test]
fn each_source_keeps_its_own_view() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, adv(-50, 1));
    feed(&mut mgr, 2 * S, "proxy", A, named("Shelly"));
    let sources: Vec<_> = mgr
        .service_info_by_source(&k(A))
        .map(|i| (String::from(&*i.source), i.data.name.clone()))
        .collect();
    assert_eq!(
        sources,
        [
            ("local".into(), None),
            ("proxy".into(), Some("Shelly".into()))
        ]
    );
    // Unregistering a source forgets its view and only its view.
    mgr.unregister_scanner("proxy").unwrap();
    let left: Vec<_> = mgr
        .service_info_by_source(&k(A))
        .map(|i| String::from(&*i.source))
        .collect();
    assert_eq!(left, ["local"]);
}

#[test]
fn a_packet_without_an_rssi_counts_as_the_weakest() {
    // habluetooth: a missing RSSI is `NO_RSSI_VALUE` (-127) in the arbitration.
    let silent = || Advertisement {
        rssi: None,
        ..adv(0, 1)
    };
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, adv(-100, 1));
    feed(&mut mgr, 2 * S, "proxy", A, silent());
    assert_eq!(owner(&mgr, A), "local");
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, silent());
    feed(&mut mgr, 2 * S, "proxy", A, adv(-110, 1));
    assert_eq!(owner(&mgr, A), "proxy");
}

#[test]
fn a_sources_view_older_than_its_expiry_starts_afresh() {
    // A scanner's data older than `source_expire_ms` (habluetooth's 195 s) is not merged into
    // its next packet.
    let expire = Config::default().source_expire_ms;
    let name = |mgr: &Manager| {
        mgr.service_info_by_source(&k(A))
            .next()
            .and_then(|i| i.data.name.clone())
    };
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, named("Shelly"));
    feed(&mut mgr, S + expire, "local", A, adv(-60, 1));
    assert_eq!(name(&mgr).as_deref(), Some("Shelly"));
    feed(&mut mgr, 2 * S + 2 * expire, "local", A, adv(-60, 1));
    assert_eq!(name(&mgr), None);
}

/// The scanner of A's connectable entry, and its RSSI.
fn connectable_entry(mgr: &Manager) -> (String, Option<i8>) {
    let info = mgr.last_service_info(&k(A), History::Connectable).unwrap();
    (String::from(&*info.source), info.rssi)
}

#[test]
fn a_weaker_connectable_packet_leaves_the_owners_connectable_entry() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, adv(-50, 1));
    feed(&mut mgr, 2 * S, "proxy", A, adv(-60, 1));
    assert_eq!(owner(&mgr, A), "local");
    assert_eq!(connectable_entry(&mgr), ("local".into(), Some(-50)));
}

#[test]
fn a_connectable_packet_the_owner_turned_away_replaces_a_connectable_entry_that_loses() {
    // habluetooth `_scanner_adv_received`: a connectable packet that loses to the owner is still
    // the connectable entry, unless the entry there is the owner's own packet or wins the same
    // test against it (another scanner's, still scanning, preferred).
    let hear = |mgr: &mut Manager, t: u64, source: &str, connectable: Connectable, rssi: i8| {
        mgr.ingest(t, source, &k(A), connectable, adv(rssi, 1));
    };
    let mut mgr = Manager::default();
    // The owner's connectable entry is an older packet than the one it owns with, and 20 dB
    // weaker than proxy's.
    hear(&mut mgr, S, "local", Connectable::Yes, -80);
    hear(&mut mgr, 2 * S, "local", Connectable::No, -50);
    hear(&mut mgr, 3 * S, "proxy", Connectable::Yes, -60);
    assert_eq!(owner(&mgr, A), "local");
    assert_eq!(connectable_entry(&mgr), ("proxy".into(), Some(-60)));
    // The entry's own scanner replaces it, even with a weaker packet.
    hear(&mut mgr, 4 * S, "proxy", Connectable::Yes, -70);
    assert_eq!(connectable_entry(&mgr), ("proxy".into(), Some(-70)));
    // Another scanner's weaker packet does not while proxy scans...
    hear(&mut mgr, 5 * S, "proxy2", Connectable::Yes, -75);
    assert_eq!(connectable_entry(&mgr), ("proxy".into(), Some(-70)));
    // ...and does once proxy has been silent past `remote_silence_ms`.
    let silent = 4 * S + Config::default().remote_silence_ms + 1;
    hear(&mut mgr, silent, "local", Connectable::No, -50);
    hear(&mut mgr, silent, "proxy2", Connectable::Yes, -75);
    assert_eq!(owner(&mgr, A), "local");
    assert_eq!(connectable_entry(&mgr), ("proxy2".into(), Some(-75)));
}

// ----- §3.5 / §4 availability ----------------------------------------------------------------

#[test]
fn interval_needs_sixteen_packets() {
    let mut mgr = Manager::default();
    for i in 0..15 {
        feed(&mut mgr, i * S, "local", A, adv(-50, 1));
    }
    assert_eq!(mgr.learned_interval_ms(&k(A)), None);
    feed(&mut mgr, 15 * S, "local", A, adv(-50, 1));
    assert_eq!(mgr.learned_interval_ms(&k(A)), Some(S));
    // Learning starts over when the history is cleared and when the owner is unregistered.
    mgr.clear_history(&k(A));
    feed(&mut mgr, 16 * S, "local", A, adv(-50, 1));
    assert_eq!(mgr.learned_interval_ms(&k(A)), None, "history cleared");
    for i in 17..32 {
        feed(&mut mgr, i * S, "local", A, adv(-50, 1));
    }
    assert_eq!(mgr.learned_interval_ms(&k(A)), Some(S));
    mgr.unregister_scanner("local").unwrap();
    assert_eq!(mgr.learned_interval_ms(&k(A)), None, "owner unregistered");
}

#[test]
fn unavailable_fires_exactly_at_interval_plus_5_s() {
    let mut mgr = Manager::default();
    let id = mgr.track_unavailable(&k(A), History::All);
    for i in 0..16 {
        feed(&mut mgr, i * 10 * S, "local", A, adv(-50, 1));
    }
    let last = 150 * S;
    mgr.advance(last + 15 * S - 1);
    assert!(unavailable(&mut mgr).is_empty());
    mgr.advance(10_000 * S);
    assert_eq!(unavailable(&mut mgr), [(last + 15 * S, id)]);
    assert!(!mgr.address_present(&k(A), History::All));
}

#[test]
fn unavailable_falls_back_to_900_s() {
    let mut mgr = Manager::default();
    let id = mgr.track_unavailable(&k(A), History::All);
    feed(&mut mgr, S, "local", A, adv(-50, 1));
    assert_eq!(mgr.next_deadline(), Some(S + 900 * S));
    mgr.advance(S + 900 * S);
    assert_eq!(unavailable(&mut mgr), [(S + 900 * S, id)]);
}

#[test]
fn a_packet_at_the_deadline_keeps_the_device() {
    let mut mgr = Manager::default();
    mgr.track_unavailable(&k(A), History::All);
    feed(&mut mgr, 0, "local", A, adv(-50, 1));
    feed(&mut mgr, 900 * S, "local", A, adv(-50, 1));
    mgr.advance(1000 * S);
    assert!(unavailable(&mut mgr).is_empty());
    assert!(mgr.address_present(&k(A), History::All));
}

#[test]
fn fallback_interval_override_applies_while_none_is_learned() {
    let mut mgr = Manager::default();
    let id = mgr.track_unavailable(&k(A), History::All);
    feed(&mut mgr, 0, "local", A, adv(-50, 1));
    mgr.set_fallback_interval(&k(A), Some(60 * S));
    feed(&mut mgr, S, "local", A, adv(-50, 1));
    mgr.advance(100 * S);
    assert_eq!(unavailable(&mut mgr), [(66 * S, id)]);
}

#[test]
fn connectable_tracking_ignores_non_connectable_packets() {
    let mut mgr = Manager::default();
    let conn = mgr.track_unavailable(&k(A), History::Connectable);
    let any = mgr.track_unavailable(&k(A), History::All);
    feed(&mut mgr, 0, "local", A, adv(-50, 1));
    for t in 1..=20 {
        mgr.ingest(t * 60 * S, "proxy", &k(A), Connectable::No, adv(-50, 1));
    }
    // Only non-connectable packets since t = 0: the connectable entry goes at 900 s, the device
    // itself stays present for any-source tracking.
    assert_eq!(unavailable(&mut mgr), [(900 * S, conn)]);
    assert!(!mgr.address_present(&k(A), History::Connectable));
    assert!(mgr.address_present(&k(A), History::All));
    mgr.advance(3000 * S);
    assert_eq!(unavailable(&mut mgr), [(1200 * S + 900 * S, any)]);
}

#[test]
fn untracked_devices_expire_silently() {
    let mut mgr = Manager::default();
    mgr.track_unavailable(&k(B), History::All);
    feed(&mut mgr, 0, "local", A, adv(-50, 1));
    mgr.advance(2000 * S);
    assert!(events(&mut mgr).is_empty());
    assert_eq!(mgr.discovered(History::All).count(), 0);
}

#[test]
fn cancelled_tracker_is_quiet() {
    let mut mgr = Manager::default();
    let id = mgr.track_unavailable(&k(A), History::All);
    assert!(mgr.cancel_tracker(id));
    feed(&mut mgr, 0, "local", A, adv(-50, 1));
    mgr.advance(2000 * S);
    assert!(unavailable(&mut mgr).is_empty());
}

#[test]
fn discovered_lists_present_devices() {
    let mut mgr = Manager::default();
    feed(&mut mgr, 0, "local", A, adv(-50, 1));
    mgr.ingest(0, "proxy", &k(B), Connectable::No, adv(-50, 1));
    assert_eq!(mgr.discovered(History::Connectable).count(), 1);
    assert_eq!(mgr.discovered(History::All).count(), 2);
}

#[test]
fn a_device_that_returns_after_unavailable_is_new_again() {
    let mut mgr = Manager::default();
    mgr.register_callback(0, Matcher::default());
    feed(&mut mgr, 0, "local", A, adv(-50, 1));
    mgr.advance(1000 * S);
    events(&mut mgr);
    feed(&mut mgr, 1000 * S, "local", A, adv(-50, 1));
    assert_eq!(callbacks(&mut mgr).len(), 1);
}

#[test]
fn clear_history_makes_an_identical_packet_new() {
    let mut mgr = Manager::default();
    mgr.register_callback(0, Matcher::default());
    feed(&mut mgr, 0, "local", A, adv(-50, 1));
    mgr.clear_history(&k(A));
    feed(&mut mgr, S, "local", A, adv(-50, 1));
    assert_eq!(callbacks(&mut mgr).len(), 2);
}

#[test]
fn rediscover_replays_to_matching_callbacks() {
    let mut mgr = Manager::default();
    let id = mgr.register_callback(0, m(r#"{"manufacturer_id":2985}"#));
    feed(&mut mgr, 0, "local", A, adv(-50, 1));
    events(&mut mgr);
    mgr.rediscover_address(5 * S, &k(A));
    assert_eq!(callbacks(&mut mgr), [(5 * S, id, A.into())]);
}

// ----- waiters ----------------------------------------------------------------------------------

#[test]
fn waiter_takes_the_first_packet_its_predicate_accepts() {
    let mut mgr = Manager::default();
    let id = mgr.wait_for(
        0,
        m(r#"{"manufacturer_id":2985}"#),
        Some(Box::new(|i: &ServiceInfo| {
            i.data.manufacturer_data.get(&0x0BA9) == Some(&alloc::vec![2])
        })),
        60 * S,
    );
    feed(&mut mgr, S, "local", A, adv(-50, 1));
    assert!(events(&mut mgr).is_empty());
    feed(&mut mgr, 2 * S, "local", A, adv(-50, 2));
    feed(&mut mgr, 3 * S, "local", A, adv(-50, 3));
    let done: Vec<_> = picked(&mut mgr, |o| match o.event {
        Event::WaiterDone { id, .. } => Some((o.at_ms, id)),
        _ => None,
    });
    assert_eq!(done, [(2 * S, id)]);
    assert!(!mgr.cancel_waiter(id));
}

#[test]
fn waiter_times_out_at_its_deadline() {
    let mut mgr = Manager::default();
    let id = mgr.wait_for(0, m(r#"{"manufacturer_id":76}"#), None, 30 * S);
    // A later waiter stays until its own deadline; a cancelled one never times out.
    let later = mgr.wait_for(0, m(r#"{"manufacturer_id":76}"#), None, 200 * S);
    let cancelled = mgr.wait_for(0, m(r#"{"manufacturer_id":76}"#), None, 20 * S);
    assert!(mgr.cancel_waiter(cancelled));
    assert_eq!(mgr.next_deadline(), Some(30 * S));
    feed(&mut mgr, S, "local", A, adv(-50, 1));
    mgr.advance(100 * S);
    let out = events(&mut mgr);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].at_ms, 30 * S);
    assert!(matches!(out[0].event, Event::WaiterTimedOut { id: w } if w == id));
    assert!(mgr.cancel_waiter(later));
}

#[test]
fn waiter_resolves_from_history_at_once() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, adv(-50, 1));
    let id = mgr.wait_for(5 * S, m(r#"{"manufacturer_id":2985}"#), None, 60 * S);
    let out = events(&mut mgr);
    assert!(matches!(out[0].event, Event::WaiterDone { id: w, .. } if w == id));
    assert_eq!(mgr.next_deadline(), Some(S + 900 * S));
}

// ----- scan requests ------------------------------------------------------------------------------

fn scan_events(mgr: &mut Manager) -> Vec<(u64, Option<ScanOptions>)> {
    picked(mgr, |o| match o.event {
        Event::ScanChanged { options } => Some((o.at_ms, options)),
        _ => None,
    })
}

fn deliveries(mgr: &mut Manager) -> Vec<(String, String)> {
    picked(mgr, |o| match o.event {
        Event::Delivery { client, info } => Some((String::from(&*client), info.key.to_string())),
        _ => None,
    })
}

/// `client` asks at time 0 for a scan with the options `json`.
fn submit_json(mgr: &mut Manager, client: &str, json: &str) {
    mgr.submit_scan(0, client, ScanOptions::from_json(json).unwrap());
}

/// How many deliveries A's packets `(time, packet)` make, the scan changes before them drained.
fn deliveries_of(
    mgr: &mut Manager,
    packets: impl IntoIterator<Item = (u64, Advertisement)>,
) -> usize {
    events(mgr);
    for (t, a) in packets {
        feed(mgr, t, "local", A, a);
    }
    deliveries(mgr).len()
}

#[test]
fn submitting_a_request_starts_the_scan() {
    let mut mgr = Manager::default();
    mgr.submit_scan(0, "ui", ScanOptions::default());
    let got = scan_events(&mut mgr);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.as_ref().unwrap().duration_ms, 5000);
}

#[test]
fn requests_expire_and_the_scan_stops() {
    let mut mgr = Manager::default();
    mgr.submit_scan(0, "ui", ScanOptions::default());
    mgr.submit_scan(
        1000,
        "bg",
        ScanOptions {
            duration_ms: 10_000,
            active: true,
            ..Default::default()
        },
    );
    mgr.advance(20_000);
    let got = scan_events(&mut mgr);
    let summary: Vec<_> = got
        .iter()
        .map(|(t, o)| (*t, o.as_ref().map(|o| (o.active, o.duration_ms))))
        .collect();
    // ui alone; ui + bg (active, ends at 11 000); ui expires at 5 000 (nothing changes: bg is
    // already the latest and active); bg expires at 11 000.
    assert_eq!(
        summary,
        [
            (0, Some((false, 5000))),
            (1000, Some((true, 10_000))),
            (11_000, None)
        ]
    );
}

#[test]
fn an_expiry_that_changes_the_combination_is_reported() {
    let mut mgr = Manager::default();
    mgr.submit_scan(
        0,
        "a",
        ScanOptions {
            active: true,
            duration_ms: 1000,
            ..Default::default()
        },
    );
    mgr.submit_scan(0, "b", ScanOptions::default());
    mgr.advance(1000);
    let got = scan_events(&mut mgr);
    assert_eq!(got.last().unwrap().0, 1000);
    let o = got.last().unwrap().1.clone().unwrap();
    assert!(!o.active);
    assert_eq!(o.duration_ms, 4000);
}

#[test]
fn each_client_gets_what_its_own_filters_accept() {
    let mut mgr = Manager::default();
    submit_json(
        &mut mgr,
        "shelly",
        r#"{"duration_ms":-1,"filters":[{"manufacturerData":{"companyIdentifier":2985}}]}"#,
    );
    submit_json(
        &mut mgr,
        "names",
        r#"{"duration_ms":-1,"filters":[{"name":"SB*"}]}"#,
    );
    events(&mut mgr);
    feed(&mut mgr, S, "local", A, adv(-50, 1));
    feed(&mut mgr, S, "local", B, named("SBHT"));
    assert_eq!(
        deliveries(&mut mgr),
        [("shelly".into(), A.into()), ("names".into(), B.into())]
    );
}

#[test]
fn each_client_gets_what_its_own_rssi_threshold_accepts() {
    let mut mgr = Manager::default();
    submit_json(&mut mgr, "near", r#"{"duration_ms":-1,"rssi_thr":-60}"#);
    submit_json(&mut mgr, "all", r#"{"duration_ms":-1}"#);
    events(&mut mgr);
    feed(&mut mgr, S, "local", A, adv(-70, 1));
    feed(&mut mgr, S, "local", B, adv(-50, 1));
    assert_eq!(
        deliveries(&mut mgr),
        [
            ("all".into(), A.into()),
            ("near".into(), B.into()),
            ("all".into(), B.into())
        ]
    );
}

#[test]
fn repeats_are_delivered_every_time() {
    let mut mgr = Manager::default();
    submit_json(&mut mgr, "ui", r#"{"duration_ms":-1}"#);
    let heard = [(S, adv(-70, 1)), (2 * S, adv(-70, 1))];
    assert_eq!(deliveries_of(&mut mgr, heard), 2);
}

#[test]
fn nothing_is_delivered_at_or_after_expiry() {
    let mut mgr = Manager::default();
    mgr.submit_scan(0, "ui", ScanOptions::default());
    let heard = [(4999, adv(-70, 1)), (5000, adv(-70, 2))];
    assert_eq!(deliveries_of(&mut mgr, heard), 1);
}

#[test]
fn replacing_a_request_keeps_one_per_client() {
    let mut mgr = Manager::default();
    mgr.submit_scan(0, "ui", ScanOptions::default());
    mgr.submit_scan(0, "ui", ScanOptions::default());
    events(&mut mgr);
    feed(&mut mgr, 1, "local", A, adv(-70, 1));
    assert_eq!(deliveries(&mut mgr).len(), 1);
    mgr.cancel_scan(2, "ui");
    assert_eq!(scan_events(&mut mgr), [(2, None)]);
}

// ----- scanners ----------------------------------------------------------------------------------

#[test]
fn scanner_count_distinguishes_connectable_sources() {
    let mut mgr = Manager::default();
    mgr.register_scanner(0, "local", Connectable::Yes, ScannerKind::Local)
        .unwrap();
    mgr.register_scanner(0, "gw", Connectable::No, ScannerKind::Remote)
        .unwrap();
    assert_eq!(mgr.scanner_count(History::Connectable), 1);
    assert_eq!(mgr.scanner_count(History::All), 2);
    assert_eq!(
        mgr.register_scanner(0, "gw", Connectable::No, ScannerKind::Remote),
        Err(Error::DuplicateScanner {
            source: "gw".into()
        })
    );
    mgr.unregister_scanner("gw").unwrap();
    assert_eq!(mgr.scanner_count(History::All), 1);
    // A source first heard with beacons becomes connectable when it relays a connectable packet.
    mgr.ingest(S, "proxy", &k(A), Connectable::No, adv(-50, 1));
    assert_eq!(mgr.scanner_count(History::Connectable), 1);
    mgr.ingest(2 * S, "proxy", &k(A), Connectable::Yes, adv(-50, 1));
    assert_eq!(mgr.scanner_count(History::Connectable), 2);
    let unknown = mgr.unregister_scanner("gw").unwrap_err();
    assert_eq!(unknown.to_string(), r#"no scanner named "gw""#);
    assert_eq!(
        Error::DuplicateScanner {
            source: "gw".into()
        }
        .to_string(),
        r#"scanner "gw" is already registered"#
    );
    // Debug shows counts, not the table; the scanners it knows include the unregistered one.
    assert_eq!(
        format!("{mgr:?}"),
        "Manager { devices: 1, scanners: 3, registrations: 0, events: 0, .. }"
    );
}

#[test]
fn remote_scanner_is_stale_after_90_s_of_silence() {
    let mut mgr = Manager::default();
    mgr.register_scanner(0, "gw", Connectable::No, ScannerKind::Remote)
        .unwrap();
    assert!(mgr.scanner_is_scanning(90 * S, "gw"));
    assert!(!mgr.scanner_is_scanning(90 * S + 1, "gw"));
    mgr.ingest(100 * S, "gw", &k(A), Connectable::No, adv(-50, 1));
    assert!(mgr.scanner_is_scanning(150 * S, "gw"));
}

/// Scanners used to be numbered with a `u16` that wrapped: the 65,537th source took the number of
/// the first, so its devices were judged by the wrong scanner's silence. Here "x" owns D and is
/// heard now; "y" is 40 dB weaker and must not take over (no callback), whatever came before.
#[test]
fn sixty_five_thousand_sources_do_not_confuse_owners() {
    let mut mgr = Manager::default();
    for i in 0..65_536u32 {
        feed(
            &mut mgr,
            0,
            &format!("s{i}"),
            "AA:BB:CC:00:00:01",
            adv(-50, 1),
        );
    }
    let id = mgr.register_callback(0, Matcher::default());
    events(&mut mgr);
    feed(&mut mgr, 200 * S, "x", A, adv(-40, 1));
    assert_eq!(callbacks(&mut mgr), [(200 * S, id, A.into())]);
    feed(&mut mgr, 200 * S + 1, "y", A, adv(-80, 2));
    assert_eq!(callbacks(&mut mgr), []);
    let info = mgr.last_service_info(&k(A), History::All).unwrap();
    assert_eq!(&*info.source, "x");
}

#[test]
fn scanner_table_forgets_the_least_recently_heard() {
    let mut mgr = Manager::new(Config {
        max_scanners: 2,
        ..Default::default()
    });
    feed_each(
        &mut mgr,
        &[(1, "s1", A), (2, "s2", A), (3, "s1", A), (4, "s3", A)],
    );
    assert_eq!(mgr.scanner_count(History::All), 2);
    assert!(mgr.scanner_is_scanning(4, "s1"));
    assert!(
        !mgr.scanner_is_scanning(4, "s2"),
        "s2 was heard least recently"
    );
    assert!(mgr.scanner_is_scanning(4, "s3"));
}

/// A clock near `u64::MAX` (a capture time of 1.8e16 s) used to overflow `last seen + limit`:
/// a panic in debug builds, a deadline in the past (events out of order) in release builds.
#[test]
fn deadlines_near_the_end_of_time_saturate() {
    let mut mgr = Manager::default();
    let gone = mgr.track_unavailable(&k(A), History::All);
    let late = u64::MAX - 10;
    feed(&mut mgr, late, "local", A, adv(-50, 1));
    assert_eq!(mgr.next_deadline(), Some(u64::MAX));
    mgr.advance(u64::MAX);
    assert_eq!(unavailable(&mut mgr), [(u64::MAX, gone)]);

    // An interval as long as the clock: `interval + 5 s` wrapped to a deadline 7 s after the
    // packet, so the device went unavailable at once.
    let mut mgr = Manager::default();
    let gone = mgr.track_unavailable(&k(B), History::All);
    feed(&mut mgr, S, "local", B, adv(-50, 1));
    mgr.set_fallback_interval(&k(B), Some(u64::MAX - 1));
    feed(&mut mgr, 2 * S, "local", B, adv(-50, 1));
    mgr.advance(1_000_000 * S);
    assert!(mgr.address_present(&k(B), History::All));
    assert_eq!(unavailable(&mut mgr), []);
    mgr.advance(u64::MAX);
    assert_eq!(unavailable(&mut mgr), [(u64::MAX, gone)]);
}

/// Found by the `manager_ops` fuzz target: a waiter due at 7.4 s, then a scan request at 74 s
/// (no `advance` between): the scan change came out stamped 74 s, the time-out after it stamped
/// 7.4 s. Calls that take the time now fire what is due before it first, as `ingest` does.
#[test]
fn events_come_out_in_time_order_whatever_the_calls() {
    let mut mgr = Manager::default();
    let waiter = mgr.wait_for(0, Matcher::default(), None, 7_400);
    mgr.submit_scan(74_001, "ui", ScanOptions::default());
    let times: Vec<u64> = events(&mut mgr).iter().map(|o| o.at_ms).collect();
    assert_eq!(times, [7_400, 74_001]);
    assert!(!mgr.cancel_waiter(waiter), "timed out already");

    // A deadline already past times out at once, not in the past.
    let mut mgr = Manager::default();
    mgr.register_callback(5 * S, Matcher::default());
    mgr.wait_for(5 * S, Matcher::default(), None, S);
    mgr.advance(5 * S);
    let times: Vec<u64> = events(&mut mgr).iter().map(|o| o.at_ms).collect();
    assert_eq!(times, [5 * S]);
}

/// Found by the `manager_ops` fuzz target: a shorter fallback interval brought a device's
/// deadline forward (5 s) without queueing it, so it fired with the old timer (900 s), after a
/// waiter's time-out at 19.6 s, stamped 5 s: out of order.
#[test]
fn a_shorter_fallback_interval_is_queued_in_time() {
    let mut mgr = Manager::default();
    let gone = mgr.track_unavailable(&k(A), History::All);
    let waiter = mgr.wait_for(0, m(r#"{"address":"AA:BB:CC:DD:EE:09"}"#), None, 19_600);
    feed(&mut mgr, 0, "local", A, adv(-50, 1));
    mgr.set_fallback_interval(&k(A), Some(1));
    mgr.advance(2_000 * S);
    let out: Vec<(u64, bool)> = picked(&mut mgr, |o| match o.event {
        Event::Unavailable { id, .. } => Some((o.at_ms, id == gone)),
        Event::WaiterTimedOut { id } => Some((o.at_ms, id == waiter)),
        _ => None,
    });
    assert_eq!(out, [(5_001, true), (19_600, true)]);
}

// ----- bounds ---------------------------------------------------------------------------------

#[test]
fn device_cap_evicts_the_least_recently_seen() {
    let mut mgr = Manager::new(Config {
        max_devices: 2,
        ..Default::default()
    });
    let third = "AA:BB:CC:DD:EE:03";
    feed_each(
        &mut mgr,
        &[
            (1, "local", A),
            (2, "local", B),
            (3, "local", A),
            (4, "local", third),
        ],
    );
    assert_eq!(mgr.device_count(), 2);
    assert!(mgr.address_present(&k(A), History::Connectable));
    assert!(!mgr.address_present(&k(B), History::Connectable));
}

#[test]
fn source_cap_drops_the_oldest_source() {
    let mut mgr = Manager::new(Config {
        max_sources_per_device: 2,
        ..Default::default()
    });
    feed_each(&mut mgr, &[(1, "s1", A), (2, "s2", A), (3, "s3", A)]);
    let sources: Vec<_> = mgr
        .service_info_by_source(&k(A))
        .map(|i| String::from(&*i.source))
        .collect();
    assert_eq!(sources.len(), 2);
    assert!(!sources.contains(&"s1".into()));
}

#[test]
fn undrained_events_are_capped() {
    let mut mgr = Manager::new(Config {
        max_events: 3,
        ..Default::default()
    });
    mgr.register_callback(0, Matcher::default());
    for i in 0..5 {
        feed(&mut mgr, i, "local", A, adv(-50, i as u8));
    }
    assert_eq!(events(&mut mgr).len(), 3);
    assert_eq!(mgr.dropped_events(), 2);
}

#[test]
fn service_uuid_and_service_data_matchers_dispatch() {
    let mut mgr = Manager::default();
    let by_uuid = mgr.register_callback(0, m(r#"{"service_uuid":"180f"}"#));
    let by_data = mgr.register_callback(0, m(r#"{"service_data_uuid":"fcd2"}"#));
    let mut a = adv(-50, 1);
    a.add_service_uuid(Uuid::from_u16(0x180F));
    feed(&mut mgr, 0, "local", A, a);
    let mut b = adv(-50, 1);
    b.service_data.insert(Uuid::BTHOME_V2, alloc::vec![0x40]);
    feed(&mut mgr, 0, "local", B, b);
    let got: Vec<_> = callbacks(&mut mgr)
        .into_iter()
        .map(|c| (c.1, c.2))
        .collect();
    assert_eq!(got, [(by_uuid, A.into()), (by_data, B.into())]);
}

#[test]
fn connectable_and_all_expire_together_with_a_learned_interval() {
    // Regression: expiring the all-sources entry used to reset the interval before the
    // connectable entry, due at the same time, was checked.
    let mut mgr = Manager::default();
    let conn = mgr.track_unavailable(&k(A), History::Connectable);
    let any = mgr.track_unavailable(&k(A), History::All);
    for i in 0..16 {
        feed(&mut mgr, i * 2 * S, "local", A, adv(-50, 1));
    }
    mgr.advance(2000 * S);
    assert_eq!(unavailable(&mut mgr), [(37 * S, conn), (37 * S, any)]);
}

#[test]
fn submitting_several_requests_reports_one_combination() {
    let mut mgr = Manager::default();
    mgr.submit_scans(
        0,
        [
            ("a", ScanOptions::default()),
            (
                "b",
                ScanOptions {
                    active: true,
                    ..Default::default()
                },
            ),
        ],
    );
    let got = scan_events(&mut mgr);
    assert_eq!(got.len(), 1);
    assert!(got[0].1.as_ref().unwrap().active);
}

// ----- BTHome wiring -------------------------------------------------------------------------------

/// bthome-ble tests/test_parser_v2.py test_bthome_temperature_humidity (vectors/bthome_public.json).
const PLAIN_TEMP_HUM: &str = "4002ca0903bf13";
/// bthome-ble test_bindkey_correct (vectors/bthome_public.json): MAC 54:48:E6:8F:80:A5.
const ENCRYPTED: &str = "41a47266c95f730011223378237214";
const ENCRYPTED_MAC: &str = "54:48:E6:8F:80:A5";
const BINDKEY: BindKey = crate::bthome::spec_example::KEY;

fn bthome_adv(hex: &str) -> Advertisement {
    let bytes = crate::hex::fixture(hex);
    let mut a = Advertisement {
        rssi: Some(-60),
        ..Default::default()
    };
    a.service_data.insert(Uuid::BTHOME_V2, bytes);
    a
}

fn readings(mgr: &mut Manager) -> Vec<crate::bthome::Packet> {
    picked(mgr, |o| match o.event {
        Event::Reading { packet, .. } => Some(packet),
        _ => None,
    })
}

fn values(p: &crate::bthome::Packet) -> Vec<(String, Option<f64>)> {
    p.objects
        .iter()
        .map(|o| (String::from(o.name()), o.value.as_f64()))
        .collect()
}

#[test]
fn bthome_packets_become_readings() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, bthome_adv(PLAIN_TEMP_HUM));
    let got = readings(&mut mgr);
    assert_eq!(got.len(), 1);
    assert!(got[0].is_ok());
    assert_eq!(
        values(&got[0]),
        [
            ("temperature".into(), Some(25.06)),
            ("humidity".into(), Some(50.55))
        ]
    );
}

/// A fresh manager that heard one BTHome packet `hex` from `key`, its bind key set first when
/// one is given, and the readings the packet gave.
fn first_readings(
    key: &str,
    bindkey: Option<BindKey>,
    hex: &str,
) -> (Manager, Vec<crate::bthome::Packet>) {
    let mut mgr = Manager::default();
    if let Some(bindkey) = bindkey {
        mgr.set_bindkey(&k(key), Some(bindkey));
    }
    feed(&mut mgr, S, "local", key, bthome_adv(hex));
    let got = readings(&mut mgr);
    (mgr, got)
}

#[test]
fn packets_without_bthome_data_give_no_reading() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    assert!(readings(&mut mgr).is_empty());
}

#[test]
fn bind_key_decrypts_with_the_address_as_mac() {
    let (mgr, got) = first_readings(ENCRYPTED_MAC, Some(BINDKEY), ENCRYPTED);
    assert!(got[0].is_ok(), "{:?}", got[0].error);
    assert_eq!(values(&got[0])[0], ("temperature".into(), Some(25.06)));
    assert!(
        mgr.device(&k(ENCRYPTED_MAC))
            .unwrap()
            .bthome()
            .unwrap()
            .key_verified
    );
}

#[test]
fn encrypted_packet_without_key_reports_missing_key() {
    let (_, got) = first_readings(ENCRYPTED_MAC, None, ENCRYPTED);
    assert_eq!(got[0].error.as_ref().map(|e| e.kind()), Some("missing_key"));
    assert!(got[0].objects.is_empty());
}

/// Without the key the first packet fails (and shows nothing); the key set then applies to the next.
#[test]
fn a_key_set_later_applies_to_the_next_packet() {
    let (mut mgr, first) = first_readings(ENCRYPTED_MAC, None, ENCRYPTED);
    assert_eq!(
        first[0].error.as_ref().map(|e| e.kind()),
        Some("missing_key")
    );
    assert!(first[0].objects.is_empty());
    mgr.set_bindkey(&k(ENCRYPTED_MAC), Some(BINDKEY));
    feed(
        &mut mgr,
        2 * S,
        "local",
        ENCRYPTED_MAC,
        bthome_adv(ENCRYPTED),
    );
    let got = readings(&mut mgr);
    assert!(got[0].is_ok(), "{:?}", got[0].error);
    assert_eq!(values(&got[0])[0], ("temperature".into(), Some(25.06)));
}

#[test]
fn plaintext_from_a_keyed_device_is_a_downgrade() {
    let (_, got) = first_readings(A, Some(BINDKEY), PLAIN_TEMP_HUM);
    assert_eq!(got[0].error.as_ref().map(|e| e.kind()), Some("downgrade"));
}

/// The button events (name, event) in the readings.
fn events_in(readings: &[crate::bthome::Packet]) -> Vec<(String, &'static str)> {
    readings
        .iter()
        .flat_map(|p| &p.objects)
        .filter_map(|o| Some((String::from(o.name()), o.value.event()?)))
        .collect()
}

/// Home Assistant's manager calls nobody back for an advertisement whose data is unchanged
/// (home-assistant/core PR #78609), so bthome-ble never sees a repeat: a button packet without a
/// packet id, sent three times, is one press. Its sensor values still come each time.
#[test]
fn an_unchanged_advertisement_repeats_no_event() {
    let mut mgr = Manager::default();
    // 25.06 °C and a press (bthome.io/format: 0x02 temperature, 0x3A button 0x01), no packet id.
    for (t, rssi) in [(S, -60), (S + 100, -60), (S + 200, -40)] {
        let mut a = bthome_adv("4002ca093a01");
        a.rssi = Some(rssi);
        feed(&mut mgr, t, "local", A, a);
    }
    let got = readings(&mut mgr);
    assert_eq!(got.len(), 3);
    assert!(
        got.iter()
            .all(|p| p.is_ok() && p.objects.first().map(|o| o.value.as_f64()) == Some(Some(25.06)))
    );
    assert_eq!(events_in(&got), [(String::from("button"), "press")]);
    // RSSI and last seen follow every packet.
    let d = mgr.device(&k(A)).unwrap();
    assert_eq!((d.packets(), d.last_seen_ms()), (3, S + 200));
    assert_eq!(d.info().unwrap().rssi, Some(-40));

    // Changed data is news again.
    feed(&mut mgr, S + 300, "local", A, bthome_adv("4002ca093a02"));
    feed(&mut mgr, S + 400, "local", A, bthome_adv("4002ca093a01"));
    let got = readings(&mut mgr);
    assert_eq!(
        events_in(&got),
        [
            (String::from("button"), "double_press"),
            (String::from("button"), "press")
        ]
    );
}

/// A packet that loses to the device's owner (manager step 4) is not passed on by Home
/// Assistant's manager either: another scanner hearing the same press adds no event.
#[test]
fn a_packet_that_loses_to_the_owner_repeats_no_event() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, bthome_adv("403a01"));
    mgr.ingest(S + 50, "gw", &k(A), Connectable::No, bthome_adv("403a01"));
    let got = readings(&mut mgr);
    assert_eq!(got.len(), 2);
    assert_eq!(events_in(&got), [(String::from("button"), "press")]);
}

/// A press only the losing scanner heard is still a press: the owner's copy, should it come,
/// would be refused as a duplicate packet id.
#[test]
fn a_press_only_the_losing_scanner_heard_counts() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, bthome_adv("40000102ca09"));
    readings(&mut mgr);
    mgr.ingest(
        S + 50,
        "gw",
        &k(A),
        Connectable::No,
        bthome_adv("4000023a01"),
    );
    let got = readings(&mut mgr);
    assert_eq!(owner(&mgr, A), "local");
    assert_eq!(events_in(&got), [(String::from("button"), "press")]);
}

/// A gateway's relay list is polled (a [`ScannerKind::Polled`] scanner): it reports a press the
/// page heard seconds before, past bthome-ble's 4 s window and after the sensor sent something
/// else, and an older reading after a newer one. Neither is a second press or an older reading;
/// what the page missed is news.
#[test]
fn a_gateways_late_report_is_no_second_press_and_no_older_reading() {
    let mut mgr = Manager::default();
    mgr.register_scanner(0, "shelly:gw", Connectable::No, ScannerKind::Polled)
        .unwrap();
    let relayed = |mgr: &mut Manager, t: u64, hex: &str| {
        mgr.ingest(t, "shelly:gw", &k(A), Connectable::No, bthome_adv(hex));
        readings(mgr)
    };
    feed(&mut mgr, S, "local", A, bthome_adv("4000053a01"));
    feed(&mut mgr, 2 * S, "local", A, bthome_adv("40000602c409"));
    assert_eq!(
        events_in(&readings(&mut mgr)),
        [(String::from("button"), "press")]
    );
    let late = relayed(&mut mgr, 7 * S, "4000053a01");
    assert_eq!(events_in(&late), []);
    assert_eq!(late[0].error.as_ref().map(|e| e.kind()), Some("late_copy"));
    feed(&mut mgr, 9 * S, "local", A, bthome_adv("40000702ca09"));
    readings(&mut mgr);
    assert_eq!(relayed(&mut mgr, 15 * S, "40000602c409")[0].objects, []);
    let missed = relayed(&mut mgr, 16 * S, "4000083a01");
    assert_eq!(events_in(&missed), [(String::from("button"), "press")]);
}

#[test]
fn repeated_packet_id_from_another_source_is_flagged() {
    // bthome-ble test_identical_packet_id: the same id within 4 s is a duplicate. The receiver
    // state is per device, so a second scanner hearing the same packet gets the verdict.
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, bthome_adv("400009"));
    feed(&mut mgr, S + 100, "gw", A, bthome_adv("400009"));
    let got = readings(&mut mgr);
    assert!(got[0].is_ok());
    assert_eq!(
        got[1].error.as_ref().map(|e| e.kind()),
        Some("duplicate_packet_id")
    );
}

#[test]
fn non_connectable_news_of_a_connectable_device_reach_connectable_matchers() {
    // habluetooth manager step 8: the advert is dispatched as a connectable copy when a
    // registered connectable scanner has the device in the connectable history.
    let mut mgr = Manager::default();
    let id = mgr.register_callback(0, Matcher::default());
    feed(&mut mgr, S, "local", A, adv(-80, 1));
    events(&mut mgr);
    mgr.ingest(2 * S, "proxy", &k(A), Connectable::No, adv(-40, 2));
    assert_eq!(callbacks(&mut mgr), [(2 * S, id, A.into())]);
    // A device only ever heard non-connectably stays invisible to connectable matchers.
    mgr.ingest(3 * S, "proxy", &k(B), Connectable::No, adv(-40, 2));
    assert!(callbacks(&mut mgr).is_empty());
}

// ----- the MAC for decryption ------------------------------------------------------------------------

/// A Shelly BLU device as a browser hears it: named by an opaque id (Web Bluetooth hides the
/// address), its encrypted BTHome data in one packet and its manufacturer data, with the MAC block
/// `0x0A`, in another (the scan response; aioshelly `aioshelly/ble/manufacturer_data.py`).
const OPAQUE: &str = "wFwP3y0pUrj+5N7c2hQn2A==";

fn shelly_scan_response(mac: &str) -> Advertisement {
    use crate::shelly::manufacturer::{self, ManufacturerData};
    let mut a = named("SBHT-003C");
    let data = ManufacturerData {
        model_id: Some(3),
        mac: Some(mac.parse().unwrap()),
        ..ManufacturerData::default()
    };
    a.manufacturer_data
        .insert(manufacturer::COMPANY_ID, manufacturer::encode(&data));
    a
}

/// An encrypted BLU packet (temperature 21.5 °C) with its own counter, for [`BINDKEY`] and `mac`.
fn encrypted_blu(mac: &str, counter: u32) -> Advertisement {
    use crate::bthome::{Encryption, Object, Value, encode_v2};
    let encryption = Encryption {
        key: BINDKEY,
        mac: mac.parse().unwrap(),
        counter,
    };
    let objects = [Object::new(0x02, Value::Float(21.5))];
    let mut a = Advertisement {
        rssi: Some(-60),
        ..Default::default()
    };
    let data = encode_v2(&objects, true, None, Some(&encryption)).unwrap();
    a.service_data.insert(Uuid::BTHOME_V2, data);
    a
}

/// The browser's own scanner hears the device under its opaque id.
fn hear_opaque(mgr: &mut Manager, t: u64, a: Advertisement) {
    feed(mgr, t, "local", OPAQUE, a);
}

/// A manager with the key of a device heard under an opaque id, which has announced its MAC in
/// its Shelly manufacturer data (a scan response, at `S`).
fn opaque_device_that_announced_its_mac() -> Manager {
    let mut mgr = Manager::default();
    mgr.set_bindkey(&k(OPAQUE), Some(BINDKEY));
    hear_opaque(&mut mgr, S, shelly_scan_response(ENCRYPTED_MAC));
    mgr
}

#[test]
fn the_mac_of_the_shelly_manufacturer_data_decrypts_an_opaque_device() {
    let mut mgr = opaque_device_that_announced_its_mac();
    hear_opaque(&mut mgr, 2 * S, encrypted_blu(ENCRYPTED_MAC, 7));
    let got = readings(&mut mgr);
    assert!(got[0].is_ok(), "{:?}", got[0].error);
    assert_eq!(values(&got[0]), [("temperature".into(), Some(21.5))]);
    assert_eq!(mgr.announced_mac(&k(OPAQUE)), ENCRYPTED_MAC.parse().ok());
}

/// A Shelly gateway reports by MAC the sensor the browser hears under an opaque id: once the
/// sensor has announced its MAC, both are one device (its key decrypts the gateway's copies too).
/// A MAC nobody announced stays a device of its own.
#[test]
fn a_gateway_reporting_the_announced_mac_is_the_same_device() {
    let mut mgr = opaque_device_that_announced_its_mac();
    events(&mut mgr);
    assert_eq!(mgr.device_key(&k(ENCRYPTED_MAC)), k(OPAQUE));
    let gateway_copy = encrypted_blu(ENCRYPTED_MAC, 8);
    mgr.ingest(
        2 * S,
        "gw",
        &k(ENCRYPTED_MAC),
        Connectable::No,
        gateway_copy,
    );
    let got: Vec<_> = picked(&mut mgr, |o| match o.event {
        Event::Reading { key, packet, .. } => Some((key, packet)),
        _ => None,
    });
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, k(OPAQUE));
    assert!(got[0].1.is_ok(), "{:?}", got[0].1.error);
    assert_eq!(mgr.device_count(), 1);
    feed(&mut mgr, 3 * S, "gw", "AA:BB:CC:DD:EE:FF", adv(-70, 1));
    assert_eq!(mgr.device_count(), 2);
}

/// The other order: the gateway's report comes first, under the MAC; once the browser-heard
/// device announces that MAC, the MAC's entry joins it (its key too), and the gateway's next
/// report is the device's.
#[test]
fn a_gateway_entry_made_first_joins_the_device_that_announces_its_mac() {
    let mut mgr = Manager::default();
    mgr.set_bindkey(&k(ENCRYPTED_MAC), Some(BINDKEY));
    let report = |n| encrypted_blu(ENCRYPTED_MAC, n);
    mgr.ingest(S, "gw", &k(ENCRYPTED_MAC), Connectable::No, report(7));
    hear_opaque(&mut mgr, 2 * S, shelly_scan_response(ENCRYPTED_MAC));
    let merged: Vec<_> = picked(&mut mgr, |o| match o.event {
        Event::Merged { from, into } => Some((from, into)),
        _ => None,
    });
    assert_eq!(merged, [(k(ENCRYPTED_MAC), k(OPAQUE))]);
    assert_eq!(mgr.device_count(), 1);
    assert_eq!(mgr.bindkey(&k(OPAQUE)), Some(&BINDKEY));
    mgr.ingest(3 * S, "gw", &k(ENCRYPTED_MAC), Connectable::No, report(8));
    let got: Vec<_> = picked(&mut mgr, |o| match o.event {
        Event::Reading { key, packet, .. } => Some((key, packet.is_ok())),
        _ => None,
    });
    assert_eq!(got, [(k(OPAQUE), true)]);
    assert_eq!(mgr.device_count(), 1);
}

#[test]
fn data_heard_before_the_scan_response_decrypts_from_the_next_packet_on() {
    let mut mgr = Manager::default();
    mgr.set_bindkey(&k(OPAQUE), Some(BINDKEY));
    hear_opaque(&mut mgr, S, encrypted_blu(ENCRYPTED_MAC, 7));
    hear_opaque(&mut mgr, S + 50, shelly_scan_response(ENCRYPTED_MAC));
    hear_opaque(&mut mgr, 2 * S, encrypted_blu(ENCRYPTED_MAC, 8));
    let got = readings(&mut mgr);
    assert_eq!(got[0].error.as_ref().map(|e| e.kind()), Some("missing_mac"));
    assert!(got[1].is_ok(), "{:?}", got[1].error);
}

#[test]
fn the_announced_mac_outlives_the_device_going_unavailable() {
    // The all-sources history expires after 900 s of silence and forgets the merged data; the
    // next data packet, heard before any scan response, still decrypts.
    let mut mgr = opaque_device_that_announced_its_mac();
    mgr.advance(S + 901_000);
    assert!(!mgr.address_present(&k(OPAQUE), History::All));
    hear_opaque(&mut mgr, S + 902_000, encrypted_blu(ENCRYPTED_MAC, 9));
    let got = readings(&mut mgr);
    assert!(got[0].is_ok(), "{:?}", got[0].error);
}

#[test]
fn the_packet_address_and_a_mac_key_come_before_the_announced_mac() {
    // The packet's own address wins over what the device announces.
    let mut mgr = Manager::default();
    mgr.set_bindkey(&k(OPAQUE), Some(BINDKEY));
    hear_opaque(&mut mgr, S, shelly_scan_response(A));
    let mut packet = encrypted_blu(ENCRYPTED_MAC, 7);
    packet.address = ENCRYPTED_MAC.parse().ok();
    hear_opaque(&mut mgr, 2 * S, packet);
    assert!(readings(&mut mgr)[0].is_ok());
}

#[test]
fn a_given_mac_decrypts_an_opaque_device_before_the_announced_one() {
    let mut mgr = Manager::default();
    mgr.set_bindkey(&k(OPAQUE), Some(BINDKEY));
    mgr.set_mac(&k(OPAQUE), ENCRYPTED_MAC.parse().ok());
    hear_opaque(&mut mgr, S, shelly_scan_response(A));
    hear_opaque(&mut mgr, 2 * S, encrypted_blu(ENCRYPTED_MAC, 7));
    assert!(readings(&mut mgr)[0].is_ok());
    assert_eq!(mgr.given_mac(&k(OPAQUE)), ENCRYPTED_MAC.parse().ok());
    mgr.set_mac(&k(OPAQUE), None);
    assert_eq!(mgr.given_mac(&k(OPAQUE)), None);
}

// ----- the device table as callers read it -------------------------------------------------------

#[test]
fn a_device_records_first_and_last_time_and_packets_from_every_source() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    feed(&mut mgr, 2 * S, "proxy", A, adv(-80, 1));
    feed(&mut mgr, 3 * S, "local", A, adv(-60, 2));
    let d = mgr.device(&k(A)).unwrap();
    assert_eq!(d.key(), &k(A));
    assert_eq!(
        (d.first_seen_ms(), d.last_seen_ms(), d.packets()),
        (S, 3 * S, 3)
    );
    assert!(d.present());
    assert_eq!(&*d.info().unwrap().source, "local");
    assert_eq!(mgr.devices().count(), 1);
}

#[test]
fn a_device_that_went_unavailable_still_shows_what_it_was() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, named("SBHT-003C"));
    mgr.advance(S + 901_000);
    let d = mgr.device(&k(A)).unwrap();
    assert!(!d.present());
    assert_eq!(d.info().unwrap().data.name.as_deref(), Some("SBHT-003C"));
    assert!(!mgr.address_present(&k(A), History::All));
}

#[test]
fn cleared_history_starts_the_device_afresh() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    feed(&mut mgr, 2 * S, "local", A, adv(-60, 1));
    mgr.clear_history(&k(A));
    assert!(mgr.device(&k(A)).unwrap().info().is_none());
    feed(&mut mgr, 5 * S, "local", A, adv(-60, 1));
    let d = mgr.device(&k(A)).unwrap();
    assert_eq!((d.first_seen_ms(), d.packets()), (5 * S, 1));
}

#[test]
fn a_device_mac_comes_from_what_told_it() {
    let mut mgr = Manager::default();
    // A MAC key is its own MAC; a browser id has none until something tells it.
    feed(&mut mgr, S, "local", A, adv(-60, 1));
    assert_eq!(mgr.device(&k(A)).unwrap().mac(), A.parse().ok());
    hear_opaque(&mut mgr, S, named("x"));
    assert_eq!(mgr.device(&k(OPAQUE)).unwrap().mac(), None);
    // The Shelly manufacturer data announces one; a MAC given by the user comes before it.
    hear_opaque(&mut mgr, 2 * S, shelly_scan_response(B));
    assert_eq!(mgr.device(&k(OPAQUE)).unwrap().mac(), B.parse().ok());
    mgr.set_mac(&k(OPAQUE), ENCRYPTED_MAC.parse().ok());
    assert_eq!(
        mgr.device(&k(OPAQUE)).unwrap().mac(),
        ENCRYPTED_MAC.parse().ok()
    );
}

#[test]
fn a_device_kind_follows_its_merged_data() {
    let mut mgr = Manager::default();
    feed(&mut mgr, S, "local", A, shelly_scan_response(A));
    assert!(matches!(
        mgr.device(&k(A)).unwrap().kind(),
        crate::device::DeviceKind::ShellyBlu(m) if m.code == "SBHT-003C"
    ));
    // Heard here with nothing it can be told by: not BTHome (only a gateway's decoding says so).
    feed(&mut mgr, S, "local", B, named("lamp"));
    assert_eq!(
        mgr.device(&k(B)).unwrap().kind(),
        crate::device::DeviceKind::Other
    );
}

#[test]
fn eviction_is_reported_and_keeps_the_bind_key() {
    let mut mgr = Manager::new(Config {
        max_devices: 1,
        ..Default::default()
    });
    mgr.set_bindkey(&k(A), Some(BINDKEY));
    feed(&mut mgr, 1, "local", A, adv(-50, 1));
    events(&mut mgr);
    feed(&mut mgr, 2, "local", B, adv(-50, 1));
    let evicted: Vec<(u64, String)> = picked(&mut mgr, |o| match o.event {
        Event::Evicted { key } => Some((o.at_ms, key.to_string())),
        _ => None,
    });
    assert_eq!(evicted, [(2, String::from(A))]);
    assert!(mgr.device(&k(A)).is_none());
    assert_eq!(mgr.bindkey(&k(A)), Some(&BINDKEY));
}

// ----- objects a remote scanner decoded ----------------------------------------------------------

#[test]
fn decoded_objects_become_a_reading_as_they_are() {
    use crate::bthome::{Object, Value};
    let mut mgr = Manager::default();
    let objects = alloc::vec![
        Object::new(0x01, Value::Int(87)),
        Object::new(0x02, Value::Float(21.5)),
    ];
    mgr.ingest_objects(S, "shelly:gw", &k(A), objects.clone());
    let got: Vec<(DeviceKey, String, crate::bthome::Packet)> =
        picked(&mut mgr, |o| match o.event {
            Event::Reading {
                key,
                source,
                packet,
            } => Some((key, String::from(&*source), packet)),
            _ => None,
        });
    assert_eq!(got.len(), 1);
    let (key, source, packet) = &got[0];
    assert_eq!((key, source.as_str()), (&k(A), "shelly:gw"));
    assert_eq!(packet.objects, objects);
    assert!(packet.is_ok());
    // The device is in the table, heard by the gateway, as a BTHome device with no data.
    let d = mgr.device(&k(A)).unwrap();
    assert_eq!(d.packets(), 1);
    assert_eq!(&*d.info().unwrap().source, "shelly:gw");
    assert!(!d.info().unwrap().connectable);
    assert_eq!(d.kind(), crate::device::DeviceKind::BthomeV2);
}
