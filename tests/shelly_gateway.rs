//! Browser tests of a connected gateway as a remote scanner (feeding the Scan page), of the
//! profiles export and import, of a Wi-Fi join failure, of the BLU model the gateway panel shows
//! for each BTHome device, and of the link's pace with a device slow to answer, against the
//! simulated Shelly gateway behind the mock backend. (Split from shelly_devices.rs to keep each
//! binary well inside the test runner's time limit per binary, 60 s in `.ci/env`.)
#![cfg(target_arch = "wasm32")]

mod dom;
mod shelly_support;

use std::cell::RefCell;
use std::rc::Rc;

use bluehome::app::provide_app_state;
use bluehome::ble::Backend;
use bluehome::ble::mock::ChooserAnswer;
use bluehome::pages::{DevicesPage, ScanPage};
use bluehome::state::AppStore;
use bluehome::state::shelly::store::PROFILES_KEY;
use bluehome::state::storage::{KeyValue, MemoryStore};
use bluehome_core::sim::gateway::GatewayOptions;
use bluehome_core::sim::sensors::{SensorKind, SensorSpec, SimSensor};
use leptos::prelude::*;
use serde_json::json;
use shelly_support::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// An H&T sensor whose first advertisement goes out at time 0, so the gateway's first poll
/// already relays it.
fn heard_at_once() -> SensorSpec {
    SensorSpec {
        phase_ms: 0,
        ..SensorSpec::numbered(SensorKind::HumidityTemperature, 0, false)
    }
}

#[wasm_bindgen_test]
async fn a_connected_gateway_feeds_what_it_hears_as_a_remote_source() {
    let sensors = vec![SimSensor::new(heard_at_once())];
    let w = world(
        gateway(GatewayOptions::default(), sensors),
        MemoryStore::default(),
    )
    .await;
    let heard: Rc<RefCell<Vec<(String, String)>>> = Rc::default();
    let sink = Rc::clone(&heard);
    w.session.set_remote_sink(Some(Rc::new(
        move |source: &str, heard: &bluehome::state::shelly::remote::Heard| {
            sink.borrow_mut()
                .push((source.to_owned(), heard.key.to_string()));
        },
    )));
    connect(&w).await;
    click_and_render(&w.host, "BTHome gateway").await;
    click(&w.host, "Feed the Scan page");
    until(10, "remote advertisements", || !heard.borrow().is_empty()).await;
    let (source, key) = heard.borrow()[0].clone();
    assert_eq!(source, format!("shelly:{}", w.gateway.borrow().id()));
    assert!(key.starts_with("3C:2E:F5:5B:"), "{key}");
    text_saying(&w.host, 5, ".relayed", "temperature").await;
    click_and_render(&w.host, "Stop feeding the Scan page").await;
    assert!(!w.session.remote_running.get_untracked());
    w.host.remove();
}

/// A gateway reports each device's last advertisement on every poll: the feed hands each one on
/// once (else a button press would count once per poll, and a silent sensor look alive).
#[wasm_bindgen_test]
async fn the_feed_hands_on_each_advertisement_once() {
    let once_a_minute = SensorSpec {
        interval_ms: 60_000,
        ..heard_at_once()
    };
    let w = world(
        gateway(
            GatewayOptions::default(),
            vec![SimSensor::new(once_a_minute)],
        ),
        MemoryStore::default(),
    )
    .await;
    let handed: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = Rc::clone(&handed);
    w.session.set_remote_sink(Some(Rc::new(
        move |_: &str, heard: &bluehome::state::shelly::remote::Heard| {
            sink.borrow_mut().push(heard.key.to_string());
        },
    )));
    connect(&w).await;
    let polls = || sent_at(w.session, "BLE.CloudRelay.ListInfos").len();
    w.session.start_remote_scanner(100);
    until(10, "the sensor handed on", || !handed.borrow().is_empty()).await;
    let first = polls();
    until(10, "three more polls", || polls() >= first + 3).await;
    assert_eq!(handed.borrow().len(), 1, "{:?}", handed.borrow());
    w.session.stop_remote_scanner();
    // Stopped, it polls no more (a poll under way may still finish).
    let pause = || gloo_timers::future::sleep(std::time::Duration::from_millis(500));
    pause().await;
    let stopped = polls();
    pause().await;
    assert_eq!(polls(), stopped, "polled after the feed was stopped");
    w.host.remove();
}

/// Types `secs` as the discovery's length and presses "Discover devices".
fn discover_for(w: &World, secs: &str) {
    type_into(&w.host, "Discovery seconds (1 to 120)", secs);
    click(&w.host, "Discover devices");
}

