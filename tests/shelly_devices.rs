//! Browser tests of the Devices page against the simulated Shelly gateway (core `sim`), behind
//! the mock Bluetooth backend: the page's real code path (chooser, GATT, the core RPC client)
//! drives a device that runs the real GATT RPC server.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bluehome::app::provide_app_state;
use bluehome::ble::mock::{GattPeer, MockBackend};
use bluehome::ble::{Backend, BleError, Characteristic, DeviceId, ErrorKind};
use bluehome::pages::{DevicesPage, ScanPage};
use bluehome::state::AppStore;
use bluehome::state::shelly::ShellySession;
use bluehome::state::shelly::store::{KeyValue, MemoryStorage, PROFILES_KEY};
use bluehome_core::profiles::Config;
use bluehome_core::shelly::frame::{Frame, Request};
use bluehome_core::shelly::rpc::server::Server;
use bluehome_core::shelly::rpc::{AttError, Characteristic as RpcCharacteristic};
use bluehome_core::sim::gateway::{Gateway, GatewayOptions, Provisioning};
use bluehome_core::sim::sensors::{SensorKind, SensorSpec, SimSensor};
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

// ---- the simulated device behind the mock backend ------------------------------------------

/// The simulated gateway's GATT server, as the mock backend's peer. Time is real time since the
/// test started, so the page's timers and the simulator agree.
struct SimPeer {
    gateway: Rc<RefCell<Gateway>>,
    server: Server,
    client: String,
    start: f64,
}

impl SimPeer {
    fn now(&self) -> u64 {
        (js_sys::Date::now() - self.start).max(0.0) as u64
    }

    /// The first encrypted access after the set-up window bonds the link, as an OS would.
    fn secure(&mut self) -> Result<(), BleError> {
        let now = self.now();
        let mut gw = self.gateway.borrow_mut();
        if !gw.provisioning().pairing_required() || gw.is_bonded(&self.client) {
            return Ok(());
        }
        gw.bond(&self.client, now).map_err(|e| {
            BleError::new(
                ErrorKind::Gatt,
                format!("GATT Error: Not paired. Pairing failed: {e}"),
            )
        })
    }

    fn pump(&mut self) {
        let now = self.now();
        let mut gw = self.gateway.borrow_mut();
        gw.tick(now);
        for note in gw.take_notifications() {
            self.server.push_notification(note.to_bytes());
        }
    }
}

fn rpc_char(c: Characteristic) -> Result<RpcCharacteristic, BleError> {
    RpcCharacteristic::from_uuid(c.uuid).ok_or_else(|| {
        BleError::new(
            ErrorKind::NotFound,
            "No Characteristics matching UUID found.",
        )
    })
}

fn att(e: AttError) -> BleError {
    BleError::new(ErrorKind::Gatt, e.to_string())
}

impl GattPeer for SimPeer {
    fn connect(&mut self) -> Result<(), BleError> {
        let out_of_range = OUT_OF_RANGE.with(|n| {
            let left = n.get();
            n.set(left.saturating_sub(1));
            left > 0
        });
        if out_of_range {
            return Err(BleError::new(
                ErrorKind::Gatt,
                "NetworkError: Connection attempt failed.",
            ));
        }
        Ok(())
    }

    fn disconnect(&mut self) {
        self.server.disconnect();
        let now = self.now();
        self.gateway.borrow_mut().on_disconnect(now);
    }

    fn read(&mut self, c: Characteristic) -> Result<Vec<u8>, BleError> {
        self.secure()?;
        self.pump();
        self.server.read(rpc_char(c)?).map_err(att)
    }

    fn write(&mut self, c: Characteristic, value: &[u8]) -> Result<(), BleError> {
        self.secure()?;
        if let Some(frame) = self.server.write(rpc_char(c)?, value).map_err(att)? {
            let request: Request = match Frame::parse(&frame) {
                Ok(Frame::Request(r)) => r,
                _ => return Err(BleError::new(ErrorKind::Gatt, "not a request")),
            };
            let now = self.now();
            let response = self.gateway.borrow_mut().handle(&request, now);
            self.server.push_response(response.to_bytes());
            self.pump();
        }
        Ok(())
    }
}

