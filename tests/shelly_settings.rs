//! Browser tests of the Devices page's settings against the simulated Shelly gateway behind the
//! mock backend: password and name, Bluetooth pairing and the paired list, the AdvertiseOnce
//! composer, the raw RPC console's masked history, and connection failures (out of range, a
//! dropped link).
#![cfg(target_arch = "wasm32")]

mod dom;
mod shelly_support;

use bluehome::ble::mock::ChooserAnswer;
use bluehome::ble::{BleBackend, BleEvent, DeviceId, event_log};
use bluehome::state::shelly::Phase;
use bluehome::state::shelly::store::PROFILES_KEY;
use bluehome::state::storage::{KeyValue, MemoryStore};
use bluehome_core::sim::gateway::{Gateway, GatewayOptions};
use leptos::prelude::*;
use serde_json::json;
use shelly_support::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// A gateway (no sensors) protected by `password`.
fn protected_gateway(password: &str) -> std::rc::Rc<std::cell::RefCell<Gateway>> {
    gateway(
        GatewayOptions {
            password: Some(password.into()),
            ..GatewayOptions::default()
        },
        Vec::new(),
    )
}

/// Storage holding one saved profile, `binding`'s, in the first slot.
fn storing_profile(binding: bluehome_core::profiles::Binding) -> MemoryStore {
    use bluehome_core::profiles::{Config, Profiles};
    let mut profiles = Profiles::new(Config::default()).unwrap();
    profiles.bind(binding).unwrap();
    let storage = MemoryStore::default();
    storage
        .set(PROFILES_KEY, &profiles.to_storage_json())
        .unwrap();
    storage
}

/// Sets the device password from its tab, remembered in the device's profile.
async fn set_remembered_password(w: &World, password: &str) {
    click_and_render(&w.host, "Password & name").await;
    type_into(&w.host, "New password", password);
    type_into(&w.host, "Repeat it", password);
    check_box(&w.host, "Remember it in this device's profile");
    click(&w.host, "Set password");
    until(10, "the password set", || {
        w.session.busy.get_untracked().is_none() && w.gateway.borrow().auth_enabled()
    })
    .await;
}

#[wasm_bindgen_test]
async fn set_password_and_name_store_only_ha1_and_later_calls_authenticate() {
    let w = connected_world().await;
    set_remembered_password(&w, "n3w-pass").await;
    let ha1 = bluehome_core::shelly::auth::ha1(w.gateway.borrow().id(), "n3w-pass");
    let stored = w.storage.get(PROFILES_KEY).unwrap();
    assert!(
        stored.contains(&ha1) && !stored.contains("n3w-pass"),
        "{stored}"
    );
    // The next call is challenged and answered with the new HA1.
    type_into(&w.host, "Device name", "Hall gateway");
    click(&w.host, "Rename");
    until(10, "renamed", || w.session.busy.get_untracked().is_none()).await;
    w.assert_no_failure();
    assert_eq!(
        sim_call(&w.gateway, "Shelly.GetDeviceInfo", json!({}))["name"],
        "Hall gateway"
    );
    let log = log_text(w.session);
    assert!(!log.contains("n3w-pass") && !log.contains(&ha1), "{log}");
    assert!(log.contains("Shelly.SetAuth"));
    w.host.remove();
}

/// Removing the password turns the device's authentication off (`Shelly.SetAuth` with a null
/// HA1) and forgets the HA1 remembered in its profile; the next call needs no password.
#[wasm_bindgen_test]
async fn removing_the_password_turns_auth_off_and_forgets_the_remembered_ha1() {
    let w = connected_world().await;
    set_remembered_password(&w, "n3w-pass").await;
    let ha1 = bluehome_core::shelly::auth::ha1(w.gateway.borrow().id(), "n3w-pass");
    assert!(w.storage.get(PROFILES_KEY).unwrap().contains(&ha1));
    click(&w.host, "Remove password");
    until(10, "the password removed", || {
        w.session.busy.get_untracked().is_none() && !w.gateway.borrow().auth_enabled()
    })
    .await;
    w.assert_no_failure();
    let stored = w.storage.get(PROFILES_KEY).unwrap();
    assert!(!stored.contains(&ha1), "{stored}");
    type_into(&w.host, "Device name", "Hall gateway");
    click(&w.host, "Rename");
    until(10, "renamed", || w.session.busy.get_untracked().is_none()).await;
    assert_eq!(
        sim_call(&w.gateway, "Shelly.GetDeviceInfo", json!({}))["name"],
        "Hall gateway"
    );
    w.end_without_failure();
}

