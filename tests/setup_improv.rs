//! Browser tests of "Set up a device" with an Improv Wi-Fi device: the core's simulated device
//! (ESPHome's behaviour) behind the strict mock backend, named by an opaque id.
#![cfg(target_arch = "wasm32")]

mod dom;
mod setup_support;

use bluehome::ble::DeviceId;
use bluehome::ble::demo::{SharedImprov, add_improv_as, improv_device};
use bluehome::ble::mock::{MockBackend, Platform};
use bluehome::platform::Os;
use bluehome::state::setup::{Flow, GattOp, SetupSession};
use bluehome_core::improv::State;
use bluehome_core::improv::rpc::Auth;
use bluehome_core::sim::ImprovOptions;
use bluehome_core::sim::improv::SimNetwork;
use leptos::prelude::*;
use setup_support::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ID: &str = "iMpR0v==";

fn improv_world(options: ImprovOptions) -> (MockBackend, SharedImprov, DeviceId) {
    let mock = MockBackend::new();
    let device = improv_device(ImprovOptions {
        connect_ms: 500,
        connect_timeout_ms: 1_500,
        scan_ms: 300,
        ..options
    });
    let id = DeviceId::from(ID);
    add_improv_as(&mock, &id, &device);
    (mock, device, id)
}

async fn open_improv(w: &World) {
    let key: bluehome_core::DeviceKey = ID.parse().unwrap();
    until(5, "the device advertising", || {
        w.store
            .model_untracked(|m| m.device(&key).is_some())
            .unwrap_or(false)
    })
    .await;
    // A person waits for it in the chooser: ESPHome's first second advertises the name only.
    until(5, "the device in the chooser", || {
        w.with_mock(|m| !m.offered(&SetupSession::chooser_options()).is_empty())
    })
    .await;
    click(&w.host, "Set up a device…");
    until(10, "the Improv flow", || {
        w.setup.flow.get_untracked() == Some(Flow::Improv)
            && w.setup.improv.state.get_untracked().is_some()
    })
    .await;
}

fn press(w: &World, device: &SharedImprov) {
    let now = w.with_mock(|m| m.now_ms());
    device.borrow_mut().press(now);
}

/// Presses the button on `device` and waits until the page has heard it is authorized.
async fn authorize(w: &World, device: &SharedImprov) {
    press(w, device);
    until(5, "authorized", || {
        w.setup.busy.get_untracked().is_none()
            && w.setup.improv.state.get_untracked() == Some(State::Authorized)
    })
    .await;
}

/// A device set up by `options`, chosen on Windows, its flow opened.
async fn opened_improv(options: ImprovOptions) -> (World, SharedImprov, DeviceId) {
    let (mock, device, id) = improv_world(options);
    open_on_windows(mock, device, id).await
}

/// `device` (`id` on `mock`) chosen on Windows, its flow opened.
async fn open_on_windows(
    mock: MockBackend,
    device: SharedImprov,
    id: DeviceId,
) -> (World, SharedImprov, DeviceId) {
    let w = world(mock).await;
    w.on(&id, Platform::Windows, Os::Windows);
    open_improv(&w).await;
    (w, device, id)
}

/// A device that needs no authorization (`options` otherwise), its flow open and idle.
async fn ready_improv(options: ImprovOptions) -> (World, SharedImprov, DeviceId) {
    let (w, device, id) = opened_improv(ImprovOptions {
        authorization: false,
        ..options
    })
    .await;
    idle(&w).await;
    (w, device, id)
}

/// [`ready_improv`] on a link whose notifications never reach the page (starting them succeeds
/// all the same), from the first operation on: the flow polls.
async fn ready_improv_without_notifications(
    options: ImprovOptions,
) -> (World, SharedImprov, DeviceId) {
    let (mock, device, id) = improv_world(ImprovOptions {
        authorization: false,
        ..options
    });
    mock.set_notifications_lost(&id, true);
    let (w, device, id) = open_on_windows(mock, device, id).await;
    idle(&w).await;
    (w, device, id)
}

async fn idle(w: &World) {
    until(5, "idle", || w.setup.busy.get_untracked().is_none()).await;
}

