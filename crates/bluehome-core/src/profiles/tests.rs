//! One rule a test; where a rule comes from ZMK, the test says which behaviour of
//! `app/src/ble.c` (`zmkfirmware/zmk` at `268b1b1e`) it follows.
use super::*;

const A: MacAddress = MacAddress([0xA8, 0x03, 0x2A, 0xB1, 0x23, 0x45]);
const B: MacAddress = MacAddress([0xCC, 0xBA, 0x97, 0xC2, 0xD6, 0x70]);
const C: MacAddress = MacAddress([0xE8, 0x73, 0x88, 0xEF, 0x49, 0xC0]);
/// sha256("admin:shellyplus1-a8032ab12345:secret"), computed with Python's hashlib.
const HA1: &str = "e7321a38e256c665fb8fe807d3fb54d8db23a8e90186a71b382949a84e3816c4";

fn cfg(slots: usize) -> Config {
    Config {
        slot_count: slots,
        save_debounce_ms: 1_000,
    }
}

fn five() -> Profiles {
    Profiles::new(cfg(5)).unwrap()
}

/// Slots 0, 1 and 2 bound to A, B and C, slot 0 active, nothing pending.
fn bound_three() -> Profiles {
    let mut p = five();
    for (i, mac) in [A, B, C].into_iter().enumerate() {
        p.select(i, 0).unwrap();
        p.bind(Binding::new(mac, "dev")).unwrap();
    }
    p.select(0, 0).unwrap();
    p.flush();
    p
}

/// Selects `slot` (at time 0) and binds B there: what the binding answers.
fn bind_b_to(p: &mut Profiles, slot: usize) -> Result<Vec<Effect>, Error> {
    p.select(slot, 0).unwrap();
    p.bind(Binding::new(B, "b"))
}

/// `text` loaded into five slots, after checking that loading reported `issue` and nothing else.
#[track_caller]
fn loaded_with_issue(text: &str, issue: LoadIssue) -> Loaded {
    let loaded = Profiles::load(Some(text), cfg(5));
    assert_eq!(loaded.issues, vec![issue]);
    loaded
}

/// The MACs of the bindings an effect list forgets, in order.
fn forgotten(effects: &[Effect]) -> Vec<MacAddress> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Forget(binding) => Some(binding.mac),
            _ => None,
        })
        .collect()
}

#[test]
fn a_cleared_binding_is_forgotten_with_its_browser_device_id() {
    let mut p = five();
    p.bind(Binding {
        device_id: Some("browser-id".into()),
        ..Binding::new(A, "a")
    })
    .unwrap();
    let effects = p.clear();
    let ids: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Forget(binding) => binding.device_id.as_deref(),
            _ => None,
        })
        .collect();
    assert_eq!(ids, ["browser-id"]);
}

#[test]
fn five_open_slots_by_default_with_slot_0_active() {
    // "non-split: BT_MAX_PAIRED = BT_MAX_CONN = 5, which gives 5 profiles"; active 0 when nothing stored.
    let p = Profiles::default();
    assert_eq!(p.len(), 5);
    assert_eq!(p.active(), 0);
    assert!((0..5).all(|i| p.state(i) == Some(SlotState::Open)));
}

#[test]
fn slot_count_is_configurable_within_limits() {
    let eight = Profiles::new(cfg(8)).unwrap();
    assert_eq!((eight.len(), eight.is_empty()), (8, false));
    assert_eq!(eight.config(), cfg(8));
    assert_eq!(
        Profiles::new(cfg(0)),
        Err(Error::BadSlotCount { requested: 0 })
    );
    assert_eq!(
        Profiles::new(cfg(33)),
        Err(Error::BadSlotCount { requested: 33 })
    );
}

#[test]
fn select_past_the_end_is_out_of_range() {
    // "n ≥ N → -ERANGE"
    let mut p = five();
    assert_eq!(
        p.select(5, 0),
        Err(Error::OutOfRange { index: 5, count: 5 })
    );
    assert_eq!(p.active(), 0);
}

#[test]
fn selecting_the_active_slot_is_a_strict_no_op() {
    // "n == active → return 0, a no-op (no save, no event, no advertising change)"
    let mut p = five();
    assert_eq!(p.select(0, 10), Ok(vec![]));
    assert_eq!(p.save_due(), None);
}

