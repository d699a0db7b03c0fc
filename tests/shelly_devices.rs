//! Browser tests of the Devices page against the simulated Shelly gateway (core `sim`), behind
//! the mock Bluetooth backend: the page's real code path (chooser, GATT, the core RPC client)
//! drives a device that runs the real GATT RPC server.
#![cfg(target_arch = "wasm32")]

mod dom;
mod shelly_support;

use std::rc::Rc;

use bluehome::ble::mock::{ChooserAnswer, Platform};
use bluehome::ble::{Backend, BleBackend, DeviceId};
use bluehome::platform::Os;
use bluehome::state::shelly::explain::FailureKind;
use bluehome::state::shelly::store::PROFILES_KEY;
use bluehome::state::storage::{KeyValue, MemoryStore};
use bluehome_core::shelly::auth::Nonce;
use bluehome_core::shelly::methods::events::Event;
use bluehome_core::sim::gateway::GatewayOptions;
use leptos::prelude::*;
use serde_json::json;
use shelly_support::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn provisioning_end_to_end() {
    let w = connected_world_with(joins_wifi_after(1_500)).await;
    assert!(text(&w.host, ".steps").contains("Shelly.GetDeviceInfo"));
    assert!(text(&w.host, ".shelly-info").contains("CC:BA:97:0D:5E:01"));

    click_and_render(&w.host, "Wi-Fi").await;
    let networks = scan_networks(&w, "HomeNet").await;
    assert!(networks.contains("WPA2-PSK"), "{networks}");
    assert!(
        networks.find("HomeNet") < networks.find("Neighbour"),
        "strongest first: {networks}"
    );
    // Another tab and back: the networks found are still listed.
    click_and_render(&w.host, "Device").await;
    click_and_render(&w.host, "Wi-Fi").await;
    assert_eq!(text(&w.host, ".networks"), networks);
    // The set-up window is not encrypted: the page says so before the password is sent.
    assert!(text(&w.host, ".shelly-wifi").contains("not encrypted"));
    assert!(button(&w.host, "Apply").has_attribute("disabled"));

    let nodes = w.host.query_selector_all("button.network").unwrap();
    let home = (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .map(|n| n.unchecked_into::<web_sys::HtmlElement>())
        .find(|b| b.text_content().unwrap_or_default().starts_with("HomeNet"))
        .unwrap();
    home.click();
    type_into(&w.host, "Wi-Fi password", "correct horse");
    check_box(&w.host, "I understand");
    tick().await;
    click(&w.host, "Apply");
    let done = text_saying(&w.host, 15, ".shelly-wifi .success", "Connected to Wi-Fi").await;
    let link = element(&w.host, ".shelly-wifi .success a");
    let href = link.get_attribute("href").unwrap();
    assert!(
        href.starts_with("http://")
            && done.contains(href.trim_start_matches("http://").trim_end_matches('/')),
        "{done} {href}"
    );
    // Figures for the closing note: RPC calls, GATT operations and bytes of the whole flow.
    w.session.log.with_untracked(|log| {
        let ops: u32 = log.iter().map(|e| e.gatt_ops).sum();
        let out: usize = log.iter().map(|e| e.bytes.0).sum();
        let inn: usize = log.iter().map(|e| e.bytes.1).sum();
        wasm_bindgen_test::console_log!(
            "provisioning flow: {} RPC calls, {ops} GATT operations, {out} B written, {inn} B read",
            log.len()
        );
        for e in log {
            wasm_bindgen_test::console_log!(
                "  {} {} ms, {} ops, {}/{} B",
                e.method,
                e.took_ms,
                e.gatt_ops,
                e.bytes.0,
                e.bytes.1
            );
        }
    });
    // The Wi-Fi password never shows in the log.
    let log = log_text(w.session);
    assert!(log.contains("WiFi.SetConfig"));
    assert!(!log.contains("correct horse"), "{log}");
    assert!(log.contains("«redacted»"));
    w.host.remove();
}

#[wasm_bindgen_test]
async fn auth_challenge_is_answered_and_retried() {
    let w = challenged_world("s3cret-pw").await;
    // A password manager files the password under the device, not the site.
    let username = element(&w.host, ".password-form input[autocomplete=username]");
    let username: web_sys::HtmlInputElement = username.dyn_into().unwrap();
    assert_eq!(username.value(), w.gateway.borrow().id());
    // A retry connects to the device already chosen: from here on, any chooser is closed. It
    // goes on over the link already open (closing it would cost a reconnection each time).
    w.mock().set_chooser(ChooserAnswer::Cancel);
    let events = bluehome::ble::event_log(w.mock());
    w.sign_in_remembering_after_a_wrong_try("s3cret-pw").await;
    let dropped = events
        .borrow()
        .iter()
        .any(|e| matches!(e, bluehome::ble::BleEvent::Disconnected { .. }));
    assert!(!dropped, "the link was closed: {:?}", events.borrow());
    // Only HA1 is stored, and nothing secret is logged.
    let stored = w.storage.get(PROFILES_KEY).unwrap();
    let ha1 = bluehome_core::shelly::auth::ha1(w.gateway.borrow().id(), "s3cret-pw");
    assert!(stored.contains(&ha1), "{stored}");
    assert!(!stored.contains("s3cret-pw"));
    let log = log_text(w.session);
    assert!(!log.contains("s3cret-pw") && !log.contains(&ha1), "{log}");
    w.host.remove();
}

/// Firmware 2.0 pauses sign-ins after failed ones, answering 429 "Too many failed
/// authentication attempts" (home-assistant/core#177257): the page says so, not "wrong password"
/// or "check the values you entered", also when the right password comes while it lasts.
#[wasm_bindgen_test]
async fn a_device_that_pauses_sign_ins_says_so() {
    let w = challenged_world_with(GatewayOptions {
        password: Some("s3cret-pw".into()),
        firmware_2_auth: true,
        ..GatewayOptions::default()
    })
    .await;
    w.mock().set_chooser(ChooserAnswer::Cancel);
    let attempt = |password: &'static str| {
        let w = &w;
        async move {
            let sent = w.taps.requests.borrow().len();
            w.send_password(password);
            until(10, "the attempt answered", || {
                w.taps.requests.borrow().len() > sent
                    && w.session.busy.get_untracked().is_none()
                    && w.session.failure.get_untracked().is_some()
            })
            .await;
            w.session.failure.get_untracked().unwrap().kind
        }
    };
    for _ in 0..4 {
        assert_eq!(attempt("wrong").await, FailureKind::WrongPassword);
    }
    assert_eq!(attempt("wrong").await, FailureKind::SignInsPaused);
    assert_eq!(attempt("s3cret-pw").await, FailureKind::SignInsPaused);
    let shown = w.failure_saying(10, "The device pauses sign-ins").await;
    assert!(shown.contains("Wait a few minutes and retry"), "{shown}");
    w.host.remove();
}