/// Types the network (and its password, if any) and sends them.
fn send_wifi(w: &World, ssid: &str, password: Option<&str>) {
    type_into(&w.host, "Network name (SSID)", ssid);
    if let Some(password) = password {
        type_into(&w.host, "Wi-Fi password", password);
    }
    click(&w.host, "Connect to Wi-Fi");
}

/// Clicks "Connect to Wi-Fi", which must be refused with `title` before anything is written to
/// the device; returns what the page said.
async fn connect_refused(w: &World, title: &str) -> String {
    let before = w.writes();
    click(&w.host, "Connect to Wi-Fi");
    let said = w.said().await;
    assert!(said.starts_with(title), "{said}");
    assert_eq!(w.writes(), before, "nothing was sent");
    said
}

async fn provisioned(w: &World) {
    until(10, "provisioned", || {
        w.setup.improv.provisioned.get_untracked().is_some()
    })
    .await;
}

/// Authorization by the button, a scan, the network picked, credentials sent, "provisioned"
/// followed by notification, the redirect shown as a link.
#[wasm_bindgen_test]
async fn a_device_is_authorized_scanned_and_provisioned() {
    let (w, device, _) = opened_improv(ImprovOptions::default()).await;
    text_saying(&w.host, 5, ".setup-steps", "Press the button on the device").await;
    assert!(text(&w.host, ".improv-info").contains("ESP32-C3"));
    // Improv has no encryption: the form says so before the password is sent.
    assert!(text(&w.host, ".improv-wifi").contains("without encryption"));
    authorize(&w, &device).await;
    click(&w.host, "Identify");
    until(5, "the device identifying", || {
        let now = w.with_mock(|m| m.now_ms());
        device.borrow().identifying(now)
    })
    .await;
    idle(&w).await;
    click(&w.host, "Scan for networks");
    text_saying(&w.host, 5, ".improv-networks", "HomeNet").await;
    let pick = element(&w.host, ".improv-networks button");
    pick.click();
    tick().await;
    type_into(&w.host, "Wi-Fi password", "correct horse");
    click(&w.host, "Connect to Wi-Fi");
    provisioned(&w).await;
    assert_eq!(device.borrow().state(), State::Provisioned);
    let link = element(&w.host, ".improv-done a");
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("http://192.168.1.43/")
    );
    assert!(w.setup.improv.notifications.get_untracked());
    let ops = w.gatt_ops();
    let count = |f: fn(&GattOp) -> bool| ops.iter().filter(|o| f(o)).count();
    let counts = [
        count(|o| matches!(o, GattOp::Discover(_))),
        count(|o| matches!(o, GattOp::Subscribe(_))),
        count(|o| matches!(o, GattOp::Read(_))),
        count(|o| matches!(o, GattOp::Write(_))),
    ];
    web_sys::console::log_1(
        &format!("Improv walk [discover, subscribe, read, write]: {counts:?}").into(),
    );
    // One write per command: device info, identify, scan, Wi-Fi settings.
    assert_eq!(counts[0..2], [1, 3], "{ops:?}");
    assert_eq!(counts[3], 4, "{ops:?}");
}

/// The authorization runs out while the person types the password: the page asks for the button
/// again, then sends the settings without being asked twice.
#[wasm_bindgen_test]
async fn an_authorization_that_ran_out_is_asked_for_again_and_the_settings_sent() {
    let (w, device, _) = opened_improv(ImprovOptions {
        authorization_ms: 1_000,
        ..ImprovOptions::default()
    })
    .await;
    press(&w, &device);
    idle(&w).await;
    until(5, "the authorization running out", || {
        w.setup.improv.state.get_untracked() == Some(State::AuthorizationRequired)
    })
    .await;
    send_wifi(&w, "HomeNet", Some("correct horse"));
    text_saying(&w.host, 5, ".setup-steps", "press its button again").await;
    assert!(w.setup.busy.get_untracked().is_some(), "still waiting");
    press(&w, &device);
    provisioned(&w).await;
    assert_eq!(device.borrow().state(), State::Provisioned);
}