#[test]
fn select_changes_active_schedules_save_and_emits_change() {
    let mut p = five();
    let effects = p.select(3, 100).unwrap();
    assert_eq!(p.active(), 3);
    assert_eq!(
        effects,
        vec![Effect::SaveDueAt(1_100), Effect::ActiveChanged { index: 3 }]
    );
}

#[test]
fn active_save_is_trailing_debounced_and_writes_the_final_value() {
    // "every select restarts the 60 s timer, so only the final value is written"
    let mut p = five();
    p.select(1, 0).unwrap();
    p.select(2, 500).unwrap();
    assert_eq!(p.save_due(), Some(1_500));
    assert!(!p.poll(1_000), "the first timer was replaced");
    assert!(!p.poll(1_499));
    assert!(p.poll(1_500));
    assert!(p.to_storage_json().contains("\"active\":2"));
    assert!(!p.poll(5_000), "nothing pending after the write");
}

#[test]
fn pending_active_is_not_in_storage_before_the_debounce() {
    // "if power is lost within 60 s of a switch, the keyboard boots into the previously persisted profile"
    let mut p = five();
    p.select(4, 0).unwrap();
    let reloaded = Profiles::load(Some(&p.to_storage_json()), cfg(5)).profiles;
    assert_eq!(reloaded.active(), 0);
}

#[test]
fn flush_writes_a_pending_active_at_once() {
    let mut p = five();
    assert!(!p.flush());
    p.select(2, 0).unwrap();
    assert!(p.flush());
    assert_eq!(
        Profiles::load(Some(&p.to_storage_json()), cfg(5))
            .profiles
            .active(),
        2
    );
}

#[test]
fn next_wraps_from_last_to_first() {
    // "select((active + 1) % N), wrapping around"
    let mut p = five();
    p.select(4, 0).unwrap();
    assert_eq!(
        p.next(0),
        vec![Effect::SaveDueAt(1_000), Effect::ActiveChanged { index: 0 }]
    );
    assert_eq!(p.active(), 0);
}

#[test]
fn prev_wraps_from_first_to_last() {
    // "select((active + N − 1) % N)"
    let mut p = five();
    p.prev(0);
    assert_eq!(p.active(), 4);
}

#[test]
fn next_passes_through_open_slots_and_seeks_a_new_device_there() {
    // "next/prev wrap modulo N and pass through Open slots. Landing on an Open slot starts pairing mode"
    let mut p = bound_three();
    p.select(2, 0).unwrap();
    p.next(0);
    assert_eq!(p.active(), 3);
    assert_eq!(p.seeking(), Seeking::NewDevice);
}

#[test]
fn seeking_follows_the_active_slot_state() {
    // update_advertising: Open → pairing; bound, not connected → reconnect; connected → none
    let mut p = five();
    assert_eq!(p.seeking(), Seeking::NewDevice);
    p.bind(Binding::new(A, "a")).unwrap();
    assert_eq!(p.seeking(), Seeking::Reconnect(A));
    p.connected(A);
    assert_eq!(p.seeking(), Seeking::Nothing);
    assert_eq!(p.state(0), Some(SlotState::BoundConnected));
}

#[test]
fn switching_never_disconnects_other_devices() {
    // "Other hosts stay connected; nothing is disconnected."
    let mut p = bound_three();
    p.connected(A);
    let effects = p.select(1, 0).unwrap();
    assert!(!effects.iter().any(|e| matches!(e, Effect::Disconnect(_))));
    assert!(p.is_live(A));
    assert_eq!(p.state(0), Some(SlotState::BoundConnected));
}

#[test]
fn bind_lands_in_the_open_active_slot_and_saves_at_once() {
    // "set_profile_address … writes ble/profiles/<active> immediately"
    let mut p = five();
    assert_eq!(
        bind_b_to(&mut p, 2),
        Ok(vec![Effect::SaveNow, Effect::ActiveChanged { index: 2 }])
    );
    assert_eq!(p.slot(2).map(|b| b.mac), Some(B));
}

#[test]
fn a_taken_active_slot_refuses_another_device() {
    // "auth_pairing_accept rejects … unless the active profile is OPEN" (test dont-bond-to-taken-profile)
    let mut p = bound_three();
    let before = p.clone();
    assert_eq!(
        p.bind(Binding::new(MacAddress([1; 6]), "x")),
        Err(Error::SlotTaken { index: 0, bound: A })
    );
    assert_eq!(p, before, "no other slot was written");
}

