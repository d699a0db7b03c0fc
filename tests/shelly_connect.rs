//! Browser tests that wait out the page's time limits in real time, against the simulated Shelly
//! gateway behind the mock backend: a connect that never settles (the 15 s connect limit) and a
//! device that does not come back from a restart (five tries, two seconds apart). They have a
//! test binary of their own: the runner gives each binary 60 s.
#![cfg(target_arch = "wasm32")]

mod dom;
mod shelly_support;

use bluehome::ble::{BleBackend, BleEvent, DeviceId, event_log};
use bluehome::state::shelly::Phase;
use bluehome_core::sim::gateway::GatewayOptions;
use leptos::prelude::*;
use shelly_support::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// A device that does not answer (macOS may keep Chrome's connect pending for ever) is given up
/// after 15 s. Chrome's attempt goes on all the same (disconnect() does not end it): when the
/// device answers at last, the retry's attempt and the one given up on settle together, and the
/// page keeps the retry's link.
#[wasm_bindgen_test]
async fn a_connect_that_never_settles_is_given_up_and_a_retry_connects() {
    let (w, id) = a_connect_given_up_on().await;
    click(&w.host, "Retry");
    tick().await;
    // The Retry button went with the failure: the focus is on the set-up section, whose progress
    // is announced ("Set up a device" waits for the retry).
    until(2, "the focus on the set-up section", || {
        document()
            .active_element()
            .is_some_and(|e| e.class_list().contains("setup"))
    })
    .await;
    let events = event_log(w.mock());
    w.mock().set_connect_hangs(&id, false);
    w.until_connected().await;
    for _ in 0..5 {
        tick().await;
    }
    let closed = events
        .borrow()
        .iter()
        .any(|e| matches!(e, BleEvent::Disconnected { .. }));
    assert!(!closed, "a link was closed: {:?}", events.borrow());
    assert!(w.mock().is_connected(&id));
    w.end_without_failure();
}

/// Given up on and not retried, a connection Chrome makes later is closed at once: it would
/// hold the device's link (other clients kept out, a battery device kept awake) with nobody
/// using it. The page reports nothing new.
#[wasm_bindgen_test]
async fn a_connection_made_after_the_page_gave_up_is_closed() {
    let (w, id) = a_connect_given_up_on().await;
    let events = event_log(w.mock());
    w.mock().set_connect_hangs(&id, false);
    until(5, "the late connection closed", || {
        events
            .borrow()
            .iter()
            .any(|e| matches!(e, BleEvent::Disconnected { device } if *device == id))
    })
    .await;
    assert!(!w.mock().is_connected(&id) && !w.mock().is_connecting(&id));
    assert!(w.failure().contains("did not answer"), "{}", w.failure());
    w.host.remove();
}

/// The chooser picks the gateway, whose connect hangs until 15 s have passed and the page has
/// said so.
async fn a_connect_given_up_on() -> (World, DeviceId) {
    let w = world_with(GatewayOptions::default()).await;
    let id = DeviceId::from("gw-1");
    w.mock().set_connect_hangs(&id, true);
    click(&w.host, "Set up a device…");
    let failure = w.failure_saying(25, "did not answer").await;
    assert!(failure.contains("within 15 s"), "{failure}");
    assert!(w.mock().is_connecting(&id), "Chrome's attempt goes on");
    (w, id)
}

/// Progress and failures are announced: their live regions are on the page, empty, before
/// anything happens, and those same elements then carry the words (a region inserted already
/// filled is often not read: MDN "ARIA live regions").
#[wasm_bindgen_test]
async fn progress_and_failure_are_announced_in_regions_already_on_the_page() {
    let w = world_with(GatewayOptions {
        password: Some("secret".into()),
        ..GatewayOptions::default()
    })
    .await;
    let id = DeviceId::from("gw-1");
    let chooser_busy = element(&w.host, ".setup .busy[role=status]");
    let busy = element(&w.host, ".shelly-connect .busy[role=status]");
    let failure = element(&w.host, ".shelly-connect .failure-region[role=alert]");
    for region in [&chooser_busy, &busy, &failure] {
        assert!(region.matches(":empty").unwrap(), "{}", region.outer_html());
    }
    let same = |region: &web_sys::HtmlElement, selector: &str| {
        region.is_same_node(Some(&element(&w.host, selector)))
    };

    // Set-up's progress, while Chrome's connect is pending.
    w.mock().set_connect_hangs(&id, true);
    click(&w.host, "Set up a device…");
    until(5, "set-up's progress said", || {
        !chooser_busy.text_content().unwrap_or_default().is_empty()
    })
    .await;
    assert!(same(&chooser_busy, ".setup .busy"));

    // The failure: the device wants its password.
    w.mock().set_connect_hangs(&id, false);
    w.failure_saying(10, "password protected").await;
    assert!(same(&failure, ".shelly-connect .failure-region"));
    // The region holds the failure's words; its form and buttons are beside it, in the panel.
    assert!(
        failure.closest(".failure").unwrap().is_some(),
        "{}",
        failure.outer_html()
    );
    let said = failure.text_content().unwrap_or_default();
    assert!(said.contains("password protected"), "{said}");
    assert!(
        failure
            .query_selector("button, form, details")
            .unwrap()
            .is_none(),
        "{}",
        failure.outer_html()
    );
    assert!(has_button(&w.host, "Send password and retry"));

    // The session's progress, while a GATT operation is pending.
    w.send_password("secret");
    w.until_connected().await;
    until(5, "idle", || w.session.busy.get_untracked().is_none()).await;
    assert!(busy.matches(":empty").unwrap(), "{}", busy.outer_html());
    assert!(
        failure.matches(":empty").unwrap(),
        "{}",
        failure.outer_html()
    );
    w.mock().set_gatt_hangs(&id, true);
    w.session.rename("Hall".into());
    until(5, "the progress said", || {
        !busy.text_content().unwrap_or_default().is_empty()
    })
    .await;
    assert!(same(&busy, ".shelly-connect .busy"));
    w.mock().set_gatt_hangs(&id, false);
    until(10, "the progress over", || {
        busy.text_content().unwrap_or_default().is_empty()
    })
    .await;
    assert!(same(&busy, ".shelly-connect .busy"));
    w.host.remove();
}

/// Another action started while the device restarts does not take the Wi-Fi set-up's Retry from
/// it: Retry still connects and waits for the address (the narrowed retry was one slot for the
/// session, which the other action cleared, so Retry sent the Wi-Fi settings to no device).
#[wasm_bindgen_test]
async fn another_action_during_a_restart_leaves_the_retry_connecting() {
    use bluehome::state::shelly::connect::RECONNECT_ATTEMPTS;

    let w = wifi_needing_a_restart(500).await;
    OUT_OF_RANGE.with(|n| n.set(RECONNECT_ATTEMPTS));
    click(&w.host, "Apply");
    until(10, "a first try to connect again after the restart", || {
        OUT_OF_RANGE.with(std::cell::Cell::get) < RECONNECT_ATTEMPTS
    })
    .await;
    w.session.refresh_status();
    w.failure_saying(20, "did not answer").await;
    click(&w.host, "Retry");
    until(10, "connected again", || {
        w.session.link().is_some() && w.session.phase.get_untracked() == Phase::Connected
    })
    .await;
    text_saying(&w.host, 10, ".shelly-wifi .success", "Connected to Wi-Fi").await;
    w.end_without_failure();
}