/// A wrong password: the device reports "unable to connect"; the page explains it.
#[wasm_bindgen_test]
async fn a_network_the_device_cannot_join_is_explained() {
    let (w, _device, _id) = ready_improv(ImprovOptions::default()).await;
    send_wifi(&w, "HomeNet", Some("wrong"));
    let said = w.said().await;
    assert!(
        said.starts_with("The device could not join the Wi-Fi network"),
        "{said}"
    );
    assert!(said.contains("password"), "{said}");
    assert!(w.setup.improv.provisioned.get_untracked().is_none());
}

/// Sending again to a device already on the network: the state does not allow it, and the
/// page says why (nothing is written).
#[wasm_bindgen_test]
async fn sending_in_the_wrong_state_is_explained() {
    let (w, device, _id) = ready_improv(ImprovOptions::default()).await;
    send_wifi(&w, "Guest", None);
    provisioned(&w).await;
    idle(&w).await;
    let said = connect_refused(&w, "The device is not ready for this").await;
    assert!(said.contains("connected to the Wi-Fi network"), "{said}");
    assert_eq!(device.borrow().state(), State::Provisioned);
}

/// "Done: disconnect" leaves nothing of the device behind: its scan, its address and what was
/// read from it are gone, so the next device's panel starts empty.
#[wasm_bindgen_test]
async fn done_forgets_the_device_it_set_up() {
    let (w, _device, id) = ready_improv(ImprovOptions::default()).await;
    click(&w.host, "Scan for networks");
    text_saying(&w.host, 5, ".improv-networks", "HomeNet").await;
    send_wifi(&w, "HomeNet", Some("correct horse"));
    provisioned(&w).await;
    idle(&w).await;
    click(&w.host, "Done: disconnect");
    tick().await;
    assert!(!w.with_mock(|m| bluehome::ble::BleBackend::is_connected(m, &id)));
    let improv = w.setup.improv;
    assert_eq!(w.setup.flow.get_untracked(), None);
    assert!(improv.networks.get_untracked().is_empty());
    assert_eq!(improv.provisioned.get_untracked(), None);
    assert!(improv.also.get_untracked().is_empty());
    assert_eq!(improv.info.get_untracked(), None);
    assert_eq!(improv.capabilities.get_untracked(), None);
    assert_eq!(improv.state.get_untracked(), None);
    assert!(!improv.notifications.get_untracked());
}

/// Setting up another device while one is open disconnects the first: the page holds one
/// device's link at a time.
#[wasm_bindgen_test]
async fn setting_up_another_device_disconnects_the_first() {
    let (mock, device, first) = improv_world(ImprovOptions {
        authorization: false,
        ..ImprovOptions::default()
    });
    let second = DeviceId::from("s3c0nd==");
    let other = improv_device(ImprovOptions {
        authorization: false,
        ..ImprovOptions::default()
    });
    add_improv_as(&mock, &second, &other);
    let (w, _, _) = open_on_windows(mock, device, first.clone()).await;
    idle(&w).await;
    let connected = |id: &DeviceId| w.with_mock(|m| bluehome::ble::BleBackend::is_connected(m, id));
    assert!(connected(&first));
    w.on(&second, Platform::Windows, Os::Windows);
    click(&w.host, "Set up a device…");
    until(10, "the second device's flow", || {
        w.setup.device.get_untracked().map(|d| d.id) == Some(second.clone())
            && w.setup.improv.state.get_untracked().is_some()
    })
    .await;
    idle(&w).await;
    assert!(connected(&second));
    assert!(!connected(&first), "the first device is let go");
}

/// A redirect that is not a plain http(s) URL is shown as text, never as a link.
#[wasm_bindgen_test]
async fn a_redirect_that_is_not_plain_http_is_not_a_link() {
    let (w, _device, _id) = ready_improv(ImprovOptions {
        redirect_urls: vec!["javascript:alert(1)".into()],
        ..ImprovOptions::default()
    })
    .await;
    send_wifi(&w, "Guest", None);
    provisioned(&w).await;
    assert!(w.host.query_selector(".improv-done a").unwrap().is_none());
    assert!(text(&w.host, ".improv-done").contains("not a plain http(s) link"));
}