#[test]
fn the_same_device_may_bind_again_to_its_own_slot() {
    // CONFIG_BT_SMP_ALLOW_UNAUTH_OVERWRITE: re-pairing from the active profile's own peer is allowed.
    let mut p = bound_three();
    let mut again = Binding::new(A, "renamed");
    again.model = Some(String::from("SNSW-001X16EU"));
    assert_eq!(
        p.bind(again.clone()),
        Ok(vec![Effect::SaveNow, Effect::ActiveChanged { index: 0 }])
    );
    assert_eq!(p.slot(0), Some(&again));
    assert_eq!(p.bind(again), Ok(vec![]), "unchanged: nothing to save");
}

#[test]
fn a_device_in_another_slot_is_not_bound_twice() {
    let mut p = bound_three();
    assert_eq!(
        bind_b_to(&mut p, 3),
        Err(Error::AlreadyBound { mac: B, index: 1 })
    );
    assert_eq!(p.state(3), Some(SlotState::Open));
}

#[test]
fn binding_is_saved_at_once_but_with_the_persisted_active_index() {
    // Split persistence: slots immediately, the active index debounced.
    let mut p = five();
    p.select(1, 0).unwrap();
    p.bind(Binding::new(A, "a")).unwrap();
    let stored = Profiles::load(Some(&p.to_storage_json()), cfg(5)).profiles;
    assert_eq!(stored.slot(1).map(|b| b.mac), Some(A));
    assert_eq!(stored.active(), 0);
}

#[test]
fn clear_forgets_only_the_active_slot_and_keeps_the_index() {
    // BT_CLR: "The active index does not change; the profile becomes OPEN"
    let mut p = bound_three();
    p.select(1, 0).unwrap();
    let effects = p.clear();
    assert!(
        matches!(
            &effects[..],
            [Effect::Forget(b), Effect::SaveNow, Effect::ActiveChanged { index: 1 }] if b.mac == B
        ),
        "{effects:?}"
    );
    assert_eq!(p.active(), 1);
    assert_eq!(p.state(1), Some(SlotState::Open));
    assert_eq!(p.slot(0).map(|b| b.mac), Some(A));
    assert_eq!(p.slot(2).map(|b| b.mac), Some(C));
    assert_eq!(p.seeking(), Seeking::NewDevice);
}

#[test]
fn clear_disconnects_a_live_device_first() {
    // "bt_unpair … Zephyr also tears down a live link to that peer"
    let mut p = bound_three();
    p.connected(A);
    assert_eq!(p.clear().first(), Some(&Effect::Disconnect(A)));
    assert!(!p.is_live(A));
}

#[test]
fn clear_on_an_open_slot_does_nothing() {
    let mut p = five();
    assert_eq!(p.clear(), vec![]);
}

#[test]
fn clear_all_forgets_every_slot_then_selects_0() {
    // BT_CLR_ALL: "clear_profile_bond(i) for every i, then zmk_ble_prof_select(0)"
    let mut p = bound_three();
    p.select(2, 0).unwrap();
    p.flush();
    let effects = p.clear_all(50);
    assert_eq!(p.active(), 0);
    assert!((0..5).all(|i| p.state(i) == Some(SlotState::Open)));
    assert_eq!(forgotten(&effects), [A, B, C]);
    assert!(effects.contains(&Effect::SaveNow));
    assert!(effects.contains(&Effect::SaveDueAt(1_050)));
    assert!(effects.contains(&Effect::ActiveChanged { index: 0 }));
}

/// With slot 0 already active, clearing every slot still tells the page once that the active
/// profile changed (ZMK's `set_profile_address` raises the profile-changed event for the
/// cleared address); from another slot, the selection of 0 tells it, also once.
#[test]
fn clear_all_reports_the_active_profile_change_once() {
    for active in [0, 2] {
        let mut p = bound_three();
        p.select(active, 0).unwrap();
        p.flush();
        let effects = p.clear_all(50);
        let changes = effects
            .iter()
            .filter(|e| matches!(e, Effect::ActiveChanged { index: 0 }))
            .count();
        assert_eq!(changes, 1, "from slot {active}: {effects:?}");
    }
}

