//! Browser tests of the Devices page against the simulated Shelly gateway (core `sim`), behind
//! the mock Bluetooth backend: the page's real code path (chooser, GATT, the core RPC client)
//! drives a device that runs the real GATT RPC server. Issue 7's required cases.
#![cfg(target_arch = "wasm32")]

mod shelly_support;

use std::rc::Rc;

use bluehome::ble::BleBackend;
use bluehome::ble::mock::ChooserAnswer;
use bluehome::state::shelly::store::PROFILES_KEY;
use bluehome::state::storage::{KeyValue, MemoryStore};
use bluehome_core::shelly::frame::Request;
use bluehome_core::sim::gateway::{GatewayOptions, Provisioning};
use bluehome_core::sim::sensors::{SensorKind, SensorSpec, SimSensor};
use leptos::prelude::*;
use serde_json::json;
use shelly_support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn provisioning_end_to_end() {
    let options = GatewayOptions {
        wifi_connect_ms: 1_500,
        ..GatewayOptions::default()
    };
    let w = world(gateway(options, Vec::new()), MemoryStore::default()).await;
    connect(&w).await;
    assert!(text(&w.host, ".steps").contains("Shelly.GetDeviceInfo"));
    assert!(text(&w.host, ".shelly-info").contains("CC:BA:97:0D:5E:01"));

    click(&w.host, "Wi-Fi");
    tick().await;
    click(&w.host, "Scan for networks");
    until(10, "scan results", || {
        text(&w.host, ".networks").contains("HomeNet")
    })
    .await;
    let networks = text(&w.host, ".networks");
    assert!(networks.contains("WPA2-PSK"), "{networks}");
    assert!(
        networks.find("HomeNet") < networks.find("Neighbour"),
        "strongest first: {networks}"
    );
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
    until(15, "the new IP", || {
        text(&w.host, ".shelly-wifi .success").contains("Connected to Wi-Fi")
    })
    .await;
    let done = text(&w.host, ".shelly-wifi .success");
    let link = w
        .host
        .query_selector(".shelly-wifi .success a")
        .unwrap()
        .unwrap();
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
    // A retry connects to the device already chosen: from here on, any chooser is closed.
    w.mock().set_chooser(ChooserAnswer::Cancel);
    type_into(&w.host, "Device password (user admin)", "wrong");
    click(&w.host, "Send password and retry");
    until(10, "wrong password", || {
        text(&w.host, ".failure").contains("Wrong password")
    })
    .await;
    type_into(&w.host, "Device password (user admin)", "s3cret-pw");
    check_box(&w.host, "Remember it in this profile");
    click(&w.host, "Send password and retry");
    until(10, "connected after auth", || {
        w.session.status.get_untracked().is_some()
    })
    .await;
    assert!(text(&w.host, ".failure").is_empty());
    // Only HA1 is stored, and nothing secret is logged.
    let stored = w.storage.get(PROFILES_KEY).unwrap();
    let ha1 = bluehome_core::shelly::auth::ha1(w.gateway.borrow().id(), "s3cret-pw");
    assert!(stored.contains(&ha1), "{stored}");
    assert!(!stored.contains("s3cret-pw"));
    let log = log_text(w.session);
    assert!(!log.contains("s3cret-pw") && !log.contains(&ha1), "{log}");
    w.host.remove();
}

#[wasm_bindgen_test]
async fn the_21st_bond_is_refused_with_a_clear_message() {
    let options = GatewayOptions {
        provisioning: Provisioning::Complete,
        ..GatewayOptions::default()
    };
    let gw = gateway(options, Vec::new());
    {
        let mut g = gw.borrow_mut();
        let start = Request {
            id: bluehome_core::shelly::frame::Id::Num(1),
            src: Some("web".into()),
            method: "BLE.StartPairing".into(),
            params: Some(json!({"timeout": 300})),
            auth: None,
        };
        g.handle(&start, 0);
        for i in 0..20 {
            g.bond(&format!("aa:bb:cc:00:00:{i:02x}"), 0).unwrap();
        }
    }
    let w = world(gw, MemoryStore::default()).await;
    click(&w.host, "Connect a Shelly device…");
    until(10, "the refusal", || {
        text(&w.host, ".failure").contains("cannot pair with more devices")
    })
    .await;
    let failure = text(&w.host, ".failure");
    assert!(failure.contains("at most 20 paired devices"), "{failure}");
    assert!(failure.contains("Delete one"), "{failure}");
    assert_eq!(w.gateway.borrow().bonds().len(), 20);
    w.host.remove();
}