thread_local! {
    /// How many connection attempts fail as if the device were out of range.
    static OUT_OF_RANGE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

const DEVICE_NAME: &str = "ShellyBluGwG3-CCBA970D5E01";

struct World {
    session: ShellySession,
    gateway: Rc<RefCell<Gateway>>,
    storage: MemoryStorage,
    host: web_sys::HtmlElement,
}

fn gateway(options: GatewayOptions, sensors: Vec<SimSensor>) -> Rc<RefCell<Gateway>> {
    Rc::new(RefCell::new(Gateway::new(options, sensors)))
}

/// Mounts the Devices page over a mock backend whose one device is `gateway`.
async fn world(gateway: Rc<RefCell<Gateway>>, storage: MemoryStorage) -> World {
    let mock = MockBackend::new();
    let peer = SimPeer {
        gateway: Rc::clone(&gateway),
        server: Server::default(),
        client: "aa:bb:cc:00:00:99".into(),
        start: js_sys::Date::now(),
    };
    mock.set_gatt_peer(&DeviceId::from("gw-1"), Some(DEVICE_NAME), Box::new(peer));
    let backend = Rc::new(Backend::Mock(mock));
    let session = ShellySession::new(backend, Rc::new(storage.clone()), Config::default());
    let host = mount(session).await;
    World {
        session,
        gateway,
        storage,
        host,
    }
}

async fn mount(session: ShellySession) -> web_sys::HtmlElement {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        provide_context(session);
        view! { <DevicesPage /> }
    });
    handle.forget();
    tick().await;
    host
}

async fn tick() {
    gloo_timers::future::sleep(Duration::from_millis(20)).await;
}

/// Waits until `check` holds (checked every 20 ms, at most `secs` seconds).
async fn until(secs: u64, what: &str, check: impl Fn() -> bool) {
    for _ in 0..secs * 50 {
        if check() {
            return;
        }
        tick().await;
    }
    panic!("timed out waiting for {what}");
}