/// A remembered HA1 is used only on the browser device it was remembered with: a device that
/// reports the saved profile's MAC from another browser id is asked for the password instead
/// (answering its challenge would hand it a digest to guess the password from offline); on its
/// own id the same profile signs in by itself. Signed in with the password, and even asked to
/// remember it, the other device leaves the profile as it was (its browser id and HA1 stay), as
/// does a wrong password typed for it.
#[wasm_bindgen_test]
async fn a_remembered_password_is_used_only_on_the_device_it_was_remembered_with() {
    use bluehome_core::profiles::{Binding, Config, Profiles};
    for (remembered_on, signs_in) in [("another-device", false), ("gw-1", true)] {
        let gw = protected_gateway("s3cret");
        let (mac, realm) = (gw.borrow().mac(), gw.borrow().id().to_owned());
        let mut binding = Binding::new(mac, "Hall gateway");
        binding.device_id = Some(remembered_on.into());
        binding.ha1 = Some(bluehome_core::shelly::auth::ha1(&realm, "s3cret"));
        let w = world(gw, storing_profile(binding)).await;
        click(&w.host, "Set up a device…");
        if signs_in {
            w.until_connected().await;
            w.assert_no_failure();
        } else {
            w.failure_saying(10, "password protected").await;
            w.sign_in_remembering_after_a_wrong_try("s3cret").await;
            let message = w
                .session
                .profile_message
                .get_untracked()
                .unwrap_or_default();
            assert!(
                message.contains("profile 1 holds") && message.contains("another Bluetooth device"),
                "{message}"
            );
            let stored = w.storage.get(PROFILES_KEY).unwrap();
            let kept = Profiles::load(Some(&stored), Config::default()).profiles;
            let slot = kept.slot(0).unwrap();
            assert_eq!(slot.device_id.as_deref(), Some("another-device"));
            assert_eq!(
                slot.ha1,
                Some(bluehome_core::shelly::auth::ha1(&realm, "s3cret"))
            );
        }
        w.host.remove();
    }
}

/// A remembered password that the device refuses (it was changed in the Shelly app since) is
/// forgotten at once: taken off the profile, not sent again; the new one then signs in.
#[wasm_bindgen_test]
async fn a_remembered_password_the_device_refuses_is_forgotten() {
    use bluehome_core::profiles::{Binding, Config, Profiles};
    use bluehome_core::shelly::auth::ha1;

    let gw = protected_gateway("changed-in-the-app");
    let (mac, realm) = (gw.borrow().mac(), gw.borrow().id().to_owned());
    let old = ha1(&realm, "old-password");
    let mut binding = Binding::new(mac, "Hall gateway");
    binding.device_id = Some("gw-1".into());
    binding.ha1 = Some(old.clone());
    let w = world(gw, storing_profile(binding)).await;
    click(&w.host, "Set up a device…");
    w.failure_saying(10, "Wrong password").await;
    let stored = w.storage.get(PROFILES_KEY).unwrap();
    let kept = Profiles::load(Some(&stored), Config::default()).profiles;
    assert_eq!(kept.slot(0).unwrap().ha1, None, "{stored}");
    assert_eq!(w.session.link().and_then(|l| l.ha1()), None);
    w.send_password("changed-in-the-app");
    until(10, "signed in", || {
        w.failure().is_empty() && w.session.status.get_untracked().is_some()
    })
    .await;
    w.end_without_failure();
}

/// A password remembered for a device saved in the second profile goes into that profile: the
/// first profile's device keeps its own.
#[wasm_bindgen_test]
async fn a_password_is_remembered_in_the_devices_own_profile() {
    use bluehome_core::MacAddress;
    use bluehome_core::profiles::{Binding, Config, Profiles};

    let mut hall = Binding::new(MacAddress([0xCC, 0xBA, 0x97, 0x0D, 0x5E, 0x09]), "Hall");
    hall.ha1 = Some("a".repeat(64));
    let storage = storing_profile(hall.clone());
    let gw = protected_gateway("s3cret");
    let realm = gw.borrow().id().to_owned();
    let w = world(gw, storage).await;
    nth(&w.host, ".slot-select", 1).click();
    tick().await;
    click(&w.host, "Set up a device…");
    w.failure_saying(10, "password protected").await;
    w.sign_in_remembering_after_a_wrong_try("s3cret").await;
    let stored = w.storage.get(PROFILES_KEY).unwrap();
    let kept = Profiles::load(Some(&stored), Config::default()).profiles;
    let first = kept.slot(0).unwrap();
    assert_eq!((first.mac, &first.ha1), (hall.mac, &hall.ha1), "{stored}");
    let second = kept.slot(1).unwrap();
    let expected = bluehome_core::shelly::auth::ha1(&realm, "s3cret");
    assert_eq!(second.ha1.as_deref(), Some(expected.as_str()), "{stored}");
    w.host.remove();
}