#[test]
fn disconnect_checks_range_binding_and_link() {
    // BT_DISC: "n ≥ N → -ERANGE. Open → -ENODEV. No live conn → -ENODEV."
    let mut p = bound_three();
    assert_eq!(
        p.disconnect(9),
        Err(Error::OutOfRange { index: 9, count: 5 })
    );
    assert_eq!(p.disconnect(4), Err(Error::SlotOpen { index: 4 }));
    assert_eq!(p.disconnect(1), Err(Error::NotConnected { index: 1 }));
}

#[test]
fn disconnect_drops_the_link_and_keeps_the_binding() {
    // "Otherwise bt_conn_disconnect(...). The bond is kept."
    let mut p = bound_three();
    p.connected(B);
    assert_eq!(p.disconnect(1), Ok(vec![Effect::Disconnect(B)]));
    p.disconnected(B);
    assert_eq!(p.state(1), Some(SlotState::BoundDisconnected));
    assert_eq!(p.slot(1).map(|b| b.mac), Some(B));
}

#[test]
fn disconnecting_the_active_slot_makes_it_sought_again() {
    // "the active bluetooth profile will immediately reconnect if disconnected"
    let mut p = bound_three();
    p.connected(A);
    p.disconnect(0).unwrap();
    assert_eq!(p.disconnected(A), vec![Effect::ActiveChanged { index: 0 }]);
    assert_eq!(p.seeking(), Seeking::Reconnect(A));
}

#[test]
fn only_the_active_devices_link_changes_emit_active_changed() {
    // connected(peer): "ActiveProfileChanged iff peer == slots[active].binding"
    let mut p = bound_three();
    assert_eq!(p.connected(B), vec![]);
    assert_eq!(p.connected(A), vec![Effect::ActiveChanged { index: 0 }]);
    assert_eq!(p.connected(A), vec![], "already live");
    assert_eq!(p.disconnected(B), vec![]);
}

#[test]
fn update_refreshes_details_where_the_device_is_bound() {
    let mut p = bound_three();
    let mut b = Binding::new(C, "kitchen");
    b.device_id = Some(String::from("dev-id-c"));
    assert_eq!(p.update(b.clone()), Ok(vec![Effect::SaveNow]));
    assert_eq!(p.slot(2), Some(&b));
    assert_eq!(p.update(b), Ok(vec![]));
    assert_eq!(
        p.update(Binding::new(MacAddress([9; 6]), "x")),
        Err(Error::SlotOpen { index: 0 })
    );
}

#[test]
fn ha1_is_remembered_only_when_set_and_saved_at_once() {
    let mut p = bound_three();
    assert_eq!(p.slot(1).and_then(|b| b.ha1.clone()), None);
    assert_eq!(
        p.set_ha1(1, Some(String::from(HA1))),
        Ok(vec![Effect::SaveNow])
    );
    assert!(p.to_storage_json().contains(HA1));
    assert_eq!(p.set_ha1(1, None), Ok(vec![Effect::SaveNow]));
    assert!(!p.to_storage_json().contains(HA1));
    assert_eq!(p.set_ha1(4, None), Err(Error::SlotOpen { index: 4 }));
    assert_eq!(
        p.set_ha1(1, Some(String::from("the password itself"))),
        Err(Error::BadSlot {
            index: 1,
            field: "ha1"
        }),
        "only a digest is ever stored"
    );
    // A digest is 64 hex digits exactly: a password of that length, or one digit short, is not.
    let long_password = "p".repeat(64);
    for not_a_digest in [long_password.as_str(), &HA1[1..]] {
        assert!(
            p.set_ha1(1, Some(String::from(not_a_digest))).is_err(),
            "{not_a_digest}"
        );
    }
}

#[test]
fn slots_survive_a_reload() {
    let mut p = bound_three();
    p.set_ha1(2, Some(String::from(HA1))).unwrap();
    p.select(2, 0).unwrap();
    p.poll(1_000);
    let loaded = Profiles::load(Some(&p.to_storage_json()), cfg(5));
    assert_eq!(loaded.issues, vec![]);
    assert_eq!(loaded.kept_aside, None);
    assert_eq!(loaded.profiles.active(), 2);
    assert_eq!(
        loaded.profiles.slot(2).and_then(|b| b.ha1.as_deref()),
        Some(HA1)
    );
    assert_eq!(
        loaded.profiles.slots().collect::<Vec<_>>(),
        p.slots().collect::<Vec<_>>()
    );
}

#[test]
fn nothing_stored_loads_empty_slots_without_issues() {
    let loaded = Profiles::load(None, cfg(3));
    assert_eq!(loaded.profiles.len(), 3);
    assert!(loaded.issues.is_empty() && loaded.kept_aside.is_none());
}