/// ESPHome's result lists Home Assistant's link, then the device's own web server: the first is
/// the next step, the other is offered too (before, only the first was).
#[wasm_bindgen_test]
async fn every_address_the_device_lists_is_offered() {
    let home_assistant = "https://my.home-assistant.io/redirect/config_flow_start?domain=esphome";
    let (w, _device, _id) = ready_improv(ImprovOptions {
        redirect_urls: vec![home_assistant.into(), "http://192.168.1.43:80".into()],
        ..ImprovOptions::default()
    })
    .await;
    send_wifi(&w, "HomeNet", Some("correct horse"));
    provisioned(&w).await;
    let links: Vec<String> = {
        let found = w.host.query_selector_all(".improv-done a").unwrap();
        (0..found.length())
            .filter_map(|i| found.item(i)?.text_content())
            .collect()
    };
    assert_eq!(links, [home_assistant, "http://192.168.1.43:80"]);
}

/// The device drops the link while joining the network: the page says the connection dropped.
#[wasm_bindgen_test]
async fn a_link_dropped_while_provisioning_is_explained() {
    let (w, _device, id) = ready_improv(ImprovOptions::default()).await;
    send_wifi(&w, "HomeNet", Some("correct horse"));
    tick().await;
    w.with_mock(|m| m.drop_connection(&id));
    let said = w.said().await;
    assert!(said.to_lowercase().contains("disconnected"), "{said}");
}

/// An ESPHome device as most in the field are: no capabilities over Bluetooth (no scan, no
/// device info, no identify without a status LED), reads cut to 22 bytes (ESPHome before 2026.6,
/// esphome/esphome#16420), and no notifications reaching the page. The network is typed, the
/// device joins, and the page says so, without the address it could not read whole; before, it
/// said the setup failed.
#[wasm_bindgen_test]
async fn an_older_esphome_device_joins_by_a_typed_network() {
    let (w, device, _) = ready_improv_without_notifications(ImprovOptions {
        capabilities: bluehome_core::improv::Capabilities(0),
        read_limit: Some(22),
        ..ImprovOptions::default()
    })
    .await;
    let buttons = text(&w.host, ".improv-flow .row");
    assert!(!buttons.contains("Scan for networks"), "{buttons}");
    send_wifi(&w, "HomeNet", Some("correct horse"));
    provisioned(&w).await;
    assert_eq!(device.borrow().state(), State::Provisioned);
    let done = text(&w.host, ".improv-done");
    assert!(done.contains("joined the network"), "{done}");
    assert!(done.contains("did not arrive whole"), "{done}");
    assert!(w.failure().is_empty(), "{}", w.failure());
}

/// Notifications that never come (a platform that drops them): the state is followed by reads.
#[wasm_bindgen_test]
async fn provisioning_is_followed_by_polling_when_no_notification_comes() {
    let (w, device, _) = ready_improv_without_notifications(ImprovOptions::default()).await;
    send_wifi(&w, "HomeNet", Some("correct horse"));
    provisioned(&w).await;
    assert_eq!(device.borrow().state(), State::Provisioned);
    assert!(!w.setup.improv.notifications.get_untracked());
    assert!(text(&w.host, ".improv-done a").contains("192.168.1.43"));
}

/// A device-info answer the page cannot use (three strings, where revision 2.1 asks for four):
/// the panel says so and the flow goes on to the authorization step; before, it ended there
/// and the capabilities, state and button press never showed.
#[wasm_bindgen_test]
async fn device_info_that_cannot_be_read_does_not_end_the_flow() {
    let (w, device, _) = opened_improv(ImprovOptions {
        device_info_strings: 3,
        ..ImprovOptions::default()
    })
    .await;
    text_saying(&w.host, 5, ".setup-steps", "Press the button on the device").await;
    let info = text(&w.host, ".improv-info");
    assert!(info.contains("could not be read"), "{info}");
    assert!(info.contains("3 strings"), "{info}");
    assert!(text(&w.host, ".improv-flow .row").contains("Scan for networks"));
    authorize(&w, &device).await;
    assert!(w.failure().is_empty(), "{}", w.failure());
}