#[wasm_bindgen_test]
async fn discovery_then_adding_a_device_and_two_sensors() {
    let sensors = vec![SimSensor::new(SensorSpec::numbered(
        SensorKind::HumidityTemperature,
        0,
        false,
    ))];
    let w = world(
        gateway(GatewayOptions::default(), sensors),
        MemoryStore::default(),
    )
    .await;
    connect(&w).await;
    click(&w.host, "BTHome gateway");
    tick().await;
    type_into(&w.host, "Discovery seconds", "2");
    click(&w.host, "Discover devices");
    until(10, "a discovered device", || {
        text(&w.host, ".discovered").contains("3c:2e:f5:5b")
    })
    .await;
    let found: web_sys::HtmlElement = w
        .host
        .query_selector("button.discovered-device")
        .unwrap()
        .unwrap()
        .unchecked_into();
    found.click();
    until(10, "discovery done", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    type_into(&w.host, "Name", "Kitchen H&T");
    click(&w.host, "Add device");
    until(10, "known objects", || {
        w.host
            .query_selector_all("fieldset.objects input")
            .unwrap()
            .length()
            >= 2
    })
    .await;
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
        w.host
            .query_selector_all(".bthome-sensors li")
            .unwrap()
            .length()
            == 2
    })
    .await;
    assert!(text(&w.host, ".bthome-devices").contains("Kitchen H&T"));
    let sensors = text(&w.host, ".bthome-sensors");
    assert!(
        sensors.contains("bthomesensor:200") && sensors.contains("bthomesensor:201"),
        "{sensors}"
    );
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
    w.host
        .query_selector_all("button.slot-select")
        .unwrap()
        .item(2)
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    tick().await;
    w.session.flush_profiles();
    w.session.disconnect();
    w.host.remove();

    // "Reload": a new session and page over the same storage.
    let again = world(gw, storage).await;
    let slots = text(&again.host, ".slots");
    assert!(slots.contains(DEVICE_NAME), "{slots}");
    assert!(slots.contains("CC:BA:97:0D:5E:01"), "{slots}");
    let active = again.host.query_selector(".slot.active").unwrap().unwrap();
    assert_eq!(active.get_attribute("data-slot").as_deref(), Some("2"));
    assert!(text(&again.host, ".seeking").contains("empty"));
    // Back to the device's profile, and reconnect from it (the chooser narrowed to its name).
    again
        .host
        .query_selector_all("button.slot-select")
        .unwrap()
        .item(0)
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    tick().await;
    assert!(text(&again.host, ".seeking").contains("not connected"));
    click(&again.host, "Reconnect");
    until(10, "reconnected", || {
        again.session.status.get_untracked().is_some()
    })
    .await;
    again.host.remove();
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
    let w = world(
        gateway(GatewayOptions::default(), Vec::new()),
        storage.clone(),
    )
    .await;
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
    click(&w.host, "Dismiss");
    tick().await;
    assert!(text(&w.host, ".shelly-profiles .warning").is_empty());
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

/// A network name comes from the device (`WiFi.Scan`): one with U+202E (RIGHT-TO-LEFT OVERRIDE)
/// was shown as it is, reversing what the user reads.
#[wasm_bindgen_test]
async fn a_network_name_with_a_bidi_override_is_shown_escaped() {
    let mut options = GatewayOptions::default();
    options.networks[0].scan.ssid = Some("\u{202e}teNemoH".into());
    let w = world(gateway(options, Vec::new()), MemoryStore::default()).await;
    connect(&w).await;
    click(&w.host, "Wi-Fi");
    tick().await;
    click(&w.host, "Scan for networks");
    until(10, "scan results", || {
        text(&w.host, ".networks").contains("teNemoH")
    })
    .await;
    let networks = text(&w.host, ".networks");
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
    let w = world(
        gateway(GatewayOptions::default(), Vec::new()),
        storage.clone(),
    )
    .await;
    let notice = text(&w.host, ".shelly-profiles .warning");
    assert!(notice.contains("could not be copied aside"), "{notice}");
    connect(&w).await;
    assert_eq!(storage.get(PROFILES_KEY), Some(corrupt));
    click(&w.host, "Dismiss");
    tick().await;
    w.session.save_profiles();
    let stored = storage.get(PROFILES_KEY).unwrap();
    assert!(stored.contains("CC:BA:97:0D:5E:01"), "{stored}");
    w.host.remove();
}