/// "Refresh status" reads the status again: a Wi-Fi address the device got since is shown.
#[wasm_bindgen_test]
async fn refresh_status_shows_what_changed_on_the_device() {
    let w = connected_world_with(joins_wifi_after(0)).await;
    let wifi_row = || text(&w.host, ".shelly-info dl");
    assert!(wifi_row().contains("no IP"), "{}", wifi_row());
    let set = sim_call(
        &w.gateway,
        "WiFi.SetConfig",
        json!({"config": {"sta": {"ssid": "HomeNet", "pass": "correct horse", "enable": true}}}),
    );
    assert!(set.get("error").is_none(), "{set}");
    click(&w.host, "Refresh status");
    until(5, "the address shown", || {
        wifi_row().contains("connected, ")
    })
    .await;
    w.end_without_failure();
}

#[wasm_bindgen_test]
async fn pairing_counts_down_and_the_paired_list_deletes() {
    let w = connected_on("Bluetooth").await;
    // A window shorter than the page opens is refused on its field, not lengthened silently.
    let seconds = "Pairing seconds (10 to 600)";
    // A phone shows its number keys for it.
    let input = field(&w.host, seconds);
    assert_eq!(input.get_attribute("inputmode").as_deref(), Some("numeric"));
    type_into(&w.host, seconds, "5");
    let refusal = "the seconds: 5 is out of range (a whole number from 10 to 600)";
    w.refused_on("Start pairing", seconds, refusal, "BLE.StartPairing")
        .await;
    type_into(&w.host, seconds, "60");
    click(&w.host, "Start pairing");
    let countdown = text_saying(&w.host, 10, ".countdown", "Pairing open").await;
    assert!(
        countdown.contains("0:59") || countdown.contains("1:00"),
        "{countdown}"
    );
    // A phone pairs while the window is open: the list follows the device's event by itself.
    w.gateway.borrow_mut().bond("11:22:33:44:55:66", 0).unwrap();
    text_saying(&w.host, 5, ".paired", "11:22:33:44:55:66").await;
    // The list is read once for that event, not again at each later look at the events.
    let list_reads = || {
        use bluehome_core::shelly::methods::Method as _;
        let method = bluehome_core::shelly::methods::ble::ListPairedDevices::NAME;
        let requests = w.taps.requests.borrow();
        requests.iter().filter(|r| r.method == method).count()
    };
    let after_the_event = list_reads();
    let look = bluehome::state::shelly::ble::WATCH_PAIRING_EVERY_MS;
    let looks =
        |n: u64| gloo_timers::future::sleep(std::time::Duration::from_millis(n * look + 500));
    looks(2).await;
    assert_eq!(list_reads(), after_the_event);
    // The window is still watched, with another tab open too: a second phone's bond shows.
    click_and_render(&w.host, "Console").await;
    w.gateway.borrow_mut().bond("22:33:44:55:66:77", 0).unwrap();
    looks(1).await;
    click_and_render(&w.host, "Bluetooth").await;
    text_saying(&w.host, 1, ".countdown", "Pairing open").await;
    text_saying(&w.host, 5, ".paired", "22:33:44:55:66:77").await;
    click(&w.host, "Read Bluetooth settings and paired devices");
    text_saying(&w.host, 5, ".shelly-ble", "RPC over Bluetooth is on").await;
    assert!(text(&w.host, ".shelly-ble").contains("Paired devices (2 of 20)"));
    assert!(text(&w.host, ".shelly-ble").contains("RPC over Bluetooth is on"));
    click(&w.host, "Delete");
    until(10, "the bond deleted", || {
        !text(&w.host, ".paired").contains("11:22:33:44:55:66")
    })
    .await;
    let left: Vec<String> = w
        .gateway
        .borrow()
        .bonds()
        .iter()
        .map(|b| b.addr.clone())
        .collect();
    assert_eq!(left, ["22:33:44:55:66:77"]);
    click(&w.host, "Stop pairing");
    until(5, "the countdown gone", || {
        text(&w.host, ".countdown").is_empty()
    })
    .await;
    // A stopped window is not watched any more: a bond made after it (the set-up window takes
    // one at any time) is not read by itself.
    let at_the_stop = list_reads();
    w.gateway.borrow_mut().bond("33:44:55:66:77:88", 0).unwrap();
    looks(1).await;
    assert_eq!(list_reads(), at_the_stop);
    assert!(!text(&w.host, ".paired").contains("33:44:55:66:77:88"));
    w.host.remove();
}