/// The link drops while device info is read: that still ends the flow, with the one usual
/// failure, and the panel shows no device-info line of its own.
#[wasm_bindgen_test]
async fn a_link_dropped_while_reading_device_info_ends_the_flow() {
    let (mock, _device, id) = improv_world(ImprovOptions {
        authorization: false,
        ..ImprovOptions::default()
    });
    let w = world(mock).await;
    w.on(&id, Platform::Windows, Os::Windows);
    // The link drops as the device-info step starts (the effect runs at the flow's next GATT
    // operation, before the device can answer).
    let owner = Owner::new();
    owner.with(|| {
        let (setup, backend, id) = (w.setup, w.backend(), id.clone());
        Effect::new(move |_| {
            let reading = setup
                .steps
                .with(|s| s.iter().any(|s| s.label == "Reading its device info"));
            if reading && let Some(mock) = backend.as_mock() {
                mock.drop_connection(&id);
            }
        });
    });
    open_improv(&w).await;
    let said = w.said().await;
    assert!(said.to_lowercase().contains("disconnected"), "{said}");
    let during = w.setup.failure.get_untracked().map(|f| f.during);
    assert_eq!(during.as_deref(), Some("reading device info"));
    assert!(w.setup.improv.info.get_untracked().is_none());
    assert_eq!(count(&w.host, ".improv-info"), 0);
}

/// ESPHome sends the Improv UUID and service data in its advertising data and its name only in
/// the scan response (and, since esphome#10918, its name without the service data for 1 s every
/// minute). On Windows, where an event carries its own packet's name only, the chooser still
/// lists the device by the UUID of one packet, under the name of the other, and the page keeps
/// the name the scan response brought while the nameless packets keep coming.
#[wasm_bindgen_test]
async fn a_device_naming_itself_in_its_scan_response_is_found_and_named() {
    let (w, _device, _id) = ready_improv(ImprovOptions::default()).await;
    let offered = w.with_mock(|m| m.offered(&SetupSession::chooser_options()));
    let names: Vec<_> = offered.iter().map(|d| d.name.as_deref()).collect();
    assert_eq!(names, [Some("improv-sim")]);
    let key: bluehome_core::DeviceKey = ID.parse().unwrap();
    let named = || {
        w.store
            .model_untracked(|m| m.device(&key).and_then(|d| d.name.map(str::to_owned)))
            .flatten()
    };
    assert_eq!(named().as_deref(), Some("improv-sim"));
    // Two more seconds of packets, most of them nameless: the name stays.
    let until_ms = w.with_mock(|m| m.now_ms()) + 2_000;
    until(10, "two more seconds of packets", || {
        w.with_mock(|m| m.now_ms()) >= until_ms
    })
    .await;
    assert_eq!(named().as_deref(), Some("improv-sim"));
}

/// Scans and picks the network named `ssid` from the device's list.
async fn pick_scanned(w: &World, ssid: &str) {
    click(&w.host, "Scan for networks");
    text_saying(&w.host, 5, ".improv-networks", ssid).await;
    idle(w).await;
    let found = w
        .host
        .query_selector_all(".improv-networks button")
        .unwrap();
    let pick = (0..found.length())
        .filter_map(|i| found.item(i))
        .map(wasm_bindgen::JsCast::unchecked_into::<web_sys::HtmlElement>)
        .find(|b| {
            b.text_content()
                .is_some_and(|t| t.starts_with(&format!("{ssid} — ")))
        })
        .unwrap_or_else(|| panic!("no {ssid} in the list"));
    pick.click();
    tick().await;
}

fn password_field(w: &World) -> web_sys::HtmlInputElement {
    let field = w
        .host
        .query_selector("input[name=wifi-password]")
        .unwrap()
        .expect("the password field");
    wasm_bindgen::JsCast::unchecked_into(field)
}

/// An open network picked from the scan (`Guest`, auth `NO`): the password field says it is not
/// needed and takes none, and the settings go with an empty password (a typed one is cleared).
/// Before, the field asked for a password as for any network.
#[wasm_bindgen_test]
async fn an_open_network_picked_from_the_scan_needs_no_password() {
    let (w, device, _id) = ready_improv(ImprovOptions::default()).await;
    type_into(&w.host, "Wi-Fi password", "left over");
    pick_scanned(&w, "Guest").await;
    let listed = text(&w.host, ".improv-networks");
    assert!(
        listed.contains("Guest — ▂▄▆ -61 dBm, open"),
        "in words, not NO: {listed}"
    );
    let need = text(&w.host, ".improv-password-need");
    assert!(need.contains("Not needed"), "{need}");
    assert!(need.contains("open"), "{need}");
    let field = password_field(&w);
    assert!(field.disabled(), "nothing to type");
    assert_eq!(field.value(), "");
    click(&w.host, "Connect to Wi-Fi");
    provisioned(&w).await;
    assert_eq!(device.borrow().state(), State::Provisioned);
    assert!(w.failure().is_empty(), "{}", w.failure());
}