#[test]
fn corrupt_storage_is_reported_and_kept_aside() {
    let text = "{\"schema\":\"bluehome.profiles\",\"version\":1,\"active\":0,\"slots\":[nul";
    let loaded = Profiles::load(Some(text), cfg(5));
    assert!(matches!(
        loaded.issues.as_slice(),
        [LoadIssue::Unreadable(Error::Corrupt { .. })]
    ));
    assert_eq!(loaded.kept_aside.as_deref(), Some(text));
    assert!((0..5).all(|i| loaded.profiles.state(i) == Some(SlotState::Open)));
}

#[test]
fn newer_version_is_reported_and_kept_aside_even_if_its_shape_changed() {
    let text = r#"{"schema":"bluehome.profiles","version":2,"profiles":{"x":1}}"#;
    let loaded = loaded_with_issue(
        text,
        LoadIssue::Unreadable(Error::NewerVersion {
            found: 2,
            supported: 1,
        }),
    );
    assert_eq!(loaded.kept_aside.as_deref(), Some(text));
}

#[test]
fn another_schema_is_reported_and_kept_aside() {
    let text = r#"{"version":1,"active":0,"slots":[]}"#;
    let loaded = loaded_with_issue(
        text,
        LoadIssue::Unreadable(Error::WrongSchema {
            found: String::new(),
        }),
    );
    assert!(loaded.kept_aside.is_some());
}

#[test]
fn a_bad_slot_record_is_reported_and_the_rest_restored() {
    // ZMK's loader rejects a bad record (-EINVAL) and keeps going; we also keep the text.
    let text = r#"{"schema":"bluehome.profiles","version":1,"active":1,"slots":[
        {"mac":"not a mac","name":"x"},
        {"mac":"CC:BA:97:C2:D6:70","name":"b"}]}"#;
    let loaded = loaded_with_issue(
        text,
        LoadIssue::Slot(Error::BadSlot {
            index: 0,
            field: "mac",
        }),
    );
    assert_eq!(loaded.profiles.slot(1).map(|b| b.mac), Some(B));
    assert_eq!(loaded.profiles.active(), 1);
    assert_eq!(loaded.kept_aside.as_deref(), Some(text));
}

#[test]
fn an_out_of_range_active_index_falls_back_to_0_with_an_issue() {
    // ZMK's loader checks "idx < N"
    let text = r#"{"schema":"bluehome.profiles","version":1,"active":7,"slots":[]}"#;
    let loaded = loaded_with_issue(text, LoadIssue::ActiveOutOfRange { active: 7 });
    assert_eq!(loaded.profiles.active(), 0);
    // The edge: with five slots, 4 is the last and 5 is past the end, loaded or imported.
    for (active, loaded_as) in [(4, 4), (5, 0)] {
        let text =
            format!(r#"{{"schema":"bluehome.profiles","version":1,"active":{active},"slots":[]}}"#);
        assert_eq!(
            Profiles::load(Some(&text), cfg(5)).profiles.active(),
            loaded_as
        );
        let mut p = five();
        p.import(&text, 0).unwrap();
        assert_eq!(p.active(), loaded_as, "imported {active}");
    }
}

/// A slot count out of bounds in the settings is brought within them: loading never fails.
#[test]
fn loading_clamps_the_slot_count() {
    assert_eq!(Profiles::load(None, cfg(0)).profiles.len(), 1);
    assert_eq!(Profiles::load(None, cfg(99)).profiles.len(), MAX_SLOT_COUNT);
}

/// The notice the app shows for each issue.
#[test]
fn load_issues_read_as_sentences() {
    let beyond = LoadIssue::BeyondSlotCount {
        index: 6,
        mac: String::from("E8:73:88:EF:49:C0"),
    };
    assert_eq!(
        beyond.to_string(),
        "saved profile 6 (E8:73:88:EF:49:C0) is beyond the number of profiles configured"
    );
    let twice = LoadIssue::Duplicate { index: 1, first: 0 };
    assert_eq!(
        twice.to_string(),
        "saved profile 1 repeats the device of profile 0"
    );
    let past = LoadIssue::ActiveOutOfRange { active: 7 };
    assert_eq!(
        past.to_string(),
        "the saved active profile 7 does not exist; profile 0 is active"
    );
}

#[test]
fn devices_beyond_a_smaller_slot_count_are_reported_not_dropped() {
    let mut p = bound_three();
    p.flush();
    let text = p.to_storage_json();
    let loaded = Profiles::load(Some(&text), cfg(2));
    assert_eq!(
        loaded.issues,
        vec![LoadIssue::BeyondSlotCount {
            index: 2,
            mac: String::from("E8:73:88:EF:49:C0")
        }]
    );
    assert_eq!(loaded.kept_aside, Some(text));
    assert_eq!(loaded.profiles.len(), 2);
}

#[test]
fn a_duplicated_device_keeps_its_first_slot() {
    let text = r#"{"schema":"bluehome.profiles","version":1,"active":0,"slots":[
        {"mac":"CC:BA:97:C2:D6:70","name":"b"},{"mac":"cc:ba:97:c2:d6:70","name":"again"}]}"#;
    let loaded = loaded_with_issue(text, LoadIssue::Duplicate { index: 1, first: 0 });
    assert_eq!(loaded.profiles.state(1), Some(SlotState::Open));
}