/// "Discover devices" pressed twice before the gateway has answered the first press starts one
/// discovery: the simulated gateway refuses a second while one runs, which the page showed as a
/// failure.
#[wasm_bindgen_test]
async fn discover_pressed_twice_at_once_starts_one_discovery() {
    let w = connected_on("BTHome gateway").await;
    // Another client's discovery runs for a second: the gateway refuses the page's, and the
    // button is on again for when it is over.
    let elsewhere = bluehome_core::shelly::frame::Request {
        id: bluehome_core::shelly::frame::Id::Num(9_999),
        src: Some("another client".into()),
        method: "BTHome.StartDeviceDiscovery".into(),
        params: Some(json!({"duration": 1})),
        auth: None,
    };
    let now = w.taps.device_now_ms();
    let answer = w.gateway.borrow_mut().handle(&elsewhere, now);
    assert!(answer.outcome.is_ok(), "{answer:?}");
    discover_for(&w, "1");
    w.failure_saying(5, "already running").await;
    until(5, "the button on again", || {
        !button(&w.host, "Discover devices").has_attribute("disabled")
    })
    .await;
    gloo_timers::future::sleep(std::time::Duration::from_millis(1_200)).await;
    let discoveries = || sent_at(w.session, "BTHome.StartDeviceDiscovery").len();
    let before = discoveries();
    click(&w.host, "Discover devices");
    click(&w.host, "Discover devices");
    until(10, "discovery done", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    assert_eq!(discoveries(), before + 1, "{}", log_text(w.session));
    // Done, it can be pressed again.
    text_saying(&w.host, 5, ".discovery-note", "found no BTHome").await;
    click(&w.host, "Discover devices");
    until(10, "a second discovery", || discoveries() == before + 2).await;
    w.host.remove();
}

/// What a discovery found stays listed however many events the gateway sends after it: the list
/// was read from the session's last 200 events, so that 250 button presses (received while the
/// page waits for the device it added) emptied it.
#[wasm_bindgen_test]
async fn what_a_discovery_found_stays_listed_after_many_events() {
    let w = world_hearing_one_ht().await;
    connect(&w).await;
    click_and_render(&w.host, "BTHome gateway").await;
    discover_for(&w, "1");
    until(10, "the discovery done", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    let found = text(&w.host, ".discovered");
    assert!(found.contains("3C:2E:F5:5B"), "{found}");
    query::<web_sys::HtmlElement>(&w.host, "button.discovered-device").click();
    w.add_device_waiting(10, "Press the device's button").await;
    let seen = w.session.events_seen();
    let press = json!({"component": "bthomesensor:200", "id": 200, "event": "single_push"});
    let now = w.taps.device_now_ms();
    for _ in 0..10 {
        let presses = vec![press.clone(); 25];
        w.gateway.borrow_mut().notify_events(now, presses);
    }
    until(10, "the presses received", || {
        w.session.events_seen() >= seen + 250
    })
    .await;
    tick().await;
    assert_eq!(text(&w.host, ".discovered"), found);
    w.end_without_failure();
}

/// Reading the gateway while a discovery listens: once the read is done, the discovery is still
/// what runs (it used to read as nothing running until the discovery ended).
#[wasm_bindgen_test]
async fn a_read_during_a_discovery_leaves_the_discovery_running() {
    let w = connected_on("BTHome gateway").await;
    discover_for(&w, "3");
    until(5, "the discovery under way", || {
        w.session.busy.get_untracked().as_deref() == Some("Discovery")
    })
    .await;
    click(&w.host, "Read devices and sensors");
    assert_eq!(w.session.busy.get_untracked().as_deref(), Some("Gateway"));
    until(5, "the read done", || {
        w.session.busy.get_untracked().as_deref() != Some("Gateway")
    })
    .await;
    assert_eq!(w.session.busy.get_untracked().as_deref(), Some("Discovery"));
    until(10, "the discovery done", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    w.end_without_failure();
}

/// Stopped and started again within one pause between polls, the feed polls as one run: the
/// first run used to wake, find the feed running, and poll beside the second.
#[wasm_bindgen_test]
async fn a_feed_started_again_at_once_polls_as_one() {
    let w = connected_world_with(GatewayOptions::default()).await;
    let polled_at = || {
        let mut at = sent_at(w.session, "BLE.CloudRelay.ListInfos");
        at.sort_unstable();
        at
    };
    w.session.start_remote_scanner(1_000);
    until(10, "a first poll", || !polled_at().is_empty()).await;
    w.session.stop_remote_scanner();
    w.session.start_remote_scanner(1_000);
    let before = polled_at().len();
    until(10, "four more polls", || polled_at().len() >= before + 4).await;
    let after: Vec<u64> = polled_at().split_off(before);
    // One run sleeps a second between the end of a poll and the start of the next.
    assert!(
        after.windows(2).all(|pair| pair[1] - pair[0] >= 900),
        "polls started at {after:?} (ms)"
    );
    w.session.stop_remote_scanner();
    w.host.remove();
}

/// A run that ends because its link went leaves the feed started on the next link running: the
/// old run used to wake from its pause, find another link, and turn the feed off as it ended.
#[wasm_bindgen_test]
async fn a_feed_started_on_a_new_link_outlives_the_old_run() {
    let w = connected_world_with(GatewayOptions::default()).await;
    let polls = || sent_at(w.session, "BLE.CloudRelay.ListInfos").len();
    w.session.start_remote_scanner(2_000);
    until(10, "a first poll", || polls() > 0).await;
    w.disconnect().await;
    w.reconnect(ChooserAnswer::FirstMatch).await;
    w.session.start_remote_scanner(2_000);
    let started = polls();
    // Past the old run's pause: it has woken and ended by now.
    gloo_timers::future::sleep(std::time::Duration::from_millis(2_500)).await;
    assert!(
        w.session.remote_running.get_untracked(),
        "the feed was turned off"
    );
    until(10, "the feed polling on", || polls() >= started + 2).await;
    w.session.stop_remote_scanner();
    w.host.remove();
}

#[wasm_bindgen_test]
async fn profiles_export_without_secrets_and_import_elsewhere() {
    let w = challenged_world("s3cret-pw").await;
    check_box(&w.host, "Remember it in this profile");
    w.send_password("s3cret-pw");
    w.until_connected().await;
    let (name, exported) = download(&w.host, "Export").await;
    assert_eq!(name, "bluehome-profiles.json");
    assert!(exported.contains("CC:BA:97:0D:5E:01"), "{exported}");
    assert!(exported.contains("\"ha1_remembered\":true"), "{exported}");
    let ha1 = bluehome_core::shelly::auth::ha1(w.gateway.borrow().id(), "s3cret-pw");
    assert!(!exported.contains(&ha1) && !exported.contains("s3cret-pw"));
    w.host.remove();

    let other = world_with(GatewayOptions::default()).await;
    click_and_render(&other.host, "Import…").await;
    let area: web_sys::HtmlTextAreaElement = query(&other.host, ".import textarea");
    area.set_value(&exported);
    area.dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    click_and_render(&other.host, "Import").await;
    assert!(text(&other.host, ".slots").contains("CC:BA:97:0D:5E:01"));
    assert!(text(&other.host, ".shelly-profiles").contains("Profiles imported."));
    assert!(
        other
            .storage
            .get(PROFILES_KEY)
            .unwrap()
            .contains("CC:BA:97:0D:5E:01")
    );
    other.host.remove();
}

/// A profiles file replaces the slots: one without a device in them would forget it (and revoke
/// the browser's permission), so the page names it and waits for a yes; Cancel keeps it.
#[wasm_bindgen_test]
async fn an_import_that_would_forget_a_device_asks_first() {
    let w = signed_in_world("s3cret-pw").await;
    let mac = "CC:BA:97:0D:5E:01";
    assert!(text(&w.host, ".slots").contains(mac));
    let empty = bluehome_core::profiles::Profiles::new(Default::default())
        .unwrap()
        .export();
    // The question is an alert on the page before it is asked (MDN "ARIA live regions"); its
    // buttons are beside the region.
    let region = element(&w.host, ".import-confirm > [role=alert]");
    assert!(region.matches(":empty").unwrap(), "{}", region.outer_html());
    w.session.import_profiles(&empty);
    tick().await;
    let asked = text(&w.host, ".import-confirm");
    assert!(asked.contains("forgotten"), "{asked}");
    assert!(region.is_same_node(Some(&element(&w.host, ".import-confirm > [role=alert]"))));
    let said = region.text_content().unwrap_or_default();
    assert!(said.contains("forgotten"), "{said}");
    assert!(region.query_selector("button").unwrap().is_none());
    assert!(
        text(&w.host, ".slots").contains(mac),
        "nothing forgotten yet"
    );
    click_and_render(&w.host, "Cancel").await;
    assert_eq!(text(&w.host, ".import-confirm"), "", "the question goes");
    assert!(!has_button(&w.host, "Import and forget them"));
    assert!(text(&w.host, ".slots").contains(mac));
    w.session.import_profiles(&empty);
    tick().await;
    click_and_render(&w.host, "Import and forget them").await;
    assert!(!text(&w.host, ".slots").contains(mac));
    assert!(text(&w.host, ".shelly-profiles").contains("Profiles imported."));
    w.host.remove();
}

#[wasm_bindgen_test]
async fn the_scan_page_shows_what_the_gateway_hears_without_browser_scanning() {
    let sensors = vec![SimSensor::new(heard_at_once())];
    let (backend, _) = gateway_backend(&gateway(GatewayOptions::default(), sensors));
    let slot: Rc<std::cell::Cell<Option<AppStore>>> = Rc::default();
    let out = Rc::clone(&slot);
    let host = mount_view(move || {
        out.set(Some(provide_app_state(backend, false)));
        view! { <DevicesPage /> <ScanPage /> }
    });
    tick().await;
    let store = slot.get().unwrap();
    click(&host, "Set up a device…");
    until(10, "connected", || host.inner_text().contains("Disconnect")).await;
    click_and_render(&host, "BTHome gateway").await;
    click(&host, "Feed the Scan page");
    until(10, "the sensor on the Scan page", || {
        store.flush(js_sys::Date::now() as u64);
        let scan = text(&host, ".page:not(.devices-page)").to_ascii_lowercase();
        scan.contains("3c:2e:f5:5b") && scan.contains("°c")
    })
    .await;
    click(&host, "Stop feeding the Scan page");
    host.remove();
}

/// The gateway names each BTHome device's BLU model in `Shelly.GetComponents` (`attrs.model_id`,
/// as a real BLU Gateway Gen3 does; the simulator too): the panel shows it beside the device's
/// address and name. The generic thermometer is no Shelly model: its device shows none.
#[wasm_bindgen_test]
async fn the_gateway_panel_shows_each_devices_blu_model() {
    let sensors = vec![
        SimSensor::new(heard_at_once()),
        SimSensor::new(SensorSpec::numbered(SensorKind::Thermometer, 1, false)),
    ];
    let gw = gateway(GatewayOptions::default(), sensors);
    for (addr, name) in [("3c:2e:f5:5b:01:01", "Hall"), ("3c:2e:f5:5b:05:02", "Shed")] {
        let added = sim_call(
            &gw,
            "BTHome.AddDevice",
            json!({"config": {"addr": addr, "name": name}}),
        );
        assert!(added.get("error").is_none(), "{addr}: {added}");
    }
    let w = world(gw, MemoryStore::default()).await;
    connect(&w).await;
    click_and_render(&w.host, "BTHome gateway").await;
    click(&w.host, "Read devices and sensors");
    until(10, "two devices", || {
        count(&w.host, ".bthome-devices li") == 2
    })
    .await;
    let devices = texts(&w.host, ".bthome-devices li");
    assert!(
        devices[0].contains("Hall 3C:2E:F5:5B:01:01")
            && devices[0].contains("Shelly BLU H&T (SBHT-003C)"),
        "{devices:?}"
    );
    assert_eq!(
        text(&w.host, ".bthome-devices .device-model"),
        "Shelly BLU H&T (SBHT-003C)"
    );
    assert!(devices[1].contains("Shed"), "{devices:?}");
    assert_eq!(
        count(&w.host, ".bthome-devices .device-model"),
        1,
        "{devices:?}"
    );
    w.host.remove();
}

/// Connected to a gateway that joins Wi-Fi after 1 s: `HomeNet` (WPA2-PSK) scanned and typed in
/// with `password`, the clear-text link acknowledged.
async fn home_net_typed_in(password: &str) -> World {
    let w = wifi_typed_in(joins_wifi_after(1_000), "HomeNet", password).await;
    scan_networks(&w, "HomeNet").await;
    check_box(&w.host, "I understand");
    tick().await;
    w
}

#[wasm_bindgen_test]
async fn a_wrong_wifi_password_is_explained() {
    let w = home_net_typed_in("wrong horse").await;
    click(&w.host, "Apply");
    let failure = w
        .failure_saying(15, "could not join the Wi-Fi network")
        .await;
    assert!(failure.contains("Check the password"), "{failure}");
    assert!(!failure.contains("wrong horse"), "{failure}");
    w.host.remove();
}

/// A password no WPA2 network takes (7 characters) for a network the scan lists as WPA2-PSK is
/// refused on its field, with the rule, and nothing is sent; the password stays to correct. Before,
/// the device tried for 8 s and the page could only say it did not join. A name longer than an
/// SSID can be is refused the same way.
#[wasm_bindgen_test]
async fn a_password_too_short_for_wpa2_is_refused_before_it_is_sent() {
    let w = home_net_typed_in("1234567").await;
    // The field says what the network takes before anything is tried.
    let hint = text(&w.host, ".wifi-password-hint");
    assert!(hint.contains("(WPA2-PSK): 8 to 63 characters"), "{hint}");
    let failure = w
        .refused_on(
            "Apply",
            "Wi-Fi password",
            "the password: ",
            "WiFi.SetConfig",
        )
        .await;
    assert!(failure.contains("8 to 63 characters"), "{failure}");
    assert!(failure.contains("this one has 7"), "{failure}");
    assert_eq!(field(&w.host, "Wi-Fi password").value(), "1234567");
    let ssid = "Network name (SSID)";
    type_into(&w.host, ssid, &"n".repeat(33));
    type_into(&w.host, "Wi-Fi password", "correct horse");
    let failure = w
        .refused_on("Apply", ssid, "the network name: ", "WiFi.SetConfig")
        .await;
    assert!(failure.contains("at most 32 bytes"), "{failure}");
    // Corrected, it goes.
    type_into(&w.host, ssid, "HomeNet");
    click(&w.host, "Apply");
    text_saying(&w.host, 15, ".shelly-wifi .success", "Connected to Wi-Fi").await;
    w.end_without_failure();
}

#[wasm_bindgen_test]
async fn demo_mode_offers_the_simulated_gateway() {
    let slot: Rc<std::cell::Cell<Option<AppStore>>> = Rc::default();
    let out = Rc::clone(&slot);
    let host = mount_view(move || {
        let backend = Rc::new(Backend::Mock(bluehome::ble::demo::demo_backend()));
        out.set(Some(provide_app_state(backend, false)));
        view! { <DevicesPage /> }
    });
    let store = slot.get().unwrap();
    store.start_ticker();
    // Let the ticker deliver the gateway's first advertisement (the chooser lists it).
    gloo_timers::future::sleep(std::time::Duration::from_millis(300)).await;
    click(&host, "Set up a device…");
    until(10, "connected to the demo gateway", || {
        host.inner_text().contains("Disconnect")
            && text(&host, ".shelly-info").contains("CC:BA:97:0D:5E:01")
    })
    .await;
    host.remove();
}

/// Connected to a gateway that hears one encrypted H&T (sending every 2 s), its BTHome tab open
/// and the H&T's address typed in the add form.
async fn encrypted_ht_typed_in() -> World {
    let sensor = SimSensor::new(SensorSpec {
        interval_ms: 2_000,
        ..SensorSpec::numbered(SensorKind::HumidityTemperature, 0, true)
    });
    let w = world(
        gateway(GatewayOptions::default(), vec![sensor]),
        MemoryStore::default(),
    )
    .await;
    connect(&w).await;
    click_and_render(&w.host, "BTHome gateway").await;
    type_into(&w.host, "Address", "3c:2e:f5:5b:01:01");
    w
}

/// An encrypted sensor added without its key: the gateway cannot read its packets and says so
/// in the device's status `errors`; the page shows that instead of waiting for a button press.
#[wasm_bindgen_test]
async fn adding_an_encrypted_device_without_its_key_says_so() {
    let w = encrypted_ht_typed_in().await;
    let said = w.add_device_waiting(15, "no usable key").await;
    assert!(said.contains("add it again with its bind key"), "{said}");
    // The device list says it too, once read again.
    click(&w.host, "Read devices and sensors");
    text_saying(
        &w.host,
        10,
        ".bthome-devices .device-problem",
        "no usable key",
    )
    .await;
    w.end_without_failure();
}

/// Clicks the gateway panel's first Delete and waits until the `n`th `BTHome.DeleteDevice` is
/// done and the list read again.
async fn delete_first_device(w: &World, n: usize) {
    click(&w.host, "Delete");
    until(10, "the device deleted", || {
        log_text(w.session).matches("BTHome.DeleteDevice").count() == n
            && w.session.busy.get_untracked().is_none()
    })
    .await;
}

/// A device added and waited for (the gateway never heard it), then deleted: the wait ends with
/// it, and its re-reads do not come back as a failure for a device no longer there. Deleting
/// another device first leaves the wait alone.
#[wasm_bindgen_test]
async fn deleting_the_device_waited_for_ends_the_wait() {
    let w = gateway_tab_keeping_a_device(GatewayOptions::default(), Vec::new()).await;
    type_into(&w.host, "Address", "3c:2e:f5:5b:09:09");
    let waiting = "Waiting for 3C:2E:F5:5B:09:09";
    w.add_device_waiting(10, waiting).await;
    // Only dynamic components are asked for (firmware would page through every other too).
    assert!(log_text(w.session).contains(r#""dynamic_only":true"#));
    until(10, "both devices listed", || {
        w.session.busy.get_untracked().is_none()
            && text(&w.host, ".bthome-devices").contains("3C:2E:F5:5B:09:09")
    })
    .await;
    delete_first_device(&w, 1).await;
    assert!(text(&w.host, ".waiting-for-device").contains(waiting));
    delete_first_device(&w, 2).await;
    let reads = || known_object_reads(&w);
    let before = reads();
    // Past the next automatic re-read (every 5 s).
    gloo_timers::future::sleep(std::time::Duration::from_millis(6_500)).await;
    assert_eq!(reads(), before, "read again after the delete");
    assert_eq!(text(&w.host, ".waiting-for-device"), "", "the wait ended");
    w.end_without_failure();
}

/// How many times the page has read a device's known objects (`BTHomeDevice.GetKnownObjects` in
/// its log).
fn known_object_reads(w: &World) -> usize {
    log_text(w.session)
        .matches("BTHomeDevice.GetKnownObjects")
        .count()
}

/// The gateway panel's work is the session's: a device waited for is still waited for, and read
/// again, while another tab is open; back on the panel its sensors are offered, with the address
/// and name typed still in the form.
#[wasm_bindgen_test]
async fn the_gateway_panel_keeps_its_work_across_tabs() {
    let w = waiting_for_a_new_ht().await;
    until(10, "nothing running", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    click_and_render(&w.host, "Console").await;
    assert_eq!(
        count(&w.host, ".waiting-for-device"),
        0,
        "still on the gateway tab"
    );
    // It sends while the panel is not on the page: the wait still hears it.
    w.gateway.borrow_mut().sensors_mut()[0].press(0);
    until(10, "its objects read on the other tab", || {
        log_text(w.session).contains("BTHome.GetObjectInfos")
    })
    .await;
    click_and_render(&w.host, "BTHome gateway").await;
    assert!(count(&w.host, "fieldset.objects input") >= 2);
    assert_eq!(text(&w.host, ".waiting-for-device"), "", "the wait ended");
    assert_eq!(field(&w.host, "Address").value(), "3c:2e:f5:5b:01:01");
    assert_eq!(field(&w.host, "Name").value(), "Kitchen H&T");
    assert!(text(&w.host, ".bthome-devices").contains("Kitchen H&T"));
    w.end_without_failure();
}

/// The gateway's `new_objects` event for the device waited for has it read at once, not at the
/// next of the re-reads every 5 s.
#[wasm_bindgen_test]
async fn the_device_waited_for_is_read_as_soon_as_the_gateway_learns_its_objects() {
    let w = waiting_for_a_new_ht().await;
    let reads = || known_object_reads(&w);
    // Just after one of the re-reads, the next is 5 s away.
    let before = reads();
    until(7, "a re-read", || reads() > before).await;
    w.press_and_see_its_sensors_offered(3).await;
    w.end_without_failure();
}

/// The link goes while a new device is waited for: the automatic re-reads end and the panel says
/// so; connected again, "Read again" reads the device and waits another minute, which hears it
/// when it sends.
#[wasm_bindgen_test]
async fn a_wait_ended_by_a_lost_link_is_taken_up_again() {
    // Silent for ten minutes but when its button is pressed.
    let silent = SensorSpec {
        phase_ms: 600_000,
        interval_ms: 600_000,
        ..SensorSpec::numbered(SensorKind::HumidityTemperature, 0, false)
    };
    let w = world(
        gateway(GatewayOptions::default(), vec![SimSensor::new(silent)]),
        MemoryStore::default(),
    )
    .await;
    connect(&w).await;
    click_and_render(&w.host, "BTHome gateway").await;
    type_into(&w.host, "Address", "3c:2e:f5:5b:01:01");
    w.add_device_waiting(10, "Press the device's button").await;
    until(10, "nothing running", || {
        w.session.busy.get_untracked().is_none()
    })
    .await;
    w.disconnect().await;
    // Past the wait's next look at the link (every second).
    gloo_timers::future::sleep(std::time::Duration::from_millis(1_500)).await;
    w.reconnect(ChooserAnswer::FirstMatch).await;
    click_and_render(&w.host, "BTHome gateway").await;
    text_saying(
        &w.host,
        5,
        ".waiting-for-device",
        "Nothing heard from 3C:2E:F5:5B:01:01 yet",
    )
    .await;
    let reads = || known_object_reads(&w);
    let before = reads();
    click(&w.host, "Read again");
    text_saying(
        &w.host,
        5,
        ".waiting-for-device",
        "Press the device's button",
    )
    .await;
    assert_eq!(reads(), before + 1);
    w.press_and_see_its_sensors_offered(10).await;
    w.end_without_failure();
}

/// Another device connected: the gateway panel no longer shows the first one's devices.
#[wasm_bindgen_test]
async fn another_device_connected_clears_the_gateway_panel() {
    let w = gateway_tab_keeping_a_device(GatewayOptions::default(), Vec::new()).await;
    click(&w.host, "Read devices and sensors");
    text_saying(&w.host, 10, ".bthome-devices", "AA:BB:CC:DD:EE:FF").await;
    w.turn_to_a_second_gateway().await;
    click_and_render(&w.host, "BTHome gateway").await;
    let devices = text(&w.host, ".bthome-devices");
    assert!(!devices.contains("AA:BB:CC:DD:EE:FF"), "{devices}");
    w.end_without_failure();
}

/// The device just added, deleted: its sensors to add go with it.
#[wasm_bindgen_test]
async fn deleting_the_device_just_added_drops_its_sensors_to_add() {
    let options = GatewayOptions {
        objects_known_at_once: true,
        ..GatewayOptions::default()
    };
    let w = world(gateway(options, one_ht()), MemoryStore::default()).await;
    connect(&w).await;
    click_and_render(&w.host, "BTHome gateway").await;
    type_into(&w.host, "Address", "3c:2e:f5:5b:01:01");
    click(&w.host, "Add device");
    until(10, "its sensors to add", || {
        w.session.busy.get_untracked().is_none() && count(&w.host, "fieldset.objects input") >= 2
    })
    .await;
    delete_first_device(&w, 1).await;
    assert_eq!(count(&w.host, "fieldset.objects"), 0);
    w.end_without_failure();
}

/// The address as the page writes it (upper case, or with dashes) reaches the gateway in
/// firmware's own form, `3c:2e:f5:5b:01:01`; one that is not a MAC address is refused on its
/// field before anything is sent.
#[wasm_bindgen_test]
async fn a_typed_address_is_sent_in_firmware_form_and_a_malformed_one_refused() {
    let w = encrypted_ht_typed_in().await;
    type_into(
        &w.host,
        "Bind key (encrypted devices, 32 hex digits)",
        &bluehome_core::sim::sensors::SIM_KEY.to_hex(),
    );
    type_into(&w.host, "Address", "3C:2E:F5:5B:01");
    let failure = w
        .refused_on("Add device", "Address", "the address: ", "BTHome.AddDevice")
        .await;
    assert!(failure.contains("six pairs of hex digits"), "{failure}");
    type_into(&w.host, "Address", " 3C-2E-F5-5B-01-01 ");
    click(&w.host, "Add device");
    until(15, "the device added", || {
        log_text(w.session).contains("BTHome.AddDevice") && w.session.busy.get_untracked().is_none()
    })
    .await;
    let config = sim_call(&w.gateway, "BTHomeDevice.GetConfig", json!({"id": 200}));
    assert_eq!(config["addr"], "3c:2e:f5:5b:01:01", "{config}");
    // As sent, not only as the simulator keeps it.
    let log = log_text(w.session);
    assert!(log.contains(r#""addr":"3c:2e:f5:5b:01:01""#), "{log}");
    let steps = w.session.steps.get_untracked();
    assert!(
        steps
            .iter()
            .any(|s| s.label.starts_with("Adding 3C:2E:F5:5B:01:01 ")),
        "the step names the address as the page writes it: {steps:?}"
    );
    assert_eq!(validity(&field(&w.host, "Address")), (None, None));
    w.host.remove();
}

/// The bind key as people paste it ("0x…", spaces) reaches the gateway as the 32 hex digits it
/// takes, and the device then reads; a key that is not 16 bytes is refused before anything is sent.
#[wasm_bindgen_test]
async fn a_pasted_bind_key_is_sent_as_hex_and_a_malformed_one_refused() {
    let w = encrypted_ht_typed_in().await;
    type_into(
        &w.host,
        "Bind key (encrypted devices, 32 hex digits)",
        "0x1234",
    );
    let key_field = "Bind key (encrypted devices, 32 hex digits)";
    let failure = w
        .refused_on(
            "Add device",
            key_field,
            "the bind key: ",
            "BTHome.AddDevice",
        )
        .await;
    assert!(failure.contains("refused"), "{failure}");
    assert_eq!(validity(&field(&w.host, "Address")), (None, None));
    let hex = bluehome_core::sim::sensors::SIM_KEY.to_hex();
    // As a person may paste it: "0x", upper case, groups of eight digits.
    let groups: Vec<String> = hex
        .to_uppercase()
        .as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let pasted = format!("0x{}", groups.join(" "));
    type_into(
        &w.host,
        "Bind key (encrypted devices, 32 hex digits)",
        &pasted,
    );
    click(&w.host, "Add device");
    until(15, "the device added", || {
        log_text(w.session).contains("BTHome.AddDevice") && w.session.busy.get_untracked().is_none()
    })
    .await;
    let config = sim_call(&w.gateway, "BTHomeDevice.GetConfig", json!({"id": 200}));
    assert_eq!(config["key"], hex.as_str(), "{config}");
    assert!(!log_text(w.session).contains(&hex), "the log masks the key");
    assert_eq!(validity(&field(&w.host, key_field)), (None, None));
    w.host.remove();
}

/// A device slow to answer is polled at the client's pace, not as fast as the browser answers:
/// between the polls of `rx_ctl` that find no answer yet, the link sleeps.
#[wasm_bindgen_test]
async fn a_slow_device_is_polled_at_the_clients_pace() {
    use bluehome::ble::demo::{GatewayPeer, device_id};
    use bluehome::ble::mock::MockBackend;
    use bluehome::ble::{BleBackend, RequestDeviceOptions};
    use bluehome::state::shelly::link::Link;
    use bluehome_core::shelly::methods::{Method as _, shelly::GetDeviceInfo};
    use bluehome_core::shelly::rpc::{SERVICE_UUID, server::DEFAULT_MTU};
    use bluehome_core::sim::peripheral::{Faults, Peripheral};
    use std::cell::Cell;

    const SLOW_MS: u64 = 1_500;
    let gateway = bluehome_core::sim::gateway::Gateway::new(GatewayOptions::default(), Vec::new());
    let faults = Faults {
        slow_ms: SLOW_MS,
        ..Faults::default()
    };
    let peripheral = Rc::new(RefCell::new(Peripheral::new(gateway, DEFAULT_MTU, faults)));
    let id = device_id(peripheral.borrow().gateway().mac());
    let mock = MockBackend::new();
    // No page here to click on: the chooser opens without a click.
    mock.set_needs_user_gesture(false);
    // The device's clock follows the wall clock while the call runs.
    let clock = Rc::new(Cell::new(js_sys::Date::now() as u64));
    let running = Rc::new(Cell::new(true));
    let (ticking, still) = (Rc::clone(&clock), Rc::clone(&running));
    wasm_bindgen_futures::spawn_local(async move {
        while still.get() {
            ticking.set(js_sys::Date::now() as u64);
            gloo_timers::future::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    let peer = GatewayPeer::new(peripheral, clock);
    mock.set_gatt_peer(&id, Some(DEVICE_NAME), Box::new(peer));
    let backend = Rc::new(Backend::Mock(mock));
    let device = backend
        .request_device(&RequestDeviceOptions::shelly(SERVICE_UUID))
        .await
        .unwrap();
    backend.connect(&device.id).await.unwrap();
    let link = Link::new(backend, device.id);

    let started = js_sys::Date::now();
    let answer = link.call(GetDeviceInfo::NAME, None).await.unwrap();
    running.set(false);
    assert!(answer.outcome.is_ok(), "{answer:?}");
    let took = js_sys::Date::now() - started;
    assert!(took >= SLOW_MS as f64, "answered after {took} ms");
    // One poll per 100 ms of waiting, then the length and the frame read, after the length
    // and the frame written: about 20 operations. Without the sleeps the page polls without
    // a pause (here it even starves the device's clock, and the call times out).
    let polls = u32::try_from(SLOW_MS / 100).unwrap();
    let ops = link.last_stats().gatt_ops;
    assert!(
        (polls..=polls + 8).contains(&ops),
        "{ops} GATT operations in {took} ms"
    );
}

/// What was typed into the gateway panel stays through a tab switch; another gateway connecting
/// clears the add form (an address and a key meant for the first), not the discovery time.
#[wasm_bindgen_test]
async fn the_gateway_panels_typing_is_kept_across_tabs_until_another_gateway_connects() {
    let w = world_hearing_one_ht().await;
    connect(&w).await;
    let seconds = "Discovery seconds (1 to 120)";
    let key = "Bind key (encrypted devices, 32 hex digits)";
    click_and_render(&w.host, "BTHome gateway").await;
    type_into(&w.host, "Address", "3c:2e:f5:5b:01:01");
    type_into(&w.host, "Name", "Kitchen H&T");
    type_into(&w.host, key, "231d39c1d7cc1ab1aee224cd096db932");
    type_into(&w.host, seconds, "30");
    click_and_render(&w.host, "Console").await;
    click_and_render(&w.host, "BTHome gateway").await;
    assert_eq!(field(&w.host, "Address").value(), "3c:2e:f5:5b:01:01");
    assert_eq!(field(&w.host, "Name").value(), "Kitchen H&T");
    assert_eq!(
        field(&w.host, key).value(),
        "231d39c1d7cc1ab1aee224cd096db932"
    );
    assert_eq!(field(&w.host, seconds).value(), "30");

    w.turn_to_a_second_gateway().await;
    click_and_render(&w.host, "BTHome gateway").await;
    assert_eq!(field(&w.host, "Address").value(), "");
    assert_eq!(field(&w.host, "Name").value(), "");
    assert_eq!(field(&w.host, key).value(), "");
    assert_eq!(field(&w.host, seconds).value(), "30");
    w.end_without_failure();
}