/// A WPA2 network picked from the scan and a password no WPA2 network takes (7 characters):
/// refused at once with the rule (IEEE 802.11's 8 to 63), nothing sent, the password kept to
/// correct. Before, the device tried to join for 30 s and answered "unable to connect".
#[wasm_bindgen_test]
async fn a_password_too_short_for_wpa2_is_refused_before_it_is_sent() {
    let (w, device, _id) = ready_improv(ImprovOptions::default()).await;
    pick_scanned(&w, "HomeNet").await;
    type_into(&w.host, "Wi-Fi password", "1234567");
    let said = connect_refused(&w, "This password does not fit the network").await;
    assert!(said.contains("8 to 63 characters"), "{said}");
    assert!(said.contains("this one has 7"), "{said}");
    assert_eq!(password_field(&w).value(), "1234567");
    type_into(&w.host, "Wi-Fi password", "correct horse");
    click(&w.host, "Connect to Wi-Fi");
    provisioned(&w).await;
    assert_eq!(device.borrow().state(), State::Provisioned);
}

/// A network name from the device's scan is shown as printable text, in the list and in the
/// refusal: a right-to-left override in it cannot turn the words after it around.
#[wasm_bindgen_test]
async fn a_scanned_network_name_is_shown_escaped_in_the_refusal() {
    let mut options = ImprovOptions::default();
    options.networks.push(SimNetwork {
        ssid: "Cafe\u{202e}ten".into(),
        rssi: -50,
        auth: Auth::Wpa2,
        password: "espresso".into(),
    });
    let (w, _device, _id) = ready_improv(options).await;
    pick_scanned(&w, "Cafe\\u{202e}ten").await;
    click(&w.host, "Connect to Wi-Fi");
    let said = w.said().await;
    assert!(
        said.contains("Cafe\\u{202e}ten as secured (WPA2)"),
        "{said}"
    );
    assert!(!said.contains('\u{202e}'), "{said}");
}

/// A secured network picked from the scan (`HomeNet`, WPA2) and no password typed: the page says
/// a password is needed and sends nothing. Before, the empty password went to the device, which
/// tried for 30 s and answered "unable to connect".
#[wasm_bindgen_test]
async fn a_secured_network_picked_from_the_scan_needs_a_password() {
    let (w, device, _id) = ready_improv(ImprovOptions::default()).await;
    pick_scanned(&w, "HomeNet").await;
    let need = text(&w.host, ".improv-password-need");
    assert!(need.contains("Needed"), "{need}");
    assert!(need.contains("(WPA2): 8 to 63 characters"), "{need}");
    assert!(!password_field(&w).disabled());
    let said = connect_refused(&w, "This network needs a password").await;
    assert!(said.contains("HomeNet") && said.contains("WPA2"), "{said}");
    assert_eq!(device.borrow().state(), State::Authorized);
    // With the password it goes.
    type_into(&w.host, "Wi-Fi password", "correct horse");
    click(&w.host, "Connect to Wi-Fi");
    provisioned(&w).await;
    assert_eq!(device.borrow().state(), State::Provisioned);
}

/// The network and password typed into the Improv flow are kept while the Devices page is left
/// for another page and come back to.
#[wasm_bindgen_test]
async fn the_network_typed_is_kept_when_the_page_is_left_and_come_back_to() {
    let (w, _device, _) = ready_improv(ImprovOptions::default()).await;
    type_into(&w.host, "Network name (SSID)", "Attic");
    type_into(&w.host, "Wi-Fi password", "attic-pass-1");
    w.leave_the_devices_page_and_come_back().await;
    assert_eq!(field(&w.host, "Network name (SSID)").value(), "Attic");
    assert_eq!(password_field(&w).value(), "attic-pass-1");
}