#[wasm_bindgen_test]
async fn the_21st_bond_is_refused_with_a_clear_message() {
    let gw = provisioned_gateway();
    sim_call(&gw, "BLE.StartPairing", json!({"timeout": 300}));
    {
        let mut g = gw.borrow_mut();
        for i in 0..20 {
            g.bond(&format!("aa:bb:cc:00:00:{i:02x}"), 0).unwrap();
        }
    }
    let w = world(gw, MemoryStore::default()).await;
    // Android pairs on demand; the device refuses the 21st bond, and Chrome reports that as it
    // reports any failed pairing ("GATT Error: Not paired."), so the advice names the limit.
    w.mock().set_platform(Platform::Android);
    click(&w.host, "Set up a device…");
    let failure = w.failure_saying(10, "requires pairing").await;
    assert!(failure.contains("at most 20 paired devices"), "{failure}");
    assert!(failure.contains("Delete one"), "{failure}");
    assert!(failure.contains("GATT Error: Not paired."), "{failure}");
    assert_eq!(w.gateway.borrow().bonds().len(), 20);
    w.host.remove();
}

/// Pairing on demand as each system's Chrome does it, with a Shelly out of its set-up window
/// (its pairing window open), which pairs without a PIN ("Just Works"): Chrome on Windows refuses
/// such a pairing by default ("Authentication failed.") and the advice names the flag and the
/// Settings steps; Chrome on Linux pairs it by itself (Android: the test before).
#[wasm_bindgen_test]
async fn pairing_on_demand_as_each_systems_chrome_does_it() {
    let gw = provisioned_gateway();
    sim_call(&gw, "BLE.StartPairing", json!({"timeout": 300}));
    let w = world(gw, MemoryStore::default()).await;
    w.mock().set_platform(Platform::Windows);
    w.setup.os.set(Os::Windows);
    click(&w.host, "Set up a device…");
    let failure = w.failure_saying(10, "requires pairing").await;
    assert!(failure.contains("Authentication failed."), "{failure}");
    assert!(
        failure.contains("#enable-web-bluetooth-confirm-pairing-support"),
        "{failure}"
    );
    assert!(
        failure.contains("Settings › Bluetooth & devices › Add device"),
        "{failure}"
    );
    assert!(w.gateway.borrow().bonds().is_empty());
    w.mock().set_platform(Platform::Linux);
    w.setup.os.set(Os::Linux);
    click(&w.host, "Retry");
    w.until_connected().await;
    assert_eq!(w.gateway.borrow().bonds().len(), 1);
    w.host.remove();
}