fn text(host: &web_sys::HtmlElement, selector: &str) -> String {
    let nodes = host.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .map(|i| nodes.item(i).unwrap().text_content().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

fn button(host: &web_sys::HtmlElement, label: &str) -> web_sys::HtmlElement {
    let nodes = host.query_selector_all("button").unwrap();
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .map(|n| n.unchecked_into::<web_sys::HtmlElement>())
        .find(|b| b.text_content().unwrap_or_default().trim() == label)
        .unwrap_or_else(|| panic!("no button {label:?} in {}", host.inner_text()))
}

fn click(host: &web_sys::HtmlElement, label: &str) {
    button(host, label).click();
}

/// Types into the input of the field labelled `label`.
fn type_into(host: &web_sys::HtmlElement, label: &str, value: &str) {
    let fields = host.query_selector_all("label.field").unwrap();
    let field = (0..fields.length())
        .filter_map(|i| fields.item(i))
        .map(|n| n.unchecked_into::<web_sys::Element>())
        .find(|f| {
            f.query_selector("span")
                .unwrap()
                .and_then(|s| s.text_content())
                .as_deref()
                == Some(label)
        })
        .unwrap_or_else(|| panic!("no field {label:?}"));
    let input: web_sys::HtmlInputElement = field
        .query_selector("input")
        .unwrap()
        .unwrap()
        .unchecked_into();
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// Ticks the checkbox whose label contains `label`.
fn check_box(host: &web_sys::HtmlElement, label: &str) {
    let labels = host.query_selector_all("label.check").unwrap();
    let found = (0..labels.length())
        .filter_map(|i| labels.item(i))
        .map(|n| n.unchecked_into::<web_sys::Element>())
        .find(|l| l.text_content().unwrap_or_default().contains(label))
        .unwrap_or_else(|| panic!("no checkbox {label:?}"));
    let input: web_sys::HtmlInputElement = found
        .query_selector("input")
        .unwrap()
        .unwrap()
        .unchecked_into();
    input.set_checked(true);
    input
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
}

async fn connect(w: &World) {
    click(&w.host, "Connect a Shelly device…");
    until(10, "connected", || {
        w.host.inner_text().contains("Disconnect") && w.session.status.get_untracked().is_some()
    })
    .await;
}

fn log_text(session: ShellySession) -> String {
    session.log.with_untracked(|log| {
        log.iter()
            .map(|e| format!("{} {} {:?}", e.method, e.params, e.outcome))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

// ---- the tests -------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn provisioning_end_to_end() {
    let options = GatewayOptions {
        wifi_connect_ms: 1_500,
        ..GatewayOptions::default()
    };
    let w = world(gateway(options, Vec::new()), MemoryStorage::default()).await;
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
    // The Wi-Fi password never shows in the log.
    let log = log_text(w.session);
    assert!(log.contains("WiFi.SetConfig"));
    assert!(!log.contains("correct horse"), "{log}");
    assert!(log.contains("«redacted»"));
    w.host.remove();
}

#[wasm_bindgen_test]
async fn auth_challenge_is_answered_and_retried() {
    let options = GatewayOptions {
        password: Some("s3cret-pw".into()),
        ..GatewayOptions::default()
    };
    let w = world(gateway(options, Vec::new()), MemoryStorage::default()).await;
    click(&w.host, "Connect a Shelly device…");
    // Shelly.GetDeviceInfo is open; Shelly.GetStatus is challenged.
    until(10, "the password request", || {
        text(&w.host, ".failure").contains("password protected")
    })
    .await;
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
    let w = world(gw, MemoryStorage::default()).await;
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
        MemoryStorage::default(),
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
    let storage = MemoryStorage::default();
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
    let storage = MemoryStorage::default();
    storage.set(
        PROFILES_KEY,
        "{\"schema\":\"bluehome.profiles\",\"version\":1,\"slots\":[tru",
    );
    let w = world(
        gateway(GatewayOptions::default(), Vec::new()),
        storage.clone(),
    )
    .await;
    let notice = text(&w.host, ".shelly-profiles .warning");
    assert!(notice.contains("could not be fully loaded"), "{notice}");
    assert!(notice.contains("unreadable"), "{notice}");
    let kept = storage
        .0
        .borrow()
        .keys()
        .find(|k| k.starts_with("bluehome.profiles.kept-aside."))
        .cloned();
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
async fn a_connected_gateway_feeds_what_it_hears_as_a_remote_source() {
    let sensors = vec![SimSensor::new(SensorSpec::numbered(
        SensorKind::HumidityTemperature,
        0,
        false,
    ))];
    let w = world(
        gateway(GatewayOptions::default(), sensors),
        MemoryStorage::default(),
    )
    .await;
    let heard: Rc<RefCell<Vec<(String, String)>>> = Rc::default();
    let sink = Rc::clone(&heard);
    w.session.set_remote_sink(Some(Rc::new(
        move |source: &str, advert: &bluehome::state::shelly::remote::RemoteAdvert| {
            sink.borrow_mut()
                .push((source.to_owned(), advert.key.clone()));
        },
    )));
    connect(&w).await;
    click(&w.host, "BTHome gateway");
    tick().await;
    click(&w.host, "Feed the Scan page");
    until(10, "remote advertisements", || !heard.borrow().is_empty()).await;
    let (source, key) = heard.borrow()[0].clone();
    assert_eq!(source, format!("shelly:{}", w.gateway.borrow().id()));
    assert!(key.starts_with("3c:2e:f5:5b:"), "{key}");
    until(5, "decoded readings", || {
        text(&w.host, ".relayed").contains("temperature")
    })
    .await;
    click(&w.host, "Stop feeding the Scan page");
    tick().await;
    assert!(!w.session.remote_running.get_untracked());
    w.host.remove();
}

#[wasm_bindgen_test]
async fn profiles_export_without_secrets_and_import_elsewhere() {
    let options = GatewayOptions {
        password: Some("s3cret-pw".into()),
        ..GatewayOptions::default()
    };
    let w = world(gateway(options, Vec::new()), MemoryStorage::default()).await;
    click(&w.host, "Connect a Shelly device…");
    until(10, "the password request", || {
        text(&w.host, ".failure").contains("password protected")
    })
    .await;
    type_into(&w.host, "Device password (user admin)", "s3cret-pw");
    check_box(&w.host, "Remember it in this profile");
    click(&w.host, "Send password and retry");
    until(10, "connected", || {
        w.session.status.get_untracked().is_some()
    })
    .await;
    let href = w
        .host
        .query_selector("a[download='bluehome-profiles.json']")
        .unwrap()
        .unwrap()
        .get_attribute("href")
        .unwrap();
    let exported: String = js_sys::decode_uri_component(href.split_once(',').unwrap().1)
        .unwrap()
        .into();
    assert!(exported.contains("CC:BA:97:0D:5E:01"), "{exported}");
    assert!(exported.contains("\"ha1_remembered\":true"), "{exported}");
    let ha1 = bluehome_core::shelly::auth::ha1(w.gateway.borrow().id(), "s3cret-pw");
    assert!(!exported.contains(&ha1) && !exported.contains("s3cret-pw"));
    w.host.remove();

    let other = world(
        gateway(GatewayOptions::default(), Vec::new()),
        MemoryStorage::default(),
    )
    .await;
    click(&other.host, "Import…");
    tick().await;
    let area: web_sys::HtmlTextAreaElement = other
        .host
        .query_selector(".import textarea")
        .unwrap()
        .unwrap()
        .unchecked_into();
    area.set_value(&exported);
    area.dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    click(&other.host, "Import");
    tick().await;
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

#[wasm_bindgen_test]
async fn out_of_range_is_explained_and_retry_connects() {
    let w = world(
        gateway(GatewayOptions::default(), Vec::new()),
        MemoryStorage::default(),
    )
    .await;
    OUT_OF_RANGE.with(|n| n.set(1));
    click(&w.host, "Connect a Shelly device…");
    until(10, "the failure", || {
        text(&w.host, ".failure").contains("did not answer")
    })
    .await;
    let failure = text(&w.host, ".failure");
    assert!(failure.contains("Move closer"), "{failure}");
    assert!(failure.contains("Connection attempt failed"), "{failure}");
    assert!(text(&w.host, ".steps").contains("✗"));
    click(&w.host, "Retry");
    until(10, "connected on retry", || {
        w.session.status.get_untracked().is_some()
    })
    .await;
    assert!(text(&w.host, ".failure").is_empty());
    w.host.remove();
}

#[wasm_bindgen_test]
async fn a_dropped_link_is_explained_and_retry_reconnects() {
    let w = world(
        gateway(GatewayOptions::default(), Vec::new()),
        MemoryStorage::default(),
    )
    .await;
    connect(&w).await;
    assert_eq!(
        w.host
            .query_selector(".slot.active")
            .unwrap()
            .unwrap()
            .get_attribute("data-state")
            .as_deref(),
        Some("connected")
    );
    w.session
        .backend()
        .as_mock()
        .unwrap()
        .drop_connection(&DeviceId::from("gw-1"));
    until(5, "the drop explained", || {
        text(&w.host, ".failure").contains("The connection dropped")
    })
    .await;
    assert_eq!(
        w.host
            .query_selector(".slot.active")
            .unwrap()
            .unwrap()
            .get_attribute("data-state")
            .as_deref(),
        Some("not connected")
    );
    assert!(w.session.link().is_none());
    click(&w.host, "Retry");
    until(10, "reconnected", || {
        w.session.link().is_some() && w.session.busy.get_untracked().is_none()
    })
    .await;
    assert!(text(&w.host, ".failure").is_empty());
    assert_eq!(
        w.host
            .query_selector(".slot.active")
            .unwrap()
            .unwrap()
            .get_attribute("data-state")
            .as_deref(),
        Some("connected")
    );
    w.host.remove();
}

#[wasm_bindgen_test]
async fn the_scan_page_shows_what_the_gateway_hears_without_browser_scanning() {
    let sensors = vec![SimSensor::new(SensorSpec::numbered(
        SensorKind::HumidityTemperature,
        0,
        false,
    ))];
    let gw = gateway(GatewayOptions::default(), sensors);
    let mock = MockBackend::new();
    let peer = SimPeer {
        gateway: Rc::clone(&gw),
        server: Server::default(),
        client: "aa:bb:cc:00:00:98".into(),
        start: js_sys::Date::now(),
    };
    mock.set_gatt_peer(&DeviceId::from("gw-1"), Some(DEVICE_NAME), Box::new(peer));
    let backend = Rc::new(Backend::Mock(mock));
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let slot: Rc<std::cell::Cell<Option<AppStore>>> = Rc::default();
    let out = Rc::clone(&slot);
    leptos::mount::mount_to(host.clone(), move || {
        out.set(Some(provide_app_state(backend, false)));
        view! { <DevicesPage /> <ScanPage /> }
    })
    .forget();
    tick().await;
    let store = slot.get().unwrap();
    click(&host, "Connect a Shelly device…");
    until(10, "connected", || host.inner_text().contains("Disconnect")).await;
    click(&host, "BTHome gateway");
    tick().await;
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