/// The pairing window stays watched through a discovery run on the gateway tab, which starts the
/// page's list of events anew: a phone that bonds after it still shows by itself (the watch
/// counted the events it had seen by their place in that list, and missed every later one).
#[wasm_bindgen_test]
async fn a_bond_after_a_discovery_in_the_pairing_window_shows() {
    let w = connected_on("Bluetooth").await;
    type_into(&w.host, "Pairing seconds (10 to 600)", "120");
    click(&w.host, "Start pairing");
    text_saying(&w.host, 10, ".countdown", "Pairing open").await;
    for phone in ["11:22:33:44:55:66", "22:33:44:55:66:77"] {
        w.gateway.borrow_mut().bond(phone, 0).unwrap();
        text_saying(&w.host, 5, ".paired", phone).await;
    }
    click_and_render(&w.host, "BTHome gateway").await;
    type_into(&w.host, "Discovery seconds (1 to 120)", "1");
    click(&w.host, "Discover devices");
    until(10, "discovery done", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    assert!(log_text(w.session).contains("BTHome.StartDeviceDiscovery"));
    click_and_render(&w.host, "Bluetooth").await;
    w.gateway.borrow_mut().bond("33:44:55:66:77:88", 0).unwrap();
    text_saying(&w.host, 5, ".paired", "33:44:55:66:77:88").await;
    w.host.remove();
}

/// Turning RPC over Bluetooth off asks first; confirmed, the switch is saved, the device restarts
/// to apply it (firmware answers `restart_required`), and the page leaves it without reporting a
/// dropped link, as the device refuses RPC over Bluetooth from then on.
#[wasm_bindgen_test]
async fn turning_rpc_over_bluetooth_off_restarts_the_device_and_leaves_it() {
    let w = connected_on("Bluetooth").await;
    click(&w.host, "Read Bluetooth settings and paired devices");
    text_saying(&w.host, 5, ".shelly-ble", "RPC over Bluetooth is on").await;
    click(&w.host, "Turn off…");
    tick().await;
    assert!(!log_text(w.session).contains("BLE.SetConfig"), "asks first");
    click(&w.host, "Turn off and restart");
    w.left_without_rpc_over_bluetooth(&["BLE.SetConfig", "Shelly.Reboot"])
        .await;
    w.host.remove();
}

#[wasm_bindgen_test]
async fn advertise_once_sends_a_composed_bthome_payload_within_the_budget() {
    let w = connected_on("Bluetooth").await;
    // The default row: temperature 21.5 °C → 40 02 66 08 in FCD2 service data.
    let budget = text(&w.host, ".budget");
    assert_eq!(budget, "8 of 28 bytes: 0716d2fc40026608");
    click(&w.host, "Send");
    until(10, "advertised", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    let sent = w
        .gateway
        .borrow()
        .user_advert(0)
        .map(|a| a.adv_data.clone());
    assert_eq!(
        sent,
        Some(vec![0x07, 0x16, 0xD2, 0xFC, 0x40, 0x02, 0x66, 0x08])
    );
    // Raw mode: 29 bytes are over the budget and cannot be sent.
    check_box(&w.host, "Raw advertising data");
    tick().await;
    // A 29-byte complete local name: 1c 09 and 27 × 'a'.
    type_into(
        &w.host,
        "Advertising data (hex)",
        &format!("1c09{}", "61".repeat(27)),
    );
    tick().await;
    assert!(
        text(&w.host, ".budget").contains("1 over the 28-byte budget"),
        "{}",
        text(&w.host, ".budget")
    );
    assert!(button(&w.host, "Send").has_attribute("disabled"));
    w.host.remove();
}

#[wasm_bindgen_test]
async fn the_console_shows_answers_and_masks_secrets() {
    let w = connected_on("Console").await;
    let method: web_sys::HtmlInputElement = query(&w.host, ".shelly-console input");
    method.set_value("WiFi.SetConfig");
    method
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    let params: web_sys::HtmlTextAreaElement = query(&w.host, ".shelly-console textarea");
    params.set_value(r#"{"config":{"sta":{"ssid":"Guest","pass":"top-secret-1","enable":true}}}"#);
    params
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    click(&w.host, "Call");
    let history = text_saying(&w.host, 10, ".history", "restart_required").await;
    assert!(
        history.contains("«redacted»") && !history.contains("top-secret-1"),
        "{history}"
    );
    method.set_value("No.Such");
    method
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    params.set_value("");
    params
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    click(&w.host, "Call");
    text_saying(&w.host, 10, ".history", "error 404").await;
    assert!(
        w.failure().is_empty(),
        "an error answer is shown in the history, not as a failure"
    );
    // No answer at all is a failure: the device never answers the call's GATT operations.
    let _limit = GattLimit::set(300);
    let id = DeviceId::from("gw-1");
    w.mock().set_gatt_hangs(&id, true);
    click(&w.host, "Call");
    until(2, "a failure", || !w.failure().is_empty()).await;
    let failure = w.failure();
    w.mock().set_gatt_hangs(&id, false);
    assert!(
        failure.contains("took too long to answer") && failure.contains("No.Such"),
        "{failure}"
    );
    w.host.remove();
}

#[wasm_bindgen_test]
async fn out_of_range_is_explained_and_retry_connects() {
    let w = world_with(GatewayOptions::default()).await;
    OUT_OF_RANGE.with(|n| n.set(1));
    click(&w.host, "Set up a device…");
    let failure = w.failure_saying(10, "did not answer").await;
    assert!(failure.contains("Move closer"), "{failure}");
    assert!(failure.contains("Connection attempt failed"), "{failure}");
    assert!(text(&w.host, ".steps").contains("✗"));
    click(&w.host, "Retry");
    w.until_connected().await;
    w.end_without_failure();
}

#[wasm_bindgen_test]
async fn a_dropped_link_reconnects_the_active_profile_and_explains_a_failure() {
    let w = connected_world().await;
    let state = |w: &World| element(&w.host, ".slot.active").get_attribute("data-state");
    assert_eq!(state(&w).as_deref(), Some("connected"));
    let drop_link = |w: &World| {
        w.session
            .backend()
            .as_mock()
            .unwrap()
            .drop_connection(&DeviceId::from("gw-1"));
    };
    // ZMK: the active profile's device is sought again at once.
    drop_link(&w);
    tick().await;
    assert_eq!(state(&w).as_deref(), Some("not connected"));
    assert!(w.session.link().is_none());
    until(5, "reconnected by itself", || {
        state(&w).as_deref() == Some("connected")
    })
    .await;
    w.assert_no_failure();
    // Out of range this time: the automatic attempt fails, is explained, and Retry reconnects.
    OUT_OF_RANGE.with(|n| n.set(1));
    drop_link(&w);
    w.failure_saying(5, "did not answer").await;
    assert_eq!(state(&w).as_deref(), Some("not connected"));
    click(&w.host, "Retry");
    until(10, "reconnected", || {
        state(&w).as_deref() == Some("connected")
    })
    .await;
    w.end_without_failure();
}

/// After a restart the page connects again, trying five times two seconds apart while the
/// device boots; one that has not come back by then is given up with the failure explained (not
/// tried for ever), and Retry connects once it is back and goes on where the action stopped:
/// it waits for the Wi-Fi address.
#[wasm_bindgen_test]
async fn a_device_that_does_not_come_back_from_a_restart_is_given_up_after_five_tries() {
    use bluehome::state::shelly::connect::RECONNECT_ATTEMPTS;

    let w = wifi_needing_a_restart(500).await;
    OUT_OF_RANGE.with(|n| n.set(RECONNECT_ATTEMPTS));
    click(&w.host, "Apply");
    w.failure_saying(20, "did not answer").await;
    assert_eq!(
        OUT_OF_RANGE.with(std::cell::Cell::get),
        0,
        "every try was made"
    );
    assert!(text(&w.host, ".steps").contains("Shelly.Reboot"));
    assert!(!w.mock().is_connected(&DeviceId::from("gw-1")));
    click(&w.host, "Retry");
    until(10, "connected again", || {
        w.session.link().is_some() && w.session.phase.get_untracked() == Phase::Connected
    })
    .await;
    text_saying(&w.host, 10, ".shelly-wifi .success", "Connected to Wi-Fi").await;
    let steps = text(&w.host, ".steps");
    assert!(
        steps.contains("Waiting for the device to join the network"),
        "{steps}"
    );
    w.end_without_failure();
}

/// A device the user turns to while the dropped one waits to be reconnected (within
/// `AUTO_RECONNECT_DELAY_MS`) is kept: the dropped device is not reconnected over it.
#[wasm_bindgen_test]
async fn a_device_chosen_while_a_reconnect_waits_is_kept() {
    use bluehome::state::shelly::connect::AUTO_RECONNECT_DELAY_MS;

    let w = connected_world().await;
    let (first, second) = (DeviceId::from("gw-1"), DeviceId::from("gw-2"));
    add_neighbour(w.mock(), &second, Some("ShellyBluGwG3-CCBA970D5E02"));
    w.mock().set_chooser(ChooserAnswer::Device(second.clone()));
    let started = js_sys::Date::now();
    w.mock().drop_connection(&first);
    tick().await;
    nth(&w.host, ".slot-select", 1).click();
    tick().await;
    click(&w.host, "Set up a device…");
    until(1, "connected to the second gateway", || {
        w.session.link().is_some_and(|l| *l.device() == second)
            && w.session.busy.get_untracked().is_none()
    })
    .await;
    let switched_after = js_sys::Date::now() - started;
    assert!(
        switched_after < AUTO_RECONNECT_DELAY_MS as f64,
        "the switch took {switched_after} ms"
    );
    let asked = w.taps.requests.borrow().len();
    gloo_timers::future::sleep(std::time::Duration::from_millis(
        AUTO_RECONNECT_DELAY_MS + 500,
    ))
    .await;
    assert!(w.mock().is_connected(&second));
    assert!(
        !w.mock().is_connected(&first),
        "the dropped device was reconnected"
    );
    assert_eq!(
        w.taps.requests.borrow().len(),
        asked,
        "the dropped device was asked again"
    );
    w.end_without_failure();
}

// ---- Operations Chrome never settles -------------------------------------------------------

/// Chrome may never settle a GATT operation (WebBluetoothCG/web-bluetooth#367, #451): the page
/// gives up on it after its time limit and disconnects the device, which makes Chrome reject it
/// and frees the device; before, every later operation on it waited behind the stuck one.
#[wasm_bindgen_test]
async fn a_gatt_operation_that_never_settles_is_given_up() {
    use bluehome::ble::{Characteristic, ErrorKind};
    use bluehome_core::shelly::rpc::{RX_CTL_UUID, SERVICE_UUID};

    let _limit = GattLimit::set(300);
    let w = connected_world().await;
    let id = DeviceId::from("gw-1");
    let rx_ctl = Characteristic {
        service: SERVICE_UUID,
        uuid: RX_CTL_UUID,
    };
    w.mock().set_gatt_hangs(&id, true);
    let stuck = w.backend.read(&id, rx_ctl).await.unwrap_err();
    assert_eq!(stuck.kind, ErrorKind::Timeout, "{stuck}");
    assert!(stuck.to_string().contains("within 0.3 s"), "{stuck}");
    assert!(
        !w.mock().is_connected(&id),
        "disconnected, which rejects it"
    );
    w.mock().set_gatt_hangs(&id, false);
    // The active profile's device is reconnected, and answers.
    until(10, "reconnected", || {
        w.mock().is_connected(&id) && w.session.phase.get_untracked() == Phase::Connected
    })
    .await;
    w.end_without_failure();
}

/// A device that drops every link before it answers (at the edge of range, rebooting over and
/// over) is reconnected by itself three times, not forever; its failure stays with a Retry.
#[wasm_bindgen_test]
async fn a_device_that_keeps_dropping_is_not_reconnected_forever() {
    use bluehome::state::shelly::connect::{AUTO_RECONNECT_DELAY_MS, MAX_AUTO_RECONNECTS};

    let _limit = GattLimit::set(100);
    let w = connected_world().await;
    let id = DeviceId::from("gw-1");
    let events = event_log(w.mock());
    // Every operation goes unanswered until the page gives up on it and disconnects.
    w.mock().set_gatt_hangs(&id, true);
    w.backend.disconnect(&id);
    let drops = || {
        events
            .borrow()
            .iter()
            .filter(|e| matches!(e, BleEvent::Disconnected { .. }))
            .count()
    };
    let rounds = u64::from(MAX_AUTO_RECONNECTS) + 3;
    for _ in 0..rounds * (AUTO_RECONNECT_DELAY_MS + 300) / 20 {
        tick().await;
    }
    assert_eq!(
        drops(),
        1 + MAX_AUTO_RECONNECTS as usize,
        "{:?}",
        events.borrow()
    );
    assert!(!w.mock().is_connected(&id));
    w.failure_saying(1, "").await;
    w.mock().set_gatt_hangs(&id, false);
    w.host.remove();
}

/// The device's tabs follow the WAI-ARIA "Tabs" pattern: one Tab stop (the selected tab), arrow
/// keys move to the next tab and select it, its panel is labelled by it.
#[wasm_bindgen_test]
async fn the_tabs_move_with_the_arrow_keys() {
    let w = connected_world().await;
    let selected = || {
        let tab = element(&w.host, "[role=tab][aria-selected=true]");
        (tab.text_content().unwrap_or_default(), tab.id())
    };
    assert_eq!(selected().0, "Device");
    assert_eq!(
        count(&w.host, "[role=tab][tabindex='0']"),
        1,
        "one Tab stop"
    );
    let key = |name: &str| {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(name);
        init.set_bubbles(true);
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()
    };
    let device_tab = element(&w.host, "#tab-device");
    device_tab.dispatch_event(&key("ArrowRight")).unwrap();
    tick().await;
    assert_eq!(selected().0, "Wi-Fi");
    assert_eq!(
        document().active_element().map(|e| e.id()).as_deref(),
        Some("tab-wifi")
    );
    let panel = element(&w.host, "[role=tabpanel]");
    assert_eq!(
        panel.get_attribute("aria-labelledby").as_deref(),
        Some("tab-wifi")
    );
    element(&w.host, "#tab-wifi")
        .dispatch_event(&key("End"))
        .unwrap();
    tick().await;
    assert_eq!(selected().1, "tab-console");
    w.host.remove();
}

/// The console's newest answer is announced (a status region on the page before the first call;
/// the history itself is no live region, which would read every entry again).
#[wasm_bindgen_test]
async fn the_consoles_newest_answer_is_announced() {
    let w = connected_on("Console").await;
    let region = element(&w.host, ".shelly-console > .console-result[role=status]");
    assert!(region.matches(":empty").unwrap(), "{}", region.outer_html());
    click(&w.host, "Call");
    until(10, "the answer said", || {
        !region.text_content().unwrap_or_default().is_empty()
    })
    .await;
    let said = region.text_content().unwrap_or_default();
    assert!(
        said.starts_with("Shelly.GetDeviceInfo answered in "),
        "{said}"
    );
    let method: web_sys::HtmlInputElement = query(&w.host, ".shelly-console input");
    method.set_value("No.Such");
    method
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    click(&w.host, "Call");
    until(10, "the error said", || {
        region
            .text_content()
            .unwrap_or_default()
            .starts_with("No.Such failed")
    })
    .await;
    assert!(region.is_same_node(Some(&element(&w.host, ".shelly-console > .console-result"))));
    w.host.remove();
}

/// A refused password names the field it is about (`aria-invalid`, `aria-describedby` on the
/// failure's words: WCAG 2.2 technique ARIA21), until a password is set.
#[wasm_bindgen_test]
async fn a_refused_password_names_its_field() {
    let w = connected_on("Password & name").await;
    type_into(&w.host, "New password", "n3w-pass");
    type_into(&w.host, "Repeat it", "n3w-pas");
    click(&w.host, "Set password");
    w.failure_saying(5, "the two passwords differ").await;
    assert_eq!(refusal_of(&w.host, "Repeat it"), "the two passwords differ");
    assert_eq!(validity(&field(&w.host, "New password")), (None, None));

    click(&w.host, "Set password");
    w.failure_saying(5, "the password is empty").await;
    assert_eq!(validity(&field(&w.host, "Repeat it")), (None, None));
    assert_eq!(refusal_of(&w.host, "New password"), "the password is empty");

    type_into(&w.host, "New password", "n3w-pass");
    type_into(&w.host, "Repeat it", "n3w-pass");
    click(&w.host, "Set password");
    until(10, "the password set", || {
        w.session.busy.get_untracked().is_none() && w.gateway.borrow().auth_enabled()
    })
    .await;
    assert_eq!(validity(&field(&w.host, "New password")), (None, None));
    assert_eq!(validity(&field(&w.host, "Repeat it")), (None, None));
    w.host.remove();
}

/// Applying Wi-Fi settings without a network name names the network field.
#[wasm_bindgen_test]
async fn a_missing_network_name_names_its_field() {
    let w = connected_on("Wi-Fi").await;
    let ssid = "Network name (SSID)";
    assert_eq!(validity(&field(&w.host, ssid)), (None, None));
    // The device is in its set-up window: the page asks before a password goes in the clear.
    check_box(&w.host, "I understand");
    tick().await;
    submit(&w.host, ".wifi-form");
    w.failure_saying(5, "network name first").await;
    assert_eq!(
        refusal_of(&w.host, ssid),
        "choose or type a network name first"
    );
    click(&w.host, "Dismiss");
    tick().await;
    assert_eq!(validity(&field(&w.host, ssid)), (None, None));
    // The Dismiss button went with the failure: the focus is back on the device's Wi-Fi tab.
    until(2, "the focus on the selected tab", || {
        document().active_element().map(|e| e.id()).as_deref() == Some("tab-wifi")
    })
    .await;
    w.host.remove();
}

const PAIRING_SECONDS: &str = "Pairing seconds (10 to 600)";

/// The value of the composer's first object.
fn composed_value(host: &web_sys::HtmlElement) -> String {
    query::<web_sys::HtmlInputElement>(host, ".composer input").value()
}

/// Types `value` as the composer's first object's value.
fn set_composed_value(host: &web_sys::HtmlElement, value: &str) {
    let input: web_sys::HtmlInputElement = query(host, ".composer input");
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// What was typed into the Devices page's forms stays through a tab switch; another device
/// connecting clears what was meant for the first device (the Wi-Fi network and password, the
/// device's password and name), not the rest (the console, the pairing time, the composer).
#[wasm_bindgen_test]
async fn typed_text_is_kept_across_tabs_until_another_device_connects() {
    let w = connected_on("Wi-Fi").await;
    type_into(&w.host, "Network name (SSID)", "Attic");
    type_into(&w.host, "Wi-Fi password", "attic-pass-1");
    check_box(&w.host, "I understand");
    click_and_render(&w.host, "Password & name").await;
    type_into(&w.host, "New password", "n3w-pass");
    type_into(&w.host, "Device name", "Attic gateway");
    check_box(&w.host, "Turn off the device's Wi-Fi access point");
    click_and_render(&w.host, "Bluetooth").await;
    type_into(&w.host, PAIRING_SECONDS, "300");
    set_composed_value(&w.host, "19.5");
    click_and_render(&w.host, "Console").await;
    type_into(&w.host, "Method", "Sys.GetConfig");

    click_and_render(&w.host, "Bluetooth").await;
    assert_eq!(field(&w.host, PAIRING_SECONDS).value(), "300");
    assert_eq!(composed_value(&w.host), "19.5");
    click_and_render(&w.host, "Wi-Fi").await;
    assert_eq!(field(&w.host, "Network name (SSID)").value(), "Attic");
    assert_eq!(field(&w.host, "Wi-Fi password").value(), "attic-pass-1");
    assert!(checkbox(&w.host, "I understand").unwrap().checked());
    click_and_render(&w.host, "Password & name").await;
    assert_eq!(field(&w.host, "New password").value(), "n3w-pass");
    assert_eq!(field(&w.host, "Device name").value(), "Attic gateway");
    assert!(checkbox(&w.host, "access point").unwrap().checked());
    click_and_render(&w.host, "Console").await;
    assert_eq!(field(&w.host, "Method").value(), "Sys.GetConfig");

    w.turn_to_a_second_gateway().await;
    click_and_render(&w.host, "Console").await;
    assert_eq!(field(&w.host, "Method").value(), "Sys.GetConfig");
    click_and_render(&w.host, "Bluetooth").await;
    assert_eq!(field(&w.host, PAIRING_SECONDS).value(), "300");
    assert_eq!(composed_value(&w.host), "19.5");
    click_and_render(&w.host, "Password & name").await;
    assert_eq!(field(&w.host, "New password").value(), "");
    assert_eq!(field(&w.host, "Device name").value(), "");
    assert!(!checkbox(&w.host, "access point").unwrap().checked());
    click_and_render(&w.host, "Wi-Fi").await;
    assert_eq!(field(&w.host, "Network name (SSID)").value(), "");
    assert_eq!(field(&w.host, "Wi-Fi password").value(), "");
    assert!(!checkbox(&w.host, "I understand").unwrap().checked());
    w.host.remove();
}