/// Connected to a gateway that hears one H&T: discovers it, adds it as "Kitchen H&T", presses
/// its button so that the gateway learns its objects, and waits for the page to offer them.
async fn ht_added_with_its_objects_offered() -> World {
    let w = world_hearing_one_ht().await;
    connect(&w).await;
    click_and_render(&w.host, "BTHome gateway").await;
    // Seconds that are not a number are refused on their field, not replaced by a default; the
    // label says what it takes.
    let seconds = "Discovery seconds (1 to 120)";
    type_into(&w.host, seconds, "two");
    let refusal = "the seconds: \"two\" is not a whole number (a whole number from 1 to 120)";
    let method = "BTHome.StartDeviceDiscovery";
    w.refused_on("Discover devices", seconds, refusal, method)
        .await;
    type_into(&w.host, seconds, "2");
    click(&w.host, "Discover devices");
    text_saying(&w.host, 10, ".discovered", "3C:2E:F5:5B").await;
    let found: web_sys::HtmlElement = query(&w.host, "button.discovered-device");
    let said = found.text_content().unwrap_or_default();
    assert!(said.contains("Shelly BLU H&T (SBHT-003C)"), "{said}");
    found.click();
    until(10, "discovery done", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    // Picked, the address reads as everywhere on the page (firmware sends it in lower case).
    assert_eq!(field(&w.host, "Address").value(), "3C:2E:F5:5B:01:01");
    type_into(&w.host, "Name", "Kitchen H&T");
    // The gateway knows nothing of the device until it hears it again (an H&T sends once a
    // minute): the page says so and what to do.
    w.add_device_waiting(10, "Press the device's button").await;
    assert!(count(&w.host, "fieldset.objects input") == 0);
    let config = sim_call(&w.gateway, "BTHomeDevice.GetConfig", json!({"id": 200}));
    assert_eq!(config["name"], "Kitchen H&T", "{config}");
    // The user presses its button: it sends at once, the gateway learns its objects (and says
    // so with new_objects), and the page offers them.
    w.press_and_see_its_sensors_offered(10).await;
    w
}

/// The device waited for is read as soon as the gateway says it knows its objects, also when
/// another of the page's reads (a discovery's or the feed's listening beside the wait) received
/// that `new_objects`: the wait looked only at what its own listening received, and so read again
/// only at its next re-read, 5 s after the last.
#[wasm_bindgen_test]
async fn new_objects_received_by_another_read_ends_the_wait_at_once() {
    let w = waiting_for_a_new_ht().await;
    let seen = w.session.events_seen();
    w.gateway.borrow_mut().sensors_mut()[0].press(0);
    w.session.listen().await.unwrap();
    assert!(
        w.session
            .event_since(seen, |e| matches!(e, Event::NewObjects { .. }))
    );
    until(3, "its sensors offered", || {
        count(&w.host, "fieldset.objects input") >= 2
    })
    .await;
    w.end_without_failure();
}

#[wasm_bindgen_test]
async fn discovery_then_adding_a_device_and_two_sensors() {
    let w = ht_added_with_its_objects_offered().await;
    let objects = text(&w.host, "fieldset.objects");
    assert!(
        objects.contains("temperature") && objects.contains("humidity"),
        "{objects}"
    );
    check_box(&w.host, "temperature");
    check_box(&w.host, "humidity");
    tick().await;
    click(&w.host, "Add selected sensors");
    until(10, "two sensors", || {
        count(&w.host, ".bthome-sensors li") == 2
    })
    .await;
    assert!(text(&w.host, ".bthome-devices").contains("Kitchen H&T"));
    let sensors = text(&w.host, ".bthome-sensors");
    assert!(
        sensors.contains("bthomesensor:200") && sensors.contains("bthomesensor:201"),
        "{sensors}"
    );
    // Each sensor names its device, as the devices list does.
    assert_eq!(
        texts(&w.host, ".bthome-sensors .sensor-device"),
        ["from Kitchen H&T", "from Kitchen H&T"]
    );
    w.host.remove();
}

/// "Add selected sensors" pressed twice at once adds each sensor once: the simulated gateway
/// takes a second `BTHome.AddSensor` for the same object as another component.
#[wasm_bindgen_test]
async fn add_selected_sensors_pressed_twice_adds_each_once() {
    let w = ht_added_with_its_objects_offered().await;
    check_box(&w.host, "temperature");
    tick().await;
    click(&w.host, "Add selected sensors");
    click(&w.host, "Add selected sensors");
    until(10, "the sensor listed", || {
        count(&w.host, ".bthome-sensors li") == 1
    })
    .await;
    until(10, "nothing running", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    let log = log_text(w.session);
    assert_eq!(log.matches("BTHome.AddSensor").count(), 1, "{log}");
    assert_eq!(count(&w.host, ".bthome-sensors li"), 1);
    w.end_without_failure();
}

/// A sensor the gateway refuses does not stop the others: the page says which were not added,
/// and a retry adds only those.
#[wasm_bindgen_test]
async fn a_refused_sensor_leaves_the_others_added_and_the_retry_adds_only_it() {
    let w = ht_added_with_its_objects_offered().await;
    // Another device's sensors take 99 of the 100 component ids (200..299): one is left.
    let call = |method: &str, params: serde_json::Value| sim_call(&w.gateway, method, params);
    let other = "3c:2e:f5:00:00:01";
    call("BTHome.AddDevice", json!({"config": {"addr": other}}));
    for idx in 0..99 {
        let config = json!({"addr": other, "obj_id": 1, "obj_idx": idx});
        assert!(
            call("BTHome.AddSensor", json!({ "config": config }))
                .get("error")
                .is_none()
        );
    }
    check_box(&w.host, "temperature");
    check_box(&w.host, "humidity");
    tick().await;
    click(&w.host, "Add selected sensors");
    let failure = w.failure_saying(10, "not added").await;
    let (refused, added) = if failure.contains("(humidity)") {
        ("humidity", "temperature")
    } else {
        ("temperature", "humidity")
    };
    assert!(
        failure.contains(&format!("1 of 2 sensors not added ({refused})")),
        "{failure}"
    );
    until(10, "the sensor added listed", || {
        text(&w.host, ".bthome-sensors li[data-key='bthomesensor:299']").contains(added)
    })
    .await;
    // The person frees an id; the retry adds the refused sensor only.
    assert!(
        call("BTHome.DeleteSensor", json!({"id": 200}))
            .get("error")
            .is_none()
    );
    click(&w.host, "Retry");
    until(10, "the refused sensor listed", || {
        text(&w.host, ".bthome-sensors li[data-key='bthomesensor:200']").contains(refused)
    })
    .await;
    w.assert_no_failure();
    let sensors = text(&w.host, ".bthome-sensors");
    assert_eq!(sensors.matches(added).count(), 1, "added once: {sensors}");
    w.host.remove();
}

#[wasm_bindgen_test]
async fn profile_slots_survive_a_reload() {
    let storage = MemoryStore::default();
    let gw = gateway(GatewayOptions::default(), Vec::new());
    let w = world(Rc::clone(&gw), storage.clone()).await;
    connect(&w).await;
    assert!(text(&w.host, ".slots").contains(DEVICE_NAME));
    // Select slot 3, then flush the debounced save (as leaving the page does).
    nth(&w.host, "button.slot-select", 2).click();
    tick().await;
    w.session.flush_profiles();
    w.session.disconnect();
    w.host.remove();

    // "Reload": a new session and page over the same storage.
    let again = world(gw, storage).await;
    let slots = text(&again.host, ".slots");
    assert!(slots.contains(DEVICE_NAME), "{slots}");
    assert!(slots.contains("CC:BA:97:0D:5E:01"), "{slots}");
    // The model the device reported is kept with it.
    assert!(slots.contains("S3GW-1DBT001"), "{slots}");
    let active = element(&again.host, ".slot.active");
    assert_eq!(active.get_attribute("data-slot").as_deref(), Some("2"));
    assert!(text(&again.host, ".seeking").contains("empty"));
    // Back to the device's profile, and reconnect from it (the chooser narrowed to its name).
    nth(&again.host, "button.slot-select", 0).click();
    tick().await;
    assert!(text(&again.host, ".seeking").contains("not connected"));
    click(&again.host, "Reconnect");
    again.until_connected().await;
    again.host.remove();
}

/// Another window of the page changes the profiles saved in `storage` and saves them (no
/// `storage` event: a test sends one where it wants it).
fn other_window_saves(
    storage: &MemoryStore,
    change: impl FnOnce(&mut bluehome_core::profiles::Profiles),
) {
    use bluehome_core::profiles::{Config, Profiles};

    let text = storage.get(PROFILES_KEY);
    let mut there = Profiles::load(text.as_deref(), Config::default()).profiles;
    change(&mut there);
    storage.set(PROFILES_KEY, &there.to_storage_json()).unwrap();
}

/// Two windows of the page: a device the other window binds shows here at once (its `storage`
/// event), and this window's next save keeps it, also when the other window's save came in
/// between without an event yet. Before, each window wrote its own slots over the other's.
#[wasm_bindgen_test]
async fn a_profile_another_window_saves_is_kept() {
    use bluehome_core::MacAddress;
    use bluehome_core::profiles::Binding;

    let storage = MemoryStore::default();
    let w = connected_storing(&storage).await;
    let other_window_binds = |name: &str, mac: MacAddress| {
        other_window_saves(&storage, |there| {
            let open = (0..there.len()).find(|&i| there.slot(i).is_none()).unwrap();
            there.select(open, 0).unwrap();
            there.bind(Binding::new(mac, name)).unwrap();
        });
    };
    let storage_event = js_sys::Function::new_no_args(
        "window.dispatchEvent(new StorageEvent('storage', { key: 'bluehome.profiles' }))",
    );

    other_window_binds("Kitchen plug", MacAddress([0x0A; 6]));
    storage_event.call0(&JsValue::NULL).unwrap();
    tick().await;
    assert!(text(&w.host, ".slots").contains("Kitchen plug"));

    // The other window's second save arrives after this window's next one is due.
    other_window_binds("Hall switch", MacAddress([0x0B; 6]));
    nth(&w.host, "button.slot-select", 3).click();
    tick().await;
    w.session.flush_profiles();
    let stored = storage.get(PROFILES_KEY).unwrap();
    for kept in [DEVICE_NAME, "Kitchen plug", "Hall switch"] {
        assert!(stored.contains(kept), "{kept} written over: {stored}");
    }
    assert!(stored.contains(r#""active":3"#), "{stored}");
    w.host.remove();
}

#[wasm_bindgen_test]
async fn corrupt_storage_is_recovered_with_a_notice() {
    let storage = MemoryStore::default();
    storage
        .set(
            PROFILES_KEY,
            "{\"schema\":\"bluehome.profiles\",\"version\":1,\"slots\":[tru",
        )
        .unwrap();
    let w = world_storing(&storage).await;
    let notice = text(&w.host, ".shelly-profiles .warning");
    assert!(notice.contains("could not be fully loaded"), "{notice}");
    assert!(notice.contains("unreadable"), "{notice}");
    let kept = storage
        .names()
        .into_iter()
        .find(|k| k.starts_with("bluehome.profiles.kept-aside."));
    let kept = kept.expect("the original kept aside");
    assert!(notice.contains(&kept), "{notice}");
    assert!(storage.get(&kept).unwrap().ends_with("[tru"));
    // The page works: a device connects and is saved in a fresh, valid store.
    connect(&w).await;
    let stored = storage.get(PROFILES_KEY).unwrap();
    assert!(
        stored.starts_with("{\"schema\":\"bluehome.profiles\""),
        "{stored}"
    );
    assert!(stored.contains("CC:BA:97:0D:5E:01"));
    click_and_render(&w.host, "Dismiss").await;
    // The warnings stay on the page, empty, for the next notice (components/live).
    let warnings = texts(&w.host, ".shelly-profiles .warning");
    assert!(warnings.iter().all(String::is_empty), "{warnings:?}");
    assert!(!has_button(&w.host, "Download the original"));
    w.host.remove();
}

#[wasm_bindgen_test]
async fn clearing_a_profile_revokes_the_browsers_permission() {
    let w = connected_world().await;
    let permitted = || async { w.mock().get_devices().await.unwrap().len() };
    assert_eq!(permitted().await, 1);
    click(&w.host, "Clear this profile");
    until(10, "disconnected", || w.session.link().is_none()).await;
    tick().await;
    assert_eq!(permitted().await, 0, "the device is still permitted");
    w.host.remove();
}

// ---- Shelly over GATT as real firmware and Chrome do it ----------------------------------------

/// Real firmware answers `BTHome.AddDevice` with `{"added": "bthomedevice:201"}`; the page takes
/// the id from there (not 0, which made the next call fail with -105 although the device was
/// added).
#[wasm_bindgen_test]
async fn an_added_device_is_read_by_the_id_its_answer_names() {
    let options = GatewayOptions {
        objects_known_at_once: true,
        ..GatewayOptions::default()
    };
    let w = gateway_tab_keeping_a_device(options, one_ht()).await;
    type_into(&w.host, "Address", "3c:2e:f5:5b:01:01");
    click(&w.host, "Add device");
    until(10, "known objects", || {
        count(&w.host, "fieldset.objects input") >= 2
    })
    .await;
    w.assert_no_failure();
    assert!(log_text(w.session).contains(r#"BTHomeDevice.GetKnownObjects {"id":201}"#));
    w.host.remove();
}

/// A second device added while the first is waited for takes the wait over: the first is read
/// no more.
#[wasm_bindgen_test]
async fn a_device_added_while_another_is_waited_for_takes_the_wait_over() {
    let w = connected_on("BTHome gateway").await;
    type_into(&w.host, "Address", "3c:2e:f5:5b:09:01");
    w.add_device_waiting(10, "Waiting for 3C:2E:F5:5B:09:01")
        .await;
    until(10, "nothing running", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    type_into(&w.host, "Address", "3c:2e:f5:5b:09:02");
    w.add_device_waiting(10, "Waiting for 3C:2E:F5:5B:09:02")
        .await;
    let reads = |id: u16| {
        log_text(w.session)
            .matches(&format!(r#"BTHomeDevice.GetKnownObjects {{"id":{id}}}"#))
            .count()
    };
    let before = (reads(200), reads(201));
    // Past the next automatic re-read (every 5 s, not more often), before the one after it.
    gloo_timers::future::sleep(std::time::Duration::from_millis(8_000)).await;
    assert_eq!(reads(200), before.0, "the first device read again");
    assert_eq!(reads(201), before.1 + 1, "the second device read every 5 s");
    w.end_without_failure();
}

/// Connected to a gateway that hears one H&T but sends no events over Bluetooth, discovering
/// for `seconds`.
async fn discovering_without_events(seconds: &str) -> World {
    let w = world_hearing_one_ht().await;
    w.taps.events_over_ble.set(false);
    connect(&w).await;
    click_and_render(&w.host, "BTHome gateway").await;
    type_into(&w.host, "Discovery seconds (1 to 120)", seconds);
    click(&w.host, "Discover devices");
    w
}

/// Discovery results arrive only as NotifyEvent frames; when none come over Bluetooth the page
/// says so and offers the fallbacks: typing the address, or picking a device the gateway hears.
/// It says so only once the time asked and a margin for the last events have passed, and not
/// much later, even with the wall clock set back an hour meanwhile.
#[wasm_bindgen_test]
async fn discovery_without_events_says_so_and_offers_the_fallbacks() {
    let w = discovering_without_events("2").await;
    text_saying(&w.host, 5, ".steps", "Listening for what the gateway finds").await;
    let clock = set_clock_back(3_600_000);
    gloo_timers::future::sleep(std::time::Duration::from_millis(4_000)).await;
    assert!(
        w.session.busy.get_untracked().is_some(),
        "the page stopped listening before the 2 s asked and a margin had passed"
    );
    let note = text_saying(&w.host, 3, ".discovery-note", "sent no discovery results").await;
    drop(clock);
    assert!(note.contains("Type the device's address"), "{note}");
    let relay: web_sys::HtmlElement = query(&w.host, ".discovery-note button");
    relay.click();
    until(10, "the relayed device", || {
        w.host
            .query_selector("button.relayed-device")
            .unwrap()
            .is_some()
    })
    .await;
    let pick: web_sys::HtmlElement = query(&w.host, "button.relayed-device");
    pick.click();
    tick().await;
    // As the page writes addresses; it is sent in firmware's lower case (shelly_gateway).
    assert_eq!(field(&w.host, "Address").value(), "3C:2E:F5:5B:01:01");
    w.host.remove();
}

/// A link that drops while the page listens for discovery results ends the listening at once:
/// the active profile's device is reconnected by itself (which waits for the session to be
/// idle), and no "no results" note stands for what was a lost link.
#[wasm_bindgen_test]
async fn a_link_dropped_during_discovery_ends_it_and_reconnects() {
    let w = discovering_without_events("20").await;
    text_saying(&w.host, 5, ".steps", "Listening for what the gateway finds").await;
    w.mock().drop_connection(&DeviceId::from("gw-1"));
    until(3, "the listening ended", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    until(5, "reconnected by itself", || w.session.link().is_some()).await;
    tick().await;
    let note = text(&w.host, ".discovery-note");
    assert!(!note.contains("no discovery results"), "{note}");
    w.end_without_failure();
}

/// Chrome fires gattserverdisconnected inside disconnect(): switching to another device must not
/// read as the first one's connection dropping (no failure, no reconnection of the old one).
#[wasm_bindgen_test]
async fn switching_devices_is_no_dropped_connection() {
    let w = connected_world().await;
    let second = w.turn_to_a_second_gateway().await;
    until(1, "the second gateway named", || {
        text(&w.host, ".connected-name").contains("CCBA970D5E02")
    })
    .await;
    gloo_timers::future::sleep(std::time::Duration::from_millis(1_500)).await;
    w.assert_no_failure();
    let first = DeviceId::from("gw-1");
    assert!(
        !w.mock().is_connected(&first),
        "the old device was reconnected"
    );
    assert!(w.mock().is_connected(&second));
    let state = element(&w.host, ".slot[data-slot='0']").get_attribute("data-state");
    assert_eq!(state.as_deref(), Some("not connected"));
    w.host.remove();
}

/// Where Chrome offers `getDevices`, Reconnect finds the profile's device among those permitted
/// before, the one with the profile's id, and shows no chooser (here it would be cancelled).
#[wasm_bindgen_test]
async fn reconnecting_a_permitted_device_needs_no_chooser() {
    let w = connected_world().await;
    let (ours, theirs) = (DeviceId::from("gw-1"), DeviceId::from("gw-0"));
    add_neighbour(w.mock(), &theirs, None);
    // Permitted too, and listed first by getDevices.
    w.mock().set_chooser(ChooserAnswer::Device(theirs.clone()));
    w.backend
        .request_device(&bluehome::ble::RequestDeviceOptions::shelly(
            bluehome_core::shelly::rpc::SERVICE_UUID,
        ))
        .await
        .unwrap();
    w.disconnect().await;
    w.reconnect(ChooserAnswer::Cancel).await;
    assert!(w.mock().is_connected(&ours));
    assert!(!w.mock().is_connected(&theirs));
    w.end_without_failure();
}

/// Gen3/Gen4 devices advertise no name that says which device they are: reconnecting through the
/// chooser (no getDevices) finds the profile's device by the MAC block of its Shelly manufacturer
/// data, and not the other Shelly next to it.
#[wasm_bindgen_test]
async fn reconnecting_through_the_chooser_finds_the_device_by_its_mac() {
    let mock = mock_lacking(|c| c.get_devices = false);
    let gw = gateway(GatewayOptions::default(), Vec::new());
    let (peer, taps) = sim_peer(&gw);
    let (ours, theirs) = (DeviceId::from("gw-1"), DeviceId::from("gw-0"));
    mock.set_gatt_peer(&ours, None, peer);
    mock.advertise(&ours, shelly_advert(gw.borrow().mac()));
    add_neighbour(&mock, &theirs, None);
    mock.set_chooser(ChooserAnswer::Device(ours.clone()));
    let w = world_on(
        Rc::new(Backend::Mock(mock)),
        gw,
        taps,
        MemoryStore::default(),
    )
    .await;
    connect(&w).await;
    w.disconnect().await;
    // The Disconnect button is gone: focus is on the way to connect again, not on the body.
    until(2, "focus on Set up a device", || {
        document()
            .active_element()
            .is_some_and(|e| e.id() == "set-up-a-device")
    })
    .await;
    w.reconnect(ChooserAnswer::FirstMatch).await;
    w.assert_no_failure();
    assert!(w.mock().is_connected(&ours));
    assert!(!w.mock().is_connected(&theirs));
    w.host.remove();
}

/// Reconnecting a profile's device that was given a password meanwhile (from the Shelly app,
/// say): the page asks for it, and "Send password and retry" connects to the device already
/// chosen. The chooser is not shown again (here it would be cancelled).
#[wasm_bindgen_test]
async fn a_password_asked_for_on_reconnecting_retries_without_the_chooser() {
    let w = world_lacking(|c| c.get_devices = false).await;
    let id = DeviceId::from("gw-1");
    connect(&w).await;
    w.disconnect().await;
    let realm = w.gateway.borrow().id().to_owned();
    let ha1 = bluehome_core::shelly::auth::ha1(&realm, "new-secret");
    let set = sim_call(
        &w.gateway,
        "Shelly.SetAuth",
        json!({"user": "admin", "realm": realm, "ha1": ha1}),
    );
    assert!(set.get("error").is_none(), "{set}");
    tick().await;
    click(&w.host, "Reconnect");
    w.failure_saying(10, "password protected").await;
    w.mock().set_chooser(ChooserAnswer::Cancel);
    w.send_password("new-secret");
    w.until_connected().await;
    assert!(w.mock().is_connected(&id));
    w.end_without_failure();
}

/// `WiFi.SetConfig` may answer `restart_required: true`: the page restarts the device, connects
/// again once it is back (the drop is no failure), and waits for the address.
#[wasm_bindgen_test]
async fn wifi_settings_that_need_a_restart_get_one() {
    let w = wifi_needing_a_restart(1_500).await;
    click(&w.host, "Apply");
    text_saying(&w.host, 30, ".shelly-wifi .success", "Connected to Wi-Fi").await;
    assert!(text(&w.host, ".steps").contains("Shelly.Reboot"));
    w.end_without_failure();
}

const ACCESS_POINT_OFF: &str = "Turn off the device's Wi-Fi access point";

/// Applies the hardening after set-up that the boxes `labels` name.
async fn harden(w: &World, labels: &[&str]) {
    click_and_render(&w.host, "Password & name").await;
    for label in labels {
        check_box(&w.host, label);
    }
    tick().await;
    click(&w.host, "Apply");
}

/// Hardening after set-up turns off the access point and RPC over Bluetooth; the device restarts
/// to apply the latter (firmware answers `restart_required`) and the page leaves it, as it does
/// from the Bluetooth settings, without reporting the drop.
#[wasm_bindgen_test]
async fn hardening_turns_both_off_and_leaves_the_restarted_device() {
    let w = connected_world().await;
    harden(&w, &[ACCESS_POINT_OFF, "Turn off RPC over Bluetooth"]).await;
    w.left_without_rpc_over_bluetooth(&["WiFi.SetConfig", "BLE.SetConfig", "Shelly.Reboot"])
        .await;
    let config = sim_call(&w.gateway, "Shelly.GetConfig", json!({}));
    assert_eq!(config["wifi"]["ap"]["enable"], false, "{config}");
    w.host.remove();
}

/// Turning off the access point alone takes effect at once: no restart, and the device stays
/// connected.
#[wasm_bindgen_test]
async fn hardening_the_access_point_alone_needs_no_restart() {
    use bluehome::state::shelly::Phase;
    let w = connected_world().await;
    harden(&w, &[ACCESS_POINT_OFF]).await;
    until(10, "the access point off", || {
        sim_call(&w.gateway, "Shelly.GetConfig", json!({}))["wifi"]["ap"]["enable"] == false
            && w.session.busy.get_untracked().is_none()
    })
    .await;
    let log = log_text(w.session);
    assert!(log.contains("WiFi.SetConfig"), "{log}");
    assert!(
        !log.contains("Shelly.Reboot") && !log.contains("BLE.SetConfig"),
        "{log}"
    );
    assert_eq!(w.session.phase.get_untracked(), Phase::Connected);
    assert!(w.gateway.borrow().rpc_enabled());
    w.end_without_failure();
}

/// A device that asks for a restart to turn its access point off (`WiFi.SetConfig` may answer
/// `restart_required`) is restarted and connected again: RPC over Bluetooth stays on.
#[wasm_bindgen_test]
async fn hardening_the_access_point_with_a_restart_reconnects() {
    use bluehome::state::shelly::Phase;
    let w = connected_world_with(GatewayOptions {
        wifi_restart_required: true,
        ..GatewayOptions::default()
    })
    .await;
    harden(&w, &[ACCESS_POINT_OFF]).await;
    until(15, "the restart done", || {
        log_text(w.session).contains("Shelly.Reboot") && w.session.busy.get_untracked().is_none()
    })
    .await;
    assert_eq!(w.session.phase.get_untracked(), Phase::Connected);
    assert!(w.session.link().is_some(), "connected again");
    let config = sim_call(&w.gateway, "Shelly.GetConfig", json!({}));
    assert_eq!(config["wifi"]["ap"]["enable"], false, "{config}");
    assert!(!log_text(w.session).contains("BLE.SetConfig"));
    w.end_without_failure();
}

/// Enter in the Wi-Fi form applies it, under the same rule as the Apply button: in the set-up
/// window (no encryption) not before the user acknowledged that the password travels in the clear.
#[wasm_bindgen_test]
async fn enter_in_the_wifi_form_applies_it_once_acknowledged() {
    let w = wifi_typed_in(joins_wifi_after(1_500), "HomeNet", "correct horse").await;
    submit(&w.host, "form.wifi-form");
    tick().await;
    assert!(
        !log_text(w.session).contains("WiFi.SetConfig"),
        "sent before the acknowledgement: {}",
        log_text(w.session)
    );
    check_box(&w.host, "I understand");
    tick().await;
    submit(&w.host, "form.wifi-form");
    text_saying(&w.host, 15, ".shelly-wifi .success", "Connected to Wi-Fi").await;
    assert!(log_text(w.session).contains("WiFi.SetConfig"));
    w.end_without_failure();
}

/// Closed firmware may keep request ids in a signed 32-bit field and read the digest cnonce as a
/// 32-bit number: every request the page sends stays within them.
#[wasm_bindgen_test]
async fn requests_use_ids_and_cnonces_firmware_can_hold() {
    let w = signed_in_world("s3cret-pw").await;
    let requests = w.taps.requests.borrow();
    assert!(requests.iter().any(|r| r.auth.is_some()));
    for r in requests.iter() {
        let bluehome_core::shelly::frame::Id::Num(id) = r.id else {
            panic!("numeric ids: {:?}", r.id)
        };
        assert!(id < 1 << 31, "id {id}");
        if let Some(auth) = &r.auth {
            assert!(
                matches!(auth.cnonce, Nonce::Num(n) if n < 1 << 32),
                "cnonce {:?}",
                auth.cnonce
            );
        }
    }
    drop(requests);
    w.host.remove();
}

/// Choosing another slot is saved by itself once the changes settle (after two seconds), without
/// the page being hidden, even with the wall clock set back an hour meanwhile.
#[wasm_bindgen_test]
async fn a_chosen_slot_is_saved_once_the_changes_settle() {
    let storage = MemoryStore::default();
    let w = connected_storing(&storage).await;
    let saved_active = || {
        let saved = storage.get(PROFILES_KEY).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&saved).map(|doc| doc["active"].clone())
    };
    nth(&w.host, "button.slot-select", 2).click();
    tick().await;
    assert_ne!(saved_active().ok(), Some(json!(2)), "saved at once");
    let clock = set_clock_back(3_600_000);
    until(5, "the slot saved", || {
        saved_active().ok() == Some(json!(2))
    })
    .await;
    drop(clock);
    w.host.remove();
}

/// Another window cleared the connected device's profile, and its storage event has not come
/// yet: this window's next save takes that in first and lets the device go, instead of writing
/// the profile back.
#[wasm_bindgen_test]
async fn a_save_takes_in_a_profile_another_window_cleared() {
    let storage = MemoryStore::default();
    let w = connected_storing(&storage).await;
    let mac = "CC:BA:97:0D:5E:01";
    let stored = || storage.get(PROFILES_KEY).unwrap_or_default();
    until(5, "the device saved", || stored().contains(mac)).await;
    // The other window clears every slot (no storage event reaches this one).
    other_window_saves(&storage, |there| {
        there.clear_all(0);
    });
    // This window saves: another slot chosen, written at once as leaving the page does.
    nth(&w.host, "button.slot-select", 2).click();
    tick().await;
    w.session.flush_profiles();
    until(5, "the device let go", || w.session.link().is_none()).await;
    assert!(!stored().contains(mac), "{}", stored());
    w.host.remove();
}

/// The ◀ and ▶ buttons step through the profiles, wrapping at either end.
#[wasm_bindgen_test]
async fn the_arrows_step_through_the_profiles_wrapping() {
    let w = connected_world().await;
    let last = (count(&w.host, ".slot") - 1).to_string();
    for (arrow, then) in [("▶", "1"), ("◀", "0"), ("◀", last.as_str()), ("▶", "0")] {
        click_and_render(&w.host, arrow).await;
        let active = element(&w.host, ".slot.active").get_attribute("data-slot");
        assert_eq!(active.as_deref(), Some(then), "after {arrow}");
    }
    w.host.remove();
}

/// "Clear all" asks first; refused, nothing changes; confirmed, every profile is emptied and the
/// connected device let go.
#[wasm_bindgen_test]
async fn clear_all_asks_then_empties_every_profile() {
    let w = connected_world().await;
    let window = web_sys::window().unwrap();
    // The browser's confirm dialog, answered by the test.
    let answer = |yes: bool| {
        let reply = js_sys::Function::new_no_args(&format!("return {yes};"));
        js_sys::Reflect::set(&window, &"confirm".into(), &reply).unwrap();
    };
    answer(false);
    click_and_render(&w.host, "Clear all").await;
    assert!(text(&w.host, ".slots").contains(DEVICE_NAME));
    assert!(w.session.link().is_some());
    answer(true);
    click(&w.host, "Clear all");
    until(5, "the device let go", || w.session.link().is_none()).await;
    tick().await;
    let slots = text(&w.host, ".slots");
    assert!(!slots.contains("CC:BA:97:0D:5E:01"), "{slots}");
    js_sys::Reflect::delete_property(&window, &"confirm".into()).unwrap();
    w.host.remove();
}

/// A profile's Disconnect button (shown once another profile is the active one) drops its
/// device's link; the profile keeps the device.
#[wasm_bindgen_test]
async fn a_profiles_disconnect_button_drops_its_device() {
    let w = connected_world().await;
    nth(&w.host, "button.slot-select", 1).click();
    tick().await;
    assert!(w.session.link().is_some(), "choosing a slot keeps the link");
    let first = element(&w.host, ".slot[data-slot='0']");
    let disconnect: web_sys::HtmlElement = first
        .query_selector("button.small")
        .unwrap()
        .expect("the profile's Disconnect button")
        .unchecked_into();
    assert_eq!(
        disconnect.text_content().unwrap_or_default().trim(),
        "Disconnect"
    );
    disconnect.click();
    until(5, "disconnected", || w.session.link().is_none()).await;
    until(1, "the profile not connected", || {
        let state = element(&w.host, ".slot[data-slot='0']").get_attribute("data-state");
        state.as_deref() == Some("not connected")
    })
    .await;
    w.host.remove();
}

/// A password typed for a device (not remembered) is used again while the page has it, but not
/// once the device's profile is cleared: chosen again, the device asks for it again.
#[wasm_bindgen_test]
async fn clearing_a_profile_drops_the_password_typed_for_its_device() {
    let w = challenged_world("s3cret-pw").await;
    w.send_password("s3cret-pw");
    w.until_connected().await;
    click(&w.host, "Clear this profile");
    until(10, "disconnected", || w.session.link().is_none()).await;
    tick().await;
    w.mock()
        .set_chooser(ChooserAnswer::Device(DeviceId::from("gw-1")));
    click(&w.host, "Set up a device…");
    w.failure_saying(10, "password protected").await;
    w.host.remove();
}

/// Without BluetoothDevice.forget (behind a flag on desktop), clearing a profile says where to
/// revoke the permission by hand instead of failing on a missing function.
#[wasm_bindgen_test]
async fn a_browser_without_forget_says_where_to_revoke() {
    let w = world_lacking(|c| c.forget = false).await;
    connect(&w).await;
    click(&w.host, "Clear this profile");
    until(10, "the advice", || {
        w.session
            .profile_message
            .get_untracked()
            .is_some_and(|m| m.contains("chrome://settings/content/bluetoothDevices"))
    })
    .await;
    w.host.remove();
}

/// A network name comes from the device (`WiFi.Scan`): one with U+202E (RIGHT-TO-LEFT OVERRIDE)
/// was shown as it is, reversing what the user reads.
#[wasm_bindgen_test]
async fn a_network_name_with_a_bidi_override_is_shown_escaped() {
    let mut options = GatewayOptions::default();
    options.networks[0].scan.ssid = Some("\u{202e}teNemoH".into());
    let w = connected_world_with(options).await;
    click_and_render(&w.host, "Wi-Fi").await;
    let networks = scan_networks(&w, "teNemoH").await;
    assert!(networks.contains("\\u{202e}teNemoH"), "{networks}");
    assert!(!networks.contains('\u{202e}'), "{networks}");
    w.host.remove();
}

/// When a corrupt store could not be copied aside (storage full), connecting a device saved over
/// the only copy. Now saving waits until the user dismisses the notice.
#[wasm_bindgen_test]
async fn an_uncopyable_corrupt_store_is_not_saved_over() {
    let corrupt = format!(
        "{{\"schema\":\"bluehome.profiles\",\"version\":1,\"slots\":[{}tru",
        " ".repeat(1000)
    );
    let storage = MemoryStore::with_quota(1500);
    storage.set(PROFILES_KEY, &corrupt).unwrap();
    let w = world_storing(&storage).await;
    let notice = text(&w.host, ".shelly-profiles .warning");
    assert!(notice.contains("could not be copied aside"), "{notice}");
    connect(&w).await;
    assert_eq!(storage.get(PROFILES_KEY), Some(corrupt));
    click_and_render(&w.host, "Dismiss").await;
    w.session.save_profiles();
    let stored = storage.get(PROFILES_KEY).unwrap();
    assert!(stored.contains("CC:BA:97:0D:5E:01"), "{stored}");
    w.host.remove();
}