#[test]
fn export_leaves_out_remembered_secrets() {
    let mut p = bound_three();
    p.set_ha1(0, Some(String::from(HA1))).unwrap();
    let exported = p.export();
    assert!(!exported.contains(HA1));
    assert!(exported.contains("\"ha1_remembered\":true"));
    // Storage keeps the HA1 itself and never says "remembered" instead.
    let stored = p.to_storage_json();
    assert!(
        stored.contains(HA1) && !stored.contains("ha1_remembered"),
        "{stored}"
    );
    assert!(exported.contains("\"schema\":\"bluehome.profiles\",\"version\":1"));
}

#[test]
fn import_restores_slots_and_keeps_a_remembered_ha1_for_the_same_device() {
    let mut source = bound_three();
    source.set_ha1(1, Some(String::from(HA1))).unwrap();
    source.select(1, 0).unwrap();
    let file = source.export();

    let mut target = five();
    target.bind(Binding::new(B, "old b")).unwrap();
    target.set_ha1(0, Some(String::from(HA1))).unwrap();
    let effects = target.import(&file, 0).unwrap();
    assert!(effects.contains(&Effect::SaveNow));
    assert_eq!(target.active(), 1);
    assert_eq!(target.slot(0).map(|b| b.mac), Some(A));
    assert_eq!(target.slot(1).and_then(|b| b.ha1.as_deref()), Some(HA1));
    assert_eq!(target.slot(0).and_then(|b| b.ha1.as_deref()), None);
}

#[test]
fn import_forgets_devices_that_are_no_longer_in_any_slot() {
    let mut target = five();
    target
        .bind(Binding::new(MacAddress([7; 6]), "gone"))
        .unwrap();
    target.connected(MacAddress([7; 6]));
    let effects = target.import(&bound_three().export(), 0).unwrap();
    assert!(effects.contains(&Effect::Disconnect(MacAddress([7; 6]))));
    assert_eq!(forgotten(&effects), [MacAddress([7; 6])]);
    assert!(!target.is_live(MacAddress([7; 6])));
}

#[test]
fn invalid_import_changes_nothing() {
    let mut p = bound_three();
    let before = p.clone();
    assert!(matches!(p.import("[1,2", 0), Err(Error::Corrupt { .. })));
    assert_eq!(
        p.import(r#"{"schema":"bluehome.profiles","version":9}"#, 0),
        Err(Error::NewerVersion {
            found: 9,
            supported: 1
        })
    );
    let too_many = Profiles::new(cfg(8)).map(|mut q| {
        q.select(7, 0).unwrap();
        q.bind(Binding::new(A, "a")).unwrap();
        q.export()
    });
    assert_eq!(
        p.import(&too_many.unwrap(), 0),
        Err(Error::OutOfRange { index: 7, count: 5 })
    );
    assert_eq!(p, before);
}

#[test]
fn errors_explain_what_to_do() {
    let e = Error::SlotTaken { index: 0, bound: A };
    assert_eq!(
        e.to_string(),
        "profile 0 already holds A8:03:2A:B1:23:45; select an empty profile or clear this one first"
    );
}

/// Two windows of the page over one storage document, each loaded from `text`.
fn two_windows(text: &str) -> (Profiles, Profiles) {
    let load = || Profiles::load(Some(text), cfg(5)).profiles;
    (load(), load())
}

/// What `window` writes: its storage document, marked as written.
fn write(window: &mut Profiles) -> String {
    let text = window.to_storage_json();
    window.saved();
    text
}

#[test]
fn a_device_another_window_saved_is_taken_in() {
    let (mut here, mut there) = two_windows(&write(&mut five()));
    here.select(2, 0).unwrap();
    there.bind(Binding::new(A, "plug")).unwrap();
    let effects = here.take_in(&write(&mut there));
    assert_eq!(here.find(A), Some(0));
    assert_eq!(here.active(), 2, "the active slot stays this window's own");
    assert!(!effects.contains(&Effect::SaveNow), "nothing new to write");
    // Written back later, it is still there.
    here.bind(Binding::new(B, "switch")).unwrap();
    let reloaded = Profiles::load(Some(&write(&mut here)), cfg(5)).profiles;
    assert_eq!((reloaded.find(A), reloaded.find(B)), (Some(0), Some(2)));
}

#[test]
fn a_slot_both_windows_bound_keeps_both_devices() {
    let (mut here, mut there) = two_windows(&write(&mut five()));
    there.bind(Binding::new(A, "plug")).unwrap();
    let theirs = write(&mut there);
    // This window bound slot 0 too before it heard of the other's save (read just before writing).
    here.bind(Binding::new(B, "switch")).unwrap();
    let effects = here.take_in(&theirs);
    assert_eq!((here.find(B), here.find(A)), (Some(0), Some(1)));
    assert!(
        effects.contains(&Effect::SaveNow),
        "the merge is to be written"
    );
    there.take_in(&write(&mut here));
    assert_eq!((there.find(B), there.find(A)), (Some(0), Some(1)));
}

#[test]
fn a_device_cleared_in_another_window_is_dropped_here() {
    let (mut here, mut there) = two_windows(&write(&mut bound_three()));
    here.connected(A);
    let ha1 = Some(HA1.to_owned());
    there.set_ha1(1, ha1.clone()).unwrap();
    there.clear();
    let effects = here.take_in(&write(&mut there));
    assert_eq!(here.find(A), None);
    assert_eq!(here.slot(1).and_then(|b| b.ha1.clone()), ha1);
    assert!(effects.contains(&Effect::Disconnect(A)), "{effects:?}");
    assert!(effects.contains(&Effect::ActiveChanged { index: 0 }));
    assert_eq!(here.seeking(), Seeking::NewDevice);
}

#[test]
fn an_unreadable_document_or_slot_changes_nothing_here() {
    let (mut here, _) = two_windows(&write(&mut bound_three()));
    let before = here.clone();
    assert_eq!(here.take_in("[1,2"), Vec::new());
    let bad_slot = write(&mut bound_three()).replace("A8:03:2A:B1:23:45", "not a mac");
    assert_eq!(here.take_in(&bad_slot), Vec::new());
    assert_eq!(here, before);
}

/// A remembered HA1 belongs to the browser device it was remembered with; `Debug` never shows it.
#[test]
fn a_remembered_ha1_is_only_for_its_own_device_and_never_printed() {
    let mut binding = Binding::new(A, "dev");
    binding.ha1 = Some(HA1.into());
    assert_eq!(binding.ha1_for("id-1"), None, "no device id: for no device");
    binding.device_id = Some("id-1".into());
    assert_eq!(binding.ha1_for("id-1"), Some(HA1));
    assert_eq!(binding.ha1_for("id-2"), None);
    let printed = alloc::format!("{binding:?}");
    assert!(
        !printed.contains(HA1) && printed.contains("id-1"),
        "{printed}"
    );
}

#[test]
fn a_slot_is_a_devices_own_only_on_the_browser_id_it_was_saved_with() {
    let mut p = five();
    let mut binding = Binding::new(A, "dev");
    binding.device_id = Some("id-1".into());
    p.bind(binding).unwrap();
    p.select(1, 0).unwrap();
    p.bind(Binding::new(B, "saved before ids were kept"))
        .unwrap();
    assert_eq!(p.find_own(A, "id-1"), Some(0));
    assert_eq!(p.find(A), Some(0));
    assert_eq!(
        p.find_own(A, "id-2"),
        None,
        "another device claiming A's MAC"
    );
    assert_eq!(p.find_own(B, "id-3"), Some(1));
    assert_eq!(p.find_own(C, "id-1"), None);
}
